"""The daily run (issue 5): a mid-size force's snapshot end to end under `airflow dags test`.

One snapshot of the `mid` preset at scale 1.0 (a 60-day lookback export of each source), run by
the real DAG through `airflow dags test` on a SQLite metadata database, with the time of each
task read back from Airflow's task instances. Target: at most 45 s for the whole command on this
2-core machine. Baseline, in the same run: `cdi run` on the same snapshot into a fresh lake (the
same stages without Airflow), so the ratio is what Airflow costs on top.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bench.harness import Measurement, measure_command

TARGET_SECONDS = 45
FORCE = "MID"  # no config/forces/MID.yaml: the embedded defaults
PROFILE = "kent-2017"  # a breaching force: every task runs, the report and the alert too
SNAPSHOT = dt.date(2024, 6, 28)
PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def _task_seconds(airflow_db: Path) -> dict[str, float]:
    """Each task's duration in the latest run, as Airflow recorded it."""
    with sqlite3.connect(airflow_db) as database:
        run_id = database.execute(
            "select run_id from dag_run where dag_id = 'crime_data_integrity' order by id desc limit 1").fetchone()[0]
        rows = database.execute(
            "select task_id, map_index, (julianday(end_date) - julianday(start_date)) * 86400 "
            "from task_instance where run_id = ? and start_date is not null order by start_date", (run_id,)).fetchall()
    return {(task_id if map_index < 0 else f"{task_id}[{FORCE}]"): round(seconds, 2) for task_id, map_index, seconds in rows}


def run(workdir: Path) -> list[Measurement]:
    from pipelines.simulate import simulate_force

    landing = workdir / "landing"
    simulated = simulate_force(force=FORCE, profile=PROFILE, start=SNAPSHOT, end=SNAPSHOT, seed=5, landing=landing,
                               mode="daily", preset="mid", scale=1.0)
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW_", "AIRFLOW__", "CDI_"))}
    home = workdir / "airflow-home"
    airflow_env = {
        **environment,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "CDI_DEMO": "true",
        "CDI_FORCES": FORCE,
        "CDI_LANDING_DIR": str(landing),
        "CDI_LAKE_DIR": str(workdir / "lake-airflow"),
    }
    migrate = subprocess.run([str(BIN / "airflow"), "db", "migrate"], capture_output=True, text=True, env=airflow_env)
    if migrate.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed:\n{migrate.stderr[-3000:]}")

    dag_run = measure_command([str(BIN / "airflow"), "dags", "test", "crime_data_integrity", SNAPSHOT.isoformat()], airflow_env)
    if dag_run["returncode"] not in (0, 1):  # 1: the gate breached, as this profile does; every task ran
        raise RuntimeError(f"airflow dags test failed:\n{dag_run['output_tail']}")
    tasks = _task_seconds(home / "airflow.db")
    if len(tasks) != 10:  # list_forces, the 8 stages of the force, and the watcher (a breach fails the run)
        raise RuntimeError(f"expected every task to run, got {sorted(tasks)}\n{dag_run['output_tail']}")

    baseline = measure_command([str(BIN / "cdi"), "run", "--force", FORCE, "--date", SNAPSHOT.isoformat(), "--landing",
                          str(landing), "--lake", str(workdir / "lake-cli"), "--demo"], environment)
    if baseline["returncode"] not in (0, 1):
        raise RuntimeError(f"cdi run failed:\n{baseline['output_tail']}")

    return [
        Measurement(
            name="daily run, mid preset snapshot, airflow dags test",
            seconds=dag_run["seconds"],
            peak_rss_mb=dag_run["peak_rss_mb"],
            baseline_name="cdi run (same stages, no Airflow)",
            baseline_seconds=baseline["seconds"],
            target=f"<= {TARGET_SECONDS} s",
            passed=dag_run["seconds"] <= TARGET_SECONDS,
            detail={
                "snapshot_rows": simulated.rows,
                "task_seconds": tasks,
                "task_seconds_total": round(sum(tasks.values()), 2),
                "airflow_overhead_seconds": round(dag_run["seconds"] - sum(tasks.values()), 2),
                "cdi_run_peak_rss_mb": baseline["peak_rss_mb"],
            },
        )
    ]
