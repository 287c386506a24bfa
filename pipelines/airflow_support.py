"""What the DAG needs from Airflow, and what Airflow needs from the project.

Two kinds of function live here, kept apart on purpose:

* **Parse time** (called while the DAG file is read by the dag-processor): the schedule, the retry
  policy of extraction, the pool name, the lake's assets. They read environment variables only:
  no database, connection, Variable or GX context, and no heavy import.
* **Run time** (called inside tasks and callbacks): which forces this run covers, a force's
  `Settings`, the snapshot date, the SMTP connection, the failure alert.

Deployment settings come from the workers' environment (``CDI_LANDING_DIR``, ``CDI_LAKE_DIR``,
``CDI_FORCES``, ``CDI_DEMO``) unless a run's params override them; the pseudonymisation key from
``$CDI_PSEUDONYM_KEY`` or the password of the Airflow connection ``cdi_pseudonym_key``; SMTP from
the Airflow connection named in the force's settings (``smtp_default``), if it exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.settings import DEFAULTS_FILE, PROJECT_ROOT, ConfigurationError, Settings, load_settings, validate_force_code

if TYPE_CHECKING:
    from pipelines.notify import Alert

log = logging.getLogger(__name__)

LANDING_ENV = "CDI_LANDING_DIR"
LAKE_ENV = "CDI_LAKE_DIR"
DEMO_ENV = "CDI_DEMO"
FORCES_ENV = "CDI_FORCES"
DAILY_AT_ENV = "CDI_DAILY_AT"
SCHEDULE_TIME_ZONE_ENV = "CDI_SCHEDULE_TIME_ZONE"
EXTRACT_RETRIES_ENV = "CDI_EXTRACT_RETRIES"
EXTRACT_RETRY_DELAY_ENV = "CDI_EXTRACT_RETRY_DELAY_SECONDS"
QUALITY_POOL_ENV = "CDI_QUALITY_POOL"
PSEUDONYM_KEY_CONNECTION = "cdi_pseudonym_key"
DEFAULT_LANDING = PROJECT_ROOT / "var" / "landing"
DEFAULT_LAKE = PROJECT_ROOT / "var" / "lake"
DEFAULT_FORCE = "KNT"

# The registrar reads the verdict at the morning meeting: the run starts at 06:00 local time.
DEFAULT_DAILY_AT = "06:00"
DEFAULT_SCHEDULE_TIME_ZONE = "Europe/London"
# A late export is waited for: retries after 5, 10 and 20 minutes (exponential back-off), so an
# export landing up to about 35 minutes late still makes the morning's verdict.
DEFAULT_EXTRACT_RETRIES = 3
DEFAULT_EXTRACT_RETRY_DELAY_SECONDS = 300
# Great Expectations keeps one file context per force (lake/quality/force=<F>/): its
# great_expectations.yml and Data Docs index are rewritten by every validation. Tasks that open
# it run in this pool, created with one slot, so no two ever write it at once.
DEFAULT_QUALITY_POOL = "cdi_quality"
LAKE_ASSET_SCHEME = "cdi-lake"
LIST_FORCES_TASK = "list_forces"
FORCE_CONTEXT_KEY = "cdi_force"  # what each mapped task's map_index_template shows: its force


# --------------------------------------------------------------------------- parse time


def daily_timetable(daily_at: str | None = None, time_zone: str | None = None):
    """Every day at ``daily_at`` (HH:MM, ``$CDI_DAILY_AT``, default 06:00) local time.

    A cron trigger in a named time zone fires at that wall-clock time whatever the offset, so
    06:00 stays 06:00 in Europe/London across both clock changes (05:00 UTC in summer, 06:00 UTC
    in winter). Airflow's logical date is the trigger instant; the snapshot date is its local day.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from airflow.sdk import CronTriggerTimetable

    daily_at = daily_at or os.environ.get(DAILY_AT_ENV) or DEFAULT_DAILY_AT
    time_zone = time_zone or os.environ.get(SCHEDULE_TIME_ZONE_ENV) or DEFAULT_SCHEDULE_TIME_ZONE
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", daily_at)
    if not match:
        raise ConfigurationError(f"{DAILY_AT_ENV} must be a 24-hour time HH:MM, got {daily_at!r}")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"{SCHEDULE_TIME_ZONE_ENV}: unknown time zone {time_zone!r}") from None
    hour, minute = int(match.group(1)), int(match.group(2))
    return CronTriggerTimetable(f"{minute} {hour} * * *", timezone=time_zone)


