-- A period export seen as the daily snapshot of $snapshot_date: what the public-protection
-- system held at that snapshot's cut-off ($as_of), worked out from each record's own times (the
-- rules of incidents_as_of.sql).
-- A referral last updated before the cut-off is shown as exported. One updated later is shown as
-- it stood then: received after the cut-off, not there yet; crime references as they stood then
-- (period_crime_references, from crime_references_as_of.sql); last updated at
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

as_it_stood as (
    select
        changed_since.* replace (
            entered_references.crime_refs as crime_refs,
            greatest(changed_since.received_at, entered_references.last_entered_at) as updated_at
        ),
    from changed_since
    left join period_crime_references as entered_references
        on entered_references.source = 'referrals' and entered_references.file_row_number = changed_since.file_row_number
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
