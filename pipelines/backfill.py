"""`cdi backfill`: reconcile every snapshot date of a period in one process and one DuckDB connection.

Backfilling is how a data engineer rebuilds history: after a rule changes, for the weeks an
outage skipped, or when a force joins with a year of records. It writes exactly what the daily
run's reconcile stage writes for each date (the seven marts and the reconcile manifest, in the
same partitions), so reports, trends and gates read a backfilled date like any other. It does not
validate, gate, report or alert for each date: `cdi report --from --to` reports the period.

Two ways in:

- **Archived daily snapshots** (the default): each date's raw partitions in the lake, as the
  daily extraction left them; a date missing from the lake is extracted first from the landing
  folder's daily exports. Each date is reconciled by the daily run's own code
  (`reconcile.register_inputs` + `reconcile.reconcile_registered`), so the marts are the ones
  day-by-day runs give, byte for byte in content (tests/backfill proves it).
- **A period export**: one export per source covering the period (its first snapshot's lookback
  window to its last cut-off), in its state at the last cut-off, as a force hands over history.
  It is extracted once into the lake's period partitions, held in memory, and each date's
  snapshot is worked out from the records' own times by ``sql/period/<source>_as_of.sql``, then
  reconciled by the same rules. A period export cannot show what the period erased (records
  deleted at source, closing codes changed after closing): those dates' marts can differ from
  what daily snapshots would have given in exactly those records.

Dates are reconciled in order, each compared with the date before (record_changes, restated
days), as the daily run compares with the previous snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb

from pipelines import lake, reconcile
from pipelines.contract import SOURCE_NAMES, SOURCES
from pipelines.extract import export_path, extract_period_export, extract_source
from pipelines.settings import Settings

log = logging.getLogger(__name__)

PERIOD_SQL = {source: f"period/{source}_as_of.sql" for source in SOURCE_NAMES}
MISSING_DATES_SHOWN = 10

Progress = Callable[[int, int], None]


@dataclass
class BackfillResult:
    force: str
    first: str
    last: str
    input: str  # "archived daily snapshots" or "period export"
    dates: int
    extracted_dates: list[str] = field(default_factory=list)  # dates extracted from daily exports first
    period_extracts: dict[str, dict] = field(default_factory=dict)  # source -> the period export's extract summary
    mart_rows: dict[str, int] = field(default_factory=dict)  # mart -> rows written over all dates
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def snapshot_dates(first: dt.date, last: dt.date) -> list[dt.date]:
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


def backfill(settings: Settings, first: dt.date, last: dt.date, *, period_landing: Path | None = None,
             export_date: dt.date | None = None, progress: Progress | None = None) -> BackfillResult:
    """Reconcile every snapshot date from ``first`` to ``last`` (inclusive) and write its marts.

    period_landing: a folder holding a period export (``<folder>/<force>/<source>_<export_date>.csv``,
    taken at ``export_date``'s cut-off, by default ``last``'s); None reconciles the archived daily
    snapshots (extracting missing dates from ``settings.landing_dir``).
    """
    started = time.perf_counter()
    dates = snapshot_dates(first, last)
    if period_landing is None:
        result = _from_daily_snapshots(settings, dates, progress)
    else:
        result = _from_period_export(settings, dates, Path(period_landing), export_date or last, progress)
    result.seconds = round(time.perf_counter() - started, 2)
    lake.write_json(result.to_dict(),
                    lake.period_manifest_path(settings.lake_dir, "backfill", "backfill", settings.force, first, last))
    log.info("backfilled %s %s to %s from %s in %.1f s", settings.force, first, last, result.input, result.seconds)
    return result


# --- Archived daily snapshots --------------------------------------------------------------------
def _has_raw_partitions(settings: Settings, day: dt.date) -> bool:
    return all(path.exists() for path in reconcile.raw_files(settings.lake_dir, settings.force, day).values())


def _has_daily_exports(settings: Settings, day: dt.date) -> bool:
    return all(export_path(settings, source, day).exists() for source in SOURCE_NAMES)


def _dates_to_extract(settings: Settings, dates: list[dt.date]) -> list[dt.date]:
    """Dates missing from the lake; refuse the whole backfill, before any work, if one of them has
    no daily exports either (a period with holes would be reported as if it were whole)."""
    to_extract = [day for day in dates if not _has_raw_partitions(settings, day)]
    uncovered = [day for day in to_extract if not _has_daily_exports(settings, day)]
    if uncovered:
        shown = ", ".join(day.isoformat() for day in uncovered[:MISSING_DATES_SHOWN])
        more = f" and {len(uncovered) - MISSING_DATES_SHOWN} more" if len(uncovered) > MISSING_DATES_SHOWN else ""
        raise FileNotFoundError(
            f"{settings.force}: {len(uncovered)} snapshot date(s) have neither raw partitions in "
            f"{settings.lake_dir / 'raw'} nor daily exports in {settings.landing_dir / settings.force}: {shown}{more}"
            " (a period export? use --period-export)"
        )
    return to_extract


def _from_daily_snapshots(settings: Settings, dates: list[dt.date], progress: Progress | None) -> BackfillResult:
    to_extract = _dates_to_extract(settings, dates)
    result = BackfillResult(settings.force, dates[0].isoformat(), dates[-1].isoformat(), "archived daily snapshots",
                            len(dates), extracted_dates=[day.isoformat() for day in to_extract])
    steps, done = len(to_extract) + len(dates), 0
    for day in to_extract:
        for source in SOURCE_NAMES:
            extract_source(settings, source, day)
        done += 1
        _report(progress, done, steps)
    with reconcile.open_connection() as connection:
        for day in dates:
            previous = reconcile.previous_snapshot(settings.lake_dir, settings.force, day)
            reconcile.register_inputs(
                connection,
                reconcile.raw_files(settings.lake_dir, settings.force, day),
                reconcile.raw_files(settings.lake_dir, settings.force, previous) if previous else None,
                lake.mart_path(settings.lake_dir, "daily_recording_rates", settings.force, previous) if previous else None,
            )
            _count(result, reconcile.reconcile_registered(connection, settings, day, previous))
            done += 1
            _report(progress, done, steps)
    return result


# --- A period export -----------------------------------------------------------------------------
def _from_period_export(settings: Settings, dates: list[dt.date], period_landing: Path, export_date: dt.date,
                        progress: Progress | None) -> BackfillResult:
    first, last = dates[0], dates[-1]
    if export_date < last:
        raise ValueError(f"the period export of {export_date} cannot show snapshot dates after it (the period ends {last})")
    files = [period_export_path(settings, source, period_landing, export_date) for source in SOURCE_NAMES]
    missing = [str(path) for path in files if not path.exists()]
    if missing:
        raise FileNotFoundError(f"{settings.force}: the period export is incomplete, missing {', '.join(missing)} "
                                f"(a period export is named after the snapshot date it was taken on, {export_date})")
    result = BackfillResult(settings.force, first.isoformat(), last.isoformat(), "period export", len(dates))
    steps, done = len(SOURCE_NAMES) + len(dates), 0
    period_files = {}
    for source in SOURCE_NAMES:
        extracted = extract_period_export(settings, source, first, last,
                                          period_export_path(settings, source, period_landing, export_date), export_date)
        result.period_extracts[source] = extracted.to_dict()
        period_files[source] = Path(extracted.raw_partition)
        done += 1
        _report(progress, done, steps)
    with reconcile.open_connection() as connection:
        reconcile.register_reference_lists(connection)
        load_period_export(connection, period_files)
        _check_period_covers(connection, settings, first)
        previous = first - dt.timedelta(days=1)
        snapshot_as_of(connection, settings, previous)
        for day in dates:
            snapshot_as_of(connection, settings, day)
            _point_views(connection, day, previous)
            reconcile.register_previous_daily_rates(
                connection, lake.mart_path(settings.lake_dir, "daily_recording_rates", settings.force, previous))
            _count(result, reconcile.reconcile_registered(connection, settings, day, previous))
            for source in SOURCE_NAMES:
                connection.execute(f"drop table if exists {_snapshot_table(source, previous)}")
            previous = day
            done += 1
            _report(progress, done, steps)
    return result


def period_export_path(settings: Settings, source: str, period_landing: Path, export_date: dt.date) -> Path:
    return Path(period_landing) / settings.force / SOURCES[source].file_name(export_date.isoformat())


def _snapshot_table(source: str, day: dt.date) -> str:
    return f"snapshot_{source}_{day.strftime('%Y%m%d')}"


def load_period_export(connection: duckdb.DuckDBPyConnection, period_files: dict[str, Path]) -> None:
    """The period export's raw partitions as tables period_<source>, in memory for every date."""
    for source, path in period_files.items():
        # file_row_number: the record's position in the period file, to number each date's rows by.
        connection.read_parquet(str(path), file_row_number=True, hive_partitioning=False).create(f"period_{source}")