def _whole_number_env(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise ConfigurationError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def extract_retries() -> int:
    return _whole_number_env(EXTRACT_RETRIES_ENV, DEFAULT_EXTRACT_RETRIES)


def extract_retry_delay() -> dt.timedelta:
    return dt.timedelta(seconds=_whole_number_env(EXTRACT_RETRY_DELAY_ENV, DEFAULT_EXTRACT_RETRY_DELAY_SECONDS))


def quality_pool() -> str:
    return os.environ.get(QUALITY_POOL_ENV) or DEFAULT_QUALITY_POOL


def lake_asset(area: str, dataset: str | None = None):
    """The Airflow Asset of one lake dataset; each event names the partition it wrote.

    The URI names the dataset, not where the lake is: the same DAG runs against a local folder,
    a test's temporary lake or object storage, and an asset must not change identity with that.
    The event's ``partition_key`` (``<force>|<snapshot date>``) and ``extra["path"]`` say which
    partition a run wrote and where.
    """
    from airflow.sdk import Asset

    path = f"{area}/{dataset}" if dataset else area
    return Asset(name=f"cdi_lake.{path.replace('/', '.')}", uri=f"{LAKE_ASSET_SCHEME}://{path}", group="cdi-lake")


# --------------------------------------------------------------------------- run time: forces and settings


def parse_forces(text: str) -> list[str]:
    """``"KNT, DBY"`` -> ``["KNT", "DBY"]``: validated force codes, in order, without repeats."""
    forces: list[str] = []
    for code in (part.strip() for part in text.split(",")):
        if code and validate_force_code(code) not in forces:
            forces.append(code)
    return forces


def forces_to_run(params: dict) -> list[str]:
    """The ``force`` param (one force), else every force in ``$CDI_FORCES``, else KNT."""
    if params.get("force"):
        return [validate_force_code(params["force"])]
    forces = parse_forces(os.environ.get(FORCES_ENV) or DEFAULT_FORCE)
    if not forces:
        raise ConfigurationError(f"{FORCES_ENV} names no force")
    return forces


def default_force() -> str:
    """The first force in ``$CDI_FORCES`` (comma-separated), else the demo force KNT."""
    return forces_to_run({})[0]


def _connection(conn_id: str):
    from airflow.sdk import Connection

    try:
        return Connection.get(conn_id)
    except Exception as error:  # Airflow raises its own not-found error type, which moved between versions
        log.info("no Airflow connection %s (%s)", conn_id, type(error).__name__)
        return None


def pseudonym_key_from_airflow() -> str | None:
    if os.environ.get("CDI_PSEUDONYM_KEY"):
        return os.environ["CDI_PSEUDONYM_KEY"]
    connection = _connection(PSEUDONYM_KEY_CONNECTION)
    return connection.password if connection is not None and connection.password else None


def source_database_url(settings: Settings) -> str | None:
    """For a force whose source is a database: the URL of the Airflow connection named in
    ``source.conn_id`` (default ``cdi_source_db``), else None (then ``$CDI_SOURCE_DB_URL``)."""
    if settings.source.kind != "database":
        return None
    connection = _connection(settings.source.conn_id)
    return connection.get_uri() if connection is not None else None


def landing_and_lake(params: dict) -> tuple[Path, Path]:
    """The landing folder and the lake (a folder or an fsspec URL such as s3://bucket/prefix)."""
    from pipelines.lake import location

    landing = params.get("landing_dir") or os.environ.get(LANDING_ENV) or DEFAULT_LANDING
    lake_dir = params.get("lake_dir") or os.environ.get(LAKE_ENV) or DEFAULT_LAKE
    return Path(landing), location(lake_dir)


def settings_for(force: str, params: dict, *, need_key: bool = True) -> Settings:
    """One force's settings for this run: its configuration, then the run's params."""
    demo = str(params.get("demo") or os.environ.get(DEMO_ENV, "false")).lower() == "true"
    landing, lake_dir = landing_and_lake(params)
    return load_settings(
        force,
        landing_dir=landing,
        lake_dir=lake_dir,
        demo=demo,
        pseudonym_key=pseudonym_key_from_airflow() if need_key else None,
        overrides=params.get("overrides") or None,
        need_key=need_key,
    )


def settings_from_params(params: dict) -> Settings:
    """Settings of the ``force`` param's force (or the first configured one)."""
    return settings_for(params.get("force") or default_force(), params)


def snapshot_date_of(logical_date: dt.datetime | None, params: dict, time_zone: str = "Europe/London") -> dt.date:
    """The snapshot date of a run: the ``snapshot_date`` param, else the logical date's local day."""
    from zoneinfo import ZoneInfo

    if params.get("snapshot_date"):
        try:
            return dt.date.fromisoformat(str(params["snapshot_date"]))
        except ValueError:
            raise ConfigurationError(f"param snapshot_date {params['snapshot_date']!r} is not YYYY-MM-DD") from None
    if logical_date is None:
        raise ConfigurationError("a manual run without a logical date needs the snapshot_date param")
    return logical_date.astimezone(ZoneInfo(time_zone)).date()


def force_run_context(force: str) -> tuple[Settings, dt.date]:
    """Inside a mapped task: label the task instance with its force; its settings and snapshot date."""
    from airflow.sdk import get_current_context

    context = get_current_context()
    context[FORCE_CONTEXT_KEY] = force  # rendered by map_index_template: the UI shows "KNT", not "0"
    params = dict(context["params"])
    settings = settings_for(force, params)
    return settings, snapshot_date_of(context.get("logical_date"), params, settings.time_zone)


def upstream_succeeded(task_id: str) -> bool:
    """Whether ``task_id`` succeeded in this run, for this task's force (its map index)."""
    from airflow.sdk import get_current_context

    ti = get_current_context()["ti"]
    states = ti.get_task_states(dag_id=ti.dag_id, map_index=ti.map_index, task_ids=[task_id], run_ids=[ti.run_id])
    return list(states.get(ti.run_id, {}).values()) == ["success"]


def record_partitions(assets: list, settings: Settings, snapshot_date: dt.date) -> None:
    """Say on each asset's event which partition this run wrote (``<force>|<date>``) and where."""
    from urllib.parse import urlsplit

    from airflow.sdk import get_current_context

    from pipelines import lake

    events = get_current_context()["outlet_events"]
    for asset in assets:
        address = urlsplit(asset.uri)  # cdi-lake://<area>/<dataset>
        path = lake.partition_dir(settings.lake_dir, address.netloc, address.path.strip("/") or None,
                                  settings.force, snapshot_date)
        events[asset].add_partitions(f"{settings.force}|{snapshot_date.isoformat()}")
        events[asset].extra = {"force": settings.force, "snapshot_date": snapshot_date.isoformat(), "path": str(path)}


# --------------------------------------------------------------------------- run time: alerts


class AirflowSmtpTransport:
    """Send an alert through an Airflow SMTP connection, with the SMTP provider's hook.

    The connection holds the server, port, login, TLS choices and the sender address
    (``from_email`` extra); the hook applies them as for any Airflow email.
    """

    def __init__(self, conn_id: str):
        self.conn_id = conn_id

    def send(self, alert: Alert) -> str:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        from pipelines.lake import local_copies

        with SmtpHook(smtp_conn_id=self.conn_id) as hook, local_copies(alert.attachments) as files:
            hook.send_email_smtp(
                to=list(alert.recipients),
                subject=alert.subject,
                html_content=alert.html(),
                from_email=hook.from_email or alert.sender,
                files=[str(path) for path in files],
                custom_headers={"X-CDI-Force": alert.force, "X-CDI-Snapshot-Date": alert.snapshot_date.isoformat()},
            )
            return f"Airflow connection {self.conn_id} ({hook.host}:{hook.port})"


def smtp_transport_from_airflow(conn_id: str) -> AirflowSmtpTransport | None:
    """The connection's transport if the connection exists with a host; None sends to the outbox."""
    connection = _connection(conn_id)
    if connection is None or not connection.host:
        return None
    return AirflowSmtpTransport(conn_id)


def webhook_url_from_airflow(conn_id: str) -> str | None:
    """The incoming webhook's URL from an Airflow connection (its host holds the whole URL,
    e.g. ``{"conn_type": "http", "host": "https://hooks.slack.com/services/..."}``); None: no webhook."""
    connection = _connection(conn_id)
    if connection is None or not connection.host:
        return None
    return connection.host


def _default_alert_addresses() -> tuple[tuple[str, ...], str, str]:
    """Data-engineering recipients, sender and SMTP connection from the embedded defaults only
    (when the force itself is unknown or its configuration is what failed)."""
    import yaml

    alerts = (yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8")) or {}).get("alerts", {})
    return (
        tuple(alerts.get("data_engineering_recipients", ())),
        str(alerts.get("from_address", "cdi-monitor@localhost")),
        str(alerts.get("smtp_conn_id", "smtp_default")),
    )


def _force_of(ti) -> str | None:
    """The force of a failed task instance: its rendered map index, else the list of forces."""
    label = getattr(ti, "rendered_map_index", None)
    if label and re.fullmatch(r"[A-Z]{2,5}", str(label)):
        return str(label)
    map_index = getattr(ti, "map_index", -1)
    if map_index is None or map_index < 0:
        return None
    try:
        forces = ti.xcom_pull(task_ids=LIST_FORCES_TASK, map_indexes=-1)
    except Exception as error:  # e.g. a callback run outside the task's process: alert without the force
        log.warning("could not read the forces of this run: %s", error)
        return None
    return forces[map_index] if isinstance(forces, list) and map_index < len(forces) else None


def alert_data_engineering(context) -> None:
    """``on_failure_callback`` of every task: tell the data engineers which task failed, for which
    force and snapshot, and why. A gate breach is not a pipeline failure (it is the verdict, and
    the registrar's message carries it): no message then."""
    from pipelines import notify

    error = context.get("exception")
    causes = notify.error_chain(error if isinstance(error, BaseException) else None)
    if any(type(cause).__name__ == "GateBreach" for cause in causes):
        log.info("gate breach: the registrar's message reports it; no pipeline-failure alert")
        return
    ti = context["ti"]
    params = dict(context.get("params") or {})
    force = _force_of(ti)
    recipients, sender, conn_id = _default_alert_addresses()
    time_zone = DEFAULT_SCHEDULE_TIME_ZONE
    if force is not None:
        try:
            settings = settings_for(force, params, need_key=False)
            recipients, sender = settings.alerts.data_engineering_recipients, settings.alerts.from_address
            conn_id, time_zone = settings.alerts.smtp_conn_id, settings.time_zone
        except ConfigurationError as config_error:
            log.warning("alerting with the default recipients: %s", config_error)
    try:
        snapshot_date = snapshot_date_of(context.get("logical_date"), params, time_zone)
    except ConfigurationError:
        snapshot_date = None
    failed = notify.FailedTask(
        dag_id=ti.dag_id,
        task_id=ti.task_id,
        run_id=ti.run_id,
        force=force or "ALL",
        snapshot_date=snapshot_date,
        try_number=getattr(ti, "try_number", None),
        max_tries=getattr(ti, "max_tries", None),
        log_url=getattr(ti, "log_url", None),
    )
    alert = notify.build_failure_alert(failed, error, recipients=recipients, sender=sender)
    _, lake_dir = landing_and_lake(params)
    outcome = notify.deliver(alert, smtp_transport_from_airflow(conn_id), lake_dir, outbox_on_error=True)
    log.info("pipeline-failure alert for %s: %s", ti.task_id, outcome)
