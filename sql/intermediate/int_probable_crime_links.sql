-- Probable links between reports left without a crime and crime records left without a report.
-- Nobody typed the link, but the record names a victim named on the report, was reported within
-- $probable_link_window_hours of it, and its crime group is compatible with the report's
-- (stg_crime_group_compatibility; a report with no group hint is compatible with any). Rule 3
-- (one crime per victim) then counts the record for the report. A probable link is the
-- machine's guess, not the force's word: it is kept apart from the explicit links (the marts
-- say which candidates rest on one, and probable_links lists each with its evidence).
-- Only what is left takes part: reports with no existing linked crime that are not repeat calls
-- (int_duplicate_calls), and crime records that no report states and that state no report.
-- Each record goes to the nearest report in time (ties: route, then reference).
with

reports_left as (
    select
        candidates.candidate_id,
        candidates.route,
        candidates.candidate_ref,
        candidates.reported_at,
        candidates.crime_group_hint,
        unnest(candidates.victim_person_keys) as victim_key,
    from int_candidates as candidates
    where not candidates.has_linked_crime
      and candidates.candidate_id not in (select candidate_id from int_duplicate_calls)
),

crimes_left as (
    select crime_id, crime_ref, reported_at, crime_group, victim_person_key as victim_key
    from stg_crimes
    where victim_person_key is not null
      and incident_ref is null
      and referral_ref is null
      -- no report states it (a stated reference that matches it carries its crime_id)
      and crime_id not in (select crime_id from int_crime_links where crime_exists)
),

same_victim_close_in_time as (
    select
        reports.candidate_id,
        reports.route,
        reports.candidate_ref,
        crimes.crime_id,
        crimes.crime_ref,
        reports.crime_group_hint as report_group,
        crimes.crime_group as crime_group,
        abs(seconds_between(reports.reported_at, crimes.reported_at)) as seconds_apart,
    from reports_left as reports
    join crimes_left as crimes
        on crimes.victim_key = reports.victim_key
        and abs(seconds_between(reports.reported_at, crimes.reported_at))
            <= cast($probable_link_window_hours as bigint) * 3600
),

compatible as (
    select pairs.*
    from same_victim_close_in_time as pairs
    left join stg_crime_group_compatibility as compatibility
        on compatibility.group_a = pairs.report_group and compatibility.group_b = pairs.crime_group
    where pairs.report_group is null or compatibility.group_a is not null
),

nearest as (
    select
        crime_id,
        crime_ref,
        first(candidate_id order by seconds_apart, route, candidate_ref) as candidate_id,
        first(route order by seconds_apart, route, candidate_ref) as route,
        first(candidate_ref order by seconds_apart, route, candidate_ref) as report_ref,
        first(report_group order by seconds_apart, route, candidate_ref) as report_group,
        any_value(crime_group) as crime_group,
        min(seconds_apart) as seconds_apart,
    from compatible
    group by crime_id, crime_ref
),

final as (
    select
        route,
        report_ref,
        crime_ref,
        round(seconds_apart / 3600.0, 2) as hours_apart,
        candidate_id,
        crime_id,
        report_group,
        crime_group,
    from nearest
)

select * from final
