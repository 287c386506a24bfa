-- Every crime record of the snapshot is accounted for exactly one way: stated to a report (an
-- explicit link, whether or not that report is in this snapshot), probably linked to one report,
-- a crime of route OTHER once, or an unlinked N100 classification (not a crime). Returns records
-- counted no way, or counted as a probable link or route OTHER and any other way too.
with

probable as (
    select crime_id, count(*) as links from int_probable_crime_links group by crime_id
),

other_route as (
    select crime_id, count(*) as candidates from int_other_route_candidates group by crime_id
),

ways as (
    select
        crimes.crime_ref,
        crimes.crime_id in (select crime_id from int_crime_links where crime_exists) as is_stated,
        coalesce(probable.links, 0) as probable_links,
        coalesce(other_route.candidates, 0) as other_route_candidates,
        crimes.is_n100 and crimes.incident_ref is null and crimes.referral_ref is null as is_unlinked_n100,
    from stg_crimes as crimes
    left join probable on probable.crime_id = crimes.crime_id
    left join other_route on other_route.crime_id = crimes.crime_id
),

counted as (
    select *, cast(is_stated as integer) + probable_links + other_route_candidates as ways,
    from ways
)

select crime_ref, is_stated, probable_links, other_route_candidates, is_unlinked_n100
from counted
where (ways = 0 and not is_unlinked_n100)
   or (probable_links + other_route_candidates > 0 and (ways > 1 or is_unlinked_n100))
