-- Every crime record counted for a candidate, and how the two are linked: EXPLICIT (stated by
-- either system, int_crime_links), PROBABLE (int_probable_crime_links: same victim, close in
-- time, compatible group; never mixed with the explicit kind) or OWN_RECORD (route OTHER: the
-- record is the report). A stated reference that matches no record is not a record.
with

candidates as (
    select candidate_id, route, candidate_ref from int_candidates
),

explicit_links as (
    select candidates.candidate_id, links.crime_id, links.route, links.report_ref as candidate_ref,
           links.crime_ref, 'EXPLICIT' as crime_link
    from int_crime_links as links
    join candidates on candidates.route = links.route and candidates.candidate_ref = links.report_ref
    where links.crime_exists
),

probable_links as (
    select candidate_id, crime_id, route, report_ref, crime_ref, 'PROBABLE' from int_probable_crime_links
),

own_records as (
    select candidate_id, crime_id, route, candidate_ref, candidate_ref, 'OWN_RECORD' from int_other_route_candidates
),

final as (
    select * from explicit_links
    union all
    select * from probable_links
    union all
    select * from own_records
)

select * from final
