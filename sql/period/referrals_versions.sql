-- Each referral of a period export in every state a snapshot cut-off could have seen it in, with
-- the cut-offs each state (version) holds for: valid_from < cut-off <= valid_to. Worked out when
-- the period is loaded; a date's snapshot (snapshot_as_of.sql) picks the version valid at its
-- cut-off.
-- How a referral stood at a cut-off (the rules of incidents_versions.sql):
--   - received after the cut-off: not there yet (no version before received_at);
--   - last updated before the cut-off: as exported (as_exported, from the later of its receipt
--     and its last update);
--   - otherwise as it stood then (as_it_stood): crime references as they stood then
--     (period_crime_references.sql: entered when the crime is recorded); last updated at the
--     latest of these times before the cut-off.
-- Referrals deleted during the period cannot be seen in a period export.
-- Between its receipt and its last update, a referral as it stood only changes when a crime
-- referenced on it is recorded: between two such instants (a span), it stands the same at every
-- cut-off, as it stood at the span's end (valid_to): period_state_spans.sql.
with

spans as (
    select file_row_number, valid_from, valid_to from period_state_spans where source = 'referrals'
),

references_then as (
    select file_row_number, valid_to, crime_refs, last_entered_at
    from period_references_then
    where source = 'referrals'
),

as_it_stood as (
    select
        referrals.* replace (
            references_then.crime_refs as crime_refs,
            greatest(referrals.received_at, references_then.last_entered_at) as updated_at
        ),
        spans.valid_from,
        spans.valid_to,
    from spans
    join period_referrals as referrals on referrals.file_row_number = spans.file_row_number
    left join references_then
        on references_then.file_row_number = spans.file_row_number and references_then.valid_to = spans.valid_to
),

as_exported as (
    select *, greatest(received_at, updated_at) as valid_from, 'infinity'::timestamptz as valid_to,
    from period_referrals
),

final as (
    select * from as_it_stood
    union all by name
    select * from as_exported
)

select * from final
