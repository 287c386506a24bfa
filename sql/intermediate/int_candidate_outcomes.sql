-- What became of each candidate crime as seen in this snapshot, counted in crimes (victims).
-- Rule 2: a crime must be recorded within the recording window ($recording_window_hours, 24 by
--   the standard) of the report: later is late; none once the window has passed is unrecorded;
--   none while the window is still open is pending.
-- Rule 3: one crime per victim. A report's records are grouped by the victim they name (a record
--   naming no victim is a victim of its own); a victim is recorded when one of their records
--   is live; fewer recorded victims than the report expects leaves the rest unrecorded, and a
--   second live record for the same victim is an extra record (it should be cancelled C3). A
--   report expects a crime for each victim it names, or for each person its records name if more
--   (a record naming nobody adds no victim: it may be a duplicate of one already counted).
-- A probable duplicate call (int_duplicate_calls) with no crime of its own is taken out of the
--   count, but for the victims it names that no earlier call named: the crime of a victim an
--   earlier call named is owed on that call.
-- Rule 4: a record counts while it is live. A cancellation without the code or the authority the
--   rule demands (stg_crimes) does not stand, but neither does the record: the crime is counted
--   unrecorded, and the cancellation goes to the worklist. A valid cancellation or
--   a transfer (status TRANSFERRED, or cancelled C1: the crime happened in another force's area)
--   takes the victim out of the count, and so does an N100 on a rape report: a reported rape found
--   not to be a crime is not a crime that should have been recorded (an N100 on any other report
--   neither counts nor takes it out: the classification is for rape). A rape report (a call or a referral)
--   ends as a recorded rape, an N100 or a transfer, or is left unresolved; a crime record with no
--   report (route OTHER) answers to the cancellation rule alone.
-- Rule 6: a crime-coded call closed as a non-crime with no crime record linked is a downgrade.
with

candidates as (
    select
        candidate_id, candidate_ref, route, candidate_basis, reported_at, report_day, expected_crimes,
        crime_group_hint, is_rape_report, is_domestic_abuse, has_vulnerable_victim, has_sexual_element,
        is_closed_as_non_crime,
        beat_code,
    from int_candidates
    union all
    select
        candidate_id, candidate_ref, route, candidate_basis, reported_at, report_day, expected_crimes,
        crime_group_hint, is_rape_report, is_domestic_abuse, has_vulnerable_victim, has_sexual_element,
        is_closed_as_non_crime,
        beat_code,
    from int_other_route_candidates
),

crime_groups as (
    -- Alphabetical rank of each crime group: ties between groups are broken the same way each run.
    select crime_group, row_number() over (order by crime_group) as group_rank
    from (select distinct crime_group from ref_ho_offence_codes)
),

linked_crimes as (
    select
        links.candidate_id,
        links.crime_ref,
        links.crime_link,
        coalesce(crimes.victim_person_key, crimes.crime_ref) as victim_slot,
        crimes.recorded_at,
        crimes.crime_group,
        crimes.is_rape,
        crimes.is_n100,
        crimes.is_questionable_cancellation,
        crimes.status = 'RECORDED' and not crimes.is_n100 as is_live,
        crimes.status = 'RECORDED' and crimes.is_n100 as is_n100_record,
        (crimes.status in ('CANCELLED', 'TRANSFERRED') and not crimes.is_questionable_cancellation)
            or (crimes.status = 'RECORDED' and crimes.is_n100 and links.is_rape_report) as is_taken_out,
        crimes.victim_person_key is not null as names_victim,
        (crimes.status = 'TRANSFERRED' or crimes.cancellation_code = 'C1')
            and not crimes.is_questionable_cancellation as is_transferred,
        seconds_between(links.reported_at, crimes.recorded_at)
            <= cast($recording_window_hours as bigint) * 3600 as is_recorded_in_window,
    from int_candidate_crimes as links
    join stg_crimes as crimes on crimes.crime_id = links.crime_id
),

victims as (
    -- Rule 3 counts victims, not records: one row per victim a candidate's records name.
    select
        candidate_id,
        victim_slot,
        bool_or(is_live) as is_recorded,
        bool_or(is_live and is_recorded_in_window) as is_recorded_in_window,
        bool_or(is_taken_out) as is_taken_out,
        bool_or(is_transferred) as is_transferred,
        bool_or(names_victim) as is_named,
        -- A second live record for the same victim is an extra record (it should be cancelled C3).
        greatest(count(*) filter (where is_live) - 1, 0) as extra_live_records,
    from linked_crimes
    group by candidate_id, victim_slot
),

victims_per_candidate as (
    select
        candidate_id,
        count(*) filter (where is_recorded) as recorded_victims,
        count(*) filter (where is_recorded and is_recorded_in_window) as recorded_victims_in_window,
        count(*) filter (where not is_recorded and is_taken_out) as removed_victims,
        count(*) filter (where not is_recorded and is_transferred) as transferred_victims,
        cast(sum(extra_live_records) as bigint) as extra_live_records,
        count(*) filter (where is_named) as named_victims,
    from victims
    group by candidate_id
),

records_per_candidate as (
    select
        candidate_id,
        min(recorded_at) filter (where is_live) as first_recorded_at,
        count(*) filter (where is_questionable_cancellation) as questionably_cancelled_crimes,
        bool_or(is_live and is_rape) as has_live_rape_record,
        bool_or(is_n100_record) as has_n100_record,
        bool_or(is_transferred) as has_transfer,
        list(crime_ref order by crime_ref) filter (where crime_link = 'EXPLICIT') as linked_crime_refs,
        list(crime_ref order by crime_ref) filter (where crime_link = 'PROBABLE') as probable_crime_refs,
        min(crime_group) filter (where not is_n100) as only_group,
        min(crime_group) filter (where not is_n100) <> max(crime_group) filter (where not is_n100) as has_mixed_groups,
    from linked_crimes
    group by candidate_id
),

questioned_cancellations as (
    -- Why each questioned cancellation does not stand (stg_crimes), for the registrar:
    -- "<crime ref>: <issue>". Grouped over the few questioned records only.
    select
        links.candidate_id,
        list(crimes.crime_ref || ': ' || crimes.cancellation_issue order by crimes.crime_ref) as questioned_cancellations,
    from int_candidate_crimes as links
    join stg_crimes as crimes on crimes.crime_id = links.crime_id
    where crimes.is_questionable_cancellation
    group by links.candidate_id
),

mixed_groups as (
    -- The recorded classification is better evidence of the group than the call taker's code;
    -- when a report's records disagree, the group most of them carry (ties: alphabetical, so
    -- reruns agree).
    select
        per_group.candidate_id,
        arg_max(per_group.crime_group, per_group.records * 1000 - crime_groups.group_rank) as crime_group,
    from (
        select candidate_id, crime_group, count(*) as records
        from linked_crimes
        where not is_n100
          and candidate_id in (select candidate_id from records_per_candidate where has_mixed_groups)
        group by candidate_id, crime_group
    ) as per_group
    join crime_groups using (crime_group)
    group by per_group.candidate_id
),

