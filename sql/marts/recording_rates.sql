-- Recording rates overall, by crime group and by route, with Wilson 95% intervals.
-- Rates count crimes (victims), as the inspectorate does, over matured report days only: days
-- from the start of the lookback window up to $maturity_lag_days before the snapshot, so a
-- verdict is not driven by days whose crimes are still being recorded. Recording rate =
-- recorded / (recorded + unrecorded); transfers and valid cancellations leave the count.
with

matured as (
    select * from candidate_outcomes
    where report_day >= cast($snapshot_date as date) - cast($lookback_days as integer)
      and report_day < cast($snapshot_date as date) - cast($maturity_lag_days as integer)
),

grouped as (
    select
        case when grouping(crime_group) = 0 then 'crime_group'
             when grouping(route) = 0 then 'route'
             else 'overall' end as dimension,
        coalesce(
            case when grouping(crime_group) = 0 then crime_group end,
            case when grouping(route) = 0 then route end,
            'ALL'
        ) as dimension_value,
        sum(recorded_crimes + unrecorded_crimes) as candidate_crimes,
        sum(recorded_crimes) as recorded,
        sum(recorded_within_window) as recorded_within_24h,
        sum(unrecorded_crimes) as unrecorded,
        sum(pending_crimes) as pending,
        min(report_day) as first_report_day,
        max(report_day) as last_report_day,
    from matured
    group by grouping sets ((), (crime_group), (route))
),

final as (
    select
        $force_code as force_code,
        cast($snapshot_date as date) as snapshot_date,
        dimension,
        dimension_value,
        cast(candidate_crimes as bigint) as candidate_crimes,
        cast(recorded as bigint) as recorded,
        cast(recorded_within_24h as bigint) as recorded_within_24h,
        cast(unrecorded as bigint) as unrecorded,
        cast(pending as bigint) as pending,
        recorded / nullif(candidate_crimes, 0) as recording_rate,
        wilson_lower(recorded, candidate_crimes) as rate_ci_lower,
        wilson_upper(recorded, candidate_crimes) as rate_ci_upper,
        unrecorded / nullif(candidate_crimes, 0) as unrecorded_rate,
        recorded_within_24h / nullif(recorded, 0) as share_within_24h,
        first_report_day,
        last_report_day,
    from grouped
    order by
        case dimension when 'overall' then 0 when 'crime_group' then 1 else 2 end,
        dimension_value
)

select * from final
