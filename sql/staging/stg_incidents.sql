-- Incidents of this snapshot, with what their codes say.
-- Rule 1 (candidate crime): a crime-indicative opening code, closing code or qualifier makes an
-- incident a candidate crime, whatever it was closed as.
with

incidents as (
    select * from raw_incidents
),

incident_codes as (
    select code, crime_indicative, crime_group_hint from ref_incident_codes
),

crime_qualifiers as (
    select code from ref_incident_qualifiers where crime_indicative
),

final as (
    select
        incidents.incident_ref,
        incidents.force_code,
        incidents.created_at,
        cast(timezone($time_zone, incidents.created_at) as date) as incident_day,
        incidents.channel,
        incidents.opening_code,
        incidents.closing_code,
        incidents.closed_at,
        incidents.qualifiers,
        incidents.victim_count,
        incidents.victim_person_keys,
        incidents.beat_code,
        incidents.crime_refs,
        coalesce(opening.crime_indicative, false) as opening_is_crime,
        coalesce(closing.crime_indicative, false) as closing_is_crime,
        exists (
            select 1 from crime_qualifiers
            where list_contains(incidents.qualifiers, crime_qualifiers.code)
        ) as has_crime_qualifier,
        list_contains(incidents.qualifiers, 'DA') as is_domestic_abuse,
        list_contains(incidents.qualifiers, 'VULN') or list_contains(incidents.qualifiers, 'CHILD')
            as has_vulnerable_victim,
        incidents.opening_code = 'CR-RAPE' or incidents.closing_code = 'CR-RAPE' as is_rape_report,
        -- The group a call taker's codes point to, used when no crime record says better.
        coalesce(
            case when opening.crime_indicative then opening.crime_group_hint end,
            case when closing.crime_indicative then closing.crime_group_hint end,
            case when list_contains(incidents.qualifiers, 'SEXUAL') then 'SEXUAL_OFFENCES' end,
            case when list_contains(incidents.qualifiers, 'INJURY')
                  or list_contains(incidents.qualifiers, 'WEAPON') then 'VIOLENCE_AGAINST_THE_PERSON' end
        ) as crime_group_hint,
    from incidents
    left join incident_codes as opening on opening.code = incidents.opening_code
    left join incident_codes as closing on closing.code = incidents.closing_code
)

select * from final