counted as (
    select
        candidates.*,
        coalesce(mixed_groups.crime_group, records.only_group, candidates.crime_group_hint, 'UNKNOWN') as crime_group,
        case
            when len(records.linked_crime_refs) > 0 then 'EXPLICIT'
            when len(records.probable_crime_refs) > 0 then 'PROBABLE'
            when candidates.route = 'OTHER' then 'OWN_RECORD'
            else 'NONE'
        end as crime_link,
        coalesce(records.linked_crime_refs, []) as linked_crime_refs,
        coalesce(records.probable_crime_refs, []) as probable_crime_refs,
        coalesce(victims.recorded_victims, 0) as recorded_victims,
        coalesce(victims.recorded_victims_in_window, 0) as recorded_victims_in_window,
        coalesce(victims.removed_victims, 0) as removed_victims,
        coalesce(victims.transferred_victims, 0) as transferred_victims,
        coalesce(victims.extra_live_records, 0) as extra_live_records,
        coalesce(victims.named_victims, 0) as named_victims,
        coalesce(records.questionably_cancelled_crimes, 0) as questionably_cancelled_crimes,
        coalesce(questioned.questioned_cancellations, []) as questioned_cancellations,
        coalesce(records.has_live_rape_record, false) as has_live_rape_record,
        coalesce(records.has_n100_record, false) as has_n100_record,
        coalesce(records.has_transfer, false) as has_transfer,
        records.first_recorded_at,
        duplicates.duplicate_of,
        duplicates.victims_not_named_before,
        seconds_between(candidates.reported_at, records.first_recorded_at) / 3600.0 as hours_to_record,
        seconds_between(candidates.reported_at, cast($as_of as timestamptz))
            < cast($recording_window_hours as bigint) * 3600 as is_within_window,
    from candidates
    left join records_per_candidate as records on records.candidate_id = candidates.candidate_id
    left join victims_per_candidate as victims on victims.candidate_id = candidates.candidate_id
    left join mixed_groups on mixed_groups.candidate_id = candidates.candidate_id
    left join questioned_cancellations as questioned on questioned.candidate_id = candidates.candidate_id
    left join int_duplicate_calls as duplicates on duplicates.candidate_id = candidates.candidate_id
),

