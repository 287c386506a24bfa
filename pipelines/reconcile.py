"""Run the reconciliation SQL over one snapshot in one in-memory DuckDB connection.

The SQL lives in ``sql/`` by layer, one query per file; this module only wires it: it exposes the
snapshot's raw partitions and the reference lists as views, runs the files in `SQL_PLAN` order
(each file becomes a table named after it, or a view: `VIEW_FILES`), binds the parameters each
file uses, runs the ``assert_*`` invariants, and writes the marts to the lake. Each run gets its
own connection reading and writing Parquet, so runs for different dates or forces never share a
database file.

A snapshot is also compared with the previous one in the lake (the latest earlier snapshot
within `PREVIOUS_SNAPSHOT_SEARCH_DAYS`): its raw partitions become the ``prev_raw_*`` views and
its ``daily_recording_rates`` partition the ``previous_daily_recording_rates`` view (both empty
when there is none), so records that vanished or turned non-crime, and days a late record
restated, are listed.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from pipelines import lake
from pipelines.localtime import local_midnight_utc
from pipelines.reference import REFERENCE_LISTS, reference_path
from pipelines.settings import Settings

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
SQL_PLAN = (
    "macros/wilson_interval.sql",
    "macros/seconds_between.sql",
    "macros/incident_flags.sql",
    "staging/stg_incidents.sql",
    "staging/stg_crimes.sql",
    "staging/stg_referrals.sql",
    "staging/stg_crime_group_compatibility.sql",
    "intermediate/int_crime_links.sql",
    "intermediate/int_candidates.sql",
    "intermediate/int_duplicate_calls.sql",
    "intermediate/int_probable_crime_links.sql",
    "intermediate/int_other_route_candidates.sql",
    "intermediate/int_candidate_crimes.sql",
    "intermediate/int_candidate_outcomes.sql",
    "marts/candidate_outcomes.sql",
    "marts/recording_metrics.sql",
    "marts/recording_rates.sql",
    "marts/daily_recording_rates.sql",
    "marts/record_changes.sql",
    "marts/probable_links.sql",
    "marts/worklist.sql",
)
MARTS = (
    "candidate_outcomes",
    "recording_rates",
    "worklist",
    "recording_metrics",
    "daily_recording_rates",
    "record_changes",
    "probable_links",
)
SOURCES = ("incidents", "crimes", "referrals")
# Queries run as views rather than copied into tables: each query that uses one reads only the
# columns it needs from the Parquet file (a large force has 4 million incidents a year, most of
# them never a candidate crime), or the mart is a projection that a copy would only duplicate (a
# million candidate outcomes a year: the lake's file is written from the view).
VIEW_FILES = frozenset({"staging/stg_incidents.sql", "marts/candidate_outcomes.sql"})
PREVIOUS_SNAPSHOT_SEARCH_DAYS = 7
# The columns of daily_recording_rates the next snapshot compares with (an empty stand-in when
# there is no previous partition).
NO_PREVIOUS_DAILY_RATES = """
select
    cast(null as date) as snapshot_date, cast(null as date) as report_day,
    cast(null as varchar) as dimension, cast(null as varchar) as dimension_value,
    cast(null as bigint) as recorded, cast(null as bigint) as unrecorded, cast(null as bigint) as pending,
