"""sql/marts and sql/assertions: rates with Wilson intervals over two windows and five dimensions,
daily rates that restate earlier days, record changes between snapshots, probable links, the
worklist, and the invariants.

Snapshot 2024-06-10 (cut-off 2024-06-09 23:00 UTC): matured report days run from 2024-04-11
(60-day lookback) to 2024-06-07 (2-day maturity lag): 58 days; the rolling window is the last 28
of them, 2024-05-11 to 2024-06-07.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from pipelines.reconcile import InvariantViolation, check_invariants, sql_parameters
from tests.conftest import SNAPSHOT, crime, incident, referral
from tests.sql.conftest import PREVIOUS_SNAPSHOT, rows

pytestmark = pytest.mark.unit

TRANSFER = dict(status="TRANSFERRED", cancellation_code="C1", cancellation_authority="DDM",
                cancelled_at="2024-06-02 10:00:00")


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval, written out independently of sql/macros/wilson_interval.sql."""
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


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
               round(unrecorded_rate, 4), share_within_24h, first_report_day, last_report_day
        from recording_rates""")
    # Wilson 95% interval for 8 of 10: 0.4902 to 0.9433 (e.g. Newcombe 1998, table I method 3)
    window = (dt.date(2024, 4, 11), dt.date(2024, 6, 7))
    assert result == [
        ("overall", "ALL", 10, 8, 2, 0.8, 0.4902, 0.9433, 0.2, 1.0, *window),
        ("crime_group", "VIOLENCE_AGAINST_THE_PERSON", 10, 8, 2, 0.8, 0.4902, 0.9433, 0.2, 1.0, *window),
        ("route", "CALL", 10, 8, 2, 0.8, 0.4902, 0.9433, 0.2, 1.0, *window),
    ]


def test_rates_leave_out_unmatured_days_and_removed_crimes(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-08 10:00:00"),  # within the 2-day maturity lag
            incident("KNT-2", created_at="2024-06-01 10:00:00"),
            incident("KNT-3", created_at="2024-06-01 10:00:00"),
        ],
        crimes=[crime("KNT/24/3", incident_ref="KNT-3", **TRANSFER)],
        referrals=[referral("R-1", received_at="2024-06-01 10:00:00")],
    )
    assert rows(connection, """
        select dimension, dimension_value, candidate_crimes, unrecorded from recording_rates order by all""") == [
        ("crime_group", "SEXUAL_OFFENCES", 1, 1),
        ("crime_group", "VIOLENCE_AGAINST_THE_PERSON", 1, 1),
        ("overall", "ALL", 2, 2),
        ("rape_report", "RAPE_REPORT", 1, 1),  # the referral disclosed a rape (19C)
        ("route", "CALL", 1, 1),
        ("route", "REFERRAL", 1, 1),
    ]


def test_rates_of_domestic_abuse_and_rape_reports_stand_beside_the_groups(reconcile_records):
    # DOMAIN.md: the inspectorate measures the domestic-abuse flagged crimes and the rape reports too.
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", qualifiers="DA"),
            incident("KNT-2", opening_code="CR-DAVIOL", closing_code="CR-DAVIOL"),
            incident("KNT-3", opening_code="CR-RAPE", closing_code="CR-RAPE"),
            incident("KNT-4"),
        ],
        crimes=[crime("KNT/24/1", incident_ref="KNT-1"), crime("KNT/24/3", incident_ref="KNT-3", ho_offence_code="19C"),
                # a rape record with no report (route OTHER) is recorded by definition: not a rape report's rate
                crime("KNT/24/9", incident_ref="", ho_offence_code="19C", victim_person_id="P9")],
    )
    assert rows(connection, """
        select dimension, dimension_value, candidate_crimes, recorded, unrecorded from recording_rates
        where dimension in ('domestic_abuse', 'rape_report') order by all""") == [
        ("domestic_abuse", "FLAGGED", 2, 1, 1),
        ("rape_report", "RAPE_REPORT", 1, 1, 0),
    ]
    # their complements stay in recording_metrics, out of the gate's rates
    assert rows(connection, """
        select dimension, dimension_value, candidate_crimes from recording_metrics
        where window_name = 'matured' and dimension in ('domestic_abuse', 'rape_report') order by all""") == [
        ("domestic_abuse", "FLAGGED", 2), ("domestic_abuse", "NOT_FLAGGED", 3),
        ("rape_report", "NOT_RAPE_REPORT", 4), ("rape_report", "RAPE_REPORT", 1),
    ]


def test_metrics_by_window_and_dimension_with_yearly_estimate(reconcile_records):
    connection = reconcile_records(
        incidents=[
            # 20 April: in the matured window, before the rolling 28 days
            incident("KNT-1", created_at="2024-04-20 10:00:00", beat_code="B01", qualifiers="DA"),
            incident("KNT-2", created_at="2024-04-20 10:00:00", beat_code="B01"),
            # 1 June: in both windows
            incident("KNT-3", created_at="2024-06-01 10:00:00", beat_code="B02"),
            incident("KNT-4", created_at="2024-06-01 10:00:00", beat_code="B02"),
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1", reported_at="2024-04-20 10:00:00",
                  recorded_at="2024-04-23 10:00:00"),
            crime("KNT/24/3", incident_ref="KNT-3"),
            crime("KNT/24/9", incident_ref="", beat_code="B09", ho_offence_code="46"),  # route OTHER
        ],
    )
    assert rows(connection, """
        select window_name, window_days, dimension, dimension_value, candidate_crimes, recorded,
               recorded_within_24h, unrecorded, round(recording_rate, 4), round(share_within_24h, 4),
               round(recorded_a_year, 2), round(est_unrecorded_a_year, 2)
        from recording_metrics""") == [
        ("matured", 58, "overall", "ALL", 5, 3, 2, 2, 0.6, 0.6667, 18.89, 12.59),
        ("matured", 58, "crime_group", "THEFT", 1, 1, 1, 0, 1.0, 1.0, 6.30, 0.0),
        ("matured", 58, "crime_group", "VIOLENCE_AGAINST_THE_PERSON", 4, 2, 1, 2, 0.5, 0.5, 12.59, 12.59),
        ("matured", 58, "route", "CALL", 4, 2, 1, 2, 0.5, 0.5, 12.59, 12.59),
        ("matured", 58, "route", "OTHER", 1, 1, 1, 0, 1.0, 1.0, 6.30, 0.0),
        ("matured", 58, "domestic_abuse", "FLAGGED", 1, 1, 0, 0, 1.0, 0.0, 6.30, 0.0),
        ("matured", 58, "domestic_abuse", "NOT_FLAGGED", 4, 2, 2, 2, 0.5, 1.0, 12.59, 12.59),
        ("matured", 58, "rape_report", "NOT_RAPE_REPORT", 5, 3, 2, 2, 0.6, 0.6667, 18.89, 12.59),
        ("matured", 58, "beat", "B01", 2, 1, 0, 1, 0.5, 0.0, 6.30, 6.30),
        ("matured", 58, "beat", "B02", 2, 1, 1, 1, 0.5, 1.0, 6.30, 6.30),
        ("matured", 58, "beat", "B09", 1, 1, 1, 0, 1.0, 1.0, 6.30, 0.0),
        ("rolling_28d", 28, "overall", "ALL", 3, 2, 2, 1, 0.6667, 1.0, 26.09, 13.04),
        ("rolling_28d", 28, "crime_group", "THEFT", 1, 1, 1, 0, 1.0, 1.0, 13.04, 0.0),
        ("rolling_28d", 28, "crime_group", "VIOLENCE_AGAINST_THE_PERSON", 2, 1, 1, 1, 0.5, 1.0, 13.04, 13.04),
        ("rolling_28d", 28, "route", "CALL", 2, 1, 1, 1, 0.5, 1.0, 13.04, 13.04),
        ("rolling_28d", 28, "route", "OTHER", 1, 1, 1, 0, 1.0, 1.0, 13.04, 0.0),
        ("rolling_28d", 28, "domestic_abuse", "NOT_FLAGGED", 3, 2, 2, 1, 0.6667, 1.0, 26.09, 13.04),
        ("rolling_28d", 28, "rape_report", "NOT_RAPE_REPORT", 3, 2, 2, 1, 0.6667, 1.0, 26.09, 13.04),
        ("rolling_28d", 28, "beat", "B02", 2, 1, 1, 1, 0.5, 1.0, 13.04, 13.04),
        ("rolling_28d", 28, "beat", "B09", 1, 1, 1, 0, 1.0, 1.0, 13.04, 0.0),
    ]
    # The estimate's range comes from the rate's interval (Wilson, 3 of 5).
    lower, upper = wilson(3, 5)
    recorded_a_year = 3 * 365.25 / 58
    assert rows(connection, """
        select round(rate_ci_lower, 9), round(rate_ci_upper, 9),
               round(est_unrecorded_a_year_lower, 6), round(est_unrecorded_a_year_upper, 6)
        from recording_metrics where window_name = 'matured' and dimension = 'overall'""") == [
        (round(lower, 9), round(upper, 9),
         round(recorded_a_year * (1 - upper) / upper, 6), round(recorded_a_year * (1 - lower) / lower, 6)),
    ]


def test_daily_rates_restate_a_day_when_a_late_record_appears(reconcile_records):
    day_one = [incident("KNT-1", created_at="2024-06-05 10:00:00"), incident("KNT-2", created_at="2024-06-05 11:00:00")]
    connection = reconcile_records(
        previous={"incidents": day_one, "crimes": [crime("KNT/24/1", incident_ref="KNT-1", reported_at="2024-06-05 10:00:00",
                                                         recorded_at="2024-06-05 12:00:00")]},
        incidents=day_one,
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1", reported_at="2024-06-05 10:00:00", recorded_at="2024-06-05 12:00:00"),
            # recorded late, on 9 June: the 5 June figures change in this snapshot
            crime("KNT/24/2", incident_ref="KNT-2", reported_at="2024-06-05 11:00:00", recorded_at="2024-06-09 09:00:00"),
        ],
    )
    assert rows(connection, """
        select snapshot_date, report_day, is_matured, dimension, dimension_value, candidate_crimes, recorded,
               recorded_within_24h, unrecorded, previous_snapshot_date, previous_recorded, previous_unrecorded
        from daily_recording_rates""") == [
        (SNAPSHOT, dt.date(2024, 6, 5), True, "overall", "ALL", 2, 2, 1, 0, PREVIOUS_SNAPSHOT, 1, 1),
        (SNAPSHOT, dt.date(2024, 6, 5), True, "crime_group", "VIOLENCE_AGAINST_THE_PERSON", 2, 2, 1, 0,
         PREVIOUS_SNAPSHOT, 1, 1),
        (SNAPSHOT, dt.date(2024, 6, 5), True, "route", "CALL", 2, 2, 1, 0, PREVIOUS_SNAPSHOT, 1, 1),
        (SNAPSHOT, dt.date(2024, 6, 5), True, "domestic_abuse", "NOT_FLAGGED", 2, 2, 1, 0, PREVIOUS_SNAPSHOT, 1, 1),
    ]


def test_record_changes_list_vanished_and_crime_to_non_crime_records(reconcile_records):
    previous = {
        "incidents": [
            incident("KNT-1", closing_code="CR-VIOL"),  # re-closed as a non-crime
            incident("KNT-2", opening_code="PSW-CONCERN", closing_code="PSW-CONCERN"),  # deleted at source
            incident("KNT-3", closing_code="CR-VIOL", updated_at="2024-04-09 10:00:00",
                     created_at="2024-04-09 09:00:00", closed_at="2024-04-09 10:00:00"),  # aged out of the window
            incident("KNT-4", opening_code="PSW-CONCERN", closing_code="ADM-INFO"),  # non-crime to non-crime
        ],
        "crimes": [
            crime("KNT/24/1", incident_ref=""),  # cancelled with a code a supervisor may give
            crime("KNT/24/2", incident_ref="", ho_offence_code="19C"),  # cancelled C2 by a supervisor
            crime("KNT/24/3", incident_ref="KNT-9"),  # deleted
            crime("KNT/24/4", incident_ref="", ho_offence_code="19C"),  # turned into an N100
            crime("KNT/24/5", incident_ref="", ho_offence_code="19C"),  # a rape reclassified as a sexual assault
            crime("KNT/24/6", incident_ref="", ho_offence_code="20A"),  # a sexual assault reclassified as a rape
        ],
        "referrals": [referral("R-1"), referral("R-2")],
    }
    connection = reconcile_records(
        previous=previous,
        incidents=[
            incident("KNT-1", closing_code="PSW-CONCERN"),
            incident("KNT-4", opening_code="PSW-CONCERN", closing_code="PSW-CONCERN"),
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="", status="CANCELLED", cancellation_code="C4",
                  cancellation_authority="SUPERVISOR", cancelled_at="2024-06-03 10:00:00"),
            crime("KNT/24/2", incident_ref="", ho_offence_code="19C", status="CANCELLED", cancellation_code="C2",
                  cancellation_authority="SUPERVISOR", cancelled_at="2024-06-03 10:00:00"),
            crime("KNT/24/4", incident_ref="", ho_offence_code="N100"),
            crime("KNT/24/5", incident_ref="", ho_offence_code="20A"),
            crime("KNT/24/6", incident_ref="", ho_offence_code="19C"),
        ],
        referrals=[referral("R-1", discloses_offence="N")],
    )
    assert rows(connection, """
        select previous_snapshot_date, source, record_ref, change, previous_value, current_value,
               was_crime_related, linked_refs
        from record_changes""") == [
        (PREVIOUS_SNAPSHOT, "crimes", "KNT/24/1", "CANCELLED", "RECORDED 8N", "CANCELLED 8N C4 by SUPERVISOR", True, None),
        (PREVIOUS_SNAPSHOT, "crimes", "KNT/24/2", "CANCELLED_QUESTIONABLY", "RECORDED 19C",
         "CANCELLED 19C C2 by SUPERVISOR", True, None),
        (PREVIOUS_SNAPSHOT, "crimes", "KNT/24/5", "RECLASSIFIED_FROM_RAPE", "RECORDED 19C", "RECORDED 20A", True,
         None),
        (PREVIOUS_SNAPSHOT, "crimes", "KNT/24/4", "RECLASSIFIED_TO_N100", "RECORDED 19C", "RECORDED N100", True, None),
        (PREVIOUS_SNAPSHOT, "crimes", "KNT/24/3", "VANISHED", "RECORDED 8N", None, True, "KNT-9"),
        (PREVIOUS_SNAPSHOT, "incidents", "KNT-1", "RECLASSIFIED_TO_NON_CRIME", "CR-VIOL", "PSW-CONCERN", True, None),
        (PREVIOUS_SNAPSHOT, "referrals", "R-1", "DISCLOSURE_WITHDRAWN", "discloses offence", "no offence disclosed",
         True, None),
        (PREVIOUS_SNAPSHOT, "referrals", "R-2", "VANISHED", "discloses offence", None, True, None),
        (PREVIOUS_SNAPSHOT, "incidents", "KNT-2", "VANISHED", "PSW-CONCERN", None, False, None),
    ]
    # The downgraded call's worklist line says it changed since the previous snapshot.
    assert rows(connection, "select candidate_ref, reason_codes from worklist where candidate_ref = 'KNT-1'") == [
        ("KNT-1", "UNRECORDED|DOWNGRADED|CHANGED_SINCE_PREVIOUS_SNAPSHOT"),
    ]


def test_no_previous_snapshot_means_no_changes(reconcile_records):
    connection = reconcile_records(incidents=[incident("KNT-1")])
    assert rows(connection, "select count(*) from record_changes") == [(0,)]
    assert rows(connection, "select distinct previous_snapshot_date from daily_recording_rates") == [(None,)]


def test_probable_links_mart_lists_each_with_its_evidence(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-01 10:00:00", victim_person_ids="P1"),
            incident("KNT-2", created_at="2024-06-01 10:30:00", victim_person_ids="P1", closing_code="ADM-DUPL"),
            incident("KNT-3", created_at="2024-06-02 10:00:00", victim_person_ids="P3"),
        ],
        crimes=[crime("KNT/24/3", incident_ref="", victim_person_id="P3", reported_at="2024-06-02 13:00:00",
                      recorded_at="2024-06-02 15:00:00")],
    )
    assert rows(connection, """
        select link_kind, route, report_ref, linked_ref, hours_apart, report_group, linked_group, report_outcome
        from probable_links""") == [
        ("CRIME_RECORD", "CALL", "KNT-3", "KNT/24/3", 3.0, "VIOLENCE_AGAINST_THE_PERSON",
         "VIOLENCE_AGAINST_THE_PERSON", "RECORDED_ON_TIME"),
        ("REPEAT_CALL", "CALL", "KNT-2", "KNT-1", 0.5, "VIOLENCE_AGAINST_THE_PERSON",
         "VIOLENCE_AGAINST_THE_PERSON", "DUPLICATE"),
    ]
    # Person keys never reach a mart.
    assert not [name for name in connection.table("probable_links").columns if "person" in name]


def test_worklist_priorities_and_reasons(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", opening_code="CR-DAVIOL", closing_code="PSW-DOMESTIC", qualifiers="DA"),
            incident("KNT-2", opening_code="CR-THEFT", closing_code="CR-THEFT"),
            incident("KNT-3", opening_code="CR-VIOL", closing_code="CR-VIOL", victim_count="2"),
            incident("KNT-4", opening_code="CR-VIOL", closing_code="CR-VIOL"),  # recorded on time: not listed
            incident("KNT-5", opening_code="CR-BURGRES", closing_code="CR-BURGRES", qualifiers="VULN"),
            incident("KNT-6", opening_code="CR-RAPE", closing_code="CR-RAPE"),  # recorded as sexual assault
            incident("KNT-7", opening_code="CR-VIOL", closing_code="CR-VIOL", created_at="2024-06-09 20:00:00"),  # pending
            # a theft call on which a sexual element was disclosed: with the sexual offences
            incident("KNT-9", opening_code="CR-THEFT", closing_code="CR-THEFT", qualifiers="SEXUAL",
                     created_at="2024-06-01 11:00:00"),
        ],
        crimes=[
            crime("KNT/24/3", incident_ref="KNT-3"),
            crime("KNT/24/4", incident_ref="KNT-4"),
            crime("KNT/24/6", incident_ref="KNT-6", ho_offence_code="20A"),
            crime("KNT/24/8", incident_ref="", ho_offence_code="5D", status="CANCELLED", cancellation_code="C2",
                  cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),  # route OTHER
        ],
        referrals=[referral("R-1")],
    )
    assert rows(connection, """
        select priority, priority_label, candidate_ref, route, outcome, reason_codes, unrecorded_crimes,
               linked_crime_refs
        from worklist""") == [
        (1, "rape or sexual offence", "R-1", "REFERRAL", "UNRECORDED", "UNRECORDED|RAPE_REPORT_UNRESOLVED", 1, ""),
        (1, "rape or sexual offence", "KNT-6", "CALL", "RECORDED_ON_TIME", "RAPE_REPORT_UNRESOLVED", 0, "KNT/24/6"),
        (1, "rape or sexual offence", "KNT-9", "CALL", "UNRECORDED", "UNRECORDED", 1, ""),
        (2, "domestic abuse", "KNT-1", "CALL", "UNRECORDED", "UNRECORDED|DOWNGRADED", 1, ""),
        (3, "vulnerable victim", "KNT-5", "CALL", "UNRECORDED", "UNRECORDED", 1, ""),
        (4, "violence", "KNT-3", "CALL", "UNDER_COUNTED", "UNDER_COUNTED", 1, "KNT/24/3"),
        (4, "violence", "KNT/24/8", "OTHER", "CANCELLED_QUESTIONABLE", "UNRECORDED|CANCELLED_QUESTIONABLE", 1, ""),
        (5, "other", "KNT-2", "CALL", "UNRECORDED", "UNRECORDED", 1, ""),
    ]


def test_the_worklist_gives_the_forces_own_clock_time_beside_utc(reconcile_records):
    connection = reconcile_records(incidents=[
        incident("KNT-1", created_at="2024-06-01 10:00:00"),  # British Summer Time: 09:00 UTC
    ])
    assert rows(connection, "select candidate_ref, strftime(reported_at, '%H:%M'), reported_at_local from worklist") == [
        ("KNT-1", "09:00", "2024-06-01 10:00:00"),
    ]


def test_invariants_hold_and_catch_a_broken_count(reconcile_records, settings):
    incidents, crimes = _ten_violence_reports_eight_recorded()
    connection = reconcile_records(incidents=incidents, crimes=crimes)
    parameters = sql_parameters(settings, SNAPSHOT)
    check_invariants(connection, parameters)  # holds
    connection.execute("update int_candidate_outcomes set unrecorded_crimes = unrecorded_crimes + 1 where candidate_ref = 'KNT-09'")
    with pytest.raises(InvariantViolation, match="assert_candidate_crimes_balance.sql returned 1 rows"):
        check_invariants(connection, parameters)


@pytest.mark.parametrize("breakage, assertion", [
    ("delete from worklist where candidate_ref = 'KNT-2'", "assert_worklist_holds_every_lost_crime.sql"),
    ("update int_candidate_outcomes set unrecorded_crimes = 1, recorded_crimes = 0 where route = 'OTHER'",
     "assert_other_route_recorded_by_definition.sql"),
    ("insert into int_probable_crime_links (route, report_ref, crime_ref, candidate_id, crime_id) "
     "select 'CALL', 'KNT-1', crime_ref, 1, crime_id from stg_crimes where crime_ref = 'KNT/24/1'",
     "assert_probable_links_kept_apart.sql"),
    ("insert into int_other_route_candidates select * from int_other_route_candidates",
     "assert_every_crime_record_accounted_for.sql"),
    ("update daily_recording_rates set recorded = recorded + 1 where dimension = 'overall'",
     "assert_daily_rates_add_up.sql"),
    ("update recording_metrics set rate_ci_upper = 1.5 where dimension = 'overall'", "assert_rates_within_bounds.sql"),
])
def test_each_invariant_catches_its_breakage(reconcile_records, settings, breakage, assertion):
    connection = reconcile_records(
        incidents=[incident("KNT-1", crime_refs="KNT/24/1"), incident("KNT-2")],
        crimes=[crime("KNT/24/1", incident_ref="KNT-1"), crime("KNT/24/9", incident_ref="")],
    )
    parameters = sql_parameters(settings, SNAPSHOT)
    check_invariants(connection, parameters)  # holds
    connection.execute(breakage)
    with pytest.raises(InvariantViolation, match=assertion):
        check_invariants(connection, parameters)
