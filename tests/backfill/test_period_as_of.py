"""sql/period/: a period export seen as one date's snapshot (the record versions of *_versions.sql
valid at its cut-off, snapshot_as_of.sql), rule by rule, on a few records."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest

from pipelines.backfill import load_period_export, snapshot_as_of
from pipelines.extract import extract_period_export
from pipelines.reconcile import open_connection
from tests.conftest import crime, incident, referral, write_export

pytestmark = pytest.mark.unit

EXPORTED_ON = dt.date(2024, 6, 6)  # the period export's cut-off: 2024-06-06 00:00 London
EARLY, LATE = dt.date(2024, 6, 3), dt.date(2024, 6, 5)  # two snapshot dates it stands in for


@pytest.fixture
def connection(settings, landing):
    incidents = [
        # Created 1 June, a crime recorded on the log 2 June, closed 3 June noon: a reference to a
        # crime the export does not hold has an unknown entry time and is kept.
        incident("KNT-240601-00001", created_at="2024-06-01 10:00:00", closing_code="CR-VIOL",
                 closed_at="2024-06-03 12:00:00", crime_refs="KNT/24/000001|KNT/24/000099",
                 updated_at="2024-06-03 12:00:00"),
        incident("KNT-240605-00002", created_at="2024-06-05 08:00:00", closed_at="2024-06-05 09:00:00",
                 updated_at="2024-06-05 09:00:00"),  # not yet created on 3 June
        incident("KNT-240301-00003", created_at="2024-03-01 08:00:00", closed_at="2024-03-01 09:00:00",
                 updated_at="2024-03-01 09:00:00"),  # last touched before either date's 60-day window
    ]
    crimes = [
        crime("KNT/24/000001", recorded_at="2024-06-02 14:00:00", status="CANCELLED", cancellation_code="C1",
              cancelled_at="2024-06-04 10:00:00", cancellation_authority="FCR", updated_at="2024-06-04 10:00:00"),
        crime("KNT/24/000002", incident_ref="", referral_ref="KNT-R-240601-0001", reported_at="2024-06-01 09:00:00",
              recorded_at="2024-06-03 08:00:00", ho_offence_code="19C", updated_at="2024-06-03 08:00:00"),
    ]
    referrals = [referral("KNT-R-240601-0001", crime_refs="KNT/24/000002", updated_at="2024-06-03 08:00:00")]
    with period_export_loaded(settings, landing, incidents, crimes, referrals) as connection:
        yield connection


@contextlib.contextmanager
def period_export_loaded(settings, landing, incidents: list[dict], crimes: list[dict], referrals: list[dict]):
    """A connection holding the period export of these records, taken on EXPORTED_ON."""
    for source, rows in (("incidents", incidents), ("crimes", crimes), ("referrals", referrals)):
        write_export(landing, source, rows, snapshot=EXPORTED_ON)
    files = {}
    for source in ("incidents", "crimes", "referrals"):
        export_file = landing / "KNT" / f"{source}_{EXPORTED_ON.isoformat()}.csv"
        extracted = extract_period_export(settings, source, EARLY, LATE, export_file, EXPORTED_ON)
        assert extracted.rows_quarantined == 0
        files[source] = extracted.raw_partition
    with open_connection() as connection:
        load_period_export(connection, files)
        yield connection


def rows(connection, settings, day: dt.date, source: str, columns: str) -> list[tuple]:
    table = snapshot_as_of(connection, settings, day)[source]
    return connection.execute(f"select {columns} from {table} order by all").fetchall()


INCIDENT = "incident_ref, closing_code, strftime(closed_at, '%d %H:%M'), crime_refs, strftime(updated_at, '%d %H:%M'), snapshot_date"
CRIME = "crime_ref, status, cancellation_code, cancellation_authority, strftime(updated_at, '%d %H:%M')"


def test_an_incident_is_shown_as_it_stood_at_the_cut_off(connection, settings):
    # 3 June: still open; the crime recorded on 2 June is on the log; last updated then (UTC).
    assert rows(connection, settings, EARLY, "incidents", INCIDENT) == [
        ("KNT-240601-00001", None, None, ["KNT/24/000001", "KNT/24/000099"], "02 13:00", EARLY),
    ]
    # 5 June: closed, as exported; the incident created on 5 June is after that date's cut-off too.
    assert rows(connection, settings, LATE, "incidents", INCIDENT) == [
        ("KNT-240601-00001", "CR-VIOL", "03 11:00", ["KNT/24/000001", "KNT/24/000099"], "03 11:00", LATE),
    ]


def test_a_crime_cancelled_after_the_cut_off_was_still_recorded(connection, settings):
    assert rows(connection, settings, EARLY, "crimes", CRIME) == [
        ("KNT/24/000001", "RECORDED", None, None, "02 13:00"),
    ]
    assert rows(connection, settings, LATE, "crimes", CRIME) == [
        ("KNT/24/000001", "CANCELLED", "C1", "FCR", "04 09:00"),
        ("KNT/24/000002", "RECORDED", None, None, "03 07:00"),
    ]


def test_a_crime_reference_appears_when_the_crime_is_recorded(connection, settings):
    columns = "referral_ref, crime_refs, strftime(updated_at, '%d %H:%M')"
    assert rows(connection, settings, EARLY, "referrals", columns) == [("KNT-R-240601-0001", None, "01 08:00")]
    assert rows(connection, settings, LATE, "referrals", columns) == [("KNT-R-240601-0001", ["KNT/24/000002"], "03 07:00")]


def test_each_date_numbers_its_rows_from_zero(connection, settings):
    for day in (EARLY, LATE):
        numbers = [number for (number,) in rows(connection, settings, day, "crimes", "file_row_number")]
        assert numbers == list(range(len(numbers)))


def test_a_change_at_the_cut_off_itself_comes_after_it(settings, landing):
    # Closed, and a crime on it recorded, at midnight starting 5 June in London: LATE's cut-off itself.
    cut_off = "2024-06-05 00:00:00"
    incidents = [incident("KNT-240604-00001", created_at="2024-06-04 10:00:00", closed_at=cut_off,
                          crime_refs="KNT/24/000003", updated_at=cut_off)]
    crimes = [crime("KNT/24/000003", incident_ref="KNT-240604-00001", reported_at="2024-06-04 10:00:00",
                    recorded_at=cut_off, updated_at=cut_off)]
    referrals = [referral("KNT-R-240604-0001", received_at="2024-06-04 09:00:00", updated_at="2024-06-04 09:00:00")]
    with period_export_loaded(settings, landing, incidents, crimes, referrals) as connection:
        # 5 June: still open, the crime not recorded yet, so not on the log either.
        assert rows(connection, settings, LATE, "incidents", INCIDENT) == [
            ("KNT-240604-00001", None, None, None, "04 09:00", LATE),
        ]
        assert rows(connection, settings, LATE, "crimes", CRIME) == []
        # 6 June: as exported.
        after = LATE + dt.timedelta(days=1)
        assert rows(connection, settings, after, "incidents", INCIDENT) == [
            ("KNT-240604-00001", "CR-VIOL", "04 23:00", ["KNT/24/000003"], "04 23:00", after),
        ]
        assert rows(connection, settings, after, "crimes", CRIME) == [("KNT/24/000003", "RECORDED", None, None, "04 23:00")]
