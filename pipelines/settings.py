"""One place that turns configuration into a typed `Settings` object.

Layers, later wins: the embedded defaults (``pipelines/defaults.yaml``), the force's own file
(``$CDI_CONFIG_DIR/forces/<FORCE>.yaml``; a force without one runs on the defaults), then explicit
overrides from the caller (command-line options, Airflow params). Secrets never come from files in
the repository: the pseudonymisation key comes from ``$CDI_PSEUDONYM_KEY`` or, in Airflow, from a
connection the DAG resolves at run time and passes in.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipelines.contract import FORCE_CODE_PATTERN

DEFAULTS_FILE = Path(__file__).parent / "defaults.yaml"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
PSEUDONYM_KEY_ENV = "CDI_PSEUDONYM_KEY"
CONFIG_DIR_ENV = "CDI_CONFIG_DIR"
# Great Expectations' file context (suites, results, Data Docs) writes local files only: in this
# folder if set; else in a local lake's <lake>/quality, or beside a lake on object storage in the
# user's cache folder (`user_quality_dir`).
QUALITY_DIR_ENV = "CDI_QUALITY_DIR"
# Public on purpose: it only ever protects simulated people. `Settings` refuses it outside demo mode.
DEMO_PSEUDONYM_KEY = b"cdi-monitor demo key: simulated data only"
MIN_KEY_BYTES = 16


class ConfigurationError(ValueError):
    """Configuration or a parameter is missing or invalid; the message names which."""


@dataclass(frozen=True)
class ClockChangePolicy:
    ambiguous: str  # earlier | later | quarantine
    nonexistent: str  # quarantine | shift_forward


@dataclass(frozen=True)
class AlertSettings:
    registrar_recipients: tuple[str, ...]
    data_engineering_recipients: tuple[str, ...]
    from_address: str
    smtp_conn_id: str
    # An incoming webhook (Teams or Slack) that also hears of a breach: an Airflow connection whose
    # host is the webhook's URL; outside Airflow, $CDI_WEBHOOK_URL. Neither: no webhook.
    webhook_conn_id: str = "cdi_webhook"


SOURCE_KINDS = ("csv", "database")
SOURCE_DB_URL_ENV = "CDI_SOURCE_DB_URL"
# A table or view named by configuration: [schema.]name of plain identifiers. Names reach SQL only
# as identifiers quoted by SQLAlchemy, never as text pasted into a statement.
TABLE_NAME_PATTERN = r"^(?:[A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$"


@dataclass(frozen=True)
class SourceSettings:
    kind: str = "csv"  # csv | database
    url_env: str = SOURCE_DB_URL_ENV
    conn_id: str = "cdi_source_db"  # in Airflow: the connection holding the database URL
    tables: dict[str, str] = field(default_factory=lambda: {name: name for name in ("incidents", "crimes", "referrals")})
    batch_rows: int = 50_000
    statement_timeout_seconds: int = 600
    connect_timeout_seconds: int = 10
    column_map: str | None = None  # a vendor layout: config/column_maps/<name>.yaml; None: the canonical form


def _source_settings(config: dict) -> SourceSettings:
    source = config.get("source") or {}
    defaults = SourceSettings()
    kind = source.get("kind", defaults.kind)
    if kind not in SOURCE_KINDS:
        raise ConfigurationError(f"source.kind must be one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
    tables = {**defaults.tables, **(source.get("tables") or {})}
    for name, table in tables.items():
        if name not in defaults.tables:
            raise ConfigurationError(f"source.tables.{name}: not a source (expected {', '.join(defaults.tables)})")
        if not isinstance(table, str) or not re.fullmatch(TABLE_NAME_PATTERN, table):
            raise ConfigurationError(f"source.tables.{name} must be [schema.]name of letters, digits and _, got {table!r}")
    numbers = {}
    for name in ("batch_rows", "statement_timeout_seconds", "connect_timeout_seconds"):
        value = source.get(name, getattr(defaults, name))
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigurationError(f"setting 'source.{name}' must be a whole number >= 1, got {value!r}")
        numbers[name] = value
    url_env = str(source.get("url_env", defaults.url_env))
    conn_id = str(source.get("conn_id", defaults.conn_id))
    column_map = source.get("column_map")
    if column_map is not None and not (isinstance(column_map, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", column_map)):
        raise ConfigurationError(f"source.column_map must be the name of a file in config/column_maps, got {column_map!r}")
    return SourceSettings(kind=kind, url_env=url_env, conn_id=conn_id, tables=tables, column_map=column_map, **numbers)


@dataclass(frozen=True)
class Settings:
    force: str
    landing_dir: Path
    lake_dir: Path
    lookback_days: int
    recording_window_hours: int
    duplicate_call_window_hours: int
    maturity_lag_days: int
    time_zone: str
    clock_change: ClockChangePolicy
    thresholds: dict[str, Any]
    alerts: AlertSettings
    demo: bool
    pseudonym_key: bytes | None = field(repr=False)  # None: this process only reads the lake
    probable_link_window_hours: int = 24  # a crime record this close to a report, same victim: probable link
    # A C3 record reported this long after the window start has its original in the snapshot (a
    # duplicate is recorded days after the crime it repeats, not weeks), so a victim with no other
    # record then means the C3 duplicates nothing: questioned. Earlier, the original may be older
    # than the window: the C3 stands.
    duplicate_record_days: int = 7
    rolling_window_days: int = 28  # the recent window of matured report days the metrics also cover
    source: SourceSettings = field(default_factory=SourceSettings)  # csv files or a database
    quality_root: Path | None = None  # Great Expectations' folders (QUALITY_DIR_ENV); None: <lake>/quality

    @property
    def outbox_dir(self) -> Path:
        return self.lake_dir / "outbox"

    @property
    def quality_dir(self) -> Path:
        """This force's Great Expectations folder, always on local disk."""
        return (self.quality_root or self.lake_dir / "quality") / f"force={self.force}"


