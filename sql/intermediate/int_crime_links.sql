-- Explicit links between crime records and the reports they came from, in every direction the
-- systems record them: crime -> incident, incident -> crimes, crime -> referral, referral -> crimes.
-- A link counts once whichever side recorded it; `link_sources` says which sides did.
with

crimes as (
    select crime_ref, incident_ref, referral_ref from stg_crimes
),

incident_crime_refs as (
    select incident_ref, unnest(crime_refs) as crime_ref from stg_incidents
),

referral_crime_refs as (
    select referral_ref, unnest(crime_refs) as crime_ref from stg_referrals
),

stated_links as (
    select 'CALL' as route, incident_ref as report_ref, crime_ref, 'crime->incident' as link_source
    from crimes where incident_ref is not null
    union all
    select 'CALL', incident_ref, crime_ref, 'incident->crime' from incident_crime_refs
    union all
    select 'REFERRAL', referral_ref, crime_ref, 'crime->referral'
    from crimes where referral_ref is not null
    union all
    select 'REFERRAL', referral_ref, crime_ref, 'referral->crime' from referral_crime_refs
),

final as (
    select
        stated_links.route,
        stated_links.report_ref,
        stated_links.crime_ref,
        list_sort(list_distinct(list(stated_links.link_source))) as link_sources,
        -- A reference typed on a log that matches no record in this snapshot is not a record.
        bool_or(crimes.crime_ref is not null) as crime_exists,
    from stated_links
    left join crimes on crimes.crime_ref = stated_links.crime_ref
    group by stated_links.route, stated_links.report_ref, stated_links.crime_ref
)

select * from final
