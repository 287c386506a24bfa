"""The SQL and a second implementation in plain pandas (bench/reference_rules_pandas.py) must give
the same answer on simulated forces: every candidate's outcome and counts, and every rate."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from bench.reference_rules_pandas import reconcile_pandas
from pipelines import reconcile

pytestmark = [pytest.mark.unit, pytest.mark.slow]

KEY = ["route", "candidate_ref"]
COMPARED = [
    "candidate_basis", "report_day", "crime_group", "is_rape_report", "is_domestic_abuse", "has_vulnerable_victim",
    "is_closed_as_non_crime", "is_downgraded", "beat_code", "expected_crimes", "crime_link", "linked_crime_refs",
    "probable_crime_refs", "hours_to_record", "duplicate_of", "recorded_crimes", "recorded_within_window",
    "removed_crimes", "unrecorded_crimes", "pending_crimes", "questionably_cancelled_crimes", "extra_live_records",
    "rape_resolution", "outcome",
]
RATE_COUNTS = ["candidate_crimes", "recorded", "recorded_within_24h", "unrecorded", "pending"]
RATE_VALUES = ["recording_rate", "rate_ci_lower", "rate_ci_upper", "unrecorded_rate", "share_within_24h"]


def _plain(value):
    """One comparable Python value whatever the frame held (NaN/None/NA, arrays, timestamps)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value


def _rows(frame: pd.DataFrame, columns: list[str]) -> dict[tuple, tuple]:
    frame = frame.sort_values(KEY)
    return {
        tuple(key): tuple(_plain(value) for value in values)
        for key, values in zip(frame[KEY].itertuples(index=False), frame[columns].itertuples(index=False))
    }


@pytest.mark.parametrize("force_name", ["kent", "derbyshire", "stripped"])
def test_pandas_reference_agrees_with_the_sql(force_name, request):
    force = request.getfixturevalue(force_name)
    parameters = reconcile.sql_parameters(force.settings, force.snapshot)
    reference = reconcile_pandas(reconcile.raw_files(force.settings.lake_dir, "KNT", force.snapshot), parameters)

    sql_outcomes = force.mart("candidate_outcomes").to_pandas()
    pandas_outcomes = reference["candidate_outcomes"]
    sql_rows, pandas_rows = _rows(sql_outcomes, COMPARED), _rows(pandas_outcomes, COMPARED)
    assert len(sql_rows) > 1000 and set(sql_rows) == set(pandas_rows)
    differing = {key: (sql_rows[key], pandas_rows[key]) for key in sql_rows if sql_rows[key] != pandas_rows[key]}
    assert not differing, list(differing.items())[:5]
    # The comparison covers every kind of link and outcome the force produced.
    assert {"EXPLICIT", "NONE", "OWN_RECORD"} <= set(sql_outcomes["crime_link"])
    assert {"UNRECORDED", "RECORDED_ON_TIME", "RECORDED_LATE", "DUPLICATE"} <= set(sql_outcomes["outcome"])

    sql_rates = force.mart("recording_rates").to_pandas().set_index(["dimension", "dimension_value"]).sort_index()
    pandas_rates = reference["recording_rates"].set_index(["dimension", "dimension_value"]).sort_index()
    assert list(sql_rates.index) == list(pandas_rates.index)
    assert sql_rates[RATE_COUNTS].astype("int64").equals(pandas_rates[RATE_COUNTS].astype("int64"))
    for column in RATE_VALUES:
        for sql_value, pandas_value in zip(sql_rates[column], pandas_rates[column]):
            assert (sql_value is None or math.isnan(sql_value)) == math.isnan(pandas_value)
            if not math.isnan(pandas_value):
                assert sql_value == pytest.approx(pandas_value, rel=1e-12, abs=1e-15), column


def test_the_stripped_force_exercises_probable_crime_links(stripped):
    links = set(stripped.mart("candidate_outcomes").to_pandas()["crime_link"])
    assert "PROBABLE" in links


@pytest.mark.parametrize("force_name", ["kent", "stripped"])
def test_polars_benchmark_implementation_agrees_with_the_sql(force_name, request):
    """The benchmark's polars implementation computes the same thing (floats to the last bits:
    polars divides by 3600 as a multiplication)."""
    polars_rules = pytest.importorskip("bench.reference_rules_polars")
    force = request.getfixturevalue(force_name)
    parameters = reconcile.sql_parameters(force.settings, force.snapshot)
    reference = polars_rules.reconcile_polars(reconcile.raw_files(force.settings.lake_dir, "KNT", force.snapshot),
                                              parameters)
    exact = [column for column in COMPARED if column != "hours_to_record"]
    sql_outcomes = force.mart("candidate_outcomes").to_pandas()
    polars_outcomes = reference["candidate_outcomes"].to_pandas()
    assert _rows(sql_outcomes, exact) == _rows(polars_outcomes, exact)
    sql_hours, polars_hours = _rows(sql_outcomes, ["hours_to_record"]), _rows(polars_outcomes, ["hours_to_record"])
    assert all(sql_hours[key] == pytest.approx(polars_hours[key], rel=1e-12) if sql_hours[key][0] is not None
               else polars_hours[key] == (None,) for key in sql_hours)
    sql_rates = force.mart("recording_rates").to_pandas().sort_values(["dimension", "dimension_value"])
    polars_rates = reference["recording_rates"].to_pandas().sort_values(["dimension", "dimension_value"])
    assert sql_rates[["dimension", "dimension_value", *RATE_COUNTS]].astype(str).values.tolist() == \
        polars_rates[["dimension", "dimension_value", *RATE_COUNTS]].astype(str).values.tolist()
