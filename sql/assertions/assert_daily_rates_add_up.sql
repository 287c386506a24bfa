-- The per-day rates and the window rates are two views of the same candidates: summed over the
-- matured days, the daily counts equal the `matured` counts of recording_metrics for every
-- dimension both hold. Returns the dimensions where they differ.
with

daily as (
    select
        dimension,
        dimension_value,
        sum(candidate_crimes) as candidate_crimes,
        sum(recorded) as recorded,
        sum(recorded_within_24h) as recorded_within_24h,
        sum(unrecorded) as unrecorded,
    from daily_recording_rates
    where is_matured
    group by dimension, dimension_value
),

matured as (
    select dimension, dimension_value, candidate_crimes, recorded, recorded_within_24h, unrecorded
    from recording_metrics
    where window_name = 'matured' and dimension in (select distinct dimension from daily_recording_rates)
)

select
    coalesce(daily.dimension, matured.dimension) as dimension,
    coalesce(daily.dimension_value, matured.dimension_value) as dimension_value,
    daily.candidate_crimes as daily_candidate_crimes,
    matured.candidate_crimes as window_candidate_crimes,
from daily
full outer join matured
    on matured.dimension = daily.dimension and matured.dimension_value = daily.dimension_value
where daily.candidate_crimes is distinct from matured.candidate_crimes
   or daily.recorded is distinct from matured.recorded
   or daily.recorded_within_24h is distinct from matured.recorded_within_24h
   or daily.unrecorded is distinct from matured.unrecorded
