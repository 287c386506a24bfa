"""A small simulated force, written once per session, for the end-to-end runs."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FORCE = "KNT"
FIRST_SNAPSHOT = dt.date(2024, 6, 24)
SNAPSHOT = dt.date(2024, 6, 28)
SCALE = "0.03"


def cdi(*args: str, env: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(BIN / "cdi"), *args], capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {})},
    )
    if check:
        assert result.returncode == 0, f"cdi {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def simulate(root: Path, profile: str, seed: int = 11) -> tuple[Path, Path]:
    landing, truth = root / "landing", root / "truth"
    cdi("simulate", "--force", FORCE, "--profile", profile, "--from", FIRST_SNAPSHOT.isoformat(),
        "--to", SNAPSHOT.isoformat(), "--seed", str(seed), "--scale", SCALE,
        "--landing", str(landing), "--truth", str(truth), check=True)
    return landing, truth


@pytest.fixture(scope="session")
def kent_2017(tmp_path_factory) -> tuple[Path, Path]:
    return simulate(tmp_path_factory.mktemp("kent-2017"), "kent-2017")


@pytest.fixture(scope="session")
def outstanding(tmp_path_factory) -> tuple[Path, Path]:
    return simulate(tmp_path_factory.mktemp("outstanding"), "outstanding")


@pytest.fixture
def fresh_lake(tmp_path) -> Path:
    return tmp_path / "lake"


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """A project-local Airflow home on SQLite, migrated once for the session."""
    home = tmp_path_factory.mktemp("airflow-home")
    env = airflow_env(home)
    result = subprocess.run([str(BIN / "airflow"), "db", "migrate"], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return home


def airflow_env(home: Path, **extra: str) -> dict:
    """The environment of an Airflow command on a project-local home (nothing from the caller's
    own Airflow or cdi deployment), for the demo force unless ``extra`` says otherwise."""
    environment = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("AIRFLOW_", "AIRFLOW__", "CDI_"))
    }
    return {
        **environment,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "CDI_DEMO": "true",
        "CDI_FORCES": FORCE,
        **extra,
    }


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


# Automated screening counts crime-coded calls that were genuinely not crimes as unrecorded, so
# even a force recording 99% of crimes screens a few points lower; on a force this small the
# intervals are wide too. Forces that must pass their gates set these in their configuration file.
OWN_THRESHOLDS = """
thresholds:
  unrecorded_rate:
    overall: 0.12
    crime_group: {VIOLENCE_AGAINST_THE_PERSON: 0.15, SEXUAL_OFFENCES: 0.15}
    route: {REFERRAL: 0.25}
  min_share_within_24h: 0.80
"""
