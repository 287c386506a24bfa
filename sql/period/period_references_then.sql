-- The crime references on each incident and referral of a period export as they stood over each
-- of its spans (period_state_spans.sql; worked out when the period is loaded): those entered
-- before the span's end, in their exported order, and when the latest of them was entered (a
-- change to the record). A reference to a crime the export does not hold is there at every
-- cut-off (period_crime_references.sql).
with

final as (
    select
        spans.source,
        spans.file_row_number,
        spans.valid_to,
        list(refs.crime_ref order by refs.position)
            filter (where refs.entered_at is null or refs.entered_at < spans.valid_to) as crime_refs,
        max(refs.entered_at) filter (where refs.entered_at < spans.valid_to) as last_entered_at,
    from period_state_spans as spans
    join period_crime_references as refs on refs.source = spans.source and refs.file_row_number = spans.file_row_number
    group by spans.source, spans.file_row_number, spans.valid_to
)

select * from final
