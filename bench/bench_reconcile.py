"""The reconciliation engine (issue 3): the full rule set on one year of the large preset.

One year of a Metropolitan-like force (preset `large`, about 4M incidents and 830k crime records)
is simulated as a period export, extracted into a lake once, and reconciled as one snapshot
whose lookback covers the whole year. Each measurement runs in a fresh interpreter (its own
peak memory):

- full rules: `pipelines.reconcile.reconcile_snapshot` (all of sql/, the invariants, and every
  mart written to the lake). Target: at most 8 s and 2 GB.
- bare scan: DuckDB reading the columns the rules read from the same Parquet files into memory
  and nothing else. Target: full rules at most 4x this.
- pandas core rules: bench/reference_rules_pandas.py (links, probable links, outcomes per
  victim, rates). Target: full rules at least 10x faster.
- polars core rules: only if polars is installed (it is not a dependency of the project).
- SQL core rules: for the comparison on equal work, the files of sql/ that compute what the pandas
  and polars implementations compute (candidate outcomes and recording rates), kept in memory as
  those are: no invariants, no other marts, nothing written. Informative; the targets above are
  the full rules'.

Accuracy against the simulator's ground truth on the same year goes in the details of the
full-rules measurement: the share of truly unrecorded crimes that reach the worklist, and the
precision and recall of probable repeat calls.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from pathlib import Path

from bench.harness import Measurement, run_in_subprocess
from pipelines.simulate import accuracy as ground_truth

FORCE = "MET"
PROFILE = "met-2018"
START, END = dt.date(2024, 1, 1), dt.date(2025, 1, 1)
LOOKBACK_DAYS = (END - START).days + 1  # the whole year is one snapshot's window
TARGET_SECONDS = 8
TARGET_PEAK_MB = 2048
TARGET_SCAN_RATIO = 4
TARGET_PANDAS_SPEEDUP = 10
# A folder an earlier run prepared (landing, truth, lake): reused as is, skipping the four
# minutes of simulating and extracting the year (for working on the rules, not for the README).
PREPARED_ROOT_ENV = "CDI_BENCH_RECONCILE_ROOT"

# The columns sql/ reads from each raw partition (what a bare scan must read too).
COLUMNS_READ = {
    "incidents": ["incident_ref", "force_code", "created_at", "channel", "opening_code", "closing_code", "closed_at",
                  "qualifiers", "victim_count", "victim_person_keys", "beat_code", "crime_refs", "updated_at"],
    "crimes": ["crime_ref", "force_code", "incident_ref", "referral_ref", "reported_at", "recorded_at",
               "ho_offence_code", "status", "cancellation_code", "cancelled_at", "cancellation_authority",
               "victim_person_key", "beat_code", "flags", "updated_at"],
    "referrals": ["referral_ref", "force_code", "received_at", "source_agency", "team", "discloses_offence",
                  "disclosed_offence_code", "victim_person_key", "crime_refs", "updated_at"],
}

PREPARE = """
import datetime as dt
from pathlib import Path
from pipelines.extract import extract_source
from pipelines.settings import load_settings
from pipelines.simulate import simulate_force
root = Path({root!r})
simulate_force(force={force!r}, profile={profile!r}, start=dt.date.fromisoformat({start!r}),
               end=dt.date.fromisoformat({end!r}), seed=1, landing=root / "landing", truth=root / "truth",
               mode="period", preset="large")
settings = load_settings({force!r}, landing_dir=root / "landing", lake_dir=root / "lake", demo=True)
for source in ("incidents", "crimes", "referrals"):
    extract_source(settings, source, dt.date.fromisoformat({end!r}))
"""

# Every measured piece of code ends by printing its own CPU seconds (all threads): on a shared
# machine wall time depends on the neighbours, CPU time much less.
CPU_LINE = """
import resource as _resource
_usage = _resource.getrusage(_resource.RUSAGE_SELF)
print("CPU", _usage.ru_utime + _usage.ru_stime)
"""

SETTINGS = """
import datetime as dt
from pathlib import Path
from pipelines import reconcile
from pipelines.settings import load_settings
root = Path({root!r})
snapshot = dt.date.fromisoformat({end!r})
settings = load_settings({force!r}, landing_dir=root / "landing", lake_dir=root / "lake", need_key=False,
                         overrides={{"lookback_days": {lookback}}})
"""

FULL_RULES = SETTINGS + """
result = reconcile.reconcile_snapshot(settings, snapshot)
print("ROWS", result.row_counts)
"""

BARE_SCAN = SETTINGS + """
import duckdb
connection = duckdb.connect()
for source, columns in {columns!r}.items():
    path = reconcile.raw_files(settings.lake_dir, settings.force, snapshot)[source]
    connection.execute(f"create table scan_{{source}} as select {{', '.join(columns)}} from read_parquet('{{path}}')")
"""

PANDAS_RULES = SETTINGS + """
from bench.reference_rules_pandas import reconcile_pandas
tables = reconcile_pandas(reconcile.raw_files(settings.lake_dir, settings.force, snapshot),
                          reconcile.sql_parameters(settings, snapshot))
print("ROWS", len(tables["candidate_outcomes"]))
"""

POLARS_RULES = SETTINGS + """
from bench.reference_rules_polars import reconcile_polars
tables = reconcile_polars(reconcile.raw_files(settings.lake_dir, settings.force, snapshot),
                          reconcile.sql_parameters(settings, snapshot))
