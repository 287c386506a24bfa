"""sql/marts and sql/assertions: rates with Wilson intervals, the worklist, the invariants."""

from __future__ import annotations

import pytest

from pipelines.reconcile import InvariantViolation, check_invariants, sql_parameters
from tests.conftest import SNAPSHOT, crime, incident, referral
from tests.sql.conftest import rows

pytestmark = pytest.mark.unit


def _ten_violence_reports_eight_recorded():
    incidents = [incident(f"KNT-{n:02d}", created_at="2024-06-01 10:00:00") for n in range(10)]
    crimes = [crime(f"KNT/24/{n:02d}", incident_ref=f"KNT-{n:02d}") for n in range(8)]
    return incidents, crimes


def test_recording_rates_with_wilson_interval(reconcile_records):
    incidents, crimes = _ten_violence_reports_eight_recorded()
    connection = reconcile_records(incidents=incidents, crimes=crimes)
    result = rows(connection, """
        select dimension, dimension_value, candidate_crimes, recorded, unrecorded,
               round(recording_rate, 4), round(rate_ci_lower, 4), round(rate_ci_upper, 4),
               round(unrecorded_rate, 4), share_within_24h
        from recording_rates""")
    # Wilson 95% interval for 8 of 10: 0.4902 to 0.9433 (e.g. Newcombe 1998, table I method 3)
    assert result == [
        ("overall", "ALL", 10, 8, 2, 0.8, 0.4902, 0.9433, 0.2, 1.0),
        ("crime_group", "VIOLENCE_AGAINST_THE_PERSON", 10, 8, 2, 0.8, 0.4902, 0.9433, 0.2, 1.0),
        ("route", "CALL", 10, 8, 2, 0.8, 0.4902, 0.9433, 0.2, 1.0),
    ]


def test_rates_leave_out_unmatured_days_and_removed_crimes(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-08 10:00:00"),  # within the 2-day maturity lag
            incident("KNT-2", created_at="2024-06-01 10:00:00"),
            incident("KNT-3", created_at="2024-06-01 10:00:00"),
        ],
        crimes=[crime("KNT/24/3", incident_ref="KNT-3", status="TRANSFERRED")],
        referrals=[referral("R-1", received_at="2024-06-01 10:00:00")],
    )
    assert rows(connection, """
        select dimension, dimension_value, candidate_crimes, unrecorded from recording_rates order by all""") == [
        ("crime_group", "SEXUAL_OFFENCES", 1, 1),
        ("crime_group", "VIOLENCE_AGAINST_THE_PERSON", 1, 1),
        ("overall", "ALL", 2, 2),
        ("route", "CALL", 1, 1),
        ("route", "REFERRAL", 1, 1),
    ]


def test_worklist_priorities_and_reasons(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", opening_code="CR-DAVIOL", closing_code="PSW-DOMESTIC", qualifiers="DA"),
            incident("KNT-2", opening_code="CR-THEFT", closing_code="CR-THEFT"),
            incident("KNT-3", opening_code="CR-VIOL", closing_code="CR-VIOL", victim_count="2"),
            incident("KNT-4", opening_code="CR-VIOL", closing_code="CR-VIOL"),  # recorded on time: not listed
            incident("KNT-5", opening_code="CR-BURGRES", closing_code="CR-BURGRES", qualifiers="VULN"),
        ],
        crimes=[crime("KNT/24/3", incident_ref="KNT-3"), crime("KNT/24/4", incident_ref="KNT-4")],
        referrals=[referral("R-1")],
    )
    assert rows(connection, """
        select priority, candidate_ref, outcome, reason_codes, unrecorded_crimes, linked_crime_refs
        from worklist""") == [
        (1, "R-1", "UNRECORDED", "UNRECORDED|RAPE_REPORT_UNRESOLVED", 1, ""),
        (2, "KNT-1", "UNRECORDED", "UNRECORDED|DOWNGRADED", 1, ""),
        (3, "KNT-5", "UNRECORDED", "UNRECORDED", 1, ""),
        (4, "KNT-3", "UNDER_COUNTED", "UNDER_COUNTED", 1, "KNT/24/3"),
        (5, "KNT-2", "UNRECORDED", "UNRECORDED", 1, ""),
    ]


def test_invariants_hold_and_catch_a_broken_count(reconcile_records, settings):
    incidents, crimes = _ten_violence_reports_eight_recorded()
    connection = reconcile_records(incidents=incidents, crimes=crimes)
    parameters = sql_parameters(settings, SNAPSHOT)
    check_invariants(connection, parameters)  # holds
    connection.execute("update candidate_outcomes set unrecorded_crimes = unrecorded_crimes + 1 where candidate_ref = 'KNT-09'")
    with pytest.raises(InvariantViolation, match="assert_candidate_crimes_balance.sql returned 1 rows"):
        check_invariants(connection, parameters)
