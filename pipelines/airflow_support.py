"""What the DAG needs from Airflow at run time: params -> Settings, connections -> secrets.

Called only inside tasks, never while the DAG file is parsed. Deployment settings come from the
environment of the workers (``CDI_LANDING_DIR``, ``CDI_LAKE_DIR``, ``CDI_DEMO``) unless a run's
params override them; the pseudonymisation key from ``$CDI_PSEUDONYM_KEY`` or the password of the
Airflow connection ``cdi_pseudonym_key``; SMTP from the connection named in the force's settings
(``smtp_default``), if it exists.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from pipelines.notify import SmtpTarget
from pipelines.settings import PROJECT_ROOT, ConfigurationError, Settings, load_settings

log = logging.getLogger(__name__)

LANDING_ENV = "CDI_LANDING_DIR"
LAKE_ENV = "CDI_LAKE_DIR"
DEMO_ENV = "CDI_DEMO"
FORCES_ENV = "CDI_FORCES"
PSEUDONYM_KEY_CONNECTION = "cdi_pseudonym_key"
DEFAULT_LANDING = PROJECT_ROOT / "var" / "landing"
DEFAULT_LAKE = PROJECT_ROOT / "var" / "lake"


def default_force() -> str:
    """The first force in ``$CDI_FORCES`` (comma-separated), else the demo force KNT."""
    return (os.environ.get(FORCES_ENV) or "KNT").split(",")[0].strip()


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


def smtp_target_from_airflow(conn_id: str) -> SmtpTarget | None:
    connection = _connection(conn_id)
    if connection is None or not connection.host:
        return None
    extra = connection.extra_dejson or {}
    disable_tls = str(extra.get("disable_tls", "false")).lower() == "true"
    disable_ssl = str(extra.get("disable_ssl", "false")).lower() == "true"
    return SmtpTarget(
        host=connection.host,
        port=int(connection.port or 25),
        starttls=not disable_tls and disable_ssl,
        use_ssl=not disable_ssl,
        username=connection.login or None,
        password=connection.password or None,
        from_address=extra.get("from_email"),
    )


def settings_from_params(params: dict) -> Settings:
    demo = str(params.get("demo") or os.environ.get(DEMO_ENV, "false")).lower() == "true"
    landing = params.get("landing_dir") or os.environ.get(LANDING_ENV) or DEFAULT_LANDING
    lake_dir = params.get("lake_dir") or os.environ.get(LAKE_ENV) or DEFAULT_LAKE
    force = params.get("force") or default_force()
    return load_settings(
        force,
        landing_dir=Path(landing),
        lake_dir=Path(lake_dir),
        demo=demo,
        pseudonym_key=pseudonym_key_from_airflow(),
        overrides=params.get("overrides") or None,
    )


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
