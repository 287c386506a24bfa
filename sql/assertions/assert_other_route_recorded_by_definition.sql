-- A crime of route OTHER is its own report: it can be recorded, cancelled or transferred, never
-- unrecorded or pending. Returns route OTHER candidates where the count says otherwise.
select candidate_ref, outcome, expected_crimes, recorded_crimes, unrecorded_crimes, pending_crimes
from candidate_outcomes
where route = 'OTHER'
  and (expected_crimes <> 1 or unrecorded_crimes <> 0 or pending_crimes <> 0)
