-- Every crime record counted for a candidate, and how the two are linked: EXPLICIT (stated by
-- either system, int_crime_links), PROBABLE (int_probable_crime_links: same victim, close in
-- time, compatible group; never mixed with the explicit kind) or OWN_RECORD (route OTHER: the
-- record is the report). A stated reference that matches no record is not a record.
-- Each row carries what the counting of its candidate needs from the report (when it was
-- reported, whether it reported a rape), so int_candidate_outcomes joins only the crime records.
with

candidates as (
    select candidate_id, route, candidate_ref, reported_at, is_rape_report from int_candidates
),

explicit_links as (
    select candidates.candidate_id, links.crime_id, links.route, links.report_ref as candidate_ref,
           links.crime_ref, 'EXPLICIT' as crime_link, candidates.reported_at, candidates.is_rape_report,
    from int_crime_links as links
    join candidates on candidates.route = links.route and candidates.candidate_ref = links.report_ref
    where links.crime_exists
),

probable_links as (
    select links.candidate_id, links.crime_id, links.route, links.report_ref, links.crime_ref, 'PROBABLE',
           candidates.reported_at, candidates.is_rape_report,
    from int_probable_crime_links as links
    join candidates on candidates.candidate_id = links.candidate_id
),

own_records as (
    select candidate_id, crime_id, route, candidate_ref, candidate_ref, 'OWN_RECORD', reported_at, is_rape_report,
    from int_other_route_candidates
),

final as (
    select * from explicit_links
    union all
    select * from probable_links
    union all
    select * from own_records
)

select * from final
