"""`cdi backfill`: reconcile every snapshot date of a period in one command, on every CPU.

Backfilling is how a data engineer rebuilds history: after a rule changes, for the weeks an
outage skipped, or when a force joins with a year of records. It writes exactly what the daily
run's reconcile stage writes for each date (the seven marts and the reconcile manifest, in the
same partitions), so reports, trends and gates read a backfilled date like any other. It does not
validate, gate, report or alert for each date: `cdi report --from --to` reports the period.
The dates are shared among worker processes in consecutive runs (see `backfill`), each with
its own DuckDB connection that stays open, with the period's data in memory, for its whole run.

Two ways in:

- **Archived daily snapshots** (the default): each date's raw partitions in the lake, as the
  daily extraction left them; a date missing from the lake is extracted first from the landing
  folder's daily exports. Each date is reconciled by the daily run's own code
  (`reconcile.register_snapshot` + `reconcile.reconcile_registered`), so the marts are the ones
  day-by-day runs give, byte for byte in content (tests/backfill proves it).
- **A period export**: one export per source covering the period (its first snapshot's lookback
  window to its last cut-off), in its state at the last cut-off, as a force hands over history.
  It is extracted once into the lake's period partitions and held in memory with each record's
  versions, worked out from its own times (``sql/period/<source>_versions.sql``: its states at a
  cut-off, each with the cut-offs it holds for); each date's snapshot is the versions valid at
  its cut-off (``sql/period/snapshot_as_of.sql``), reconciled by the same rules. A period export
  cannot show what the period erased (records deleted at source, closing codes changed after
  closing): those dates' marts can differ from what daily snapshots would have given in exactly
  those records.

Dates are reconciled in order, each compared with the date before (record_changes, restated
days), as the daily run compares with the previous snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Empty

import duckdb

from pipelines import lake, reconcile
from pipelines.contract import SOURCE_NAMES, SOURCES
from pipelines.extract import export_path, extract_period_export, extract_source
from pipelines.settings import Settings

log = logging.getLogger(__name__)

# A period export, worked out once per worker: when each crime reference on its records was
# entered, the spans over which each record stands the same, the references as they stood over
# each span, then each record's versions (tables <source>_versions). A date's snapshot of a
# source: the versions valid at the date's cut-off.
PERIOD_VERSIONS_SQL = ["period/period_crime_references.sql", "period/period_state_spans.sql",
                       "period/period_references_then.sql",
                       *(f"period/{source}_versions.sql" for source in SOURCE_NAMES)]
PERIOD_SNAPSHOT_SQL = "period/snapshot_as_of.sql"  # reads the view source_versions
MISSING_DATES_SHOWN = 10

Progress = Callable[[int, int], None]


class SnapshotsNotInLake(FileNotFoundError):
    """Snapshot dates with neither raw partitions in the lake nor daily exports to extract them from."""

    def __init__(self, settings: Settings, dates: list[dt.date]) -> None:
        self.force, self.dates, self.raw_dir = settings.force, dates, settings.lake_dir / "raw"
        super().__init__(
            f"{self.dates_in_words()} nor daily exports in {settings.landing_dir / settings.force}: {self.dates_listed()}"
            " (a period export? use --period-export)"
        )

    def dates_in_words(self) -> str:
        return f"{self.force}: {len(self.dates)} snapshot date(s) have neither raw partitions in {self.raw_dir}"

    def dates_listed(self) -> str:
        shown = ", ".join(day.isoformat() for day in self.dates[:MISSING_DATES_SHOWN])
        more = len(self.dates) - MISSING_DATES_SHOWN
        return shown + (f" and {more} more" if more > 0 else "")


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
    jobs: int = 1
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def snapshot_dates(first: dt.date, last: dt.date) -> list[dt.date]:
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


def backfill(settings: Settings, first: dt.date, last: dt.date, *, period_landing: Path | None = None,
             export_date: dt.date | None = None, jobs: int | None = None,
             progress: Progress | None = None) -> BackfillResult:
    """Reconcile every snapshot date from ``first`` to ``last`` (inclusive) and write its marts.

    period_landing: a folder holding a period export (``<folder>/<force>/<source>_<export_date>.csv``,
    taken at ``export_date``'s cut-off, by default ``last``'s); None reconciles the archived daily
    snapshots (extracting missing dates from ``settings.landing_dir``).
    jobs: worker processes (default: one per CPU). The period is cut into consecutive runs of
    dates, one per worker; each worker first works out the date before its run (without writing
    it) so that its first date is compared with what the previous worker writes: the marts do not
    depend on ``jobs``.
    """
    started = time.perf_counter()
    dates = snapshot_dates(first, last)
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(dates)))
    if period_landing is None:
        result, to_extract = _daily_snapshots_to_extract(settings, dates)
        ticker = _Ticker(progress, len(to_extract) + len(dates))
        _run_parallel(_extract_daily_exports, [(settings, day) for day in to_extract], jobs, ticker)
        period_files = None
    else:
        ticker = _Ticker(progress, len(SOURCE_NAMES) + len(dates))
        result, period_files = _extract_period_export(settings, dates, Path(period_landing), export_date or last,
                                                       jobs, ticker)
    runs = _consecutive_runs(dates, jobs)
    threads = max(1, (os.cpu_count() or 1) // len(runs))
    for counts in _run_parallel(_reconcile_run, [(settings, run, period_files, index > 0, threads)
                                                for index, run in enumerate(runs)], jobs, ticker):
        for mart, rows in counts.items():
            result.mart_rows[mart] = result.mart_rows.get(mart, 0) + rows
    result.seconds = round(time.perf_counter() - started, 2)
    result.jobs = jobs
    lake.write_json(result.to_dict(),
                    lake.period_manifest_path(settings.lake_dir, "backfill", "backfill", settings.force, first, last))
    log.info("backfilled %s %s to %s from %s in %.1f s", settings.force, first, last, result.input, result.seconds)
    return result


def _consecutive_runs(dates: list[dt.date], count: int) -> list[list[dt.date]]:
    size, extra = divmod(len(dates), count)
    runs, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        runs.append(dates[start:end])
        start = end
    return [run for run in runs if run]


# --- Workers ---------------------------------------------------------------------------------------
class _Ticker:
    """Counts finished steps (an extracted date or source, a reconciled date) for the progress callback."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def tick(self, steps: int = 1) -> None:
        self.done += steps
        if self.progress is not None:
            self.progress(self.done, self.total)


