-- Public-protection and partner referrals of this snapshot.
with

referrals as (
    select * from raw_referrals
),

offence_codes as (
    select code, crime_group, rape from ref_ho_offence_codes
),

final as (
    select
        referrals.referral_ref,
        referrals.file_row_number as referral_row,
        referrals.force_code,
        referrals.received_at,
        cast(timezone($time_zone, referrals.received_at) as date) as referral_day,
        referrals.source_agency,
        referrals.team,
        referrals.discloses_offence,
        referrals.disclosed_offence_code,
        referrals.victim_person_key,
        referrals.crime_refs,
        coalesce(offence_codes.rape, false) as is_rape_report,
        -- The receiving team is the best hint of the offence when no code was given.
        coalesce(
            offence_codes.crime_group,
            case referrals.team
                when 'SEXUAL_OFFENCES' then 'SEXUAL_OFFENCES'
                when 'DOMESTIC_ABUSE' then 'VIOLENCE_AGAINST_THE_PERSON'
                when 'CHILD_PROTECTION' then 'VIOLENCE_AGAINST_THE_PERSON'
                when 'ADULT_SAFEGUARDING' then 'VIOLENCE_AGAINST_THE_PERSON'
            end
        ) as crime_group_hint,
        referrals.team = 'DOMESTIC_ABUSE' as is_domestic_abuse,
        referrals.team in ('CHILD_PROTECTION', 'ADULT_SAFEGUARDING') as has_vulnerable_victim,
    from referrals
    left join offence_codes on offence_codes.code = referrals.disclosed_offence_code
)

select * from final
