"""sql/staging: what incident, crime and referral codes say."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import crime, incident, referral
from tests.sql.conftest import rows

pytestmark = pytest.mark.unit


def test_stg_incidents_reads_codes_qualifiers_and_local_day(reconcile_records):
    connection = reconcile_records(incidents=[
        incident("KNT-1", opening_code="CR-VIOL", closing_code="PSW-DOMESTIC", qualifiers="DA"),
        incident("KNT-2", opening_code="PSW-CONCERN", closing_code="PSW-CONCERN", qualifiers="SEXUAL|VULN"),
        incident("KNT-3", opening_code="ASB-NUIS", closing_code="CR-BURGRES", created_at="2024-06-02 00:30:00"),
        incident("KNT-4", opening_code="CR-RAPE", closing_code=""),
        incident("KNT-5", opening_code="CR-DAMAGE", closing_code=""),  # still open: not a rape report
    ])
    # The day is worked out for candidates (int_candidates: stg_incidents is a view for all incidents).
    assert rows(connection, """
        select incident_ref, candidates.report_day, opening_is_crime, closing_is_crime, has_crime_qualifier,
               stg_incidents.is_domestic_abuse, stg_incidents.has_vulnerable_victim, stg_incidents.is_rape_report,
               stg_incidents.crime_group_hint
        from stg_incidents
        join int_candidates as candidates on candidates.candidate_ref = stg_incidents.incident_ref
        order by incident_ref""") == [
        ("KNT-1", dt.date(2024, 6, 1), True, False, False, True, False, False, "VIOLENCE_AGAINST_THE_PERSON"),
        ("KNT-2", dt.date(2024, 6, 1), False, False, True, False, True, False, "SEXUAL_OFFENCES"),
        # 00:30 BST on 2 June is 23:30 UTC on 1 June: the day is the local one
        ("KNT-3", dt.date(2024, 6, 2), False, True, False, False, False, False, "BURGLARY"),
        ("KNT-4", dt.date(2024, 6, 1), True, False, False, False, False, True, "SEXUAL_OFFENCES"),
        ("KNT-5", dt.date(2024, 6, 1), True, False, False, False, False, False, "CRIMINAL_DAMAGE_AND_ARSON"),
    ]


def test_stg_crimes_classifies_offences_and_who_may_cancel(reconcile_records):
    connection = reconcile_records(crimes=[
        crime("KNT/24/1", ho_offence_code="19C"),
        crime("KNT/24/2", ho_offence_code="5D"),
        crime("KNT/24/3", ho_offence_code="46", flags="DA|HATE"),
        crime("KNT/24/4", ho_offence_code="N100"),
    ])
    assert rows(connection, """
        select crime_ref, crime_group, is_rape, is_n100, needs_senior_cancellation_authority, is_domestic_abuse
        from stg_crimes order by crime_ref""") == [
        ("KNT/24/1", "SEXUAL_OFFENCES", True, False, True, False),
        ("KNT/24/2", "VIOLENCE_AGAINST_THE_PERSON", False, False, True, False),
        ("KNT/24/3", "THEFT", False, False, False, True),
        ("KNT/24/4", "SEXUAL_OFFENCES", False, True, False, False),
    ]


def test_stg_referrals_takes_the_group_from_the_code_or_the_team(reconcile_records):
    connection = reconcile_records(referrals=[
        referral("R-1", disclosed_offence_code="19C", team="SEXUAL_OFFENCES"),
        referral("R-2", disclosed_offence_code="", team="DOMESTIC_ABUSE"),
        referral("R-3", disclosed_offence_code="", team="MISSING_PERSONS", discloses_offence="N"),
    ])
    assert rows(connection, """
        select referral_ref, discloses_offence, is_rape_report, crime_group_hint, is_domestic_abuse
        from stg_referrals order by referral_ref""") == [
        ("R-1", True, True, "SEXUAL_OFFENCES", False),
        ("R-2", True, False, "VIOLENCE_AGAINST_THE_PERSON", True),
        ("R-3", False, False, None, False),
    ]


def test_crime_group_compatibility_is_symmetric_and_reflexive(reconcile_records):
    connection = reconcile_records()
    pairs = set(rows(connection, "select group_a, group_b from stg_crime_group_compatibility"))
    assert ("THEFT", "THEFT") in pairs and ("SEXUAL_OFFENCES", "SEXUAL_OFFENCES") in pairs
    assert ("THEFT", "ROBBERY") in pairs and ("ROBBERY", "THEFT") in pairs
    assert ("VIOLENCE_AGAINST_THE_PERSON", "SEXUAL_OFFENCES") in pairs
    assert ("BURGLARY", "VIOLENCE_AGAINST_THE_PERSON") not in pairs
    assert ("DRUG_OFFENCES", "THEFT") not in pairs
    assert all((b, a) in pairs for a, b in pairs)
