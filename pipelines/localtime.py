"""Europe/London wall-clock times -> UTC instants, with the clock-change hours handled on purpose.

Source systems export local wall-clock time. Twice a year that is not a clean function of the
instant:

- **The missing hour** (last Sunday of March, 01:00-01:59 local does not exist). A time in it
  cannot have been read off a correct clock, so it is a data error. Policy ``quarantine``
  (default) sends the row to quarantine with its reason; ``shift_forward`` reads it with the
  offset in force before the change (01:30 -> 01:30 UTC, i.e. 02:30 BST, as a clock that had not
  yet been put forward would mean) and notes it on the row.
- **The repeated hour** (last Sunday of October, 01:00-01:59 local happens twice). Policy
  ``earlier`` (default) takes the first occurrence (BST), ``later`` the second (GMT); either
  way the row carries a ``clock_change_note`` so the choice is visible; ``quarantine`` rejects
  the row. The 24-hour rule is only ever affected by at most one hour on such a row.

The conversion is vectorised: it works on numpy ``datetime64[s]`` arrays with the zone's
transitions computed once per year range, so a million rows take milliseconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np

NOTE_AMBIGUOUS_EARLIER = "repeated clock-change hour: first (summer time) instant used"
NOTE_AMBIGUOUS_LATER = "repeated clock-change hour: second (winter time) instant used"
NOTE_NONEXISTENT_SHIFTED = "missing clock-change hour: read with the offset before the change"
REASON_NONEXISTENT = "local time falls in the missing clock-change hour (clocks went forward)"
REASON_AMBIGUOUS = "local time falls in the repeated clock-change hour (clocks went back)"


@dataclass(frozen=True)
class Transition:
    at_utc: np.datetime64  # the instant of the change
    offset_before: int  # seconds east of UTC before the change
    offset_after: int


@lru_cache(maxsize=64)
def zone_transitions(zone_name: str, first_year: int, last_year: int) -> tuple[Transition, ...]:
    """Offset changes of a zone between two years (inclusive), found hour by hour then refined."""
    zone = ZoneInfo(zone_name)
    start = dt.datetime(first_year - 1, 12, 31, tzinfo=dt.timezone.utc)
    end = dt.datetime(last_year + 1, 1, 2, tzinfo=dt.timezone.utc)
    transitions = []
    step = dt.timedelta(hours=1)
    instant = start
    previous = instant.astimezone(zone).utcoffset()
    while instant < end:
        following = instant + step
        offset = following.astimezone(zone).utcoffset()
        if offset != previous:
            # Zone changes happen on whole minutes; refine within the hour.
            low, high = instant, following
            while high - low > dt.timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == previous:
                    low = middle
                else:
                    high = middle
            change_at = high.replace(second=0, microsecond=0)
            transitions.append(
                Transition(
                    at_utc=np.datetime64(change_at.replace(tzinfo=None), "s"),
                    offset_before=int(previous.total_seconds()),
                    offset_after=int(offset.total_seconds()),
                )
            )
            previous = offset
        instant = following
    return tuple(transitions)


@dataclass
class ConvertedTimes:
    utc: np.ndarray  # datetime64[s], NaT where the input was NaT or the row is rejected
    nonexistent: np.ndarray  # bool
    ambiguous: np.ndarray  # bool


def local_to_utc(local: np.ndarray, zone_name: str, *, ambiguous: str = "earlier") -> ConvertedTimes:
    """Convert naive local wall-clock datetime64[s] values to UTC instants.

    Nonexistent times are read with the offset before the change (the caller decides whether to
    keep or quarantine them, using the returned mask); ambiguous ones with the first or second
    occurrence, by ``ambiguous`` ('earlier' or 'later'; 'quarantine' behaves as 'earlier' here).
    """
    local = np.asarray(local, dtype="datetime64[s]")
    valid = ~np.isnat(local)
    nonexistent = np.zeros(local.shape, dtype=bool)
    ambiguous_mask = np.zeros(local.shape, dtype=bool)
    if not valid.any():
        return ConvertedTimes(local.copy(), nonexistent, ambiguous_mask)
    years = local[valid].astype("datetime64[Y]").astype(int) + 1970
    transitions = zone_transitions(zone_name, int(years.min()), int(years.max()))
    zone = ZoneInfo(zone_name)
    reference = dt.datetime(int(years.min()) - 1, 12, 31, tzinfo=dt.timezone.utc)
    base_offset = int(reference.astimezone(zone).utcoffset().total_seconds())

    local_seconds = local.astype("int64")
    offsets = np.full(local.shape, base_offset, dtype="int64")
    for transition in transitions:
        change_utc = transition.at_utc.astype("int64")
        # Wall-clock times at or after this point are unambiguously after the change...
        after_start = change_utc + max(transition.offset_before, transition.offset_after)
        # ...and those from this point up to after_start are in the gap or the overlap.
        window_start = change_utc + min(transition.offset_before, transition.offset_after)
        offsets = np.where(local_seconds >= after_start, transition.offset_after, offsets)
        in_window = valid & (local_seconds >= window_start) & (local_seconds < after_start)
        if transition.offset_after > transition.offset_before:
            nonexistent |= in_window
            offsets = np.where(in_window, transition.offset_before, offsets)
        else:
            ambiguous_mask |= in_window
            chosen = transition.offset_after if ambiguous == "later" else transition.offset_before
            offsets = np.where(in_window, chosen, offsets)
    utc_seconds = local_seconds - offsets
    utc = np.where(valid, utc_seconds, np.datetime64("NaT", "s").astype("int64")).astype("datetime64[s]")
    return ConvertedTimes(utc=utc, nonexistent=nonexistent, ambiguous=ambiguous_mask)


def local_midnight_utc(day: dt.date, zone_name: str) -> dt.datetime:
    """The UTC instant at which a local calendar day starts (a snapshot's cut-off)."""
    local = dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone_name))
    return local.astimezone(dt.timezone.utc)
