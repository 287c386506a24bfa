-- Each incident of a period export in every state a snapshot cut-off could have seen it in, with
-- the cut-offs each state (version) holds for: valid_from < cut-off <= valid_to. Worked out when
-- the period is loaded; a date's snapshot (snapshot_as_of.sql) picks the version valid at its
-- cut-off.
-- How an incident stood at a cut-off:
--   - created after the cut-off: not in the system yet (no version before created_at);
--   - last updated before the cut-off: as exported (as_exported, from the later of its creation
--     and its last update);
--   - otherwise as it stood then (as_it_stood):
--       - closed after the cut-off: still open (no closing code, no closing time);
--       - crime references as they stood then (period_crime_references.sql: entered when the
--         crime is recorded);
--       - last updated at the latest of these times before the cut-off.
-- A period export cannot show what the period erased: records deleted at source, or closing
-- codes changed after closing, appear in their final state (daily snapshots show both).
-- Between its creation and its last update, an incident as it stood only changes when it is
-- closed or a crime referenced on it is recorded: between two such instants (a span), it stands
-- the same at every cut-off, as it stood at the span's end (valid_to): period_state_spans.sql.
with

spans as (
    select file_row_number, valid_from, valid_to from period_state_spans where source = 'incidents'
),

references_then as (
    select file_row_number, valid_to, crime_refs, last_entered_at
    from period_references_then
    where source = 'incidents'
),

as_it_stood as (
    select
        incidents.* replace (
            case when incidents.closed_at < spans.valid_to then incidents.closing_code end as closing_code,
            case when incidents.closed_at < spans.valid_to then incidents.closed_at end as closed_at,
            references_then.crime_refs as crime_refs,
            greatest(
                incidents.created_at,
                case when incidents.closed_at < spans.valid_to then incidents.closed_at end,
                references_then.last_entered_at
            ) as updated_at
        ),
        spans.valid_from,
        spans.valid_to,
    from spans
    join period_incidents as incidents on incidents.file_row_number = spans.file_row_number
    left join references_then
        on references_then.file_row_number = spans.file_row_number and references_then.valid_to = spans.valid_to
),

as_exported as (
    select *, greatest(created_at, updated_at) as valid_from, 'infinity'::timestamptz as valid_to,
    from period_incidents
),

final as (
    select * from as_it_stood
    union all by name
    select * from as_exported
)

select * from final
