-- Crime records of this snapshot, with their Home Office offence classification and whether a
-- cancellation (or transfer) that took them out of the count stands.
-- Rule 4 (cancellation): a record leaves the count only with a cancellation code; cancelling a rape
--   or serious violence record needs the authority the code demands (cancellation_codes.csv:
--   the FCR for C2, a DDM or the FCR for C1, C3 and C4); a rape ends as a recorded rape, an N100
--   classification or a transfer, so C2 on a rape is always questioned.
-- Rule 4 with rule 3 (C3): C3 says the record duplicates, or is part of, a crime already
--   recorded; one crime per victim, so that crime is another record naming the same victim (live,
--   or itself dealt with: transferred, cancelled, N100; its own outcome is judged on its own). A C3
--   whose victim has no other record in the snapshot duplicates nothing and does not stand: it is
--   how a victim's only crime is cancelled away as "a duplicate" of someone else's. Judged only for a
--   record reported $duplicate_record_days or more after the window start ($window_start): the
--   snapshot holds records created or updated since then, so an earlier one's original may be
--   missing from it (the simulated year's 97 C3 records at the window's edge all were). A record
--   naming no victim cannot be checked, and its C3 stands on the authority rule alone.
with

crimes as (
    select * from raw_crimes
),

offence_codes as (
    select code, crime_group, subgroup, rape from ref_ho_offence_codes
),

duplicate_cancellations as (
    -- The C3 records judged (above): naming a victim, reported far enough into the window.
    select file_row_number, victim_person_key from crimes
    where status = 'CANCELLED' and cancellation_code = 'C3' and victim_person_key is not null
        and reported_at >= cast($window_start as timestamptz) + to_days(cast($duplicate_record_days as integer))
),

duplicates_of_nothing as (
    -- Only the victims of those records are looked up: a few, against every other record.
    select duplicates.file_row_number
    from duplicate_cancellations as duplicates
    anti join (
        select victim_person_key from crimes
        where not (status = 'CANCELLED' and coalesce(cancellation_code = 'C3', false))
            and victim_person_key in (select victim_person_key from duplicate_cancellations)
    ) as originals using (victim_person_key)
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
        nothing.file_row_number is not null as is_duplicate_of_nothing,
    from crimes
    left join offence_codes on offence_codes.code = crimes.ho_offence_code
    left join cancellation_codes on cancellation_codes.code = crimes.cancellation_code
    left join duplicates_of_nothing as nothing on nothing.file_row_number = crimes.file_row_number
),

cancellations_judged as (
    -- Why a cancellation or transfer does not stand (null: it stands), in the registrar's words:
    -- the first of the reasons below that applies.
    select
        *,
        case when status in ('CANCELLED', 'TRANSFERRED') then
            case
                when cancellation_code is null then 'no cancellation code'
                when is_rape and cancellation_code = 'C2' then 'C2 on a rape'
                -- No authority recorded is not the right authority.
                when needs_senior_cancellation_authority and cancellation_authority is null
                    then cancellation_code || ' with no authority recorded'
                when needs_senior_cancellation_authority and not coalesce(
                    cancellation_authority = 'FCR'
                    or (cancellation_authority = 'DDM' and required_authority = 'DDM'),
                    false
                ) then cancellation_code || ' by ' || cancellation_authority || ', needs '
                    || case when required_authority = 'DDM' then 'a DDM or the FCR' else 'the FCR' end
                when is_duplicate_of_nothing then 'C3 but the victim has no other record'
            end
        end as cancellation_issue,
    from classified
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
        cancellation_issue is not null as is_questionable_cancellation,
        cancellation_issue,
        victim_person_key,
        beat_code,
        coalesce(list_contains(flags, 'DA'), false) as is_domestic_abuse,
    from cancellations_judged
)

select * from final
