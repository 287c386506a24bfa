"""Reruns replace exactly what they wrote; runs for two dates at once do not disturb each other; a
late or missing export stops the day's run and never lets yesterday's data pass for today's."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from pipelines import lake
from pipelines.reconcile import reconcile_snapshot
from pipelines.settings import load_settings
from pipelines.sources.csv_export import ExportFormatError
from pipelines.stages import extract
from tests.hardening.conftest import (
    FORCE,
    PROJECT,
    TODAY,
    YESTERDAY,
    assert_no_partial_file_is_visible,
    cdi,
    mart_rows,
    python_env,
    run_stages,
    run_stages_command,
)

pytestmark = [pytest.mark.e2e]


def _files(lake_dir) -> dict[str, bytes]:
    return {str(path.relative_to(lake_dir)): path.read_bytes() for path in sorted(lake_dir.rglob("*")) if path.is_file()}


def test_rerunning_a_snapshot_date_gives_identical_marts(simulated_landing, clean_lake, tmp_path):
    lake_dir = tmp_path / "lake"
    shutil.copytree(clean_lake, lake_dir)
    before = _files(lake_dir)
    for _ in range(2):
        rerun = run_stages(simulated_landing, lake_dir, TODAY)
        assert rerun.returncode == 0, rerun.stderr
    assert mart_rows(lake_dir, TODAY) == mart_rows(clean_lake, TODAY)
    assert mart_rows(lake_dir, YESTERDAY) == mart_rows(clean_lake, YESTERDAY)
    after = _files(lake_dir)
    assert sorted(after) == sorted(before)  # replaced in place: nothing added, nothing left behind
    raw_and_quarantine = [name for name in before if name.startswith(("raw/", "quarantine/"))]
    assert raw_and_quarantine and all(after[name] == before[name] for name in raw_and_quarantine)


def test_two_dates_at_once_do_not_disturb_each_other(simulated_landing, clean_lake, tmp_path):
    """Yesterday rerun and today run together, each in its own process, on one lake."""
    lake_dir = tmp_path / "lake"
    shutil.copytree(clean_lake, lake_dir)
    for path in sorted(lake_dir.rglob(f"snapshot_date={TODAY.isoformat()}")):
        shutil.rmtree(path)
    processes = [
        subprocess.Popen(run_stages_command(simulated_landing, lake_dir, day), cwd=PROJECT, env=python_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for day in (YESTERDAY, TODAY)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    assert assert_no_partial_file_is_visible(lake_dir) == []
    for day in (YESTERDAY, TODAY):
        assert mart_rows(lake_dir, day) == mart_rows(clean_lake, day)


@pytest.mark.slow
def test_two_whole_cli_runs_at_once_share_the_quality_store_safely(simulated_landing, clean_lake, tmp_path):
    """The same through `cdi run`: extraction, the GX suites (one GX store per force), marts, reports."""
    lake_dir = tmp_path / "lake"
    shutil.copytree(clean_lake, lake_dir)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "run", "--force", FORCE, "--date", day.isoformat(),
             "--landing", str(simulated_landing), "--lake", str(lake_dir), "--demo"],
            cwd=PROJECT, env=python_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for day in (YESTERDAY, TODAY)
    ]
    for process, day in zip(processes, (YESTERDAY, TODAY)):
        stdout, stderr = process.communicate(timeout=600)
        assert process.returncode in (0, 1), stderr  # 1: the simulated 2017 force breaches its gates
        assert f"snapshot {day.isoformat()}:" in stdout
    for day in (YESTERDAY, TODAY):
        assert mart_rows(lake_dir, day) == mart_rows(clean_lake, day)
        reports = lake.reports_dir(lake_dir, FORCE, day)
        assert lake.read_json(reports / "gate.json")["passed"] in (True, False)
        assert lake.read_json(reports / "validation_raw.json")["outcomes"]
        assert (reports / "worklist.csv").stat().st_size > 0
    assert_no_partial_file_is_visible(lake_dir)


def test_a_missing_export_stops_the_run_and_yesterday_is_not_presented_as_today(simulated_landing, lake_after_yesterday, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(simulated_landing, landing)
    late = landing / FORCE / f"incidents_{TODAY.isoformat()}.csv"
    late.unlink()
    yesterday_before = _files(lake_after_yesterday)

    run = cdi("run", "--force", FORCE, "--date", TODAY.isoformat(), "--landing", str(landing),
              "--lake", str(lake_after_yesterday), "--demo")
    assert run.returncode == 2
    [message] = run.stderr.strip().splitlines()  # one line, no traceback
    assert message.startswith("cdi") and message.endswith(f"error: {late}: the incidents export is missing")
    assert run.stdout == ""  # no verdict printed at all
    today = [name for name in _files(lake_after_yesterday) if f"snapshot_date={TODAY.isoformat()}" in name]
    assert today == []  # the first source failed: nothing of today was written
    assert not list(lake.outbox_dir(lake_after_yesterday).glob(f"*{TODAY.isoformat()}*"))
    assert _files(lake_after_yesterday) == yesterday_before

    verdict = cdi("verdict", "--force", FORCE, "--date", TODAY.isoformat(), "--lake", str(lake_after_yesterday))
    assert verdict.returncode == 2 and TODAY.isoformat() in verdict.stderr and verdict.stdout == ""


def test_reconcile_never_reads_another_days_partition_in_place_of_todays(simulated_landing, lake_after_yesterday):
    """Crimes and referrals arrived today, incidents did not: yesterday's incidents must not stand in."""
    settings = load_settings(FORCE, landing_dir=simulated_landing, lake_dir=lake_after_yesterday, demo=True)
    for source in ("crimes", "referrals"):
        extract(settings, source, TODAY)
    with pytest.raises(FileNotFoundError) as error:
        reconcile_snapshot(settings, TODAY)
    missing = lake.raw_path(lake_after_yesterday, "incidents", FORCE, TODAY)
    assert str(error.value) == f"raw partitions missing for {FORCE} {TODAY.isoformat()}: {missing}"
    assert lake.raw_path(lake_after_yesterday, "incidents", FORCE, YESTERDAY).exists()
    assert not list((lake_after_yesterday / "marts").rglob(f"snapshot_date={TODAY.isoformat()}"))


def test_a_late_export_fails_until_it_arrives_then_the_retry_matches_a_clean_run(simulated_landing, lake_after_yesterday, clean_lake, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(simulated_landing, landing)
    late = landing / FORCE / f"referrals_{TODAY.isoformat()}.csv"
    held_back = late.read_bytes()
    late.unlink()
    settings = load_settings(FORCE, landing_dir=landing, lake_dir=lake_after_yesterday, demo=True)
    extract(settings, "incidents", TODAY)
    with pytest.raises(ExportFormatError, match="the referrals export is missing"):
        extract(settings, "referrals", TODAY)  # Airflow retries this task with a growing delay
    late.write_bytes(held_back)
    retry = run_stages(landing, lake_after_yesterday, TODAY)
    assert retry.returncode == 0, retry.stderr
    assert mart_rows(lake_after_yesterday, TODAY) == mart_rows(clean_lake, TODAY)