_worker_queue = None  # in a worker process: where it reports each finished step


def _worker_init(queue) -> None:
    global _worker_queue
    _worker_queue = queue
    lake.restrict_new_files_to_owner()


def _step_done() -> None:
    if _worker_queue is not None:
        _worker_queue.put(1)


def _run_parallel(function, argument_lists: list[tuple], jobs: int, ticker: _Ticker) -> list:
    """``function(*arguments)`` for each argument list, in up to ``jobs`` fresh processes (one
    process: in this one); results in order. Steps the workers finish advance ``ticker`` as they
    happen. The first failure cancels what has not started and is raised."""
    if not argument_lists:
        return []
    if jobs == 1 or len(argument_lists) == 1:
        global _worker_queue
        queue = _InlineQueue(ticker)
        _worker_queue = queue
        try:
            return [function(*arguments) for arguments in argument_lists]
        finally:
            _worker_queue = None
    context = multiprocessing.get_context("spawn")  # no fork of a process holding DuckDB's threads
    with context.Manager() as manager:
        queue = manager.Queue()
        with ProcessPoolExecutor(max_workers=min(jobs, len(argument_lists)), mp_context=context,
                                 initializer=_worker_init, initargs=(queue,)) as pool:
            futures = [pool.submit(function, *arguments) for arguments in argument_lists]
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
                _drain(queue, ticker)
                failed = [future for future in finished if future.exception() is not None]
                if failed:
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise failed[0].exception()
            _drain(queue, ticker)
            return [future.result() for future in futures]


class _InlineQueue:
    def __init__(self, ticker: _Ticker) -> None:
        self.ticker = ticker

    def put(self, steps: int) -> None:
        self.ticker.tick(steps)


def _drain(queue, ticker: _Ticker) -> None:
    steps = 0
    while True:
        try:
            steps += queue.get_nowait()
        except Empty:
            break
    if steps:
        ticker.tick(steps)


# --- Archived daily snapshots --------------------------------------------------------------------
def _has_raw_partitions(settings: Settings, day: dt.date) -> bool:
    return all(path.exists() for path in reconcile.raw_files(settings.lake_dir, settings.force, day).values())


def _has_daily_exports(settings: Settings, day: dt.date) -> bool:
    return all(export_path(settings, source, day).exists() for source in SOURCE_NAMES)


