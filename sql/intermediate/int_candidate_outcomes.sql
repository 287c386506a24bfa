-- What became of each candidate crime as seen in this snapshot, counted in crimes (victims).
-- Rule 2: a crime must be recorded within the recording window ($recording_window_hours, 24 by
--   the standard) of the report: later is late; none once the window has passed is unrecorded;
--   none while the window is still open is pending.
-- Rule 3: one crime per victim: fewer live crimes than victims leaves the rest unrecorded.
-- A probable duplicate call (int_duplicate_calls) with no crime of its own is taken out of the
--   count: its crime is owed on the original call.
-- Rule 4: a cancellation stands only with a code and, for rape or serious violence, the FCR
--   (C2 on anything) or a DDM; C2 on a rape is always questioned (rape ends as a recorded rape,
--   an N100 or a transfer).
with

candidates as (
    select * from int_candidates
),

linked_crimes as (
    select
        links.route,
        links.report_ref,
        crimes.crime_ref,
        crimes.recorded_at,
        crimes.status,
        crimes.crime_group,
        crimes.is_rape,
        crimes.is_n100,
        crimes.cancellation_code,
        crimes.status = 'CANCELLED' and (
            crimes.cancellation_code is null
            or (crimes.needs_senior_cancellation_authority and (
                coalesce(crimes.cancellation_authority, '') not in ('FCR', 'DDM')
                or (crimes.cancellation_code = 'C2' and crimes.cancellation_authority <> 'FCR')
            ))
            or (crimes.is_rape and crimes.cancellation_code = 'C2')
        ) as is_questionable_cancellation,
    from int_crime_links as links
    join stg_crimes as crimes on crimes.crime_ref = links.crime_ref
),

crimes_per_candidate as (
    select
        route,
        report_ref,
        count(*) filter (where status = 'RECORDED') as live_crimes,
        count(*) filter (where status = 'TRANSFERRED') as transferred_crimes,
        count(*) filter (where status = 'CANCELLED' and not is_questionable_cancellation) as validly_cancelled_crimes,
        count(*) filter (where is_questionable_cancellation) as questionably_cancelled_crimes,
        count(*) filter (where is_n100) as n100_records,
        min(recorded_at) filter (where status = 'RECORDED' or is_questionable_cancellation) as first_recorded_at,
        -- The recorded classification is better evidence of the group than the call taker's code.
        mode(crime_group) filter (where not is_n100) as recorded_crime_group,
        list_sort(list(crime_ref)) as crime_refs,
    from linked_crimes
    group by route, report_ref
),

counted as (
    select
        candidates.*,
        coalesce(crimes.recorded_crime_group, candidates.crime_group_hint, 'UNKNOWN') as crime_group,
        coalesce(crimes.crime_refs, []) as linked_crime_refs,
        coalesce(crimes.live_crimes, 0) as live_crimes,
        coalesce(crimes.transferred_crimes, 0) as transferred_crimes,
        coalesce(crimes.validly_cancelled_crimes, 0) as validly_cancelled_crimes,
        coalesce(crimes.questionably_cancelled_crimes, 0) as questionably_cancelled_crimes,
        coalesce(crimes.n100_records, 0) as n100_records,
        crimes.first_recorded_at,
        duplicates.duplicate_of,
        date_diff('second', candidates.reported_at, crimes.first_recorded_at) / 3600.0 as hours_to_record,
        $as_of - candidates.reported_at < to_hours(cast($recording_window_hours as bigint)) as is_within_window,
    from candidates
    left join crimes_per_candidate as crimes
        on crimes.route = candidates.route and crimes.report_ref = candidates.candidate_ref
    left join int_duplicate_calls as duplicates
        on candidates.route = 'CALL' and duplicates.candidate_ref = candidates.candidate_ref
),

outcomes as (
    select
        *,
        -- Crimes accounted for by a record: live ones, and questionably cancelled ones (they were
        -- recorded; the cancellation goes to the worklist). N100 is counted for rape reports only.
        least(expected_crimes, live_crimes + questionably_cancelled_crimes
            + case when is_rape_report then n100_records else 0 end) as recorded_crimes,
    from counted
),

with_removed as (
    select
        *,
        -- Crimes a valid cancellation or a transfer took out of this force's count.
        case
            when duplicate_of is not null and recorded_crimes = 0 then expected_crimes
            else least(expected_crimes - recorded_crimes, transferred_crimes + validly_cancelled_crimes)
        end as removed_crimes,
    from outcomes
),

final as (
    select
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
        case when hours_to_record <= $recording_window_hours then recorded_crimes else 0 end
            as recorded_within_window,
        removed_crimes,
        -- Whatever is neither recorded nor removed is unrecorded once the window has passed.
        case when is_within_window then 0
             else greatest(expected_crimes - recorded_crimes - removed_crimes, 0) end as unrecorded_crimes,
        case when is_within_window then greatest(expected_crimes - recorded_crimes - removed_crimes, 0)
             else 0 end as pending_crimes,
        questionably_cancelled_crimes,
        case
            when duplicate_of is not null and recorded_crimes = 0 then 'DUPLICATE'
            when recorded_crimes = 0 and removed_crimes = 0 and is_within_window then 'PENDING'
            when recorded_crimes = 0 and removed_crimes = 0 then 'UNRECORDED'
            when questionably_cancelled_crimes > 0 then 'CANCELLED_QUESTIONABLE'
            when recorded_crimes = 0 and transferred_crimes > 0 then 'TRANSFERRED'
            when recorded_crimes = 0 then 'CANCELLED_VALID'
            when recorded_crimes + removed_crimes < expected_crimes and not is_within_window then 'UNDER_COUNTED'
            when hours_to_record <= $recording_window_hours then 'RECORDED_ON_TIME'
            else 'RECORDED_LATE'
        end as outcome,
    from with_removed
)

select * from final
