-- One row per candidate crime: the audit trail behind every rate and every worklist line.
-- crime_link says how its records were found (EXPLICIT, PROBABLE, OWN_RECORD for route OTHER,
-- NONE); linked_crime_refs holds the explicit ones and probable_crime_refs the probable ones.
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
        candidate_basis,
        reported_at,
        report_day,
        crime_group,
        is_rape_report,
        is_domestic_abuse,
        has_vulnerable_victim,
        has_sexual_element,
        is_closed_as_non_crime,
        is_downgraded,
        beat_code,
        expected_crimes,
        crime_link,
        linked_crime_refs,
        probable_crime_refs,
        first_recorded_at,
        hours_to_record,
        duplicate_of,
        recorded_crimes,
        recorded_within_window,
        removed_crimes,
        unrecorded_crimes,
        pending_crimes,
        questionably_cancelled_crimes,
        questioned_cancellations,
        extra_live_records,
        rape_resolution,
        outcome,
    from outcomes
)

select * from final
