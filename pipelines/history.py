"""A force's marts read across snapshots: each report day as its latest snapshot sees it.

A snapshot restates the days before it: a crime recorded late turns yesterday's "unrecorded" into
"recorded late". So a day is best judged by the latest snapshot in which it is *settled*: inside
that snapshot's lookback window and older than its maturity lag, exactly the days its
`recording_rates` counted. Every figure here that spans more than one run (the 90-day trend, a
period report, what changed since the previous run) reads the marts that way, so late records
count and no crime is counted twice.

Where the reconciliation writes a per-(snapshot, report day) mart (`daily_recording_rates`), it is
read instead of summing `candidate_outcomes` here; both give the same counts.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import lake
from pipelines.reconcile import NO_PROGRESS_BAR

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
WILSON_MACRO = SQL_DIR / "macros" / "wilson_interval.sql"
DAILY_RATES_MART = "daily_recording_rates"
DAILY_RATES_COLUMNS = {"snapshot_date", "report_day", "dimension", "dimension_value", "candidate_crimes", "recorded",
                       "recorded_within_24h", "unrecorded", "pending"}
COUNT_COLUMNS = ("candidate_crimes", "recorded", "recorded_within_24h", "unrecorded", "pending")

# Counts of one report day, overall, by crime group and by route, from the snapshot that settles
# the day (day_sources). The same sums as sql/marts/recording_rates.sql, one day at a time.
DAY_COUNTS_FROM_OUTCOMES = """
with

outcomes as (
    select * from read_parquet($files, hive_partitioning = false, union_by_name = true)
),

settled as (
    select outcomes.*
    from outcomes
    join day_sources using (snapshot_date, report_day)
),

grouped as (
    select
        report_day,
        snapshot_date,
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
    from settled
    group by grouping sets ((report_day, snapshot_date), (report_day, snapshot_date, crime_group),
                            (report_day, snapshot_date, route))
),

final as (
    select
        report_day,
        snapshot_date,
        dimension,
        dimension_value,
        cast(candidate_crimes as bigint) as candidate_crimes,
        cast(recorded as bigint) as recorded,
        cast(recorded_within_24h as bigint) as recorded_within_24h,
        cast(unrecorded as bigint) as unrecorded,
        cast(pending as bigint) as pending,
    from grouped
)

select * from final
"""

DAY_COUNTS_FROM_DAILY_MART = """
with

daily as (
    select * from read_parquet($files, hive_partitioning = false, union_by_name = true)
),

final as (
    select
        daily.report_day,
        daily.snapshot_date,
        daily.dimension,
        daily.dimension_value,
        cast(daily.candidate_crimes as bigint) as candidate_crimes,
        cast(daily.recorded as bigint) as recorded,
        cast(daily.recorded_within_24h as bigint) as recorded_within_24h,
        cast(daily.unrecorded as bigint) as unrecorded,
        cast(daily.pending as bigint) as pending,
    from daily
    join day_sources using (snapshot_date, report_day)
)

select * from final
"""

# Rates over bins of report days (one bin = the whole period, or a week of the trend), with the
# project's one definition of the Wilson interval (sql/macros/wilson_interval.sql).
BINNED_RATES = """
with

days as (
    select * from day_counts
),

binned as (
    select
        cast(floor(date_diff('day', report_day, cast($last_day as date)) / $bin_days) as integer) as bin,
        dimension,
        dimension_value,
        min(report_day) as first_report_day,
        max(report_day) as last_report_day,
        count(distinct report_day) as report_days,
        sum(candidate_crimes) as candidate_crimes,
        sum(recorded) as recorded,
        sum(recorded_within_24h) as recorded_within_24h,
        sum(unrecorded) as unrecorded,
        sum(pending) as pending,
    from days
    group by all
),

