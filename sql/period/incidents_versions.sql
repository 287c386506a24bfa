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
-- the same at every cut-off, as it stood at the span's end (valid_to).
with

references_entered as (
    select file_row_number, position, crime_ref, entered_at
    from period_crime_references
    where source = 'incidents'
),

-- The instants an incident as it stood changes, from its creation to its last update.
changes as (
    select file_row_number, created_at as changed_at from period_incidents where created_at < updated_at
    union
    select file_row_number, updated_at from period_incidents where created_at < updated_at
    union
    select file_row_number, closed_at from period_incidents where closed_at > created_at and closed_at < updated_at
    union
    select incidents.file_row_number, refs.entered_at
    from period_incidents as incidents
    join references_entered as refs on refs.file_row_number = incidents.file_row_number
    where refs.entered_at > incidents.created_at and refs.entered_at < incidents.updated_at
),

spans as (
    select
        file_row_number,
        changed_at as valid_from,
        lead(changed_at) over (partition by file_row_number order by changed_at) as valid_to,
    from changes
    qualify valid_to is not null
),

references_then as (
    select
        spans.file_row_number,
        spans.valid_to,
        list(refs.crime_ref order by refs.position)
            filter (where refs.entered_at is null or refs.entered_at < spans.valid_to) as crime_refs,
        max(refs.entered_at) filter (where refs.entered_at < spans.valid_to) as last_entered_at,
    from spans
    join references_entered as refs on refs.file_row_number = spans.file_row_number
    group by spans.file_row_number, spans.valid_to
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
