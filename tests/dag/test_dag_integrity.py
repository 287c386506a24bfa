"""The DAG file: imports cleanly, is wired as documented, and does nothing while parsed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dag
PROJECT = Path(__file__).resolve().parents[2]
DAG_FILE = PROJECT / "dags" / "crime_data_integrity.py"


@pytest.fixture(scope="module")
def dag(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["crime_data_integrity"]


def test_tasks_and_flow(dag):
    downstream = {task.task_id: sorted(task.downstream_task_ids - {"fail_run_if_any_task_failed"}) for task in dag.tasks}
    assert downstream == {
        "extract_incidents": ["validate_raw_snapshots"],
        "extract_crimes": ["validate_raw_snapshots"],
        "extract_referrals": ["validate_raw_snapshots"],
        "validate_raw_snapshots": ["reconcile_snapshots"],
        "reconcile_snapshots": ["gate_recording_rates"],
        "gate_recording_rates": ["publish_report"],
        "publish_report": ["notify_registrar"],
        "notify_registrar": [],
        "fail_run_if_any_task_failed": [],
    }


def test_a_breach_still_reports_and_notifies_but_fails_the_run(dag):
    rules = {task.task_id: task.trigger_rule.value for task in dag.tasks}
    assert rules["publish_report"] == rules["notify_registrar"] == "all_done"
    watcher = dag.get_task("fail_run_if_any_task_failed")
    assert watcher.trigger_rule.value == "one_failed"
    assert watcher.upstream_task_ids == {task.task_id for task in dag.tasks} - {watcher.task_id}
    assert [task.task_id for task in dag.tasks if not task.downstream_task_ids] == [watcher.task_id]


def test_schedule_tags_retries_timeouts(dag):
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 6 * * *", "Europe/London")
    assert {"crime-data-integrity", "cdi-monitor"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and dag.catchup is False
    for task in dag.tasks:
        if task.task_id.startswith("extract_"):
            assert task.retries == 3 and task.retry_exponential_backoff
        assert task.execution_timeout is not None
    assert dag.doc_md and "gate_recording_rates" in dag.doc_md


def test_parsing_touches_no_database_gx_or_duckdb(tmp_path):
    """Parse the file in a fresh interpreter: no GX, DuckDB or pipeline stage imported, no DB created."""
    home = tmp_path / "airflow-home"
    home.mkdir()
    probe = f"""
import json, runpy, sys
runpy.run_path({str(DAG_FILE)!r})
heavy = [m for m in ("great_expectations", "duckdb", "pipelines.stages", "pipelines.quality", "sqlalchemy.engine.base") if m in sys.modules and m != "sqlalchemy.engine.base"]
print(json.dumps(heavy))
"""
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/must-not-exist.db"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    assert not (home / "must-not-exist.db").exists()
