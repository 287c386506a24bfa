"""The DAG file: imports cleanly, is wired as documented, and does nothing while parsed."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.dag
PROJECT = Path(__file__).resolve().parents[2]
DAG_FILE = PROJECT / "dags" / "crime_data_integrity.py"
WATCHER = "fail_run_if_any_task_failed"
PER_FORCE_TASKS = {
    "extract_incidents", "extract_crimes", "extract_referrals", "validate_raw_snapshots",
    "reconcile_snapshots", "gate_recording_rates", "publish_report", "notify_registrar",
}
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(scope="module")
def dag(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-home")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert bag.import_errors == {}
    return bag.dags["crime_data_integrity"]


def test_tasks_and_flow(dag):
    downstream = {task.task_id: sorted(task.downstream_task_ids - {WATCHER}) for task in dag.tasks}
    assert downstream == {
        "list_forces": sorted(PER_FORCE_TASKS),  # each task of a force's group takes its force code from it
        "extract_incidents": ["validate_raw_snapshots"],
        "extract_crimes": ["validate_raw_snapshots"],
        "extract_referrals": ["validate_raw_snapshots"],
        "validate_raw_snapshots": ["reconcile_snapshots"],
        "reconcile_snapshots": ["gate_recording_rates"],
        "gate_recording_rates": ["publish_report"],
        "publish_report": ["notify_registrar"],
        "notify_registrar": [],
        WATCHER: [],
    }


def test_each_force_runs_in_its_own_mapped_group(dag):
    """Dynamic task mapping over the forces of the run: a force's tasks depend only on the same
    force's tasks, so one force's failure does not stop or hide another's."""
    from airflow.sdk.definitions.taskgroup import MappedTaskGroup

    groups = {task.task_id: task.task_group for task in dag.tasks}
    assert {task_id for task_id, group in groups.items() if isinstance(group, MappedTaskGroup)} == PER_FORCE_TASKS
    group = groups["extract_incidents"]
    assert all(groups[task_id] is group for task_id in PER_FORCE_TASKS)
    assert group.group_id == "check_force" and group.prefix_group_id is False
    assert [operator.task_id for operator in group.iter_mapped_dependencies()] == ["list_forces"]
    for task_id in PER_FORCE_TASKS:
        assert dag.get_task(task_id).map_index_template == "{{ cdi_force | default('') }}"


def test_a_breach_still_reports_and_notifies_but_fails_the_run(dag):
    rules = {task.task_id: task.trigger_rule.value for task in dag.tasks}
    assert rules["publish_report"] == rules["notify_registrar"] == "all_done"
    watcher = dag.get_task(WATCHER)
    assert watcher.trigger_rule.value == "one_failed"
    assert watcher.upstream_task_ids == {task.task_id for task in dag.tasks} - {WATCHER}
    assert [task.task_id for task in dag.tasks if not task.downstream_task_ids] == [WATCHER]


