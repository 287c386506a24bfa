-- Repeat calls about a report already made: one report, one crime (rule 3 counts victims, not
-- calls). A call with no crime linked to it, naming a victim who was named on an earlier
-- candidate call within $duplicate_call_window_hours, in a compatible crime group, is a probable
-- duplicate of the earliest such call. A probable link, kept apart from the explicit ones: the
-- worklist and the marts say which candidates it took out of the count.
with

calls as (
    select candidate_ref, reported_at, crime_group_hint, unnest(victim_person_keys) as victim_key
    from int_candidates
    where route = 'CALL'
),

calls_with_a_crime as (
    select distinct report_ref from int_crime_links where route = 'CALL' and crime_exists
),

earlier_calls_same_victim as (
    select
        later.candidate_ref,
        earlier.candidate_ref as duplicate_of,
        earlier.reported_at as original_reported_at,
    from calls as later
    join calls as earlier
        on earlier.victim_key = later.victim_key
        and earlier.candidate_ref <> later.candidate_ref
        and (earlier.reported_at < later.reported_at
             or (earlier.reported_at = later.reported_at and earlier.candidate_ref < later.candidate_ref))
        and later.reported_at - earlier.reported_at <= to_hours(cast($duplicate_call_window_hours as bigint))
        and (later.crime_group_hint is null or earlier.crime_group_hint is null
             or later.crime_group_hint = earlier.crime_group_hint)
    where later.candidate_ref not in (select report_ref from calls_with_a_crime)
),

final as (
    select
        candidate_ref,
        arg_min(duplicate_of, original_reported_at) as duplicate_of,
    from earlier_calls_same_victim
    group by candidate_ref
)

select * from final
