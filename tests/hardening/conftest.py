"""A small simulated force, clean reference runs of it, and ways to run the pipeline in a process
that may be killed."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import lake

PROJECT = Path(__file__).resolve().parents[2]
FORCE = "KNT"
YESTERDAY = dt.date(2024, 6, 27)
TODAY = dt.date(2024, 6, 28)
FIRST_SNAPSHOT = dt.date(2024, 6, 26)
SCALE = 0.02
STEP_TIMEOUT_SECONDS = 300


def python_env(**extra: str) -> dict:
    """The environment of a child process: this checkout's code, whatever the venv points at."""
    env = {key: value for key, value in os.environ.items() if key not in (lake.FAULT_INJECT_ENV, "CDI_PSEUDONYM_KEY")}
    env["PYTHONPATH"] = str(PROJECT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def cdi(*args: str, **env: str) -> subprocess.CompletedProcess:
    """The real command line, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
        timeout=STEP_TIMEOUT_SECONDS, cwd=PROJECT, env=python_env(**env),
    )


def run_stages_command(landing: Path, lake_dir: Path, day: dt.date, steps: str = "extract,reconcile",
                       *, demo: bool = True) -> list[str]:
    return [sys.executable, "-m", "tests.hardening.run_stages", FORCE, day.isoformat(), str(landing),
            str(lake_dir), steps, *(["--demo"] if demo else [])]


def run_stages(landing: Path, lake_dir: Path, day: dt.date, steps: str = "extract,reconcile", *,
               demo: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Extraction and reconciliation (no GX: quicker) in a child process, which may be told to die."""
    return subprocess.run(
        run_stages_command(landing, lake_dir, day, steps, demo=demo), capture_output=True, text=True,
        timeout=STEP_TIMEOUT_SECONDS, cwd=PROJECT, env=python_env(**env),
    )


def mart_names(lake_dir: Path) -> list[str]:
    return sorted(path.name for path in (Path(lake_dir) / "marts").iterdir())


def mart_rows(lake_dir: Path, day: dt.date) -> dict[str, tuple]:
    """Every mart of one snapshot as (schema, rows in a canonical order), for comparing runs."""
    tables = {}
    for mart in mart_names(lake_dir):
        path = lake.mart_path(lake_dir, mart, FORCE, day)
        if path.exists():
            table = pq.read_table(path)
            rows = sorted(repr(sorted(row.items())) for row in table.to_pylist())
            tables[mart] = (str(table.schema.remove_metadata()), rows)
    return tables


def assert_no_partial_file_is_visible(lake_dir: Path) -> list[Path]:
    """Every file under a name a reader would open is complete; return the ``.tmp-*`` leftovers."""
    leftovers = []
    for path in Path(lake_dir).rglob("*"):
        if not path.is_file():
            continue
        if path.name.startswith(".tmp-"):
            leftovers.append(path)
        elif path.suffix == ".parquet":
            data = path.read_bytes()
            assert data[:4] == data[-4:] == b"PAR1", f"{path} is not a complete Parquet file"
            pq.read_table(path)  # and its footer describes readable data
        elif path.suffix == ".json" and "quality" not in path.parts:
            lake.read_json(path)
    return leftovers


@pytest.fixture(scope="session")
def simulated_landing(tmp_path_factory) -> Path:
    from pipelines.simulate import simulate_force

    root = tmp_path_factory.mktemp("simulated")
    simulate_force(force=FORCE, profile="kent-2017", start=FIRST_SNAPSHOT, end=TODAY, seed=3,
                   landing=root / "landing", truth=root / "truth", scale=SCALE)
    return root / "landing"


@pytest.fixture(scope="session")
def clean_lake(simulated_landing, tmp_path_factory) -> Path:
    """Yesterday's and today's snapshots extracted and reconciled once, in order, undisturbed."""
    lake_dir = tmp_path_factory.mktemp("clean") / "lake"
    for day in (YESTERDAY, TODAY):
        result = run_stages(simulated_landing, lake_dir, day)
        assert result.returncode == 0, result.stderr
    return lake_dir


@pytest.fixture
def lake_after_yesterday(clean_lake, tmp_path) -> Path:
    """A lake holding only yesterday's complete run (today's not yet started)."""
    lake_dir = tmp_path / "lake"
    shutil.copytree(clean_lake, lake_dir)
    for path in sorted(lake_dir.rglob(f"snapshot_date={TODAY.isoformat()}")):
        shutil.rmtree(path)
    return lake_dir
