-- A period export seen as the daily snapshot of $snapshot_date: what the public-protection
-- system held at that snapshot's cut-off ($as_of), worked out from each record's own times (the
-- rules of incidents_as_of.sql).
-- A referral last updated before the cut-off is shown as exported. One updated later is shown as
-- it stood then: received after the cut-off, not there yet; crime references entered when the
-- crime is recorded (references to crimes the export does not hold are kept); last updated at
-- the latest of these times before the cut-off. Referrals deleted during the period cannot be
-- seen in a period export.
with

held_then as (
    select * from period_referrals
    -- A record last updated before the window was not in the snapshot then either.
    where received_at < $as_of and updated_at >= $window_start
),

unchanged_since as (
    select * from held_then where updated_at < $as_of
),

changed_since as (
    select * from held_then where updated_at >= $as_of
),

crime_recorded as (
    select crime_ref, recorded_at from period_crimes
),

entered_references as (
    select
        changed.file_row_number,
        list(changed.crime_ref order by changed.position)
            filter (where crime_recorded.recorded_at is null or crime_recorded.recorded_at < $as_of) as crime_refs,
        max(crime_recorded.recorded_at) filter (where crime_recorded.recorded_at < $as_of) as last_entered_at,
    from (
        select file_row_number, unnest(crime_refs) as crime_ref, generate_subscripts(crime_refs, 1) as position
        from changed_since
    ) as changed
    left join crime_recorded on crime_recorded.crime_ref = changed.crime_ref
    group by changed.file_row_number
),

as_it_stood as (
    select
        changed_since.* replace (
            entered_references.crime_refs as crime_refs,
            greatest(changed_since.received_at, entered_references.last_entered_at) as updated_at
        ),
    from changed_since
    left join entered_references using (file_row_number)
),

final as (
    select * from unchanged_since
    union all by name
    select * from as_it_stood
)

-- Numbered from 0 in file order, as a daily snapshot's rows are (the rules use the number as
-- an id that runs below the row count); and the partition columns a daily file carries.
select
    * replace (row_number() over (order by file_row_number) - 1 as file_row_number),
    cast($force_code as varchar) as force,
    cast($snapshot_date as date) as snapshot_date,
from final
where updated_at >= $window_start
