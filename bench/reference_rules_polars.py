"""The core reconciliation rules in polars: the benchmark's third implementation (issue 3 asks the
SQL to be no slower than polars on the same rules). Same rules and outputs as
bench/reference_rules_pandas.py, which documents them; tests/reconcile/test_differential.py
checks this one against the SQL too when polars is installed (it is a benchmark-only
dependency).

    tables = reconcile_polars(raw_files, parameters)   # {"candidate_outcomes": df, "recording_rates": df}
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from bench.reference_rules_pandas import (
    COMPATIBLE_GROUP_PAIRS,
    CRIME_COLUMNS,
    INCIDENT_COLUMNS,
    REFERRAL_COLUMNS,
    SERIOUS_VIOLENCE_CODES,
    SECONDS_PER_HOUR,
    TEAM_GROUP_HINT,
    Z_95,
)
from pipelines.reference import load_reference


def _seconds(column: str) -> pl.Expr:
    return pl.col(column).dt.epoch("s")


def _local_day(column: str, time_zone: str) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(time_zone).dt.date()


def _compatible_pairs() -> pl.DataFrame:
    groups = {row["crime_group"] for row in load_reference("ho_offence_codes")}
    pairs = {(group, group) for group in groups} | set(COMPATIBLE_GROUP_PAIRS) | {(b, a) for a, b in COMPATIBLE_GROUP_PAIRS}
    return pl.DataFrame({"group_a": [a for a, _ in pairs], "group_b": [b for _, b in pairs], "listed": True})


def _compatible(frame: pl.DataFrame, report_group: str, record_group: str, pairs: pl.DataFrame) -> pl.DataFrame:
    joined = frame.join(pairs, left_on=[report_group, record_group], right_on=["group_a", "group_b"], how="left",
                        nulls_equal=False)
    return joined.filter(pl.col(report_group).is_null() | pl.col("listed").fill_null(False)).drop("listed")


def _wilson(k: pl.Expr, n: pl.Expr, sign: float) -> pl.Expr:
    p = k / n
    value = (p + Z_95**2 / (2 * n) + sign * Z_95 * ((p * (1 - p) / n + Z_95**2 / (4 * n**2)).sqrt())) / (1 + Z_95**2 / n)
    return pl.when(n > 0).then(value.clip(0.0, 1.0)).otherwise(None)


def reconcile_polars(raw_files: dict[str, Path], parameters: dict) -> dict[str, pl.DataFrame]:
    tz = parameters["time_zone"]
    window_seconds = int(parameters["recording_window_hours"]) * SECONDS_PER_HOUR
    as_of = int(parameters["as_of"].timestamp())
    incident_codes = load_reference("incident_codes")
    offence_codes = load_reference("ho_offence_codes")
    crime_codes = [row["code"] for row in incident_codes if row["crime_indicative"] == "true"]
    hints = {row["code"]: row["crime_group_hint"] for row in incident_codes}
    crime_qualifiers = [row["code"] for row in load_reference("incident_qualifiers") if row["crime_indicative"] == "true"]
    offence_group = {row["code"]: row["crime_group"] for row in offence_codes}
    rape_codes = [row["code"] for row in offence_codes if row["rape"] == "true"]
    required = {row["code"]: row["authority_required_for_rape_or_serious_violence"]
                for row in load_reference("cancellation_codes")}
    pairs = _compatible_pairs()

    incidents = pl.read_parquet(raw_files["incidents"], columns=INCIDENT_COLUMNS)
    crimes = pl.read_parquet(raw_files["crimes"], columns=CRIME_COLUMNS)
    referrals = pl.read_parquet(raw_files["referrals"], columns=REFERRAL_COLUMNS)

    crimes = crimes.with_columns(
        crime_group=pl.col("ho_offence_code").replace_strict(offence_group, default=None),
        is_rape=pl.col("ho_offence_code").is_in(rape_codes),
        is_n100=pl.col("ho_offence_code") == "N100",
        reported_s=_seconds("reported_at"),
        recorded_s=_seconds("recorded_at"),
        is_domestic_abuse=pl.col("flags").list.contains("DA").fill_null(False),
        required=pl.col("cancellation_code").replace_strict(required, default=None),
    ).with_columns(
        is_questionable=pl.col("status").is_in(["CANCELLED", "TRANSFERRED"]) & (
            pl.col("cancellation_code").is_null()
            | ((pl.col("is_rape") | pl.col("ho_offence_code").is_in(SERIOUS_VIOLENCE_CODES))
               & ~((pl.col("cancellation_authority") == "FCR")
                   | ((pl.col("cancellation_authority") == "DDM") & (pl.col("required") == "DDM"))).fill_null(False))
            | (pl.col("is_rape") & (pl.col("cancellation_code") == "C2")).fill_null(False)
            # C3 (a duplicate of a crime already recorded) stands only while its victim has another record.
            | ((pl.col("status") == "CANCELLED") & (pl.col("cancellation_code") == "C3")
               & pl.col("victim_person_key").is_not_null()
               & (pl.col("reported_s") >= int(parameters["window_start"].timestamp())
                  + int(parameters["duplicate_record_days"]) * 86400)
               & ~pl.col("victim_person_key").is_in(
                   pl.col("victim_person_key").filter(
                       ~((pl.col("status") == "CANCELLED") & (pl.col("cancellation_code") == "C3")).fill_null(False)
                   ).implode()
               )).fill_null(False)
        ),
    ).with_row_index("crime_id")

    # Explicit links in all four directions.
    stated = pl.concat([
        crimes.select(route=pl.lit("CALL"), report_ref=pl.col("incident_ref"), crime_ref=pl.col("crime_ref")),
        crimes.select(route=pl.lit("REFERRAL"), report_ref=pl.col("referral_ref"), crime_ref=pl.col("crime_ref")),
        incidents.select(route=pl.lit("CALL"), report_ref=pl.col("incident_ref"), crime_ref=pl.col("crime_refs"))
        .explode("crime_ref"),
        referrals.select(route=pl.lit("REFERRAL"), report_ref=pl.col("referral_ref"), crime_ref=pl.col("crime_refs"))
        .explode("crime_ref"),
    ]).drop_nulls().unique()
    explicit = stated.join(crimes.select("crime_ref", "crime_id"), on="crime_ref", how="inner")
    with_crime = explicit.select("route", "report_ref").unique()
    calls_with_a_crime = with_crime.filter(pl.col("route") == "CALL")["report_ref"]
    referrals_with_a_crime = with_crime.filter(pl.col("route") == "REFERRAL")["report_ref"]

    opening = pl.col("opening_code").is_in(crime_codes)
    closing = pl.col("closing_code").is_in(crime_codes).fill_null(False)
    qualifier = pl.col("qualifiers").list.eval(pl.element().is_in(crime_qualifiers)).list.any().fill_null(False)
    has = lambda code: pl.col("qualifiers").list.contains(code).fill_null(False)  # noqa: E731
    calls = incidents.filter(opening | closing | qualifier | pl.col("incident_ref").is_in(calls_with_a_crime.implode())).select(
        candidate_ref=pl.col("incident_ref"),
        route=pl.lit("CALL"),
        reported_s=_seconds("created_at"),
        report_day=_local_day("created_at", tz),
        expected_crimes=pl.max_horizontal(pl.col("victim_count"), pl.lit(1)).cast(pl.Int64),
        crime_group_hint=pl.coalesce(
            pl.when(opening).then(pl.col("opening_code").replace_strict(hints, default=None)),
            pl.when(closing).then(pl.col("closing_code").replace_strict(hints, default=None)),
            pl.when(has("SEXUAL")).then(pl.lit("SEXUAL_OFFENCES")),
            pl.when(has("INJURY") | has("WEAPON")).then(pl.lit("VIOLENCE_AGAINST_THE_PERSON")),
        ),
        is_rape_report=((pl.col("opening_code") == "CR-RAPE") | (pl.col("closing_code") == "CR-RAPE")).fill_null(False),
        is_domestic_abuse=has("DA") | (pl.col("opening_code") == "CR-DAVIOL")
        | (pl.col("closing_code") == "CR-DAVIOL").fill_null(False),
        has_vulnerable_victim=has("VULN") | has("CHILD"),
        is_closed_as_non_crime=opening & pl.col("closing_code").is_not_null() & ~closing,
        beat_code=pl.col("beat_code"),
        victim_keys=pl.col("victim_person_keys"),
        candidate_basis=pl.when(opening).then(pl.lit("OPENING_CODE")).when(closing).then(pl.lit("CLOSING_CODE"))
        .when(qualifier).then(pl.lit("QUALIFIER")).otherwise(pl.lit("LINKED_CRIME")),
    )
    referral_candidates = referrals.filter(
        pl.col("discloses_offence") | pl.col("referral_ref").is_in(referrals_with_a_crime.implode())).select(
        candidate_ref=pl.col("referral_ref"),
        route=pl.lit("REFERRAL"),
        reported_s=_seconds("received_at"),
        report_day=_local_day("received_at", tz),
        expected_crimes=pl.lit(1, dtype=pl.Int64),
        crime_group_hint=pl.coalesce(pl.col("disclosed_offence_code").replace_strict(offence_group, default=None),
                                     pl.col("team").replace_strict(TEAM_GROUP_HINT, default=None)),
        is_rape_report=pl.col("disclosed_offence_code").is_in(rape_codes).fill_null(False),
        is_domestic_abuse=pl.col("team") == "DOMESTIC_ABUSE",
        has_vulnerable_victim=pl.col("team").is_in(["CHILD_PROTECTION", "ADULT_SAFEGUARDING"]),
        is_closed_as_non_crime=pl.lit(False),
        beat_code=pl.lit(None, dtype=pl.String),
        victim_keys=pl.when(pl.col("victim_person_key").is_null()).then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.concat_list("victim_person_key")),
        candidate_basis=pl.when(pl.col("discloses_offence")).then(pl.lit("DISCLOSURE")).otherwise(pl.lit("LINKED_CRIME")),
    )
    reports = pl.concat([calls, referral_candidates]).with_row_index("candidate_id")

    # Probable repeat calls: the earliest earlier call.
    call_victims = (reports.filter(pl.col("route") == "CALL")
                    .select("candidate_id", "candidate_ref", "reported_s", "crime_group_hint", "is_rape_report",
                            "victim_keys")
                    .explode("victim_keys").drop_nulls("victim_keys")
                    .with_columns(has_crime=pl.col("candidate_ref").is_in(calls_with_a_crime.implode())))
    repeats = call_victims.filter(~pl.col("has_crime"))
    gap = pl.col("reported_s") - pl.col("reported_s_earlier")
    duplicate_pairs = repeats.join(call_victims, on="victim_keys", suffix="_earlier").filter(
        gap.is_between(0, int(parameters["duplicate_call_window_hours"]) * SECONDS_PER_HOUR)
        & (pl.col("candidate_ref") != pl.col("candidate_ref_earlier"))
        & ((gap > 0) | (pl.col("candidate_ref_earlier") < pl.col("candidate_ref")))
        & (~pl.col("is_rape_report") | pl.col("is_rape_report_earlier"))
    )
    duplicate_pairs = pl.concat([
        _compatible(duplicate_pairs.filter(pl.col("crime_group_hint_earlier").is_not_null()),
                    "crime_group_hint", "crime_group_hint_earlier", pairs),
        duplicate_pairs.filter(pl.col("crime_group_hint_earlier").is_null()),
    ])
    duplicates = (duplicate_pairs.sort(["candidate_id", "reported_s_earlier", "candidate_ref_earlier"])
                  .group_by("candidate_id", maintain_order=True).first()
                  .select("candidate_id", duplicate_of=pl.col("candidate_ref_earlier")))
    # The victims a repeat names that its original does not: their crimes stay owed on the repeat.
    # victims any earlier (compatible, in the window) call named
    shared = (duplicate_pairs.filter(pl.col("candidate_id").is_in(duplicates["candidate_id"].implode()))
              .group_by("candidate_id").agg(shared=pl.col("victim_keys").n_unique()))
    duplicates = (duplicates.join(shared, on="candidate_id")
                  .join(reports.select("candidate_id", named=pl.col("victim_keys").list.drop_nulls().list.unique().list.len()),
                        on="candidate_id")
                  .select("candidate_id", "duplicate_of",
                          victims_not_named_before=(pl.col("named").cast(pl.Int64) - pl.col("shared").cast(pl.Int64))))

    # Probable crime links.
    reports_left = reports.filter(
        ~pl.col("candidate_ref").is_in(pl.concat([calls_with_a_crime, referrals_with_a_crime]).implode())
        & ~pl.col("candidate_id").is_in(duplicates["candidate_id"].implode()))
    report_victims = (reports_left.select("candidate_id", "route", "candidate_ref", "reported_s", "crime_group_hint",
                                          "victim_keys").explode("victim_keys").drop_nulls("victim_keys"))
    crimes_left = crimes.filter(pl.col("victim_person_key").is_not_null() & pl.col("incident_ref").is_null()
                                & pl.col("referral_ref").is_null() & ~pl.col("crime_ref").is_in(stated["crime_ref"].implode()))
    matches = report_victims.join(
        crimes_left.select("crime_id", "crime_ref", crime_reported_s="reported_s", crime_group="crime_group",
                           victim_keys="victim_person_key"), on="victim_keys"
    ).with_columns(seconds_apart=(pl.col("crime_reported_s") - pl.col("reported_s")).abs()).filter(
        pl.col("seconds_apart") <= int(parameters["probable_link_window_hours"]) * SECONDS_PER_HOUR)
    matches = _compatible(matches, "crime_group_hint", "crime_group", pairs)
    probable = (matches.sort(["crime_id", "seconds_apart", "route", "candidate_ref"])
                .group_by("crime_id", maintain_order=True).first().select("candidate_id", "crime_id"))

    # Route OTHER.
    claimed = pl.concat([stated["crime_ref"], crimes.filter(pl.col("crime_id").is_in(probable["crime_id"].implode()))["crime_ref"]])
    own = crimes.filter(pl.col("incident_ref").is_null() & pl.col("referral_ref").is_null() & ~pl.col("is_n100")
                        & ~pl.col("crime_ref").is_in(claimed.implode()))
    offset = reports.height
    others = own.select(
        candidate_id=pl.int_range(offset, offset + own.height, dtype=pl.UInt32),
        candidate_ref=pl.col("crime_ref"), route=pl.lit("OTHER"), reported_s=pl.col("reported_s"),
        report_day=_local_day("reported_at", tz), expected_crimes=pl.lit(1, dtype=pl.Int64),
        crime_group_hint=pl.col("crime_group"), is_rape_report=pl.col("is_rape"),
        is_domestic_abuse=pl.col("is_domestic_abuse"), has_vulnerable_victim=pl.lit(False),
        is_closed_as_non_crime=pl.lit(False), beat_code=pl.col("beat_code"),
        candidate_basis=pl.lit("OWN_RECORD"), crime_id=pl.col("crime_id"))
    candidates = pl.concat([reports.drop("victim_keys"), others.drop("crime_id")])

    links = pl.concat([
        explicit.join(reports.select("candidate_id", "route", report_ref="candidate_ref"), on=["route", "report_ref"])
        .select("candidate_id", "crime_id", crime_link=pl.lit("EXPLICIT")),
        probable.select("candidate_id", "crime_id", crime_link=pl.lit("PROBABLE")),
        others.select("candidate_id", "crime_id", crime_link=pl.lit("OWN_RECORD")),
    ])
    linked = (links.join(crimes, on="crime_id")
              .join(candidates.select("candidate_id", candidate_reported_s="reported_s", rape_report="is_rape_report"),
                    on="candidate_id")
              .with_columns(
                  is_live=(pl.col("status") == "RECORDED") & ~pl.col("is_n100"),
                  victim_slot=pl.coalesce("victim_person_key", "crime_ref"))
              .with_columns(
                  counts=pl.col("is_live"),  # a questionable cancellation does not stand, nor does the record
                  taken_out=(pl.col("status").is_in(["CANCELLED", "TRANSFERRED"]) & ~pl.col("is_questionable"))
                  | ((pl.col("status") == "RECORDED") & pl.col("is_n100") & pl.col("rape_report")))  # rape reports only
              .with_columns(
                  transferred=((pl.col("status") == "TRANSFERRED") | (pl.col("cancellation_code") == "C1").fill_null(False))
                  & ~pl.col("is_questionable"),
                  in_window=pl.col("counts") & ((pl.col("recorded_s") - pl.col("candidate_reported_s")) <= window_seconds)))
    victims = linked.group_by("candidate_id", "victim_slot").agg(
        recorded=pl.col("counts").any(), in_window=pl.col("in_window").any(), taken_out=pl.col("taken_out").any(),
        transferred=pl.col("transferred").any(), extra=(pl.col("is_live").sum().cast(pl.Int64) - 1).clip(lower_bound=0),
        named=pl.col("victim_person_key").is_not_null().any())
    per_candidate = victims.group_by("candidate_id").agg(
        recorded_victims=pl.col("recorded").sum(),
        recorded_victims_in_window=(pl.col("recorded") & pl.col("in_window")).sum(),
        removed_victims=(~pl.col("recorded") & pl.col("taken_out")).sum(),
        transferred_victims=(~pl.col("recorded") & pl.col("transferred")).sum(),
        extra_live_records=pl.col("extra").sum(), named_victims=pl.col("named").sum())
    records = linked.group_by("candidate_id").agg(
        first_recorded_s=pl.col("recorded_s").filter(pl.col("counts")).min(),
        questionably_cancelled_crimes=pl.col("is_questionable").sum(),
        has_live_rape_record=(pl.col("is_live") & pl.col("is_rape")).any(),
        has_n100_record=((pl.col("status") == "RECORDED") & pl.col("is_n100")).any(),
        has_transfer=pl.col("transferred").any(),
        linked_crime_refs=pl.col("crime_ref").filter(pl.col("crime_link") == "EXPLICIT").sort(),
        probable_crime_refs=pl.col("crime_ref").filter(pl.col("crime_link") == "PROBABLE").sort())
    recorded_groups = (linked.filter(~pl.col("is_n100")).group_by("candidate_id", "crime_group").len()
                       .sort(["candidate_id", "len", "crime_group"], descending=[False, True, False])
                       .group_by("candidate_id", maintain_order=True).first()
                       .select("candidate_id", recorded_group="crime_group"))

    out = (candidates.join(records, on="candidate_id", how="left").join(per_candidate, on="candidate_id", how="left")
           .join(recorded_groups, on="candidate_id", how="left").join(duplicates, on="candidate_id", how="left"))
    counts = ["recorded_victims", "recorded_victims_in_window", "removed_victims", "transferred_victims",
              "extra_live_records", "named_victims", "questionably_cancelled_crimes"]
    out = out.with_columns(
        [pl.col(name).fill_null(0).cast(pl.Int64) for name in counts]
        + [pl.col(name).fill_null(False) for name in ("has_live_rape_record", "has_n100_record", "has_transfer")]
        + [pl.col(name).fill_null(pl.lit([], dtype=pl.List(pl.String))) for name in ("linked_crime_refs", "probable_crime_refs")]
    ).with_columns(
        # More victims in the records than the report named are more crimes (rule 3).
        expected_crimes=pl.max_horizontal("expected_crimes", pl.col("named_victims")),
    ).with_columns(
        crime_group=pl.coalesce("recorded_group", "crime_group_hint", pl.lit("UNKNOWN")),
        crime_link=pl.when(pl.col("linked_crime_refs").list.len() > 0).then(pl.lit("EXPLICIT"))
        .when(pl.col("probable_crime_refs").list.len() > 0).then(pl.lit("PROBABLE"))
        .when(pl.col("route") == "OTHER").then(pl.lit("OWN_RECORD")).otherwise(pl.lit("NONE")),
        within=(as_of - pl.col("reported_s")) < window_seconds,
        recorded_crimes=pl.min_horizontal("expected_crimes", "recorded_victims"),
        recorded_within_window=pl.min_horizontal("expected_crimes", "recorded_victims_in_window"),
        hours_to_record=(pl.col("first_recorded_s") - pl.col("reported_s")) / SECONDS_PER_HOUR,
    ).with_columns(
        removed_crimes=pl.when(pl.col("duplicate_of").is_not_null() & (pl.col("recorded_crimes") == 0))
        .then(pl.max_horizontal(pl.col("expected_crimes") - pl.col("victims_not_named_before"), pl.lit(0)))
        .otherwise(pl.min_horizontal(pl.col("expected_crimes") - pl.col("recorded_crimes"), "removed_victims")),
    ).with_columns(
        rest=pl.col("expected_crimes") - pl.col("recorded_crimes") - pl.col("removed_crimes"),
    ).with_columns(
        unrecorded_crimes=pl.when(pl.col("within")).then(0).otherwise(pl.col("rest")),
        pending_crimes=pl.when(pl.col("within")).then(pl.col("rest")).otherwise(0),
        is_downgraded=pl.col("is_closed_as_non_crime") & (pl.col("crime_link") == "NONE"),
        rape_resolution=pl.when(~pl.col("is_rape_report") | (pl.col("route") == "OTHER")
                                | (pl.col("duplicate_of").is_not_null()
                                   & (pl.col("removed_crimes") == pl.col("expected_crimes")))).then(None)
        .when(pl.col("has_live_rape_record")).then(pl.lit("RECORDED_RAPE"))
        .when(pl.col("has_n100_record")).then(pl.lit("N100"))
        .when(pl.col("has_transfer")).then(pl.lit("TRANSFERRED"))
        .when(pl.col("within")).then(pl.lit("PENDING")).otherwise(pl.lit("UNRESOLVED")),
        outcome=pl.when(pl.col("duplicate_of").is_not_null() & (pl.col("recorded_crimes") == 0)
                        & (pl.col("removed_crimes") == pl.col("expected_crimes"))).then(pl.lit("DUPLICATE"))
        .when(pl.col("questionably_cancelled_crimes") > 0).then(pl.lit("CANCELLED_QUESTIONABLE"))
        .when((pl.col("recorded_crimes") == 0) & (pl.col("removed_crimes") == 0) & pl.col("within")).then(pl.lit("PENDING"))
        .when((pl.col("recorded_crimes") == 0) & (pl.col("removed_crimes") == 0)).then(pl.lit("UNRECORDED"))
        .when((pl.col("rest") > 0) & ~pl.col("within")).then(pl.lit("UNDER_COUNTED"))
        .when(pl.col("rest") > 0).then(pl.lit("PENDING"))
        .when((pl.col("recorded_crimes") == 0) & (pl.col("transferred_victims") > 0)).then(pl.lit("TRANSFERRED"))
        .when((pl.col("recorded_crimes") == 0) & pl.col("has_n100_record")).then(pl.lit("N100"))
        .when(pl.col("recorded_crimes") == 0).then(pl.lit("CANCELLED_VALID"))
        .when(pl.col("recorded_within_window") == pl.col("recorded_crimes")).then(pl.lit("RECORDED_ON_TIME"))
        .otherwise(pl.lit("RECORDED_LATE")),
    )
    candidate_outcomes = out.select(
        "candidate_ref", "route", "candidate_basis", "report_day", "crime_group", "is_rape_report", "is_domestic_abuse",
        "has_vulnerable_victim", "is_closed_as_non_crime", "is_downgraded", "beat_code", "expected_crimes", "crime_link",
        "linked_crime_refs", "probable_crime_refs", "hours_to_record", "duplicate_of", "recorded_crimes",
        "recorded_within_window", "removed_crimes", "unrecorded_crimes", "pending_crimes",
        "questionably_cancelled_crimes", "extra_live_records", "rape_resolution", "outcome",
    ).sort(["route", "candidate_ref"])
    return {"candidate_outcomes": candidate_outcomes, "recording_rates": recording_rates(candidate_outcomes, parameters)}


def recording_rates(outcomes: pl.DataFrame, parameters: dict) -> pl.DataFrame:
    snapshot = parameters["snapshot_date"]
    first = snapshot - dt.timedelta(days=int(parameters["lookback_days"]))
    last = snapshot - dt.timedelta(days=int(parameters["maturity_lag_days"]) + 1)
    matured = outcomes.filter(pl.col("report_day").is_between(first, last)).with_columns(
        candidate_crimes=pl.col("recorded_crimes") + pl.col("unrecorded_crimes"), overall=pl.lit("ALL"),
        domestic_abuse=pl.when(pl.col("is_domestic_abuse")).then(pl.lit("FLAGGED")),
        rape_report=pl.when(pl.col("is_rape_report") & (pl.col("route") != "OTHER")).then(pl.lit("RAPE_REPORT")))
    sums = [pl.col("candidate_crimes").sum(), pl.col("recorded_crimes").sum().alias("recorded"),
            pl.col("recorded_within_window").sum().alias("recorded_within_24h"),
            pl.col("unrecorded_crimes").sum().alias("unrecorded"), pl.col("pending_crimes").sum().alias("pending")]
    rates = pl.concat([
        matured.filter(pl.col(column).is_not_null()).group_by(column).agg(sums).select(pl.lit(dimension).alias("dimension"),
                                                  pl.col(column).alias("dimension_value"), pl.all().exclude(column))
        for dimension, column in (("overall", "overall"), ("crime_group", "crime_group"), ("route", "route"),
                                  ("domestic_abuse", "domestic_abuse"), ("rape_report", "rape_report"))
    ])
    k, n = pl.col("recorded").cast(pl.Float64), pl.col("candidate_crimes").cast(pl.Float64)
    return rates.with_columns(
        recording_rate=pl.when(n > 0).then(k / n),
        rate_ci_lower=_wilson(k, n, -1.0),
        rate_ci_upper=_wilson(k, n, 1.0),
        unrecorded_rate=pl.when(n > 0).then(pl.col("unrecorded") / n),
        share_within_24h=pl.when(k > 0).then(pl.col("recorded_within_24h") / k),
    ).sort(["dimension", "dimension_value"])
