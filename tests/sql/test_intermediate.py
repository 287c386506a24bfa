"""sql/intermediate: links in every direction, candidate crimes, probable links, and what became of each.

Snapshot 2024-06-10 is taken at 2024-06-09 23:00 UTC (local midnight); the recording window is
24 hours, repeat calls are looked for within 12 hours and probable crime links within 24 hours.
"""

from __future__ import annotations

import pytest

from bench.reference_rules_pandas import reconcile_pandas
from bench.reference_rules_polars import reconcile_polars
from pipelines.reconcile import raw_files, sql_parameters
from tests.conftest import FORCE, SNAPSHOT, crime, incident, referral
from tests.sql.conftest import rows

pytestmark = pytest.mark.unit

OUTCOME_COLUMNS = """
    select candidate_ref, outcome, expected_crimes, recorded_crimes, recorded_within_window,
           removed_crimes, unrecorded_crimes, pending_crimes
    from int_candidate_outcomes order by candidate_ref"""


# --- explicit links --------------------------------------------------------------------------
def test_links_are_read_in_all_four_directions_and_counted_once(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", crime_refs="KNT/24/1|KNT/24/9"),  # KNT/24/9 is a typo: no such record
            incident("KNT-2"),  # only the crime states the link (crime -> incident)
            incident("KNT-3", crime_refs="KNT/24/4"),  # only the incident states it (incident -> crime)
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1"),
            crime("KNT/24/2", incident_ref="KNT-2"),
            crime("KNT/24/3", incident_ref="", referral_ref="R-1"),
            crime("KNT/24/4", incident_ref=""),
            crime("KNT/24/5", incident_ref="", referral_ref=""),  # no link at all
        ],
        referrals=[
            referral("R-1", crime_refs="KNT/24/3"),
            referral("R-2", crime_refs="KNT/24/6"),  # referral -> crime only
        ],
    )
    assert rows(connection, "select route, report_ref, crime_ref, link_sources, crime_exists from int_crime_links order by all") == [
        ("CALL", "KNT-1", "KNT/24/1", ["crime->incident", "incident->crime"], True),
        ("CALL", "KNT-1", "KNT/24/9", ["incident->crime"], False),
        ("CALL", "KNT-2", "KNT/24/2", ["crime->incident"], True),
        ("CALL", "KNT-3", "KNT/24/4", ["incident->crime"], True),
        ("REFERRAL", "R-1", "KNT/24/3", ["crime->referral", "referral->crime"], True),
        ("REFERRAL", "R-2", "KNT/24/6", ["referral->crime"], False),
    ]
    assert rows(connection, "select route, candidate_ref, crime_ref, crime_link from int_candidate_crimes order by all") == [
        ("CALL", "KNT-1", "KNT/24/1", "EXPLICIT"),
        ("CALL", "KNT-2", "KNT/24/2", "EXPLICIT"),
        ("CALL", "KNT-3", "KNT/24/4", "EXPLICIT"),
        ("OTHER", "KNT/24/5", "KNT/24/5", "OWN_RECORD"),
        ("REFERRAL", "R-1", "KNT/24/3", "EXPLICIT"),
    ]


# --- candidates ------------------------------------------------------------------------------
def test_candidates_by_opening_closing_qualifier_disclosure_and_linked_record(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", opening_code="CR-DAVIOL", closing_code="PSW-DOMESTIC"),
            incident("KNT-2", opening_code="PSW-CONCERN", closing_code="CR-THEFT"),
            incident("KNT-3", opening_code="PSW-CONCERN", closing_code="PSW-CONCERN", qualifiers="INJURY"),
            incident("KNT-4", opening_code="ASB-NUIS", closing_code="ASB-NUIS", qualifiers="DA"),  # not a candidate
            incident("KNT-5", opening_code="CR-VIOL", closing_code="CR-VIOL", victim_count="0"),
            incident("KNT-6", opening_code="CR-FRAUD", closing_code="CR-FRAUD"),  # fraud goes to Action Fraud
            incident("KNT-7", opening_code="PSW-CONCERN", closing_code="PSW-CONCERN", victim_count="2"),
        ],
        crimes=[crime("KNT/24/7", incident_ref="KNT-7")],  # the force's own record says it was a crime
        referrals=[
            referral("R-1"),
            referral("R-2", discloses_offence="N"),
            referral("R-3", discloses_offence="N", crime_refs="KNT/24/8"),
        ],
    )
    assert rows(connection, """
        select route, candidate_ref, candidate_basis, expected_crimes, is_closed_as_non_crime
        from int_candidates order by all""") == [
        ("CALL", "KNT-1", "OPENING_CODE", 1, True),
        ("CALL", "KNT-2", "CLOSING_CODE", 1, False),
        ("CALL", "KNT-3", "QUALIFIER", 1, False),
        ("CALL", "KNT-5", "OPENING_CODE", 1, False),  # no victim identified still needs one crime
        ("CALL", "KNT-7", "LINKED_CRIME", 2, False),  # one crime per victim
        ("REFERRAL", "R-1", "DISCLOSURE", 1, False),
    ]  # R-3 states a crime reference that matches no record: not a record, not a candidate


