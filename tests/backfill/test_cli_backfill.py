"""`cdi backfill` and `make backfill` as a data engineer meets them."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_cli import assert_one_line_error
from tests.report.simulated import cdi

from .conftest import FIRST, FORCE, LAST, all_marts, snapshot_dates

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parents[2]


def test_cdi_backfill_from_daily_exports_then_again_from_the_lake(exports, tmp_path):
    lake_dir = tmp_path / "lake"
    first = cdi("backfill", "--force", FORCE, "--from", FIRST.isoformat(), "--to", LAST.isoformat(),
                "--lake", str(lake_dir), "--landing", str(exports.daily), "--demo")
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # no progress bar without a terminal, no logs
    assert f"{len(snapshot_dates())} snapshot dates, {FIRST} to {LAST}, from archived daily snapshots" in first.stdout
    assert f"Extracted first from daily exports: {len(snapshot_dates())} date(s)" in first.stdout
    # The report days these snapshots settle: from 60 days before the first, to the last matured day.
    report = f"cdi report --force {FORCE} --from {FIRST - dt.timedelta(days=60)} --to {LAST - dt.timedelta(days=3)} --lake {lake_dir}"
    assert report in first.stdout
    reported = cdi(*report.split()[1:])
    assert reported.returncode in (0, 1), reported.stderr
    days = (LAST - dt.timedelta(days=3) - (FIRST - dt.timedelta(days=60))).days + 1
    assert f"Report days covered: {days} of {days}" in reported.stdout  # every day settled by some snapshot
    written = all_marts(lake_dir, snapshot_dates())

    # A rerun after a rule change needs neither the exports nor the pseudonymisation key.
    again = cdi("backfill", "--force", FORCE, "--from", FIRST.isoformat(), "--to", LAST.isoformat(),
                "--lake", str(lake_dir), env={"CDI_PSEUDONYM_KEY": ""})
    assert again.returncode == 0, again.stderr
    assert "Extracted" not in again.stdout
    assert all_marts(lake_dir, snapshot_dates()) == written


def test_cdi_backfill_names_the_dates_it_cannot_find(tmp_path):
    result = cdi("backfill", "--force", FORCE, "--from", "2024-06-01", "--to", "2024-06-03", "--lake", str(tmp_path))
    assert_one_line_error(result, "backfill", "3 snapshot date(s)", "2024-06-01, 2024-06-02, 2024-06-03", "--period-export")


def test_cdi_backfill_refuses_export_date_without_a_period_export(tmp_path):
    result = cdi("backfill", "--force", FORCE, "--from", "2024-06-01", "--to", "2024-06-03", "--lake", str(tmp_path),
                 "--export-date", "2024-06-04")
    assert_one_line_error(result, "backfill", "--export-date goes with --period-export")


def test_cdi_backfill_of_a_period_export_before_its_cut_off(exports, tmp_path):
    """A period export taken on LAST can stand in for any date up to LAST."""
    result = cdi("backfill", "--force", FORCE, "--from", FIRST.isoformat(), "--to", "2024-06-05",
                 "--lake", str(tmp_path / "lake"), "--period-export", str(exports.period),
                 "--export-date", LAST.isoformat(), "--demo")
    assert result.returncode == 0, result.stderr
    assert "from period export" in result.stdout and "Period export incidents:" in result.stdout


def test_make_backfill_explains_its_usage():
    result = subprocess.run(["make", "--no-print-directory", "backfill"], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD" in result.stdout + result.stderr
