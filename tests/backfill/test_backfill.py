"""`cdi backfill` writes, for every date of a period, the marts day-by-day runs write."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines import lake
from pipelines.backfill import backfill
from pipelines.contract import SOURCE_NAMES
from pipelines.extract import extract_source
from pipelines.reconcile import MARTS, reconcile_snapshot
from pipelines.settings import load_settings

from .conftest import FIRST, FORCE, LAST, all_marts, mart_rows, snapshot_dates

pytestmark = pytest.mark.slow


def settings_for(landing: Path, lake_dir: Path):
    return load_settings(FORCE, landing_dir=landing, lake_dir=lake_dir, demo=True)


@pytest.fixture(scope="module")
def day_by_day(exports, tmp_path_factory) -> Path:
    """The lake of daily runs, one date after another (extract, then reconcile), as the DAG does."""
    lake_dir = tmp_path_factory.mktemp("day-by-day") / "lake"
    settings = settings_for(exports.daily, lake_dir)
    for day in snapshot_dates():
        for source in SOURCE_NAMES:
            extract_source(settings, source, day)
        reconcile_snapshot(settings, day)
    return lake_dir


@pytest.mark.parametrize("jobs", [1, 3])
def test_backfill_of_archived_snapshots_equals_day_by_day_runs(exports, day_by_day, tmp_path, jobs):
    """One worker, or several each starting part-way through the period: the same marts."""
    lake_dir = tmp_path / "lake"
    # Half the dates are already in the lake (archived raw partitions); the rest come from the
    # landing folder's daily exports: both ways in must give the same marts.
    shutil.copytree(day_by_day / "raw", lake_dir / "raw",
                    ignore=lambda folder, names: [n for n in names if n >= "snapshot_date=2024-06-10"])
    seen = []
    result = backfill(settings_for(exports.daily, lake_dir), FIRST, LAST, jobs=jobs,
                      progress=lambda done, total: seen.append((done, total)))

    assert (result.dates, result.jobs) == (len(snapshot_dates()), jobs)
    assert result.extracted_dates == [day.isoformat() for day in snapshot_dates(dt.date(2024, 6, 10), LAST)]
    assert seen[-1] == (len(result.extracted_dates) + result.dates,) * 2
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert all_marts(lake_dir, snapshot_dates()) == all_marts(day_by_day, snapshot_dates())
    assert sum(len(mart_rows(lake_dir, "candidate_outcomes", day)) for day in snapshot_dates()) \
        == result.mart_rows["candidate_outcomes"] > 0
    for day in snapshot_dates():
        manifest = lake.read_json(lake.manifest_path(lake_dir, "reconcile", "marts", FORCE, day))
        expected = lake.read_json(lake.manifest_path(day_by_day, "reconcile", "marts", FORCE, day))
        assert (manifest["row_counts"], manifest["previous_snapshot_date"]) \
            == (expected["row_counts"], expected["previous_snapshot_date"])
    backfill_manifest = lake.period_manifest_path(lake_dir, "backfill", "backfill", FORCE, FIRST, LAST)
    assert lake.read_json(backfill_manifest)["input"] == "archived daily snapshots"


def test_backfill_replaces_marts_written_by_older_rules(exports, day_by_day, tmp_path):
    """After a rule change the point of a backfill is to overwrite every date's marts."""
    lake_dir = tmp_path / "lake"
    shutil.copytree(day_by_day, lake_dir)
    stale = lake.mart_path(lake_dir, "recording_rates", FORCE, dt.date(2024, 6, 12))
    duckdb.connect().execute(f"copy (select 1 as stale) to '{stale}' (format parquet)")
    backfill(settings_for(exports.daily, lake_dir), FIRST, LAST)
    assert mart_rows(lake_dir, "recording_rates", dt.date(2024, 6, 12)) \
        == mart_rows(day_by_day, "recording_rates", dt.date(2024, 6, 12))


def explained_by_record_changes(lake_dir: Path) -> set[str]:
    """Candidates whose history a period export cannot hold: calls re-closed as non-crime after
    closing, and reports linked to records deleted at source (both listed by the daily runs'
    record_changes), and the deleted reports themselves."""
    changes = str(Path(lake_dir) / "marts" / "record_changes" / f"force={FORCE}" / "*" / "part-0.parquet")
    outcomes = str(Path(lake_dir) / "marts" / "candidate_outcomes" / f"force={FORCE}" / "*" / "part-0.parquet")
    with duckdb.connect() as connection:
        rows = connection.execute(f"""
            with changed as (
                select distinct record_ref from read_parquet('{changes}')
                where change in ('VANISHED', 'RECLASSIFIED_TO_NON_CRIME')
            )
            select record_ref from changed
            union
            select candidate_ref from read_parquet('{outcomes}')
            where list_has_any(linked_crime_refs, (select list(record_ref) from changed))
        """).fetchall()
    return {ref for (ref,) in rows}


