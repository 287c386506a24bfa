"""The latest-view rule on a few hand-written candidates: which run counts each report day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines import history, lake
from pipelines.verdict import RateLine, unrecorded_a_year

pytestmark = pytest.mark.unit

FORCE = "KNT"
LOOKBACK, LAG = 5, 1  # a run dated S settles report days S-5 .. S-2
D = dt.date


def candidate(ref: str, day: dt.date, *, group: str = "VIOLENCE_AGAINST_THE_PERSON", route: str = "CALL",
              recorded: int = 1, unrecorded: int = 0, within: int | None = None, outcome: str | None = None) -> dict:
    return {
        "candidate_ref": ref, "report_day": day, "crime_group": group, "route": route,
        "recorded_crimes": recorded, "unrecorded_crimes": unrecorded,
        "recorded_within_window": recorded if within is None else within, "pending_crimes": 0,
        "outcome": outcome or ("UNRECORDED" if unrecorded else "RECORDED_ON_TIME"),
    }


def write_run(lake_dir: Path, snapshot: dt.date, rows: list[dict]) -> None:
    table = pa.Table.from_pylist([{"force_code": FORCE, "snapshot_date": snapshot, **row} for row in rows])
    lake.write_parquet(table, lake.mart_path(lake_dir, "candidate_outcomes", FORCE, snapshot))


def counts(view: history.DayView, day: dt.date, dimension: str = "overall") -> dict:
    rows = [row for row in view.counts.to_pylist() if row["report_day"] == day and row["dimension"] == dimension]
    assert len(rows) == 1, rows
    return rows[0]


def test_each_day_comes_from_the_latest_run_that_settles_it():
    runs = [D(2024, 6, 10), D(2024, 6, 11), D(2024, 6, 13)]
    sources = history.day_sources(runs, D(2024, 6, 1), D(2024, 6, 12), LOOKBACK, LAG)
    assert sources == {
        D(2024, 6, 5): D(2024, 6, 10),  # only the first run still holds it
        D(2024, 6, 6): D(2024, 6, 11),
        D(2024, 6, 7): D(2024, 6, 11),
        D(2024, 6, 8): D(2024, 6, 13),
        D(2024, 6, 9): D(2024, 6, 13),
        D(2024, 6, 10): D(2024, 6, 13),
        D(2024, 6, 11): D(2024, 6, 13),
        # 12 June is still maturing in the run of the 13th: no run settles it
    }


def test_a_late_record_counts_and_nothing_is_counted_twice(tmp_path):
    lake_dir = tmp_path / "lake"
    # Run of 10 June: the crime of 7 June is unrecorded. Run of 11 June: recorded late.
    write_run(lake_dir, D(2024, 6, 10), [
        candidate("A", D(2024, 6, 5)),
        candidate("B", D(2024, 6, 7), recorded=0, unrecorded=1),
        candidate("C", D(2024, 6, 8), group="SEXUAL_OFFENCES", route="REFERRAL", recorded=0, unrecorded=1),
    ])
    write_run(lake_dir, D(2024, 6, 11), [
        candidate("B", D(2024, 6, 7), recorded=1, unrecorded=0, within=0, outcome="RECORDED_LATE"),
        candidate("C", D(2024, 6, 8), group="SEXUAL_OFFENCES", route="REFERRAL", recorded=0, unrecorded=1),
        candidate("E", D(2024, 6, 9), recorded=2, unrecorded=1),
    ])
    view = history.day_view(lake_dir, FORCE, D(2024, 6, 1), D(2024, 6, 30), lookback_days=LOOKBACK, maturity_lag_days=LAG)
    assert view.read_from == "candidate_outcomes"
    assert view.snapshots_used == [D(2024, 6, 10), D(2024, 6, 11)]
    assert counts(view, D(2024, 6, 5))["recorded"] == 1  # aged out of the second run: the first one's view
    late = counts(view, D(2024, 6, 7))
    assert (late["recorded"], late["unrecorded"], late["recorded_within_24h"]) == (1, 0, 0)
    assert counts(view, D(2024, 6, 8), "route")["dimension_value"] == "REFERRAL"
    assert D(2024, 6, 10) in view.missing_days and D(2024, 6, 1) in view.missing_days

    (period,) = [row for row in history.period_rates(view) if row["dimension"] == "overall"]
    assert (period["candidate_crimes"], period["recorded"], period["unrecorded"]) == (6, 4, 2)
    assert period["recording_rate"] == pytest.approx(4 / 6)
    assert period["rate_ci_lower"] < 4 / 6 < period["rate_ci_upper"]
    assert period["report_days"] == 4

    as_known_then = history.day_view(lake_dir, FORCE, D(2024, 6, 1), D(2024, 6, 30), lookback_days=LOOKBACK,
                                     maturity_lag_days=LAG, as_of=D(2024, 6, 10))
    assert counts(as_known_then, D(2024, 6, 7))["unrecorded"] == 1


def test_bins_end_on_the_last_day_oldest_first(tmp_path):
    lake_dir = tmp_path / "lake"
    write_run(lake_dir, D(2024, 6, 30), [candidate(f"R{n}", D(2024, 6, 25) + dt.timedelta(days=n % 4)) for n in range(8)])
    view = history.day_view(lake_dir, FORCE, D(2024, 6, 20), D(2024, 6, 28), lookback_days=LOOKBACK, maturity_lag_days=LAG)
    overall = [row for row in history.binned_rates(view, 2) if row["dimension"] == "overall"]
    assert [(row["bin_start"], row["bin_end"], row["candidate_crimes"]) for row in overall] == [
        (D(2024, 6, 25), D(2024, 6, 26), 4), (D(2024, 6, 27), D(2024, 6, 28), 4),
    ]


def test_changes_since_the_previous_run(tmp_path):
    lake_dir = tmp_path / "lake"
    for snapshot in (D(2024, 6, 10), D(2024, 6, 11)):
        rates = pa.Table.from_pylist([{
            "force_code": FORCE, "snapshot_date": snapshot, "dimension": "overall", "dimension_value": "ALL",
            "candidate_crimes": 4, "recorded": 2 if snapshot.day == 10 else 3, "recording_rate": 0.5 if snapshot.day == 10 else 0.75,
            "rate_ci_lower": 0.1, "rate_ci_upper": 0.9,
        }])
        lake.write_parquet(rates, lake.mart_path(lake_dir, "recording_rates", FORCE, snapshot))
    write_run(lake_dir, D(2024, 6, 10), [
        candidate("KEPT", D(2024, 6, 7), recorded=0, unrecorded=1),
        candidate("GONE", D(2024, 6, 8), recorded=0, unrecorded=1),
        candidate("MOVED", D(2024, 6, 8), group="THEFT"),
    ])
    write_run(lake_dir, D(2024, 6, 11), [
        candidate("KEPT", D(2024, 6, 7), recorded=1, unrecorded=0, outcome="RECORDED_LATE"),
        candidate("MOVED", D(2024, 6, 8), group="ROBBERY"),
        candidate("LATE", D(2024, 6, 8)),  # a day the previous run had seen
        candidate("FRESH", D(2024, 6, 10)),  # reported after the previous run's cut-off: ordinary news
    ])
    changes = history.changes_since_previous(lake_dir, FORCE, D(2024, 6, 11), lookback_days=LOOKBACK, maturity_lag_days=LAG)
    assert changes.previous_snapshot == D(2024, 6, 10)
    by_ref = {row["candidate_ref"]: row["change"] for row in changes.candidate_changes}
    assert by_ref == {"KEPT": "OUTCOME_CHANGED", "GONE": "VANISHED", "MOVED": "RECLASSIFIED", "LATE": "NEW"}
    assert [(row["report_day"], row["previous_unrecorded"], row["unrecorded"]) for row in changes.restated_days] == [
        (D(2024, 6, 7), 1, 0), (D(2024, 6, 8), 1, 0),
    ]
    (overall,) = changes.rate_changes
    assert (overall["previous_rate"], overall["recording_rate"]) == (0.5, 0.75)
    assert history.changes_since_previous(lake_dir, FORCE, D(2024, 6, 10), lookback_days=LOOKBACK, maturity_lag_days=LAG) is None


def test_estimated_unrecorded_crimes_a_year():
    line = RateLine("overall", "ALL", candidate_crimes=100, recorded=80, unrecorded=20, recording_rate=0.8,
                    ci_lower=0.7, ci_upper=0.9, share_within_24h=None, threshold=0.05)
    yearly = unrecorded_a_year(line, days=73)  # 80 recorded in a fifth of a year
    assert yearly.recorded_a_year == pytest.approx(80 * 365.25 / 73)
    assert yearly.estimate == pytest.approx(yearly.recorded_a_year * 0.2 / 0.8)
    assert yearly.low == pytest.approx(yearly.recorded_a_year * 0.1 / 0.9)
    assert yearly.high == pytest.approx(yearly.recorded_a_year * 0.3 / 0.7)
    assert unrecorded_a_year(line, days=None) is None


@pytest.mark.parametrize("with_report_day", [True, False])
def test_the_worklist_of_each_day_comes_from_the_run_that_settles_it(tmp_path, with_report_day):
    lake_dir = tmp_path / "lake"
    write_run(lake_dir, D(2024, 6, 10), [candidate("OLD", D(2024, 6, 5), recorded=0, unrecorded=1),
                                        candidate("B", D(2024, 6, 7), recorded=0, unrecorded=1)])
    write_run(lake_dir, D(2024, 6, 11), [candidate("B", D(2024, 6, 7), recorded=0, unrecorded=1),
                                        candidate("NEW", D(2024, 6, 10), recorded=0, unrecorded=1),
                                        candidate("UPDATED", D(2024, 6, 1), recorded=0, unrecorded=1)])
    for snapshot, items in ((D(2024, 6, 10), [("OLD", D(2024, 6, 5), 40.0), ("B", D(2024, 6, 7), 60.0)]),
                            (D(2024, 6, 11), [("B", D(2024, 6, 7), 84.0), ("NEW", D(2024, 6, 10), 36.0),
                                             ("UPDATED", D(2024, 6, 1), 228.0)])):
        rows = [{"force_code": FORCE, "snapshot_date": snapshot, "priority": 4, "candidate_ref": ref,
                 "reason_codes": "UNRECORDED", "reported_at": dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.timezone.utc),
                 "age_hours": age, **({"report_day": day} if with_report_day else {})} for ref, day, age in items]
        lake.write_parquet(pa.Table.from_pylist(rows), lake.mart_path(lake_dir, "worklist", FORCE, snapshot))
    view = history.day_view(lake_dir, FORCE, D(2024, 6, 1), D(2024, 6, 30), lookback_days=LOOKBACK, maturity_lag_days=LAG)
    items = history.worklist_for_days(view)
    # 10 June is still maturing in the last run (no run settles it), and 1 June is older than any run's
    # window: their overdue items are listed all the same, as the last run saw them.
    assert D(2024, 6, 10) in view.missing_days
    assert [(item["candidate_ref"], item["snapshot_date"], item["age_hours"]) for item in items] == [
        ("UPDATED", D(2024, 6, 11), 228.0), ("OLD", D(2024, 6, 10), 40.0), ("B", D(2024, 6, 11), 84.0),
        ("NEW", D(2024, 6, 11), 36.0),
    ]


def test_runs_whose_marts_gained_a_column_are_read_together(tmp_path):
    # a date backfilled with newer code beside dates written before a column was added
    lake_dir = tmp_path / "lake"
    write_run(lake_dir, D(2024, 6, 10), [{"has_sexual_element": False, **candidate("A", D(2024, 6, 5))}])
    write_run(lake_dir, D(2024, 6, 11), [candidate("B", D(2024, 6, 6))])
    view = history.day_view(lake_dir, FORCE, D(2024, 6, 1), D(2024, 6, 30), lookback_days=LOOKBACK, maturity_lag_days=LAG)
    assert counts(view, D(2024, 6, 5))["candidate_crimes"] == 1 and counts(view, D(2024, 6, 6))["candidate_crimes"] == 1
