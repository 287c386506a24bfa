-- Counts and rates per (snapshot date, report day): every report day of the lookback window as
-- this snapshot sees it, overall and by crime group, route and domestic-abuse flag.
-- Rule 2 (late records restate earlier days): a day's unrecorded crimes become "recorded late"
-- in a later snapshot when the record appears, so each snapshot stores its own view of every
-- day; the previous_* columns hold the previous snapshot's view of the same day and group
-- (previous_daily_recording_rates, empty when there is none), so a restatement is visible here.
-- is_matured: the day is older than $maturity_lag_days, as the verdict's rates require.
with

days as (
    select * from candidate_outcomes
    where report_day >= cast($snapshot_date as date) - cast($lookback_days as integer)
      and report_day < cast($snapshot_date as date)
),

grouped as (
    select
        report_day,
        case when grouping(crime_group) = 0 then 'crime_group'
             when grouping(route) = 0 then 'route'
             when grouping(domestic_abuse) = 0 then 'domestic_abuse'
             else 'overall' end as dimension,
        coalesce(
            case when grouping(crime_group) = 0 then crime_group end,
            case when grouping(route) = 0 then route end,
            case when grouping(domestic_abuse) = 0 then domestic_abuse end,
            'ALL'
        ) as dimension_value,
        sum(recorded_crimes + unrecorded_crimes) as candidate_crimes,
        sum(recorded_crimes) as recorded,
        sum(recorded_within_window) as recorded_within_24h,
        sum(unrecorded_crimes) as unrecorded,
        sum(pending_crimes) as pending,
        sum(removed_crimes) as removed,
    from (
        select
            *,
            case when is_domestic_abuse then 'FLAGGED' else 'NOT_FLAGGED' end as domestic_abuse,
        from days
    )
    group by grouping sets ((report_day), (report_day, crime_group), (report_day, route),
                            (report_day, domestic_abuse))
),

previous as (
    select snapshot_date, report_day, dimension, dimension_value, recorded, unrecorded, pending
    from previous_daily_recording_rates
),

final as (
    select
        $force_code as force_code,
        cast($snapshot_date as date) as snapshot_date,
        grouped.report_day,
        grouped.report_day < cast($snapshot_date as date) - cast($maturity_lag_days as integer) as is_matured,
        grouped.dimension,
        grouped.dimension_value,
        cast(grouped.candidate_crimes as bigint) as candidate_crimes,
        cast(grouped.recorded as bigint) as recorded,
        cast(grouped.recorded_within_24h as bigint) as recorded_within_24h,
        cast(grouped.unrecorded as bigint) as unrecorded,
        cast(grouped.pending as bigint) as pending,
        cast(grouped.removed as bigint) as removed,
        grouped.recorded / nullif(grouped.candidate_crimes, 0) as recording_rate,
        wilson_lower(grouped.recorded, grouped.candidate_crimes) as rate_ci_lower,
        wilson_upper(grouped.recorded, grouped.candidate_crimes) as rate_ci_upper,
        grouped.recorded_within_24h / nullif(grouped.recorded, 0) as share_within_24h,
        previous.snapshot_date as previous_snapshot_date,
        cast(previous.recorded as bigint) as previous_recorded,
        cast(previous.unrecorded as bigint) as previous_unrecorded,
        cast(previous.pending as bigint) as previous_pending,
    from grouped
    left join previous
        on previous.report_day = grouped.report_day
        and previous.dimension = grouped.dimension
        and previous.dimension_value = grouped.dimension_value
    order by
        grouped.report_day,
        case grouped.dimension
            when 'overall' then 0 when 'crime_group' then 1 when 'route' then 2 else 3 end,
        grouped.dimension_value
)

select * from final