where false
"""
PARAMETER = re.compile(r"\$([a-z_]+)")
LINE_COMMENT = re.compile(r"--[^\n]*")


class InvariantViolation(RuntimeError):
    """An ``assert_*`` query returned rows: the reconciliation contradicts itself."""


@dataclass
class ReconcileResult:
    force: str
    snapshot_date: str
    as_of: str
    previous_snapshot_date: str | None  # the snapshot compared with (record_changes), if any
    marts: dict[str, str]  # mart name -> partition file
    row_counts: dict[str, int]

    def to_dict(self) -> dict:
        return asdict(self)


def snapshot_cutoff(settings: Settings, snapshot_date: dt.date) -> dt.datetime:
    """A snapshot dated D is taken at the start of D, local time: it sees reports up to D-1."""
    return local_midnight_utc(snapshot_date, settings.time_zone)


def sql_parameters(settings: Settings, snapshot_date: dt.date,
                   previous_snapshot_date: dt.date | None = None) -> dict[str, object]:
    return {
        "force_code": settings.force,
        "snapshot_date": snapshot_date,
        "as_of": snapshot_cutoff(settings, snapshot_date),
        # The oldest instant a record may have been last updated and still be in this snapshot.
        "window_start": snapshot_cutoff(settings, snapshot_date - dt.timedelta(days=settings.lookback_days)),
        "previous_snapshot_date": previous_snapshot_date,
        "time_zone": settings.time_zone,
        "recording_window_hours": settings.recording_window_hours,
        "duplicate_call_window_hours": settings.duplicate_call_window_hours,
        "probable_link_window_hours": settings.probable_link_window_hours,
        "duplicate_record_days": settings.duplicate_record_days,
        "lookback_days": settings.lookback_days,
        "maturity_lag_days": settings.maturity_lag_days,
        "rolling_window_days": settings.rolling_window_days,
    }


def raw_files(lake_dir: Path, force: str, snapshot_date: dt.date) -> dict[str, Path]:
    return {source: lake.raw_path(lake_dir, source, force, snapshot_date) for source in SOURCES}


def previous_snapshot(lake_dir: Path, force: str, snapshot_date: dt.date,
                      search_days: int = PREVIOUS_SNAPSHOT_SEARCH_DAYS) -> dt.date | None:
    """The latest earlier snapshot (within ``search_days``) whose three raw partitions exist."""
    for days_back in range(1, search_days + 1):
        earlier = snapshot_date - dt.timedelta(days=days_back)
        if all(path.exists() for path in raw_files(lake_dir, force, earlier).values()):
            return earlier
    return None


def parameters_used(text: str, parameters: dict[str, object]) -> dict[str, object]:
    """The parameters a query binds (a ``$name`` in a comment is documentation, not a binding)."""
    return {name: parameters[name] for name in sorted(set(PARAMETER.findall(LINE_COMMENT.sub("", text))))}


def wilson(successes: float, trials: float) -> tuple[float | None, float | None]:
    """The 95% Wilson interval of successes/trials, from the project's one definition
    (sql/macros/wilson_interval.sql), for Python callers that have counts, not tables."""
    with open_connection() as connection:
        run_sql_file(connection, "macros/wilson_interval.sql", {})
        return connection.execute(
            "select wilson_lower($k, $n), wilson_upper($k, $n)", {"k": float(successes), "n": float(trials)}
        ).fetchone()


def run_sql_file(connection: duckdb.DuckDBPyConnection, relative_path: str, parameters: dict[str, object]) -> None:
    """Run one SQL file; a query file becomes a table (or a view, `VIEW_FILES`) named after the file."""
    text = (SQL_DIR / relative_path).read_text(encoding="utf-8")
    used = parameters_used(text, parameters)
    if relative_path.startswith("macros/"):
        connection.execute(text)
        return
    name = Path(relative_path).stem
    if relative_path in VIEW_FILES:
        # DuckDB does not prepare a CREATE VIEW: the relation binds the values, which the view keeps.
        connection.sql(text, params=used or None).create_view(name, replace=True)
    else:
        connection.execute(f"create or replace table {name} as\n{text}", used)


def assertion_files() -> list[Path]:
    return sorted((SQL_DIR / "assertions").glob("assert_*.sql"))


def check_invariants(connection: duckdb.DuckDBPyConnection, parameters: dict[str, object]) -> None:
    """Run every ``assert_*`` query; raise naming each one that returned rows."""
    broken = []
    for path in assertion_files():
        text = path.read_text(encoding="utf-8")
        offending = connection.execute(text, parameters_used(text, parameters)).fetchall()
        if offending:
            broken.append(f"{path.name} returned {len(offending)} rows, e.g. {offending[:3]}")
    if broken:
        raise InvariantViolation("; ".join(broken))


# DuckDB draws a progress bar on stdout for a query that runs over two seconds: in an Airflow task
# log or under `cdi run`'s own progress bar it is noise, so the pipeline's connections have none.
NO_PROGRESS_BAR = "set enable_progress_bar = false"


def open_connection(lake_dir: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory connection for the rules; given the lake, it reads the lake's files wherever
    the lake is (`lake.register_filesystem`)."""
    connection = duckdb.connect(":memory:")
    if lake_dir is not None:
        lake.register_filesystem(connection, lake_dir)
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set preserve_insertion_order = false")
    connection.execute(NO_PROGRESS_BAR)
    return connection


def register_inputs(connection: duckdb.DuckDBPyConnection, raw_files: dict[str, Path],
                    previous_raw_files: dict[str, Path] | None = None,
                    previous_daily_rates: Path | None = None) -> None:
    """Expose the snapshot's raw partitions as raw_<source>, the previous snapshot's as
    prev_raw_<source> (empty when there is none), its daily rates as
    previous_daily_recording_rates, and the code lists as ref_<list>."""
    # file_row_number: each record's position in its file, a free number to join on in this run.
    for source, path in raw_files.items():
        connection.read_parquet(str(path), file_row_number=True).create_view(f"raw_{source}")
    for source in raw_files:
        if previous_raw_files:
            connection.read_parquet(str(previous_raw_files[source]), file_row_number=True).create_view(f"prev_raw_{source}")
        else:
            connection.execute(f"create or replace view prev_raw_{source} as select * from raw_{source} where false")
    register_previous_daily_rates(connection, previous_daily_rates)
    register_reference_lists(connection)


