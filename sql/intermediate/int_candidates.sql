-- Reports that should have become crime records (candidate crimes), one row per report.
-- Rule 1: an incident with a crime-indicative opening code, closing code or qualifier.
-- Rule 5: a referral whose team assessed that it discloses an offence.
-- Rule 3: one crime per victim, so a report expects max(victims, 1) crime records.
with

incident_candidates as (
    select
        incident_ref as candidate_ref,
        'CALL' as route,
        created_at as reported_at,
        incident_day as report_day,
        greatest(victim_count, 1) as expected_crimes,
        crime_group_hint,
        is_rape_report,
        is_domestic_abuse,
        has_vulnerable_victim,
        -- Rule 6: a crime-coded opening closed as a non-crime code is a downgrade.
        opening_is_crime and closing_code is not null and not closing_is_crime as is_downgraded,
        beat_code,
        victim_person_keys,
    from stg_incidents
    where opening_is_crime or closing_is_crime or has_crime_qualifier
),

referral_candidates as (
    select
        referral_ref,
        'REFERRAL',
        received_at,
        referral_day,
        1,
        crime_group_hint,
        is_rape_report,
        is_domestic_abuse,
        has_vulnerable_victim,
        false,
        cast(null as varchar),
        case when victim_person_key is null then [] else [victim_person_key] end,
    from stg_referrals
    where discloses_offence
),

final as (
    select * from incident_candidates
    union all
    select * from referral_candidates
)

select * from final
