"""Property-based tests of reading exports: whatever text a field holds, what csv.writer wrote is
what extraction reads, on the line it started; and every local date-time is typed as zoneinfo
would, or quarantined when it names no instant."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings as hypothesis_settings, strategies as st

from pipelines.contract import CRIMES, INCIDENTS, LOCAL_TIME_FORMAT
from pipelines.extract import extract_source, type_export
from pipelines.localtime import REASON_NONEXISTENT
from pipelines.settings import load_settings
from pipelines.sources.csv_export import ExportFormatError, RawExport, read_export
from tests.conftest import FORCE, SNAPSHOT, crime, incident

pytestmark = pytest.mark.unit
LONDON = ZoneInfo("Europe/London")
UNIVERSAL_NEWLINE = re.compile(r"\r\n|\r|\n")  # what the reader counts as a line break
EXAMPLES = hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text a field can hold: quotes, commas, line breaks, the pipe, any script, emoji. Not lone
# surrogates (no encoding can write them) nor NUL (a NUL byte makes the file refused as UTF-16).
any_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
tricky_text = st.one_of(any_text, st.sampled_from(['"', '""', ",", "\r\n", "\n", "\r", ' "a,b" ', "=1+1", "\ufeff", "é", "|"]))
# What a reference may hold: printable text on one line.
printable = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=30)


# RFC 4180's CRLF with minimal quoting, and LF with every field quoted. (Python's csv.writer with
# lineterminator="\n" and minimal quoting leaves a lone CR unquoted: no reader can undo that.)
LINE_STYLES = st.sampled_from([("\r\n", csv.QUOTE_MINIMAL), ("\n", csv.QUOTE_ALL)])


def _writer(buffer: io.StringIO, line_style: tuple[str, int]):
    line_terminator, quoting = line_style
    return csv.writer(buffer, lineterminator=line_terminator, quoting=quoting)


def _write(path: Path, header: list[str], rows: list[list[str]], line_style=("\r\n", csv.QUOTE_MINIMAL),
           encoding: str = "utf-8") -> str:
    buffer = io.StringIO(newline="")
    writer = _writer(buffer, line_style)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return buffer.getvalue()


def _expected_lines(header: list[str], rows: list[list[str]], line_style) -> list[int]:
    """The line each row starts on, counted independently of the reader."""
    lines, line = [], 1 + len(UNIVERSAL_NEWLINE.findall(_row_text(header, line_style)))
    for row in rows:
        lines.append(line)
        line += len(UNIVERSAL_NEWLINE.findall(_row_text(row, line_style)))
    return lines


def _row_text(row: list[str], line_style) -> str:
    buffer = io.StringIO(newline="")
    _writer(buffer, line_style).writerow(row)
    return buffer.getvalue()


@EXAMPLES
@given(fields=st.lists(st.tuples(tricky_text, tricky_text, tricky_text), min_size=1, max_size=8),
       line_style=LINE_STYLES)
def test_any_field_text_is_read_back_as_written(fields, line_style):
    header = list(CRIMES.column_names)
    rows = []
    for number, (reference, beat, name) in enumerate(fields):
        record = crime(f"{number}{reference}", beat_code=beat, victim_name=name)
        rows.append([record[column] for column in header])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crimes.csv"
        _write(path, header, rows, line_style)
        export = read_export(path, CRIMES)
    assert export.malformed == [] and export.encoding == "utf-8"
    assert export.columns["crime_ref"] == [(f"{n}{reference}").strip() or None for n, (reference, _, _) in enumerate(fields)]
    assert export.columns["beat_code"] == [beat.strip() or None for _, beat, _ in fields]
    assert "victim_name" not in export.columns  # personal: never read out of the row
    assert export.source_lines == _expected_lines(header, rows, line_style)


@EXAMPLES
@given(text=st.text(st.characters(codec="cp1252", exclude_characters="\x00"), max_size=30))
def test_windows_1252_text_is_read_back_or_refused_never_garbled(text):
    header = list(CRIMES.column_names)
    rows = [[crime(beat_code=text)[column] for column in header]]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "crimes.csv"
        _write(path, header, rows, encoding="cp1252")
        data = path.read_bytes()
        try:
            export = read_export(path, CRIMES)
        except ExportFormatError as error:
            # Bytes that are partly valid UTF-8 are refused rather than guessed at.
            assert "mixes encodings" in str(error)
            return
    try:
        data.decode("utf-8")
        expected_encoding, expected = "utf-8", text.encode("cp1252").decode("utf-8")  # ASCII, mostly
    except UnicodeDecodeError:
        expected_encoding, expected = "cp1252", text
    assert export.encoding == expected_encoding
    assert export.columns["beat_code"] == [expected.strip() or None]


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(references=st.lists(printable, min_size=1, max_size=5, unique_by=str.strip), beats=st.data())
def test_references_and_beats_reach_the_lake_as_written(references, beats):
    assume(all(reference.strip() for reference in references))
    beat_codes = [beats.draw(printable.filter(lambda text: text.strip())) for _ in references]
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(FORCE, landing_dir=Path(folder) / "landing", lake_dir=Path(folder) / "lake", demo=True)
        path = settings.landing_dir / FORCE / CRIMES.file_name(SNAPSHOT.isoformat())
        path.parent.mkdir(parents=True)
        header = list(CRIMES.column_names)
        _write(path, header, [[crime(reference, beat_code=beat)[column] for column in header]
                              for reference, beat in zip(references, beat_codes)])
        result = extract_source(settings, "crimes", SNAPSHOT)
        stored = pq.read_table(result.raw_partition).to_pylist()
    assert result.rows_quarantined == 0
    assert [(row["crime_ref"], row["beat_code"]) for row in stored] == [
        (reference.strip(), beat.strip()) for reference, beat in zip(references, beat_codes)]


@hypothesis_settings(max_examples=300, deadline=None)
@given(local=st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2037, 12, 31)))
def test_every_local_date_time_is_typed_as_zoneinfo_would_or_quarantined(local):
    local = local.replace(microsecond=0)
    row = incident(created_at=local.strftime(LOCAL_TIME_FORMAT), closed_at="", closing_code="",
                   updated_at=local.strftime(LOCAL_TIME_FORMAT))
    kept = [column.name for column in INCIDENTS.columns if not column.is_personal]
    export = RawExport(path=Path("incidents.csv"), encoding="utf-8", source_lines=[2],
                       columns={name: [row[name] or None] for name in kept})
    settings = load_settings(FORCE, landing_dir=".", lake_dir="lake", demo=True, need_key=True)
    accepted, quarantined = type_export(export, INCIDENTS, settings, dt.date(2038, 1, 19))
    assert accepted.num_rows + quarantined.num_rows == 1
    earliest = local.replace(tzinfo=LONDON, fold=0)
    names_no_instant = earliest.astimezone(dt.timezone.utc).astimezone(LONDON).replace(tzinfo=None) != local
    if names_no_instant:
        assert REASON_NONEXISTENT in quarantined["reason"][0].as_py()
    else:
        assert accepted["created_at"][0].as_py() == earliest.astimezone(dt.timezone.utc)
