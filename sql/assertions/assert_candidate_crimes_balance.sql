-- Every crime a candidate expects is accounted for exactly once: recorded, removed (transferred
-- or validly cancelled), unrecorded or pending. Returns the candidates where that fails.
select
    candidate_ref,
    expected_crimes,
    recorded_crimes,
    removed_crimes,
    unrecorded_crimes,
    pending_crimes,
from candidate_outcomes
where recorded_crimes + removed_crimes + unrecorded_crimes + pending_crimes <> expected_crimes
