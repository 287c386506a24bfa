-- The rates the verdict and the gate judge: overall, by crime group, by route, and for the
-- domestic-abuse flagged crimes and the rape reports (the inspectorate's breakdowns, DOMAIN.md),
-- over the matured report days of the lookback window, with Wilson 95% intervals. They are the
-- `matured` rows of recording_metrics (one definition of every rate; that mart also holds the
-- rolling 28 days, the unflagged complements and the beat breakdown). Route OTHER (crimes with no incident or
-- referral) counts in the overall rate, recorded by definition: see int_other_route_candidates.
with

matured as (
    select * from recording_metrics
    where window_name = 'matured'
      and (dimension in ('overall', 'crime_group', 'route')
           or (dimension = 'domestic_abuse' and dimension_value = 'FLAGGED')
           or (dimension = 'rape_report' and dimension_value = 'RAPE_REPORT'))
),

final as (
    select
        force_code,
        snapshot_date,
        dimension,
        dimension_value,
        candidate_crimes,
        recorded,
        recorded_within_24h,
        unrecorded,
        pending,
        recording_rate,
        rate_ci_lower,
        rate_ci_upper,
        unrecorded_rate,
        share_within_24h,
        first_report_day,
        last_report_day,
        recorded_via_probable_link,
        removed,
        share_ci_lower,
        share_ci_upper,
        recorded_a_year,
        est_unrecorded_a_year,
        est_unrecorded_a_year_lower,
        est_unrecorded_a_year_upper,
    from matured
    order by
        case dimension when 'overall' then 0 when 'crime_group' then 1 when 'route' then 2
                       when 'domestic_abuse' then 3 else 4 end,
        dimension_value
)

select * from final
