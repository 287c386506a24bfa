-- Rates are proportions inside their intervals: returns groups, in any window or on any day,
-- where the arithmetic went wrong.
with

rates as (
    select 'recording_metrics ' || window_name as source, dimension, dimension_value,
           candidate_crimes, recorded, recorded_within_24h, recording_rate, rate_ci_lower, rate_ci_upper
    from recording_metrics
    union all
    select 'daily_recording_rates ' || report_day, dimension, dimension_value,
           candidate_crimes, recorded, recorded_within_24h, recording_rate, rate_ci_lower, rate_ci_upper
    from daily_recording_rates
)

select source, dimension, dimension_value, recording_rate, rate_ci_lower, rate_ci_upper
from rates
where recorded > candidate_crimes
   or recorded_within_24h > recorded
   or recording_rate < rate_ci_lower - 1e-9
   or recording_rate > rate_ci_upper + 1e-9
   or rate_ci_lower < 0
   or rate_ci_upper > 1
