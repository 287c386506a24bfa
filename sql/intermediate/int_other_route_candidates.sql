-- Route OTHER: crimes that reached the crime system with no incident and no referral (online
-- crime reports keyed straight in, offences officers found, shoplifting reported in bulk). Each
-- such record is its own report: one candidate crime, recorded by definition (the record is the
-- report), on time when recorded within the recording window of its reported time. It counts
-- in the rates like any other crime that should have been recorded, as the inspectorate's
-- recording rate does (and the estimate of unrecorded crimes a year applies the rate to all
-- recorded crimes); a cancellation of it is judged by rule 4 like any other. The route
-- dimension shows CALL and REFERRAL on their own, where a rate can actually fall.
-- A record stated to a report, or probably linked to one (int_probable_crime_links), is not
-- here; nor is an N100 classification (a rape report assessed as no rape is not a crime).
with

claimed_crimes as (
    select crime_id from int_crime_links where crime_exists
    union all
    select crime_id from int_probable_crime_links
),

final as (
    select
        (select coalesce(max(candidate_id), 0) from int_candidates) + row_number() over () as candidate_id,
        crime_ref as candidate_ref,
        'OTHER' as route,
        reported_at,
        cast(timezone($time_zone, reported_at) as date) as report_day,
        1 as expected_crimes,
        crime_group as crime_group_hint,
        is_rape as is_rape_report,
        is_domestic_abuse,
        false as has_vulnerable_victim,
        false as has_sexual_element,
        false as is_closed_as_non_crime,
        beat_code,
        case when victim_person_key is null then [] else [victim_person_key] end as victim_person_keys,
        'OWN_RECORD' as candidate_basis,
        crime_id,
    from stg_crimes
    where incident_ref is null
      and referral_ref is null
      and not is_n100
      and crime_id not in (select crime_id from claimed_crimes)
)

select * from final