final as (
    select
        bin,
        cast($last_day as date) - cast(bin * $bin_days + $bin_days - 1 as integer) as bin_start,
        cast($last_day as date) - cast(bin * $bin_days as integer) as bin_end,
        dimension,
        dimension_value,
        first_report_day,
        last_report_day,
        report_days,
        cast(candidate_crimes as bigint) as candidate_crimes,
        cast(recorded as bigint) as recorded,
        cast(recorded_within_24h as bigint) as recorded_within_24h,
        cast(unrecorded as bigint) as unrecorded,
        cast(pending as bigint) as pending,
        recorded / nullif(candidate_crimes, 0) as recording_rate,
        wilson_lower(recorded, candidate_crimes) as rate_ci_lower,
        wilson_upper(recorded, candidate_crimes) as rate_ci_upper,
        recorded_within_24h / nullif(recorded, 0) as share_within_24h,
        wilson_lower(recorded_within_24h, recorded) as share_ci_lower,
        wilson_upper(recorded_within_24h, recorded) as share_ci_upper,
    from binned
    order by
        case dimension when 'overall' then 0 when 'crime_group' then 1 else 2 end,
        dimension_value,
        bin desc
)

select * from final
"""


def snapshot_dates(lake_dir: Path, mart: str, force: str) -> list[dt.date]:
    """Snapshot dates holding a partition of ``mart`` for ``force``, oldest first."""
    dates = []
    for part in lake.location(lake_dir).glob(f"marts/{mart}/force={force}/snapshot_date=*/{lake.PART_FILE}"):
        try:
            dates.append(dt.date.fromisoformat(part.parent.name.removeprefix("snapshot_date=")))
        except ValueError:
            continue
    return sorted(dates)


def settled_days(snapshot_date: dt.date, lookback_days: int, maturity_lag_days: int) -> tuple[dt.date, dt.date]:
    """First and last report day a snapshot settles (as in sql/marts/recording_rates.sql)."""
    return (
        snapshot_date - dt.timedelta(days=lookback_days),
        snapshot_date - dt.timedelta(days=maturity_lag_days + 1),
    )


def held_day_sources(snapshots: list[dt.date], days: list[dt.date]) -> dict[dt.date, dt.date]:
    """For each day no snapshot settles, the latest snapshot after it: its worklist lists the day's
    reports still overdue, whether the day is still maturing or older than the window but for a
    record updated since (the rates wait for a settled day; the registrar need not)."""
    latest = max(snapshots, default=None)
    return {day: latest for day in days if latest is not None and day < latest}


def day_sources(
    snapshots: list[dt.date], first_day: dt.date, last_day: dt.date, lookback_days: int, maturity_lag_days: int
) -> dict[dt.date, dt.date]:
    """For each report day from first_day to last_day, the latest snapshot that settles it.

    Days no snapshot settles (a gap in the runs, or days still maturing) are left out.
    """
    sources: dict[dt.date, dt.date] = {}
    for snapshot in sorted(snapshots):
        earliest, latest = settled_days(snapshot, lookback_days, maturity_lag_days)
        day = max(earliest, first_day)
        while day <= min(latest, last_day):
            sources[day] = snapshot  # later snapshots overwrite earlier ones
            day += dt.timedelta(days=1)
    return dict(sorted(sources.items()))


@dataclass
class DayView:
    """Report days from first_day to last_day, each from the snapshot that settles it last."""

    force: str
    first_day: dt.date
    last_day: dt.date
    sources: dict[dt.date, dt.date]  # report day -> snapshot date
    counts: pa.Table  # one row per (report_day, dimension, dimension_value)
    read_from: str  # which mart the counts came from
    missing_days: list[dt.date] = field(default_factory=list)
    lake_dir: Path | None = None
    # Report day -> the snapshot whose worklist lists it: the settling one, or for a day no run
    # settles, the latest run after it.
    worklist_sources: dict[dt.date, dt.date] = field(default_factory=dict)

    @property
    def snapshots_used(self) -> list[dt.date]:
        return sorted(set(self.sources.values()))


def _connection(lake_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the Wilson macro, reading ``lake_dir``'s files when given
    (a lake on object storage through its fsspec filesystem)."""
    connection = duckdb.connect(":memory:")
    if lake_dir is not None:
        lake.register_filesystem(connection, lake_dir)
    connection.execute("set TimeZone = 'UTC'")
    connection.execute(NO_PROGRESS_BAR)
    connection.execute(WILSON_MACRO.read_text(encoding="utf-8"))
    return connection


