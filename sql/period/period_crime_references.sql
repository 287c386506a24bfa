-- Each crime reference on the incidents and referrals of a period export, with when it was entered
-- on the log (worked out when the period is loaded, for incidents_versions.sql and
-- referrals_versions.sql).
-- A crime reference is entered on a log when the crime is recorded: entered_at is the crime's
-- recorded_at. A reference to a crime the export does not hold has no known entry time
-- (entered_at null): it is taken as there at every cut-off.
-- position: the reference's place in the exported list, to keep that order.
with

references_on_records as (
    select 'incidents' as source, file_row_number, unnest(crime_refs) as crime_ref,
           generate_subscripts(crime_refs, 1) as position
    from period_incidents
    union all
    select 'referrals', file_row_number, unnest(crime_refs), generate_subscripts(crime_refs, 1)
    from period_referrals
),

final as (
    select
        refs.source,
        refs.file_row_number,
        refs.position,
        refs.crime_ref,
        crimes.recorded_at as entered_at,
    from references_on_records as refs
    left join period_crimes as crimes on crimes.crime_ref = refs.crime_ref
)

select * from final
