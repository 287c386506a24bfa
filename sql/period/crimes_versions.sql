-- Each crime record of a period export in every state a snapshot cut-off could have seen it in,
-- with the cut-offs each state (version) holds for: valid_from < cut-off <= valid_to. Worked out
-- when the period is loaded; a date's snapshot (snapshot_as_of.sql) picks the version valid at its
-- cut-off.
-- How a crime record stood at a cut-off (the rules of incidents_versions.sql):
--   - recorded after the cut-off: not there yet (no version before recorded_at);
--   - last updated before the cut-off: as exported (as_exported, from the later of its recording
--     and its last update);
--   - otherwise as it stood then (as_it_stood): cancelled or transferred after the cut-off, still
--     RECORDED (no cancellation code, time or authority); last updated when recorded, or when
--     cancelled if that came before the cut-off.
-- Records deleted during the period cannot be seen in a period export.
-- Between its recording and its last update, a crime record as it stood only changes when it is
-- cancelled: between two such instants (a span), it stands the same at every cut-off, as it
-- stood at the span's end (valid_to): period_state_spans.sql.
with

spans as (
    select file_row_number, valid_from, valid_to from period_state_spans where source = 'crimes'
),

as_it_stood as (
    select
        crimes.* replace (
            case when crimes.cancelled_at < spans.valid_to then crimes.status else 'RECORDED' end as status,
            case when crimes.cancelled_at < spans.valid_to then crimes.cancellation_code end as cancellation_code,
            case when crimes.cancelled_at < spans.valid_to then crimes.cancelled_at end as cancelled_at,
            case when crimes.cancelled_at < spans.valid_to then crimes.cancellation_authority end
                as cancellation_authority,
            case
                when crimes.cancelled_at < spans.valid_to then greatest(crimes.recorded_at, crimes.cancelled_at)
                else crimes.recorded_at
            end as updated_at
        ),
        spans.valid_from,
        spans.valid_to,
    from spans
    join period_crimes as crimes on crimes.file_row_number = spans.file_row_number
),

as_exported as (
    select *, greatest(recorded_at, updated_at) as valid_from, 'infinity'::timestamptz as valid_to,
    from period_crimes
),

final as (
    select * from as_it_stood
    union all by name
    select * from as_exported
)

select * from final
