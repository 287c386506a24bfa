"""Europe/London wall clock -> UTC, checked against zoneinfo, including the clock-change hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from pipelines.localtime import local_midnight_utc, local_to_utc

pytestmark = pytest.mark.unit
LONDON = ZoneInfo("Europe/London")


def _convert(*values: str, ambiguous: str = "earlier"):
    return local_to_utc(np.array(values, dtype="datetime64[s]"), "Europe/London", ambiguous=ambiguous)


def test_summer_and_winter_offsets():
    converted = _convert("2024-01-15T12:00:00", "2024-07-15T12:00:00")
    assert [str(value) for value in converted.utc] == ["2024-01-15T12:00:00", "2024-07-15T11:00:00"]


def test_missing_hour_is_flagged_not_shifted_silently():
    converted = _convert("2024-03-31T00:59:59", "2024-03-31T01:00:00", "2024-03-31T01:59:59", "2024-03-31T02:00:00")
    assert converted.nonexistent.tolist() == [False, True, True, False]
    assert str(converted.utc[3]) == "2024-03-31T01:00:00"


@pytest.mark.parametrize("policy, expected", [("earlier", "2024-10-27T00:30:00"), ("later", "2024-10-27T01:30:00")])
def test_repeated_hour_follows_the_policy(policy, expected):
    converted = _convert("2024-10-27T01:30:00", ambiguous=policy)
    assert converted.ambiguous.tolist() == [True]
    assert str(converted.utc[0]) == expected


def test_snapshot_cutoff_is_local_midnight():
    assert local_midnight_utc(dt.date(2024, 6, 10), "Europe/London").isoformat() == "2024-06-09T23:00:00+00:00"
    assert local_midnight_utc(dt.date(2024, 12, 10), "Europe/London").isoformat() == "2024-12-10T00:00:00+00:00"


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2037, 12, 31)))
def test_agrees_with_zoneinfo_everywhere(local):
    local = local.replace(microsecond=0)
    converted = _convert(local.isoformat())
    expected_earlier = local.replace(tzinfo=LONDON, fold=0)
    round_trip = expected_earlier.astimezone(dt.timezone.utc).astimezone(LONDON).replace(tzinfo=None)
    is_missing = round_trip != local
    assert bool(converted.nonexistent[0]) == is_missing
    if not is_missing:
        utc = expected_earlier.astimezone(dt.timezone.utc).replace(tzinfo=None)
        assert str(converted.utc[0]) == utc.isoformat()
        later = local.replace(tzinfo=LONDON, fold=1).utcoffset()
        assert bool(converted.ambiguous[0]) == (later != expected_earlier.utcoffset())


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2037, 12, 31)))
def test_every_instant_comes_back_from_its_wall_clock_time(instant):
    """UTC -> London wall clock -> UTC is the identity, given the occurrence the wall clock meant."""
    instant = instant.replace(microsecond=0, tzinfo=dt.timezone.utc)
    wall = instant.astimezone(LONDON)
    policy = "later" if wall.fold else "earlier"
    converted = _convert(wall.replace(tzinfo=None).isoformat(), ambiguous=policy)
    assert str(converted.utc[0]) == instant.replace(tzinfo=None).isoformat()
    assert not converted.nonexistent[0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(
    st.datetimes(min_value=dt.datetime(2001, 1, 1), max_value=dt.datetime(2037, 12, 31)),
    # the hours around each change, where a vectorised mistake would show
    st.builds(lambda day, seconds: dt.datetime(2024, 3, 31) + dt.timedelta(days=day, seconds=seconds),
              st.sampled_from([0, 210]), st.integers(0, 3 * 3600)),
), max_size=20), st.sampled_from(["earlier", "later"]))
def test_a_column_converts_as_its_values_one_by_one(values, policy):
    values = [value.replace(microsecond=0).isoformat() for value in values]
    together = _convert(*values, ambiguous=policy) if values else None
    for index, value in enumerate(values):
        alone = _convert(value, ambiguous=policy)
        assert together.utc[index] == alone.utc[0]
        assert together.nonexistent[index] == alone.nonexistent[0]
        assert together.ambiguous[index] == alone.ambiguous[0]
