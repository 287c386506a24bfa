-- Reports that should have become crime records (candidate crimes), one row per report.
-- Rule 1: an incident with a crime-indicative opening code, closing code or qualifier.
-- Rule 5: a referral whose team assessed that it discloses an offence.
-- A report that led to a crime record is a candidate too, whatever its codes say (the record is
--   the force's own word that an offence was reported); candidate_basis says why each is one.
-- Rule 3: one crime per victim, so a report expects max(victims, 1) crime records; a referral
--   expects one (it names one victim).
-- Crimes that reached the crime system with no incident and no referral (route OTHER) are
-- candidates too, added in int_other_route_candidates once no report has claimed them.
with

-- has_linked_crime: an existing crime record is explicitly linked to the report (either side
-- stated it); later files read it instead of matching references again.
calls_with_a_crime as (
    select distinct report_ref from int_crime_links where route = 'CALL' and crime_exists
),

referrals_with_a_crime as (
    select distinct report_ref from int_crime_links where route = 'REFERRAL' and crime_exists
),

-- Only what choosing and describing a candidate needs: the attributes of macros/incident_flags.sql
-- are worked out below for the candidates alone, not for every call in the snapshot.
incidents as (
    select
        stg_incidents.incident_row, stg_incidents.incident_ref, stg_incidents.created_at,
        stg_incidents.opening_code, stg_incidents.closing_code, stg_incidents.qualifiers,
        stg_incidents.victim_count, stg_incidents.victim_person_keys, stg_incidents.beat_code,
        stg_incidents.opening_is_crime, stg_incidents.closing_is_crime, stg_incidents.has_crime_qualifier,
        stg_incidents.is_closed_as_non_crime, stg_incidents.opening_group_hint, stg_incidents.closing_group_hint,
        linked.report_ref is not null as has_linked_crime,
    from stg_incidents
    left join calls_with_a_crime as linked on linked.report_ref = stg_incidents.incident_ref
),

referrals as (
    select stg_referrals.*, linked.report_ref is not null as has_linked_crime,
    from stg_referrals
    left join referrals_with_a_crime as linked on linked.report_ref = stg_referrals.referral_ref
),

incident_candidates as (
    select
        -- A number for joining within this run only (references are long strings).
        incident_row as candidate_id,
        incident_ref as candidate_ref,
        'CALL' as route,
        created_at as reported_at,
        cast(timezone($time_zone, created_at) as date) as report_day,
        greatest(victim_count, 1) as expected_crimes,
        incident_crime_group_hint(opening_is_crime, opening_group_hint, closing_is_crime, closing_group_hint, qualifiers)
            as crime_group_hint,
        incident_is_rape_report(opening_code, closing_code) as is_rape_report,
        incident_is_domestic_abuse(qualifiers, opening_code, closing_code) as is_domestic_abuse,
        incident_has_vulnerable_victim(qualifiers) as has_vulnerable_victim,
        incident_has_sexual_element(qualifiers) as has_sexual_element,
        -- Rule 6: a crime-coded opening closed as a non-crime code (a downgrade once no crime
        -- record is linked to it: int_candidate_outcomes).
        is_closed_as_non_crime,
        beat_code,
        victim_person_keys,
        has_linked_crime,
        case
            when opening_is_crime then 'OPENING_CODE'
            when closing_is_crime then 'CLOSING_CODE'
            when has_crime_qualifier then 'QUALIFIER'
            else 'LINKED_CRIME'
        end as candidate_basis,
    from incidents
    where opening_is_crime or closing_is_crime or has_crime_qualifier
        -- A report that led to a crime record was a report of crime, whatever its codes say.
        or has_linked_crime
),

referral_candidates as (
    select
        (select count(*) from raw_incidents) + referral_row,
        referral_ref,
        'REFERRAL',
        received_at,
        referral_day,
        1,
        crime_group_hint,
        is_rape_report,
        is_domestic_abuse,
        has_vulnerable_victim,
        team = 'SEXUAL_OFFENCES',
        false,
        cast(null as varchar),
        case when victim_person_key is null then [] else [victim_person_key] end,
        has_linked_crime,
        case when discloses_offence then 'DISCLOSURE' else 'LINKED_CRIME' end,
    from referrals
    where discloses_offence or has_linked_crime
),

final as (
    select * from incident_candidates
    union all
    select * from referral_candidates
)

select * from final
