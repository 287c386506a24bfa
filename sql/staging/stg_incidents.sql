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
        -- The attributes below are defined once, in macros/incident_flags.sql (int_candidates works
        -- them out for candidates only).
        incident_is_domestic_abuse(incidents.qualifiers, incidents.opening_code, incidents.closing_code) as is_domestic_abuse,
        incident_has_vulnerable_victim(incidents.qualifiers) as has_vulnerable_victim,
        incident_is_rape_report(incidents.opening_code, incidents.closing_code) as is_rape_report,
        opening.crime_group_hint as opening_group_hint,
        closing.crime_group_hint as closing_group_hint,
        incident_crime_group_hint(
            coalesce(opening.crime_indicative, false), opening.crime_group_hint,
            coalesce(closing.crime_indicative, false), closing.crime_group_hint, incidents.qualifiers
        ) as crime_group_hint,
    from incidents
    left join incident_codes as opening on opening.code = incidents.opening_code
    left join incident_codes as closing on closing.code = incidents.closing_code
)

select * from final
