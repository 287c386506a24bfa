-- Repeat calls about a report already made: one report, one crime (rule 3 counts victims, not
-- calls). A call with no crime linked to it, naming a victim who was named on an earlier
-- candidate call within $duplicate_call_window_hours, in a compatible crime group
-- (stg_crime_group_compatibility; a call with no group hint is compatible with any), is a
-- probable duplicate of the earliest such call (ties: the smaller reference); a rape report only
-- of an earlier rape report. A probable link, kept apart from the explicit ones: the marts say
-- which candidates it took out of the count.
with

calls as (
    select candidate_id, candidate_ref, reported_at, crime_group_hint, has_linked_crime, is_rape_report,
           unnest(victim_person_keys) as victim_key
    from int_candidates
    where route = 'CALL'
),

earlier_calls_same_victim as (
    select
        later.candidate_id,
        later.candidate_ref,
        earlier.candidate_ref as duplicate_of,
        earlier.reported_at as original_reported_at,
        later.crime_group_hint as later_group,
        earlier.crime_group_hint as earlier_group,
    from calls as later
    join calls as earlier
        on earlier.victim_key = later.victim_key
        and earlier.reported_at <= later.reported_at
        and seconds_between(earlier.reported_at, later.reported_at) <= cast($duplicate_call_window_hours as bigint) * 3600
        and earlier.candidate_ref <> later.candidate_ref
        and (earlier.reported_at < later.reported_at or earlier.candidate_ref < later.candidate_ref)
    where not later.has_linked_crime
        -- Rule 4: a rape report must end as a recorded rape, an N100 or a transfer; it is a repeat
        -- only of an earlier rape report, never of a call about another offence.
        and (not later.is_rape_report or earlier.is_rape_report)
),

compatible as (
    select pairs.*
    from earlier_calls_same_victim as pairs
    left join stg_crime_group_compatibility as compatibility
        on compatibility.group_a = pairs.later_group and compatibility.group_b = pairs.earlier_group
    where pairs.later_group is null or pairs.earlier_group is null or compatibility.group_a is not null
),

final as (
    select
        candidate_id,
        candidate_ref,
        first(duplicate_of order by original_reported_at, duplicate_of) as duplicate_of,
    from compatible
    group by candidate_id, candidate_ref
)

select * from final
