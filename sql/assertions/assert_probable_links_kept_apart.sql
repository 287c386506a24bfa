-- Probable links are only ever made for what the explicit links left: a crime record is linked
-- probably only when no report states it and it states no report, to one report at most, and
-- only to a report with no existing crime of its own that is not a repeat call. Returns the
-- probable links that break this.
with

checked as (
    select
        probable.route,
        probable.report_ref,
        probable.crime_ref,
        case
            when probable.crime_id in (select crime_id from int_crime_links) then 'crime already stated'
            when count(*) over (partition by probable.crime_id) > 1 then 'crime linked to several reports'
            when probable.candidate_id in (select candidate_id from int_duplicate_calls) then 'report is a repeat call'
            when probable.candidate_id in (
                select candidate_id from int_candidate_crimes where crime_link = 'EXPLICIT'
            ) then 'report already has a crime'
        end as problem,
    from int_probable_crime_links as probable
)

select * from checked where problem is not null