def test_backfill_from_a_period_export_agrees_with_daily_snapshots(exports, day_by_day, tmp_path):
    lake_dir = tmp_path / "lake"
    result = backfill(settings_for(exports.daily, lake_dir), FIRST, LAST, period_landing=exports.period, jobs=2)
    one_worker = tmp_path / "one-worker"
    backfill(settings_for(exports.daily, one_worker), FIRST, LAST, period_landing=exports.period, jobs=1)
    assert all_marts(one_worker, snapshot_dates()) == all_marts(lake_dir, snapshot_dates())

    assert result.input == "period export"
    assert set(result.period_extracts) == set(SOURCE_NAMES)
    assert lake.period_raw_path(lake_dir, "incidents", FORCE, FIRST, LAST).exists()
    assert not lake.raw_path(lake_dir, "incidents", FORCE, LAST).exists()  # the daily partitions stay the daily runs'
    explained = explained_by_record_changes(day_by_day)
    differing = set()
    compared = 0
    for day in snapshot_dates():
        daily = {row[2]: row for row in mart_rows(day_by_day, "candidate_outcomes", day)}
        period = {row[2]: row for row in mart_rows(lake_dir, "candidate_outcomes", day)}
        compared += len(daily)
        differing |= {ref for ref in daily.keys() | period.keys() if daily.get(ref) != period.get(ref)}
    # Every difference is a record the period erased; everything else is the same, row for row.
    assert differing <= explained
    assert compared > 5000 and len(differing) < 0.02 * compared
    if not differing:  # then every aggregate must agree too
        for day in snapshot_dates():
            assert mart_rows(lake_dir, "recording_rates", day) == mart_rows(day_by_day, "recording_rates", day)


def test_a_period_export_that_does_not_reach_back_far_enough_is_refused(exports, tmp_path):
    settings = settings_for(exports.daily, tmp_path / "lake")
    with pytest.raises(ValueError, match=r"looks back 60 days.*start the backfill 60 days after"):
        backfill(settings, FIRST - dt.timedelta(days=10), LAST, period_landing=exports.period, export_date=LAST)
    assert not lake.mart_path(tmp_path / "lake", "candidate_outcomes", FORCE, LAST).exists()


def test_an_incomplete_period_export_is_refused_naming_the_files(exports, tmp_path):
    period = tmp_path / "period"
    shutil.copytree(exports.period, period)
    (period / FORCE / f"crimes_{LAST.isoformat()}.csv").unlink()
    with pytest.raises(FileNotFoundError, match=rf"missing .*crimes_{LAST.isoformat()}\.csv"):
        backfill(settings_for(exports.daily, tmp_path / "lake"), FIRST, LAST, period_landing=period)


def test_a_period_with_dates_nowhere_to_be_found_is_refused_before_any_work(exports, tmp_path):
    settings = settings_for(exports.daily, tmp_path / "lake")
    with pytest.raises(FileNotFoundError, match=r"2 snapshot date\(s\) have neither raw partitions .*: 2024-06-01, 2024-06-02"):
        backfill(settings, dt.date(2024, 6, 1), LAST)
    assert not (tmp_path / "lake" / "raw").exists()  # nothing extracted for a backfill that cannot finish


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_worker_failing_stops_the_backfill_naming_the_file(exports, day_by_day, tmp_path, jobs):
    lake_dir = tmp_path / "lake"
    shutil.copytree(day_by_day / "raw", lake_dir / "raw")
    broken = lake.raw_path(lake_dir, "crimes", FORCE, dt.date(2024, 6, 14))
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(Exception, match=str(broken)):
        backfill(settings_for(exports.daily, lake_dir), FIRST, LAST, jobs=jobs)
    # Whatever was written before the failure is whole, and nothing claims the backfill finished.
    assert not lake.period_manifest_path(lake_dir, "backfill", "backfill", FORCE, FIRST, LAST).exists()
    for path in (lake_dir / "marts").rglob("*"):
        assert not path.name.startswith(".tmp")
