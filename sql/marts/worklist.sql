-- The registrar's worklist: every candidate that looks like a crime lost or mis-handled, by
-- reference only, most urgent first.
-- Reasons (a candidate may have several):
--   UNRECORDED              no crime record once the recording window has passed (rule 2)
--   UNDER_COUNTED           some of the report's crimes accounted for, not all (rule 3: fewer
--                           crimes recorded, transferred or validly cancelled than victims)
--   CANCELLED_QUESTIONABLE  a cancellation or transfer without the code or authority rule 4 needs,
--                           or a C3 whose victim has no other record (cancellation_issues says which)
--   DOWNGRADED              a crime-coded call closed as a non-crime with no crime linked (rule 6)
--   RAPE_REPORT_UNRESOLVED  a rape report that did not end as a recorded rape, an N100 or a
--                           transfer (rule 4)
--   CHANGED_SINCE_PREVIOUS_SNAPSHOT  added to a listed item when the report or one of its records
--                           vanished, turned non-crime or was reclassified from rape since the
--                           previous snapshot (record_changes)
-- Priority follows the inspectorate's concern for the most vulnerable victims: 1 rape and other
-- sexual offences (or a sexual element disclosed on the call), 2 domestic abuse, 3 vulnerable
-- victims (child or vulnerable adult), 4 other violence, 5 everything else; within a priority the
-- oldest report first.
with

outcomes as (
    select * from candidate_outcomes
),

changed_reports as (
    select record_ref as report_ref from record_changes where source in ('incidents', 'referrals')
    union
    select unnest(string_split(linked_refs, '|')) from record_changes where source = 'crimes'
),

changed_crimes as (
    select record_ref as crime_ref from record_changes where source = 'crimes'
),

flagged as (
    select
        outcomes.*,
        list_filter([
            case when unrecorded_crimes > 0 and recorded_crimes + removed_crimes = 0 then 'UNRECORDED' end,
            case when unrecorded_crimes > 0 and recorded_crimes + removed_crimes > 0 then 'UNDER_COUNTED' end,
            case when questionably_cancelled_crimes > 0 then 'CANCELLED_QUESTIONABLE' end,
            case when is_downgraded and unrecorded_crimes > 0 then 'DOWNGRADED' end,
            case when rape_resolution = 'UNRESOLVED' then 'RAPE_REPORT_UNRESOLVED' end
        ], lambda reason: reason is not null) as problems,
        outcomes.candidate_ref in (select report_ref from changed_reports)
            or list_has_any(outcomes.linked_crime_refs, (select coalesce(list(crime_ref), []) from changed_crimes))
            or (outcomes.route = 'OTHER' and outcomes.candidate_ref in (select crime_ref from changed_crimes))
            as changed_since_previous,
    from outcomes
),

final as (
    select
        force_code,
        snapshot_date,
        case
            when crime_group = 'SEXUAL_OFFENCES' or is_rape_report or has_sexual_element then 1
            when is_domestic_abuse then 2
            when has_vulnerable_victim then 3
            when crime_group = 'VIOLENCE_AGAINST_THE_PERSON' then 4
            else 5
        end as priority,
        case
            when crime_group = 'SEXUAL_OFFENCES' or is_rape_report or has_sexual_element then 'rape or sexual offence'
            when is_domestic_abuse then 'domestic abuse'
            when has_vulnerable_victim then 'vulnerable victim'
            when crime_group = 'VIOLENCE_AGAINST_THE_PERSON' then 'violence'
            else 'other'
        end as priority_label,
        candidate_ref,
        route,
        candidate_basis,
        crime_group,
        outcome,
        array_to_string(
            case when changed_since_previous then list_append(problems, 'CHANGED_SINCE_PREVIOUS_SNAPSHOT')
                 else problems end,
            '|'
        ) as reason_codes,
        -- why each questioned cancellation does not stand: "<crime ref>: <issue>; ..."
        nullif(array_to_string(questioned_cancellations, '; '), '') as cancellation_issues,
        expected_crimes,
        recorded_crimes,
        unrecorded_crimes,
        array_to_string(linked_crime_refs, '|') as linked_crime_refs,
        array_to_string(probable_crime_refs, '|') as probable_crime_refs,
        beat_code,
        reported_at,
        -- the force's wall-clock time, as its own systems show the report (reported_at is UTC)
        strftime(timezone($time_zone, reported_at), '%Y-%m-%d %H:%M:%S') as reported_at_local,
        report_day,
        round(seconds_between(reported_at, cast($as_of as timestamptz)) / 3600.0, 1) as age_hours,
    from flagged
    where len(problems) > 0
    order by priority, reported_at, candidate_ref
)

select * from final
