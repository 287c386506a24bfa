"""Snapshots over time on a simulated force: what each run writes, and how a later snapshot
restates the days an earlier one had already judged."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow.parquet as pq
import pytest

from pipelines import lake, reconcile
from tests.reconcile.conftest import FIRST_SNAPSHOT, FORCE, SNAPSHOT

pytestmark = [pytest.mark.unit, pytest.mark.slow]


def test_each_run_writes_every_mart_and_names_the_snapshot_it_compared_with(kent):
    manifest = json.loads(lake.manifest_path(kent.settings.lake_dir, "reconcile", "marts", FORCE, SNAPSHOT).read_text())
    assert set(manifest["marts"]) == set(reconcile.MARTS)
    assert manifest["previous_snapshot_date"] == FIRST_SNAPSHOT.isoformat()
    for mart, path in manifest["marts"].items():
        assert pq.read_metadata(path).num_rows == manifest["row_counts"][mart]
    first = json.loads(lake.manifest_path(kent.settings.lake_dir, "reconcile", "marts", FORCE, FIRST_SNAPSHOT).read_text())
    assert first["previous_snapshot_date"] is None  # nothing earlier within a week


def test_late_records_restate_days_an_earlier_snapshot_judged(kent):
    daily = kent.mart("daily_recording_rates").to_pandas()
    overall = daily[(daily["dimension"] == "overall") & daily["previous_snapshot_date"].notna()]
    assert set(overall["previous_snapshot_date"]) == {FIRST_SNAPSHOT}
    restated = overall[overall["recorded"] > overall["previous_recorded"]]
    assert len(restated) > 0
    # A crime recorded late moves from unrecorded (or pending) to recorded: a day's candidate
    # crimes never fall because a record appeared.
    assert (restated["unrecorded"] + restated["pending"] <= restated["previous_unrecorded"] + restated["previous_pending"]).all()
    # Days the earlier snapshot judged are still in this one's window (60 days back).
    assert overall["report_day"].min() == SNAPSHOT - dt.timedelta(days=kent.settings.lookback_days)


def test_the_verdict_rates_sum_from_the_candidates_they_summarise(kent):
    outcomes = kent.mart("candidate_outcomes").to_pandas()
    first = SNAPSHOT - dt.timedelta(days=kent.settings.lookback_days)
    last = SNAPSHOT - dt.timedelta(days=kent.settings.maturity_lag_days + 1)
    matured = outcomes[(outcomes["report_day"] >= first) & (outcomes["report_day"] <= last)]
    rates = kent.mart("recording_rates").to_pandas()
    overall = rates[rates["dimension"] == "overall"].iloc[0]
    assert overall["recorded"] == matured["recorded_crimes"].sum()
    assert overall["unrecorded"] == matured["unrecorded_crimes"].sum()
    by_route = rates[rates["dimension"] == "route"].set_index("dimension_value")["candidate_crimes"].to_dict()
    assert set(by_route) == {"CALL", "REFERRAL", "OTHER"}
    # Route OTHER is recorded by definition.
    assert rates.query("dimension == 'route' and dimension_value == 'OTHER'")["unrecorded"].item() == 0


def test_a_rerun_replaces_its_own_partitions(kent, tmp_path):
    before = {mart: kent.mart(mart).num_rows for mart in reconcile.MARTS}
    reconcile.reconcile_snapshot(kent.settings, SNAPSHOT)
    assert {mart: kent.mart(mart).num_rows for mart in reconcile.MARTS} == before
