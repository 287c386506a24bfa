"""The whole daily pipeline with its lake on object storage (a real S3-protocol server on
127.0.0.1), through the real `cdi`, against the same runs on a local lake.

Two daily runs of a small simulated Kent-2017-like force go to ``s3://<bucket>/lake``: extraction,
validation, reconciliation (the second run compares with the first, read back from the store),
gates, the report and the alert; then the verdict and a period report, which read the runs'
history from the store. Every mart read back from the store must equal the local lake's, and the
store must hold no object but the lake's own files.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from pipelines import lake
from tests.report.simulated import FORCE, PREVIOUS_RUN, SNAPSHOT, cdi, checked, shared_base, simulated_lake

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXIT_BREACHED = 1  # Kent 2017 breaches its thresholds: the run completes and says so
PERIOD = ("--from", "2024-06-01", "--to", "2024-06-25")
MARTS = ("candidate_outcomes", "recording_rates", "worklist", "recording_metrics", "daily_recording_rates",
         "record_changes", "probable_links")


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory):
    """The two runs on a local lake (shared with the report tests: the same simulated force)."""
    return simulated_lake(shared_base(tmp_path_factory), "kent-2017", (PREVIOUS_RUN, SNAPSHOT))


@pytest.fixture(scope="module")
def s3_runs(s3_server, local_runs, tmp_path_factory):
    """The same two runs, from the same landing folder, on ``s3://<bucket>/lake``."""
    client = s3_server.filesystem()
    bucket = "cdi-lake-e2e"
    client.mkdir(bucket)
    lake_url = f"s3://{bucket}/lake"
    environment = {**s3_server.environment, "CDI_QUALITY_DIR": str(tmp_path_factory.mktemp("gx-beside-s3"))}
    outputs = {}
    for run in (PREVIOUS_RUN, SNAPSHOT):
        outputs[run] = checked(cdi("run", "--force", FORCE, "--date", run.isoformat(), "--landing",
                                   str(local_runs.landing), "--lake", lake_url, "--demo", env=environment),
                               0, EXIT_BREACHED).stdout
    return lake_url, environment, outputs, bucket, client


def canonical(table: pa.Table) -> pa.Table:
    """Rows in a fixed order: DuckDB writes a mart's rows in whatever order its threads finish."""
    return table.sort_by([(name, "ascending") for name in table.column_names
                          if not pa.types.is_nested(table.schema.field(name).type)])


@pytest.mark.parametrize("snapshot", (PREVIOUS_RUN, SNAPSHOT))
def test_marts_on_s3_equal_those_of_the_same_run_on_a_local_lake(s3_runs, local_runs, snapshot):
    lake_url = s3_runs[0]
    for mart in MARTS:
        on_s3 = lake.read_parquet(lake.mart_path(lake_url, mart, FORCE, snapshot))
        local = lake.read_parquet(lake.mart_path(local_runs.lake, mart, FORCE, snapshot))
        assert on_s3.num_rows == local.num_rows, mart
        assert canonical(on_s3).equals(canonical(local)), mart


def test_the_second_run_compared_with_the_first_read_back_from_s3(s3_runs):
    lake_url = s3_runs[0]
    manifest = lake.read_json(lake.manifest_path(lake_url, "reconcile", "marts", FORCE, SNAPSHOT))
    assert manifest["previous_snapshot_date"] == PREVIOUS_RUN.isoformat()
    assert all(path.startswith(f"{lake_url}/marts/") for path in manifest["marts"].values())


def gate_outcome(path) -> dict:
    """A gate.json without its timing, which no two runs share."""
    outcome = json.loads(path.read_text())
    outcome["statistics"].pop("seconds")
    return outcome


def test_gates_report_and_alert_are_written_to_s3(s3_runs, local_runs):
    lake_url, _, outputs, _, _ = s3_runs
    reports = lake.reports_dir(lake_url, FORCE, SNAPSHOT)
    assert gate_outcome(reports / "gate.json") == gate_outcome(local_runs.reports(SNAPSHOT) / "gate.json")
    assert json.loads((reports / "validation_raw.json").read_text())["outcomes"]
    page = (reports / "report.html").read_text()
    assert "BREACHED" in page and "What changed since the previous run (27 Jun 2024)" in page
    # The Data Docs stay on the worker's disk: a report in the store does not link to them.
    assert "Open the Data Docs" not in page
    assert "Open the Data Docs" in (local_runs.reports(SNAPSHOT) / "report.html").read_text()
    worklist = (reports / "worklist.csv").read_text().splitlines()
    assert sorted(worklist) == sorted((local_runs.reports(SNAPSHOT) / "worklist.csv").read_text().splitlines())
    assert (reports / "worklist.parquet").exists()
    assert (lake.outbox_dir(lake_url) / f"{FORCE}_{SNAPSHOT.isoformat()}_registrar.eml").exists()
    assert f"Report:   {reports}/report.html" in outputs[SNAPSHOT]


def test_verdict_and_period_report_read_the_history_from_s3(s3_runs, local_runs):
    lake_url, environment, _, _, _ = s3_runs
    verdict = checked(cdi("verdict", "--force", FORCE, "--date", SNAPSHOT.isoformat(), "--lake", lake_url,
                          env=environment), EXIT_BREACHED).stdout
    local_verdict = checked(cdi("verdict", "--force", FORCE, "--date", SNAPSHOT.isoformat(), "--lake",
                                str(local_runs.lake)), EXIT_BREACHED).stdout
    assert verdict.replace(lake_url, "<lake>") == local_verdict.replace(str(local_runs.lake), "<lake>")

    period = checked(cdi("report", "--force", FORCE, *PERIOD, "--lake", lake_url, env=environment),
                     EXIT_BREACHED).stdout
    assert "Report days covered: 25 of 25" in period
    folder = lake.location(lake_url) / "reports" / f"force={FORCE}" / "period=2024-06-01_2024-06-25"
    local_out = local_runs.root / "period-report" / "report.html"
    checked(cdi("report", "--force", FORCE, *PERIOD, "--lake", str(local_runs.lake), "--out", str(local_out)),
            EXIT_BREACHED)
    for table in ("period_rates", "period_days", "worklist"):
        on_s3 = lake.read_parquet(folder / f"{table}.parquet")
        assert canonical(on_s3).equals(canonical(lake.read_parquet(local_out.parent / f"{table}.parquet"))), table


def test_the_store_holds_the_lake_and_no_temporary_object(s3_runs):
    _, _, _, bucket, client = s3_runs
    stored = client.find(bucket)
    assert stored and all(key.startswith(f"{bucket}/lake/") for key in stored)
    assert not [key for key in stored if "/." in key or ".tmp-" in key]
    assert not [key for key in stored if "/quality/" in key], "Great Expectations' files stay on local disk"
