-- Crime records of this snapshot, with their Home Office offence classification.
with

crimes as (
    select * from raw_crimes
),

offence_codes as (
    select code, crime_group, subgroup, rape from ref_ho_offence_codes
),

final as (
    select
        crimes.crime_ref,
        crimes.force_code,
        crimes.incident_ref,
        crimes.referral_ref,
        crimes.reported_at,
        crimes.recorded_at,
        crimes.ho_offence_code,
        offence_codes.crime_group,
        offence_codes.subgroup,
        coalesce(offence_codes.rape, false) as is_rape,
        crimes.ho_offence_code = 'N100' as is_n100,
        -- Rule 4: cancelling rape or serious violence needs the FCR or a DDM. Serious violence here
        -- is homicide, attempted murder and assault with intent to cause serious harm.
        coalesce(offence_codes.rape, false)
            or crimes.ho_offence_code in ('1', '2', '5D') as needs_senior_cancellation_authority,
        crimes.status,
        crimes.cancellation_code,
        crimes.cancelled_at,
        crimes.cancellation_authority,
        crimes.victim_person_key,
        crimes.beat_code,
        list_contains(crimes.flags, 'DA') as is_domestic_abuse,
    from crimes
    left join offence_codes on offence_codes.code = crimes.ho_offence_code
)

select * from final