def validate_force_code(force: str) -> str:
    if not isinstance(force, str) or not re.fullmatch(FORCE_CODE_PATTERN, force):
        raise ConfigurationError(f"force code {force!r} is not 2-5 capital letters")
    return force


def parse_snapshot_date(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigurationError(f"date {value!r} is not a date of the form YYYY-MM-DD") from None


def _deep_merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle) or {}
    except yaml.YAMLError as error:
        raise ConfigurationError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(loaded, dict):
        raise ConfigurationError(f"{path}: expected a mapping at the top level")
    return loaded


def default_thresholds() -> dict:
    """The thresholds of the embedded defaults, before any force's file."""
    return copy.deepcopy(_read_yaml(DEFAULTS_FILE)["thresholds"])


def config_dir() -> Path:
    return Path(os.environ.get(CONFIG_DIR_ENV, PROJECT_ROOT / "config"))


def force_config(force: str, overrides: dict | None = None) -> dict:
    """The merged configuration mapping of one force (defaults < force file < overrides)."""
    merged = _read_yaml(DEFAULTS_FILE)
    force_file = config_dir() / "forces" / f"{validate_force_code(force)}.yaml"
    if force_file.exists():
        merged = _deep_merge(merged, _read_yaml(force_file))
    return _deep_merge(merged, overrides or {})


def resolve_pseudonym_key(*, demo: bool, key: str | bytes | None = None) -> bytes:
    """The keyed-hash secret: given, else from the environment; the demo key only in demo mode."""
    if key is None:
        key = os.environ.get(PSEUDONYM_KEY_ENV)
    if key is None or key == "":
        if demo:
            return DEMO_PSEUDONYM_KEY
        raise ConfigurationError(
            f"no pseudonymisation key: set {PSEUDONYM_KEY_ENV} (or the Airflow connection "
            "cdi_pseudonym_key), or pass --demo to run on simulated data with the demo key"
        )
    key_bytes = key.encode("utf-8") if isinstance(key, str) else key
    if key_bytes == DEMO_PSEUDONYM_KEY and not demo:
        raise ConfigurationError("the demo pseudonymisation key may only be used with --demo")
    if len(key_bytes) < MIN_KEY_BYTES:
        raise ConfigurationError(f"the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes")
    return key_bytes


