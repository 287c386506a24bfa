"""The simulated force: true events, the records the force made of them, and their state at any
snapshot cut-off.

How a world is made (all vectorised with numpy; one random generator per week):

1. **Reports.** For each week (a *block* of seven local days starting on a Monday) calls,
   referrals and other-route crimes arrive at UTC instants drawn with the local hour-of-day,
   weekday and seasonal rhythm. Working in UTC is what makes October's repeated hour occur
   naturally and spring's missing hour never occur.
2. **True events.** A crime-related call is about an offence (group, Home Office code, victims,
   domestic abuse, hate) or, innocently, about something that was not a crime; some calls are
   repeat calls about the same report. Referrals may disclose an offence; other-route crimes
   reach the crime system directly.
3. **Failures.** Within each block and crime group, exactly the profile's share of true crimes
   (victims) is lost: events are drawn without replacement, weighted by route and domestic-abuse
   risk, each with a failure mode possible for it (see ``profiles.FAILURE_MODES``). Stochastic
   rounding keeps small groups unbiased. Recorded events may be recorded late.
4. **Records.** Incidents, crime records and referrals with every lifecycle instant (closed,
   reclassified, recorded, cancelled, deleted); no change happens later than
   ``LIFECYCLE_DAYS`` after the report.
5. **Snapshots.** The state of every record at a cut-off is computed from those instants, so a
   snapshot's content depends only on the world, never on the range asked for: the world is a
   function of (force, profile, preset, scale, seed) alone, and running one day or a month gives
   the same files for the same dates. Crime references are numbered in recording order within
   the year, so the world is generated from the start of the year (minus the lifecycle) even
   when only December is asked for.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import (
    CANCELLATION_AUTHORITIES,
    CHANNELS,
    CRIME_FLAGS,
    CRIME_STATUSES,
    REFERRAL_TEAMS,
    SOURCE_AGENCIES,
)
from pipelines.reference import load_reference

from . import people
from . import profiles as P

SECONDS_PER_HOUR = 3_600
SECONDS_PER_DAY = 86_400
NEVER = np.iinfo(np.int64).max  # instant of an event that does not happen
NONE = -1  # "no value" in integer-coded columns
UNIX_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
BLOCK_DAYS = 7
BLOCK_EPOCH_DAY = date(2000, 1, 3).toordinal() - UNIX_EPOCH_ORDINAL  # a Monday
BLOCK_SEED_OFFSET = 1_000_000  # keeps block numbers positive in the seed
LIFECYCLE_SECONDS = P.LIFECYCLE_DAYS * SECONDS_PER_DAY
# Digits of the sequence numbers in references (more only if a day or year overflows them).
INCIDENT_SEQUENCE_DIGITS, CRIME_SEQUENCE_DIGITS, REFERRAL_SEQUENCE_DIGITS = 5, 6, 4

ROUTE_INCIDENT, ROUTE_REFERRAL, ROUTE_OTHER = 0, 1, 2
FAILURE_CODES = {mode: code for code, mode in enumerate(P.FAILURE_MODES)}
(F_DA_DOMESTIC, F_DOWNGRADE, F_ONE_CRIME, F_REFERRAL, F_RAPE_NO_CRIME, F_WRONG_CANCEL,
 F_LATE) = (FAILURE_CODES[mode] for mode in (
    P.DA_CLOSED_AS_DOMESTIC, P.DOWNGRADE, P.ONE_CRIME_FOR_SEVERAL_VICTIMS,
    P.REFERRAL_NOT_RECORDED, P.RAPE_NO_CRIME_NO_N100, P.WRONG_CANCELLATION, P.LATE_RECORDING))
N_UNRECORDED_MODES = len(P.UNRECORDED_FAILURE_MODES)

STATUS_RECORDED, STATUS_TRANSFERRED, STATUS_CANCELLED = (
    CRIME_STATUSES.index(status) for status in ("RECORDED", "TRANSFERRED", "CANCELLED"))
AUTHORITY = {name: code for code, name in enumerate(CANCELLATION_AUTHORITIES)}
FLAG_DA, FLAG_HATE = (1 << CRIME_FLAGS.index("DA")), (1 << CRIME_FLAGS.index("HATE"))


# --- Europe/London clock ------------------------------------------------------------------------
def _last_sunday_utc_1am(years: np.ndarray, month: int) -> np.ndarray:
    """01:00 UTC on the last Sunday of `month`: when UK clocks change (since 1996)."""
    next_month = (years - 1970) * 12 + month  # months since 1970-01, of the month after
    last_day = next_month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64) - 1
    weekday = (last_day + 3) % 7  # Monday = 0; 1970-01-01 was a Thursday
    last_sunday = last_day - (weekday - 6) % 7
    return last_sunday * SECONDS_PER_DAY + SECONDS_PER_HOUR


def london_offset(utc_seconds: np.ndarray) -> np.ndarray:
    """Seconds to add to a UTC instant to get Europe/London wall-clock time (0 or 3600)."""
    utc_seconds = np.asarray(utc_seconds, dtype=np.int64)
    if utc_seconds.size == 0:
        return np.zeros(0, dtype=np.int64)
    first, last = _civil(np.array([utc_seconds.min(), utc_seconds.max()]) // SECONDS_PER_DAY)[0]
    years = np.arange(first, last + 1)
    # Clock changes of the years spanned, in order: an instant is in summer time when an odd
    # number of changes precede it.
    changes = np.column_stack([_last_sunday_utc_1am(years, 3), _last_sunday_utc_1am(years, 10)]).ravel()
    return np.where(np.searchsorted(changes, utc_seconds, side="right") % 2 == 1, SECONDS_PER_HOUR, 0)


def to_local(utc_seconds: np.ndarray) -> np.ndarray:
    return utc_seconds + london_offset(utc_seconds)


def local_midnight_utc(day_numbers: np.ndarray) -> np.ndarray:
    """The UTC instant of 00:00 Europe/London on each day (days since 1970-01-01).

    Midnight is never inside a clock change (those happen at 01:00 UTC), so midnight is an hour
    earlier in UTC exactly when the hour before it is already summer time.
    """
    naive = np.asarray(day_numbers, dtype=np.int64) * SECONDS_PER_DAY
    earlier = naive - SECONDS_PER_HOUR
    return np.where(london_offset(earlier) == SECONDS_PER_HOUR, earlier, naive)


def cutoff_utc(day: date) -> int:
    """Cut-off of the snapshot of `day`: 00:00 Europe/London at the start of that day."""
    return int(local_midnight_utc(np.array([day.toordinal() - UNIX_EPOCH_ORDINAL]))[0])


def local_day_number(utc_seconds: np.ndarray) -> np.ndarray:
    return to_local(utc_seconds) // SECONDS_PER_DAY


def _civil(day_numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, month, day) of days since 1970-01-01, in integer arithmetic (H. Hinnant's
    civil_from_days: much faster than numpy's datetime64 conversions on millions of rows)."""
    z = np.asarray(day_numbers, dtype=np.int64) + 719_468
    era = z // 146_097
    day_of_era = z - era * 146_097
    year_of_era = (day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_from_march = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * month_from_march + 2) // 5 + 1
    month = np.where(month_from_march < 10, month_from_march + 3, month_from_march - 9)
    year = year_of_era + era * 400 + (month <= 2)
    return year, month, day


