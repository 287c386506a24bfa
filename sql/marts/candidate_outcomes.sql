-- One row per candidate crime: the audit trail behind every rate and every worklist line.
with

outcomes as (
    select * from int_candidate_outcomes
),

final as (
    select
        $force_code as force_code,
        cast($snapshot_date as date) as snapshot_date,
        candidate_ref,
        route,
        reported_at,
        report_day,
        crime_group,
        is_rape_report,
        is_domestic_abuse,
        has_vulnerable_victim,
        is_downgraded,
        beat_code,
        expected_crimes,
        linked_crime_refs,
        first_recorded_at,
        hours_to_record,
        duplicate_of,
        recorded_crimes,
        recorded_within_window,
        removed_crimes,
        unrecorded_crimes,
        pending_crimes,
        outcome,
    from outcomes
    order by report_day, route, candidate_ref
)

select * from final
