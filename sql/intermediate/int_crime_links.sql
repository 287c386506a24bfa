-- Explicit links between crime records and the reports they came from, in every direction the
-- systems record them: crime -> incident, incident -> crimes, crime -> referral, referral -> crimes.
-- A link counts once whichever side recorded it; `link_sources` says which sides did.
-- A reference typed on a log that matches no record in this snapshot is not a record
-- (crime_exists false): it links nothing.
with

crimes as not materialized (
    select crime_id, crime_ref, incident_ref, referral_ref from stg_crimes
),

-- is_call rather than the route's name: the grouping below hashes a flag, not a string.
stated_links as (
    select true as is_call, incident_ref as report_ref, crime_ref, true as by_crime, false as by_report
    from crimes where incident_ref is not null
    union all
    select false, referral_ref, crime_ref, true, false
    from crimes where referral_ref is not null
    union all
    select true, incident_ref, unnest(crime_refs), false, true
    from stg_incidents where len(crime_refs) > 0
    union all
    select false, referral_ref, unnest(crime_refs), false, true
    from stg_referrals where len(crime_refs) > 0
),

links as (
    select case when is_call then 'CALL' else 'REFERRAL' end as route, report_ref, crime_ref,
           bool_or(by_crime) as by_crime, bool_or(by_report) as by_report,
    from stated_links
    group by is_call, report_ref, crime_ref
),

final as (
    select
        links.route,
        links.report_ref,
        links.crime_ref,
        list_filter([
            case when links.by_crime then
                case links.route when 'CALL' then 'crime->incident' else 'crime->referral' end end,
            case when links.by_report then
                case links.route when 'CALL' then 'incident->crime' else 'referral->crime' end end
        ], lambda source: source is not null) as link_sources,
        crimes.crime_id is not null as crime_exists,
        crimes.crime_id,
    from links
    left join crimes on crimes.crime_ref = links.crime_ref
)

select * from final
