"""The corpus of bad exports (`corpus.py`): each gives one clear error or quarantined rows with reasons.

Always checked: an error names the file and the line (and the column where there is one) and
writes nothing; otherwise rows in = rows accepted + rows quarantined, in the partitions and in the
extract manifest alike.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import lake, stages
from pipelines.contract import SOURCES
from pipelines.extract import MAX_IDENTIFIER_FIELD_CHARS, ExtractResult, extract_period_export, extract_source
from pipelines.localtime import (
    NOTE_AMBIGUOUS_LATER,
    NOTE_NONEXISTENT_SHIFTED,
    REASON_AMBIGUOUS,
    REASON_NONEXISTENT,
)
from pipelines.settings import load_settings
from pipelines.sources.csv_export import ExportFormatError
from tests.conftest import FORCE, SNAPSHOT, write_export
from tests.hardening.corpus import (
    BAD_DATE_TIMES,
    CASES,
    CONTRADICTING_CRIME_FIELDS,
    CORPUS_DIR,
    FORMULA,
    GENERATED_ONLY,
    VICTIM_COUNTS,
    case_bytes,
    corpus_file_name,
)

pytestmark = pytest.mark.unit
AFTER_BOTH_CLOCK_CHANGES = dt.date(2024, 11, 1)


def _source(case: str) -> str:
    return (CASES.get(case) or GENERATED_ONLY[case])[0]


def _land(case: str, landing: Path, snapshot: dt.date = SNAPSHOT) -> Path:
    """Put a case where extraction looks for the day's export: the committed file, else generated."""
    path = landing / FORCE / SOURCES[_source(case)].file_name(snapshot.isoformat())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((CORPUS_DIR / corpus_file_name(case)).read_bytes() if case in CASES else case_bytes(case))
    return path


def _extract(case: str, settings, landing: Path, snapshot: dt.date = SNAPSHOT) -> ExtractResult:
    _land(case, landing, snapshot)
    result = extract_source(settings, _source(case), snapshot)
    _assert_every_row_accounted_for(result, settings, snapshot)
    return result


def _assert_every_row_accounted_for(result: ExtractResult, settings, snapshot: dt.date) -> None:
    accepted = pq.read_table(result.raw_partition).num_rows
    quarantined = pq.read_table(result.quarantine_partition).num_rows
    assert result.rows_in == result.rows_accepted + result.rows_quarantined
    assert (accepted, quarantined) == (result.rows_accepted, result.rows_quarantined)
    manifest = lake.read_json(lake.manifest_path(settings.lake_dir, "extract", result.source, FORCE, snapshot))
    assert (manifest["rows_in"], manifest["rows_accepted"], manifest["rows_quarantined"]) == (
        result.rows_in, result.rows_accepted, result.rows_quarantined)


def _refused(case: str, settings, landing: Path) -> tuple[Path, str]:
    """Extract a case that must fail as a whole; return the file and the message."""
    path = _land(case, landing)
    source = _source(case)
    with pytest.raises(ExportFormatError) as error:
        extract_source(settings, source, SNAPSHOT)
    assert not lake.raw_path(settings.lake_dir, source, FORCE, SNAPSHOT).exists()
    assert not lake.quarantine_path(settings.lake_dir, source, FORCE, SNAPSHOT).exists()
    return path, str(error.value)


def _reasons(result: ExtractResult) -> dict[int, str]:
    return {row["source_line"]: row["reason"] for row in pq.read_table(result.quarantine_partition).to_pylist()}


def _accepted(result: ExtractResult) -> list[dict]:
    return pq.read_table(result.raw_partition).to_pylist()


def test_the_committed_corpus_is_what_the_script_writes():
    committed = sorted(path.name for path in CORPUS_DIR.glob("*.csv"))
    assert committed == sorted(corpus_file_name(case) for case in CASES)
    for case in CASES:
        assert (CORPUS_DIR / corpus_file_name(case)).read_bytes() == case_bytes(case), case