print("ROWS", tables["candidate_outcomes"].height)
"""

# The files of the SQL plan that compute what the pandas and polars implementations compute:
# staging, every intermediate step, the candidate outcomes and the rates (which recording_rates
# takes from recording_metrics).
CORE_PLAN_MARTS = ("marts/candidate_outcomes.sql", "marts/recording_metrics.sql", "marts/recording_rates.sql")

SQL_CORE_RULES = SETTINGS + """
connection = reconcile.open_connection()
reconcile.register_inputs(connection, reconcile.raw_files(settings.lake_dir, settings.force, snapshot))
parameters = reconcile.sql_parameters(settings, snapshot)
for relative_path in reconcile.SQL_PLAN:
    if relative_path.startswith("marts/") and relative_path not in {core_marts!r}:
        continue
    reconcile.run_sql_file(connection, relative_path, parameters)
# candidate_outcomes is a view: held in memory, as the other implementations hold their result.
connection.execute("create table core_candidate_outcomes as select * from candidate_outcomes")
print("ROWS", connection.execute("select count(*) from core_candidate_outcomes").fetchone()[0])
"""


def measure(code: str) -> tuple[float, float, float, str]:
    """Wall seconds, peak MB, CPU seconds and stdout of code run in a fresh interpreter."""
    seconds, peak, output = run_in_subprocess(code + CPU_LINE)
    cpu = float(next(line for line in output.splitlines() if line.startswith("CPU ")).split()[1])
    return seconds, peak, round(cpu, 2), output


def accuracy(root: Path) -> dict:
    """The accuracy figures of the reconciled year against the simulator's ground truth
    (pipelines/simulate/accuracy.py), and the number of worklist items."""
    connection = ground_truth.snapshot_connection(root / "lake", root / "truth", FORCE, END)
    figures = ground_truth.figures(connection)
    figures["worklist_items"] = connection.execute("select count(*) from worklist").fetchone()[0]
    connection.close()
    return figures


def run(workdir: Path) -> list[Measurement]:
    prepared = os.environ.get(PREPARED_ROOT_ENV)
    root = Path(prepared) if prepared else workdir
    values = {"root": str(root), "force": FORCE, "profile": PROFILE, "start": START.isoformat(), "end": END.isoformat(),
              "lookback": LOOKBACK_DAYS, "columns": COLUMNS_READ}
    if not prepared:
        run_in_subprocess(PREPARE.format(**values))

    scan_seconds, scan_peak, scan_cpu, _ = measure(BARE_SCAN.format(**values))
    rules_seconds, rules_peak, rules_cpu, output = measure(FULL_RULES.format(**values))
    rows = next(line for line in output.splitlines() if line.startswith("ROWS"))
    figures = accuracy(root)
    pandas_seconds, pandas_peak, pandas_cpu, _ = measure(PANDAS_RULES.format(**values))
    has_polars = importlib.util.find_spec("polars") is not None
    polars = measure(POLARS_RULES.format(**values)) if has_polars else None
    core_seconds, core_peak, core_cpu, _ = measure(SQL_CORE_RULES.format(**values, core_marts=CORE_PLAN_MARTS))
    load = os.getloadavg()[0]

    measurements = [
        Measurement(
            name="bare scan of the columns read (DuckDB)",
            seconds=scan_seconds,
            peak_rss_mb=scan_peak,
            detail={"cpu_seconds": scan_cpu},
        ),
        Measurement(
            name="full rules, one year of the large preset",
            seconds=rules_seconds,
            peak_rss_mb=rules_peak,
            baseline_name="bare scan",
            baseline_seconds=scan_seconds,
            target=f"<= {TARGET_SECONDS} s, <= {TARGET_PEAK_MB} MB, <= {TARGET_SCAN_RATIO}x scan",
            passed=(rules_seconds <= TARGET_SECONDS and rules_peak <= TARGET_PEAK_MB
                    and rules_seconds <= TARGET_SCAN_RATIO * scan_seconds),
            detail={"cpu_seconds": rules_cpu, "load_average_after": round(load, 2),
                    "marts": rows.removeprefix("ROWS ").strip(), "accuracy": figures},
        ),
        Measurement(
            name="pandas core rules (reference)",
            seconds=pandas_seconds,
            peak_rss_mb=pandas_peak,
            baseline_name="full rules",
            baseline_seconds=rules_seconds,
            target=f"full rules >= {TARGET_PANDAS_SPEEDUP}x faster",
            passed=pandas_seconds >= TARGET_PANDAS_SPEEDUP * rules_seconds,
            detail={"cpu_seconds": pandas_cpu},
        ),
    ]
    if polars is not None:
        polars_seconds, polars_peak, polars_cpu, _ = polars
        measurements.append(Measurement(
            name="polars core rules",
            seconds=polars_seconds,
            peak_rss_mb=polars_peak,
            baseline_name="full rules",
            baseline_seconds=rules_seconds,
            target="full rules not slower",
            passed=rules_seconds <= polars_seconds,
            detail={"cpu_seconds": polars_cpu},
        ))
    measurements.append(Measurement(
        name="SQL core rules (the pandas and polars subset, in memory)",
        seconds=core_seconds,
        peak_rss_mb=core_peak,
        baseline_name="polars core rules" if polars is not None else "pandas core rules",
        baseline_seconds=polars[0] if polars is not None else pandas_seconds,
        detail={"cpu_seconds": core_cpu},
    ))
    return measurements