def _daily_mart_usable(lake_dir: Path, force: str, snapshots: list[dt.date]) -> bool:
    available = set(snapshot_dates(lake_dir, DAILY_RATES_MART, force))
    if not snapshots or not set(snapshots) <= available:
        return False
    path = lake.mart_path(lake_dir, DAILY_RATES_MART, force, snapshots[-1])
    names = set(lake.read_parquet_schema(path).names)
    if not DAILY_RATES_COLUMNS <= names:
        log.warning("%s lacks columns %s: summing candidate_outcomes instead", DAILY_RATES_MART,
                    sorted(DAILY_RATES_COLUMNS - names))
        return False
    return True


def day_view(
    lake_dir: Path, force: str, first_day: dt.date, last_day: dt.date, *, lookback_days: int,
    maturity_lag_days: int, as_of: dt.date | None = None,
) -> DayView:
    """Counts of every report day in [first_day, last_day] from the latest snapshot settling it.

    ``as_of`` limits the snapshots read to those dated on or before it (what was known then).
    """
    snapshots = [s for s in snapshot_dates(lake_dir, "candidate_outcomes", force) if as_of is None or s <= as_of]
    sources = day_sources(snapshots, first_day, last_day, lookback_days, maturity_lag_days)
    all_days = [first_day + dt.timedelta(days=offset) for offset in range((last_day - first_day).days + 1)]
    missing = [day for day in all_days if day not in sources]
    used = sorted(set(sources.values()))
    mart = DAILY_RATES_MART if _daily_mart_usable(lake_dir, force, used) else "candidate_outcomes"
    query = DAY_COUNTS_FROM_DAILY_MART if mart == DAILY_RATES_MART else DAY_COUNTS_FROM_OUTCOMES
    with _connection(lake_dir) as connection:
        connection.register(
            "day_sources",
            pa.table({"report_day": list(sources), "snapshot_date": list(sources.values())},
                     schema=pa.schema([("report_day", pa.date32()), ("snapshot_date", pa.date32())])),
        )
        if used:
            files = [str(lake.mart_path(lake_dir, mart, force, snapshot)) for snapshot in used]
            counts = connection.sql(query, params={"files": files}).to_arrow_table()
        else:
            counts = connection.sql(
                "select cast(null as date) as report_day, cast(null as date) as snapshot_date, "
                "'' as dimension, '' as dimension_value, 0::bigint as candidate_crimes, 0::bigint as recorded, "
                "0::bigint as recorded_within_24h, 0::bigint as unrecorded, 0::bigint as pending limit 0"
            ).to_arrow_table()
    worklist_sources = {**held_day_sources(snapshots, missing), **sources}
    return DayView(force, first_day, last_day, sources, counts, mart, missing, lake.location(lake_dir),
                   dict(sorted(worklist_sources.items())))


def binned_rates(view: DayView, bin_days: int) -> list[dict]:
    """Rates with Wilson intervals over bins of ``bin_days`` report days, counted back from the
    view's last day (bin 0 ends on it). ``bin_days`` spanning the view gives one bin: the period."""
    if view.counts.num_rows == 0:
        return []
    with _connection() as connection:
        connection.register("day_counts", view.counts)
        return connection.sql(BINNED_RATES, params={"last_day": view.last_day, "bin_days": bin_days}).to_arrow_table().to_pylist()


def period_rates(view: DayView) -> list[dict]:
    span = (view.last_day - view.first_day).days + 1
    return binned_rates(view, span)


def gate_rates_by_snapshot(lake_dir: Path, force: str, first: dt.date, last: dt.date) -> list[dict]:
    """The `recording_rates` rows of every snapshot from first to last: what each run's gate saw."""
    snapshots = [s for s in snapshot_dates(lake_dir, "recording_rates", force) if first <= s <= last]
    if not snapshots:
        return []
    files = [str(lake.mart_path(lake_dir, "recording_rates", force, snapshot)) for snapshot in snapshots]
    with _connection(lake_dir) as connection:
        return connection.sql(
            "select * from read_parquet($files, hive_partitioning = false, union_by_name = true) "
            "order by snapshot_date, dimension, dimension_value",
            params={"files": files},
        ).to_arrow_table().to_pylist()


