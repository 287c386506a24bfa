-- Which crime groups may describe the same offence, for probable links (a repeat call, or a crime
-- record nobody linked to its report). A call taker codes what the caller says; the record
-- carries what the officer found: an "assault" call recorded as a sexual assault or a robbery, a
-- "theft" recorded as a burglary, damage to a car recorded as vehicle interference. Every group
-- is compatible with itself; a report with no group hint is compatible with any group (decided
-- where the table is used). One pair per line, read both ways.
with

listed_pairs (group_a, group_b) as (
    values
        ('VIOLENCE_AGAINST_THE_PERSON', 'SEXUAL_OFFENCES'),
        ('VIOLENCE_AGAINST_THE_PERSON', 'ROBBERY'),
        ('VIOLENCE_AGAINST_THE_PERSON', 'PUBLIC_ORDER_OFFENCES'),
        ('VIOLENCE_AGAINST_THE_PERSON', 'POSSESSION_OF_WEAPONS'),
        ('ROBBERY', 'THEFT'),
        ('BURGLARY', 'THEFT'),
        ('VEHICLE_OFFENCES', 'THEFT'),
        ('BURGLARY', 'CRIMINAL_DAMAGE_AND_ARSON'),
        ('VEHICLE_OFFENCES', 'CRIMINAL_DAMAGE_AND_ARSON')
),

crime_groups as (
    select distinct crime_group from ref_ho_offence_codes
),

final as (
    select crime_group as group_a, crime_group as group_b from crime_groups
    union
    select group_a, group_b from listed_pairs
    union
    select group_b, group_a from listed_pairs
)

select * from final
