-- The worklist misses nothing the reconciliation found wrong: every candidate with unrecorded
-- crimes, a questionable cancellation or an unresolved rape report is on it, once. Returns the
-- candidates missing from it or listed twice.
with

listed as (
    select route, candidate_ref, count(*) as lines from worklist group by route, candidate_ref
)

select outcomes.route, outcomes.candidate_ref, outcomes.outcome, coalesce(listed.lines, 0) as lines
from candidate_outcomes as outcomes
left join listed on listed.route = outcomes.route and listed.candidate_ref = outcomes.candidate_ref
where (outcomes.unrecorded_crimes > 0
       or outcomes.questionably_cancelled_crimes > 0
       or outcomes.rape_resolution = 'UNRESOLVED')
  and coalesce(listed.lines, 0) <> 1