def _daily_snapshots_to_extract(settings: Settings, dates: list[dt.date]) -> tuple[BackfillResult, list[dt.date]]:
    """Dates missing from the lake; refuse the whole backfill, before any work, if one of them has
    no daily exports either (a period with holes would be reported as if it were whole)."""
    to_extract = [day for day in dates if not _has_raw_partitions(settings, day)]
    uncovered = [day for day in to_extract if not _has_daily_exports(settings, day)]
    if uncovered:
        raise SnapshotsNotInLake(settings, uncovered)
    result = BackfillResult(settings.force, dates[0].isoformat(), dates[-1].isoformat(), "archived daily snapshots",
                            len(dates), extracted_dates=[day.isoformat() for day in to_extract])
    return result, to_extract


def _extract_daily_exports(settings: Settings, day: dt.date) -> None:
    for source in SOURCE_NAMES:
        extract_source(settings, source, day)
    _step_done()


# --- A period export -----------------------------------------------------------------------------
def period_export_path(settings: Settings, source: str, period_landing: Path, export_date: dt.date) -> Path:
    return Path(period_landing) / settings.force / SOURCES[source].file_name(export_date.isoformat())


def _extract_period_export(settings: Settings, dates: list[dt.date], period_landing: Path, export_date: dt.date,
                           jobs: int, ticker: _Ticker) -> tuple[BackfillResult, dict[str, Path]]:
    first, last = dates[0], dates[-1]
    if export_date < last:
        raise ValueError(f"the period export of {export_date} cannot show snapshot dates after it (the period ends {last})")
    files = [period_export_path(settings, source, period_landing, export_date) for source in SOURCE_NAMES]
    missing = [str(path) for path in files if not path.exists()]
    if missing:
        raise FileNotFoundError(f"{settings.force}: the period export is incomplete, missing {', '.join(missing)} "
                                f"(a period export is named after the snapshot date it was taken on, {export_date})")
    result = BackfillResult(settings.force, first.isoformat(), last.isoformat(), "period export", len(dates))
    extracted = _run_parallel(_extract_period_source, [(settings, source, first, last, path, export_date)
                                                       for source, path in zip(SOURCE_NAMES, files)], jobs, ticker)
    result.period_extracts = {source: summary for source, summary in zip(SOURCE_NAMES, extracted)}
    period_files = {source: lake.location(summary["raw_partition"]) for source, summary in result.period_extracts.items()}
    _check_period_covers(period_files, settings, first)
    return result, period_files


def _extract_period_source(settings: Settings, source: str, first: dt.date, last: dt.date, export_file: Path,
                           export_date: dt.date) -> dict:
    summary = extract_period_export(settings, source, first, last, export_file, export_date).to_dict()
    _step_done()
    return summary


def load_period_export(connection: duckdb.DuckDBPyConnection, period_files: dict[str, Path]) -> None:
    """The period export's records' versions as tables <source>_versions, in memory for every date
    (worked out from its raw partitions, read as tables period_<source>)."""
    for source, path in period_files.items():
        # file_row_number: the record's position in the period file, to number each date's rows by.
        connection.read_parquet(str(path), file_row_number=True, hive_partitioning=False).create(f"period_{source}")
    for relative_path in PERIOD_VERSIONS_SQL:
        reconcile.run_sql_file(connection, relative_path, {})
    # Every date reads the versions only: the tables they were worked out from are let go.
    working_tables = [*(f"period_{source}" for source in period_files),
                      *(stem for stem in map(_table_of, PERIOD_VERSIONS_SQL) if not stem.endswith("_versions"))]
    for table in working_tables:
        connection.execute(f"drop table {table}")


def _table_of(relative_path: str) -> str:
    return Path(relative_path).stem  # reconcile.run_sql_file names a file's table after the file


def snapshot_as_of(connection: duckdb.DuckDBPyConnection, settings: Settings, day: dt.date) -> dict[str, str]:
    """Materialise each source's snapshot of ``day`` as the period export says it stood (the
    record versions valid at its cut-off); return the table of each source."""
    text = (reconcile.SQL_DIR / PERIOD_SNAPSHOT_SQL).read_text(encoding="utf-8")
    parameters = reconcile.parameters_used(text, reconcile.sql_parameters(settings, day))
    tables = {}
    for source in SOURCE_NAMES:
        connection.execute(f"create or replace view source_versions as select * from {source}_versions")
        tables[source] = _snapshot_table(source, day)
        connection.execute(f"create or replace table {tables[source]} as\n{text}", parameters)
    return tables


