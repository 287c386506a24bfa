-- The registrar's worklist: every candidate that looks like a crime lost or mis-handled, by
-- reference only, most urgent first. Priority follows the inspectorate's concern for the most
-- vulnerable victims: 1 rape and other sexual offences, 2 domestic abuse, 3 vulnerable victims,
-- 4 other violence, 5 everything else.
with

outcomes as (
    select * from candidate_outcomes
),

flagged as (
    select
        *,
        list_filter([
            case when outcome = 'UNRECORDED' then 'UNRECORDED' end,
            case when outcome = 'UNDER_COUNTED' then 'UNDER_COUNTED' end,
            case when outcome = 'CANCELLED_QUESTIONABLE' then 'CANCELLED_QUESTIONABLE' end,
            case when is_downgraded and unrecorded_crimes > 0 then 'DOWNGRADED' end,
            case when is_rape_report and unrecorded_crimes > 0 then 'RAPE_REPORT_UNRESOLVED' end
        ], lambda reason: reason is not null) as reason_codes,
    from outcomes
),

final as (
    select
        force_code,
        snapshot_date,
        case
            when crime_group = 'SEXUAL_OFFENCES' or is_rape_report then 1
            when is_domestic_abuse then 2
            when has_vulnerable_victim then 3
            when crime_group = 'VIOLENCE_AGAINST_THE_PERSON' then 4
            else 5
        end as priority,
        candidate_ref,
        route,
        crime_group,
        outcome,
        array_to_string(reason_codes, '|') as reason_codes,
        expected_crimes,
        recorded_crimes,
        unrecorded_crimes,
        array_to_string(linked_crime_refs, '|') as linked_crime_refs,
        beat_code,
        reported_at,
        round(date_diff('second', reported_at, cast($as_of as timestamptz)) / 3600.0, 1) as age_hours,
    from flagged
    where len(reason_codes) > 0
    order by priority, reported_at, candidate_ref
)

select * from final