def register_previous_daily_rates(connection: duckdb.DuckDBPyConnection, path: Path | None) -> None:
    """The previous snapshot's daily_recording_rates partition (an empty stand-in when none)."""
    if path is not None and path.exists():
        connection.read_parquet(str(path)).create_view("previous_daily_recording_rates")
    else:
        connection.execute(f"create or replace view previous_daily_recording_rates as {NO_PREVIOUS_DAILY_RATES}")


def register_reference_lists(connection: duckdb.DuckDBPyConnection) -> None:
    for name in REFERENCE_LISTS:
        connection.read_csv(str(reference_path(name)), header=True).create_view(f"ref_{name}")


def build_marts(connection: duckdb.DuckDBPyConnection, parameters: dict[str, object]) -> dict[str, int]:
    """Run the SQL plan and the invariants; return the row count of each mart."""
    for relative_path in SQL_PLAN:
        run_sql_file(connection, relative_path, parameters)
    check_invariants(connection, parameters)
    return {mart: connection.execute(f"select count(*) from {mart}").fetchone()[0] for mart in MARTS}


def write_mart(connection: duckdb.DuckDBPyConnection, mart: str, final_path: Path) -> Path:
    """Write one mart as the partition's Parquet file, atomically (lake.atomic_file).

    DuckDB writes the file itself, to local disk: no copy of a million-row mart through Python
    (on object storage the finished file is then uploaded whole, never streamed: see lake.py).
    """
    if mart not in MARTS:
        raise ValueError(f"unknown mart {mart!r}")
    with lake.atomic_file(final_path) as temporary:
        target = str(temporary).replace("'", "''")
        connection.execute(f"copy (select * from {mart}) to '{target}' (format parquet, compression zstd)")
    return lake.location(final_path)


def reconcile_snapshot(settings: Settings, snapshot_date: dt.date) -> ReconcileResult:
    """Reconcile one force's snapshot from the lake and write its marts; return what was written."""
    with open_connection(settings.lake_dir) as connection:
        previous = register_snapshot(connection, settings, snapshot_date)
        return reconcile_registered(connection, settings, snapshot_date, previous)


def register_snapshot(connection: duckdb.DuckDBPyConnection, settings: Settings,
                      snapshot_date: dt.date) -> dt.date | None:
    """Expose a snapshot's raw partitions in the lake, and those of the previous snapshot it is
    compared with (`register_inputs`); return that previous snapshot's date, if any."""
    current = raw_files(settings.lake_dir, settings.force, snapshot_date)
    missing = [str(path) for path in current.values() if not path.exists()]
    if missing:
        raise FileNotFoundError(f"raw partitions missing for {settings.force} {snapshot_date}: {', '.join(missing)}")
    previous = previous_snapshot(settings.lake_dir, settings.force, snapshot_date)
    register_inputs(
        connection,
        current,
        raw_files(settings.lake_dir, settings.force, previous) if previous else None,
        lake.mart_path(settings.lake_dir, "daily_recording_rates", settings.force, previous) if previous else None,
    )
    return previous


def reconcile_registered(connection: duckdb.DuckDBPyConnection, settings: Settings, snapshot_date: dt.date,
                         previous: dt.date | None) -> ReconcileResult:
    """Run the rules over the inputs `register_inputs` (or a backfill) exposed in ``connection``,
    write the snapshot's marts and its manifest; return what was written."""
    parameters = sql_parameters(settings, snapshot_date, previous)
    row_counts = build_marts(connection, parameters)
    written = {
        mart: str(write_mart(connection, mart, lake.mart_path(settings.lake_dir, mart, settings.force, snapshot_date)))
        for mart in MARTS
    }
    result = ReconcileResult(
        force=settings.force,
        snapshot_date=snapshot_date.isoformat(),
        as_of=parameters["as_of"].isoformat(),
        previous_snapshot_date=previous.isoformat() if previous else None,
        marts=written,
        row_counts=row_counts,
    )
    lake.write_json(result.to_dict(), lake.manifest_path(settings.lake_dir, "reconcile", "marts", settings.force, snapshot_date))
    log.info("reconciled %s %s: %s", settings.force, snapshot_date, result.row_counts)
    return result
