"""Small simulated lakes built once per test session through the real `cdi`, shared by the report,
browser and command-line tests (whichever asks first builds; the rest reuse the folder)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parents[2]
ARTEFACTS = PROJECT / "test-artifacts"
FORCE = "KNT"
FIRST_SNAPSHOT = dt.date(2024, 6, 1)
PREVIOUS_RUN = dt.date(2024, 6, 27)
SNAPSHOT = dt.date(2024, 6, 28)
SCALE = "0.03"
READY = ".ready"


def cdi(*args: str, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """The installed `cdi` in a child process, as a script would call it (no TTY)."""
    return subprocess.run(
        [str(BIN / "cdi"), *args], capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL,
    )


def checked(result: subprocess.CompletedProcess, *allowed: int) -> subprocess.CompletedProcess:
    assert result.returncode in allowed, f"exit {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@dataclass(frozen=True)
class SimulatedLake:
    root: Path
    landing: Path
    lake: Path
    runs: tuple[dt.date, ...]
    env: dict | None = None  # environment of every cdi call on this lake (e.g. CDI_CONFIG_DIR)

    def reports(self, snapshot: dt.date = SNAPSHOT) -> Path:
        return self.lake / "reports" / f"force={FORCE}" / f"snapshot_date={snapshot.isoformat()}"


def simulated_lake(base: Path, profile: str, runs: tuple[dt.date, ...], seed: int = 11,
                   env: dict | None = None) -> SimulatedLake:
    """Simulate `profile` and run `cdi run --demo` for each date in `runs`, once per session."""
    root = base / f"lake-{profile}-{'-'.join(run.isoformat() for run in runs)}"
    built = SimulatedLake(root, root / "landing", root / "lake", runs, env)
    if (root / READY).exists():
        return built
    root.mkdir(parents=True, exist_ok=True)
    checked(cdi("simulate", "--force", FORCE, "--profile", profile, "--from", FIRST_SNAPSHOT.isoformat(),
                "--to", SNAPSHOT.isoformat(), "--seed", str(seed), "--scale", SCALE,
                "--landing", str(built.landing)), 0)
    for run in runs:
        checked(cdi("run", "--force", FORCE, "--date", run.isoformat(), "--landing", str(built.landing),
                    "--lake", str(built.lake), "--demo", env=env), 0, 1)
    (root / READY).touch()
    return built


def shared_base(tmp_path_factory) -> Path:
    """One folder per pytest session, the same for every conftest that asks."""
    base = tmp_path_factory.getbasetemp() / "simulated-lakes"
    base.mkdir(exist_ok=True)
    return base