# --------------------------------------------------------------------------- whole-file errors
@pytest.mark.parametrize(
    "case, where, message",
    [
        ("blank_lines_only", "line 1", "the file is empty: no header row"),
        ("utf16_with_bom", "line 1", "the file is UTF-16 (byte-order mark): export it as UTF-8 or Windows-1252"),
        ("utf16_without_bom", "line 1", "contains NUL bytes: not a UTF-8 or Windows-1252 text export (UTF-16?)"),
        ("mixed_encodings", "line 3",
         "mixes encodings: byte 0xe9 here is not UTF-8, but line 2 holds UTF-8 text; re-export the file in one encoding"),
        ("utf8_bom_then_cp1252", "line 2", "starts with a UTF-8 BOM but is not valid UTF-8"),
        ("duplicated_header_column", "line 1, column 'team'", "column appears more than once in the header"),
        ("broken_quoting", "line 3", "not valid CSV: ',' expected after '\"'"),
        ("wrong_force_file", "line 2, column 'force_code'",
         "no record belongs to force 'KNT' (the records name 'ESX'): another force's export?"),
        ("field_over_the_reader_limit", "line 3", "a field is longer than 16 MiB: not a plausible export"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_naming_file_line_and_column(settings, landing, case, where, message):
    path, error = _refused(case, settings, landing)
    assert error == f"{path}, {where}: {message}"


def test_a_refused_file_leaves_the_previous_partition_in_place(settings, landing):
    write_export(landing, "crimes", [])
    first = extract_source(settings, "crimes", SNAPSHOT)
    before = Path(first.raw_partition).read_bytes()
    _land("mixed_encodings", landing)
    with pytest.raises(ExportFormatError, match="mixes encodings"):
        extract_source(settings, "crimes", SNAPSHOT)
    assert Path(first.raw_partition).read_bytes() == before
    assert list(settings.lake_dir.rglob(".tmp-*")) == []


# --------------------------------------------------------------------------- rows quarantined
def test_a_file_cut_off_inside_quotes_quarantines_the_last_row(settings, landing):
    result = _extract("truncated_inside_quotes", settings, landing)
    assert (result.rows_in, result.rows_accepted, result.rows_quarantined) == (3, 2, 1)
    [row] = pq.read_table(result.quarantine_partition).to_pylist()
    assert (row["source_line"], row["reference"], row["reason"]) == (
        4, "KNT/24/000003", "truncated: the file ends inside a quoted field")  # the reference was written whole


def test_a_file_cut_off_inside_quotes_before_the_force_code_keeps_no_reference(settings, landing):
    """Without the force code where it belongs the fields cannot be trusted to be aligned."""
    path = _land("truncated_inside_quotes", landing)
    text = path.read_bytes()
    path.write_bytes(text[: text.rindex(b'03",KNT,')])  # now cut inside the reference itself
    result = extract_source(settings, "crimes", SNAPSHOT)
    [row] = pq.read_table(result.quarantine_partition).to_pylist()
    assert (row["source_line"], row["reference"], row["reason"]) == (
        4, None, "truncated: the file ends inside a quoted field")


def test_missing_optional_columns_are_read_as_empty(settings, landing):
    result = _extract("optional_columns_absent", settings, landing)
    [row] = _accepted(result)
    assert result.rows_accepted == 1
    assert row["cancellation_code"] is None and row["cancelled_at"] is None and row["flags"] == []


def test_a_reference_whose_newest_state_is_quarantined_is_not_read_from_an_older_row(settings, landing):
    result = _extract("newest_state_quarantined", settings, landing)
    reasons = _reasons(result)
    assert reasons == {
        2: "incident_ref: the same reference is quarantined on line 3, which may hold the record's latest state",
        3: "closing_code: code not in the reference list: 'NOT-A-CODE'",
        4: "incident_ref: superseded by line 5 (same reference, later update)",
        6: "closing_code: code not in the reference list: 'NOT-A-CODE'",  # older than line 5: no doubt left
        7: "incident_ref: the same reference is quarantined on line 8, which may hold the record's latest state",
        8: "updated_at: not a date-time of the form YYYY-MM-DD HH:MM:SS: 'yesterday'",
    }
    [kept] = _accepted(result)
    assert (kept["incident_ref"], kept["closing_code"], kept["source_line"]) == ("KNT-240601-00002", "CR-VIOL", 5)


def test_unparseable_and_impossible_date_times_are_quarantined(settings, landing):
    result = _extract("unparseable_and_impossible_dates", settings, landing)
    reasons = _reasons(result)
    assert reasons == {
        line: f"created_at: not a date-time of the form YYYY-MM-DD HH:MM:SS: {value!r}"
        for line, value in enumerate(BAD_DATE_TIMES, start=2)
    }
    [kept] = _accepted(result)
    assert kept["created_at"].isoformat() == "2024-06-01T09:00:00+00:00"  # padding trimmed, BST -> UTC


@pytest.mark.parametrize(
    "policy, accepted, quarantined",
    [
        (
            {"ambiguous": "later", "nonexistent": "shift_forward"},
            {
                "KNT/24/000001": ("2024-10-27T01:30:00+00:00", f"reported_at: {NOTE_AMBIGUOUS_LATER}"),
                "KNT/24/000002": ("2024-03-31T01:30:00+00:00", f"reported_at: {NOTE_NONEXISTENT_SHIFTED}"),
                "KNT/24/000003": ("2024-10-26T23:59:59+00:00", None),
                "KNT/24/000004": ("2024-03-31T01:00:00+00:00", None),
            },
            {},
        ),
        (
            {"ambiguous": "quarantine", "nonexistent": "quarantine"},
            {
                "KNT/24/000003": ("2024-10-26T23:59:59+00:00", None),
                "KNT/24/000004": ("2024-03-31T01:00:00+00:00", None),
            },
            {
                2: f"reported_at: {REASON_AMBIGUOUS}: '2024-10-27 01:30:00'",
                3: f"reported_at: {REASON_NONEXISTENT}: '2024-03-31 01:30:00'",
            },
        ),
    ],
)
def test_clock_change_hours_follow_the_configured_policy(tmp_path, landing, policy, accepted, quarantined):
    settings = load_settings(FORCE, landing_dir=landing, lake_dir=tmp_path / "lake", demo=True,
                             overrides={"clock_change": policy})
    result = _extract("clock_change_hours", settings, landing, AFTER_BOTH_CLOCK_CHANGES)
    assert {row["crime_ref"]: (row["reported_at"].isoformat(), row["clock_change_note"]) for row in _accepted(result)} == accepted
    assert _reasons(result) == quarantined
    assert result.clock_change_notes == sum(1 for _, note in accepted.values() if note)


def test_date_times_after_the_snapshot_or_before_the_epoch_are_quarantined(settings, landing):
    result = _extract("future_and_placeholder_dates", settings, landing)
    taken = "after the snapshot was taken (2024-06-10 00:00 Europe/London)"
    assert _reasons(result) == {
        3: f"created_at: {taken}: '2024-06-10 00:00:00'; updated_at: {taken}: '2024-06-10 00:00:00'",
        4: f"created_at: {taken}: '2034-06-01 10:00:00'; updated_at: {taken}: '2034-06-01 10:00:00'",
        5: f"closed_at: {taken}: '2099-12-31 23:59:59'",
        6: "created_at: before the configured epoch 2000-01-01 (a placeholder date?): '1900-01-01 00:00:00'",
    }
    [kept] = _accepted(result)
    assert kept["created_at"].isoformat() == "2024-06-09T22:59:59+00:00"  # one second before the cut-off


def test_victim_counts_must_be_whole_numbers_from_0_to_9999(settings, landing):
    result = _extract("victim_counts", settings, landing)
    lines = {value: line for line, value in enumerate(VICTIM_COUNTS, start=2)}
    assert _reasons(result) == {
        lines[value]: f"victim_count: not a whole number from 0 to 9999: {value.strip()!r}"
        for value, valid in VICTIM_COUNTS.items() if not valid
    }
    assert sorted(row["victim_count"] for row in _accepted(result)) == [0, 3, 9999]


@pytest.mark.parametrize(
    "case, reasons",
    [
        ("unknown_codes_crimes", {
            2: "ho_offence_code: code not in the reference list: '99Z'",
            3: "status: value not allowed by the contract: 'recorded'",
            4: "cancellation_code: code not in the reference list: 'C9'",
            5: "cancellation_authority: value not allowed by the contract: 'CHIEF'",
            6: "flags: code not in the reference list in 'DA|GANG'",
        }),
        ("unknown_codes_referrals", {
            2: "team: value not allowed by the contract: 'CID'",
            3: "source_agency: value not allowed by the contract: 'NHS'",
            4: "discloses_offence: must be Y or N, found 'Yes'",
            5: "disclosed_offence_code: code not in the reference list: 'ZZ'",
        }),
        ("unknown_codes_incidents", {
            2: "channel: value not allowed by the contract: 'emergency_999'",
            3: "closing_code: code not in the reference list: 'CR-UNKNOWN'",
        }),
    ],
)
def test_unknown_codes_are_quarantined_naming_the_column_and_value(settings, landing, case, reasons):
    result = _extract(case, settings, landing)
    assert _reasons(result) == reasons
    assert result.rows_accepted == 1


def test_crime_fields_that_contradict_each_other_are_quarantined(settings, landing):
    result = _extract("contradicting_crime_fields", settings, landing)
    expected = {line: reason for line, (_, reason) in enumerate(CONTRADICTING_CRIME_FIELDS, start=2) if reason}
    assert _reasons(result) == expected
    assert sorted(row["source_line"] for row in _accepted(result)) == [6, 7, 8, 9]


def test_a_period_export_quarantines_contradicting_fields_as_a_daily_export_does(settings, landing, tmp_path):
    """`cdi backfill` reads a period export through the same typing."""
    path = _land("contradicting_crime_fields", landing)
    result = extract_period_export(settings, "crimes", dt.date(2024, 6, 1), SNAPSHOT, path, SNAPSHOT)
    assert _reasons(result) == {
        line: reason for line, (_, reason) in enumerate(CONTRADICTING_CRIME_FIELDS, start=2) if reason}
    assert result.rows_accepted == 4


def test_embedded_newlines_and_quotes_are_read_and_line_numbers_stay_right(settings, landing):
    result = _extract("embedded_newlines_and_quotes", settings, landing)
    accepted = {row["incident_ref"]: row for row in _accepted(result)}
    # Row 1 spans lines 2-5 (CR LF, LF and a lone CR inside its quoted address); row 3 spans 7-10.
    assert {ref: row["source_line"] for ref, row in accepted.items()} == {
        "KNT-240601-00001": 2, "KNT-240601-00002": 6, "KNT-240601-00003": 7, "KNT-240601-00006": 14,
    }
    assert accepted["KNT-240601-00002"]["beat_code"] == 'B"01'
    assert _reasons(result) == {
        11: "beat_code: holds a line break or control character: 'B0\\n1'",
        13: "incident_ref: holds a line break or control character: 'KNT-240601-\\t00005'",
    }


def test_an_unquoted_line_break_splits_a_record_and_no_piece_of_it_passes_for_a_reference(settings, landing):
    result = _extract("unquoted_line_break_in_address", settings, landing)
    rows = pq.read_table(result.quarantine_partition).to_pylist()
    assert [(row["source_line"], row["reference"], row["reason"]) for row in rows] == [
        (3, "KNT-240601-00002", "expected 16 fields, found 13 (truncated or mis-quoted line)"),
        (4, None, "expected 16 fields, found 4 (truncated or mis-quoted line)"),
    ]
    assert (result.rows_in, result.rows_accepted) == (3, 1)
    assert "Ramsgate" not in repr(pq.read_table(result.quarantine_partition).to_pylist())


def test_a_huge_reference_field_is_quarantined_and_cut_short_in_the_quarantine(settings, landing):
    result = _extract("huge_identifier_field", settings, landing)
    [row] = pq.read_table(result.quarantine_partition).to_pylist()
    assert row["source_line"] == 2
    assert row["reason"] == (
        f"beat_code: longer than {MAX_IDENTIFIER_FIELD_CHARS} characters: {'B' * 80!r}... (2097152 characters)"
    )
    assert json.loads(row["record_json"])["beat_code"].endswith("... (cut: 2097152 characters)")
    assert Path(result.quarantine_partition).stat().st_size < 64 * 1024
    assert [row["crime_ref"] for row in _accepted(result)] == ["KNT/24/000002"]


def test_a_huge_personal_field_is_read_and_dropped(settings, landing):
    result = _extract("huge_personal_field", settings, landing)
    assert result.rows_accepted == 2
    assert "victim_name" not in pq.read_table(result.raw_partition).column_names


# --------------------------------------------------------------------------- formula injection, end to end
def test_a_formula_in_a_source_field_reaches_worklist_csv_neutralised(settings, landing):
    _land("formula_injection", landing)
    write_export(landing, "crimes", [])  # no crime recorded: both calls are unrecorded
    write_export(landing, "referrals", [])
    for source in ("incidents", "crimes", "referrals"):
        result = stages.extract(settings, source, SNAPSHOT)
        assert result["rows_in"] == result["rows_accepted"] + result["rows_quarantined"]
    stages.reconcile(settings, SNAPSHOT)
    published = stages.publish_report(settings, SNAPSHOT)

    worklist_mart = pq.read_table(lake.mart_path(settings.lake_dir, "worklist", FORCE, SNAPSHOT)).to_pylist()
    assert FORMULA in {row["beat_code"] for row in worklist_mart}  # stored as it came: the lake is data
    with open(published["worklist"], newline="", encoding="utf-8") as handle:
        worklist = list(csv.DictReader(handle))
    cells = [cell for row in worklist for cell in row.values()]
    assert "'" + FORMULA in cells
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # The raw text of the file, as a spreadsheet would see it: the formula only ever after the apostrophe.
    text = Path(published["worklist"]).read_text(encoding="utf-8")
    assert text.count("=HYPERLINK") == text.count("'=HYPERLINK") == 1


def test_a_list_cell_starting_with_a_formula_is_neutralised_too():
    """candidate_outcomes.csv holds lists of source references (linked_crime_refs,
    questioned_cancellations): joined into one cell, they are source text like any other."""
    import pyarrow as pa

    from pipelines.outputs import table_to_csv

    table = pa.table({"refs": [[FORMULA, "KNT/24/1"], ["KNT/24/2"]]})
    rows = list(csv.reader(table_to_csv(table).splitlines()))
    assert rows[1:] == [["'" + FORMULA + "|KNT/24/1"], ["KNT/24/2"]]
