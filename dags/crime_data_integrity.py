"""
# crime_data_integrity

Every morning, for one police force and one snapshot date: were the crimes reported to the force
recorded, recorded within 24 hours, and counted once per victim?

1. `extract_incidents`, `extract_crimes`, `extract_referrals`: the day's exports from call handling,
   crime recording and public protection -> pseudonymised Parquet in the lake (bad rows quarantined).
2. `validate_raw_snapshots`: the Great Expectations contract on each raw snapshot; a critical
   failure stops the run before any verdict is drawn from data that cannot be trusted.
3. `reconcile_snapshots`: DuckDB SQL (`sql/`) applies the crime-recording rules -> marts.
4. `gate_recording_rates`: Great Expectations gates on the rates; a breach fails this task and the run.
5. `publish_report`: the registrar's HTML report, the worklist CSV, the marts as CSV.
6. `notify_registrar`: the morning message, sent on a breach too.

The snapshot date is the run's logical date in Europe/London (or the `snapshot_date` param).
Logic lives in `pipelines/`; this file only wires it, and touches no database, connection or GX
context while it is parsed.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pendulum
from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task

SCHEDULE = CronTriggerTimetable("0 6 * * *", timezone="Europe/London")
EXTRACT_RETRIES = 3
DEFAULT_ARGS = {
    "owner": "crime-data-integrity",
    "retries": 1,
    "retry_delay": dt.timedelta(minutes=5),
    "execution_timeout": dt.timedelta(minutes=30),
}


def _settings_and_date():
    from pipelines.airflow_support import settings_from_params, snapshot_date_of

    context = get_current_context()
    settings = settings_from_params(dict(context["params"]))
    return settings, snapshot_date_of(context.get("logical_date"), dict(context["params"]), settings.time_zone)


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

    if get_current_context()["ti"].xcom_pull(task_ids=task_id) is None:
        raise AirflowSkipException(f"{task_id} did not succeed in this run: nothing to publish")


@dag(
    dag_id="crime_data_integrity",
    schedule=SCHEDULE,
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["crime-data-integrity", "cdi-monitor"],
    params={
        "force": Param(None, type=["null", "string"], pattern="^[A-Z]{2,5}$", description="force code; default: first of $CDI_FORCES"),
        "snapshot_date": Param(None, type=["null", "string"], format="date", description="default: the run's local date"),
        "landing_dir": Param(None, type=["null", "string"], description="default: $CDI_LANDING_DIR"),
        "lake_dir": Param(None, type=["null", "string"], description="default: $CDI_LAKE_DIR"),
        "overrides": Param({}, type="object", description="settings overriding the force's file for this run, e.g. thresholds"),
    },
)
def crime_data_integrity():
    def extract_task(source: str):
        @task(task_id=f"extract_{source}", retries=EXTRACT_RETRIES, retry_exponential_backoff=True)
        def extract_source() -> dict:
            from pipelines import stages

            settings, snapshot_date = _settings_and_date()
            return stages.extract(settings, source, snapshot_date)

        return extract_source()

    @task
    def validate_raw_snapshots() -> dict:
        from pipelines import stages

        with _no_retry_on(stages.DataQualityError):
            return stages.validate_raw_snapshots(*_settings_and_date())

    @task
    def reconcile_snapshots() -> dict:
        from pipelines import stages

        return stages.reconcile(*_settings_and_date())

    @task
    def gate_recording_rates() -> dict:
        from pipelines import stages

        with _no_retry_on(stages.GateBreach):
            return stages.gate_recording_rates(*_settings_and_date())

    @task(trigger_rule="all_done")
    def publish_report() -> dict:
        from pipelines import stages

        _skip_unless_upstream_succeeded("reconcile_snapshots")
        return stages.publish_report(*_settings_and_date())

    @task(trigger_rule="all_done")
    def notify_registrar() -> dict:
        from pipelines import stages
        from pipelines.airflow_support import smtp_target_from_airflow

        _skip_unless_upstream_succeeded("publish_report")
        settings, snapshot_date = _settings_and_date()
        return stages.notify_registrar(settings, snapshot_date, smtp=smtp_target_from_airflow(settings.alerts.smtp_conn_id))

    @task(trigger_rule="one_failed", retries=0)
    def fail_run_if_any_task_failed() -> None:
        """Publishing and notifying run after a breach; this keeps such a run marked failed."""
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("a task of this run failed (see the failed task): the run is failed")

    extracted = [extract_task(source) for source in ("incidents", "crimes", "referrals")]
    validated = validate_raw_snapshots()
    reconciled = reconcile_snapshots()
    gated = gate_recording_rates()
    published = publish_report()
    notified = notify_registrar()
    extracted >> validated >> reconciled >> gated >> published >> notified
    [*extracted, validated, reconciled, gated, published, notified] >> fail_run_if_any_task_failed()


crime_data_integrity()
