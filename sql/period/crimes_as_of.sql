-- A period export seen as the daily snapshot of $snapshot_date: what the crime-recording system
-- held at that snapshot's cut-off ($as_of), worked out from each record's own times (the rules of
-- incidents_as_of.sql).
-- A crime record last updated before the cut-off is shown as exported. One updated later is shown
-- as it stood then: recorded after the cut-off, not there yet; cancelled or transferred after the
-- cut-off, still RECORDED (no cancellation code, time or authority); last updated when recorded,
-- or when cancelled if that came before the cut-off. Records deleted during the period cannot be
-- seen in a period export.
with

held_then as (
    select * from period_crimes
    -- A record last updated before the window was not in the snapshot then either.
    where recorded_at < $as_of and updated_at >= $window_start
),

final as (
    select
        * replace (
            case when updated_at < $as_of or cancelled_at < $as_of then status else 'RECORDED' end as status,
            case when updated_at < $as_of or cancelled_at < $as_of then cancellation_code end as cancellation_code,
            case when updated_at < $as_of or cancelled_at < $as_of then cancelled_at end as cancelled_at,
            case when updated_at < $as_of or cancelled_at < $as_of then cancellation_authority end
                as cancellation_authority,
            case
                when updated_at < $as_of then updated_at
                when cancelled_at < $as_of then greatest(recorded_at, cancelled_at)
                else recorded_at
            end as updated_at
        ),
        -- The partition columns a daily snapshot's file carries in the lake.
        cast($force_code as varchar) as force,
        cast($snapshot_date as date) as snapshot_date,
    from held_then
)

-- Numbered from 0 in file order, as a daily snapshot's rows are (the rules use the number as
-- an id that runs below the row count).
select * replace (row_number() over (order by file_row_number) - 1 as file_row_number)
from final
where updated_at >= $window_start
