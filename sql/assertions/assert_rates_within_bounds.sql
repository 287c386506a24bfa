-- Rates are proportions inside their intervals: returns groups where arithmetic went wrong.
select dimension, dimension_value, recording_rate, rate_ci_lower, rate_ci_upper
from recording_rates
where recorded > candidate_crimes
   or recording_rate < rate_ci_lower - 1e-9
   or recording_rate > rate_ci_upper + 1e-9
   or rate_ci_lower < 0
   or rate_ci_upper > 1
