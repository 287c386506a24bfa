-- Incidents of this snapshot, with what their codes say. A view, not a table (pipelines/reconcile.py
-- VIEW_FILES): most incidents are never candidates, so each query reads only what it needs; the
-- local calendar day is worked out for candidates only (int_candidates).
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
    select coalesce(list(code), []) as codes from ref_incident_qualifiers where crime_indicative
),

final as (
    select
        incidents.incident_ref,
        incidents.file_row_number as incident_row,
        incidents.force_code,
        incidents.created_at,
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
        coalesce(list_has_any(incidents.qualifiers, (select codes from crime_qualifiers)), false)
            as has_crime_qualifier,
        -- Rule 6 (downgrade), the code half of it: a crime-coded opening closed with a non-crime
        -- code. int_candidate_outcomes adds the other half: no crime record linked to it.
        coalesce(opening.crime_indicative, false)
            and incidents.closing_code is not null
            and not coalesce(closing.crime_indicative, false) as is_closed_as_non_crime,
        coalesce(list_contains(incidents.qualifiers, 'DA'), false) as is_domestic_abuse,
        coalesce(list_contains(incidents.qualifiers, 'VULN') or list_contains(incidents.qualifiers, 'CHILD'), false)
            as has_vulnerable_victim,
        coalesce(incidents.opening_code = 'CR-RAPE' or incidents.closing_code = 'CR-RAPE', false) as is_rape_report,
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
