-- Records that vanished since the previous snapshot, or changed from crime to non-crime.
-- Rule 6: a crime-coded call re-closed as a non-crime, a crime record cancelled or turned into an
-- N100, a recorded rape reclassified as another offence (rule 4: a rape report ends as a recorded
-- rape, an N100 or a transfer), a referral whose disclosure was withdrawn, and above all a record
-- deleted at source are how crimes go missing between two looks; the registrar sees each one here.
-- The previous snapshot is the latest earlier one in the lake ($previous_snapshot_date; its raw
-- partitions are the prev_raw_* views, empty when there is none). A record the previous snapshot
-- held has VANISHED when this snapshot should still hold it (last updated on or after this
-- snapshot's window start, $window_start) and does not: records that only aged out of the
-- lookback window are not changes.
with

incident_codes as (
    select code, crime_indicative from ref_incident_codes
),

previous_incidents as (
    select
        incidents.incident_ref,
        incidents.created_at,
        incidents.updated_at,
        incidents.opening_code,
        incidents.closing_code,
        coalesce(opening.crime_indicative, false) or coalesce(closing.crime_indicative, false) as was_crime_coded,
        coalesce(closing.crime_indicative, false) as was_closed_as_crime,
        incidents.crime_refs,
    from prev_raw_incidents as incidents
    left join incident_codes as opening on opening.code = incidents.opening_code
    left join incident_codes as closing on closing.code = incidents.closing_code
),

current_incidents as (
    select incident_ref, closing_code, closing_is_crime from stg_incidents
),

incident_changes as (
    select
        'incidents' as source,
        previous.incident_ref as record_ref,
        case
            when current.incident_ref is null then 'VANISHED'
            else 'RECLASSIFIED_TO_NON_CRIME'
        end as change,
        coalesce(previous.closing_code, previous.opening_code) as previous_value,
        current.closing_code as current_value,
        previous.created_at as reported_at,
        previous.was_crime_coded as was_crime_related,
        array_to_string(previous.crime_refs, '|') as linked_refs,
    from previous_incidents as previous
    left join current_incidents as current on current.incident_ref = previous.incident_ref
    where (current.incident_ref is null and previous.updated_at >= cast($window_start as timestamptz))
       or (previous.was_closed_as_crime and current.closing_code is not null and not current.closing_is_crime)
),

rape_offences as (
    select code from ref_ho_offence_codes where rape
),

previous_crimes as (
    select crime_ref, reported_at, updated_at, status, ho_offence_code, incident_ref, referral_ref,
           ho_offence_code in (select code from rape_offences) as was_rape,
    from prev_raw_crimes
),

crime_changes as (
    select
        'crimes' as source,
        previous.crime_ref as record_ref,
        case
            when current.crime_ref is null then 'VANISHED'
            when current.status <> 'RECORDED' and current.is_questionable_cancellation then 'CANCELLED_QUESTIONABLY'
            when current.status <> 'RECORDED' then 'CANCELLED'
            when current.is_n100 then 'RECLASSIFIED_TO_N100'
            else 'RECLASSIFIED_FROM_RAPE'
        end as change,
        previous.status || ' ' || previous.ho_offence_code as previous_value,
        current.status || ' ' || current.ho_offence_code
            || coalesce(' ' || current.cancellation_code, '')
            || coalesce(' by ' || current.cancellation_authority, '') as current_value,
        previous.reported_at,
        previous.status = 'RECORDED' and previous.ho_offence_code <> 'N100' as was_crime_related,
        concat_ws('|', previous.incident_ref, previous.referral_ref) as linked_refs,
    from previous_crimes as previous
    left join stg_crimes as current on current.crime_ref = previous.crime_ref
    where (current.crime_ref is null and previous.updated_at >= cast($window_start as timestamptz))
       or (previous.status = 'RECORDED' and current.status <> 'RECORDED')
       or (previous.ho_offence_code <> 'N100' and current.is_n100)
       or (previous.status = 'RECORDED' and previous.was_rape and current.status = 'RECORDED' and not current.is_rape)
),

previous_referrals as (
    select referral_ref, received_at, updated_at, discloses_offence, crime_refs from prev_raw_referrals
),

referral_changes as (
    select
        'referrals' as source,
        previous.referral_ref as record_ref,
        case when current.referral_ref is null then 'VANISHED' else 'DISCLOSURE_WITHDRAWN' end as change,
        case when previous.discloses_offence then 'discloses offence' else 'no offence disclosed' end
            as previous_value,
        case when current.discloses_offence then 'discloses offence'
             when current.referral_ref is not null then 'no offence disclosed' end as current_value,
        previous.received_at,
        previous.discloses_offence as was_crime_related,
        array_to_string(previous.crime_refs, '|') as linked_refs,
    from previous_referrals as previous
    left join stg_referrals as current on current.referral_ref = previous.referral_ref
    where (current.referral_ref is null and previous.updated_at >= cast($window_start as timestamptz))
       or (previous.discloses_offence and not current.discloses_offence)
),

changes as (
    select * from incident_changes
    union all
    select * from crime_changes
    union all
    select * from referral_changes
),

final as (
    select
        $force_code as force_code,
        cast($snapshot_date as date) as snapshot_date,
        cast($previous_snapshot_date as date) as previous_snapshot_date,
        source,
        record_ref,
        change,
        previous_value,
        current_value,
        reported_at,
        cast(timezone($time_zone, reported_at) as date) as report_day,
        was_crime_related,
        nullif(linked_refs, '') as linked_refs,
    from changes
    order by was_crime_related desc, source, change, reported_at, record_ref
)

select * from final