# ----------------------------------------------------------------------------- since the last run
# Candidates of the previous snapshot against the current one, over the days both still hold.
CANDIDATE_CHANGES = """
with

previous as (
    select * from read_parquet($previous_file, hive_partitioning = false)
    where report_day >= cast($first_shared_day as date)
),

current as (
    select * from read_parquet($current_file, hive_partitioning = false)
    where report_day >= cast($first_shared_day as date)
),

compared as (
    select
        coalesce(current.candidate_ref, previous.candidate_ref) as candidate_ref,
        coalesce(current.report_day, previous.report_day) as report_day,
        coalesce(current.route, previous.route) as route,
        previous.route as previous_route,
        previous.crime_group as previous_crime_group,
        previous.outcome as previous_outcome,
        current.crime_group as crime_group,
        current.outcome as outcome,
        case
            when current.candidate_ref is null then 'VANISHED'
            when previous.candidate_ref is null then 'NEW'
            when previous.crime_group is distinct from current.crime_group then 'RECLASSIFIED'
            when previous.outcome is distinct from current.outcome then 'OUTCOME_CHANGED'
        end as change,
    from previous
    full outer join current using (candidate_ref)
),

final as (
    select * from compared
    -- new candidates on days the previous snapshot had not yet seen are ordinary news, not changes;
    -- nor is a crime record with no incident or referral (route OTHER): it is its own candidate,
    -- born recorded, and appears when it is recorded
    where change is not null
      and not (change = 'NEW' and report_day >= cast($previous_snapshot as date))
      and not (change = 'NEW' and route = 'OTHER')
    order by change, report_day, candidate_ref
)

select * from final
"""

# Days both snapshots settled, whose counts the current snapshot restates.
RESTATED_DAYS = """
with

previous as (
    select
        report_day,
        cast(sum(recorded_crimes) as bigint) as recorded,
        cast(sum(unrecorded_crimes) as bigint) as unrecorded,
    from read_parquet($previous_file, hive_partitioning = false)
    where report_day between cast($first_day as date) and cast($last_day as date)
    group by report_day
),

current as (
    select
        report_day,
        cast(sum(recorded_crimes) as bigint) as recorded,
        cast(sum(unrecorded_crimes) as bigint) as unrecorded,
    from read_parquet($current_file, hive_partitioning = false)
    where report_day between cast($first_day as date) and cast($last_day as date)
    group by report_day
),

final as (
    select
        report_day,
        coalesce(previous.recorded, 0) as previous_recorded,
        coalesce(previous.unrecorded, 0) as previous_unrecorded,
        coalesce(current.recorded, 0) as recorded,
        coalesce(current.unrecorded, 0) as unrecorded,
    from previous
    full outer join current using (report_day)
    where coalesce(previous.recorded, 0) <> coalesce(current.recorded, 0)
       or coalesce(previous.unrecorded, 0) <> coalesce(current.unrecorded, 0)
    order by report_day
)

select * from final
"""


@dataclass
class Changes:
    previous_snapshot: dt.date
    rate_changes: list[dict]  # dimension, dimension_value, previous and current rate and interval
    restated_days: list[dict]
    candidate_changes: list[dict]

    def count(self, change: str) -> int:
        return sum(1 for row in self.candidate_changes if row["change"] == change)


def previous_snapshot(lake_dir: Path, force: str, snapshot_date: dt.date) -> dt.date | None:
    earlier = [s for s in snapshot_dates(lake_dir, "recording_rates", force) if s < snapshot_date]
    return earlier[-1] if earlier else None


