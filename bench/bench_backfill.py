"""`cdi backfill` (issue 5): 365 snapshot dates of the mid-size preset in one command.

A Kent-like force of the `mid` preset (about 600k incidents a year) hands over one period export
covering 2024 and the 60 days before it; `cdi backfill --period-export` works out each date's
snapshot and reconciles all 366 dates of 2024, writing every date's marts. Target: at most 60 s
on this 2-core machine. Baseline, in the same run: day-by-day runs (`cdi run`, the daily
pipeline without Airflow) of three consecutive dates of the same force from daily exports, their
mean time per date multiplied by the backfill's dates (running all 366 would take most of an
hour; the per-date time barely varies over a year).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

from bench.harness import Measurement, measure_command

TARGET_SECONDS = 60
FORCE = "MID"
PROFILE = "kent-2017"
SEED = 11
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2024, 12, 31)
LOOKBACK_DAYS = 60  # the embedded defaults'
DAY_BY_DAY = [dt.date(2024, 6, 10), dt.date(2024, 6, 11), dt.date(2024, 6, 12)]
BIN = Path(sys.executable).parent


def run(workdir: Path) -> list[Measurement]:
    from pipelines.simulate import simulate_force

    environment = {key: value for key, value in os.environ.items() if not key.startswith("CDI_")}
    period, daily = workdir / "period", workdir / "daily"
    simulate_force(force=FORCE, profile=PROFILE, start=FIRST - dt.timedelta(days=LOOKBACK_DAYS), end=LAST,
                   seed=SEED, landing=period, mode="period", preset="mid")
    simulate_force(force=FORCE, profile=PROFILE, start=DAY_BY_DAY[0], end=DAY_BY_DAY[-1], seed=SEED, landing=daily,
                   mode="daily", preset="mid")

    backfill = measure_command([str(BIN / "cdi"), "backfill", "--force", FORCE, "--from", FIRST.isoformat(),
                                "--to", LAST.isoformat(), "--lake", str(workdir / "lake-backfill"),
                                "--period-export", str(period), "--demo"], environment)
    if backfill["returncode"] != 0:
        raise RuntimeError(f"cdi backfill failed:\n{backfill['output_tail']}")

    day_seconds = []
    for day in DAY_BY_DAY:
        measured = measure_command([str(BIN / "cdi"), "run", "--force", FORCE, "--date", day.isoformat(), "--landing",
                                    str(daily), "--lake", str(workdir / "lake-daily"), "--demo"], environment)
        if measured["returncode"] not in (0, 1):  # 1: the gate breached, as this profile does
            raise RuntimeError(f"cdi run failed:\n{measured['output_tail']}")
        day_seconds.append(measured["seconds"])
    dates = (LAST - FIRST).days + 1
    per_date = sum(day_seconds) / len(day_seconds)

    return [
        Measurement(
            name=f"cdi backfill, {dates} dates of the mid preset",
            seconds=backfill["seconds"],
            peak_rss_mb=backfill["peak_rss_mb"],  # the largest single process (workers each have their own)
            baseline_name=f"{dates} day-by-day runs",
            baseline_seconds=per_date * dates,
            target=f"<= {TARGET_SECONDS} s",
            passed=backfill["seconds"] <= TARGET_SECONDS,
            detail={
                "seconds_per_date": round(backfill["seconds"] / dates, 3),
                "workers": os.cpu_count(),
                "day_by_day_seconds_measured": [round(seconds, 2) for seconds in day_seconds],
                "output": backfill["output_tail"][-1500:],
            },
        )
    ]
