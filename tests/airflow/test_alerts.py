"""Alerts over real SMTP from a real `airflow dags test` run of two forces.

KNT records like Kent in 2017 (its gate breaches); DBY records well but today's incidents export
never arrived. One run of the DAG must: send KNT's registrar the breach message, send DBY's data
engineers the failure message naming the task, the snapshot and the cause, and not let DBY's
failure stop or hide KNT's result.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sqlite3
import subprocess

import pyarrow.parquet as pq
import pytest

from pipelines import lake
from tests.airflow.conftest import BIN, FROM_ADDRESS, SNAPSHOT, MailServer, Webhook, airflow_env, cdi, simulate

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REGISTRAR = "fcr@kent.example.police.uk"  # config/forces/KNT.yaml
DATA_ENGINEERS = "data.engineering@example.police.uk"  # pipelines/defaults.yaml (DBY has no file)
PREVIOUS = SNAPSHOT - dt.timedelta(days=1)


@pytest.fixture(scope="module")
def two_forces(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-forces")
    landing = root / "landing"
    simulate(landing, "KNT", "kent-2017", seed=11)
    simulate(landing, "DBY", "outstanding", seed=12)
    (landing / "DBY" / f"incidents_{SNAPSHOT.isoformat()}.csv").unlink()  # the late export
    lake_dir = root / "lake"
    # Yesterday's run, for the message's "change since the previous run" (exit 1: it breached).
    previous = cdi("run", "--force", "KNT", "--date", PREVIOUS.isoformat(), "--landing", str(landing),
                   "--lake", str(lake_dir), "--demo")
    assert previous.returncode == 1, previous.stderr
    return landing, lake_dir


@pytest.fixture(scope="module")
def dag_run(two_forces, airflow_home):
    """One `airflow dags test` of both forces, with the mail server and a chat webhook (an Airflow
    connection `cdi_webhook` whose host is its URL) up for its whole length."""
    landing, lake_dir = two_forces
    server = MailServer().start()
    try:
        with Webhook() as webhook:
            result = subprocess.run(
                [str(BIN / "airflow"), "dags", "test", "crime_data_integrity", SNAPSHOT.isoformat()],
                capture_output=True, text=True, timeout=600,
                env=airflow_env(airflow_home, CDI_FORCES="KNT,DBY", CDI_LANDING_DIR=str(landing),
                                CDI_LAKE_DIR=str(lake_dir), CDI_EXTRACT_RETRY_DELAY_SECONDS="1",
                                AIRFLOW_CONN_SMTP_DEFAULT=server.airflow_connection_uri,
                                AIRFLOW_CONN_CDI_WEBHOOK=json.dumps({"conn_type": "http", "host": webhook.url})),
            )
    finally:
        server.stop()
    return result, server, landing, lake_dir, webhook.posts


def _personal_values(landing) -> set[str]:
    """Every name, phone number and free-text location in the exports: none may reach an email."""
    values = set()
    for path in landing.rglob("*.csv"):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for column in ("caller_name", "caller_phone", "location_text", "victim_name", "subject_name"):
                    if row.get(column) and len(row[column]) > 4:
                        values.add(row[column])
    assert values, "the simulated exports carry personal data to look for"
    return values


def test_the_run_fails_and_each_list_gets_its_own_message(dag_run):
    result, server, *_ = dag_run
    output = result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 1, output  # KNT breached and DBY failed: the run is failed
    assert sorted((item.recipients[0], item.message["Subject"].split(":")[0]) for item in server.received) == [
        (DATA_ENGINEERS, f"[cdi-monitor] FAILED DBY {SNAPSHOT.isoformat()}"),
        (REGISTRAR, f"[cdi-monitor] KNT {SNAPSHOT.isoformat()}"),
    ], ("one registrar message for KNT, one failure message for DBY, nothing else (a breach is not a pipeline "
        "failure); received:\n" + "\n\n".join(f"{item.message['Subject']}\n{item.text}" for item in server.received))
    for item in server.received:
        assert item.sender == FROM_ADDRESS and item.message["From"] == FROM_ADDRESS


def test_breach_message_to_the_registrar(dag_run):
    _, server, landing, lake_dir, _ = dag_run
    [received] = server.messages_to(REGISTRAR)
    subject = received.message["Subject"]
    assert subject.startswith(f"[cdi-monitor] KNT {SNAPSHOT.isoformat()}: BREACHED, recording rate ")
    body = received.text
    # The verdict, and rates with intervals against the thresholds, by group.
    assert f"cdi-monitor verdict for KNT, snapshot {SNAPSHOT.isoformat()}: BREACHED" in body
    assert "Recording rate overall: " in body and "(95% CI " in body and "unrecorded threshold 5.0%" in body
    violence = next(line for line in body.splitlines() if line.strip().startswith("VIOLENCE_AGAINST_THE_PERSON"))
    assert "95% CI" in violence and "(threshold: unrecorded <= 6.0%)" in violence and violence.endswith("BREACH")
    assert "BREACH  overall: unrecorded rate" in body
    # The change since the previous run, figure by figure against yesterday's marts.
    assert f"Change since the previous run (snapshot {PREVIOUS.isoformat()}, BREACHED):" in body
    yesterday = {row["dimension"]: row for row in pq.read_table(
        lake.mart_path(lake_dir, "recording_rates", "KNT", PREVIOUS)).to_pylist() if row["dimension"] == "overall"}
    today = {row["dimension"]: row for row in pq.read_table(
        lake.mart_path(lake_dir, "recording_rates", "KNT", SNAPSHOT)).to_pylist() if row["dimension"] == "overall"}
    change_line = next(line for line in body.splitlines() if line.strip().startswith("overall "))
    was, now = yesterday["overall"]["recording_rate"] * 100, today["overall"]["recording_rate"] * 100
    change = round(round(now, 1) - round(was, 1), 1)  # as the two figures read
    assert change_line.endswith(f"(was {was:.1f}%, {'no change' if change == 0 else f'{change:+.1f} points'})")
    # The top of the worklist, the whole worklist attached, and where the report is.
    worklist = pq.read_table(lake.mart_path(lake_dir, "worklist", "KNT", SNAPSHOT))
    assert f"Top 10 of {worklist.num_rows} worklist items (references only):" in body
    for item in worklist.slice(0, 10).to_pylist():
        assert item["candidate_ref"] in body
    attached = list(csv.DictReader(received.attachment("worklist.csv").decode("utf-8").splitlines()))
    assert [row["candidate_ref"] for row in attached] == worklist["candidate_ref"].to_pylist()
    report = lake.reports_dir(lake_dir, "KNT", SNAPSHOT) / "report.html"
    assert f"Report:   {report}" in body and report.exists()
    # References only.
    everything = received.message.as_string()
    assert not [value for value in _personal_values(landing) if value in everything]


def test_the_breach_reaches_the_chat_webhook_too(dag_run):
    *_, landing, _, webhook_posts = dag_run
    [post] = webhook_posts  # KNT's breach; DBY's failure is the data engineers' email
    text = post["json"]["text"]
    assert text.startswith(f"*[cdi-monitor] KNT {SNAPSHOT.isoformat()}: BREACHED, recording rate ")
    assert "Recording rate overall: " in text
    assert not [value for value in _personal_values(landing) if value in text]


def test_failure_message_to_the_data_engineers(dag_run):
    _, server, _, lake_dir, _ = dag_run
    [received] = server.messages_to(DATA_ENGINEERS)
    assert received.message["Subject"] == (
        f"[cdi-monitor] FAILED DBY {SNAPSHOT.isoformat()}: extract_incidents: missing or late export"
    )
    body = received.text
    assert f"cdi-monitor pipeline failure: DBY, snapshot {SNAPSHOT.isoformat()}" in body
    assert "Task:      extract_incidents (attempt 4 of 4)" in body  # retried with back-off first
    assert f"incidents_{SNAPSHOT.isoformat()}.csv: the incidents export is missing" in body
    assert "Pipeline:  crime_data_integrity, run manual__" in body
    assert "other forces' results are unaffected" in body
    assert not list(received.message.iter_attachments())
    assert not lake.outbox_dir(lake_dir).joinpath(f"DBY_{SNAPSHOT.isoformat()}_failure_extract_incidents.eml").exists()


def test_one_force_failing_does_not_hide_the_other(dag_run):
    _, _, _, lake_dir, _ = dag_run
    reports = lake.reports_dir(lake_dir, "KNT", SNAPSHOT)
    assert (reports / "gate.json").exists() and (reports / "report.html").exists()
    for mart in ("candidate_outcomes", "recording_rates", "worklist"):
        assert lake.mart_path(lake_dir, mart, "KNT", SNAPSHOT).exists()
    # DBY: the exports that arrived were extracted; nothing after extraction ran.
    for source in ("crimes", "referrals"):
        assert lake.raw_path(lake_dir, source, "DBY", SNAPSHOT).exists()
    assert not lake.raw_path(lake_dir, "incidents", "DBY", SNAPSHOT).exists()
    assert not lake.reports_dir(lake_dir, "DBY", SNAPSHOT).exists()


def test_task_instances_are_labelled_by_force_and_partitions_recorded_as_asset_events(dag_run, airflow_home):
    result, *_ = dag_run
    with sqlite3.connect(airflow_home / "airflow.db") as database:
        run_id = database.execute(
            "select run_id from dag_run where dag_id = 'crime_data_integrity' order by id desc limit 1").fetchone()[0]
        instances = database.execute(
            "select task_id, map_index, rendered_map_index, state from task_instance where run_id = ? and map_index >= 0",
            (run_id,)).fetchall()
        events = database.execute(
            "select asset.uri, asset_event.partition_key from asset_event join asset on asset.id = asset_event.asset_id "
            "where asset_event.source_run_id = ?", (run_id,)).fetchall()
    forces = ["KNT", "DBY"]  # the order of $CDI_FORCES is the order of the map indexes
    states = {f"{task_id}[{forces[map_index]}]": state for task_id, map_index, _, state in instances}
    # Every task that ran is labelled with its force in the UI, not with a bare map index.
    assert {(forces[map_index], label) for _, map_index, label, state in instances if state in ("success", "failed")} == {
        ("KNT", "KNT"), ("DBY", "DBY")}
    assert states["extract_incidents[DBY]"] == "failed"
    assert states["validate_raw_snapshots[DBY]"] == "upstream_failed"
    assert states["gate_recording_rates[KNT]"] == "failed"  # the breach
    assert states["publish_report[KNT]"] == states["notify_registrar[KNT]"] == "success"
    assert states["publish_report[DBY]"] == states["notify_registrar[DBY]"] == "skipped"
    assert states["extract_crimes[DBY]"] == "success"
    key = f"KNT|{SNAPSHOT.isoformat()}"
    assert {uri for uri, partition in events if partition == key} == {
        "cdi-lake://raw/incidents", "cdi-lake://raw/crimes", "cdi-lake://raw/referrals",
        "cdi-lake://quarantine/incidents", "cdi-lake://quarantine/crimes", "cdi-lake://quarantine/referrals",
        "cdi-lake://marts/candidate_outcomes", "cdi-lake://marts/recording_rates", "cdi-lake://marts/worklist",
        "cdi-lake://reports/",
    }
    assert {uri for uri, partition in events if partition == f"DBY|{SNAPSHOT.isoformat()}"} == {
        "cdi-lake://raw/crimes", "cdi-lake://raw/referrals", "cdi-lake://quarantine/crimes",
        "cdi-lake://quarantine/referrals",
    }
