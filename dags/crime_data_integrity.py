"""
# crime_data_integrity

Every morning, for each police force configured and one snapshot date: were the crimes reported
to the force recorded, recorded within 24 hours, and counted once per victim?

0. `list_forces`: the forces of this run (the `force` param, else `$CDI_FORCES`). Everything
   below runs once per force, as a mapped task group: one force's failure never hides another's
   result, and each mapped task is labelled with its force code.
1. `extract_incidents`, `extract_crimes`, `extract_referrals`: the day's exports from call handling,
   crime recording and public protection -> pseudonymised Parquet in the lake (bad rows quarantined).
   A missing export is retried with back-off: a late export still makes the morning's verdict.
2. `validate_raw_snapshots`: the Great Expectations contract on each raw snapshot; a critical
   failure stops the force's run before any verdict is drawn from data that cannot be trusted.
3. `reconcile_snapshots`: DuckDB SQL (`sql/`) applies the crime-recording rules -> marts.
4. `gate_recording_rates`: Great Expectations gates on the rates; a breach fails this task and the run.
5. `publish_report`: the registrar's HTML report, the worklist CSV, the marts as CSV.
6. `notify_registrar`: the morning message to the registrar's list, sent on a breach too.

Any other failure of a force's task (missing or late export, critical data-quality failure,
crash) emails the data-engineering list from the task's `on_failure_callback`.

Schedule: daily at `$CDI_DAILY_AT` (default 06:00) Europe/London, right across the clock
changes. The snapshot date is the run's logical date in the force's time zone (or the
`snapshot_date` param). Each run writes only its own `force=<F>/snapshot_date=<D>` partitions,
declared as assets; the tasks that open a force's Great Expectations folder share the pool
`cdi_quality` (one slot). Logic lives in `pipelines/`; this file only wires it, and touches no
database, connection or GX context while it is parsed.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pendulum
from airflow.sdk import Param, dag, task, task_group

from pipelines.airflow_support import (
    FORCE_CONTEXT_KEY,
    alert_data_engineering,
    daily_timetable,
    extract_retries,
    extract_retry_delay,
    lake_asset,
    quality_pool,
)

SOURCES = ("incidents", "crimes", "referrals")
MARTS = ("candidate_outcomes", "recording_rates", "worklist")
RAW = {source: lake_asset("raw", source) for source in SOURCES}
QUARANTINE = {source: lake_asset("quarantine", source) for source in SOURCES}
MART = {mart: lake_asset("marts", mart) for mart in MARTS}
REPORTS = lake_asset("reports")

DEFAULT_ARGS = {
    "owner": "crime-data-integrity",
    "retries": 1,
    "retry_delay": dt.timedelta(minutes=5),
    "execution_timeout": dt.timedelta(minutes=30),
    "on_failure_callback": [alert_data_engineering],
}
# Each task of a force's group shows its force code in the UI instead of a map index.
PER_FORCE = {"map_index_template": "{{ " + FORCE_CONTEXT_KEY + " | default('') }}"}


@contextlib.contextmanager
def _no_retry_on(*verdicts: type[Exception]):
    """A breach or a failed data contract is a verdict on the data: retrying cannot change it."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except verdicts as verdict:
        raise AirflowFailException(str(verdict)) from verdict


def _skip_unless_upstream_succeeded(task_id: str) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    from pipelines.airflow_support import upstream_succeeded

    if not upstream_succeeded(task_id):
        raise AirflowSkipException(f"{task_id} did not succeed for this force in this run: nothing to publish")


