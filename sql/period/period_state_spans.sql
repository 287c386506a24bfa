-- The spans over which each record of a period export stands the same at every cut-off (worked
-- out when the period is loaded, for <source>_versions.sql). Between its first instant (an
-- incident created, a crime recorded, a referral received) and its last update, a record as it
-- stood only changes at the instants below; from one to the next (valid_from < cut-off <=
-- valid_to) it stands as it stood at the span's end.
with

references_entered as (
    select source, file_row_number, entered_at from period_crime_references
),

changes as (
    -- An incident: created, last updated, closed, a crime referenced on it recorded.
    select 'incidents' as source, file_row_number, created_at as changed_at
    from period_incidents where created_at < updated_at
    union
    select 'incidents', file_row_number, updated_at from period_incidents where created_at < updated_at
    union
    select 'incidents', file_row_number, closed_at
    from period_incidents where closed_at > created_at and closed_at < updated_at
    union
    select 'incidents', incidents.file_row_number, refs.entered_at
    from period_incidents as incidents
    join references_entered as refs on refs.source = 'incidents' and refs.file_row_number = incidents.file_row_number
    where refs.entered_at > incidents.created_at and refs.entered_at < incidents.updated_at
    union
    -- A crime record: recorded, last updated, cancelled or transferred.
    select 'crimes', file_row_number, recorded_at from period_crimes where recorded_at < updated_at
    union
    select 'crimes', file_row_number, updated_at from period_crimes where recorded_at < updated_at
    union
    select 'crimes', file_row_number, cancelled_at
    from period_crimes where cancelled_at > recorded_at and cancelled_at < updated_at
    union
    -- A referral: received, last updated, a crime referenced on it recorded.
    select 'referrals', file_row_number, received_at from period_referrals where received_at < updated_at
    union
    select 'referrals', file_row_number, updated_at from period_referrals where received_at < updated_at
    union
    select 'referrals', referrals.file_row_number, refs.entered_at
    from period_referrals as referrals
    join references_entered as refs on refs.source = 'referrals' and refs.file_row_number = referrals.file_row_number
    where refs.entered_at > referrals.received_at and refs.entered_at < referrals.updated_at
),

final as (
    select
        source,
        file_row_number,
        changed_at as valid_from,
        lead(changed_at) over (partition by source, file_row_number order by changed_at) as valid_to,
    from changes
    qualify valid_to is not null
)

select * from final
