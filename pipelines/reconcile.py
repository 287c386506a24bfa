"""Run the reconciliation SQL over one snapshot in one in-memory DuckDB connection.

The SQL lives in ``sql/`` by layer, one query per file; this module only wires it: it exposes the
snapshot's raw partitions and the reference lists as views, runs the files in `SQL_PLAN` order
(each file becomes a table named after it), binds the parameters each file uses, runs the
``assert_*`` invariants, and writes the marts to the lake. Each run gets its own connection
reading and writing Parquet, so runs for different dates or forces never share a database file.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipelines import lake
from pipelines.localtime import local_midnight_utc
from pipelines.reference import REFERENCE_LISTS, reference_path
from pipelines.settings import Settings

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
SQL_PLAN = (
    "macros/wilson_interval.sql",
    "staging/stg_incidents.sql",
    "staging/stg_crimes.sql",
    "staging/stg_referrals.sql",
    "intermediate/int_crime_links.sql",
    "intermediate/int_candidates.sql",
    "intermediate/int_duplicate_calls.sql",
    "intermediate/int_candidate_outcomes.sql",
    "marts/candidate_outcomes.sql",
    "marts/recording_rates.sql",
    "marts/worklist.sql",
)
MARTS = ("candidate_outcomes", "recording_rates", "worklist")
PARAMETER = re.compile(r"\$([a-z_]+)")


class InvariantViolation(RuntimeError):
    """An ``assert_*`` query returned rows: the reconciliation contradicts itself."""


@dataclass
class ReconcileResult:
    force: str
    snapshot_date: str
    as_of: str
    marts: dict[str, str]  # mart name -> partition file
    row_counts: dict[str, int]

    def to_dict(self) -> dict:
        return asdict(self)


def snapshot_cutoff(settings: Settings, snapshot_date: dt.date) -> dt.datetime:
    """A snapshot dated D is taken at the start of D, local time: it sees reports up to D-1."""
    return local_midnight_utc(snapshot_date, settings.time_zone)


def sql_parameters(settings: Settings, snapshot_date: dt.date) -> dict[str, object]:
    return {
        "force_code": settings.force,
        "snapshot_date": snapshot_date,
        "as_of": snapshot_cutoff(settings, snapshot_date),
        "time_zone": settings.time_zone,
        "recording_window_hours": settings.recording_window_hours,
        "duplicate_call_window_hours": settings.duplicate_call_window_hours,
        "lookback_days": settings.lookback_days,
        "maturity_lag_days": settings.maturity_lag_days,
    }


def run_sql_file(connection: duckdb.DuckDBPyConnection, relative_path: str, parameters: dict[str, object]) -> None:
    """Run one SQL file; a query file becomes a table named after the file."""
    text = (SQL_DIR / relative_path).read_text(encoding="utf-8")
    used = {name: parameters[name] for name in sorted(set(PARAMETER.findall(text)))}
    if relative_path.startswith("macros/"):
        connection.execute(text)
        return
    table = Path(relative_path).stem
    connection.execute(f"create or replace table {table} as\n{text}", used)


def assertion_files() -> list[Path]:
    return sorted((SQL_DIR / "assertions").glob("assert_*.sql"))


def check_invariants(connection: duckdb.DuckDBPyConnection, parameters: dict[str, object]) -> None:
    for path in assertion_files():
        text = path.read_text(encoding="utf-8")
        used = {name: parameters[name] for name in sorted(set(PARAMETER.findall(text)))}
        offending = connection.execute(text, used).fetchall()
        if offending:
            raise InvariantViolation(f"{path.name} returned {len(offending)} rows, e.g. {offending[:3]}")


def open_connection() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(":memory:")
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set preserve_insertion_order = false")
    return connection


def register_inputs(connection: duckdb.DuckDBPyConnection, raw_files: dict[str, Path]) -> None:
    """Expose the snapshot's raw partitions as raw_<source> and the code lists as ref_<list>."""
    for source, path in raw_files.items():
        connection.read_parquet(str(path)).create_view(f"raw_{source}")
    for name in REFERENCE_LISTS:
        connection.read_csv(str(reference_path(name)), header=True).create_view(f"ref_{name}")


def build_marts(connection: duckdb.DuckDBPyConnection, parameters: dict[str, object]) -> dict[str, pa.Table]:
    for relative_path in SQL_PLAN:
        run_sql_file(connection, relative_path, parameters)
    check_invariants(connection, parameters)
    return {mart: connection.table(mart).to_arrow_table() for mart in MARTS}


def reconcile_snapshot(settings: Settings, snapshot_date: dt.date) -> ReconcileResult:
    """Reconcile one force's snapshot from the lake and write its marts; return what was written."""
    raw_files = {
        source: lake.raw_path(settings.lake_dir, source, settings.force, snapshot_date)
        for source in ("incidents", "crimes", "referrals")
    }
    missing = [str(path) for path in raw_files.values() if not path.exists()]
    if missing:
        raise FileNotFoundError(f"raw partitions missing for {settings.force} {snapshot_date}: {', '.join(missing)}")
    parameters = sql_parameters(settings, snapshot_date)
    with open_connection() as connection:
        register_inputs(connection, raw_files)
        tables = build_marts(connection, parameters)
    written = {
        mart: str(lake.write_parquet(table, lake.mart_path(settings.lake_dir, mart, settings.force, snapshot_date)))
        for mart, table in tables.items()
    }
    result = ReconcileResult(
        force=settings.force,
        snapshot_date=snapshot_date.isoformat(),
        as_of=parameters["as_of"].isoformat(),
        marts=written,
        row_counts={mart: table.num_rows for mart, table in tables.items()},
    )
    lake.write_json(result.to_dict(), lake.manifest_path(settings.lake_dir, "reconcile", "marts", settings.force, snapshot_date))
    log.info("reconciled %s %s: %s", settings.force, snapshot_date, result.row_counts)
    return result
