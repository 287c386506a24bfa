-- A crime of route OTHER is its own report: it can be recorded, cancelled or transferred, never
-- unrecorded or pending, unless its cancellation does not stand (questionable: the record is gone
-- and no valid reason took it). Returns route OTHER candidates where the count says otherwise.
select candidate_ref, outcome, expected_crimes, recorded_crimes, unrecorded_crimes, pending_crimes
from candidate_outcomes
where route = 'OTHER'
  and (expected_crimes <> 1
       or (unrecorded_crimes + pending_crimes <> 0 and questionably_cancelled_crimes = 0))
