"""Reading the auditors' verdict file (pipelines/audit.py, `read_verdicts`) as a spreadsheet saves
it: the file's own line numbers, Excel's encodings and empty rows, and verdicts their own counts
contradict. Tiny hand-made samples; the simulated force is in test_audit.py."""

from __future__ import annotations

import csv
import io

import pytest

from pipelines import audit

pytestmark = pytest.mark.unit

HEADER = audit.SAMPLE_COLUMNS


def _sample(*refs: str, expected: int = 2, screened: int = 1) -> dict[str, dict]:
    """What `ingest_verdicts` reads from audit_sample.csv: reference -> the drawn row."""
    return {ref: {"stratum": "OTHER_GROUPS", "candidate_ref": ref, "route": "CALL", "crime_group": "THEFT",
                  "report_day": "2024-06-01", "screened_outcome": "UNRECORDED", "expected_crimes": expected,
                  "screened_recorded_crimes": screened}
            for ref in refs}


def _row(ref: str, verdict: str, due: str = "", recorded: str = "", notes: str = "") -> list[str]:
    return ["OTHER_GROUPS", ref, "CALL", "THEFT", "2024-06-01", "UNRECORDED", "2", "1", verdict, due, recorded,
            "auditor 1", notes]


def _csv(*rows: list[str]) -> str:
    """CSV as Excel writes it: CRLF line ends, fields quoted only when they must be."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


def _problems(path, sample) -> str:
    with pytest.raises(audit.AuditInputError) as raised:
        audit.read_verdicts(path, sample)
    message = str(raised.value)
    assert message.startswith(f"{path}: "), message
    return message


# -- 1. line numbers are the file's own ------------------------------------------------------------
def test_a_note_spanning_lines_does_not_shift_the_line_numbers(tmp_path):
    sample = _sample("A1", "A2", "A3", "A4")
    text = _csv(_row("A1", "CRIME", notes="called back\r\nvictim confirmed\r\nsee log"),  # lines 2-4
                _row("A2", "NO_CRIME", notes="two\r\nlines"),  # lines 5-6
                _row("A3", "CRIME"),  # line 7
                _row("A4", "CRIME", notes="x\r\ny"),  # lines 8-9
                _row("A2", "MAYBE"))  # line 10
    (tmp_path / "verdicts.csv").write_bytes(text.encode("utf-8"))
    message = _problems(tmp_path / "verdicts.csv", sample)
    assert "line 10: candidate_ref A2 already given on line 5" in message
    (tmp_path / "bad.csv").write_bytes(_csv(_row("A1", "CRIME", notes="one\r\ntwo\r\nthree"), _row("A2", "MAYBE"),
                                            _row("A3", "CRIME"), _row("A4", "CRIME")).encode("utf-8"))
    assert "line 5: verdict must be CRIME or NO_CRIME, got 'MAYBE'" in _problems(tmp_path / "bad.csv", sample)


def test_blank_lines_after_the_header_count(tmp_path):
    sample = _sample("A1", "A2", "A3")
    header, *rows = _csv(_row("A1", "CRIME"), _row("A2", "CRIME"), _row("A3", "MAYBE")).split("\r\n")
    (tmp_path / "verdicts.csv").write_text("\r\n".join([header, "", "", *rows]), encoding="utf-8", newline="")
    assert "line 6: verdict must be CRIME or NO_CRIME, got 'MAYBE'" in _problems(tmp_path / "verdicts.csv", sample)


# -- 2. encodings a spreadsheet saves ---------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_windows_1252_and_utf8_with_or_without_bom_are_read(tmp_path, encoding):
    sample = _sample("A1", "A2")
    text = _csv(_row("A1", "CRIME", "2", "1", notes="Vérifié — appel reçu"), _row("A2", "NO_CRIME", notes="Déjà vu"))
    (tmp_path / "verdicts.csv").write_bytes(text.encode(encoding))
    verdicts = audit.read_verdicts(tmp_path / "verdicts.csv", sample)
    assert [(row["candidate_ref"], row["verdict"], row["crimes_due"], row["crimes_recorded"]) for row in verdicts] == [
        ("A1", "CRIME", 2, 1), ("A2", "NO_CRIME", 0, 0)]


def test_bytes_that_are_no_text_are_refused_naming_the_file_and_line(tmp_path):
    sample = _sample("A1", "A2")
    good = _csv(_row("A1", "CRIME"), _row("A2", "CRIME", notes="@@")).encode("cp1252")
    (tmp_path / "undefined.csv").write_bytes(good.replace(b"@@", b"\x81"))  # undefined in Windows-1252
    with pytest.raises(audit.AuditInputError, match=r"undefined\.csv, line 3: byte 0x81 is neither UTF-8"):
        audit.read_verdicts(tmp_path / "undefined.csv", sample)
    mixed = _csv(_row("A1", "CRIME", notes="é"), _row("A2", "CRIME", notes="@@")).encode("utf-8")
    (tmp_path / "mixed.csv").write_bytes(mixed.replace(b"@@", "é".encode("cp1252")))
    with pytest.raises(audit.AuditInputError, match=r"mixed\.csv, line 3: mixes encodings"):
        audit.read_verdicts(tmp_path / "mixed.csv", sample)
    (tmp_path / "utf16.csv").write_bytes(_csv(_row("A1", "CRIME")).encode("utf-16"))
    with pytest.raises(audit.AuditInputError, match=r"utf16\.csv, line 1: the file is UTF-16"):
        audit.read_verdicts(tmp_path / "utf16.csv", sample)


# -- 3. empty rows -------------------------------------------------------------------------------------
def test_rows_of_empty_cells_are_not_rows(tmp_path):
    sample = _sample("A1", "A2")
    text = _csv(_row("A1", "CRIME"), [""] * len(HEADER), _row("A2", "NO_CRIME"), [""] * len(HEADER), [" "] * 4)
    (tmp_path / "verdicts.csv").write_bytes((text + ",,,,\r\n\r\n").encode("cp1252"))
    assert [row["candidate_ref"] for row in audit.read_verdicts(tmp_path / "verdicts.csv", sample)] == ["A1", "A2"]


# -- 4. missing fields and verdicts their counts contradict ------------------------------------------
def test_contradictory_or_incomplete_verdicts_are_named_by_line_and_field(tmp_path):
    sample = _sample(*(f"A{number}" for number in range(1, 12)))
    rows = [
        _row("A1", "CRIME", "0"),  # line 2: a crime due no times
        _row("A2", "NO_CRIME", "1"),  # line 3: no crime, yet one due
        _row("A3", "NO_CRIME", "", "1"),  # line 4: no crime, yet one recorded
        _row("A4", "CRIME", "1", "2"),  # line 5: more recorded than due
        _row("A5", ""),  # line 6: no verdict
        _row("", "CRIME"),  # line 7: no reference
        _row("A6", "CRIME", "two"),  # line 8
        _row("A7", "CRIME", "²"),  # line 9: a digit to str.isdigit, not a number
        _row("A8", "CRIME")[:-1],  # line 10: a field short
        _row("A9", "CRIME", notes="a") + ["b"],  # line 11: a separator in an unquoted note
        _row("A10", "crime", "0", "0"),  # line 12: lower case is still CRIME
        _row("A11", "NO_CRIME", "0", "0"),  # line 13: fine
    ]
    (tmp_path / "verdicts.csv").write_text(_csv(*rows), encoding="utf-8", newline="")
    message = _problems(tmp_path / "verdicts.csv", sample)
    assert "12 problems" in message  # eleven lines, and the candidates left without a verdict
    for expected in ("line 2: crimes_due 0 contradicts verdict CRIME",
                     "line 3: crimes_due 1 contradicts verdict NO_CRIME",
                     "line 4: crimes_recorded 1 contradicts verdict NO_CRIME",
                     "line 5: crimes_recorded 2 is more than crimes_due 1",
                     "line 6: verdict is empty",
                     "line 7: candidate_ref is empty",
                     "line 8: crimes_due is not a whole number >= 0: 'two'",
                     "line 9: crimes_due is not a whole number >= 0: '²'",
                     "line 10: expected 13 fields as in the header, found 12",
                     "line 11: expected 13 fields as in the header, found 14",
                     "line 12: crimes_due 0 contradicts verdict CRIME"):
        assert expected in message
    assert "line 13" not in message
    # A8 and A9 were never read, so they have no verdict either.
    assert "2 sampled candidates have no verdict, e.g. A8, A9" in message


def test_defaults_fill_what_the_auditor_left_empty(tmp_path):
    sample = _sample("A1", "A2", "A3", expected=3, screened=2)
    (tmp_path / "verdicts.csv").write_text(_csv(_row("A1", "CRIME"), _row("A2", "CRIME", "1"), _row("A3", "NO_CRIME")),
                                           encoding="utf-8", newline="")
    verdicts = audit.read_verdicts(tmp_path / "verdicts.csv", sample)
    assert [(row["crimes_due"], row["crimes_recorded"]) for row in verdicts] == [(3, 2), (1, 1), (0, 0)]


def test_a_header_without_the_verdict_columns_or_with_one_twice_is_refused(tmp_path):
    (tmp_path / "no_verdict.csv").write_text("stratum,candidate_ref,notes\r\nOTHER_GROUPS,A1,\r\n", encoding="utf-8")
    with pytest.raises(audit.AuditInputError, match=r"no_verdict\.csv, line 1: columns missing: verdict"):
        audit.read_verdicts(tmp_path / "no_verdict.csv", _sample("A1"))
    (tmp_path / "twice.csv").write_text("candidate_ref,verdict,verdict\r\nA1,CRIME,NO_CRIME\r\n", encoding="utf-8")
    with pytest.raises(audit.AuditInputError, match=r"twice\.csv, line 1: columns given more than once: verdict"):
        audit.read_verdicts(tmp_path / "twice.csv", _sample("A1"))
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(audit.AuditInputError, match=r"empty\.csv, line 1: the file is empty"):
        audit.read_verdicts(tmp_path / "empty.csv", _sample("A1"))


def test_an_unterminated_quote_is_refused_at_the_line_it_opens(tmp_path):
    text = _csv(_row("A1", "CRIME")) + 'OTHER_GROUPS,A2,CALL,THEFT,2024-06-01,UNRECORDED,2,1,CRIME,,,x,"open\r\nmore\r\n'
    (tmp_path / "verdicts.csv").write_text(text, encoding="utf-8", newline="")
    with pytest.raises(audit.AuditInputError, match=r"verdicts\.csv, line 3: not valid CSV"):
        audit.read_verdicts(tmp_path / "verdicts.csv", _sample("A1", "A2"))