def snapshot_as_of(connection: duckdb.DuckDBPyConnection, settings: Settings, day: dt.date) -> dict[str, str]:
    """Materialise each source's snapshot of ``day`` as the period export says it stood; return
    the table of each source."""
    parameters = reconcile.sql_parameters(settings, day)
    tables = {}
    for source, relative_path in PERIOD_SQL.items():
        text = (reconcile.SQL_DIR / relative_path).read_text(encoding="utf-8")
        tables[source] = _snapshot_table(source, day)
        connection.execute(f"create or replace table {tables[source]} as\n{text}",
                           reconcile.parameters_used(text, parameters))
    return tables


def _point_views(connection: duckdb.DuckDBPyConnection, day: dt.date, previous: dt.date) -> None:
    """raw_<source> and prev_raw_<source>, the names the rules read, for this date and the one before."""
    for source in SOURCE_NAMES:
        connection.execute(f"create or replace view raw_{source} as select * from {_snapshot_table(source, day)}")
        connection.execute(f"create or replace view prev_raw_{source} as select * from {_snapshot_table(source, previous)}")


def _check_period_covers(connection: duckdb.DuckDBPyConnection, settings: Settings, first: dt.date) -> None:
    """The export must reach back to the first date's lookback window, or the early dates would
    count a fraction of their reports and look like a collapse (or a recovery) in recording."""
    window_start = reconcile.sql_parameters(settings, first)["window_start"]
    earliest, late = connection.execute(
        "select strftime(min(updated_at), '%Y-%m-%d %H:%M'), min(updated_at) > $window_start + interval 1 day "
        "from (select updated_at from period_incidents union all "
        "select updated_at from period_crimes union all select updated_at from period_referrals)",
        {"window_start": window_start},
    ).fetchone()
    if earliest is None:
        raise ValueError(f"{settings.force}: the period export holds no records")
    if late:
        raise ValueError(
            f"{settings.force}: the period export starts at {earliest} UTC but the first snapshot date {first} "
            f"looks back {settings.lookback_days} days, to {window_start:%Y-%m-%d %H:%M} UTC: start the backfill "
            f"{settings.lookback_days} days after the export's first day, or export more history"
        )


# --- Shared ---------------------------------------------------------------------------------------
def _count(result: BackfillResult, reconciled: reconcile.ReconcileResult) -> None:
    for mart, rows in reconciled.row_counts.items():
        result.mart_rows[mart] = result.mart_rows.get(mart, 0) + rows


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