# --- outcomes --------------------------------------------------------------------------------
def test_outcomes_of_each_kind(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-01", created_at="2024-06-01 10:00:00", victim_person_ids="P1"),
            incident("KNT-02", created_at="2024-06-01 10:00:00"),
            incident("KNT-03", created_at="2024-06-01 10:00:00"),
            incident("KNT-04", created_at="2024-06-09 20:00:00"),  # 4 hours before the cut-off
            incident("KNT-05", created_at="2024-06-01 10:00:00", victim_count="3"),
            incident("KNT-06", created_at="2024-06-01 10:00:00"),
            incident("KNT-07", created_at="2024-06-01 10:00:00", opening_code="CR-RAPE"),
            incident("KNT-08", created_at="2024-06-01 10:00:00", opening_code="CR-RAPE"),
            incident("KNT-09", created_at="2024-06-01 10:00:00"),
            incident("KNT-10", created_at="2024-06-01 10:00:00", opening_code="CR-RAPE"),
            incident("KNT-11", created_at="2024-06-01 10:00:00", victim_count="2", victim_person_ids="P11|P12"),
        ],
        crimes=[
            crime("KNT/24/01", incident_ref="KNT-01", recorded_at="2024-06-02 09:59:00"),
            crime("KNT/24/02", incident_ref="KNT-02", recorded_at="2024-06-03 10:00:00"),
            crime("KNT/24/05", incident_ref="KNT-05", recorded_at="2024-06-01 12:00:00"),
            crime("KNT/24/06", incident_ref="KNT-06", status="CANCELLED", cancellation_code="C4",
                  cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/07", incident_ref="KNT-07", ho_offence_code="19C", status="CANCELLED",
                  cancellation_code="C2", cancellation_authority="FCR", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/08", incident_ref="KNT-08", ho_offence_code="N100"),
            crime("KNT/24/09", incident_ref="KNT-09", status="TRANSFERRED", cancellation_code="C1",
                  cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/10", incident_ref="KNT-10", ho_offence_code="19C", status="CANCELLED",
                  cancellation_code="C4", cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00"),
            # two victims, one recorded on time and one two days late
            crime("KNT/24/11", incident_ref="KNT-11", victim_person_id="P11", recorded_at="2024-06-01 11:00:00"),
            crime("KNT/24/12", incident_ref="KNT-11", victim_person_id="P12", recorded_at="2024-06-03 11:00:00"),
        ],
    )
    assert rows(connection, OUTCOME_COLUMNS) == [
        ("KNT-01", "RECORDED_ON_TIME", 1, 1, 1, 0, 0, 0),
        ("KNT-02", "RECORDED_LATE", 1, 1, 0, 0, 0, 0),
        ("KNT-03", "UNRECORDED", 1, 0, 0, 0, 1, 0),
        ("KNT-04", "PENDING", 1, 0, 0, 0, 0, 1),
        ("KNT-05", "UNDER_COUNTED", 3, 1, 1, 0, 2, 0),  # one crime per victim
        ("KNT-06", "CANCELLED_VALID", 1, 0, 0, 1, 0, 0),  # C4 by a supervisor: not rape or serious violence
        # C2 on a rape is always questioned: the cancellation does not stand, and nor does the record
        ("KNT-07", "CANCELLED_QUESTIONABLE", 1, 0, 0, 0, 1, 0),
        ("KNT-08", "N100", 1, 0, 0, 1, 0, 0),  # a reported rape found not to be a crime: out of the count
        ("KNT-09", "TRANSFERRED", 1, 0, 0, 1, 0, 0),
        ("KNT-10", "CANCELLED_QUESTIONABLE", 1, 0, 0, 0, 1, 0),  # rape cancelled without FCR or DDM
        ("KNT-11", "RECORDED_LATE", 2, 2, 1, 0, 0, 0),  # the second victim's crime was late
    ]


def test_cancellation_authority_follows_the_cancellation_codes_table(reconcile_records):
    def cancelled(ref, offence, code, authority):
        return crime(ref, incident_ref="", ho_offence_code=offence, status="CANCELLED", cancellation_code=code,
                     cancellation_authority=authority, cancelled_at="2024-06-02 10:00:00")

    connection = reconcile_records(crimes=[
        # the victim's live record, the one each C3 below says it duplicates
        crime("KNT/24/0", incident_ref="", ho_offence_code="5D"),
        cancelled("KNT/24/1", "5D", "C2", "DDM"),  # serious violence, C2: only the FCR may
        cancelled("KNT/24/2", "5D", "C2", "FCR"),
        cancelled("KNT/24/3", "5D", "C3", "DDM"),  # C3 needs a DDM or the FCR
        cancelled("KNT/24/4", "5D", "C4", "SUPERVISOR"),
        cancelled("KNT/24/5", "19C", "C3", "DDM"),
        cancelled("KNT/24/6", "19C", "C2", "FCR"),  # C2 on a rape: always questioned
        cancelled("KNT/24/7", "8N", "C2", "OFFICER"),  # common assault: no senior authority needed
        # a transfer with no code is not documented (a cancellation with none never reaches the lake:
        # extraction quarantines it, as the contract requires a code)
        crime("KNT/24/8", incident_ref="", status="TRANSFERRED", cancelled_at="2024-06-02 10:00:00"),
        crime("KNT/24/9", incident_ref="", ho_offence_code="19C", status="TRANSFERRED", cancellation_code="C1",
              cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00"),
        cancelled("KNT/24/90", "5D", "C3", ""),  # no authority recorded is not the right one
    ])
    # Why each questioned cancellation does not stand, in the words the worklist gives the registrar.
    assert rows(connection, """
        select crime_ref, is_questionable_cancellation, cancellation_issue from stg_crimes order by crime_ref""") == [
        ("KNT/24/0", False, None),
        ("KNT/24/1", True, "C2 by DDM, needs the FCR"),
        ("KNT/24/2", False, None),
        ("KNT/24/3", False, None),
        ("KNT/24/4", True, "C4 by SUPERVISOR, needs a DDM or the FCR"),
        ("KNT/24/5", False, None),
        ("KNT/24/6", True, "C2 on a rape"),
        ("KNT/24/7", False, None),
        ("KNT/24/8", True, "no cancellation code"),
        ("KNT/24/9", True, "C1 by SUPERVISOR, needs a DDM or the FCR"),
        ("KNT/24/90", True, "C3 with no authority recorded"),
    ]


def test_a_c3_stands_only_while_its_victim_has_another_record(reconcile_records, settings):
    def duplicate(ref, incident_ref, person, reported_at="2024-06-01 10:00:00"):  # C3 by a supervisor: enough for common assault
        return crime(ref, incident_ref=incident_ref, victim_person_id=person, status="CANCELLED", reported_at=reported_at,
                     cancellation_code="C3", cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00")

    connection = reconcile_records(
        incidents=[
            incident("KNT-1", victim_person_ids="P1"),  # its only record cancelled as a duplicate of nothing
            incident("KNT-2", victim_person_ids="P2"),  # a live record and its duplicate: recorded
            incident("KNT-3", victim_person_ids="P3"),  # the victim's crime, recorded on this call...
            # ...and a second call about it, whose own record was cancelled C3: the crime is on KNT-3
            incident("KNT-4", created_at="2024-06-01 11:00:00", victim_person_ids="P3"),
            incident("KNT-5", victim_person_ids=""),  # a C3 on a record naming no one cannot be checked
            # reported in the window's first week (it starts 2024-04-10 23:00 UTC): the original may
            # be older than the snapshot, so the C3 stands
            incident("KNT-6", created_at="2024-04-13 10:00:00", victim_person_ids="P6"),
            # the original was transferred to another force: the duplicate's crime is dealt with
            incident("KNT-7", victim_person_ids="P7"),
            incident("KNT-8", created_at="2024-06-01 11:00:00", victim_person_ids="P7"),
        ],
        crimes=[
            duplicate("KNT/24/1", "KNT-1", "P1"),
            crime("KNT/24/2", incident_ref="KNT-2", victim_person_id="P2"),
            duplicate("KNT/24/3", "KNT-2", "P2"),
            crime("KNT/24/4", incident_ref="KNT-3", victim_person_id="P3"),
            duplicate("KNT/24/5", "KNT-4", "P3"),
            duplicate("KNT/24/6", "KNT-5", ""),
            duplicate("KNT/24/7", "KNT-6", "P6", reported_at="2024-04-13 10:00:00"),
            crime("KNT/24/8", incident_ref="KNT-7", victim_person_id="P7", status="TRANSFERRED", cancellation_code="C1",
                  cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
            duplicate("KNT/24/9", "KNT-8", "P7"),
            # the cut, with no report (route OTHER): the window starts 2024-04-11 00:00 local, so a C3
            # is judged from 2024-04-18 00:00 local on, and not a second before
            duplicate("KNT/24/10", "", "P10", reported_at="2024-04-18 00:00:00"),
            duplicate("KNT/24/11", "", "P11", reported_at="2024-04-17 23:59:59"),
        ],
    )
    assert rows(connection, "select crime_ref, cancellation_issue from stg_crimes order by crime_ref") == [
        ("KNT/24/1", "C3 but the victim has no other record"),
        ("KNT/24/10", "C3 but the victim has no other record"),
        ("KNT/24/11", None),
        ("KNT/24/2", None),
        ("KNT/24/3", None),
        ("KNT/24/4", None),
        ("KNT/24/5", None),
        ("KNT/24/6", None),
        ("KNT/24/7", None),
        ("KNT/24/8", None),
        ("KNT/24/9", None),
    ]
    assert rows(connection, """
        select candidate_ref, outcome, recorded_crimes, removed_crimes, unrecorded_crimes, questionably_cancelled_crimes
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", "CANCELLED_QUESTIONABLE", 0, 0, 1, 1),
        ("KNT-2", "RECORDED_ON_TIME", 1, 0, 0, 0),
        ("KNT-3", "RECORDED_ON_TIME", 1, 0, 0, 0),
        ("KNT-4", "CANCELLED_VALID", 0, 1, 0, 0),
        ("KNT-5", "CANCELLED_VALID", 0, 1, 0, 0),
        ("KNT-6", "CANCELLED_VALID", 0, 1, 0, 0),
        ("KNT-7", "TRANSFERRED", 0, 1, 0, 0),
        ("KNT-8", "CANCELLED_VALID", 0, 1, 0, 0),
        ("KNT/24/10", "CANCELLED_QUESTIONABLE", 0, 0, 1, 1),
        ("KNT/24/11", "CANCELLED_VALID", 0, 1, 0, 0),
    ]
    assert rows(connection, "select candidate_ref, reason_codes, cancellation_issues from worklist order by candidate_ref") == [
        ("KNT-1", "UNRECORDED|CANCELLED_QUESTIONABLE", "KNT/24/1: C3 but the victim has no other record"),
        ("KNT/24/10", "UNRECORDED|CANCELLED_QUESTIONABLE", "KNT/24/10: C3 but the victim has no other record"),
    ]
    # The pandas and polars implementations of the core rules (the differential tests) agree here too.
    compared = ["candidate_ref", "outcome", "removed_crimes", "unrecorded_crimes", "questionably_cancelled_crimes"]
    outcomes = rows(connection, f"select {', '.join(compared)} from int_candidate_outcomes order by candidate_ref")
    raw, parameters = raw_files(settings.lake_dir, FORCE, SNAPSHOT), sql_parameters(settings, SNAPSHOT)
    by_pandas = reconcile_pandas(raw, parameters)["candidate_outcomes"].sort_values("candidate_ref")
    by_polars = reconcile_polars(raw, parameters)["candidate_outcomes"].sort("candidate_ref")
    assert [tuple(row) for row in by_pandas[compared].itertuples(index=False)] == outcomes
    assert by_polars.select(compared).rows() == outcomes


def test_one_crime_per_victim_counts_victims_not_records(reconcile_records):
    connection = reconcile_records(
        incidents=[
            # two victims, two live records for the same one: the other victim is still owed a crime
            incident("KNT-1", victim_count="2", victim_person_ids="P1|P2"),
            # two victims, one recorded, the other's record transferred out of the force
            incident("KNT-2", victim_count="2", victim_person_ids="P3|P4"),
            # three victims, records naming no victim count one each
            incident("KNT-3", victim_count="3", victim_person_ids=""),
            # two victims, one record validly cancelled, nothing for the other: still one crime owed
            incident("KNT-4", victim_count="2", victim_person_ids="P5|P6"),
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1", victim_person_id="P1"),
            crime("KNT/24/2", incident_ref="KNT-1", victim_person_id="P1"),
            crime("KNT/24/3", incident_ref="KNT-2", victim_person_id="P3"),
            crime("KNT/24/4", incident_ref="KNT-2", victim_person_id="P4", status="TRANSFERRED", cancellation_code="C1",
                  cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/5", incident_ref="KNT-3", victim_person_id=""),
            crime("KNT/24/6", incident_ref="KNT-3", victim_person_id=""),
            crime("KNT/24/7", incident_ref="KNT-3", victim_person_id=""),
            crime("KNT/24/8", incident_ref="KNT-4", victim_person_id="P5", status="CANCELLED", cancellation_code="C4",
                  cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00"),
        ],
    )
    assert rows(connection, """
        select candidate_ref, outcome, expected_crimes, recorded_crimes, removed_crimes, unrecorded_crimes,
               extra_live_records, linked_crime_refs
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", "UNDER_COUNTED", 2, 1, 0, 1, 1, ["KNT/24/1", "KNT/24/2"]),
        ("KNT-2", "RECORDED_ON_TIME", 2, 1, 1, 0, 0, ["KNT/24/3", "KNT/24/4"]),
        ("KNT-3", "RECORDED_ON_TIME", 3, 3, 0, 0, 0, ["KNT/24/5", "KNT/24/6", "KNT/24/7"]),
        ("KNT-4", "UNDER_COUNTED", 2, 0, 1, 1, 0, ["KNT/24/8"]),
    ]
    # Every report still owed a crime reaches the worklist, whatever else happened to it.
    assert rows(connection, "select candidate_ref, reason_codes from worklist order by candidate_ref") == [
        ("KNT-1", "UNDER_COUNTED"),
        ("KNT-4", "UNDER_COUNTED"),
    ]


def test_rape_reports_end_as_recorded_rape_n100_or_transfer(reconcile_records):
    rape_call = dict(opening_code="CR-RAPE", closing_code="CR-RAPE")
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", **rape_call),
            incident("KNT-2", **rape_call),
            incident("KNT-3", **rape_call),
            incident("KNT-4", **rape_call),  # recorded as a sexual assault, no N100: unresolved
            incident("KNT-5", **rape_call),  # nothing recorded
            incident("KNT-6", **rape_call, created_at="2024-06-09 20:00:00"),  # still in its 24 hours
            incident("KNT-7", opening_code="CR-VIOL", closing_code="CR-VIOL"),  # not a rape report
            incident("KNT-8", **rape_call),  # cancelled C3 with a DDM: valid, but not how a rape report ends
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1", ho_offence_code="19C"),
            crime("KNT/24/2", incident_ref="KNT-2", ho_offence_code="N100"),
            crime("KNT/24/3", incident_ref="KNT-3", ho_offence_code="19C", status="TRANSFERRED",
                  cancellation_code="C1", cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/4", incident_ref="KNT-4", ho_offence_code="20A"),
            crime("KNT/24/8", incident_ref="KNT-8", ho_offence_code="19C", status="CANCELLED",
                  cancellation_code="C3", cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
        ],
    )
    assert rows(connection, """
        select candidate_ref, is_rape_report, rape_resolution, outcome
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", True, "RECORDED_RAPE", "RECORDED_ON_TIME"),
        ("KNT-2", True, "N100", "N100"),
        ("KNT-3", True, "TRANSFERRED", "TRANSFERRED"),
        ("KNT-4", True, "UNRESOLVED", "RECORDED_ON_TIME"),
        ("KNT-5", True, "UNRESOLVED", "UNRECORDED"),
        ("KNT-6", True, "PENDING", "PENDING"),
        ("KNT-7", False, None, "UNRECORDED"),
        ("KNT-8", True, "UNRESOLVED", "CANCELLED_VALID"),
    ]


def test_a_transfer_is_status_transferred_or_cancelled_c1_and_an_n100_ends_a_rape_report_only(reconcile_records):
    rape_call = dict(opening_code="CR-RAPE", closing_code="CR-RAPE")
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", **rape_call),  # cancelled C1 by a DDM: a documented transfer
            # an N100 on a report that was not of a rape: the classification does not end it
            incident("KNT-2", opening_code="CR-SEXUAL", closing_code="CR-SEXUAL"),
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1", ho_offence_code="19C", status="CANCELLED", cancellation_code="C1",
                  cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/2", incident_ref="KNT-2", ho_offence_code="N100"),
        ],
    )
    assert rows(connection, """
        select candidate_ref, rape_resolution, outcome, expected_crimes, recorded_crimes, removed_crimes,
               unrecorded_crimes
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", "TRANSFERRED", "TRANSFERRED", 1, 0, 1, 0),
        ("KNT-2", None, "UNRECORDED", 1, 0, 0, 1),
    ]


def test_records_naming_more_victims_than_the_call_are_more_crimes(reconcile_records):
    connection = reconcile_records(
        incidents=[incident("KNT-1", victim_count="1", victim_person_ids="P1")],
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1", victim_person_id="P1"),
            crime("KNT/24/2", incident_ref="KNT-1", victim_person_id="P2"),
            crime("KNT/24/3", incident_ref="KNT-1", victim_person_id="P3", status="CANCELLED", cancellation_code="C1",
                  cancellation_authority="OFFICER", cancelled_at="2024-06-02 10:00:00"),
        ],
    )
    assert rows(connection, """
        select candidate_ref, outcome, expected_crimes, recorded_crimes, removed_crimes, unrecorded_crimes
        from int_candidate_outcomes""") == [("KNT-1", "RECORDED_ON_TIME", 3, 2, 1, 0)]


def test_the_people_the_records_name_are_the_victims_counted(reconcile_records):
    connection = reconcile_records(
        incidents=[
            # P2's record was cancelled without the authority a 5D needs: P2 is still owed a crime
            incident("KNT-1", victim_count="1", victim_person_ids="P1"),
            # a duplicate record naming nobody, validly cancelled C3: no second victim
            incident("KNT-2", victim_count="1", victim_person_ids=""),
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="KNT-1", victim_person_id="P1"),
            crime("KNT/24/2", incident_ref="KNT-1", victim_person_id="P2", ho_offence_code="5D", status="CANCELLED",
                  cancellation_code="C4", cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00"),
            crime("KNT/24/3", incident_ref="KNT-2", victim_person_id=""),
            crime("KNT/24/4", incident_ref="KNT-2", victim_person_id="", status="CANCELLED", cancellation_code="C3",
                  cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
        ],
    )
    assert rows(connection, """
        select candidate_ref, outcome, expected_crimes, recorded_crimes, removed_crimes, unrecorded_crimes
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", "CANCELLED_QUESTIONABLE", 2, 1, 0, 1),
        ("KNT-2", "RECORDED_ON_TIME", 1, 1, 0, 0),
    ]


def test_a_repeat_owes_only_the_victims_no_earlier_call_named_and_its_own_rape_report(reconcile_records):
    rape_call = dict(opening_code="CR-RAPE", closing_code="CR-RAPE")
    connection = reconcile_records(incidents=[
        incident("KNT-1", created_at="2024-06-01 10:00:00", victim_person_ids="P1"),
        incident("KNT-2", created_at="2024-06-01 11:00:00", victim_person_ids="P2"),
        incident("KNT-3", created_at="2024-06-01 12:00:00", victim_count="2", victim_person_ids="P1|P2"),
        # a rape call repeating a rape report for P3, naming P4 as well; and the same, still in its 24 hours
        incident("KNT-4", created_at="2024-06-01 10:00:00", victim_person_ids="P3", **rape_call),
        incident("KNT-5", created_at="2024-06-01 11:00:00", victim_count="2", victim_person_ids="P3|P4", **rape_call),
        incident("KNT-6", created_at="2024-06-09 19:00:00", victim_person_ids="P5"),
        incident("KNT-7", created_at="2024-06-09 20:00:00", victim_count="2", victim_person_ids="P5|P6"),
    ])
    assert rows(connection, """
        select candidate_ref, outcome, expected_crimes, removed_crimes, unrecorded_crimes, pending_crimes,
               rape_resolution
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", "UNRECORDED", 1, 0, 1, 0, None),
        ("KNT-2", "UNRECORDED", 1, 0, 1, 0, None),
        ("KNT-3", "DUPLICATE", 2, 2, 0, 0, None),  # P1 and P2 are owed on KNT-1 and KNT-2, once each
        ("KNT-4", "UNRECORDED", 1, 0, 1, 0, "UNRESOLVED"),
        ("KNT-5", "UNDER_COUNTED", 2, 1, 1, 0, "UNRESOLVED"),  # P4's reported rape answers to the rape rule
        ("KNT-6", "PENDING", 1, 0, 0, 1, None),
        ("KNT-7", "PENDING", 2, 1, 0, 1, None),  # P6's crime is still in its 24 hours
    ]


def test_a_domestic_violence_code_flags_domestic_abuse_without_the_qualifier(reconcile_records):
    connection = reconcile_records(incidents=[
        incident("KNT-1", opening_code="CR-DAVIOL", closing_code="CR-DAVIOL"),
        incident("KNT-2", opening_code="CR-VIOL", closing_code="CR-DAVIOL"),
        incident("KNT-3", opening_code="CR-VIOL", closing_code="CR-VIOL", qualifiers="DA"),
        incident("KNT-4", opening_code="CR-VIOL", closing_code="CR-VIOL"),
    ])
    assert rows(connection, "select candidate_ref, is_domestic_abuse from int_candidate_outcomes order by all") == [
        ("KNT-1", True), ("KNT-2", True), ("KNT-3", True), ("KNT-4", False),
    ]
    assert rows(connection, "select incident_ref, is_domestic_abuse from stg_incidents order by all") == [
        ("KNT-1", True), ("KNT-2", True), ("KNT-3", True), ("KNT-4", False),
    ]


def test_a_crime_with_no_report_answers_to_the_cancellation_rule_not_the_rape_report_rule(reconcile_records):
    connection = reconcile_records(crimes=[
        crime("KNT/24/1", incident_ref="", ho_offence_code="19C", victim_person_id="P9"),
        # the same rape recorded twice: the duplicate validly cancelled C3 by a DDM
        crime("KNT/24/2", incident_ref="", ho_offence_code="19C", victim_person_id="P9", status="CANCELLED",
              cancellation_code="C3", cancellation_authority="DDM", cancelled_at="2024-06-02 10:00:00"),
    ])
    assert rows(connection, """
        select candidate_ref, is_rape_report, rape_resolution, outcome from int_candidate_outcomes order by all""") == [
        ("KNT/24/1", True, None, "RECORDED_ON_TIME"),
        ("KNT/24/2", True, None, "CANCELLED_VALID"),
    ]
    assert rows(connection, "select candidate_ref from worklist") == []


def test_a_downgrade_is_a_crime_coded_call_closed_as_non_crime_with_no_crime_linked(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", opening_code="CR-VIOL", closing_code="PSW-CONCERN"),
            incident("KNT-2", opening_code="CR-VIOL", closing_code="PSW-CONCERN"),  # but a crime was recorded
            incident("KNT-3", opening_code="CR-VIOL", closing_code=""),  # still open: not closed as anything
            incident("KNT-4", opening_code="PSW-DOMESTIC", closing_code="PSW-DOMESTIC", qualifiers="DA|INJURY"),
        ],
        crimes=[crime("KNT/24/2", incident_ref="KNT-2")],
    )
    assert rows(connection, """
        select candidate_ref, is_closed_as_non_crime, is_downgraded, outcome
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", True, True, "UNRECORDED"),
        ("KNT-2", True, False, "RECORDED_ON_TIME"),
        ("KNT-3", False, False, "UNRECORDED"),
        ("KNT-4", False, False, "UNRECORDED"),  # opened as a non-crime: unrecorded, not a downgrade
    ]


def test_recorded_group_overrides_the_call_takers_hint(reconcile_records):
    connection = reconcile_records(
        incidents=[incident("KNT-1", opening_code="CR-THEFT", closing_code="CR-THEFT")],
        crimes=[crime("KNT/24/1", incident_ref="KNT-1", ho_offence_code="34B")],
    )
    assert rows(connection, "select candidate_ref, crime_group from int_candidate_outcomes") == [("KNT-1", "ROBBERY")]


# --- probable links --------------------------------------------------------------------------
def test_repeat_calls_about_the_same_victim_are_probable_duplicates(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-01 10:00:00", victim_person_ids="P1"),
            incident("KNT-2", created_at="2024-06-01 11:00:00", victim_person_ids="P1", closing_code="ADM-DUPL"),
            incident("KNT-3", created_at="2024-06-01 12:00:00", victim_person_ids="P1"),
            incident("KNT-4", created_at="2024-06-03 10:00:00", victim_person_ids="P1"),  # outside 12 hours
            incident("KNT-5", created_at="2024-06-01 10:30:00", victim_person_ids="P1",
                     opening_code="CR-BURGRES", closing_code="CR-BURGRES"),  # burglary is not compatible with violence
            incident("KNT-6", created_at="2024-06-01 10:45:00", victim_person_ids="P1", crime_refs="KNT/24/6"),
            incident("KNT-7", created_at="2024-06-01 10:50:00", victim_person_ids="P1",
                     opening_code="CR-ROBBERY", closing_code="CR-ROBBERY"),  # robbery is compatible with violence
        ],
        crimes=[crime("KNT/24/6", incident_ref="KNT-6")],
    )
    # Only an earlier call is an original: KNT-1 stays owed though a crime was recorded on the later
    # KNT-6 (the registrar finds it there; taking KNT-1 as its repeat could hide a lost crime).
    assert rows(connection, "select candidate_ref, duplicate_of from int_duplicate_calls order by all") == [
        ("KNT-2", "KNT-1"),
        ("KNT-3", "KNT-1"),
        ("KNT-7", "KNT-1"),
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
        ("KNT-7", "DUPLICATE", 1, 0),
    ]


def test_a_repeat_call_naming_more_victims_still_owes_their_crimes(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-01 10:00:00", victim_person_ids="P1", crime_refs="KNT/24/1"),
            incident("KNT-2", created_at="2024-06-01 11:00:00", victim_count="3", victim_person_ids="P1|P2|P3"),
            # two calls with no crime about P4: the later repeats the earlier, which stays owed
            incident("KNT-3", created_at="2024-06-01 10:00:00", victim_person_ids="P4"),
            incident("KNT-4", created_at="2024-06-01 12:00:00", victim_person_ids="P4"),
        ],
        crimes=[crime("KNT/24/1", incident_ref="KNT-1", victim_person_id="P1")],
    )
    assert rows(connection, """
        select candidate_ref, duplicate_of, victims_not_named_before from int_duplicate_calls order by all""") == [
        ("KNT-2", "KNT-1", 2),
        ("KNT-4", "KNT-3", 0),
    ]
    assert rows(connection, """
        select candidate_ref, outcome, expected_crimes, removed_crimes, unrecorded_crimes
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", "RECORDED_ON_TIME", 1, 0, 0),
        ("KNT-2", "UNDER_COUNTED", 3, 1, 2),  # P1's crime is on KNT-1; P2's and P3's are owed here
        ("KNT-3", "UNRECORDED", 1, 0, 1),
        ("KNT-4", "DUPLICATE", 1, 1, 0),
    ]


def test_a_rape_report_is_a_repeat_only_of_an_earlier_rape_report(reconcile_records):
    rape_call = dict(opening_code="CR-RAPE", closing_code="CR-RAPE")
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-01 10:00:00", victim_person_ids="P1"),
            incident("KNT-2", created_at="2024-06-01 16:00:00", victim_person_ids="P1", **rape_call),
            incident("KNT-3", created_at="2024-06-01 17:00:00", victim_person_ids="P1", **rape_call),
        ],
        crimes=[crime("KNT/24/1", incident_ref="KNT-1")],
    )
    # The rape report after an assault call is a report of its own; a second rape call repeats it.
    assert rows(connection, "select candidate_ref, duplicate_of from int_duplicate_calls order by all") == [
        ("KNT-3", "KNT-2"),
    ]
    assert rows(connection, """
        select candidate_ref, outcome, rape_resolution from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT-1", "RECORDED_ON_TIME", None),
        ("KNT-2", "UNRECORDED", "UNRESOLVED"),
        ("KNT-3", "DUPLICATE", None),
    ]


def test_probable_crime_links_need_same_victim_close_time_and_compatible_group(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-01 10:00:00", victim_person_ids="P1"),
            incident("KNT-2", created_at="2024-06-01 10:00:00", victim_person_ids="P2"),
            incident("KNT-3", created_at="2024-06-01 10:00:00", victim_person_ids="P3"),
            incident("KNT-4", created_at="2024-06-01 10:00:00", victim_person_ids="P4",
                     opening_code="CR-THEFT", closing_code="CR-THEFT"),
            incident("KNT-5", created_at="2024-06-01 10:00:00", victim_person_ids="P5", crime_refs="KNT/24/5"),
        ],
        crimes=[
            crime("KNT/24/1", incident_ref="", victim_person_id="P1", reported_at="2024-06-01 12:00:00"),
            crime("KNT/24/2", incident_ref="", victim_person_id="P2", reported_at="2024-06-02 10:00:01",
                  recorded_at="2024-06-02 14:00:00"),  # 24 h + 1 s
            crime("KNT/24/3", incident_ref="", victim_person_id="P9", reported_at="2024-06-01 10:00:00"),  # someone else
            crime("KNT/24/4", incident_ref="", victim_person_id="P4", ho_offence_code="28E",
                  reported_at="2024-06-01 10:00:00"),  # burglary for a theft call: compatible
            crime("KNT/24/5", incident_ref="", victim_person_id="P5"),  # stated on KNT-5's log: explicit
            crime("KNT/24/6", incident_ref="", victim_person_id="P5", reported_at="2024-06-01 11:00:00"),
        ],
    )
    assert rows(connection, """
        select route, report_ref, crime_ref, hours_apart, report_group, crime_group
        from int_probable_crime_links order by all""") == [
        ("CALL", "KNT-1", "KNT/24/1", 2.0, "VIOLENCE_AGAINST_THE_PERSON", "VIOLENCE_AGAINST_THE_PERSON"),
        ("CALL", "KNT-4", "KNT/24/4", 0.0, "THEFT", "BURGLARY"),
    ]  # KNT-5 already has its own crime: KNT/24/6 stays a crime of route OTHER
    assert rows(connection, """
        select candidate_ref, route, crime_link, outcome, linked_crime_refs, probable_crime_refs, crime_group
        from int_candidate_outcomes order by route, candidate_ref""") == [
        ("KNT-1", "CALL", "PROBABLE", "RECORDED_ON_TIME", [], ["KNT/24/1"], "VIOLENCE_AGAINST_THE_PERSON"),
        ("KNT-2", "CALL", "NONE", "UNRECORDED", [], [], "VIOLENCE_AGAINST_THE_PERSON"),
        ("KNT-3", "CALL", "NONE", "UNRECORDED", [], [], "VIOLENCE_AGAINST_THE_PERSON"),
        ("KNT-4", "CALL", "PROBABLE", "RECORDED_ON_TIME", [], ["KNT/24/4"], "BURGLARY"),
        ("KNT-5", "CALL", "EXPLICIT", "RECORDED_ON_TIME", ["KNT/24/5"], [], "VIOLENCE_AGAINST_THE_PERSON"),
        ("KNT/24/2", "OTHER", "OWN_RECORD", "RECORDED_ON_TIME", [], [], "VIOLENCE_AGAINST_THE_PERSON"),
        ("KNT/24/3", "OTHER", "OWN_RECORD", "RECORDED_ON_TIME", [], [], "VIOLENCE_AGAINST_THE_PERSON"),
        ("KNT/24/6", "OTHER", "OWN_RECORD", "RECORDED_ON_TIME", [], [], "VIOLENCE_AGAINST_THE_PERSON"),
    ]


def test_a_probable_crime_goes_to_the_nearest_report_and_never_to_a_repeat_call(reconcile_records):
    connection = reconcile_records(
        incidents=[
            incident("KNT-1", created_at="2024-06-01 08:00:00", victim_person_ids="P1"),
            incident("KNT-2", created_at="2024-06-01 09:00:00", victim_person_ids="P1"),  # repeat call of KNT-1
            incident("KNT-3", created_at="2024-06-01 22:00:00", victim_person_ids="P1"),  # 14 h later: a new report
        ],
        crimes=[crime("KNT/24/1", incident_ref="", victim_person_id="P1", reported_at="2024-06-01 20:00:00",
                      recorded_at="2024-06-01 22:00:00")],
        referrals=[referral("R-1", received_at="2024-06-01 20:30:00", victim_person_id="P1",
                            disclosed_offence_code="8N", team="DOMESTIC_ABUSE")],
    )
    assert rows(connection, "select route, report_ref, crime_ref from int_probable_crime_links") == [
        ("REFERRAL", "R-1", "KNT/24/1"),  # 30 minutes beats 2 hours (KNT-3) and 12 hours (KNT-1)
    ]
    assert rows(connection, "select candidate_ref, outcome, crime_link from int_candidate_outcomes order by all") == [
        ("KNT-1", "UNRECORDED", "NONE"),
        ("KNT-2", "DUPLICATE", "NONE"),
        ("KNT-3", "UNRECORDED", "NONE"),
        ("R-1", "RECORDED_ON_TIME", "PROBABLE"),
    ]


# --- route OTHER -----------------------------------------------------------------------------
def test_crimes_with_no_report_are_route_other_and_recorded_by_definition(reconcile_records):
    connection = reconcile_records(crimes=[
        crime("KNT/24/1", incident_ref="", reported_at="2024-06-01 10:00:00", recorded_at="2024-06-01 12:00:00",
              flags="DA"),
        crime("KNT/24/2", incident_ref="", reported_at="2024-06-01 10:00:00", recorded_at="2024-06-03 12:00:00",
              ho_offence_code="46", beat_code="B07"),
        crime("KNT/24/3", incident_ref="", ho_offence_code="5D", status="CANCELLED", cancellation_code="C2",
              cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00"),
        crime("KNT/24/4", incident_ref="", status="CANCELLED", cancellation_code="C3",
              cancellation_authority="SUPERVISOR", cancelled_at="2024-06-02 10:00:00"),
        crime("KNT/24/5", incident_ref="", ho_offence_code="N100"),  # a classification, not a crime
    ])
    assert rows(connection, """
        select candidate_ref, route, candidate_basis, crime_group, is_domestic_abuse, beat_code, outcome,
               recorded_crimes, recorded_within_window, removed_crimes, unrecorded_crimes
        from int_candidate_outcomes order by candidate_ref""") == [
        ("KNT/24/1", "OTHER", "OWN_RECORD", "VIOLENCE_AGAINST_THE_PERSON", True, "B01", "RECORDED_ON_TIME", 1, 1, 0, 0),
        ("KNT/24/2", "OTHER", "OWN_RECORD", "THEFT", False, "B07", "RECORDED_LATE", 1, 0, 0, 0),
        # a cancellation that does not stand leaves no crime standing: unrecorded
        ("KNT/24/3", "OTHER", "OWN_RECORD", "VIOLENCE_AGAINST_THE_PERSON", False, "B01", "CANCELLED_QUESTIONABLE",
         0, 0, 0, 1),
        ("KNT/24/4", "OTHER", "OWN_RECORD", "VIOLENCE_AGAINST_THE_PERSON", False, "B01", "CANCELLED_VALID",
         0, 0, 1, 0),
    ]
