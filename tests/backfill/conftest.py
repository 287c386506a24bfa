"""A small simulated force exported both ways: daily snapshots and one period export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from pipelines import lake
from pipelines.reconcile import MARTS
from pipelines.simulate import simulate_force

FORCE = "KNT"
FIRST, LAST = dt.date(2024, 6, 3), dt.date(2024, 6, 16)  # two weeks of snapshot dates
LOOKBACK_DAYS = 60  # the default settings'
SEED, SCALE = 17, 0.03


@dataclass(frozen=True)
class Exports:
    daily: Path  # landing folder of daily exports, FIRST to LAST
    period: Path  # landing folder of one period export taken on LAST, reaching back to FIRST's window


@pytest.fixture(scope="session")
def exports(tmp_path_factory) -> Exports:
    base = tmp_path_factory.mktemp("backfill-exports")
    common = dict(force=FORCE, profile="kent-2017", seed=SEED, scale=SCALE, lookback_days=LOOKBACK_DAYS)
    simulate_force(start=FIRST, end=LAST, landing=base / "daily", **common)
    simulate_force(start=FIRST - dt.timedelta(days=LOOKBACK_DAYS), end=LAST, landing=base / "period",
                   mode="period", **common)
    return Exports(daily=base / "daily", period=base / "period")


def snapshot_dates(first: dt.date = FIRST, last: dt.date = LAST) -> list[dt.date]:
    return [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]


def mart_rows(lake_dir: Path, mart: str, day: dt.date) -> list[tuple]:
    """Every row of one mart partition, all columns, in a canonical order (file order is not a contract)."""
    path = lake.mart_path(lake_dir, mart, FORCE, day)
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        return connection.execute(
            f"select columns(*)::varchar from read_parquet('{path}', hive_partitioning = false) order by all"
        ).fetchall()


def all_marts(lake_dir: Path, dates: list[dt.date]) -> dict[tuple[str, dt.date], list[tuple]]:
    return {(mart, day): mart_rows(lake_dir, mart, day) for mart in MARTS for day in dates}
