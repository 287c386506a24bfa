"""The GX gates on small hand-built frames: real Great Expectations, no mocks.

Each raw suite passes on a clean frame and fails, naming the expectation and the column, on a
frame broken in one way; the gate passes on good rates and names the groups that breach.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines import quality

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.datetime(2024, 6, 2, 0, 0, tzinfo=dt.timezone.utc)
THRESHOLDS = {
    "unrecorded_rate": {
        "overall": 0.05,
        "crime_group": {"VIOLENCE_AGAINST_THE_PERSON": 0.06, "SEXUAL_OFFENCES": 0.03},
        "route": {"REFERRAL": 0.10},
    },
    "min_share_within_24h": 0.90,
    "severity": {
        "unrecorded_rate": "critical",
        "share_within_24h": "critical",
        "rape_unrecorded": "warning",
    },
    "max_row_count_drop_share": 0.5,
    "max_quarantined_share": 0.05,
    "max_export_age_hours": {"incidents": 48, "crimes": 96},
    "epoch": "2000-01-01",
}
VICTIM_KEY = "a3f1c0ffee-person-key"


def utc(*values: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True)).astype("datetime64[us, UTC]")


def clean_incidents() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "incident_ref": ["KNT-240601-00001", "KNT-240601-00002", "KNT-240601-00003"],
            "force_code": ["KNT"] * 3,
            "created_at": utc("2024-06-01 08:00", "2024-06-01 09:30", "2024-06-01 22:10"),
            "channel": ["EMERGENCY_999", "ONLINE", "PARTNER_REFERRAL"],
            "opening_code": ["CR-VIOL", "CR-THREAT", "CR-DAVIOL"],
            "closing_code": ["CR-VIOL", None, "CR-DAVIOL"],
            "closed_at": utc("2024-06-01 12:00", None, "2024-06-01 23:00"),
            "qualifiers": [["DA", "CHILD"], None, np.array(["HATE"], dtype=object)],
            "victim_count": pd.Series([1, 0, 2], dtype="int32"),
            "victim_person_keys": [[VICTIM_KEY], [], [VICTIM_KEY, "b7-key"]],
            "beat_code": ["B01", "B02", "B03"],
            "crime_refs": [["KNT/24/000001"], None, []],
            "updated_at": utc("2024-06-01 12:00", "2024-06-01 09:30", "2024-06-01 23:00"),
            "source_line": pd.Series([2, 3, 4], dtype="int64"),
            "clock_change_note": [None, None, None],
        }
    )


def clean_crimes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "crime_ref": ["KNT/24/000001", "KNT/24/000002", "KNT/24/000003"],
            "force_code": ["KNT"] * 3,
            "incident_ref": ["KNT-240601-00001", None, "KNT-240601-00003"],
            "referral_ref": [None, "R-1", None],
            "reported_at": utc("2024-06-01 08:00", "2024-06-01 09:00", "2024-06-01 22:10"),
            "recorded_at": utc("2024-06-01 10:00", "2024-06-01 09:00", "2024-06-01 23:00"),
            "ho_offence_code": ["1", "3B", "5D"],
            "status": ["RECORDED", "CANCELLED", "TRANSFERRED"],
            "cancellation_code": [None, "C2", "C1"],
            "cancelled_at": utc(None, "2024-06-01 15:00", "2024-06-01 23:30"),
            "cancellation_authority": [None, "FCR", "DDM"],
            "victim_person_key": [VICTIM_KEY, None, "b7-key"],
            "beat_code": ["B01", "B02", "B03"],
            "flags": [["DA"], None, ["DA", "HATE"]],
            "updated_at": utc("2024-06-01 10:00", "2024-06-01 15:00", "2024-06-01 23:00"),
            "source_line": pd.Series([2, 3, 4], dtype="int64"),
            "clock_change_note": [None, None, None],
        }
    )


def clean_referrals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "referral_ref": ["R-1", "R-2"],
            "force_code": ["KNT", "KNT"],
            "received_at": utc("2024-06-01 09:00", "2024-06-01 11:00"),
            "source_agency": ["CHILDRENS_SOCIAL_CARE", "HEALTH"],
            "team": ["CHILD_PROTECTION", "SEXUAL_OFFENCES"],
            "discloses_offence": [True, False],
            "disclosed_offence_code": ["3B", None],
            "victim_person_key": [VICTIM_KEY, None],
            "crime_refs": [["KNT/24/000002"], None],
            "updated_at": utc("2024-06-01 09:00", "2024-06-01 11:00"),
            "source_line": pd.Series([2, 3], dtype="int64"),
            "clock_change_note": [None, None],
        }
    )


CLEAN = {"incidents": clean_incidents, "crimes": clean_crimes, "referrals": clean_referrals}


@pytest.fixture(scope="module")
def quality_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("quality")


def validate(source, frame, quality_dir, previous_row_count=None, thresholds=THRESHOLDS):
    return quality.validate_raw_snapshot(
        source,
        frame,
        as_of=AS_OF,
        previous_row_count=previous_row_count,
        thresholds=thresholds,
        quality_dir=quality_dir,
    )


def failed(outcome) -> set[tuple[str, str | None, str]]:
    return {(f.expectation_type, f.column, f.severity) for f in outcome.failures}


# --------------------------------------------------------------------------- raw suites
@pytest.mark.parametrize("source", sorted(CLEAN))
def test_clean_snapshot_passes(source, quality_dir):
    outcome = validate(source, CLEAN[source](), quality_dir, previous_row_count=3)
    assert outcome.success, outcome.failures
    assert outcome.failures == []
    assert outcome.statistics["evaluated_expectations"] > 10
    assert outcome.suites[0] == f"raw_{source}"
    json.dumps(outcome.to_dict())


def test_duplicate_reference_fails_naming_key(quality_dir):
    frame = clean_crimes()
    frame.loc[2, "crime_ref"] = frame.loc[0, "crime_ref"]
    outcome = validate("crimes", frame, quality_dir)
    assert not outcome.success
    assert failed(outcome) == {("expect_column_values_to_be_unique", "crime_ref", "critical")}
    detail = outcome.failures[0].detail
    assert "2 of 3 rows" in detail and "'KNT/24/000001'" in detail and "lines 2, 4" in detail


def test_unknown_codes_fail_naming_column(quality_dir):
    frame = clean_incidents()
    frame.loc[1, "opening_code"] = "CR-NOT-A-CODE"
    frame.loc[0, "channel"] = "CARRIER_PIGEON"
    outcome = validate("incidents", frame, quality_dir)
    assert not outcome.success
    assert failed(outcome) == {
        ("expect_column_values_to_be_in_set", "opening_code", "critical"),
        ("expect_column_values_to_be_in_set", "channel", "critical"),
    }
    by_column = {f.column: f.detail for f in outcome.failures}
    assert "'CR-NOT-A-CODE' (line 3)" in by_column["opening_code"]


def test_unknown_code_inside_a_list_column_fails_on_the_exploded_suite(quality_dir):
    frame = clean_incidents()
    frame.at[2, "qualifiers"] = np.array(["HATE", "NOT-A-QUALIFIER"], dtype=object)
    outcome = validate("incidents", frame, quality_dir)
    assert not outcome.success
    [failure] = outcome.failures
    assert (failure.suite, failure.expectation_type, failure.column) == (
        "raw_incidents_qualifiers",
        "expect_column_values_to_be_in_set",
        "qualifiers",
    )
    assert "1 of 4 rows" in failure.detail and "'NOT-A-QUALIFIER' (line 4)" in failure.detail

    crimes = clean_crimes()
    crimes.at[0, "flags"] = ["DA", "MAYBE"]
    assert failed(validate("crimes", crimes, quality_dir)) == {
        ("expect_column_values_to_be_in_set", "flags", "critical")
    }


def test_time_after_snapshot_or_before_epoch_fails(quality_dir):
    frame = clean_referrals()
    frame["received_at"] = utc("2024-06-03 09:00", "1900-01-01 00:00")
    outcome = validate("referrals", frame, quality_dir)
    assert not outcome.success
    assert failed(outcome) == {("expect_column_values_to_be_between", "received_at", "critical")}
    assert "2 of 2 rows" in outcome.failures[0].detail
    assert "2024-06-03T09:00:00+00:00" in outcome.failures[0].detail


def test_recorded_before_reported_fails(quality_dir):
    frame = clean_crimes()
    frame.loc[0, "recorded_at"] = pd.Timestamp("2024-06-01 07:00", tz="UTC")
    outcome = validate("crimes", frame, quality_dir)
    assert not outcome.success
    assert failed(outcome) == {
        ("expect_column_pair_values_a_to_be_greater_than_b", "recorded_at,reported_at", "critical")
    }
    assert "recorded_at=2024-06-01T07:00:00" in outcome.failures[0].detail


def test_recorded_before_reported_in_the_repeated_clock_hour_is_a_warning(quality_dir):
    frame = clean_crimes()
    frame.loc[0, "recorded_at"] = pd.Timestamp("2024-06-01 07:30", tz="UTC")
    frame.loc[0, "clock_change_note"] = "ambiguous local time resolved to the first occurrence"
    outcome = validate("crimes", frame, quality_dir)
    assert outcome.success
    assert failed(outcome) == {
        ("expect_column_pair_values_a_to_be_greater_than_b", "recorded_at,reported_at", "warning")
    }


def test_cancellation_code_when_cancelled_and_only_c1_on_a_transfer(quality_dir):
    frame = clean_crimes()
    frame.loc[1, "cancellation_code"] = None  # cancelled without a reason
    frame.loc[0, "cancellation_code"] = "C4"  # a reason on a crime still recorded
    frame.loc[2, "cancellation_code"] = "C2"  # a transfer is C1
    outcome = validate("crimes", frame, quality_dir)
    assert not outcome.success
    assert failed(outcome) == {
        ("expect_column_values_to_not_be_null", "cancellation_code", "critical"),
        ("expect_column_values_to_be_null", "cancellation_code", "critical"),
        ("expect_column_values_to_be_in_set", "cancellation_code", "critical"),
    }


def test_row_count_drop_fails_and_says_by_how_much(quality_dir):
    outcome = validate("referrals", clean_referrals(), quality_dir, previous_row_count=10)
    assert not outcome.success
    [failure] = outcome.failures
    assert failure.expectation_type == "expect_table_row_count_to_be_between"
    assert failure.column is None
    assert "2 rows vs 10" in failure.detail and "dropped 80%" in failure.detail
    assert outcome.parameters["min_row_count"] == 5
    # exactly the allowed share is not a breach
    assert validate("referrals", clean_referrals(), quality_dir, previous_row_count=4).success


def test_a_snapshot_mostly_quarantined_stops_the_run(quality_dir):
    # 3 rows accepted, 57 refused: reconciling the 3 as the whole would report a collapse in recording
    outcome = quality.validate_raw_snapshot("crimes", clean_crimes(), as_of=AS_OF, previous_row_count=None,
                                            thresholds=THRESHOLDS, quality_dir=quality_dir, rows_quarantined=57)
    assert not outcome.success
    [failure] = outcome.failures
    assert (failure.expectation_type, failure.severity) == ("expect_table_row_count_to_be_between", "critical")
    assert (failure.bound_by, outcome.parameters["min_accepted_rows"]) == ("min_accepted_rows", 57)  # 60 - 5% of 60
    assert failure.detail.startswith("57 of 60 rows quarantined (95%), more than the 5% allowed")
    # a few refused rows are the quarantine's ordinary work; the allowed share itself is not a breach
    assert validate("crimes", clean_crimes(), quality_dir).success
    thresholds = {**THRESHOLDS, "max_quarantined_share": 0.25}
    assert quality.validate_raw_snapshot("crimes", clean_crimes(), as_of=AS_OF, previous_row_count=None,
                                         thresholds=thresholds, quality_dir=quality_dir, rows_quarantined=1).success
    # a small source: a few refused rows over the share do not stop the run, nothing accepted does
    assert quality.validate_raw_snapshot("crimes", clean_crimes(), as_of=AS_OF, previous_row_count=None,
                                         thresholds=THRESHOLDS, quality_dir=quality_dir, rows_quarantined=9).success
    assert not quality.validate_raw_snapshot("crimes", clean_crimes().iloc[0:0], as_of=AS_OF, previous_row_count=None,
                                             thresholds=THRESHOLDS, quality_dir=quality_dir, rows_quarantined=3).success


def test_a_stale_export_stops_the_run(quality_dir):
    # yesterday's export delivered again: its newest update is days before this snapshot's cut-off
    stale = clean_incidents()
    outcome = quality.validate_raw_snapshot("incidents", stale, as_of=AS_OF + dt.timedelta(days=3),
                                            previous_row_count=None, thresholds=THRESHOLDS, quality_dir=quality_dir)
    assert not outcome.success
    [failure] = [f for f in outcome.failures if f.expectation_type == "expect_column_max_to_be_between"]
    assert failure.bound_by == "min_newest_update"
    assert failure.severity == "critical" and failure.column == "updated_at"
    assert failure.detail.startswith("the newest update is 2024-06-01 23:00 UTC, 73 hours before the snapshot's cut-off")
    # the same export on its own day is fresh; a quiet source (referrals: office hours) is not judged
    assert validate("incidents", stale, quality_dir).success
    assert quality.validate_raw_snapshot("referrals", clean_referrals(), as_of=AS_OF + dt.timedelta(days=3),
                                         previous_row_count=None, thresholds=THRESHOLDS, quality_dir=quality_dir).success


def test_missing_or_null_required_column(quality_dir):
    frame = clean_crimes().drop(columns=["status"])
    outcome = validate("crimes", frame, quality_dir)
    assert not outcome.success
    assert failed(outcome) == {("expect_column_to_exist", "status", "critical")}
    assert "not evaluated" in outcome.failures[0].detail

    frame = clean_incidents()
    frame.loc[0, "beat_code"] = None
    assert failed(validate("incidents", frame, quality_dir)) == {
        ("expect_column_values_to_not_be_null", "beat_code", "critical")
    }


def test_victim_count_negative_is_critical_and_implausible_is_a_warning(quality_dir):
    frame = clean_incidents()
    frame["victim_count"] = pd.Series([1, 150, 2], dtype="int32")
    outcome = validate("incidents", frame, quality_dir)
    assert outcome.success
    assert failed(outcome) == {("expect_column_values_to_be_between", "victim_count", "warning")}

    frame["victim_count"] = pd.Series([1, -1, 2], dtype="int32")
    outcome = validate("incidents", frame, quality_dir)
    assert not outcome.success
    assert ("expect_column_values_to_be_between", "victim_count", "critical") in failed(outcome)


def test_person_keys_never_appear_in_results(quality_dir, tmp_path):
    frame = pd.concat([clean_crimes(), clean_crimes()], ignore_index=True)  # every row duplicated
    frame["force_code"] = "not a force"
    outcome = validate("crimes", frame, quality_dir)
    assert not outcome.success
    path = quality.write_validation_results([outcome], tmp_path / "validation.json")
    assert VICTIM_KEY not in path.read_text()
    stored = "".join(p.read_text() for p in (quality_dir / "gx").rglob("*.json"))
    assert VICTIM_KEY not in stored


def test_epoch_from_yaml_as_a_date_and_a_later_epoch(quality_dir):
    later_epoch = {**THRESHOLDS, "epoch": dt.date(2024, 6, 1)}  # YAML reads 2024-06-01 as a date
    frame = clean_crimes()
    frame.loc[0, "reported_at"] = pd.Timestamp("2024-05-31 23:00", tz="UTC")
    outcome = validate("crimes", frame, quality_dir, thresholds=later_epoch)
    assert failed(outcome) == {("expect_column_values_to_be_between", "reported_at", "critical")}
    assert outcome.parameters["epoch"] == "2024-06-01T00:00:00+00:00"


def test_explode_list_column_handles_lists_arrays_nulls_and_empties():
    frame = pd.DataFrame(
        {
            "flags": [["DA"], np.array(["DA", "HATE"], dtype=object), None, [], ["HATE"]],
            "source_line": [2, 3, 4, 5, 6],
        }
    )
    elements = quality.explode_list_column(frame, "flags")
    assert elements.to_dict("list") == {
        "flags": ["DA", "DA", "HATE", "HATE"],
        "source_line": [2, 3, 3, 6],
    }
    # Arrow cannot type mixed elements: pandas explodes them instead
    mixed = pd.DataFrame({"flags": [["DA", 7], None], "source_line": [2, 3]})
    assert quality.explode_list_column(mixed, "flags")["source_line"].tolist() == [2, 2]
    empty = pd.DataFrame({"flags": [None, None], "source_line": [2, 3]})
    assert quality.explode_list_column(empty, "flags").empty


def test_the_callers_frame_is_not_modified(quality_dir):
    frame = clean_incidents()
    before = frame.copy()
    validate("incidents", frame, quality_dir)
    pd.testing.assert_frame_equal(frame, before)


def test_naive_as_of_is_refused(quality_dir):
    with pytest.raises(ValueError, match="timezone-aware"):
        quality.validate_raw_snapshot(
            "crimes",
            clean_crimes(),
            as_of=AS_OF.replace(tzinfo=None),
            previous_row_count=None,
            thresholds=THRESHOLDS,
            quality_dir=quality_dir,
        )


# --------------------------------------------------------------------------- gate
def rates_frame(rows: list[tuple[str, str, int, int, int, float]]) -> pd.DataFrame:
    """rows: (dimension, value, candidate_crimes, recorded, recorded_within_24h, ci half-width)."""
    records = []
    for dimension, value, candidates, recorded, within_24h, half_width in rows:
        rate = recorded / candidates if candidates else None
        records.append(
            {
                "force_code": "KNT",
                "snapshot_date": dt.date(2024, 6, 1),
                "dimension": dimension,
                "dimension_value": value,
                "candidate_crimes": candidates,
                "recorded": recorded,
                "recorded_within_24h": within_24h,
                "unrecorded": candidates - recorded,
                "pending": 0,
                "recording_rate": rate,
                "rate_ci_lower": None if rate is None else rate - half_width,
                "rate_ci_upper": None if rate is None else min(1.0, rate + half_width),
                "unrecorded_rate": None if rate is None else 1 - rate,
                "share_within_24h": within_24h / recorded if recorded else None,
            }
        )
    return pd.DataFrame.from_records(records)


GOOD_RATES = [
    ("overall", "ALL", 1000, 950, 900, 0.01),  # 1 - 0.95 = 0.05000000000000004: at the threshold
    ("crime_group", "VIOLENCE_AGAINST_THE_PERSON", 400, 380, 370, 0.02),
    ("crime_group", "SEXUAL_OFFENCES", 100, 98, 95, 0.03),
    ("crime_group", "THEFT", 50, 30, 30, 0.1),  # no threshold configured for theft
    ("route", "REFERRAL", 0, 0, 0, 0.0),  # no candidate crimes: passes
    ("route", "CALL", 900, 880, 860, 0.01),
]


# How a rape report with each outcome ended (int_candidate_outcomes.sql's rape_resolution); a
# rape report recorded as another offence (RECORDED_AS_OTHER here) is unresolved too.
RAPE_RESOLUTION = {"UNRECORDED": "UNRESOLVED", "RECORDED_ON_TIME": "RECORDED_RAPE", "RECORDED_LATE": "RECORDED_RAPE",
                   "RECORDED_AS_OTHER": "UNRESOLVED", "LOST": "UNRESOLVED"}


def candidates_frame(rape_outcomes: list[str]) -> pd.DataFrame:
    outcomes = ["RECORDED_ON_TIME", "UNRECORDED", "PENDING"] + [
        "RECORDED_ON_TIME" if outcome == "RECORDED_AS_OTHER" else outcome for outcome in rape_outcomes]
    return pd.DataFrame(
        {
            "candidate_ref": [f"KNT-240601-{i:05d}" for i in range(len(outcomes))],
            "route": ["CALL"] * len(outcomes),
            "crime_group": ["VIOLENCE_AGAINST_THE_PERSON"] * 3
            + ["SEXUAL_OFFENCES"] * len(rape_outcomes),
            "is_rape_report": [False] * 3 + [True] * len(rape_outcomes),
            "outcome": outcomes,
            "rape_resolution": [None] * 3 + [RAPE_RESOLUTION[outcome] for outcome in rape_outcomes],
        }
    )


def gate(rates, candidates, quality_dir, thresholds=THRESHOLDS):
    return quality.gate_recording_rates(
        rates, candidates, thresholds=thresholds, quality_dir=quality_dir
    )


def test_gate_passes_on_good_rates(quality_dir):
    outcome = gate(rates_frame(GOOD_RATES), candidates_frame(["RECORDED_LATE"]), quality_dir)
    assert outcome.passed, (outcome.breaches, outcome.failures)
    assert outcome.breaches == [] and outcome.warnings == [] and outcome.failures == []
    assert outcome.thresholds_used["unrecorded_rate"]["route"] == {"REFERRAL": 0.10}
    json.dumps(outcome.to_dict())


def test_gate_names_breaching_groups_with_observed_threshold_and_interval(quality_dir):
    rates = rates_frame(
        [
            ("overall", "ALL", 1000, 900, 800, 0.02),
            ("crime_group", "VIOLENCE_AGAINST_THE_PERSON", 400, 360, 350, 0.03),
            ("crime_group", "SEXUAL_OFFENCES", 100, 98, 97, 0.03),
            ("route", "REFERRAL", 50, 40, 40, 0.1),
            ("route", "CALL", 900, 860, 850, 0.01),
        ]
    )
    outcome = gate(rates, candidates_frame([]), quality_dir)
    assert not outcome.passed
    by_group = {(b.check, b.dimension, b.dimension_value): b for b in outcome.breaches}
    assert set(by_group) == {
        ("unrecorded_rate", "overall", "ALL"),
        ("unrecorded_rate", "crime_group", "VIOLENCE_AGAINST_THE_PERSON"),
        ("unrecorded_rate", "route", "REFERRAL"),
        ("share_within_24h", "overall", "ALL"),
    }
    violence = by_group[("unrecorded_rate", "crime_group", "VIOLENCE_AGAINST_THE_PERSON")]
    assert violence.observed == pytest.approx(0.10) and violence.threshold == 0.06
    assert violence.ci_lower == pytest.approx(0.07) and violence.ci_upper == pytest.approx(0.13)
    assert (violence.count, violence.out_of, violence.severity) == (40, 400, "critical")
    assert violence.describe() == (
        "crime_group VIOLENCE_AGAINST_THE_PERSON: unrecorded rate 10.0% above the threshold 6.0%, "
        "95% CI 7.0%-13.0%, 40 of 400"
    )
    share = by_group[("share_within_24h", "overall", "ALL")]
    assert share.observed == pytest.approx(800 / 900) and share.threshold == 0.90


def test_rape_report_unresolved_warns_without_failing_the_gate(quality_dir):
    candidates = candidates_frame(["UNRECORDED", "RECORDED_ON_TIME", "RECORDED_AS_OTHER"])
    outcome = gate(rates_frame(GOOD_RATES), candidates, quality_dir)
    assert outcome.passed
    [warning] = outcome.warnings
    assert (warning.check, warning.severity, warning.count, warning.observed) == (
        "rape_unrecorded",
        "warning",
        2,
        2.0,
    )
    assert warning.examples == ["KNT-240601-00003", "KNT-240601-00005"]
    assert warning.to_dict()["description"] == (
        "2 rape report(s) not resolved after 24 hours (no recorded rape, N100 or transfer) "
        "(e.g. KNT-240601-00003, KNT-240601-00005)"
    )

    strict = {**THRESHOLDS, "severity": {**THRESHOLDS["severity"], "rape_unrecorded": "critical"}}
    outcome = gate(rates_frame(GOOD_RATES), candidates, quality_dir, thresholds=strict)
    assert not outcome.passed and [b.check for b in outcome.breaches] == ["rape_unrecorded"]


def test_gate_reports_thresholds_for_groups_not_in_the_rates(quality_dir):
    thresholds = {**THRESHOLDS, "unrecorded_rate": {"crime_group": {"VIOLENCE": 0.06}}}
    outcome = gate(rates_frame(GOOD_RATES), candidates_frame([]), quality_dir, thresholds)
    assert outcome.passed
    assert outcome.statistics["configured_groups_absent"] == ["crime_group=VIOLENCE"]


def test_gate_fails_on_a_malformed_rates_frame(quality_dir):
    rates = rates_frame(GOOD_RATES).drop(columns=["unrecorded_rate"])
    outcome = gate(rates, candidates_frame([]), quality_dir)
    assert not outcome.passed
    assert ("expect_column_to_exist", "unrecorded_rate", "critical") in failed(outcome)


def test_gate_fails_without_an_overall_row_or_with_an_unknown_outcome(quality_dir):
    rates = rates_frame(GOOD_RATES[1:])
    candidates = candidates_frame(["LOST"])
    outcome = gate(rates, candidates, quality_dir)
    assert not outcome.passed
    assert failed(outcome) == {
        ("expect_column_distinct_values_to_contain_set", "dimension", "critical"),
        ("expect_column_values_to_be_in_set", "outcome", "critical"),
    }


def test_unknown_threshold_setting_is_refused(quality_dir):
    with pytest.raises(ValueError, match="rate_max"):
        gate(rates_frame(GOOD_RATES), candidates_frame([]), quality_dir, {"rate_max": 0.1})


# --------------------------------------------------------------------------- results and docs
def test_results_json_and_data_docs(tmp_path):
    quality_dir = tmp_path / "quality"
    outcomes = [
        validate(source, CLEAN[source](), quality_dir, previous_row_count=None)
        for source in sorted(CLEAN)
    ]
    outcomes.append(gate(rates_frame(GOOD_RATES), candidates_frame(["UNRECORDED"]), quality_dir))
    path = quality.write_validation_results(outcomes, tmp_path / "reports" / "validation.json")
    text = path.read_text()
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    assert document["success"] is True
    kinds = [o["kind"] for o in document["outcomes"]]
    assert kinds == ["raw_snapshot"] * 3 + ["recording_rate_gate"]
    assert document["outcomes"][3]["warnings"][0]["check"] == "rape_unrecorded"

    index = quality.build_data_docs(quality_dir)
    assert index.name == "index.html" and index.is_file()
    assert quality_dir.resolve() in index.resolve().parents
    assert "raw_crimes" in index.read_text()
    assert not (REPO_ROOT / "expectations" / "gx").exists()


def test_a_second_process_reopens_the_same_quality_dir(tmp_path, capfd):
    quality_dir = tmp_path / "quality"
    assert validate("referrals", clean_referrals(), quality_dir).success
    quality._contexts.pop(quality_dir.resolve())  # as a new process would find it
    assert validate("referrals", clean_referrals(), quality_dir).success
    assert "Calculating Metrics" not in capfd.readouterr().err  # progress bars stay off
    assert len(list((quality_dir / "gx" / "uncommitted" / "validations").rglob("*.json"))) == 2


def test_committed_suites_match_the_build_script(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "build_suites", REPO_ROOT / "expectations" / "build_suites.py"
    )
    build_suites = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_suites)
    written = build_suites.write_suites(tmp_path)
    committed = sorted(quality.SUITES_DIR.glob("*.json"))
    assert [p.name for p in committed] == sorted(p.name for p in written)
    for path in committed:
        assert path.read_text() == (tmp_path / path.name).read_text(), (
            f"{path.name} is stale: run `python expectations/build_suites.py`"
        )
