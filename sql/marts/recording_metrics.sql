-- Recording metrics over two windows of matured report days, overall and by crime group,
-- domestic-abuse flag, rape report, route and beat (area), counted in crimes (victims) as the
-- inspectorate does. The verdict's rates (recording_rates) are the `matured` rows of this mart.
-- Windows: `matured` = from the start of the lookback window ($lookback_days) up to
--   $maturity_lag_days before the snapshot (days younger are still being recorded);
--   `rolling_28d` = the last $rolling_window_days matured days (what changed lately).
-- Recording rate r = recorded / (recorded + unrecorded): pending crimes have not had their
--   24 hours yet; transfers, valid cancellations and probable repeat calls leave the count.
--   Every rate carries a Wilson 95% interval (sql/macros/wilson_interval.sql).
-- Share within 24 hours = crimes recorded within the recording window / crimes recorded.
-- Estimated unrecorded crimes a year = recorded crimes a year x (1 - r) / r (DOMAIN.md), the
--   recorded crimes of the window scaled to 365.25 days; its range comes from the rate's interval.
-- recorded_via_probable_link: recorded crimes that rest on a probable link, not a stated one.
with

windows as (
    select
        'matured' as window_name,
        cast($snapshot_date as date) - cast($lookback_days as integer) as first_day,
        cast($snapshot_date as date) - cast($maturity_lag_days as integer) - 1 as last_day,
    union all
    select
        'rolling_28d',
        greatest(
            cast($snapshot_date as date) - cast($lookback_days as integer),
            cast($snapshot_date as date) - cast($maturity_lag_days as integer) - cast($rolling_window_days as integer)
        ),
        cast($snapshot_date as date) - cast($maturity_lag_days as integer) - 1
),

outcomes as (
    select
        windows.window_name,
        windows.first_day,
        windows.last_day,
        outcomes.crime_group,
        case when outcomes.is_domestic_abuse then 'FLAGGED' else 'NOT_FLAGGED' end as domestic_abuse,
        -- Rape reports are calls and referrals: a rape record with no report (route OTHER) is
        -- recorded by definition and would lift the rate of the reports.
        case when outcomes.is_rape_report and outcomes.route <> 'OTHER' then 'RAPE_REPORT'
             else 'NOT_RAPE_REPORT' end as rape_report,
        outcomes.route,
        coalesce(outcomes.beat_code, 'UNKNOWN') as beat,
        outcomes.recorded_crimes,
        outcomes.recorded_within_window,
        case when outcomes.crime_link = 'PROBABLE' then outcomes.recorded_crimes else 0 end
            as recorded_via_probable_link,
        outcomes.unrecorded_crimes,
        outcomes.pending_crimes,
        outcomes.removed_crimes,
    from candidate_outcomes as outcomes
    join windows on outcomes.report_day between windows.first_day and windows.last_day
),

grouped as (
    select
        window_name,
        first_day,
        last_day,
        case when grouping(crime_group) = 0 then 'crime_group'
             when grouping(domestic_abuse) = 0 then 'domestic_abuse'
             when grouping(rape_report) = 0 then 'rape_report'
             when grouping(route) = 0 then 'route'
             when grouping(beat) = 0 then 'beat'
             else 'overall' end as dimension,
        coalesce(
            case when grouping(crime_group) = 0 then crime_group end,
            case when grouping(domestic_abuse) = 0 then domestic_abuse end,
            case when grouping(rape_report) = 0 then rape_report end,
            case when grouping(route) = 0 then route end,
            case when grouping(beat) = 0 then beat end,
            'ALL'
        ) as dimension_value,
        sum(recorded_crimes + unrecorded_crimes) as candidate_crimes,
        sum(recorded_crimes) as recorded,
        sum(recorded_within_window) as recorded_within_24h,
        sum(recorded_via_probable_link) as recorded_via_probable_link,
        sum(unrecorded_crimes) as unrecorded,
        sum(pending_crimes) as pending,
        sum(removed_crimes) as removed,
    from outcomes
    group by grouping sets (
        (window_name, first_day, last_day),
        (window_name, first_day, last_day, crime_group),
        (window_name, first_day, last_day, domestic_abuse),
        (window_name, first_day, last_day, rape_report),
        (window_name, first_day, last_day, route),
        (window_name, first_day, last_day, beat)
    )
),

rates as (
    select
        *,
        last_day - first_day + 1 as window_days,
        recorded / nullif(candidate_crimes, 0) as recording_rate,
        wilson_lower(recorded, candidate_crimes) as rate_ci_lower,
        wilson_upper(recorded, candidate_crimes) as rate_ci_upper,
        recorded * 365.25 / (last_day - first_day + 1) as recorded_a_year,
    from grouped
),

final as (
    select
        $force_code as force_code,
        cast($snapshot_date as date) as snapshot_date,
        window_name,
        first_day as first_report_day,
        last_day as last_report_day,
        cast(window_days as integer) as window_days,
        dimension,
        dimension_value,
        cast(candidate_crimes as bigint) as candidate_crimes,
        cast(recorded as bigint) as recorded,
        cast(recorded_within_24h as bigint) as recorded_within_24h,
        cast(recorded_via_probable_link as bigint) as recorded_via_probable_link,
        cast(unrecorded as bigint) as unrecorded,
        cast(pending as bigint) as pending,
        cast(removed as bigint) as removed,
        recording_rate,
        rate_ci_lower,
        rate_ci_upper,
        unrecorded / nullif(candidate_crimes, 0) as unrecorded_rate,
        recorded_within_24h / nullif(recorded, 0) as share_within_24h,
        wilson_lower(recorded_within_24h, recorded) as share_ci_lower,
        wilson_upper(recorded_within_24h, recorded) as share_ci_upper,
        recorded_a_year,
        recorded_a_year * (1 - recording_rate) / nullif(recording_rate, 0) as est_unrecorded_a_year,
        -- The rate's upper bound gives the smallest estimate, its lower bound the largest.
        recorded_a_year * (1 - rate_ci_upper) / nullif(rate_ci_upper, 0) as est_unrecorded_a_year_lower,
        recorded_a_year * (1 - rate_ci_lower) / nullif(rate_ci_lower, 0) as est_unrecorded_a_year_upper,
    from rates
    order by
        window_name,
        case dimension
            when 'overall' then 0 when 'crime_group' then 1 when 'route' then 2
            when 'domestic_abuse' then 3 when 'rape_report' then 4 else 5 end,
        dimension_value
)

select * from final