def format_local(utc_seconds: np.ndarray) -> pa.Array:
    """`YYYY-MM-DD HH:MM:SS` Europe/London wall-clock strings of UTC instants."""
    local = to_local(np.asarray(utc_seconds, dtype=np.int64))
    year, month, day = _civil(local // SECONDS_PER_DAY)
    seconds = local % SECONDS_PER_DAY
    matrix = np.empty((len(local), 19), dtype=np.uint8)
    matrix[:, 0:4] = people.digits_matrix(year, 4)
    matrix[:, 5:7] = people.digits_matrix(month, 2)
    matrix[:, 8:10] = people.digits_matrix(day, 2)
    matrix[:, 11:13] = people.digits_matrix(seconds // SECONDS_PER_HOUR, 2)
    matrix[:, 14:16] = people.digits_matrix(seconds // 60 % 60, 2)
    matrix[:, 17:19] = people.digits_matrix(seconds % 60, 2)
    matrix[:, [4, 7]] = ord("-")
    matrix[:, 10] = ord(" ")
    matrix[:, [13, 16]] = ord(":")
    return people.strings_from_matrix(matrix)


# --- Reference codes as integer indices ---------------------------------------------------------
class Codebook:
    """The reference lists turned into arrays, and the profiles' tables checked against them."""

    def __init__(self) -> None:
        incident_rows = load_reference("incident_codes")
        self.incident_codes = tuple(row["code"] for row in incident_rows)
        self.incident = {code: i for i, code in enumerate(self.incident_codes)}
        hints = {row["code"]: row["crime_group_hint"] for row in incident_rows}
        indicative = {row["code"]: row["crime_indicative"] == "true" for row in incident_rows}
        self.qualifier_codes = tuple(row["code"] for row in load_reference("incident_qualifiers"))
        self.qualifier_bit = {code: 1 << i for i, code in enumerate(self.qualifier_codes)}
        offence_rows = load_reference("ho_offence_codes")
        self.offence_codes = tuple(row["code"] for row in offence_rows)
        self.offence = {code: i for i, code in enumerate(self.offence_codes)}
        self.n100 = self.offence["N100"]
        self.groups = tuple(dict.fromkeys(
            row["crime_group"] for row in offence_rows if row["code"] != "N100"))
        self.group = {name: i for i, name in enumerate(self.groups)}
        n_offences = len(self.offence_codes)
        self.offence_group = np.array(
            [self.group.get(row["crime_group"], NONE) for row in offence_rows], dtype=np.int8)
        subgroups = [row["subgroup"] for row in offence_rows]
        self.offence_injury_share = np.zeros(n_offences)
        self.offence_is_rape = np.array([row["rape"] == "true" for row in offence_rows])
        self.offence_serious = np.isin(self.offence_codes, P.SERIOUS_VIOLENCE_CODES)
        self.offence_child = np.isin(self.offence_codes, P.CHILD_VICTIM_CODES)
        self.offence_racial = np.isin(self.offence_codes, P.RACIALLY_AGGRAVATED_CODES)
        for i, subgroup in enumerate(subgroups):
            group = offence_rows[i]["crime_group"]
            self.offence_injury_share[i] = P.INJURY_SHARE.get(subgroup, P.INJURY_SHARE.get(group, 0.0))
        self.offence_weapon_share = np.array([
            max(P.WEAPON_SHARE.get(row["crime_group"], 0.0),
                P.WEAPON_SHARE["SERIOUS"] if row["code"] in P.SERIOUS_VIOLENCE_CODES else 0.0)
            for row in offence_rows])
        self.offence_incident_code = np.full(n_offences, NONE, dtype=np.int16)
        for offence, incident_code in P.OFFENCE_INCIDENT_CODE.items():
            group = offence_rows[self.offence[offence]]["crime_group"]
            if hints[incident_code] != group or not indicative[incident_code]:
                raise ValueError(f"profiles: {incident_code} does not indicate {group} ({offence})")
            self.offence_incident_code[self.offence[offence]] = self.incident[incident_code]
        for group_name, weights in P.OFFENCE_WEIGHTS.items():
            for offence in weights:
                if offence_rows[self.offence[offence]]["crime_group"] != group_name:
                    raise ValueError(f"profiles: offence {offence} is not in {group_name}")
        self.offence_by_group = ConditionalTable(
            len(self.groups),
            [(self.group[g], self.offence[o], w)
             for g, weights in P.OFFENCE_WEIGHTS.items() for o, w in weights.items()])
        self.cancellation_codes = tuple(row["code"] for row in load_reference("cancellation_codes"))
        self.cancellation = {code: i for i, code in enumerate(self.cancellation_codes)}

    def group_vector(self, mapping, default: float = 0.0) -> np.ndarray:
        return np.array([mapping.get(name, default) for name in self.groups], dtype=float)

    def incident_weights(self, mapping) -> tuple[np.ndarray, np.ndarray]:
        codes = np.array([self.incident[code] for code in mapping], dtype=np.int16)
        weights = np.array(list(mapping.values()), dtype=float)
        return codes, weights / weights.sum()


class ConditionalTable:
    """Draws an item given a category, with per-category weights, for many rows at once."""

    def __init__(self, n_categories: int, rows: list[tuple[int, int, float]]) -> None:
        rows = sorted(rows, key=lambda row: row[0])
        categories = np.array([row[0] for row in rows], dtype=float)
        weights = np.array([row[2] for row in rows], dtype=float)
        self.items = np.array([row[1] for row in rows], dtype=np.int64)
        cumulative = np.zeros(len(rows))
        for category in range(n_categories):
            mask = categories == category
            if mask.any():
                cumulative[mask] = np.cumsum(weights[mask]) / weights[mask].sum()
        self.keys = categories + cumulative  # category c's items occupy (c, c+1]

    def draw(self, rng: np.random.Generator, categories: np.ndarray) -> np.ndarray:
        position = np.searchsorted(self.keys, categories + rng.random(len(categories)), side="right")
        return self.items[np.minimum(position, len(self.items) - 1)]


def _choice(rng: np.random.Generator, values: np.ndarray, probabilities: np.ndarray, size: int) -> np.ndarray:
    return values[np.searchsorted(np.cumsum(probabilities), rng.random(size) * probabilities.sum(),
                                  side="right").clip(0, len(values) - 1)]


def _segments(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Flat indices start[i] .. start[i]+count[i]-1 for every i, in order."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts) + np.arange(total)


def _seed_key(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


# --- The world's parameters ---------------------------------------------------------------------
@dataclass(frozen=True)
class WorldSpec:
    force: str
    profile: P.Profile
    preset: P.VolumePreset
    scale: float
    seed: int

    @property
    def people(self) -> int:
        return max(2_000, int(self.preset.people * self.scale))

    @property
    def beats(self) -> int:
        return len(people.beat_codes(self.force, self.profile.region, self.preset.beats))


class _Model:
    """Everything derived once from the spec that every block uses."""

    def __init__(self, spec: WorldSpec) -> None:
        self.spec = spec
        self.book = book = Codebook()
        profile, preset = spec.profile, spec.preset
        self.n_groups = len(book.groups)
        per_day = spec.scale / 365.25
        duplicate = P.DUPLICATE_CALL_SHARE
        crime_share = preset.crime_related_share
        # Originals are drawn, repeat calls added: solve so the totals match the preset.
        self.crime_original_share = crime_share / (1 + duplicate - crime_share * duplicate)
        self.incident_rate = preset.incidents_per_year * per_day / (
            1 + self.crime_original_share * duplicate)
        self.referral_rate = preset.referrals_per_year * per_day
        self.other_rate = preset.other_route_crimes_per_year * per_day
        self.incident_group_mix = book.group_vector(P.INCIDENT_ROUTE_GROUP_MIX)
        self.referral_group_mix = book.group_vector(P.REFERRAL_ROUTE_GROUP_MIX)
        self.other_group_mix = book.group_vector(P.OTHER_ROUTE_GROUP_MIX)
        self.da_share = book.group_vector(P.DOMESTIC_ABUSE_SHARE)
        self.referral_da_share = book.group_vector(P.REFERRAL_DOMESTIC_ABUSE_SHARE)
        self.hate_share = book.group_vector(P.HATE_SHARE)
        self.multi_share = book.group_vector(P.MULTI_VICTIM_SHARE)
        self.group_risk = book.group_vector(P.GROUP_UNRECORDED_RISK, 1.0)
        self.fixed_rate = book.group_vector(profile.group_rates, np.nan)
        self.failure_weights = np.array(
            [profile.failure_weights.get(mode, 0.0) for mode in P.UNRECORDED_FAILURE_MODES])
        self.route_risk = np.array([profile.route_risk.get(route, 1.0) for route in P.ROUTES])
        self.violence = book.group[P.VIOLENCE]
        self.sexual = book.group[P.SEXUAL]
        self.miscellaneous = book.group[P.MISCELLANEOUS]
        self.non_crime_opening = book.incident_weights(P.NON_CRIME_OPENING_WEIGHTS)
        self.non_crime_closing = book.incident_weights(P.NON_CRIME_CLOSING_WEIGHTS)
        self.channel_crime = self._enum_weights(CHANNELS, P.CHANNEL_WEIGHTS_CRIME)
        self.channel_non_crime = self._enum_weights(CHANNELS, P.CHANNEL_WEIGHTS_NON_CRIME)
        self.team_non_disclosing = self._enum_weights(REFERRAL_TEAMS, P.REFERRAL_TEAM_NON_DISCLOSING)
        self.agency_by_team = ConditionalTable(
            len(REFERRAL_TEAMS),
            [(REFERRAL_TEAMS.index(team), SOURCE_AGENCIES.index(agency), weight)
             for team, weights in P.REFERRAL_AGENCY_BY_TEAM.items()
             for agency, weight in weights.items()])
        self.hours_weekday = np.array(P.HOUR_SHARES_WEEKDAY)
        self.hours_weekend = np.array(P.HOUR_SHARES_WEEKEND)
        self.hours_office = np.array(P.HOUR_SHARES_OFFICE)
        self.weekday_volume = np.array(P.WEEKDAY_VOLUME)
        self.weekday_office = np.array(P.WEEKDAY_OFFICE)
        self.n_beats = spec.beats
        beat_rng = np.random.default_rng([spec.seed, _seed_key(spec.force), 7])
        beat_weights = beat_rng.gamma(2.0, size=self.n_beats)  # busy town centres, quiet villages
        self.beat_probabilities = beat_weights / beat_weights.sum()
        self.code = book.incident
        self.q = book.qualifier_bit

    @staticmethod
    def _enum_weights(values: tuple[str, ...], mapping) -> tuple[np.ndarray, np.ndarray]:
        codes = np.array([values.index(value) for value in mapping], dtype=np.int8)
        weights = np.array(list(mapping.values()), dtype=float)
        return codes, weights / weights.sum()

    def rng(self, block: int) -> np.random.Generator:
        spec = self.spec
        return np.random.default_rng(np.random.SeedSequence([
            spec.seed, _seed_key(spec.force), _seed_key(spec.profile.name),
            _seed_key(spec.preset.name), block + BLOCK_SEED_OFFSET]))

    def expected_unrecorded(self, victims: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Victims to leave unrecorded in each group: the profile's pinned group rates, and the
        rest of the overall shortfall spread over the other groups by volume x risk, never
        more than a group's events can lose (water-filling)."""
        expected = np.zeros(self.n_groups)
        fixed = ~np.isnan(self.fixed_rate)
        expected[fixed] = np.minimum(victims[fixed] * (1 - self.fixed_rate[fixed]), capacity[fixed])
        remaining = victims.sum() * (1 - self.spec.profile.recording_rate) - expected[fixed].sum()
        free = ~fixed & (victims > 0) & (capacity > 0)
        while remaining > 0 and free.any():
            weight = np.where(free, victims * self.group_risk, 0.0)
            share = remaining * weight / weight.sum()
            over = free & (share > capacity)
            if not over.any():
                expected[free] = share[free]
                break
            expected[over] = capacity[over]
            remaining -= capacity[over].sum()
            free &= ~over
        return expected

    def people_draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        # Squaring a uniform concentrates draws on low indices: some people are victims again
        # and again (repeat victimisation), most appear once.
        return (self.spec.people * rng.random(size) ** 2).astype(np.int64)


# --- One block (a week) of the world ------------------------------------------------------------
def _generate_block(model: _Model, block: int) -> dict[str, dict[str, np.ndarray]]:
    """Reports made during one block of seven local days, and every record that follows."""
    spec, book, rng = model.spec, model.book, model.rng(block)
    profile = spec.profile
    code, q = model.code, model.q
    first_day = BLOCK_EPOCH_DAY + block * BLOCK_DAYS
    midnights = local_midnight_utc(first_day + np.arange(BLOCK_DAYS + 1))
    hour_starts = np.arange(midnights[0], midnights[-1], SECONDS_PER_HOUR, dtype=np.int64)
    local = to_local(hour_starts)
    local_hour = local // SECONDS_PER_HOUR % 24
    local_day = local // SECONDS_PER_DAY
    weekday = (local_day + 3) % 7
    year_start = local_day.astype("datetime64[D]").astype("datetime64[Y]").astype("datetime64[D]")
    day_of_year = (local_day - year_start.astype(np.int64)) + 1
    season = 1 + P.SEASONAL_AMPLITUDE * np.cos(
        2 * np.pi * (day_of_year - P.SEASONAL_PEAK_DAY_OF_YEAR) / 365.25)
    call_shape = np.where(weekday >= 5, model.hours_weekend[local_hour],
                          model.hours_weekday[local_hour]) * model.weekday_volume[weekday] * season
    office_shape = model.hours_office[local_hour] * model.weekday_office[weekday] * season

    def arrivals(shape: np.ndarray, per_day: float) -> np.ndarray:
        expected = shape * per_day
        count = rng.poisson(expected.sum())
        hours = _choice(rng, np.arange(len(shape)), expected, count)
        return np.sort(hour_starts[hours] + rng.integers(0, SECONDS_PER_HOUR, count))

    def lognormal_seconds(median_seconds: float, sigma: float, size: int) -> np.ndarray:
        return (median_seconds * np.exp(sigma * rng.standard_normal(size))).astype(np.int64)

    def uniform_seconds(days: tuple[float, float], size: int, unit: int = SECONDS_PER_DAY) -> np.ndarray:
        return (rng.uniform(days[0], days[1], size) * unit).astype(np.int64)

    # ---- incidents: calls, some about crimes ----
    created = arrivals(call_shape, model.incident_rate)
    n_base = len(created)
    crime_related = rng.random(n_base) < model.crime_original_share
    originals = np.flatnonzero(crime_related)
    n_orig = len(originals)
    truly = rng.random(n_orig) >= P.NOT_A_CRIME_SHARE_OF_CRIME_CODED
    group = _choice(rng, np.arange(model.n_groups), model.incident_group_mix, n_orig)
    offence = book.offence_by_group.draw(rng, group)
    da = rng.random(n_orig) < model.da_share[group]
    hate = (rng.random(n_orig) < model.hate_share[group]) | book.offence_racial[offence]
    multi = truly & (rng.random(n_orig) < model.multi_share[group])
    extra = _choice(rng, np.array(P.EXTRA_VICTIMS), np.array(P.EXTRA_VICTIMS_WEIGHTS), n_orig)
    victims_per_original = 1 + np.where(multi, extra, 0)
    rape = book.offence_is_rape[offence]
    serious = book.offence_serious[offence]

    # ---- referrals ----
    received = arrivals(office_shape, model.referral_rate)
    n_ref = len(received)
    discloses = rng.random(n_ref) < P.REFERRAL_DISCLOSES_SHARE
    ref_truly = discloses & (rng.random(n_ref) < profile.referral_disclosure_accuracy)
    ref_group = _choice(rng, np.arange(model.n_groups), model.referral_group_mix, n_ref)
    ref_offence = book.offence_by_group.draw(rng, ref_group)
    ref_da = rng.random(n_ref) < model.referral_da_share[ref_group]
    ref_hate = book.offence_racial[ref_offence]

    # ---- other-route crimes ----
    other_reported = arrivals(call_shape, model.other_rate)
    n_other = len(other_reported)
    other_group = _choice(rng, np.arange(model.n_groups), model.other_group_mix, n_other)
    other_offence = book.offence_by_group.draw(rng, other_group)
    other_da = rng.random(n_other) < model.da_share[other_group]
    other_hate = (rng.random(n_other) < model.hate_share[other_group]) | book.offence_racial[other_offence]

    # ---- true events and their failures ----
    true_orig = np.flatnonzero(truly)
    true_ref = np.flatnonzero(ref_truly)
    ev_route = np.concatenate([np.full(len(true_orig), ROUTE_INCIDENT), np.full(len(true_ref), ROUTE_REFERRAL),
                               np.full(n_other, ROUTE_OTHER)]).astype(np.int8)
    ev_source = np.concatenate([true_orig, true_ref, np.arange(n_other)])  # row within its route
    ev_group = np.concatenate([group[true_orig], ref_group[true_ref], other_group]).astype(np.int64)
    ev_offence = np.concatenate([offence[true_orig], ref_offence[true_ref], other_offence])
    ev_victims = np.concatenate([victims_per_original[true_orig], np.ones(len(true_ref) + n_other, np.int64)])
    ev_da = np.concatenate([da[true_orig], ref_da[true_ref], other_da])
    ev_hate = np.concatenate([hate[true_orig], ref_hate[true_ref], other_hate])
    ev_report = np.concatenate([created[originals[true_orig]], received[true_ref], other_reported])
    ev_rape = book.offence_is_rape[ev_offence]
    ev_serious = book.offence_serious[ev_offence]
    n_ev = len(ev_route)
    on_incident = ev_route == ROUTE_INCIDENT

    eligible = np.zeros((n_ev, N_UNRECORDED_MODES), dtype=bool)
    eligible[:, F_DA_DOMESTIC] = on_incident & ev_da & (ev_group == model.violence)
    # A rape report left with no record is, whatever it was closed as, a rape with no crime and
    # no N100: that mode, not a plain downgrade.
    eligible[:, F_DOWNGRADE] = on_incident & ~ev_rape
    eligible[:, F_ONE_CRIME] = on_incident & (ev_victims >= 2)
    eligible[:, F_REFERRAL] = ev_route == ROUTE_REFERRAL
    eligible[:, F_RAPE_NO_CRIME] = on_incident & ev_rape
    eligible[:, F_WRONG_CANCEL] = ev_rape | ev_serious
    weights = eligible * model.failure_weights
    total_weight = weights.sum(axis=1)
    pick = rng.random(n_ev) * total_weight
    mode = np.argmax(np.cumsum(weights, axis=1) > pick[:, None], axis=1)
    mode = np.where(total_weight > 0, mode, NONE)
    loss = np.where(mode == F_ONE_CRIME, ev_victims - 1, ev_victims)
    loss = np.where(mode == NONE, 0, loss)

    victims_by_group = np.bincount(ev_group, weights=ev_victims, minlength=model.n_groups)
    capacity = np.bincount(ev_group, weights=loss, minlength=model.n_groups)
    expected = model.expected_unrecorded(victims_by_group, capacity)
    quota = np.floor(expected) + (rng.random(model.n_groups) < expected - np.floor(expected))
    selection_weight = model.route_risk[ev_route] * np.where(ev_da, profile.domestic_abuse_risk, 1.0)
    key = rng.exponential(size=n_ev) / selection_weight  # weighted sampling without replacement
    key[loss == 0] = np.inf
    order = np.lexsort((key, ev_group))
    ordered_loss = loss[order]
    ordered_group = ev_group[order]
    loss_before_group = np.concatenate([[0.0], np.cumsum(capacity)])[:-1]
    within_group = np.cumsum(ordered_loss) - loss_before_group[ordered_group]
    # Take events in key order until the group's quota is met; an event is taken if its
    # midpoint fits (unbiased when events lose several victims).
    taken = (ordered_loss > 0) & (within_group - ordered_loss / 2 <= quota[ordered_group])
    failed = np.zeros(n_ev, dtype=bool)
    failed[order] = taken
    ev_failure = np.where(failed, mode, NONE)
    recorded_ok = ev_failure == NONE
    late = recorded_ok & (rng.random(n_ev) < profile.late_share)
    ev_failure[late] = F_LATE
    ev_failure = ev_failure.astype(np.int8)

    # ---- victims and callers ----
    # Every crime-related original has victims: its true victims, or the alleged one.
    victims_per_original = np.where(truly, victims_per_original, 1)
    original_victims = model.people_draw(rng, int(victims_per_original.sum()))
    original_victim_start = np.cumsum(victims_per_original) - victims_per_original

    # ---- repeat calls (duplicates) about crime-related originals ----
    duplicated = np.flatnonzero(rng.random(n_orig) < P.DUPLICATE_CALL_SHARE)
    n_dup = len(duplicated)
    parent_created = created[originals[duplicated]]
    day_end = midnights[np.searchsorted(midnights, parent_created, side="right")]
    # A repeat call comes the same local day (its reference carries the day): one that would
    # come after midnight comes at a random moment of the rest of the day instead.
    dup_delay = uniform_seconds(P.DUPLICATE_CALL_AFTER_MINUTES, n_dup, 60)
    rest_of_day = day_end - 1 - parent_created
    dup_delay = np.where(dup_delay > rest_of_day, (rng.random(n_dup) * rest_of_day).astype(np.int64), dup_delay)
    dup_created = parent_created + dup_delay

    # ---- incident attributes, in generation order: base rows then duplicates ----
    n_inc = n_base + n_dup
    inc_created = np.concatenate([created, dup_created])
    is_orig = np.zeros(n_inc, dtype=bool)
    is_orig[originals] = True
    orig_of_row = np.full(n_inc, NONE, dtype=np.int64)  # index into the originals' arrays
    orig_of_row[originals] = np.arange(n_orig)
    orig_of_row[n_base:] = duplicated
    is_dup = np.zeros(n_inc, dtype=bool)
    is_dup[n_base:] = True
    non_crime = ~is_orig & ~is_dup
    n_non_crime = int(non_crime.sum())

    channel = np.empty(n_inc, dtype=np.int8)
    crime_rows = ~non_crime
    channel[crime_rows] = _choice(rng, *model.channel_crime, int(crime_rows.sum()))
    channel[non_crime] = _choice(rng, *model.channel_non_crime, n_non_crime)

    # Opening codes. Crime-related calls open with the code of the offence described;
    # domestic violence as CR-DAVIOL, or as a domestic incident with an injury qualifier.
    orig_opening = book.offence_incident_code[offence].astype(np.int16)
    domestic_violence = da & (group == model.violence)
    orig_opening[domestic_violence] = code[P.DOMESTIC_VIOLENCE_INCIDENT_CODE]
    opened_as_psw = domestic_violence & (rng.random(n_orig) < P.DOMESTIC_OPENED_AS_PSW_SHARE)
    orig_opening[opened_as_psw] = code["PSW-DOMESTIC"]
    crime_closing = book.offence_incident_code[offence].astype(np.int16)
    crime_closing[domestic_violence] = code[P.DOMESTIC_VIOLENCE_INCIDENT_CODE]

    # Closing codes of originals, by what happened.
    orig_failure = np.full(n_orig, NONE, dtype=np.int8)
    orig_failure[true_orig] = ev_failure[:len(true_orig)]
    orig_closing = crime_closing.copy()
    orig_closing_final = np.full(n_orig, NONE, dtype=np.int16)
    non_crime_close = _choice(rng, *model.non_crime_closing, n_orig).astype(np.int16)
    orig_closing[orig_failure == F_DA_DOMESTIC] = code["PSW-DOMESTIC"]
    downgraded = orig_failure == F_DOWNGRADE
    reclass_downgrade = downgraded & (rng.random(n_orig) < P.DOWNGRADE_RECLASSIFIED_SHARE)
    orig_closing[downgraded & ~reclass_downgrade] = non_crime_close[downgraded & ~reclass_downgrade]
    orig_closing_final[reclass_downgrade] = non_crime_close[reclass_downgrade]
    rape_unrecorded = orig_failure == F_RAPE_NO_CRIME
    rape_closed_non_crime = rape_unrecorded & (rng.random(n_orig) >= P.RAPE_UNRECORDED_CLOSED_AS_CRIME_SHARE)
    orig_closing[rape_closed_non_crime] = non_crime_close[rape_closed_non_crime]
    innocent = ~truly
    innocent_rape = innocent & rape  # a reported rape that was not: N100 classification
    innocent_recorded = innocent & ~rape & (rng.random(n_orig) < profile.not_a_crime_recorded_then_cancelled_share)
    innocent_closed_non_crime = innocent & ~innocent_rape & ~innocent_recorded
    orig_closing[innocent_closed_non_crime] = non_crime_close[innocent_closed_non_crime]

    opening = np.empty(n_inc, dtype=np.int16)
    opening[is_orig | is_dup] = orig_opening[orig_of_row[is_orig | is_dup]]
    non_crime_opening = _choice(rng, *model.non_crime_opening, n_non_crime).astype(np.int16)
    opening[non_crime] = non_crime_opening
    closing = np.empty(n_inc, dtype=np.int16)
    closing_final = np.full(n_inc, NONE, dtype=np.int16)
    closing[is_orig] = orig_closing[orig_of_row[is_orig]]
    closing_final[is_orig] = orig_closing_final[orig_of_row[is_orig]]
    nc_closing = np.where(rng.random(n_non_crime) < P.NON_CRIME_CLOSED_AS_OPENED_SHARE,
                          non_crime_opening, _choice(rng, *model.non_crime_closing, n_non_crime))
    closing[non_crime] = nc_closing
    nc_reclass = rng.random(n_non_crime) < P.NON_CRIME_RECLASSIFIED_SHARE
    nc_final = _choice(rng, *model.non_crime_closing, n_non_crime).astype(np.int16)
    nc_final = np.where(nc_final == nc_closing,
                        np.where(nc_closing == code["PSW-CONCERN"], code["ADM-INFO"], code["PSW-CONCERN"]),
                        nc_final)
    closing_final[np.flatnonzero(non_crime)[nc_reclass]] = nc_final[nc_reclass]
    dup_adm = rng.random(n_dup) < P.DUPLICATE_CLOSED_ADM_DUPL_SHARE
    closing[n_base:] = np.where(dup_adm, code["ADM-DUPL"], orig_closing[duplicated])

    duration = lognormal_seconds(P.INCIDENT_DURATION_MEDIAN_HOURS * SECONDS_PER_HOUR,
                                 P.INCIDENT_DURATION_SIGMA, n_inc)
    long_open = rng.random(n_inc) < P.LONG_OPEN_SHARE
    duration[long_open] = uniform_seconds(P.LONG_OPEN_DAYS, int(long_open.sum()))
    duration = np.clip(duration, 300, P.LONG_OPEN_DAYS[1] * SECONDS_PER_DAY)
    closed = inc_created + duration
    reclassed = np.where(closing_final != NONE,
                         closed + uniform_seconds(P.RECLASSIFICATION_AFTER_DAYS, n_inc), NEVER)
    deleted = np.full(n_inc, NEVER, dtype=np.int64)
    nc_deleted = np.flatnonzero(non_crime)[rng.random(n_non_crime) < P.NON_CRIME_INCIDENT_DELETED_SHARE]
    deleted[nc_deleted] = inc_created[nc_deleted] + uniform_seconds(P.DELETION_AFTER_DAYS, len(nc_deleted))

    # Qualifiers.
    u = rng.random((n_orig, 7))
    orig_q = np.zeros(n_orig, dtype=np.uint16)
    orig_q |= np.where(da, q["DA"], 0).astype(np.uint16)
    orig_q |= np.where(hate, q["HATE"], 0).astype(np.uint16)
    orig_q |= np.where(book.offence_child[offence], q["CHILD"], 0).astype(np.uint16)
    orig_q |= np.where((group == model.sexual) & (u[:, 0] < P.SEXUAL_QUALIFIER_SHARE), q["SEXUAL"], 0).astype(np.uint16)
    injury = (u[:, 1] < book.offence_injury_share[offence]) | opened_as_psw
    orig_q |= np.where(injury, q["INJURY"], 0).astype(np.uint16)
    orig_q |= np.where(u[:, 2] < book.offence_weapon_share[offence], q["WEAPON"], 0).astype(np.uint16)
    orig_q |= np.where(u[:, 3] < P.MENTAL_HEALTH_SHARE, q["MH"], 0).astype(np.uint16)
    orig_q |= np.where(u[:, 4] < P.VULNERABLE_SHARE, q["VULN"], 0).astype(np.uint16)
    orig_q |= np.where(u[:, 5] < P.REPEAT_VICTIM_SHARE, q["REPEAT"], 0).astype(np.uint16)
    qualifiers = np.zeros(n_inc, dtype=np.uint16)
    qualifiers[is_orig | is_dup] = orig_q[orig_of_row[is_orig | is_dup]]
    v = rng.random((n_non_crime, 3))
    nc_q = np.zeros(n_non_crime, dtype=np.uint16)
    nc_q |= np.where(non_crime_opening == code["PSW-DOMESTIC"], q["DA"], 0).astype(np.uint16)
    nc_q |= np.where((non_crime_opening == code["PSW-MH"]) | (v[:, 0] < P.MENTAL_HEALTH_SHARE), q["MH"], 0).astype(np.uint16)
    nc_q |= np.where(non_crime_opening == code["PSW-CHILD"], q["CHILD"], 0).astype(np.uint16)
    nc_q |= np.where(v[:, 1] < P.VULNERABLE_SHARE, q["VULN"], 0).astype(np.uint16)
    nc_q |= np.where((non_crime_opening == code["TR-RTC"]) & (v[:, 2] < P.ROAD_COLLISION_INJURY_SHARE),
                     q["INJURY"], 0).astype(np.uint16)
    qualifiers[non_crime] = nc_q

    victim_count = np.zeros(n_inc, dtype=np.int64)
    victim_count[is_orig | is_dup] = victims_per_original[orig_of_row[is_orig | is_dup]]
    victim_start_orig = np.full(n_inc, 0, dtype=np.int64)  # into original_victims
    victim_start_orig[is_orig | is_dup] = original_victim_start[orig_of_row[is_orig | is_dup]]

    first_victim = np.full(n_inc, NONE, dtype=np.int64)
    with_victims = victim_count > 0
    first_victim[with_victims] = original_victims[victim_start_orig[with_victims]]
    caller = model.people_draw(rng, n_inc)
    caller_is_victim = (victim_count > 0) & (rng.random(n_inc) < P.CALLER_IS_VICTIM_SHARE)
    caller = np.where(caller_is_victim, first_victim, caller)
    caller[channel == CHANNELS.index("OFFICER_GENERATED")] = NONE
    nickname = rng.random(n_inc) < P.CALLER_NICKNAME_SHARE
    has_phone = (caller != NONE) & (rng.random(n_inc) >= P.CALLER_PHONE_MISSING_SHARE)
    place = rng.integers(0, 2**40, n_inc)
    beat = _choice(rng, np.arange(model.n_beats), model.beat_probabilities, n_inc).astype(np.int32)
    # A repeat call comes from the same place about the same victims.
    parent_rows = originals[duplicated]
    place[n_base:] = place[parent_rows]
    beat[n_base:] = beat[parent_rows]

    inc_truly = np.zeros(n_inc, dtype=bool)
    inc_truly[originals] = truly
    inc_true_count = np.where(inc_truly, victim_count, 0)
    inc_true_group = np.full(n_inc, NONE, dtype=np.int8)
    inc_true_group[originals[true_orig]] = group[true_orig]
    parent_truly = truly[duplicated]
    inc_true_group[n_base:] = np.where(parent_truly, group[duplicated], NONE)
    inc_failure = np.full(n_inc, NONE, dtype=np.int8)
    inc_failure[originals] = orig_failure
    dup_of = np.full(n_inc, NONE, dtype=np.int64)
    dup_of[n_base:] = parent_rows

    # ---- referral attributes ----
    sexual_ref = ref_group == model.sexual
    team = np.empty(n_ref, dtype=np.int8)
    team_index = {name: i for i, name in enumerate(REFERRAL_TEAMS)}
    half = rng.random(n_ref) < 0.5
    team[:] = np.where(half, team_index["CHILD_PROTECTION"], team_index["ADULT_SAFEGUARDING"])
    team[sexual_ref] = np.where(book.offence_child[ref_offence[sexual_ref]] | half[sexual_ref],
                                team_index["CHILD_PROTECTION"], team_index["SEXUAL_OFFENCES"])
    team[ref_da & (ref_group == model.violence)] = team_index["DOMESTIC_ABUSE"]
    team[ref_group == model.miscellaneous] = team_index["ADULT_SAFEGUARDING"]
    team[~discloses] = _choice(rng, *model.team_non_disclosing, int((~discloses).sum()))
    agency = model.agency_by_team.draw(rng, team.astype(np.int64)).astype(np.int8)
    disclosed_code = np.where(discloses & (rng.random(n_ref) < P.REFERRAL_OFFENCE_CODE_KNOWN_SHARE),
                              ref_offence, NONE).astype(np.int16)
    ref_victim = model.people_draw(rng, n_ref)
    ref_victim[~discloses & (rng.random(n_ref) >= P.REFERRAL_VICTIM_KNOWN_NON_DISCLOSING_SHARE)] = NONE
    subject = model.people_draw(rng, n_ref)
    subject[rng.random(n_ref) >= P.REFERRAL_SUBJECT_NAMED_SHARE] = NONE
    ref_deleted = np.full(n_ref, NEVER, dtype=np.int64)
    gone = ~discloses & (rng.random(n_ref) < P.NON_DISCLOSING_REFERRAL_DELETED_SHARE)
    ref_deleted[gone] = received[gone] + uniform_seconds(P.DELETION_AFTER_DAYS, int(gone.sum()))
    ref_failure = np.full(n_ref, NONE, dtype=np.int8)
    ref_failure[true_ref] = ev_failure[len(true_orig):len(true_orig) + len(true_ref)]
    ref_true_group = np.where(ref_truly, ref_group, NONE).astype(np.int8)

    # ---- crime records of true events ----
    records_per_event = np.where(np.isin(ev_failure, [NONE, F_LATE, F_WRONG_CANCEL]), ev_victims,
                                 np.where(ev_failure == F_ONE_CRIME, 1, 0))
    in_time = lognormal_seconds(P.RECORDING_DELAY_MEDIAN_HOURS * SECONDS_PER_HOUR,
                                P.RECORDING_DELAY_SIGMA, n_ev)
    in_time = np.clip(in_time, 300, P.RECORDING_DELAY_MAX_HOURS * SECONDS_PER_HOUR)
    late_delay = SECONDS_PER_DAY + 60 + lognormal_seconds(
        P.LATE_DELAY_MEDIAN_DAYS * SECONDS_PER_DAY, P.LATE_DELAY_SIGMA, n_ev)
    late_delay = np.minimum(late_delay, P.LATE_DELAY_MAX_DAYS * SECONDS_PER_DAY)
    ev_recorded = ev_report + np.where(ev_failure == F_LATE, late_delay, in_time)
    transferred = np.isin(ev_failure, [NONE, F_LATE]) & (rng.random(n_ev) < P.TRANSFERRED_SHARE)
    duplicate_record = (np.isin(ev_failure, [NONE, F_LATE]) & ~transferred
                        & (rng.random(n_ev) < P.DUPLICATE_RECORD_SHARE))

    rec_event = np.repeat(np.arange(n_ev), records_per_event)
    rec_victim_index = np.arange(len(rec_event)) - np.repeat(np.cumsum(records_per_event) - records_per_event,
                                                             records_per_event)
    # Victims of each event: the incident's victims, or one person for the other routes.
    ev_person_first = np.empty(n_ev, dtype=np.int64)
    ev_person_first[on_incident] = NONE
    ref_mask = ev_route == ROUTE_REFERRAL
    ev_person_first[ref_mask] = ref_victim[true_ref]
    other_people = model.people_draw(rng, n_other)
    ev_person_first[ev_route == ROUTE_OTHER] = other_people
    rec_person = ev_person_first[rec_event]
    rec_on_incident = on_incident[rec_event]
    rec_orig = ev_source[rec_event]  # original index for incident-route events
    rec_person[rec_on_incident] = original_victims[
        original_victim_start[rec_orig[rec_on_incident]] + rec_victim_index[rec_on_incident]]
    jitter = rec_victim_index * rng.integers(60, 1200, len(rec_event))
    rec_recorded = ev_recorded[rec_event] + jitter
    in_time_record = ev_failure[rec_event] != F_LATE
    rec_recorded = np.where(in_time_record,
                            np.minimum(rec_recorded, ev_report[rec_event] + SECONDS_PER_DAY - 300),
                            rec_recorded)
    n_rec = len(rec_event)
    rec_status = np.full(n_rec, STATUS_RECORDED, dtype=np.int8)
    rec_cancel_code = np.full(n_rec, NONE, dtype=np.int8)
    rec_authority = np.full(n_rec, NONE, dtype=np.int8)
    rec_cancelled = np.full(n_rec, NEVER, dtype=np.int64)
    ev_cancel_after = uniform_seconds(P.CANCELLATION_AFTER_DAYS, n_ev)
    wrong = ev_failure[rec_event] == F_WRONG_CANCEL
    rec_status[wrong] = STATUS_CANCELLED
    # Wrong authority: C2 needs the FCR for rape or serious violence, C4 at least a DDM.
    wrong_c2 = rng.random(n_ev) < 0.6
    ev_wrong_code = np.where(wrong_c2, book.cancellation["C2"], book.cancellation["C4"])
    ev_wrong_authority = np.where(
        wrong_c2, _choice(rng, np.array([AUTHORITY["SUPERVISOR"], AUTHORITY["OFFICER"], AUTHORITY["DDM"]]),
                          np.array([0.5, 0.2, 0.3]), n_ev),
        _choice(rng, np.array([AUTHORITY["SUPERVISOR"], AUTHORITY["OFFICER"]]), np.array([0.7, 0.3]), n_ev))
    rec_cancel_code[wrong] = ev_wrong_code[rec_event[wrong]]
    rec_authority[wrong] = ev_wrong_authority[rec_event[wrong]]
    rec_cancelled[wrong] = rec_recorded[wrong] + ev_cancel_after[rec_event[wrong]]
    moved = transferred[rec_event]
    rec_status[moved] = STATUS_TRANSFERRED
    rec_cancel_code[moved] = book.cancellation["C1"]
    ev_right_authority = np.where(rng.random(n_ev) < 0.7, AUTHORITY["DDM"], AUTHORITY["FCR"])
    rec_authority[moved] = ev_right_authority[rec_event[moved]]
    rec_cancelled[moved] = rec_recorded[moved] + ev_cancel_after[rec_event[moved]]
    ev_flags = (np.where(ev_da, FLAG_DA, 0) | np.where(ev_hate, FLAG_HATE, 0)).astype(np.uint8)

    # Second records of the same victim (correctly cancelled C3, or deleted).
    dup_events = np.flatnonzero(duplicate_record)
    first_record_of_event = np.cumsum(records_per_event) - records_per_event
    dup_source = first_record_of_event[dup_events]
    n_duprec = len(dup_events)
    duprec_recorded = rec_recorded[dup_source] + uniform_seconds((1, 5), n_duprec)
    duprec_gone = rng.random(n_duprec) < P.DUPLICATE_RECORD_DELETED_SHARE
    duprec_when = duprec_recorded + uniform_seconds((1, 10), n_duprec)

    # Innocent records: an N100 for a reported rape that was not, or a record cancelled C2
    # with the right authority.
    innocent_with_record = np.flatnonzero(innocent_rape | innocent_recorded)
    n_innrec = len(innocent_with_record)
    inn_reported = created[originals[innocent_with_record]]
    inn_recorded = inn_reported + np.clip(lognormal_seconds(
        P.RECORDING_DELAY_MEDIAN_HOURS * SECONDS_PER_HOUR, P.RECORDING_DELAY_SIGMA, n_innrec),
        300, P.RECORDING_DELAY_MAX_HOURS * SECONDS_PER_HOUR)
    inn_is_n100 = innocent_rape[innocent_with_record]
    inn_offence = np.where(inn_is_n100, book.n100, offence[innocent_with_record])
    inn_cancelled = np.where(inn_is_n100, NEVER,
                             inn_recorded + uniform_seconds(P.CANCELLATION_AFTER_DAYS, n_innrec))
    inn_authority = np.where(
        inn_is_n100, NONE,
        np.where(serious[innocent_with_record], AUTHORITY["FCR"],
                 _choice(rng, np.array([AUTHORITY["SUPERVISOR"], AUTHORITY["DDM"], AUTHORITY["FCR"]]),
                         np.array([0.5, 0.3, 0.2]), n_innrec)))

    # ---- put the crime records together ----
    ev_origin_kind = ev_route
    ev_origin_row = ev_source  # original index (incident route) or referral row
    crimes = {
        "reported": np.concatenate([ev_report[rec_event], ev_report[dup_events], inn_reported]),
        "recorded": np.concatenate([rec_recorded, duprec_recorded, inn_recorded]),
        "offence": np.concatenate([ev_offence[rec_event], ev_offence[dup_events], inn_offence]).astype(np.int16),
        "status": np.concatenate([rec_status, np.where(duprec_gone, STATUS_RECORDED, STATUS_CANCELLED),
                                  np.where(inn_is_n100, STATUS_RECORDED, STATUS_CANCELLED)]).astype(np.int8),
        "cancel_code": np.concatenate([rec_cancel_code,
                                       np.where(duprec_gone, NONE, book.cancellation["C3"]),
                                       np.where(inn_is_n100, NONE, book.cancellation["C2"])]).astype(np.int8),
        "cancelled": np.concatenate([rec_cancelled, np.where(duprec_gone, NEVER, duprec_when), inn_cancelled]),
        "authority": np.concatenate([rec_authority,
                                     np.where(duprec_gone, NONE, ev_right_authority[dup_events]),
                                     inn_authority]).astype(np.int8),
        "victim": np.concatenate([rec_person, rec_person[dup_source],
                                  original_victims[original_victim_start[innocent_with_record]]]),
        "flags": np.concatenate([ev_flags[rec_event], ev_flags[dup_events],
                                 np.where(da[innocent_with_record], FLAG_DA, 0)]).astype(np.uint8),
        "origin_kind": np.concatenate([ev_origin_kind[rec_event], ev_origin_kind[dup_events],
                                       np.full(n_innrec, ROUTE_INCIDENT)]).astype(np.int8),
        # incident route: index into originals for now, remapped to incident rows below
        "origin_row": np.concatenate([ev_origin_row[rec_event], ev_origin_row[dup_events],
                                      innocent_with_record]).astype(np.int64),
        "deleted": np.concatenate([np.full(n_rec, NEVER), np.where(duprec_gone, duprec_when, NEVER),
                                   np.full(n_innrec, NEVER)]),
    }
    other_beat = _choice(rng, np.arange(model.n_beats), model.beat_probabilities, len(crimes["victim"]))
    on_inc = crimes["origin_kind"] == ROUTE_INCIDENT
    crime_incident_row = np.where(on_inc, originals[np.where(on_inc, crimes["origin_row"], 0)] if n_orig else 0,
                                  crimes["origin_row"])
    crimes["origin_row"] = np.where(on_inc, crime_incident_row, crimes["origin_row"])
    crimes["origin_row"][crimes["origin_kind"] == ROUTE_OTHER] = NONE
    crimes["beat"] = np.where(on_inc, beat[np.where(on_inc, crimes["origin_row"], 0)] if n_inc else 0,
                              other_beat).astype(np.int32)

    # ---- sort incidents by creation time (repeat calls were appended) and remap rows ----
    sort = np.argsort(inc_created, kind="stable")
    new_row = np.empty(n_inc, dtype=np.int64)
    new_row[sort] = np.arange(n_inc)
    flat_victims = original_victims[_segments(victim_start_orig[sort], victim_count[sort])]
    incidents = {
        "created": inc_created[sort],
        "channel": channel[sort],
        "opening": opening[sort],
        "closing": closing[sort],
        "closed": closed[sort],
        "closing_final": closing_final[sort],
        "reclassed": reclassed[sort],
        "deleted": deleted[sort],
        "qualifiers": qualifiers[sort],
        "victim_count": victim_count[sort].astype(np.int32),
        "caller": caller[sort],
        "nickname": nickname[sort],
        "has_phone": has_phone[sort],
        "place": place[sort],
        "beat": beat[sort],
        "truly": inc_truly[sort],
        "true_count": inc_true_count[sort].astype(np.int32),
        "true_group": inc_true_group[sort],
        "failure": inc_failure[sort],
        "dup_of": np.where(dup_of[sort] == NONE, NONE, new_row[np.maximum(dup_of[sort], 0)]),
    }
    crimes["origin_row"] = np.where(crimes["origin_kind"] == ROUTE_INCIDENT,
                                    new_row[np.maximum(crimes["origin_row"], 0)] if n_inc else NONE,
                                    crimes["origin_row"])
    referrals = {
        "received": received,
        "agency": agency,
        "team": team,
        "discloses": discloses,
        "disclosed_code": disclosed_code,
        "victim": ref_victim,
        "subject": subject,
        "deleted": ref_deleted,
        "truly": ref_truly,
        "true_count": ref_truly.astype(np.int32),
        "true_group": ref_true_group,
        "failure": ref_failure,
    }
    # ---- events, for the true rates ----
    counted = np.isin(ev_failure, [NONE, F_LATE, F_WRONG_CANCEL, F_ONE_CRIME])
    recorded_victims = np.where(np.isin(ev_failure, [NONE, F_LATE]), ev_victims,
                                np.where(ev_failure == F_ONE_CRIME, 1, 0))
    events = {
        "report": ev_report,
        "route": ev_route,
        "group": ev_group.astype(np.int8),
        "victims": ev_victims.astype(np.int32),
        "recorded_victims": recorded_victims.astype(np.int32),
        "first_recorded": np.where(counted, ev_recorded, NEVER),
        "da": ev_da,
        "rape": ev_rape,
        "failure": ev_failure,
    }
    return {"incidents": incidents, "inc_victims": {"person": flat_victims}, "crimes": crimes,
            "referrals": referrals, "events": events}


# --- The world: blocks put together -------------------------------------------------------------
def block_of(day_number: int) -> int:
    return (day_number - BLOCK_EPOCH_DAY) // BLOCK_DAYS


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _sequence_within(keys: np.ndarray) -> np.ndarray:
    """1-based position of each row among the rows with the same key (keys sorted)."""
    return np.arange(len(keys)) - np.searchsorted(keys, keys, side="left") + 1


class World:
    """Every record the simulated force ever made in a range of report days, with the instants
    at which each changed. Records are in creation order (crimes in block order)."""

    def __init__(self, spec: WorldSpec, numbering_first_day: int, content_first_day: int,
                 last_day: int) -> None:
        self.spec = spec
        self.model = model = _Model(spec)
        self.book = model.book
        numbering_only: list[np.ndarray] = []
        blocks = []
        for block in range(block_of(numbering_first_day), block_of(last_day) + 1):
            generated = _generate_block(model, block)
            if block < block_of(content_first_day):
                # Only needed to number the year's crime references in recording order.
                numbering_only.append(generated["crimes"]["recorded"])
            else:
                blocks.append(generated)
        incident_offset = np.cumsum([0] + [len(b["incidents"]["created"]) for b in blocks])
        referral_offset = np.cumsum([0] + [len(b["referrals"]["received"]) for b in blocks])
        for i, generated in enumerate(blocks):
            crimes = generated["crimes"]
            on_incident = crimes["origin_kind"] == ROUTE_INCIDENT
            on_referral = crimes["origin_kind"] == ROUTE_REFERRAL
            crimes["origin_row"][on_incident] += incident_offset[i]
            crimes["origin_row"][on_referral] += referral_offset[i]
            dup_of = generated["incidents"]["dup_of"]
            dup_of[dup_of != NONE] += incident_offset[i]
        self.incidents = _concat([b["incidents"] for b in blocks])
        self.incident_victims = np.concatenate([b["inc_victims"]["person"] for b in blocks])
        self.crimes = _concat([b["crimes"] for b in blocks])
        self.referrals = _concat([b["referrals"] for b in blocks])
        self.events = _concat([b["events"] for b in blocks])
        counts = self.incidents["victim_count"].astype(np.int64)
        self.incident_victim_start = np.cumsum(counts) - counts

        self.incidents["day"] = local_day_number(self.incidents["created"])
        self.incidents["seq"] = _sequence_within(self.incidents["day"])
        self.referrals["day"] = local_day_number(self.referrals["received"])
        self.referrals["seq"] = _sequence_within(self.referrals["day"])
        self.events["day"] = local_day_number(self.events["report"])

        # Crime references: numbered in recording order within the local calendar year.
        earlier = np.concatenate(numbering_only) if numbering_only else np.zeros(0, np.int64)
        recorded = np.concatenate([earlier, self.crimes["recorded"]])
        order = np.argsort(recorded, kind="stable")
        years = _civil(local_day_number(recorded[order]))[0]
        sequence = np.empty(len(recorded), dtype=np.int64)
        sequence[order] = _sequence_within(years)
        self.crimes["seq"] = sequence[len(earlier):]
        self.crimes["year"] = _civil(local_day_number(self.crimes["recorded"]))[0] % 100
        self.crime_by_recorded = np.argsort(self.crimes["recorded"], kind="stable")
        self.crime_recorded_sorted = self.crimes["recorded"][self.crime_by_recorded]

        # Crime references entered on incident logs and referrals, in recording order.
        self.incident_links = self._links(ROUTE_INCIDENT)
        self.referral_links = self._links(ROUTE_REFERRAL)

        salt = people.force_salt(spec.force)
        self.salt = salt
        self.beat_codes = pa.array(people.beat_codes(spec.force, spec.profile.region, spec.preset.beats))
        self.incident_code_array = pa.array(self.book.incident_codes, type=pa.string())
        self.offence_code_array = pa.array(self.book.offence_codes, type=pa.string())

    def _links(self, route: int) -> tuple[np.ndarray, np.ndarray]:
        crimes = np.flatnonzero(self.crimes["origin_kind"] == route)
        owners = self.crimes["origin_row"][crimes]
        order = np.lexsort((self.crimes["recorded"][crimes], owners))
        return crimes[order], owners[order]

    # ---- references ----
    def _reference(self, prefix: str, middle: np.ndarray, sequence: np.ndarray, width: int) -> pa.Array:
        """prefix + fixed-width middle (ASCII matrix) + zero-padded sequence number."""
        head = np.hstack([np.broadcast_to(np.frombuffer(prefix.encode("ascii"), dtype=np.uint8),
                                          (len(middle), len(prefix))), middle])
        return pc.binary_join_element_wise(people.strings_from_matrix(head),
                                           people.padded_numbers(sequence, width), "")

    def _day_digits(self, days: np.ndarray, separator: str) -> np.ndarray:
        year, month, day = _civil(days)
        return np.hstack([people.digits_matrix(year % 100, 2), people.digits_matrix(month, 2),
                          people.digits_matrix(day, 2), np.full((len(days), 1), ord(separator), np.uint8)])

    def incident_refs(self, rows: np.ndarray) -> pa.Array:
        """`<F>-<YYMMDD>-<nnnnn>`: creation day and order within it."""
        return self._reference(f"{self.spec.force}-", self._day_digits(self.incidents["day"][rows], "-"),
                               self.incidents["seq"][rows], INCIDENT_SEQUENCE_DIGITS)

    def crime_refs(self, rows: np.ndarray) -> pa.Array:
        """`<F>/<YY>/<nnnnnn>`: recording year and order of recording within it."""
        year = np.hstack([people.digits_matrix(self.crimes["year"][rows], 2),
                          np.full((len(rows), 1), ord("/"), np.uint8)])
        return self._reference(f"{self.spec.force}/", year, self.crimes["seq"][rows], CRIME_SEQUENCE_DIGITS)

    def referral_refs(self, rows: np.ndarray) -> pa.Array:
        """`<F>-R-<YYMMDD>-<nnnn>`: day received and order within it."""
        return self._reference(f"{self.spec.force}-R-", self._day_digits(self.referrals["day"][rows], "-"),
                               self.referrals["seq"][rows], REFERRAL_SEQUENCE_DIGITS)


# --- State at a cut-off -------------------------------------------------------------------------
@dataclass
class SourceSnapshot:
    """The records of one source in one snapshot, in their state at the cut-off.

    rows: record indices in output order; updated: last change before the cut-off;
    link_crimes / link_positions: crime references entered on the record by the cut-off (crime
    index, position of the owning record in `rows`); changed: per row, has the record's
    class or status changed by then (closing code set / reclassified / crime cancelled).
    """

    rows: np.ndarray
    updated: np.ndarray
    link_crimes: np.ndarray | None = None
    link_positions: np.ndarray | None = None
    closed: np.ndarray | None = None
    reclassified: np.ndarray | None = None
    cancelled: np.ndarray | None = None


def _linked_state(world: World, created: np.ndarray, deleted: np.ndarray,
                  links: tuple[np.ndarray, np.ndarray], cutoff: int, window_start: int,
                  extra_updates: list[tuple[np.ndarray, np.ndarray]] | None = None):
    low = int(np.searchsorted(created, window_start - LIFECYCLE_SECONDS, side="left"))
    high = int(np.searchsorted(created, cutoff, side="left"))
    updated = created[low:high].copy()
    for happened, instants in extra_updates or []:
        updated = np.where(happened, np.maximum(updated, instants), updated)
    link_crimes, owners = links
    first, last = np.searchsorted(owners, [low, high], side="left")
    link_crimes, owners = link_crimes[first:last], owners[first:last]
    recorded = world.crimes["recorded"][link_crimes]
    entered = recorded < cutoff
    link_crimes, owners, recorded = link_crimes[entered], owners[entered] - low, recorded[entered]
    np.maximum.at(updated, owners, recorded)
    include = (deleted[low:high] >= cutoff) & (updated >= window_start)
    position = np.cumsum(include) - 1
    linked = include[owners]
    return low, high, include, updated, link_crimes[linked], position[owners[linked]]


def incidents_at(world: World, cutoff: int, window_start: int) -> SourceSnapshot:
    inc = world.incidents
    low = int(np.searchsorted(inc["created"], window_start - LIFECYCLE_SECONDS, side="left"))
    high = int(np.searchsorted(inc["created"], cutoff, side="left"))
    closed = inc["closed"][low:high] < cutoff
    reclassified = inc["reclassed"][low:high] < cutoff
    low, high, include, updated, link_crimes, positions = _linked_state(
        world, inc["created"], inc["deleted"], world.incident_links, cutoff, window_start,
        [(closed, inc["closed"][low:high]), (reclassified, inc["reclassed"][low:high])])
    return SourceSnapshot(rows=np.arange(low, high)[include], updated=updated[include],
                          link_crimes=link_crimes, link_positions=positions,
                          closed=closed[include], reclassified=reclassified[include])


def referrals_at(world: World, cutoff: int, window_start: int) -> SourceSnapshot:
    ref = world.referrals
    low, high, include, updated, link_crimes, positions = _linked_state(
        world, ref["received"], ref["deleted"], world.referral_links, cutoff, window_start)
    return SourceSnapshot(rows=np.arange(low, high)[include], updated=updated[include],
                          link_crimes=link_crimes, link_positions=positions)


def crimes_at(world: World, cutoff: int, window_start: int) -> SourceSnapshot:
    crimes = world.crimes
    low, high = np.searchsorted(world.crime_recorded_sorted, [window_start - LIFECYCLE_SECONDS, cutoff],
                                side="left")
    rows = world.crime_by_recorded[low:high]
    cancelled = crimes["cancelled"][rows] < cutoff
    updated = np.where(cancelled, crimes["cancelled"][rows], crimes["recorded"][rows])
    include = (crimes["deleted"][rows] >= cutoff) & (updated >= window_start)
    return SourceSnapshot(rows=rows[include], updated=updated[include], cancelled=cancelled[include])


# --- Rendering records as contract rows -------------------------------------------------------
def _null_where(array: pa.Array, valid: np.ndarray) -> pa.Array:
    if valid.all():
        return array
    return pc.if_else(pa.array(valid), array, pa.scalar(None, pa.string()))


def _codes(table: pa.Array, indices: np.ndarray) -> pa.Array:
    indices = np.asarray(indices, dtype=np.int64)
    return table.take(pa.array(np.maximum(indices, 0), mask=indices < 0))


def _joined(owner_positions: np.ndarray, values: pa.Array, count: int) -> pa.Array:
    """`a|b|c` per row from values grouped by owner (owner positions ascending); null if none."""
    counts = np.bincount(owner_positions, minlength=count) if len(owner_positions) else np.zeros(count, np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), values)
    return _null_where(pc.binary_join(lists, "|"), counts > 0)


def _bit_lists(masks: np.ndarray, codes: tuple[str, ...]) -> pa.Array:
    bits = (masks.astype(np.int64)[:, None] >> np.arange(len(codes))) & 1
    owners, which = np.nonzero(bits)  # row-major: each row's codes in reference order
    return _joined(owners, pa.array(codes, type=pa.string()).take(which), len(masks))


def _constant(value: str, count: int) -> pa.Array:
    return pa.array([value], type=pa.string()).take(np.zeros(count, dtype=np.int64))


def _count_strings(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def render_incidents(world: World, snap: SourceSnapshot, part: slice = slice(None)) -> dict[str, pa.Array]:
    rows = snap.rows[part]
    n = len(rows)
    inc = world.incidents
    closed = snap.closed[part]
    closing_now = np.where(snap.reclassified[part], inc["closing_final"][rows], inc["closing"][rows])
    counts = inc["victim_count"][rows].astype(np.int64)
    victims = world.incident_victims[_segments(world.incident_victim_start[rows], counts)]
    caller = inc["caller"][rows]
    has_caller = caller != NONE
    caller_index = np.maximum(caller, 0)
    names = people.nicknamed(people.person_names(caller_index, world.salt), caller_index, world.salt,
                             inc["nickname"][rows] & has_caller)
    start, stop, _ = part.indices(len(snap.rows))
    in_part = (snap.link_positions >= start) & (snap.link_positions < stop)
    return {
        "incident_ref": world.incident_refs(rows),
        "force_code": _constant(world.spec.force, n),
        "created_at": format_local(inc["created"][rows]),
        "channel": _codes(pa.array(CHANNELS, type=pa.string()), inc["channel"][rows]),
        "opening_code": _codes(world.incident_code_array, inc["opening"][rows]),
        "closing_code": _codes(world.incident_code_array, np.where(closed, closing_now, NONE)),
        "closed_at": _null_where(format_local(inc["closed"][rows]), closed),
        "qualifiers": _bit_lists(inc["qualifiers"][rows], world.book.qualifier_codes),
        "victim_count": _count_strings(counts),
        "victim_person_ids": _joined(np.repeat(np.arange(n), counts), people.person_ids(victims), n),
        "caller_name": _null_where(names, has_caller),
        "caller_phone": _null_where(people.phone_numbers(caller_index, world.salt), inc["has_phone"][rows]),
        "location_text": people.addresses(inc["place"][rows], inc["beat"][rows], world.spec.profile.region,
                                          len(world.beat_codes), world.salt),
        "beat_code": world.beat_codes.take(inc["beat"][rows]),
        "crime_refs": _joined(snap.link_positions[in_part] - start,
                              world.crime_refs(snap.link_crimes[in_part]), n),
        "updated_at": format_local(snap.updated[part]),
    }


def render_crimes(world: World, snap: SourceSnapshot, part: slice = slice(None)) -> dict[str, pa.Array]:
    rows = snap.rows[part]
    n = len(rows)
    crimes = world.crimes
    cancelled = snap.cancelled[part]
    kind = crimes["origin_kind"][rows]
    origin = crimes["origin_row"][rows]
    on_incident = kind == ROUTE_INCIDENT
    on_referral = kind == ROUTE_REFERRAL
    incident_refs = world.incident_refs(np.where(on_incident, origin, 0)) if len(world.incidents["created"]) else _constant("", n)
    referral_refs = world.referral_refs(np.where(on_referral, origin, 0)) if len(world.referrals["received"]) else _constant("", n)
    victim = crimes["victim"][rows]
    has_victim = victim != NONE
    victim_index = np.maximum(victim, 0)
    return {
        "crime_ref": world.crime_refs(rows),
        "force_code": _constant(world.spec.force, n),
        "incident_ref": _null_where(incident_refs, on_incident),
        "referral_ref": _null_where(referral_refs, on_referral),
        "reported_at": format_local(crimes["reported"][rows]),
        "recorded_at": format_local(crimes["recorded"][rows]),
        "ho_offence_code": _codes(world.offence_code_array, crimes["offence"][rows]),
        "status": _codes(pa.array(CRIME_STATUSES, type=pa.string()),
                         np.where(cancelled, crimes["status"][rows], STATUS_RECORDED)),
        "cancellation_code": _codes(pa.array(world.book.cancellation_codes, type=pa.string()),
                                    np.where(cancelled, crimes["cancel_code"][rows], NONE)),
        "cancelled_at": _null_where(format_local(crimes["cancelled"][rows].clip(max=2**40)), cancelled),
        "cancellation_authority": _codes(pa.array(CANCELLATION_AUTHORITIES, type=pa.string()),
                                         np.where(cancelled, crimes["authority"][rows], NONE)),
        "victim_person_id": _null_where(people.person_ids(victim_index), has_victim),
        "victim_name": _null_where(people.person_names(victim_index, world.salt), has_victim),
        "beat_code": world.beat_codes.take(crimes["beat"][rows]),
        "flags": _bit_lists(crimes["flags"][rows], CRIME_FLAGS),
        "updated_at": format_local(snap.updated[part]),
    }


def render_referrals(world: World, snap: SourceSnapshot, part: slice = slice(None)) -> dict[str, pa.Array]:
    rows = snap.rows[part]
    n = len(rows)
    ref = world.referrals
    victim = ref["victim"][rows]
    subject = ref["subject"][rows]
    start, stop, _ = part.indices(len(snap.rows))
    in_part = (snap.link_positions >= start) & (snap.link_positions < stop)
    return {
        "referral_ref": world.referral_refs(rows),
        "force_code": _constant(world.spec.force, n),
        "received_at": format_local(ref["received"][rows]),
        "source_agency": _codes(pa.array(SOURCE_AGENCIES, type=pa.string()), ref["agency"][rows]),
        "team": _codes(pa.array(REFERRAL_TEAMS, type=pa.string()), ref["team"][rows]),
        "discloses_offence": _codes(pa.array(["N", "Y"], type=pa.string()), ref["discloses"][rows].astype(np.int64)),
        "disclosed_offence_code": _codes(world.offence_code_array, ref["disclosed_code"][rows]),
        "victim_person_id": _null_where(people.person_ids(np.maximum(victim, 0)), victim != NONE),
        "subject_name": _null_where(people.person_names(np.maximum(subject, 0), world.salt), subject != NONE),
        "crime_refs": _joined(snap.link_positions[in_part] - start,
                              world.crime_refs(snap.link_crimes[in_part]), n),
        "updated_at": format_local(snap.updated[part]),
    }


SNAPSHOT_FUNCTIONS = {"incidents": incidents_at, "crimes": crimes_at, "referrals": referrals_at}
RENDER_FUNCTIONS = {"incidents": render_incidents, "crimes": render_crimes, "referrals": render_referrals}
