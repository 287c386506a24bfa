-- A report is one candidate: returns references that appear more than once on a route.
select route, candidate_ref, count(*) as copies
from candidate_outcomes
group by route, candidate_ref
having count(*) > 1