@dag(
    dag_id="crime_data_integrity",
    schedule=daily_timetable(),
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=6),  # a hung run must not block tomorrow morning's
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["crime-data-integrity", "cdi-monitor"],
    params={
        "force": Param(None, type=["null", "string"], pattern="^[A-Z]{2,5}$", description="one force only; default: every force in $CDI_FORCES"),
        "snapshot_date": Param(None, type=["null", "string"], format="date", description="default: the run's local date"),
        "landing_dir": Param(None, type=["null", "string"], description="default: $CDI_LANDING_DIR"),
        "lake_dir": Param(None, type=["null", "string"], description="default: $CDI_LAKE_DIR"),
        "overrides": Param({}, type="object", description="settings overriding the force's file for this run, e.g. thresholds"),
    },
)
def crime_data_integrity():
    @task(retries=0, execution_timeout=dt.timedelta(minutes=5))
    def list_forces() -> list[str]:
        from airflow.sdk import get_current_context

        from pipelines.airflow_support import forces_to_run

        return forces_to_run(dict(get_current_context()["params"]))

    def extract_task(source: str, force):
        @task(task_id=f"extract_{source}", retries=extract_retries(), retry_delay=extract_retry_delay(),
              retry_exponential_backoff=True, outlets=[RAW[source], QUARANTINE[source]], **PER_FORCE)
        def extract_source(force: str) -> dict:
            from pipelines import stages
            from pipelines.airflow_support import force_run_context, record_partitions, source_database_url

            settings, snapshot_date = force_run_context(force)
            extracted = stages.extract(settings, source, snapshot_date, database_url=source_database_url(settings))
            record_partitions([RAW[source], QUARANTINE[source]], settings, snapshot_date)
            return extracted

        return extract_source(force)

    @task(pool=quality_pool(), **PER_FORCE)
    def validate_raw_snapshots(force: str) -> dict:
        from pipelines import stages
        from pipelines.airflow_support import force_run_context

        with _no_retry_on(stages.DataQualityError):
            return stages.validate_raw_snapshots(*force_run_context(force))

    @task(outlets=list(MART.values()), execution_timeout=dt.timedelta(minutes=60), **PER_FORCE)
    def reconcile_snapshots(force: str) -> dict:
        from pipelines import stages
        from pipelines.airflow_support import force_run_context, record_partitions

        settings, snapshot_date = force_run_context(force)
        reconciled = stages.reconcile(settings, snapshot_date)
        record_partitions(list(MART.values()), settings, snapshot_date)
        return reconciled

    @task(pool=quality_pool(), **PER_FORCE)
    def gate_recording_rates(force: str) -> dict:
        from pipelines import stages
        from pipelines.airflow_support import force_run_context

        with _no_retry_on(stages.GateBreach):
            return stages.gate_recording_rates(*force_run_context(force))

    @task(trigger_rule="all_done", outlets=[REPORTS], **PER_FORCE)
    def publish_report(force: str) -> dict:
        from pipelines import stages
        from pipelines.airflow_support import force_run_context, record_partitions

        settings, snapshot_date = force_run_context(force)
        _skip_unless_upstream_succeeded("reconcile_snapshots")
        published = stages.publish_report(settings, snapshot_date)
        record_partitions([REPORTS], settings, snapshot_date)
        return published

    @task(trigger_rule="all_done", execution_timeout=dt.timedelta(minutes=10), **PER_FORCE)
    def notify_registrar(force: str) -> dict:
        from pipelines import stages
        from pipelines.airflow_support import force_run_context, smtp_transport_from_airflow, webhook_url_from_airflow

        settings, snapshot_date = force_run_context(force)
        _skip_unless_upstream_succeeded("publish_report")
        return stages.notify_registrar(settings, snapshot_date,
                                       smtp=smtp_transport_from_airflow(settings.alerts.smtp_conn_id),
                                       webhook_url=webhook_url_from_airflow(settings.alerts.webhook_conn_id))

    @task(trigger_rule="one_failed", retries=0, on_failure_callback=[])
    def fail_run_if_any_task_failed() -> None:
        """Publishing and notifying run after a breach; this keeps such a run marked failed."""
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("a task of this run failed (see the failed task): the run is failed")

    failed_run = fail_run_if_any_task_failed()

    # prefix_group_id=False keeps the task ids the stages' names (extract_incidents, ...).
    @task_group(group_id="check_force", prefix_group_id=False)
    def check_force(force: str):
        extracted = [extract_task(source, force) for source in SOURCES]
        validated = validate_raw_snapshots(force)
        reconciled = reconcile_snapshots(force)
        gated = gate_recording_rates(force)
        published = publish_report(force)
        notified = notify_registrar(force)
        extracted >> validated >> reconciled >> gated >> published >> notified
        [*extracted, validated, reconciled, gated, published, notified] >> failed_run

    forces = list_forces()
    forces >> failed_run
    check_force.expand(force=forces)


crime_data_integrity()