def _time_zone(config: dict) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = config.get("time_zone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigurationError(f"setting 'time_zone' must be an IANA time zone such as Europe/London, got {name!r}") from None
    return name


def _folder_text(name: str, value: str | Path) -> str:
    text = str(value) if value is not None else ""
    if not text.strip() or re.search(r"[\x00-\x1f\x7f]", text):
        raise ConfigurationError(f"{name} must be a folder path without control characters, got {text!r}")
    return text


def _directory(name: str, value: str | Path) -> Path:
    """A folder given by configuration or a run's parameters: a plain path, nothing else."""
    return Path(_folder_text(name, value))


def _lake_location(value: str | Path) -> Path:
    """The lake: a local folder, or an fsspec URL such as ``s3://bucket/prefix`` (`lake.location`)."""
    from pipelines.lake import location  # the lake's rule; pyarrow only at run time

    _folder_text("the lake folder", value)
    try:
        return location(value)
    except ValueError as error:
        raise ConfigurationError(f"the lake {error}") from None


def _quality_root(lake_dir: Path) -> Path | None:
    """Where Great Expectations keeps its files: $CDI_QUALITY_DIR if set; else in a local lake
    (None: <lake>/quality, as always), or beside a lake on object storage the user's cache folder
    (`user_quality_dir`): never inside the installed package, which may be read-only."""
    from pipelines.lake import on_object_store

    if os.environ.get(QUALITY_DIR_ENV):
        return _directory(f"${QUALITY_DIR_ENV}", os.environ[QUALITY_DIR_ENV])
    return user_quality_dir() if on_object_store(lake_dir) else None


def user_quality_dir() -> Path:
    """$XDG_CACHE_HOME/cdi-monitor/quality, by default ~/.cache/cdi-monitor/quality."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cdi-monitor" / "quality"


def _days_into_window(config: dict, name: str) -> int:
    """A number of days into the lookback window: at least one day of the window must be left."""
    days = _positive_int(config, name)
    if days >= _positive_int(config, "lookback_days"):
        raise ConfigurationError(
            f"setting {name!r} ({days}) must be less than lookback_days ({config['lookback_days']}): "
            "no record of the window would be judged"
        )
    return days


def _positive_int(config: dict, name: str) -> int:
    value = config.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigurationError(f"setting {name!r} must be a whole number >= 0, got {value!r}")
    return value


def load_settings(
    force: str,
    *,
    landing_dir: str | Path,
    lake_dir: str | Path,
    demo: bool = False,
    pseudonym_key: str | bytes | None = None,
    overrides: dict | None = None,
    need_key: bool = True,
) -> Settings:
    """Resolve a force's settings. ``need_key=False`` is for commands that only read the lake
    (printing a verdict, rendering a report): they never see a person id, so they need no key."""
    config = force_config(force, overrides)
    clock = config.get("clock_change", {})
    if clock.get("ambiguous") not in ("earlier", "later", "quarantine"):
        raise ConfigurationError("clock_change.ambiguous must be earlier, later or quarantine")
    if clock.get("nonexistent") not in ("quarantine", "shift_forward"):
        raise ConfigurationError("clock_change.nonexistent must be quarantine or shift_forward")
    alerts = config.get("alerts", {})
    landing_dir, lake_dir = _directory("the landing folder", landing_dir), _lake_location(lake_dir)
    from pipelines.lake import restrict_new_files_to_owner  # the lake's rule; pyarrow only at run time

    restrict_new_files_to_owner()
    return Settings(
        force=validate_force_code(force),
        landing_dir=landing_dir,
        lake_dir=lake_dir,
        lookback_days=_positive_int(config, "lookback_days"),
        recording_window_hours=_positive_int(config, "recording_window_hours"),
        duplicate_call_window_hours=_positive_int(config, "duplicate_call_window_hours"),
        probable_link_window_hours=_positive_int(config, "probable_link_window_hours"),
        duplicate_record_days=_days_into_window(config, "duplicate_record_days"),
        rolling_window_days=_positive_int(config, "rolling_window_days"),
        source=_source_settings(config),
        quality_root=_quality_root(lake_dir),
        maturity_lag_days=_positive_int(config, "maturity_lag_days"),
        time_zone=_time_zone(config),
        clock_change=ClockChangePolicy(clock["ambiguous"], clock["nonexistent"]),
        thresholds=config["thresholds"],
        alerts=AlertSettings(
            registrar_recipients=tuple(alerts.get("registrar_recipients", ())),
            data_engineering_recipients=tuple(alerts.get("data_engineering_recipients", ())),
            from_address=str(alerts.get("from_address", "cdi-monitor@localhost")),
            smtp_conn_id=str(alerts.get("smtp_conn_id", "smtp_default")),
            webhook_conn_id=str(alerts.get("webhook_conn_id", "cdi_webhook")),
        ),
        demo=demo,
        pseudonym_key=resolve_pseudonym_key(demo=demo, key=pseudonym_key) if need_key else None,
    )
