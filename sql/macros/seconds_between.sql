-- Seconds from one instant to another (negative when `later` is earlier).
-- Rule 2 is measured between instants, not wall-clock readings: this counts microseconds since
-- the epoch, so a clock change inside the 24 hours neither adds nor removes an hour, and it costs
-- a subtraction where date_diff on time zone aware timestamps consults the calendar row by row.
create or replace macro seconds_between(earlier, later) as (
    (epoch_us(later) - epoch_us(earlier)) / 1000000
);
