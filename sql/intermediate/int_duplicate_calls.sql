-- Repeat calls about a report already made: one report, one crime (rule 3 counts victims, not
-- calls). A call with no crime linked to it, naming a victim who was named on an earlier
-- candidate call within $duplicate_call_window_hours, in a compatible crime group
-- (stg_crime_group_compatibility; a call with no group hint is compatible with any), is a
-- probable duplicate of the earliest such call (ties: the smaller reference). A rape report is a
-- repeat only of an earlier rape report. The victims the repeat names that no earlier call (in the
-- window, compatible) named are still owed a crime on the repeat (victims_not_named_before). Only an earlier call can be the
-- original: taking a call without a crime as a repeat of a later call with one hid truly lost
-- crimes in the simulated year (a victim's distinct incidents hours apart), and a monitor must not
-- hide a lost crime; such a call stays on the worklist, where the record on the later call shows.
-- A probable link, kept apart from the explicit ones: the marts say which candidates it took out
-- of the count.
with

calls as (
    select candidate_id, candidate_ref, reported_at, crime_group_hint, has_linked_crime, is_rape_report,
           len(list_distinct(victim_person_keys)) as named_victims,
           unnest(victim_person_keys) as victim_key
    from int_candidates
    where route = 'CALL'
),

same_victim_pairs as (
    select
        repeat.candidate_id,
        repeat.candidate_ref,
        repeat.victim_key,
        repeat.named_victims,
        original.candidate_ref as duplicate_of,
        original.reported_at as original_reported_at,
        repeat.crime_group_hint as repeat_group,
        original.crime_group_hint as original_group,
    from calls as repeat
    join calls as original
        on original.victim_key = repeat.victim_key
        and original.candidate_ref <> repeat.candidate_ref
        and original.reported_at <= repeat.reported_at
        and seconds_between(original.reported_at, repeat.reported_at)
            <= cast($duplicate_call_window_hours as bigint) * 3600
        and (original.reported_at < repeat.reported_at or original.candidate_ref < repeat.candidate_ref)
    where not repeat.has_linked_crime
        -- Rule 4: a rape report must end as a recorded rape, an N100 or a transfer; it is a repeat
        -- only of an earlier rape report, never of a call about another offence.
        and (not repeat.is_rape_report or original.is_rape_report)
),

compatible as (
    select pairs.*
    from same_victim_pairs as pairs
    left join stg_crime_group_compatibility as compatibility
        on compatibility.group_a = pairs.repeat_group and compatibility.group_b = pairs.original_group
    where pairs.repeat_group is null or pairs.original_group is null or compatibility.group_a is not null
),

final as (
    select
        candidate_id,
        candidate_ref,
        first(duplicate_of order by original_reported_at, duplicate_of) as duplicate_of,
        cast(any_value(named_victims) - count(distinct victim_key) as bigint) as victims_not_named_before,
    from compatible
    group by candidate_id, candidate_ref
)

select * from final