def changes_since_previous(
    lake_dir: Path, force: str, snapshot_date: dt.date, *, lookback_days: int, maturity_lag_days: int
) -> Changes | None:
    """What this snapshot says differently from the previous one; None for a force's first run."""
    previous = previous_snapshot(lake_dir, force, snapshot_date)
    if previous is None:
        return None
    rates_now = {(r["dimension"], r["dimension_value"]): r for r in gate_rates_by_snapshot(lake_dir, force, snapshot_date, snapshot_date)}
    rates_before = {(r["dimension"], r["dimension_value"]): r for r in gate_rates_by_snapshot(lake_dir, force, previous, previous)}
    rate_changes = []
    for key in list(rates_now) + [key for key in rates_before if key not in rates_now]:
        now, before = rates_now.get(key), rates_before.get(key)
        rate_changes.append({
            "dimension": key[0],
            "dimension_value": key[1],
            "previous_rate": before and before["recording_rate"],
            "previous_candidates": before and before["candidate_crimes"],
            "recording_rate": now and now["recording_rate"],
            "rate_ci_lower": now and now["rate_ci_lower"],
            "rate_ci_upper": now and now["rate_ci_upper"],
            "candidate_crimes": now and now["candidate_crimes"],
        })
    previous_file = lake.mart_path(lake_dir, "candidate_outcomes", force, previous)
    current_file = lake.mart_path(lake_dir, "candidate_outcomes", force, snapshot_date)
    restated: list[dict] = []
    candidates: list[dict] = []
    if previous_file.exists() and current_file.exists():
        first_now, _ = settled_days(snapshot_date, lookback_days, maturity_lag_days)
        first_before, last_before = settled_days(previous, lookback_days, maturity_lag_days)
        with _connection(lake_dir) as connection:
            restated = connection.sql(RESTATED_DAYS, params={
                "previous_file": str(previous_file), "current_file": str(current_file),
                "first_day": max(first_now, first_before), "last_day": last_before,
            }).to_arrow_table().to_pylist()
            candidates = connection.sql(CANDIDATE_CHANGES, params={
                "previous_file": str(previous_file), "current_file": str(current_file),
                "first_shared_day": first_now, "previous_snapshot": previous,
            }).to_arrow_table().to_pylist()
    return Changes(previous, rate_changes, restated, candidates)


# Worklist items of the view's days, each from the snapshot that settles its report day. Newer
# worklists carry their report day; older ones take it from candidate_outcomes.
WORKLIST_WITH_REPORT_DAY = """
with

worklist as (
    select * from read_parquet($worklist_files, hive_partitioning = false, union_by_name = true)
),

final as (
    select worklist.*
    from worklist
    join day_sources using (snapshot_date, report_day)
    order by worklist.priority, worklist.reported_at, worklist.candidate_ref
)

select * from final
"""

WORKLIST_FOR_DAYS = """
with

worklist as (
    select * from read_parquet($worklist_files, hive_partitioning = false, union_by_name = true)
),

report_days as (
    select snapshot_date, candidate_ref, report_day
    from read_parquet($outcome_files, hive_partitioning = false, union_by_name = true)
),

with_days as (
    select worklist.*, report_days.report_day
    from worklist
    join report_days using (snapshot_date, candidate_ref)
),

final as (
    select with_days.*
    from with_days
    join day_sources using (snapshot_date, report_day)
    order by with_days.priority, with_days.reported_at, with_days.candidate_ref
)

select * from final
"""


def worklist_for_days(view: DayView) -> list[dict]:
    """The worklist items of the view's report days, each day from its worklist source (the run that
    settled it, or for a day not yet settled the latest run holding it)."""
    sources = view.worklist_sources or view.sources
    used = [s for s in sorted(set(sources.values()))
            if lake.mart_path(view.lake_dir, "worklist", view.force, s).exists()] if view.lake_dir else []
    if not used:
        return []
    with _connection(view.lake_dir) as connection:
        connection.register(
            "day_sources",
            pa.table({"report_day": list(sources), "snapshot_date": list(sources.values())},
                     schema=pa.schema([("report_day", pa.date32()), ("snapshot_date", pa.date32())])),
        )
        worklist_files = [str(lake.mart_path(view.lake_dir, "worklist", view.force, s)) for s in used]
        if all("report_day" in lake.read_parquet_schema(path).names for path in worklist_files):
            return connection.sql(WORKLIST_WITH_REPORT_DAY, params={"worklist_files": worklist_files}).to_arrow_table().to_pylist()
        return connection.sql(WORKLIST_FOR_DAYS, params={
            "worklist_files": worklist_files,
            "outcome_files": [str(lake.mart_path(view.lake_dir, "candidate_outcomes", view.force, s)) for s in used],
        }).to_arrow_table().to_pylist()