with_expected as (
    -- Rule 3: more victims in the records than the report named are more crimes, not fewer.
    select * replace (greatest(expected_crimes, named_victims) as expected_crimes)
    from counted
),

with_recorded as (
    select
        *,
        least(expected_crimes, recorded_victims) as recorded_crimes,
        least(expected_crimes, recorded_victims_in_window) as recorded_within_window,
    from with_expected
),

with_removed as (
    select
        *,
        -- Crimes a valid cancellation, a transfer or a rape report's N100 took out of this force's
        -- count; for a probable repeat call with nothing of its own, the crimes of the victims an
        -- earlier call named.
        case
            when duplicate_of is not null and recorded_crimes = 0
                then greatest(expected_crimes - victims_not_named_before, 0)
            else least(expected_crimes - recorded_crimes, removed_victims)
        end as removed_crimes,
    from with_recorded
),

final as (
    select
        candidate_id,
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
        -- Rule 6: closed as a non-crime and no crime record linked at all (explicit or probable).
        is_closed_as_non_crime and crime_link = 'NONE' as is_downgraded,
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
        -- Whatever is neither recorded nor removed is unrecorded once the window has passed.
        case when is_within_window then 0
             else expected_crimes - recorded_crimes - removed_crimes end as unrecorded_crimes,
        case when is_within_window then expected_crimes - recorded_crimes - removed_crimes
             else 0 end as pending_crimes,
        questionably_cancelled_crimes,
        questioned_cancellations,
        extra_live_records,
        case
            when not is_rape_report or route = 'OTHER'
                 or (duplicate_of is not null and removed_crimes = expected_crimes) then null
            when has_live_rape_record then 'RECORDED_RAPE'
            when has_n100_record then 'N100'
            when has_transfer then 'TRANSFERRED'
            when is_within_window then 'PENDING'
            else 'UNRESOLVED'
        end as rape_resolution,
        case
            when duplicate_of is not null and recorded_crimes = 0 and removed_crimes = expected_crimes then 'DUPLICATE'
            when questionably_cancelled_crimes > 0 then 'CANCELLED_QUESTIONABLE'
            when recorded_crimes = 0 and removed_crimes = 0 and is_within_window then 'PENDING'
            when recorded_crimes = 0 and removed_crimes = 0 then 'UNRECORDED'
            when recorded_crimes + removed_crimes < expected_crimes and not is_within_window then 'UNDER_COUNTED'
            when recorded_crimes + removed_crimes < expected_crimes then 'PENDING'
            when recorded_crimes = 0 and transferred_victims > 0 then 'TRANSFERRED'
            when recorded_crimes = 0 and has_n100_record then 'N100'
            when recorded_crimes = 0 then 'CANCELLED_VALID'
            when recorded_within_window = recorded_crimes then 'RECORDED_ON_TIME'
            else 'RECORDED_LATE'
        end as outcome,
    from with_removed
)

select * from final