def test_schedule_tags_retries_timeouts(dag):
    assert (dag.timetable.expression, str(dag.timetable.timezone)) == ("0 6 * * *", "Europe/London")
    assert {"crime-data-integrity", "cdi-monitor"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and dag.catchup is False
    assert dag.dagrun_timeout == dt.timedelta(hours=6)
    for task in dag.tasks:
        if task.task_id.startswith("extract_"):
            assert task.retries == 3 and task.retry_exponential_backoff
            assert task.retry_delay == dt.timedelta(minutes=5)
        assert task.execution_timeout is not None
    assert dag.doc_md and "gate_recording_rates" in dag.doc_md


def test_failures_alert_the_data_engineers(dag):
    from pipelines.airflow_support import alert_data_engineering

    for task in dag.tasks:
        expected = [] if task.task_id == WATCHER else [alert_data_engineering]
        assert list(task.on_failure_callback or []) == expected, task.task_id
    assert dag.on_failure_callback is None  # a DAG-level notifier crashes `airflow dags test` (apache/airflow#64649)


def test_great_expectations_tasks_share_one_pool(dag):
    pools = {task.task_id: task.pool for task in dag.tasks}
    assert pools["validate_raw_snapshots"] == pools["gate_recording_rates"] == "cdi_quality"
    assert {pool for task_id, pool in pools.items() if task_id not in ("validate_raw_snapshots", "gate_recording_rates")} == {"default_pool"}


def test_lake_partitions_are_assets(dag):
    outlets = {task.task_id: sorted(asset.uri for asset in task.outlets) for task in dag.tasks if task.outlets}
    assert outlets == {
        "extract_incidents": ["cdi-lake://quarantine/incidents", "cdi-lake://raw/incidents"],
        "extract_crimes": ["cdi-lake://quarantine/crimes", "cdi-lake://raw/crimes"],
        "extract_referrals": ["cdi-lake://quarantine/referrals", "cdi-lake://raw/referrals"],
        "reconcile_snapshots": ["cdi-lake://marts/candidate_outcomes", "cdi-lake://marts/recording_rates",
                                "cdi-lake://marts/worklist"],
        "publish_report": ["cdi-lake://reports/"],
    }


def _next_runs(timetable, earliest: dt.datetime, count: int) -> list[dt.datetime]:
    from airflow.serialization.encoders import coerce_to_core_timetable
    from airflow.timetables.base import TimeRestriction

    core = coerce_to_core_timetable(timetable)
    runs, last = [], None
    for _ in range(count):
        info = core.next_dagrun_info(last_automated_data_interval=last,
                                     restriction=TimeRestriction(earliest=earliest, latest=None, catchup=True))
        runs.append(info.logical_date)
        last = info.data_interval
    return runs


@pytest.mark.parametrize("change_day", [dt.date(2025, 3, 30), dt.date(2025, 10, 26)], ids=["march", "october"])
def test_runs_at_six_local_across_the_clock_changes(dag, change_day):
    """The last Sundays of March and October 2025: every run is 06:00 in London, one a day."""
    earliest = dt.datetime.combine(change_day - dt.timedelta(days=2), dt.time(0), tzinfo=dt.timezone.utc)
    runs = _next_runs(dag.timetable, earliest, 5)
    local = [run.astimezone(LONDON) for run in runs]
    assert [run.date() for run in local] == [change_day + dt.timedelta(days=offset) for offset in range(-2, 3)]
    assert {(run.hour, run.minute) for run in local} == {(6, 0)}
    utc_hours = [run.astimezone(dt.timezone.utc).hour for run in runs]
    summer_to_winter = change_day.month == 10
    assert utc_hours == ([5, 5, 6, 6, 6] if summer_to_winter else [6, 6, 5, 5, 5])


def test_the_daily_time_is_configurable():
    from pipelines.airflow_support import daily_timetable
    from pipelines.settings import ConfigurationError

    evening = daily_timetable("21:15")
    assert (evening.expression, str(evening.timezone)) == ("15 21 * * *", "Europe/London")
    # Inside the hour the clocks skip or repeat there is still exactly one run each local day.
    for change_day in (dt.date(2025, 3, 30), dt.date(2025, 10, 26)):
        earliest = dt.datetime.combine(change_day - dt.timedelta(days=1), dt.time(0), tzinfo=dt.timezone.utc)
        days = [run.astimezone(LONDON).date() for run in _next_runs(daily_timetable("01:30"), earliest, 3)]
        assert days == [change_day - dt.timedelta(days=1), change_day, change_day + dt.timedelta(days=1)]
    for wrong in ("6am", "24:00", "06:60"):
        with pytest.raises(ConfigurationError, match="CDI_DAILY_AT"):
            daily_timetable(wrong)
    with pytest.raises(ConfigurationError, match="unknown time zone"):
        daily_timetable("06:00", "Europe/Londres")


def test_the_daily_time_comes_from_the_environment(tmp_path):
    """$CDI_DAILY_AT, read when the file is parsed (by the dag-processor), moves the schedule."""
    probe = f"""
from airflow.dag_processing.dagbag import DagBag
print(DagBag(dag_folder={str(DAG_FILE)!r}).dags["crime_data_integrity"].timetable.expression)
"""
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "CDI_DAILY_AT": "05:45"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "45 5 * * *"


def test_parsing_touches_no_database_gx_or_duckdb(tmp_path):
    """Parse the file in a fresh interpreter: no GX, DuckDB or pipeline stage imported, no DB created."""
    home = tmp_path / "airflow-home"
    home.mkdir()
    probe = f"""
import json, runpy, sys
runpy.run_path({str(DAG_FILE)!r})
heavy = [m for m in ("great_expectations", "duckdb", "pipelines.stages", "pipelines.quality", "pipelines.reconcile",
                     "pipelines.notify", "airflow.providers.smtp.hooks.smtp") if m in sys.modules]
print(json.dumps(heavy))
"""
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/must-not-exist.db"}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    assert not (home / "must-not-exist.db").exists()
