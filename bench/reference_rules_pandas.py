"""The core reconciliation rules a second time, in plain pandas: the differential test's reference
and the benchmark's baseline.

Written from the rules (../shared/DOMAIN.md and the comments of sql/), not translated query by
query, so that a mistake in either implementation shows up as a disagreement. It covers what
the rates rest on: explicit links in all four directions, candidate crimes, probable repeat
calls, probable crime links, route OTHER, the outcome of each candidate counted per victim
(recording window, one crime per victim, cancellations, rape reports, downgrades) and the
`matured` recording rates overall, by crime group and by route with Wilson intervals.
tests/reconcile/test_differential.py runs both on simulated forces and requires the same answer.

    tables = reconcile_pandas(raw_files, parameters)   # {"candidate_outcomes": df, "recording_rates": df}

``raw_files``: {"incidents": path, "crimes": path, "referrals": path} (lake raw partitions);
``parameters``: pipelines.reconcile.sql_parameters(...).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.reference import load_reference

Z_95 = 1.959964
SECONDS_PER_HOUR = 3600
# Compatible crime groups for probable links, both ways (sql/staging/stg_crime_group_compatibility.sql).
COMPATIBLE_GROUP_PAIRS = (
    ("VIOLENCE_AGAINST_THE_PERSON", "SEXUAL_OFFENCES"),
    ("VIOLENCE_AGAINST_THE_PERSON", "ROBBERY"),
    ("VIOLENCE_AGAINST_THE_PERSON", "PUBLIC_ORDER_OFFENCES"),
    ("VIOLENCE_AGAINST_THE_PERSON", "POSSESSION_OF_WEAPONS"),
    ("ROBBERY", "THEFT"),
    ("BURGLARY", "THEFT"),
    ("VEHICLE_OFFENCES", "THEFT"),
    ("BURGLARY", "CRIMINAL_DAMAGE_AND_ARSON"),
    ("VEHICLE_OFFENCES", "CRIMINAL_DAMAGE_AND_ARSON"),
)
SERIOUS_VIOLENCE_CODES = ("1", "2", "5D")
TEAM_GROUP_HINT = {
    "SEXUAL_OFFENCES": "SEXUAL_OFFENCES",
    "DOMESTIC_ABUSE": "VIOLENCE_AGAINST_THE_PERSON",
    "CHILD_PROTECTION": "VIOLENCE_AGAINST_THE_PERSON",
    "ADULT_SAFEGUARDING": "VIOLENCE_AGAINST_THE_PERSON",
}
INCIDENT_COLUMNS = ["incident_ref", "created_at", "opening_code", "closing_code", "qualifiers", "victim_count",
                    "victim_person_keys", "beat_code", "crime_refs"]
CRIME_COLUMNS = ["crime_ref", "incident_ref", "referral_ref", "reported_at", "recorded_at", "ho_offence_code",
                 "status", "cancellation_code", "cancellation_authority", "victim_person_key", "beat_code", "flags"]
REFERRAL_COLUMNS = ["referral_ref", "received_at", "team", "discloses_offence", "disclosed_offence_code",
                    "victim_person_key", "crime_refs"]


# --- helpers ---------------------------------------------------------------------------------
def _seconds(timestamps: pd.Series) -> pd.Series:
    """Seconds since the epoch of tz-aware timestamps (whole seconds, as the exports give)."""
    return timestamps.dt.tz_convert("UTC").astype("datetime64[s, UTC]").astype("int64")


def _local_day(timestamps: pd.Series, time_zone: str) -> pd.Series:
    return timestamps.dt.tz_convert(time_zone).dt.tz_localize(None).dt.floor("D")


def _contains(lists: pd.Series, value: str) -> pd.Series:
    """Per row: does the list hold value (lists as numpy arrays or None)."""
    exploded = lists.explode()
    return (exploded == value).groupby(level=0).any().reindex(lists.index, fill_value=False).astype(bool)


def _explode(frame: pd.DataFrame, list_column: str, name: str) -> pd.DataFrame:
    exploded = frame.explode(list_column).rename(columns={list_column: name})
    return exploded[exploded[name].notna()]


def wilson(k: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = p + Z_95**2 / (2 * n)
        spread = Z_95 * np.sqrt(p * (1 - p) / n + Z_95**2 / (4 * n**2))
        lower = np.clip((centre - spread) / (1 + Z_95**2 / n), 0.0, 1.0)
        upper = np.clip((centre + spread) / (1 + Z_95**2 / n), 0.0, 1.0)
    valid = n > 0
    return np.where(valid, lower, np.nan), np.where(valid, upper, np.nan)


# --- reference lists -------------------------------------------------------------------------
def _reference() -> dict:
    incident_codes = load_reference("incident_codes")
    offence_codes = load_reference("ho_offence_codes")
    return {
        "crime_incident_codes": {row["code"] for row in incident_codes if row["crime_indicative"] == "true"},
        "incident_group_hint": {row["code"]: row["crime_group_hint"] for row in incident_codes},
        "crime_qualifiers": {row["code"] for row in load_reference("incident_qualifiers")
                             if row["crime_indicative"] == "true"},
        "offence_group": {row["code"]: row["crime_group"] for row in offence_codes},
        "rape_offences": {row["code"] for row in offence_codes if row["rape"] == "true"},
        "required_authority": {row["code"]: row["authority_required_for_rape_or_serious_violence"]
                               for row in load_reference("cancellation_codes")},
        "compatible": {(group, group) for group in {row["crime_group"] for row in offence_codes}}
        | set(COMPATIBLE_GROUP_PAIRS) | {(b, a) for a, b in COMPATIBLE_GROUP_PAIRS},
    }


def _compatible(report_groups: pd.Series, record_groups: pd.Series, pairs: set) -> pd.Series:
    """A report with no group hint is compatible with any record; otherwise the pair must be listed."""
    listed = pd.Series([pair in pairs for pair in zip(report_groups, record_groups)], index=report_groups.index,
                       dtype=bool)
    return report_groups.isna() | listed


# --- the rules -------------------------------------------------------------------------------
def reconcile_pandas(raw_files: dict[str, Path], parameters: dict) -> dict[str, pd.DataFrame]:
    ref = _reference()
    tz = parameters["time_zone"]
    window_seconds = int(parameters["recording_window_hours"]) * SECONDS_PER_HOUR
    as_of = int(pd.Timestamp(parameters["as_of"]).timestamp())

    incidents = pd.read_parquet(raw_files["incidents"], columns=INCIDENT_COLUMNS)
    crimes = pd.read_parquet(raw_files["crimes"], columns=CRIME_COLUMNS)
    referrals = pd.read_parquet(raw_files["referrals"], columns=REFERRAL_COLUMNS)

    # Crime records: group, rape, N100, and whether a cancellation or transfer stands (rule 4).
    crimes["crime_group"] = crimes["ho_offence_code"].map(ref["offence_group"])
    crimes["is_rape"] = crimes["ho_offence_code"].isin(ref["rape_offences"])
    crimes["is_n100"] = crimes["ho_offence_code"] == "N100"
    senior = crimes["is_rape"] | crimes["ho_offence_code"].isin(SERIOUS_VIOLENCE_CODES)
    required = crimes["cancellation_code"].map(ref["required_authority"])
    authority = crimes["cancellation_authority"]
    enough = (authority == "FCR") | ((authority == "DDM") & (required == "DDM"))
    taken_out_status = crimes["status"].isin(["CANCELLED", "TRANSFERRED"])
    # C3 (a duplicate of a crime already recorded) stands only while its victim has another record.
    c3 = (crimes["status"] == "CANCELLED") & (crimes["cancellation_code"] == "C3")
    victims_with_an_original = crimes.loc[~c3, "victim_person_key"]
    judged_from = pd.Timestamp(parameters["window_start"]) + pd.Timedelta(days=int(parameters["duplicate_record_days"]))
    duplicate_of_nothing = (c3 & crimes["victim_person_key"].notna()
                            & ~crimes["victim_person_key"].isin(victims_with_an_original)
                            & (crimes["reported_at"] >= judged_from))
    crimes["is_questionable"] = taken_out_status & (
        crimes["cancellation_code"].isna()
        | (senior & ~enough.fillna(False))
        | (crimes["is_rape"] & (crimes["cancellation_code"] == "C2"))
        | duplicate_of_nothing
    )
    crimes["reported_s"] = _seconds(crimes["reported_at"])
    crimes["recorded_s"] = _seconds(crimes["recorded_at"])
    crimes["is_domestic_abuse"] = _contains(crimes["flags"], "DA")

    # Explicit links, whichever side states them (crime -> incident, incident -> crimes,
    # crime -> referral, referral -> crimes).
    existing_crimes = set(crimes["crime_ref"])
    stated = pd.concat([
        pd.DataFrame({"route": "CALL", "report_ref": crimes["incident_ref"], "crime_ref": crimes["crime_ref"]}),
        pd.DataFrame({"route": "REFERRAL", "report_ref": crimes["referral_ref"], "crime_ref": crimes["crime_ref"]}),
        _explode(incidents[["incident_ref", "crime_refs"]], "crime_refs", "crime_ref")
        .rename(columns={"incident_ref": "report_ref"}).assign(route="CALL"),
        _explode(referrals[["referral_ref", "crime_refs"]], "crime_refs", "crime_ref")
        .rename(columns={"referral_ref": "report_ref"}).assign(route="REFERRAL"),
    ], ignore_index=True)
    stated = stated[stated["report_ref"].notna()].drop_duplicates(["route", "report_ref", "crime_ref"])
    explicit = stated[stated["crime_ref"].isin(existing_crimes)]
    stated_crimes = set(stated["crime_ref"])
    calls_with_a_crime = set(explicit.loc[explicit["route"] == "CALL", "report_ref"])
    referrals_with_a_crime = set(explicit.loc[explicit["route"] == "REFERRAL", "report_ref"])

    # Candidate calls (rule 1), and calls whose linked record says they were crimes.
    opening_crime = incidents["opening_code"].isin(ref["crime_incident_codes"])
    closing_crime = incidents["closing_code"].isin(ref["crime_incident_codes"])
    qualifiers = incidents["qualifiers"].explode()  # once: one row per (incident, qualifier)

    def any_qualifier(codes) -> pd.Series:
        found = qualifiers.isin(list(codes))
        return found.groupby(level=0).any().reindex(incidents.index, fill_value=False).astype(bool)

    qualifier_crime = any_qualifier(ref["crime_qualifiers"])
    has_linked_crime = incidents["incident_ref"].isin(calls_with_a_crime)
    is_call_candidate = opening_crime | closing_crime | qualifier_crime | has_linked_crime
    hint = incidents["opening_code"].map(ref["incident_group_hint"]).where(opening_crime)
    hint = hint.fillna(incidents["closing_code"].map(ref["incident_group_hint"]).where(closing_crime))
    hint = hint.fillna(pd.Series(np.where(any_qualifier(["SEXUAL"]), "SEXUAL_OFFENCES", None), index=incidents.index))
    injury_or_weapon = any_qualifier(["INJURY", "WEAPON"])
    hint = hint.fillna(pd.Series(np.where(injury_or_weapon, "VIOLENCE_AGAINST_THE_PERSON", None),
                                 index=incidents.index))
    calls = pd.DataFrame({
        "candidate_ref": incidents["incident_ref"],
        "route": "CALL",
        "reported_s": _seconds(incidents["created_at"]),
        "report_day": _local_day(incidents["created_at"], tz),
        "expected_crimes": incidents["victim_count"].clip(lower=1).astype("int64"),
        "crime_group_hint": hint,
        "is_rape_report": (incidents["opening_code"] == "CR-RAPE") | (incidents["closing_code"] == "CR-RAPE"),
        "is_domestic_abuse": any_qualifier(["DA"]) | (incidents["opening_code"] == "CR-DAVIOL")
        | (incidents["closing_code"] == "CR-DAVIOL"),
        "has_vulnerable_victim": any_qualifier(["VULN", "CHILD"]),
        "is_closed_as_non_crime": opening_crime & incidents["closing_code"].notna() & ~closing_crime,
        "beat_code": incidents["beat_code"],
        "victim_person_keys": incidents["victim_person_keys"],
        "candidate_basis": np.select([opening_crime, closing_crime, qualifier_crime],
                                     ["OPENING_CODE", "CLOSING_CODE", "QUALIFIER"], "LINKED_CRIME"),
    })[is_call_candidate.to_numpy()]

    # Candidate referrals (rule 5).
    disclosed_group = referrals["disclosed_offence_code"].map(ref["offence_group"])
    is_referral_candidate = referrals["discloses_offence"] | referrals["referral_ref"].isin(referrals_with_a_crime)
    referral_candidates = pd.DataFrame({
        "candidate_ref": referrals["referral_ref"],
        "route": "REFERRAL",
        "reported_s": _seconds(referrals["received_at"]),
        "report_day": _local_day(referrals["received_at"], tz),
        "expected_crimes": 1,
        "crime_group_hint": disclosed_group.fillna(referrals["team"].map(TEAM_GROUP_HINT)),
        "is_rape_report": referrals["disclosed_offence_code"].isin(ref["rape_offences"]),
        "is_domestic_abuse": referrals["team"] == "DOMESTIC_ABUSE",
        "has_vulnerable_victim": referrals["team"].isin(["CHILD_PROTECTION", "ADULT_SAFEGUARDING"]),
        "is_closed_as_non_crime": False,
        "beat_code": None,
        "victim_person_keys": referrals["victim_person_key"].map(lambda key: [] if key is None or key != key else [key]),
        "candidate_basis": np.where(referrals["discloses_offence"], "DISCLOSURE", "LINKED_CRIME"),
    })[is_referral_candidate.to_numpy()]
    reports = pd.concat([calls, referral_candidates], ignore_index=True)

    # Probable repeat calls: a call with no crime of its own naming a victim of an earlier
    # candidate call within the duplicate window, compatible group; the earliest such call.
    # Victims the repeat names and its original does not stay owed.
    call_victims = _explode(calls[["candidate_ref", "reported_s", "crime_group_hint", "is_rape_report",
                                   "victim_person_keys"]], "victim_person_keys", "victim_key")
    call_victims["has_crime"] = call_victims["candidate_ref"].isin(calls_with_a_crime)
    repeats = call_victims[~call_victims["has_crime"]]
    pairs = repeats.merge(call_victims, on="victim_key", suffixes=("", "_earlier"))
    gap = pairs["reported_s"] - pairs["reported_s_earlier"]
    pairs = pairs[(gap >= 0) & (gap <= int(parameters["duplicate_call_window_hours"]) * SECONDS_PER_HOUR)
                  & (pairs["candidate_ref"] != pairs["candidate_ref_earlier"])
                  & ((gap > 0) | (pairs["candidate_ref_earlier"] < pairs["candidate_ref"]))
                  & (~pairs["is_rape_report"] | pairs["is_rape_report_earlier"])]
    pairs = pairs[_compatible(pairs["crime_group_hint"], pairs["crime_group_hint_earlier"], ref["compatible"])
                  | pairs["crime_group_hint_earlier"].isna()]
    duplicates = (pairs.sort_values(["candidate_ref", "reported_s_earlier", "candidate_ref_earlier"])
                  .drop_duplicates("candidate_ref")[["candidate_ref", "candidate_ref_earlier"]]
                  .rename(columns={"candidate_ref_earlier": "duplicate_of"}))
    duplicate_of = dict(zip(duplicates["candidate_ref"], duplicates["duplicate_of"]))
    # victims any earlier (compatible, in the window) call named
    shared = pairs[pairs["candidate_ref"].isin(duplicate_of.keys())].groupby("candidate_ref")["victim_key"].nunique()
    named = calls.set_index("candidate_ref")["victim_person_keys"].map(
        lambda keys: len({key for key in keys if key is not None}) if keys is not None else 0)
    not_named_before = {ref: int(named[ref]) - int(count) for ref, count in shared.items()}

    # Probable crime links: what is left on both sides, same victim, close in time, compatible
    # group; each record to the nearest report (ties: route, then reference).
    reports_left = reports[~reports["candidate_ref"].isin(calls_with_a_crime | referrals_with_a_crime)
                           & ~reports["candidate_ref"].isin(duplicate_of.keys())]
    report_victims = _explode(reports_left[["route", "candidate_ref", "reported_s", "crime_group_hint",
                                            "victim_person_keys"]], "victim_person_keys", "victim_key")
    crimes_left = crimes[crimes["victim_person_key"].notna() & crimes["incident_ref"].isna()
                         & crimes["referral_ref"].isna() & ~crimes["crime_ref"].isin(stated_crimes)]
    matches = report_victims.merge(
        crimes_left[["crime_ref", "reported_s", "crime_group", "victim_person_key"]]
        .rename(columns={"victim_person_key": "victim_key", "reported_s": "crime_reported_s"}),
        on="victim_key")
    matches["seconds_apart"] = (matches["crime_reported_s"] - matches["reported_s"]).abs()
    matches = matches[(matches["seconds_apart"] <= int(parameters["probable_link_window_hours"]) * SECONDS_PER_HOUR)
                      & _compatible(matches["crime_group_hint"], matches["crime_group"], ref["compatible"])]
    probable = (matches.sort_values(["crime_ref", "seconds_apart", "route", "candidate_ref"])
                .drop_duplicates("crime_ref")[["route", "candidate_ref", "crime_ref"]])

    # Route OTHER: records no report claims; each its own report, recorded by definition.
    claimed = stated_crimes | set(probable["crime_ref"])
    own = crimes[crimes["incident_ref"].isna() & crimes["referral_ref"].isna() & ~crimes["is_n100"]
                 & ~crimes["crime_ref"].isin(claimed)]
    others = pd.DataFrame({
        "candidate_ref": own["crime_ref"],
        "route": "OTHER",
        "reported_s": own["reported_s"],
        "report_day": _local_day(own["reported_at"], tz),
        "expected_crimes": 1,
        "crime_group_hint": own["crime_group"],
        "is_rape_report": own["is_rape"],
        "is_domestic_abuse": own["is_domestic_abuse"],
        "has_vulnerable_victim": False,
        "is_closed_as_non_crime": False,
        "beat_code": own["beat_code"],
        "candidate_basis": "OWN_RECORD",
    })
    candidates = pd.concat([reports.drop(columns="victim_person_keys"), others], ignore_index=True)
    candidates["duplicate_of"] = candidates["candidate_ref"].map(duplicate_of).where(candidates["route"] == "CALL")

    # The records counted for each candidate.
    candidate_keys = candidates[["route", "candidate_ref"]]
    links = pd.concat([
        explicit.rename(columns={"report_ref": "candidate_ref"}).merge(candidate_keys, on=["route", "candidate_ref"])
        .assign(crime_link="EXPLICIT"),
        probable.assign(crime_link="PROBABLE"),
        pd.DataFrame({"route": "OTHER", "candidate_ref": own["crime_ref"], "crime_ref": own["crime_ref"],
                      "crime_link": "OWN_RECORD"}),
    ], ignore_index=True)
    linked = links.merge(crimes, on="crime_ref").merge(
        candidates[["route", "candidate_ref", "reported_s", "is_rape_report"]].rename(
            columns={"reported_s": "candidate_reported_s"}), on=["route", "candidate_ref"])
    live = (linked["status"] == "RECORDED") & ~linked["is_n100"]
    linked["is_live"] = live
    linked["counts"] = live  # a questionable cancellation does not stand, nor does the record
    n100 = (linked["status"] == "RECORDED") & linked["is_n100"] & linked["is_rape_report"]  # rape reports only
    linked["taken_out"] = (linked["status"].isin(["CANCELLED", "TRANSFERRED"]) & ~linked["is_questionable"]) | n100
    linked["transferred"] = ((linked["status"] == "TRANSFERRED") | (linked["cancellation_code"] == "C1")) \
        & ~linked["is_questionable"]
    linked["in_window"] = linked["counts"] & (
        linked["recorded_s"] - linked["candidate_reported_s"] <= window_seconds)
    linked["victim_slot"] = linked["victim_person_key"].fillna(linked["crime_ref"])

    # Rule 3, one crime per victim: records grouped by the victim they name.
    linked["names_victim"] = linked["victim_person_key"].notna()
    victims = linked.groupby(["route", "candidate_ref", "victim_slot"], sort=False).agg(
        recorded=("counts", "any"), in_window=("in_window", "any"), taken_out=("taken_out", "any"),
        transferred=("transferred", "any"), live_records=("is_live", "sum"), named=("names_victim", "any")).reset_index()
    victims["removed"] = ~victims["recorded"] & victims["taken_out"]
    victims["removed_transfer"] = ~victims["recorded"] & victims["transferred"]
    victims["extra"] = (victims["live_records"] - 1).clip(lower=0)
    per_candidate = victims.groupby(["route", "candidate_ref"], sort=False).agg(
        recorded_victims=("recorded", "sum"), recorded_victims_in_window=("in_window", "sum"),
        removed_victims=("removed", "sum"), transferred_victims=("removed_transfer", "sum"),
        extra_live_records=("extra", "sum"), named_victims=("named", "sum")).reset_index()

    linked["counted_recorded_s"] = linked["recorded_s"].where(linked["counts"])
    linked["live_rape"] = linked["is_live"] & linked["is_rape"]
    linked["n100"] = (linked["status"] == "RECORDED") & linked["is_n100"]
    linked["explicit_ref"] = linked["crime_ref"].where(linked["crime_link"] == "EXPLICIT")
    linked["probable_ref"] = linked["crime_ref"].where(linked["crime_link"] == "PROBABLE")
    records = linked.groupby(["route", "candidate_ref"], sort=False).agg(
        first_recorded_s=("counted_recorded_s", "min"),
        questionably_cancelled_crimes=("is_questionable", "sum"),
        has_live_rape_record=("live_rape", "any"), has_n100_record=("n100", "any"),
        has_transfer=("transferred", "any"),
        has_explicit=("explicit_ref", "count"), has_probable=("probable_ref", "count")).reset_index()
    for kind, column in (("EXPLICIT", "linked_crime_refs"), ("PROBABLE", "probable_crime_refs")):
        refs = (linked.loc[linked["crime_link"] == kind, ["route", "candidate_ref", "crime_ref"]]
                .sort_values("crime_ref").groupby(["route", "candidate_ref"], sort=False)["crime_ref"].agg(list)
                .rename(column).reset_index())
        records = records.merge(refs, on=["route", "candidate_ref"], how="left")

    # The recorded classification says the group better than the call taker; ties alphabetical.
    group_counts = (linked[~linked["is_n100"]].groupby(["route", "candidate_ref", "crime_group"]).size()
                    .rename("records").reset_index()
                    .sort_values(["route", "candidate_ref", "records", "crime_group"], ascending=[True, True, False, True])
                    .drop_duplicates(["route", "candidate_ref"])
                    .rename(columns={"crime_group": "recorded_group"})[["route", "candidate_ref", "recorded_group"]])

    out = (candidates.merge(records, on=["route", "candidate_ref"], how="left")
           .merge(per_candidate, on=["route", "candidate_ref"], how="left")
           .merge(group_counts, on=["route", "candidate_ref"], how="left"))
    for column in ("recorded_victims", "recorded_victims_in_window", "removed_victims", "transferred_victims",
                   "extra_live_records", "named_victims", "questionably_cancelled_crimes", "has_explicit", "has_probable"):
        out[column] = out[column].fillna(0).astype("int64")
    for column in ("has_live_rape_record", "has_n100_record", "has_transfer"):
        out[column] = out[column].fillna(False).astype(bool)
    for column in ("linked_crime_refs", "probable_crime_refs"):
        out[column] = out[column].map(lambda refs: refs if isinstance(refs, list) else [])
    out["crime_group"] = out["recorded_group"].fillna(out["crime_group_hint"]).fillna("UNKNOWN")
    out["crime_link"] = np.select(
        [out["has_explicit"] > 0, out["has_probable"] > 0, out["route"] == "OTHER"],
        ["EXPLICIT", "PROBABLE", "OWN_RECORD"], "NONE")
    within_window = as_of - out["reported_s"] < window_seconds
    expected = np.maximum(out["expected_crimes"].astype("int64"), out["named_victims"])
    out["expected_crimes"] = expected
    recorded = np.minimum(expected, out["recorded_victims"])
    on_time = np.minimum(expected, out["recorded_victims_in_window"])
    is_duplicate = out["duplicate_of"].notna()
    owed_on_repeat = out["candidate_ref"].map(not_named_before).fillna(0).astype("int64")
    removed = np.where(is_duplicate & (recorded == 0), np.maximum(expected - owed_on_repeat, 0),
                       np.minimum(expected - recorded, out["removed_victims"]))
    rest = expected - recorded - removed
    out["recorded_crimes"] = recorded
    out["recorded_within_window"] = on_time
    out["removed_crimes"] = removed
    out["unrecorded_crimes"] = np.where(within_window, 0, rest)
    out["pending_crimes"] = np.where(within_window, rest, 0)
    out["is_downgraded"] = out["is_closed_as_non_crime"].astype(bool) & (out["crime_link"] == "NONE")
    out["hours_to_record"] = (out["first_recorded_s"] - out["reported_s"]) / SECONDS_PER_HOUR
    out["rape_resolution"] = np.select(
        [~out["is_rape_report"].astype(bool) | (is_duplicate & (removed == expected)) | (out["route"] == "OTHER"),
         out["has_live_rape_record"],
         out["has_n100_record"],
         out["has_transfer"], within_window],
        [None, "RECORDED_RAPE", "N100", "TRANSFERRED", "PENDING"], "UNRESOLVED")
    out["outcome"] = np.select(
        [is_duplicate & (recorded == 0) & (removed == expected),
         out["questionably_cancelled_crimes"] > 0,
         (recorded == 0) & (removed == 0) & within_window,
         (recorded == 0) & (removed == 0),
         (recorded + removed < expected) & ~within_window,
         recorded + removed < expected,
         (recorded == 0) & (out["transferred_victims"] > 0),
         (recorded == 0) & out["has_n100_record"],
         recorded == 0,
         on_time == recorded],
        ["DUPLICATE", "CANCELLED_QUESTIONABLE", "PENDING", "UNRECORDED", "UNDER_COUNTED", "PENDING", "TRANSFERRED", "N100",
         "CANCELLED_VALID", "RECORDED_ON_TIME"], "RECORDED_LATE")
    candidate_outcomes = out[[
        "candidate_ref", "route", "candidate_basis", "report_day", "crime_group", "is_rape_report",
        "is_domestic_abuse", "has_vulnerable_victim", "is_closed_as_non_crime", "is_downgraded", "beat_code",
        "expected_crimes", "crime_link", "linked_crime_refs", "probable_crime_refs", "hours_to_record",
        "duplicate_of", "recorded_crimes", "recorded_within_window", "removed_crimes", "unrecorded_crimes",
        "pending_crimes", "questionably_cancelled_crimes", "extra_live_records", "rape_resolution", "outcome",
    ]].sort_values(["route", "candidate_ref"], ignore_index=True)
    return {"candidate_outcomes": candidate_outcomes,
            "recording_rates": recording_rates(candidate_outcomes, parameters)}


def recording_rates(outcomes: pd.DataFrame, parameters: dict) -> pd.DataFrame:
    """Rates over the matured report days, overall, by crime group, by route, and for domestic-abuse
    flagged crimes and rape reports (Wilson 95%)."""
    snapshot = pd.Timestamp(parameters["snapshot_date"])
    first = snapshot - pd.Timedelta(days=int(parameters["lookback_days"]))
    last = snapshot - pd.Timedelta(days=int(parameters["maturity_lag_days"]) + 1)
    matured = outcomes[(outcomes["report_day"] >= first) & (outcomes["report_day"] <= last)].assign(
        candidate_crimes=lambda frame: frame["recorded_crimes"] + frame["unrecorded_crimes"], overall="ALL",
        domestic_abuse=lambda frame: np.where(frame["is_domestic_abuse"].astype(bool), "FLAGGED", None),
        rape_report=lambda frame: np.where(frame["is_rape_report"].astype(bool) & (frame["route"] != "OTHER"),
                                           "RAPE_REPORT", None))
    sums = {"candidate_crimes": "sum", "recorded_crimes": "sum", "recorded_within_window": "sum",
            "unrecorded_crimes": "sum", "pending_crimes": "sum"}
    parts = []
    for dimension, column in (("overall", "overall"), ("crime_group", "crime_group"), ("route", "route"),
                              ("domestic_abuse", "domestic_abuse"), ("rape_report", "rape_report")):
        grouped = matured.groupby(column).agg(sums).reset_index().rename(columns={column: "dimension_value"})
        parts.append(grouped.assign(dimension=dimension))
    rates = pd.concat(parts, ignore_index=True).rename(columns={
        "recorded_crimes": "recorded", "recorded_within_window": "recorded_within_24h",
        "unrecorded_crimes": "unrecorded", "pending_crimes": "pending"})
    n, k = rates["candidate_crimes"].to_numpy(dtype=float), rates["recorded"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates["recording_rate"] = np.where(n > 0, k / n, np.nan)
        rates["unrecorded_rate"] = np.where(n > 0, rates["unrecorded"] / n, np.nan)
        rates["share_within_24h"] = np.where(k > 0, rates["recorded_within_24h"] / k, np.nan)
    rates["rate_ci_lower"], rates["rate_ci_upper"] = wilson(k, n)
    return rates[["dimension", "dimension_value", "candidate_crimes", "recorded", "recorded_within_24h", "unrecorded",
                  "pending", "recording_rate", "rate_ci_lower", "rate_ci_upper", "unrecorded_rate",
                  "share_within_24h"]].sort_values(["dimension", "dimension_value"], ignore_index=True)

