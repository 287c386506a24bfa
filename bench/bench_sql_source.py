"""The SQL source (issue 7): one year of the `mid` preset extracted from a real PostgreSQL server.

A year of a mid-size force (about 600k incidents) is simulated as one period export, loaded with
COPY into a throwaway PostgreSQL server on 127.0.0.1 (the tests' `tests/sources/postgres_server`:
Debian's server binaries, installed when absent), and extracted by `extract_from_database` for the
three sources, in a fresh process (wall time, and that process's peak resident memory, VmHWM:
the Arrow and Parquet buffers, not the server's). Target: at most 60 s and 1 GB. Baseline, in the same run:
the CSV path (`extract_source` on the same files), so the ratio is what the database route costs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.harness import Measurement, run_in_subprocess

TARGET_SECONDS = 60
TARGET_PEAK_MB = 1024
FORCE = "MID"
START, END = dt.date(2023, 7, 1), dt.date(2024, 6, 30)
LOOKBACK_DAYS = (END - START).days  # the period export's window: the whole year
SCHEMA = "bench_year"

EXTRACT = """
import datetime as dt, json
from pipelines.extract import extract_source
from pipelines.settings import load_settings
settings = load_settings({force!r}, landing_dir={landing!r}, lake_dir={lake!r}, demo=True, overrides={overrides!r})
counts = {{}}
for source in ("incidents", "crimes", "referrals"):
    result = extract_source(settings, source, dt.date.fromisoformat({end!r}), database_url={url!r})
    counts[source] = [result.rows_in, result.rows_accepted, result.rows_quarantined]
print("__COUNTS__", json.dumps(counts))
# This process's own high-water mark: getrusage's maximum also counts the parent's memory at the
# fork (the simulation of a year), which is not the extraction's.
status = open("/proc/self/status").read()
print("__HWM_KB__", next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
"""


def _load(server, landing: Path) -> None:
    from pipelines.contract import SOURCES
    from tests.sources.conftest import connect, table_ddl

    with connect(server) as connection:
        connection.execute(f"create schema {SCHEMA}")
        for contract in SOURCES.values():
            connection.execute(table_ddl(SCHEMA, contract))
            path = landing / FORCE / contract.file_name(END.isoformat())
            header = path.read_text(encoding="utf-8").split("\n", 1)[0].strip()
            with connection.cursor() as cursor, cursor.copy(
                f"copy {SCHEMA}.{contract.name} ({header}) from stdin with (format csv, header true)"
            ) as copy, open(path, "rb") as handle:
                while block := handle.read(1 << 20):
                    copy.write(block)
            connection.execute(f"analyze {SCHEMA}.{contract.name}")


def _extract(landing: Path, lake: Path, overrides: dict, url: str | None) -> tuple[float, float, dict]:
    import json

    code = EXTRACT.format(force=FORCE, landing=str(landing), lake=str(lake), overrides=overrides, end=END.isoformat(), url=url)
    seconds, _, stdout = run_in_subprocess(code)
    lines = stdout.splitlines()
    counts = json.loads(next(line for line in lines if line.startswith("__COUNTS__")).split(" ", 1)[1])
    peak_mb = int(next(line for line in lines if line.startswith("__HWM_KB__")).split()[1]) / 1024
    return seconds, peak_mb, counts


def run(workdir: Path) -> list[Measurement]:
    from pipelines.simulate import simulate_force
    from tests.sources.postgres_server import start_server

    landing = workdir / "landing"
    simulate_force(force=FORCE, profile="kent-2017", start=START, end=END, seed=5, landing=landing,
                   mode="period", preset="mid", lookback_days=LOOKBACK_DAYS)
    server = start_server()
    try:
        _load(server, landing)
        tables = {name: f"{SCHEMA}.{name}" for name in ("incidents", "crimes", "referrals")}
        database = {"lookback_days": LOOKBACK_DAYS, "source": {"kind": "database", "tables": tables}}
        csv_seconds, csv_peak, csv_counts = _extract(landing, workdir / "csv-lake", {"lookback_days": LOOKBACK_DAYS}, None)
        sql_seconds, sql_peak, sql_counts = _extract(landing, workdir / "sql-lake", database, server.url())
    finally:
        server.stop()
    if sql_counts != csv_counts:
        raise AssertionError(f"the database and the files gave different counts: {sql_counts} vs {csv_counts}")
    return [
        Measurement("extract a year of mid from CSV files", csv_seconds, csv_peak, detail={"rows": csv_counts}),
        Measurement(
            "extract a year of mid from PostgreSQL", sql_seconds, sql_peak,
            baseline_name="CSV path", baseline_seconds=csv_seconds,
            target=f"<= {TARGET_SECONDS} s and <= {TARGET_PEAK_MB // 1024} GB",
            passed=sql_seconds <= TARGET_SECONDS and sql_peak <= TARGET_PEAK_MB,
            detail={"rows": sql_counts, "batch_rows": 50_000},
        ),
    ]
