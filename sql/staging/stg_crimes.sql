-- Crime records of this snapshot, with their Home Office offence classification and whether a
-- cancellation (or transfer) that took them out of the count stands.
-- Rule 4 (cancellation): a record leaves the count only with a cancellation code; cancelling a rape
--   or serious violence record needs the authority the code demands (cancellation_codes.csv:
--   the FCR for C2, a DDM or the FCR for C1, C3 and C4); a rape ends as a recorded rape, an N100
--   classification or a transfer, so C2 on a rape is always questioned.
with

crimes as (
    select * from raw_crimes
),

offence_codes as (
    select code, crime_group, subgroup, rape from ref_ho_offence_codes
),

cancellation_codes as (
    select code, authority_required_for_rape_or_serious_violence as required_authority
    from ref_cancellation_codes
),

classified as (
    select
        crimes.*,
        offence_codes.crime_group,
        offence_codes.subgroup,
        coalesce(offence_codes.rape, false) as is_rape,
        crimes.ho_offence_code = 'N100' as is_n100,
        -- Serious violence here is homicide, attempted murder and assault with intent to cause
        -- serious harm (the offences whose cancellation the registrar must see).
        coalesce(offence_codes.rape, false)
            or crimes.ho_offence_code in ('1', '2', '5D') as needs_senior_cancellation_authority,
        cancellation_codes.required_authority,
    from crimes
    left join offence_codes on offence_codes.code = crimes.ho_offence_code
    left join cancellation_codes on cancellation_codes.code = crimes.cancellation_code
),

final as (
    select
        -- A number for joining within this run only (references are long strings).
        file_row_number as crime_id,
        crime_ref,
        force_code,
        incident_ref,
        referral_ref,
        reported_at,
        recorded_at,
        ho_offence_code,
        crime_group,
        subgroup,
        is_rape,
        is_n100,
        needs_senior_cancellation_authority,
        status,
        cancellation_code,
        cancelled_at,
        cancellation_authority,
        status in ('CANCELLED', 'TRANSFERRED') and (
            cancellation_code is null
            -- No authority recorded is not the right authority.
            or (needs_senior_cancellation_authority and not coalesce(
                cancellation_authority = 'FCR'
                or (cancellation_authority = 'DDM' and required_authority = 'DDM'),
                false
            ))
            or (is_rape and cancellation_code = 'C2')
        ) as is_questionable_cancellation,
        victim_person_key,
        beat_code,
        coalesce(list_contains(flags, 'DA'), false) as is_domestic_abuse,
    from classified
)

select * from final
