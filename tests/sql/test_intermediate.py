"""sql/intermediate: links in every direction, candidate crimes, and what became of each."""

from __future__ import annotations

import pytest

from tests.conftest import crime, incident, referral
from tests.sql.conftest import rows

pytestmark = pytest.mark.unit


def test_links_are_read_both_ways_and_counted_once(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", crime_refs="KNT/24/1|KNT/24/9"),  # KNT/24/9 is a typo: no such record
            incident("KNT-2"),
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1"),
            crime("KNT/24/2", incident_ref="KNT-2"),
            crime("KNT/24/3", incident_ref="", referral_ref="R-1"),
        ],
        referrals=[referral("R-1", crime_refs="KNT/24/3")],
    )
    assert rows(connection, "select route, report_ref, crime_ref, link_sources, crime_exists from int_crime_links order by all") == [
        ("CALL", "KNT-1", "KNT/24/1", ["crime->incident", "incident->crime"], True),
        ("CALL", "KNT-1", "KNT/24/9", ["incident->crime"], False),
        ("CALL", "KNT-2", "KNT/24/2", ["crime->incident"], True),
        ("REFERRAL", "R-1", "KNT/24/3", ["crime->referral", "referral->crime"], True),
    ]


def test_candidates_by_opening_closing_qualifier_and_referral(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", opening_code="CR-DAVIOL", closing_code="PSW-DOMESTIC"),  # downgrade
            incident("KNT-2", opening_code="PSW-CONCERN", closing_code="CR-THEFT"),
            incident("KNT-3", opening_code="PSW-CONCERN", closing_code="PSW-CONCERN", qualifiers="INJURY"),
            incident("KNT-4", opening_code="ASB-NUIS", closing_code="ASB-NUIS", qualifiers="DA"),  # not a candidate
            incident("KNT-5", opening_code="CR-VIOL", closing_code="CR-VIOL", victim_count="0"),
            incident("KNT-6", opening_code="CR-FRAUD", closing_code="CR-FRAUD"),  # fraud goes to Action Fraud
        ],
        referrals=[referral("R-1"), referral("R-2", discloses_offence="N")],
    )
    assert rows(connection, "select route, candidate_ref, expected_crimes, is_downgraded from int_candidates order by all") == [
        ("CALL", "KNT-1", 1, True),
        ("CALL", "KNT-2", 1, False),
        ("CALL", "KNT-3", 1, False),
        ("CALL", "KNT-5", 1, False),  # no victim identified still needs one crime
        ("REFERRAL", "R-1", 1, False),
    ]