def _snapshot_table(source: str, day: dt.date) -> str:
    return f"snapshot_{source}_{day.strftime('%Y%m%d')}"


def _point_views(connection: duckdb.DuckDBPyConnection, day: dt.date, previous: dt.date) -> None:
    """raw_<source> and prev_raw_<source>, the names the rules read, for this date and the one before."""
    for source in SOURCE_NAMES:
        connection.execute(f"create or replace view raw_{source} as select * from {_snapshot_table(source, day)}")
        connection.execute(f"create or replace view prev_raw_{source} as select * from {_snapshot_table(source, previous)}")


def _check_period_covers(period_files: dict[str, Path], settings: Settings, first: dt.date) -> None:
    """The export must reach back to the first date's lookback window, or the early dates would
    count a fraction of their reports and look like a collapse (or a recovery) in recording."""
    window_start = reconcile.sql_parameters(settings, first)["window_start"]
    with reconcile.open_connection(settings.lake_dir) as connection:
        earliest, late = connection.execute(
            "select strftime(min(updated_at), '%Y-%m-%d %H:%M'), min(updated_at) > $window_start + interval 1 day "
            "from read_parquet($files, hive_partitioning = false, union_by_name = true)",
            {"window_start": window_start, "files": [str(path) for path in period_files.values()]},
        ).fetchone()
    if earliest is None:
        raise ValueError(f"{settings.force}: the period export holds no records")
    if late:
        raise ValueError(
            f"{settings.force}: the period export starts at {earliest} UTC but the first snapshot date {first} "
            f"looks back {settings.lookback_days} days, to {window_start:%Y-%m-%d %H:%M} UTC: start the backfill "
            f"{settings.lookback_days} days after the export's first day, or export more history"
        )


# --- Reconciling a run of consecutive dates (in a worker) ----------------------------------------
WARM_PREVIOUS_RATES = "backfill_previous_daily_rates"


def _reconcile_run(settings: Settings, dates: list[dt.date], period_files: dict[str, Path] | None,
                   warm_up: bool, threads: int) -> dict[str, int]:
    """Reconcile consecutive dates in one connection; return rows written per mart.

    warm_up: work out the date before the run first (without writing it), so the run's first date
    is compared with the same counts a single pass would have written for that date.
    """
    counts: dict[str, int] = {}
    with reconcile.open_connection(settings.lake_dir) as connection:
        connection.execute(f"set threads = {int(threads)}")
        previous = dates[0] - dt.timedelta(days=1)
        if period_files is not None:
            reconcile.register_reference_lists(connection)
            load_period_export(connection, period_files)
            snapshot_as_of(connection, settings, previous)
        if warm_up:
            _warm_up(connection, settings, previous, period_files is not None)
        for index, day in enumerate(dates):
            if period_files is not None:
                snapshot_as_of(connection, settings, day)
                _point_views(connection, day, previous)
                reconcile.register_previous_daily_rates(
                    connection, lake.mart_path(settings.lake_dir, "daily_recording_rates", settings.force, previous))
                compared_with = previous
            else:  # the daily run's own registration: the same marts as day-by-day runs
                compared_with = reconcile.register_snapshot(connection, settings, day)
            if index == 0 and warm_up:
                connection.execute(f"create or replace view previous_daily_recording_rates as "
                                   f"select * from {WARM_PREVIOUS_RATES}")
            reconciled = reconcile.reconcile_registered(connection, settings, day, compared_with)
            for mart, rows in reconciled.row_counts.items():
                counts[mart] = counts.get(mart, 0) + rows
            if period_files is not None:
                for source in SOURCE_NAMES:
                    connection.execute(f"drop table if exists {_snapshot_table(source, previous)}")
            previous = day
            _step_done()
    return counts


def _warm_up(connection: duckdb.DuckDBPyConnection, settings: Settings, day: dt.date, from_period: bool) -> None:
    """The rules over ``day`` (the date before a worker's run), kept in memory: its daily rates
    are what the run's first date is compared with. Only its own counts are read from it, and
    those do not depend on the date before it, so it is compared with nothing."""
    if from_period:
        _point_views(connection, day, day)
        reconcile.register_previous_daily_rates(connection, None)
    else:
        reconcile.register_inputs(connection, reconcile.raw_files(settings.lake_dir, settings.force, day))
    reconcile.build_marts(connection, reconcile.sql_parameters(settings, day))
    connection.execute(f"create or replace table {WARM_PREVIOUS_RATES} as select * from daily_recording_rates")
