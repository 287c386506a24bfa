"""The failure message: causes named from the pipeline's own errors, and never lost."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest

from pipelines import notify
from pipelines.airflow_support import parse_forces
from pipelines.settings import ConfigurationError
from pipelines.sources.csv_export import ExportFormatError
from tests.airflow.conftest import free_port

pytestmark = pytest.mark.unit

SNAPSHOT = dt.date(2024, 6, 28)
FAILED = notify.FailedTask(dag_id="crime_data_integrity", task_id="validate_raw_snapshots", run_id="scheduled__x",
                           force="KNT", snapshot_date=SNAPSHOT, try_number=1, max_tries=1)


def _raised(error: BaseException, wrapped_in: type[BaseException] | None = None) -> BaseException:
    """The error as Airflow hands it to the callback: raised, and maybe re-raised as another."""
    try:
        try:
            raise error
        except BaseException as original:
            if wrapped_in is None:
                raise
            raise wrapped_in(str(original)) from original
    except BaseException as caught:
        return caught


def test_causes_are_named_from_the_pipelines_errors():
    from airflow.sdk.exceptions import AirflowFailException

    from pipelines.stages import DataQualityError

    missing = ExportFormatError(Path("/landing/KNT/incidents_2024-06-28.csv"), None, "the incidents export is missing")
    broken = ExportFormatError(Path("/landing/KNT/crimes_2024-06-28.csv"), 1, "required column is missing", "crime_ref")
    quality = _raised(DataQualityError("KNT 2024-06-28: raw snapshot failed critical checks: ..."), AirflowFailException)
    assert notify.failure_cause(_raised(missing)) == ("missing or late export", str(missing))
    assert notify.failure_cause(_raised(broken))[0] == "unreadable export"
    assert notify.failure_cause(quality) == ("critical data-quality failure", str(quality))
    assert notify.failure_cause(_raised(ConfigurationError("force code 'kent' is not 2-5 capital letters")))[0] == "configuration error"
    assert notify.failure_cause(_raised(KeyError("recording_rate"))) == ("crash (KeyError)", "'recording_rate'")
    assert notify.failure_cause(None)[0].startswith("failed without an error")
    long_message = notify.failure_cause(_raised(RuntimeError("x" * 10_000)))[1]
    assert len(long_message) == notify.MAX_DETAIL_CHARACTERS


def test_without_smtp_the_failure_message_goes_to_the_outbox(tmp_path):
    alert = notify.build_failure_alert(FAILED, _raised(KeyError("recording_rate")),
                                       recipients=("de@example.police.uk",), sender="cdi@example.police.uk")
    outcome = notify.deliver(alert, None, tmp_path)
    path = tmp_path / "outbox" / "KNT_2024-06-28_failure_validate_raw_snapshots.eml"
    assert outcome == {"sent_via": "outbox", "subject": alert.subject, "outbox_file": str(path)}
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "[cdi-monitor] FAILED KNT 2024-06-28: validate_raw_snapshots: crash (KeyError)"
    assert message["To"] == "de@example.police.uk"
    body = message.get_content()
    assert "Task:      validate_raw_snapshots (attempt 1 of 2)" in body and "Detail:    'recording_rate'" in body


def test_a_failure_message_survives_a_mail_server_that_is_down(tmp_path):
    """Port with nothing listening: sending fails, the message is kept in the outbox."""
    unreachable = notify.SmtpTarget(host="127.0.0.1", port=free_port())
    alert = notify.build_failure_alert(FAILED, None, recipients=("de@example.police.uk",), sender="cdi@example.police.uk")
    outcome = notify.deliver(alert, unreachable, tmp_path, outbox_on_error=True)
    assert outcome["sent_via"] == "outbox" and Path(outcome["outbox_file"]).exists()
    with pytest.raises(ConnectionRefusedError):
        notify.deliver(alert, unreachable, tmp_path)  # the registrar's message: a failed send fails the task


def test_forces_from_configuration():
    assert parse_forces(" KNT, DBY,,KNT ") == ["KNT", "DBY"]
    with pytest.raises(ConfigurationError, match="'kent'"):
        parse_forces("KNT,kent")


def test_a_database_source_takes_its_url_from_the_airflow_connection(monkeypatch, tmp_path):
    """AIRFLOW_CONN_<ID> is how a deployment (or a secrets backend) hands the DAG a connection."""
    from pipelines.airflow_support import source_database_url
    from pipelines.settings import load_settings
    from pipelines.sources.sql_source import create_source_engine

    monkeypatch.setenv("AIRFLOW_CONN_CDI_SOURCE_DB", "postgresql://reader:s3cret@db.example:5432/rms")
    database = load_settings("KNT", landing_dir=tmp_path, lake_dir=tmp_path, demo=True,
                             overrides={"source": {"kind": "database"}})
    url = source_database_url(database)
    assert url == "postgres://reader:s3cret@db.example:5432/rms"  # Airflow's spelling of the scheme
    engine = create_source_engine(url, database.source)  # creates no connection yet
    assert (engine.url.drivername, engine.url.host, engine.url.database) == ("postgresql+psycopg", "db.example", "rms")
    files = load_settings("KNT", landing_dir=tmp_path, lake_dir=tmp_path, demo=True)
    assert source_database_url(files) is None