def test_outcomes_of_each_kind(reconcile_records):
    # Snapshot 2024-06-10 is taken at 2024-06-09 23:00 UTC; the window is 24 hours.
    connection = reconcile_records(
        incidents=[
            incident("KNT-01", created_at="2024-06-01 10:00:00", victim_person_ids="P1"),
            incident("KNT-02", created_at="2024-06-01 10:00:00"),
            incident("KNT-03", created_at="2024-06-01 10:00:00"),
            incident("KNT-04", created_at="2024-06-09 20:00:00"),  # 3 hours before the cut-off
            incident("KNT-05", created_at="2024-06-01 10:00:00", victim_count="3"),
            incident("KNT-06", created_at="2024-06-01 10:00:00"),
            incident("KNT-07", created_at="2024-06-01 10:00:00", opening_code="CR-RAPE"),
            incident("KNT-08", created_at="2024-06-01 10:00:00", opening_code="CR-RAPE"),
            incident("KNT-09", created_at="2024-06-01 10:00:00"),
            incident("KNT-10", created_at="2024-06-01 10:00:00", opening_code="CR-RAPE"),
        ],
        crimes=[
            crime("KNT/24/01", incident_ref="KNT-01", recorded_at="2024-06-02 09:59:00"),
            crime("KNT/24/02", incident_ref="KNT-02", recorded_at="2024-06-03 10:00:00"),
            crime("KNT/24/05", incident_ref="KNT-05", recorded_at="2024-06-01 12:00:00"),
            crime("KNT/24/06", incident_ref="KNT-06", status="CANCELLED", cancellation_code="C1",
                  cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/07", incident_ref="KNT-07", ho_offence_code="19C", status="CANCELLED",
                  cancellation_code="C2", cancellation_authority="FCR", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/08", incident_ref="KNT-08", ho_offence_code="N100"),
            crime("KNT/24/09", incident_ref="KNT-09", status="TRANSFERRED"),
            crime("KNT/24/10", incident_ref="KNT-10", ho_offence_code="19C", status="CANCELLED",
                  cancellation_code="C4", cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00"),
        ],
    )
    assert rows(connection, """
        select candidate_ref, outcome, expected_crimes, recorded_crimes, recorded_within_window,
               removed_crimes, unrecorded_crimes, pending_crimes
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-01", "RECORDED_ON_TIME", 1, 1, 1, 0, 0, 0),
        ("KNT-02", "RECORDED_LATE", 1, 1, 0, 0, 0, 0),
        ("KNT-03", "UNRECORDED", 1, 0, 0, 0, 1, 0),
        ("KNT-04", "PENDING", 1, 0, 0, 0, 0, 1),
        ("KNT-05", "UNDER_COUNTED", 3, 1, 1, 0, 2, 0),  # one crime per victim
        ("KNT-06", "CANCELLED_VALID", 1, 0, 0, 1, 0, 0),
        ("KNT-07", "CANCELLED_QUESTIONABLE", 1, 1, 1, 0, 0, 0),  # C2 on a rape is always questioned
        ("KNT-08", "RECORDED_ON_TIME", 1, 1, 1, 0, 0, 0),  # a rape report closed as N100
        ("KNT-09", "TRANSFERRED", 1, 0, 0, 1, 0, 0),
        ("KNT-10", "CANCELLED_QUESTIONABLE", 1, 1, 1, 0, 0, 0),  # rape cancelled without FCR or DDM
    ]


def test_recorded_group_overrides_the_call_takers_hint(reconcile_records):
    connection = reconcile_records(
        incidents=[incident("KNT-1", opening_code="CR-THEFT", closing_code="CR-THEFT")],
        crimes=[crime("KNT/24/1", incident_ref="KNT-1", ho_offence_code="34B")],
    )
    assert rows(connection, "select candidate_ref, crime_group from int_candidate_outcomes") == [("KNT-1", "ROBBERY")]


def test_repeat_calls_about_the_same_victim_are_probable_duplicates(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-01 10:00:00", victim_person_ids="P1"),
            incident("KNT-2", created_at="2024-06-01 11:00:00", victim_person_ids="P1", closing_code="ADM-DUPL"),
            incident("KNT-3", created_at="2024-06-01 12:00:00", victim_person_ids="P1"),
            incident("KNT-4", created_at="2024-06-03 10:00:00", victim_person_ids="P1"),  # outside 12 hours
            incident("KNT-5", created_at="2024-06-01 10:30:00", victim_person_ids="P1",
                     opening_code="CR-BURGRES", closing_code="CR-BURGRES"),  # another kind of crime
            incident("KNT-6", created_at="2024-06-01 10:45:00", victim_person_ids="P1", crime_refs="KNT/24/6"),
        ],
        crimes=[crime("KNT/24/6", incident_ref="KNT-6")],
    )
    assert rows(connection, "select candidate_ref, duplicate_of from int_duplicate_calls order by all") == [
        ("KNT-2", "KNT-1"),
        ("KNT-3", "KNT-1"),
    ]
    assert rows(connection, """
        select candidate_ref, outcome, removed_crimes, unrecorded_crimes from int_candidate_outcomes
        order by candidate_ref""") == [
        ("KNT-1", "UNRECORDED", 0, 1),
        ("KNT-2", "DUPLICATE", 1, 0),
        ("KNT-3", "DUPLICATE", 1, 0),
        ("KNT-4", "UNRECORDED", 0, 1),
        ("KNT-5", "UNRECORDED", 0, 1),
        ("KNT-6", "RECORDED_ON_TIME", 0, 0),  # has its own crime: never a duplicate
    ]
