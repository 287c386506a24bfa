-- The crime references on incidents and referrals of a period export as they stood at the cut-off
-- of $snapshot_date ($as_of), for the records changed since (the others are shown as exported).
-- A crime reference is entered on a log when the crime is recorded: references to crimes recorded
-- after the cut-off are not there yet. References to crimes the export does not hold are kept
-- (when they were entered is unknown). last_entered_at: when the latest of them was entered, a
-- change to the record (incidents_as_of.sql, referrals_as_of.sql).
with

references_on_changed_records as (
    select 'incidents' as source, file_row_number, unnest(crime_refs) as crime_ref,
           generate_subscripts(crime_refs, 1) as position
    from period_incidents
    where created_at < $as_of and updated_at >= $as_of
    union all
    select 'referrals', file_row_number, unnest(crime_refs), generate_subscripts(crime_refs, 1)
    from period_referrals
    where received_at < $as_of and updated_at >= $as_of
),

crime_recorded as (
    select crime_ref, recorded_at from period_crimes
),

final as (
    select
        refs.source,
        refs.file_row_number,
        list(refs.crime_ref order by refs.position)
            filter (where crime_recorded.recorded_at is null or crime_recorded.recorded_at < $as_of) as crime_refs,
        max(crime_recorded.recorded_at) filter (where crime_recorded.recorded_at < $as_of) as last_entered_at,
    from references_on_changed_records as refs
    left join crime_recorded on crime_recorded.crime_ref = refs.crime_ref
    group by refs.source, refs.file_row_number
)

select * from final
