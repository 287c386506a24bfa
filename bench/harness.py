"""Timing and peak-memory measurement shared by the benchmarks."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Measurement:
    name: str
    seconds: float
    peak_rss_mb: float | None
    baseline_name: str | None = None
    baseline_seconds: float | None = None
    target: str | None = None  # the target in words, e.g. "<= 8 s and <= 2 GB"
    passed: bool | None = None  # whether the target was met
    detail: dict | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline_seconds:
            return self.seconds / self.baseline_seconds
        return None

    def to_dict(self) -> dict:
        return asdict(self) | {"ratio_to_baseline": self.ratio}


def time_call(function, *args, repeat: int = 1, **kwargs) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def run_in_subprocess(code: str, *, env: dict | None = None, timeout: int = 3600) -> tuple[float, float, str]:
    """Run Python code in a fresh interpreter: wall seconds, peak RSS (MB) and its stdout.

    Peak memory is the child's own maximum resident set (getrusage of the children), so each
    measurement gets a clean process and a figure that is its own.
    """
    wrapper = (
        "import resource, sys, time\n"
        "start = time.perf_counter()\n"
        f"exec(compile({code!r}, '<bench>', 'exec'))\n"
        "elapsed = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(f'__BENCH__ {elapsed} {peak}')\n"
    )
    result = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{result.stderr[-4000:]}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("__BENCH__"))
    _, elapsed, peak = line.split()
    return float(elapsed), float(peak), result.stdout


# Runs a command as the only child of a fresh interpreter: its wall time and its peak memory
# (the largest resident set of the command and of any process it waited for).
MEASURED_CHILD = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
completed = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"seconds": time.perf_counter() - start, "returncode": completed.returncode,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "output_tail": (completed.stdout + completed.stderr)[-3000:]}))
"""


def measure_command(command: list[str], env: dict, timeout: int = 3600) -> dict:
    """Run a command (a CLI, not Python code): seconds, returncode, peak_rss_mb, output_tail."""
    result = subprocess.run([sys.executable, "-c", MEASURED_CHILD, *command], capture_output=True, text=True,
                            env=env, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"measuring {command[:3]} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def write_results(name: str, measurements: list[Measurement], results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{name}.json"
    payload = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu_count": os.cpu_count(),
        "measurements": [m.to_dict() for m in measurements],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def format_table(name: str, measurements: list[Measurement]) -> str:
    lines = [f"== {name}"]
    for m in measurements:
        ratio = f"{m.ratio:.2f}x {m.baseline_name}" if m.ratio is not None else "-"
        memory = f"{m.peak_rss_mb:.0f} MB" if m.peak_rss_mb is not None else "-"
        verdict = "" if m.passed is None else ("  PASS" if m.passed else "  FAIL")
        target = f"  target {m.target}" if m.target else ""
        lines.append(f"  {m.name:<48} {m.seconds:8.2f} s  {memory:>9}  {ratio}{target}{verdict}")
    return "\n".join(lines)


def self_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
