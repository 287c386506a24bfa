-- Every probable link the reconciliation made, with its evidence, kept apart from the explicit
-- links the systems state. Two kinds:
--   REPEAT_CALL (int_duplicate_calls): a call with no crime of its own that names a victim of an
--     earlier candidate call within $duplicate_call_window_hours: it left the count;
--   CRIME_RECORD (int_probable_crime_links): a crime record no report states, naming a victim of
--     a report with no crime, reported within $probable_link_window_hours of it: it counts for
--     the report. An auditor confirms it by entering the crime reference on the report.
-- References only: the shared victim is the evidence, never shown.
with

candidates as (
    select candidate_id, route, candidate_ref, reported_at, crime_group_hint from int_candidates
),

repeat_calls as (
    select
        duplicates.candidate_id,
        'REPEAT_CALL' as link_kind,
        'CALL' as route,
        duplicates.candidate_ref as report_ref,
        duplicates.duplicate_of as linked_ref,
        round(seconds_between(original.reported_at, repeat.reported_at) / 3600.0, 2) as hours_apart,
        repeat.crime_group_hint as report_group,
        original.crime_group_hint as linked_group,
    from int_duplicate_calls as duplicates
    join candidates as repeat on repeat.candidate_id = duplicates.candidate_id
    join candidates as original on original.route = 'CALL' and original.candidate_ref = duplicates.duplicate_of
),

crime_records as (
    select
        candidate_id,
        'CRIME_RECORD',
        route,
        report_ref,
        crime_ref,
        hours_apart,
        report_group,
        crime_group,
    from int_probable_crime_links
),

final as (
    select
        $force_code as force_code,
        cast($snapshot_date as date) as snapshot_date,
        links.link_kind,
        links.route,
        links.report_ref,
        links.linked_ref,
        links.hours_apart,
        links.report_group,
        links.linked_group,
        outcomes.outcome as report_outcome,
        outcomes.report_day,
    from (select * from repeat_calls union all select * from crime_records) as links
    join int_candidate_outcomes as outcomes on outcomes.candidate_id = links.candidate_id
    order by links.link_kind, outcomes.report_day, links.report_ref, links.linked_ref
)

select * from final
