"""Great Expectations suites (issue 4): raw suites on a 1M-row snapshot, and the whole validation
of a mid-size force's daily snapshot.

Targets: raw suites on 1M rows in at most 10 s; the whole validation (three raw suites, list
suites, results JSON) of a mid-size daily snapshot (60-day lookback) in at most 15 s. GX's own
import (about 4-5 s per process) is measured apart and not counted. Baseline, in the same run:
reading the same raw partition from Parquet into pandas, the input every suite needs anyway.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bench.harness import Measurement, run_in_subprocess

RAW_SUITE_TARGET_SECONDS = 10
WHOLE_VALIDATION_TARGET_SECONDS = 15


def _prepare(workdir: Path, name: str, *, mode: str, preset: str, start: dt.date, end: dt.date) -> None:
    run_in_subprocess(f"""
import datetime as dt
from pathlib import Path
from pipelines.simulate import simulate_force
from pipelines.settings import load_settings
from pipelines.extract import extract_source
landing, lake = Path({str(workdir / name / 'landing')!r}), Path({str(workdir / name / 'lake')!r})
simulate_force(force="KNT", profile="kent-2017", start=dt.date.fromisoformat({start.isoformat()!r}),
               end=dt.date.fromisoformat({end.isoformat()!r}), seed=1, landing=landing, mode={mode!r}, preset={preset!r})
settings = load_settings("KNT", landing_dir=landing, lake_dir=lake, demo=True,
                         overrides={{"lookback_days": 400}} if {mode!r} == "period" else None)
for source in ("incidents", "crimes", "referrals"):
    extract_source(settings, source, dt.date.fromisoformat({end.isoformat()!r}))
""")


def run(workdir: Path) -> list[Measurement]:
    big_day = dt.date(2024, 4, 1)
    _prepare(workdir, "big", mode="period", preset="large", start=dt.date(2024, 1, 1), end=big_day)
    raw_incidents = workdir / "big" / "lake" / "raw" / "incidents" / "force=KNT" / f"snapshot_date={big_day}" / "part-0.parquet"
    read_code = f"""
import pyarrow.parquet as pq
frame = pq.read_table({str(raw_incidents)!r}).to_pandas()
print("ROWS", len(frame))
"""
    read_seconds, _, output = run_in_subprocess(read_code)
    rows = int(next(line for line in output.splitlines() if line.startswith("ROWS")).split()[1])
    suite_code = f"""
import time, datetime as dt
from pathlib import Path
import pyarrow.parquet as pq
started = time.perf_counter()
from pipelines import quality
import_seconds = time.perf_counter() - started
frame = pq.read_table({str(raw_incidents)!r}).to_pandas()
quality_dir = Path({str(workdir / 'big' / 'quality')!r})
quality._context(quality_dir)  # open the GX folder once, as a long-running worker would
started = time.perf_counter()
outcome = quality.validate_raw_snapshot("incidents", frame, as_of=dt.datetime(2024, 4, 1, tzinfo=dt.timezone.utc),
                                        previous_row_count=None, thresholds={{}}, quality_dir=quality_dir)
print("SUITE", time.perf_counter() - started, import_seconds, outcome.success)
"""
    _, suite_peak, output = run_in_subprocess(suite_code)
    suite_seconds, import_seconds, _ = next(line for line in output.splitlines() if line.startswith("SUITE")).split()[1:]
    suite_seconds, import_seconds = float(suite_seconds), float(import_seconds)

    mid_day = dt.date(2024, 6, 28)
    _prepare(workdir, "mid", mode="daily", preset="mid", start=mid_day, end=mid_day)
    whole_code = f"""
import time, datetime as dt
from pathlib import Path
from pipelines import quality, stages
from pipelines.settings import load_settings
settings = load_settings("KNT", landing_dir=Path({str(workdir / 'mid' / 'landing')!r}),
                         lake_dir=Path({str(workdir / 'mid' / 'lake')!r}), demo=True)
started = time.perf_counter()
stages.validate_raw_snapshots(settings, dt.date(2024, 6, 28))
print("WHOLE", time.perf_counter() - started)
"""
    _, whole_peak, output = run_in_subprocess(whole_code)
    whole_seconds = float(next(line for line in output.splitlines() if line.startswith("WHOLE")).split()[1])
    return [
        Measurement(
            name=f"raw incidents suite, {rows:,} rows",
            seconds=suite_seconds, peak_rss_mb=suite_peak,
            baseline_name="reading the partition into pandas", baseline_seconds=read_seconds,
            target=f"<= {RAW_SUITE_TARGET_SECONDS} s", passed=suite_seconds <= RAW_SUITE_TARGET_SECONDS,
            detail={"rows": rows, "gx_import_seconds": round(import_seconds, 2)},
        ),
        Measurement(
            name="whole raw validation, mid-size daily snapshot",
            seconds=whole_seconds, peak_rss_mb=whole_peak,
            baseline_name="reading the 1M-row partition into pandas", baseline_seconds=read_seconds,
            target=f"<= {WHOLE_VALIDATION_TARGET_SECONDS} s (GX import excluded)",
            passed=whole_seconds <= WHOLE_VALIDATION_TARGET_SECONDS,
        ),
    ]
