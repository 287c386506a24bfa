"""The simulated force (issue 9): one year of the large preset as a period export.

Target: at most 60 s and 4 GB peak on this 2-core machine; report rows per second. Baseline, in
the same run: pyarrow's multi-threaded CSV reader parsing the files the simulator wrote (how far
generation is from the cost of merely reading that much CSV).
"""

from __future__ import annotations

from pathlib import Path

from bench.harness import Measurement, run_in_subprocess

TARGET_SECONDS = 60
TARGET_PEAK_MB = 4096


def run(workdir: Path) -> list[Measurement]:
    landing, truth = workdir / "landing", workdir / "truth"
    simulate = f"""
import datetime as dt
from pathlib import Path
from pipelines.simulate import simulate_force
summary = simulate_force(force="MET", profile="met-2018", start=dt.date(2024, 1, 1), end=dt.date(2025, 1, 1),
                         seed=1, landing=Path({str(landing)!r}), truth=Path({str(truth)!r}), mode="period", preset="large")
print("ROWS", sum(summary.rows.values()))
"""
    seconds, peak, output = run_in_subprocess(simulate)
    rows = int(next(line for line in output.splitlines() if line.startswith("ROWS")).split()[1])
    read_back = f"""
import pyarrow.csv as csv
from pathlib import Path
for path in sorted(Path({str(landing)!r}).rglob("*.csv")):
    csv.read_csv(path)
"""
    baseline_seconds, _, _ = run_in_subprocess(read_back)
    return [
        Measurement(
            name="simulate large preset, 1 year, period export",
            seconds=seconds,
            peak_rss_mb=peak,
            baseline_name="pyarrow CSV read of the same files",
            baseline_seconds=baseline_seconds,
            target=f"<= {TARGET_SECONDS} s, <= {TARGET_PEAK_MB} MB",
            passed=seconds <= TARGET_SECONDS and peak <= TARGET_PEAK_MB,
            detail={"rows": rows, "rows_per_second": round(rows / seconds)},
        )
    ]
