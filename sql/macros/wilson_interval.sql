-- Wilson score interval for a binomial proportion k/n at 95% (z = 1.959964).
-- Rule: every rate carries a 95% confidence interval (DOMAIN.md, "How the inspectorate measures").
-- Wilson's interval stays inside [0, 1] and behaves on small days and small groups, where the
-- normal approximation would claim false precision. The bounds are clamped to [0, 1] so that
-- floating-point rounding at k = 0 or k = n (1.0000000000000002) cannot leave the unit interval.
create or replace macro wilson_lower(k, n) as (
    case when n > 0 then
        greatest(0.0, least(1.0,
            ((k / n) + 1.959964 ^ 2 / (2 * n)
             - 1.959964 * sqrt((k / n) * (1 - k / n) / n + 1.959964 ^ 2 / (4 * n ^ 2)))
            / (1 + 1.959964 ^ 2 / n)))
    end
);

create or replace macro wilson_upper(k, n) as (
    case when n > 0 then
        greatest(0.0, least(1.0,
            ((k / n) + 1.959964 ^ 2 / (2 * n)
             + 1.959964 * sqrt((k / n) * (1 - k / n) / n + 1.959964 ^ 2 / (4 * n ^ 2)))
            / (1 + 1.959964 ^ 2 / n)))
    end
);
