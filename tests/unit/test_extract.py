"""Extraction: typing by the contract, quarantine with reasons, pseudonymisation, atomic writes."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.extract import extract_source
from pipelines.pseudonymise import person_key
from pipelines.sources.csv_export import ExportFormatError
from tests.conftest import FORCE, SNAPSHOT, crime, incident, referral, write_export

pytestmark = pytest.mark.unit


def _quarantine(result) -> list[dict]:
    return pq.read_table(result.quarantine_partition).to_pylist()


def _accepted(result) -> list[dict]:
    return pq.read_table(result.raw_partition).to_pylist()


def test_clean_export_is_typed_and_pseudonymised(settings, landing):
    write_export(landing, "incidents", [incident(qualifiers="DA|INJURY", victim_count="2", victim_person_ids="P1|P2", crime_refs="KNT/24/000001")])
    result = extract_source(settings, "incidents", SNAPSHOT)
    assert (result.rows_in, result.rows_accepted, result.rows_quarantined) == (1, 1, 0)
    [row] = _accepted(result)
    assert row["qualifiers"] == ["DA", "INJURY"]
    assert row["victim_count"] == 2
    assert row["victim_person_keys"] == [person_key("P1", settings.pseudonym_key), person_key("P2", settings.pseudonym_key)]
    assert row["crime_refs"] == ["KNT/24/000001"]
    # 10:00 BST on 1 June is 09:00 UTC
    assert row["created_at"].isoformat() == "2024-06-01T09:00:00+00:00"
    assert row["source_line"] == 2
    for personal in ("caller_name", "caller_phone", "location_text", "victim_person_ids"):
        assert personal not in row


def test_personal_data_never_reaches_the_lake(settings, landing):
    write_export(landing, "incidents", [incident(), incident("KNT-240601-00002", victim_count="x")])
    write_export(landing, "crimes", [crime()])
    write_export(landing, "referrals", [referral()])
    for source in ("incidents", "crimes", "referrals"):
        extract_source(settings, source, SNAPSHOT)
    written = b"".join(path.read_bytes() for path in settings.lake_dir.rglob("*") if path.is_file())
    for secret in (b"Alice Example", b"07700 900001", b"1 Test Street", b"Bob Example", b"V-KNT-240601-00001", b"P100", b"P200"):
        assert secret not in written


def test_bad_rows_are_quarantined_with_line_field_and_reason(settings, landing):
    rows = [
        incident("KNT-240601-00001"),
        incident("KNT-240601-00002", opening_code="CR-NOPE"),
        incident("KNT-240601-00003", victim_count="-1"),
        incident("KNT-240601-00004", created_at="2024-02-30 10:00:00"),
        incident("KNT-240601-00005", force_code="ESX"),
        incident("KNT-240601-00006", channel=""),
        incident("KNT-240601-00007", qualifiers="DA|NOTACODE"),
    ]
    write_export(landing, "incidents", rows)
    result = extract_source(settings, "incidents", SNAPSHOT)
    assert result.rows_in == 7 == result.rows_accepted + result.rows_quarantined
    reasons = {row["source_line"]: row["reason"] for row in _quarantine(result)}
    assert reasons == {
        3: "opening_code: code not in the reference list: 'CR-NOPE'",
        4: "victim_count: not a whole number from 0 to 9999: '-1'",
        5: "created_at: not a date-time of the form YYYY-MM-DD HH:MM:SS: '2024-02-30 10:00:00'",
        6: "force_code: record of force 'ESX' in the export of force 'KNT'",
        7: "channel: required field is empty",
        8: "qualifiers: code not in the reference list in 'DA|NOTACODE'",
    }


def test_quarantined_record_keeps_its_fields_but_no_personal_data(settings, landing):
    write_export(landing, "incidents", [incident(opening_code="BAD")])
    [row] = _quarantine(extract_source(settings, "incidents", SNAPSHOT))
    record = json.loads(row["record_json"])
    assert record["opening_code"] == "BAD" and record["incident_ref"] == "KNT-240601-00001"
    assert "caller_name" not in record and "victim_person_ids" not in record


def test_duplicates_exact_superseded_and_conflicting(settings, landing):
    rows = [
        incident("KNT-240601-00001"),
        incident("KNT-240601-00001"),  # exact repeat
        incident("KNT-240601-00002", closing_code="", updated_at="2024-06-01 11:00:00"),
        incident("KNT-240601-00002", closing_code="CR-VIOL", updated_at="2024-06-01 12:00:00"),  # later wins
        incident("KNT-240601-00003", beat_code="B01"),
        incident("KNT-240601-00003", beat_code="B02"),  # same update time, different content
    ]
    write_export(landing, "incidents", rows)
    result = extract_source(settings, "incidents", SNAPSHOT)
    accepted = {row["incident_ref"]: row for row in _accepted(result)}
    assert sorted(accepted) == ["KNT-240601-00001", "KNT-240601-00002"]
    assert accepted["KNT-240601-00002"]["closing_code"] == "CR-VIOL"
    reasons = {row["source_line"]: row["reason"] for row in _quarantine(result)}
    assert reasons[3] == "incident_ref: exact duplicate of line 2"
    assert reasons[4] == "incident_ref: superseded by line 5 (same reference, later update)"
    assert reasons[6] == reasons[7] == "incident_ref: conflicting rows for the same reference (lines 6, 7), none can be preferred"
    assert result.rows_in == result.rows_accepted + result.rows_quarantined == 6


def test_clock_change_hours(settings, landing):
    after_both_changes = dt.date(2024, 11, 1)  # a time after the snapshot date is quarantined
    rows = [
        incident("KNT-240601-00001", created_at="2024-10-27 01:30:00"),  # repeated hour
        incident("KNT-240601-00002", created_at="2024-03-31 01:30:00"),  # missing hour
    ]
    write_export(landing, "incidents", rows, snapshot=after_both_changes)
    result = extract_source(settings, "incidents", after_both_changes)
    [kept] = _accepted(result)
    assert kept["created_at"].isoformat() == "2024-10-27T00:30:00+00:00"  # first (BST) occurrence
    assert "repeated clock-change hour" in kept["clock_change_note"]
    [rejected] = _quarantine(result)
    assert rejected["source_line"] == 3 and "missing clock-change hour" in rejected["reason"]
    assert result.clock_change_notes == 1


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_encodings(settings, landing, encoding):
    write_export(landing, "crimes", [crime(beat_code="Café-Ω".encode("cp1252", "replace").decode("cp1252"))], encoding=encoding)
    result = extract_source(settings, "crimes", SNAPSHOT)
    assert result.rows_accepted == 1
    assert _accepted(result)[0]["beat_code"].startswith("Café")
    assert result.encoding == encoding


def test_columns_in_any_order_and_extra_columns_ignored(settings, landing):
    columns = ["updated_at", "extra_vendor_column"] + [c for c in reversed(list(crime())) if c != "updated_at"]
    path = write_export(landing, "crimes", [crime() | {"extra_vendor_column": "x"}], columns=columns)
    result = extract_source(settings, "crimes", SNAPSHOT)
    assert result.rows_accepted == 1 and result.extra_columns == ["extra_vendor_column"]
    assert path.exists()


def test_header_names_differing_only_in_case_are_read_as_the_contract_columns(settings, landing):
    written_as = {"closing_code": "Closing_Code", "beat_code": " BEAT_CODE "}
    row = {written_as.get(name, name): value for name, value in incident(closing_code="CR-VIOL").items()}
    write_export(landing, "incidents", [row], columns=list(row))
    result = extract_source(settings, "incidents", SNAPSHOT)
    assert result.rows_accepted == 1 and result.extra_columns == [] and result.missing_optional_columns == []
    [row] = _accepted(result)
    assert (row["closing_code"], row["beat_code"]) == ("CR-VIOL", "B01")


def test_two_header_names_for_one_column_are_refused_naming_it(settings, landing):
    columns = list(incident()) + ["CLOSING_CODE"]
    path = write_export(landing, "incidents", [incident() | {"CLOSING_CODE": "CR-VIOL"}], columns=columns)
    with pytest.raises(ExportFormatError) as error:
        extract_source(settings, "incidents", SNAPSHOT)
    assert str(error.value) == (
        f"{path}, line 1, column 'closing_code': column appears more than once in the header (as 'closing_code', 'CLOSING_CODE')"
    )


def test_missing_optional_columns_are_named_in_the_manifest(settings, landing):
    columns = [name for name in crime() if name not in ("cancelled_at", "flags", "victim_name")]
    write_export(landing, "crimes", [crime()], columns=columns)
    result = extract_source(settings, "crimes", SNAPSHOT)
    assert result.rows_accepted == 1
    assert result.missing_optional_columns == ["cancelled_at", "flags"]  # a missing personal column is no loss
    manifest = lake.read_json(lake.manifest_path(settings.lake_dir, "extract", "crimes", FORCE, SNAPSHOT))
    assert manifest["missing_optional_columns"] == ["cancelled_at", "flags"]


def test_empty_column_names_in_the_header_are_refused_as_such(settings, landing):
    path = write_export(landing, "referrals", [referral()])
    lines = path.read_bytes().decode("utf-8").splitlines()
    path.write_bytes("".join(f"{line},,\r\n" for line in lines).encode("utf-8"))
    with pytest.raises(ExportFormatError) as error:
        extract_source(settings, "referrals", SNAPSHOT)
    assert str(error.value) == f"{path}, line 1: empty column name(s) in the header (trailing commas?)"


def test_missing_required_column_names_file_and_column(settings, landing):
    columns = [c for c in crime() if c != "recorded_at"]
    path = write_export(landing, "crimes", [crime()], columns=columns)
    with pytest.raises(ExportFormatError) as error:
        extract_source(settings, "crimes", SNAPSHOT)
    assert str(error.value) == f"{path}, line 1, column 'recorded_at': required column is missing"


def test_empty_file_and_header_only(settings, landing):
    path = write_export(landing, "referrals", [])
    result = extract_source(settings, "referrals", SNAPSHOT)
    assert (result.rows_in, result.rows_accepted) == (0, 0)
    path.write_bytes(b"")
    with pytest.raises(ExportFormatError, match="line 1: the file is empty"):
        extract_source(settings, "referrals", SNAPSHOT)


def test_truncated_last_line_is_quarantined(settings, landing):
    path = write_export(landing, "referrals", [referral(), referral("KNT-R-240601-0002")])
    text = path.read_text()
    path.write_text(text[: text.rindex(",HEALTH")])  # cut the last row short
    result = extract_source(settings, "referrals", SNAPSHOT)
    assert (result.rows_in, result.rows_accepted, result.rows_quarantined) == (2, 1, 1)
    [row] = _quarantine(result)
    assert row["source_line"] == 3 and row["reference"] == "KNT-R-240601-0002"
    assert row["reason"].startswith("expected 11 fields, found 3")


def test_undecodable_bytes_name_the_line(settings, landing):
    path = write_export(landing, "referrals", [referral()])
    path.write_bytes(path.read_bytes() + b"KNT-R-1,KNT,\x81\x8d\n")
    with pytest.raises(ExportFormatError, match=r"line 3: byte 0x81 is neither UTF-8 nor Windows-1252"):
        extract_source(settings, "referrals", SNAPSHOT)


def test_a_stray_windows_1252_byte_is_named_even_when_utf8_text_follows(settings, landing):
    rows = [crime("KNT/24/000001", beat_code="Café")]  # line 2: Windows-1252, 0xe9
    rows += [crime(f"KNT/24/{number:06d}") for number in range(2, 128)]
    rows += [crime("KNT/24/000128", beat_code="Ávila")]  # line 129: UTF-8, 0xc3 0x81 (0x81 is not Windows-1252)
    path = write_export(landing, "crimes", rows)
    text = path.read_bytes().replace("Café".encode("utf-8"), "Café".encode("cp1252"))
    path.write_bytes(text)
    with pytest.raises(ExportFormatError) as error:
        extract_source(settings, "crimes", SNAPSHOT)
    assert str(error.value) == (
        f"{path}, line 2: mixes encodings: byte 0xe9 here is not UTF-8, but line 129 holds UTF-8 text; "
        "re-export the file in one encoding"
    )


def test_recorded_before_reported_by_at_most_the_clock_change_hour_is_kept_with_its_note(settings, landing):
    after_the_change = dt.date(2024, 11, 1)
    # 01:40 in the repeated hour is read as its first (BST) instant, 00:40 UTC, which may be an hour
    # early: a crime recorded at 01:10 may well have been recorded after it was reported.
    rows = [
        crime("KNT/24/000001", reported_at="2024-10-27 01:40:00", recorded_at="2024-10-27 01:10:00"),
        crime("KNT/24/000002", reported_at="2024-10-27 01:40:00", recorded_at="2024-10-26 23:30:00"),  # no hour explains it
    ]
    write_export(landing, "crimes", [row | {"updated_at": "2024-10-27 03:00:00"} for row in rows], snapshot=after_the_change)
    result = extract_source(settings, "crimes", after_the_change)
    [kept] = _accepted(result)
    assert kept["crime_ref"] == "KNT/24/000001" and "repeated clock-change hour" in kept["clock_change_note"]
    assert [row["reason"] for row in _quarantine(result)] == [
        "recorded_at: before reported_at ('2024-10-27 01:40:00'): '2024-10-26 23:30:00'"]


def test_rerun_replaces_and_failure_keeps_previous_partition(settings, landing):
    write_export(landing, "crimes", [crime(), crime("KNT/24/000002")])
    first = extract_source(settings, "crimes", SNAPSHOT)
    assert first.rows_accepted == 2
    write_export(landing, "crimes", [crime()])
    second = extract_source(settings, "crimes", SNAPSHOT)
    assert second.rows_accepted == 1 and len(_accepted(second)) == 1
    # A broken export must not touch the partition already there.
    (landing / FORCE / f"crimes_{SNAPSHOT}.csv").write_bytes(b"crime_ref\n")
    with pytest.raises(ExportFormatError):
        extract_source(settings, "crimes", SNAPSHOT)
    assert len(pq.read_table(lake.raw_path(settings.lake_dir, "crimes", FORCE, SNAPSHOT))) == 1
    leftovers = [p.name for p in settings.lake_dir.rglob(".tmp-*")]
    assert leftovers == []


def test_outputs_are_readable_by_owner_only(settings, landing):
    write_export(landing, "crimes", [crime()])
    result = extract_source(settings, "crimes", SNAPSHOT)
    from pathlib import Path

    assert Path(result.raw_partition).stat().st_mode & 0o077 == 0


def test_a_timestamp_prints_back_by_cast_exactly_as_strftime_prints_it():
    """Extraction checks a date-time by printing the parsed value back with a cast (fast); it must
    give strftime's answer on every value, the ones strptime rolls over or half-reads included."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from pipelines.contract import LOCAL_TIME_FORMAT

    written = pa.array([
        "2024-06-01 10:00:00", "2024-02-29 00:00:00", "2023-02-29 00:00:00", "2024-02-30 10:00:00",
        "2024-6-1 1:2:3", "2024-06-01 24:00:00", "2024-06-01 23:59:60", "0001-01-01 00:00:00",
        "0999-12-31 23:59:59", "1969-12-31 23:59:59", "10000-01-01 00:00:00", " 2024-06-01 10:00:00",
        "2024-06-01T10:00:00", "2024-06-01 10:00:00.5", "+2024-06-01 10:00:00", "2024-06-01 10:00", None,
    ])
    parsed = pc.strptime(written, format=LOCAL_TIME_FORMAT, unit="s", error_is_null=True)
    assert parsed.cast(pa.string()).to_pylist() == pc.strftime(parsed, format=LOCAL_TIME_FORMAT).to_pylist()
    kept = pc.fill_null(pc.equal(parsed.cast(pa.string()), written), False).to_pylist()
    assert kept == [True, True] + [False] * 5 + [True, True, True] + [False] * 7
