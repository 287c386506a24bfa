"""End to end: a simulated force through the real CLI and the real DAG, checked on its outputs."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.settings import load_settings
from pipelines.simulate import accuracy
from tests.e2e.conftest import BIN, FORCE, OWN_THRESHOLDS, SNAPSHOT, airflow_env, cdi

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _reports(lake_dir: Path) -> Path:
    return lake.reports_dir(lake_dir, FORCE, SNAPSHOT)


def _outbox_message(lake_dir: Path) -> email.message.EmailMessage:
    path = lake.outbox_dir(lake_dir) / f"{FORCE}_{SNAPSHOT.isoformat()}_registrar.eml"
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _assert_complete_outputs(lake_dir: Path, expect_breach: bool) -> None:
    reports = _reports(lake_dir)
    gate = json.loads((reports / "gate.json").read_text())
    assert gate["passed"] is (not expect_breach)
    worklist_mart = pq.read_table(lake.mart_path(lake_dir, "worklist", FORCE, SNAPSHOT))
    with open(reports / "worklist.csv", newline="") as handle:
        worklist_rows = list(csv.DictReader(handle))
    assert len(worklist_rows) == worklist_mart.num_rows
    assert {row["candidate_ref"] for row in worklist_rows} == set(worklist_mart["candidate_ref"].to_pylist())
    html = (reports / "report.html").read_text()
    assert f'<div class="verdict {"BREACHED" if expect_breach else "PASSED"}">' in html and "<svg" in html
    message = _outbox_message(lake_dir)
    assert message["Subject"].startswith(f"[cdi-monitor] {FORCE} {SNAPSHOT.isoformat()}: {'BREACHED' if expect_breach else 'PASSED'}")
    attachment = next(part for part in message.iter_attachments() if part.get_filename() == "worklist.csv")
    assert attachment.get_content().count("\n") == len(worklist_rows) + 1


def test_cli_run_on_a_breaching_force(kent_2017, fresh_lake):
    landing, truth = kent_2017
    result = cdi("run", "--force", FORCE, "--date", SNAPSHOT.isoformat(), "--landing", str(landing),
                 "--lake", str(fresh_lake), "--demo")
    assert result.returncode == 1, result.stderr  # 1 = gate breached
    assert f"cdi-monitor verdict for {FORCE}, snapshot {SNAPSHOT.isoformat()}: BREACHED" in result.stdout
    assert "Recording rate overall:" in result.stdout and "95% CI" in result.stdout
    assert "VIOLENCE_AGAINST_THE_PERSON" in result.stdout
    _assert_complete_outputs(fresh_lake, expect_breach=True)

    # Rates agree with the candidate outcomes they summarise.
    outcomes = pq.read_table(lake.mart_path(fresh_lake, "candidate_outcomes", FORCE, SNAPSHOT)).to_pylist()
    overall = next(row for row in pq.read_table(lake.mart_path(fresh_lake, "recording_rates", FORCE, SNAPSHOT)).to_pylist()
                   if row["dimension"] == "overall")
    defaults = load_settings(FORCE, landing_dir=landing, lake_dir=fresh_lake, need_key=False)
    first_day = SNAPSHOT - dt.timedelta(days=defaults.lookback_days)
    last_day = SNAPSHOT - dt.timedelta(days=defaults.maturity_lag_days + 1)
    matured = [row for row in outcomes if first_day <= row["report_day"] <= last_day]
    assert overall["recorded"] == sum(row["recorded_crimes"] for row in matured)
    assert overall["unrecorded"] == sum(row["unrecorded_crimes"] for row in matured)


def test_every_truly_unrecorded_call_reaches_the_worklist(kent_2017, fresh_lake):
    landing, truth = kent_2017
    cdi("run", "--force", FORCE, "--date", SNAPSHOT.isoformat(), "--landing", str(landing), "--lake", str(fresh_lake), "--demo")
    with accuracy.snapshot_connection(fresh_lake, truth, FORCE, SNAPSHOT) as connection:
        lost = accuracy.truly_unrecorded(connection)
    assert {row.route for row in lost} >= {"CALL", "REFERRAL"}, "the kent-2017 profile must lose crimes both ways"
    assert [row for row in lost if not row.on_worklist] == []


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path):
    result = cdi("run", "--force", FORCE, "--date", SNAPSHOT.isoformat(), "--landing", str(tmp_path / "nowhere"),
                 "--lake", str(tmp_path / "lake"), "--demo")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "incidents export is missing" in result.stderr
    assert "Traceback" not in result.stderr
    no_key = cdi("run", "--force", FORCE, "--date", SNAPSHOT.isoformat(), "--landing", str(tmp_path),
                 "--lake", str(tmp_path / "lake"), env={"CDI_PSEUDONYM_KEY": ""})
    assert no_key.returncode == 2 and "CDI_PSEUDONYM_KEY" in no_key.stderr


def _dags_test(home: Path, landing: Path, lake_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "airflow"), "dags", "test", "crime_data_integrity", SNAPSHOT.isoformat()],
        capture_output=True, text=True, timeout=600,
        env=airflow_env(home, CDI_LANDING_DIR=str(landing), CDI_LAKE_DIR=str(lake_dir), **env),
    )


def test_real_dag_breach_fails_the_run_but_reports_and_alerts(kent_2017, airflow_home, fresh_lake):
    landing, _ = kent_2017
    result = _dags_test(airflow_home, landing, fresh_lake)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    _assert_complete_outputs(fresh_lake, expect_breach=True)
    assert "recording gate breached" in result.stdout + result.stderr


def test_real_dag_passes_for_an_outstanding_force(outstanding, airflow_home, fresh_lake, tmp_path):
    landing, _ = outstanding
    (tmp_path / "config" / "forces").mkdir(parents=True)
    (tmp_path / "config" / "forces" / f"{FORCE}.yaml").write_text(OWN_THRESHOLDS)
    result = _dags_test(airflow_home, landing, fresh_lake, CDI_CONFIG_DIR=str(tmp_path / "config"))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    _assert_complete_outputs(fresh_lake, expect_breach=False)
