"""The simulated force: contract-shaped exports, ground truth, determinism and realism."""

from __future__ import annotations

import csv
import filecmp
import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.contract import SOURCES
from pipelines.reference import load_reference
from pipelines.simulate import FAILURE_MODES, PRESETS, PROFILES, SimulationSummary, simulate_force
from pipelines.simulate import generator, profiles

pytestmark = pytest.mark.unit

FORCE = "KNT"
# Covers the last Sunday of October 2024 (27th), when 01:00-01:59 happens twice.
DAILY_START, DAILY_END = date(2024, 10, 20), date(2024, 11, 8)
LOOKBACK = 30
SMALL = dict(force=FORCE, profile="kent-2017", seed=11, scale=0.08, lookback_days=LOOKBACK)
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
REF_PATTERNS = {
    "incident_ref": re.compile(rf"^{FORCE}-\d{{6}}-\d{{5}}$"),
    "crime_ref": re.compile(rf"^{FORCE}/\d{{2}}/\d{{6}}$"),
    "referral_ref": re.compile(rf"^{FORCE}-R-\d{{6}}-\d{{4}}$"),
}
PERSON_ID = re.compile(r"^P\d+$")
UK_PHONE = re.compile(r"^(\+44 7\d{3}|07\d{3}|01\d{3}|0\d{3}|020) ?\d{3,4} ?\d{3,4}$")


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, strict=True)
        header = next(reader)
        rows = [dict(zip(header, row, strict=True)) for row in reader]
    return header, rows


def snapshot(landing: Path, source: str, day: date) -> list[dict[str, str]]:
    return read_csv(landing / FORCE / f"{source}_{day.isoformat()}.csv")[1]


def snapshot_days() -> list[date]:
    return [DAILY_START + timedelta(days=n) for n in range((DAILY_END - DAILY_START).days + 1)]


@pytest.fixture(scope="module")
def daily(tmp_path_factory) -> tuple[Path, Path, SimulationSummary, list[tuple[int, int]]]:
    root = tmp_path_factory.mktemp("daily")
    calls: list[tuple[int, int]] = []
    summary = simulate_force(start=DAILY_START, end=DAILY_END, landing=root / "landing",
                             truth=root / "truth", progress=lambda done, total: calls.append((done, total)),
                             **SMALL)
    return root / "landing", root / "truth", summary, calls


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> tuple[Path, Path, SimulationSummary]:
    root = tmp_path_factory.mktemp("year")
    summary = simulate_force(force=FORCE, profile="kent-2017", start=date(2024, 1, 1), end=date(2025, 1, 1),
                             seed=3, scale=0.1, mode="period", landing=root / "landing", truth=root / "truth")
    return root / "landing", root / "truth", summary


def read_truth(truth_root: Path) -> dict[str, dict[str, dict]]:
    tables = {}
    for name, key in (("incidents", "incident_ref"), ("referrals", "referral_ref"), ("crimes", "crime_ref")):
        rows = pq.read_table(truth_root / FORCE / f"truth_{name}.parquet").to_pylist()
        tables[name] = {row[key]: row for row in rows}
    return tables


@pytest.fixture(scope="module")
def truth(daily) -> dict[str, dict[str, dict]]:
    return read_truth(daily[1])


@pytest.fixture(scope="module")
def year_truth(year) -> dict[str, dict[str, dict]]:
    return read_truth(year[1])


# --- shape of the exports -------------------------------------------------------------------------
def test_writes_one_file_per_source_per_snapshot_with_progress(daily):
    landing, _, summary, calls = daily
    days = snapshot_days()
    expected = [landing / FORCE / SOURCES[source].file_name(day.isoformat()) for day in days for source in SOURCES]
    assert sorted(summary.export_files) == sorted(expected)
    assert all(path.exists() for path in expected)
    assert calls == [(n, len(days)) for n in range(1, len(days) + 1)]
    assert summary.snapshot_dates == days
    assert set(summary.rows) == set(SOURCES) and all(summary.rows[s] >= summary.records[s] > 0 for s in SOURCES)


def test_files_parse_as_csv_with_exactly_the_contract_header(daily):
    landing, _, _, _ = daily
    for path in sorted((landing / FORCE).iterdir()):
        source = path.name.split("_")[0]
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
        header, rows = read_csv(path)
        assert tuple(header) == SOURCES[source].column_names
        assert rows, path


def test_values_follow_the_contract(daily):
    landing, _, _, _ = daily
    codes = {name: {row["code"] for row in load_reference(name)}
             for name in ("incident_codes", "incident_qualifiers", "ho_offence_codes", "cancellation_codes")}
    day = DAILY_END
    for source, contract in SOURCES.items():
        rows = snapshot(landing, source, day)
        for row in rows:
            for column in contract.columns:
                value = row[column.name]
                if column.required:
                    assert value != "", (source, column.name)
                if value == "":
                    continue
                if column.kind == "timestamp":
                    assert TIMESTAMP.match(value), value
                elif column.kind == "enum":
                    assert value in column.allowed, (column.name, value)
                elif column.kind == "code":
                    assert value in codes[column.allowed], (column.name, value)
                elif column.kind == "list" and column.allowed:
                    allowed = codes.get(column.allowed, column.allowed)
                    assert set(value.split("|")) <= set(allowed), (column.name, value)
                elif column.kind == "count":
                    assert int(value) >= 0
                elif column.kind == "yes_no":
                    assert value in ("Y", "N")
                elif column.kind == "person_id":
                    assert PERSON_ID.match(value)
                elif column.kind == "person_id_list":
                    assert all(PERSON_ID.match(v) for v in value.split("|"))
                elif column.name in REF_PATTERNS:
                    assert REF_PATTERNS[column.name].match(value), value
            assert row["force_code"] == FORCE
        if source == "crimes":
            assert all(REF_PATTERNS["incident_ref"].match(r["incident_ref"]) for r in rows if r["incident_ref"])
            cancelled = [r for r in rows if r["status"] == "CANCELLED"]
            assert cancelled and all(r["cancellation_code"] and r["cancelled_at"] for r in cancelled)
        if source == "incidents":
            refs = [ref for r in rows if r["crime_refs"] for ref in r["crime_refs"].split("|")]
            assert refs and all(REF_PATTERNS["crime_ref"].match(ref) for ref in refs)


def test_personal_data_looks_real_and_victims_keep_their_id(daily):
    landing, _, _, _ = daily
    incidents = snapshot(landing, "incidents", DAILY_END)
    crimes = snapshot(landing, "crimes", DAILY_END)
    phones = [r["caller_phone"] for r in incidents if r["caller_phone"]]
    assert phones and all(UK_PHONE.match(phone) for phone in phones)
    names = [r["caller_name"] for r in incidents if r["caller_name"]]
    assert all(len(name.split()) >= 2 for name in names)
    assert any("," in r["location_text"] for r in incidents)  # quoted in the file, intact here
    victims_of = {r["incident_ref"]: set(r["victim_person_ids"].split("|")) for r in incidents if r["victim_person_ids"]}
    linked = [c for c in crimes if c["incident_ref"] in victims_of]
    assert linked and all(c["victim_person_id"] in victims_of[c["incident_ref"]] for c in linked)
    name_of_id: dict[str, set[str]] = defaultdict(set)
    for c in crimes:
        name_of_id[c["victim_person_id"]].add(c["victim_name"])
    assert all(len(names) == 1 for names in name_of_id.values())


def test_times_come_from_utc_instants(daily, year):
    daily_landing, _, _, _ = daily
    repeated = [r for day in snapshot_days() for r in snapshot(daily_landing, "incidents", day)
                if r["created_at"].startswith("2024-10-27 01:")]
    assert repeated, "October's repeated hour should occur"
    year_landing, _, _ = year
    for source, contract in SOURCES.items():
        for path in (year_landing / FORCE).glob(f"{source}_*.csv"):
            text = path.read_text(encoding="utf-8")
            assert "2024-03-31 01:" not in text, "spring's missing hour must never occur"


def test_clock_matches_the_tz_database():
    zoneinfo = pytest.importorskip("zoneinfo")
    london = zoneinfo.ZoneInfo("Europe/London")
    import numpy as np

    start = int(datetime(2016, 1, 1).timestamp())
    instants = np.arange(start, start + 12 * 366 * 86_400, 86_400 // 4 + 997)
    expected = [datetime.fromtimestamp(int(t), london).strftime("%Y-%m-%d %H:%M:%S") for t in instants]
    assert generator.format_local(instants).to_pylist() == expected


# --- ground truth --------------------------------------------------------------------------------
def test_truth_is_written_outside_the_landing_folder(daily, tmp_path):
    landing, truth_root, summary, _ = daily
    names = sorted(path.name for path in (truth_root / FORCE).iterdir())
    assert names == sorted(["truth_incidents.parquet", "truth_referrals.parquet", "truth_crimes.parquet",
                            "truth_summary.json"])
    assert not any("truth" in path.name for path in landing.rglob("*"))
    for inside in (tmp_path / "landing", tmp_path / "landing" / "truth"):
        with pytest.raises(ValueError, match="inside the landing"):
            simulate_force(start=DAILY_START, end=DAILY_START, landing=tmp_path / "landing", truth=inside, **SMALL)
    assert not (tmp_path / "landing").exists()


def test_truth_schemas(daily):
    _, truth_root, _, _ = daily
    schema = lambda name: {f.name: str(f.type) for f in pq.read_schema(truth_root / FORCE / name)}  # noqa: E731
    assert schema("truth_incidents.parquet") == {
        "incident_ref": "string", "truly_crime": "bool", "true_crime_count": "int64",
        "true_crime_group": "string", "failure_mode": "string", "duplicate_of": "string"}
    assert schema("truth_referrals.parquet") == {
        "referral_ref": "string", "truly_crime": "bool", "true_crime_count": "int64",
        "true_crime_group": "string", "failure_mode": "string"}
    assert schema("truth_crimes.parquet") == {"crime_ref": "string", "true_origin": "string", "origin_ref": "string"}


def test_truth_covers_every_exported_record(daily, truth):
    landing, _, _, _ = daily
    seen = defaultdict(set)
    for day in snapshot_days():
        for source, key in (("incidents", "incident_ref"), ("crimes", "crime_ref"), ("referrals", "referral_ref")):
            seen[source] |= {row[key] for row in snapshot(landing, source, day)}
    for source in ("incidents", "crimes", "referrals"):
        assert seen[source] == set(truth[source])
    origins = Counter(row["true_origin"] for row in truth["crimes"].values())
    assert set(origins) == {"incident", "referral", "other"}


def test_every_failure_mode_is_present(daily, truth, year, year_truth):
    for (_, truth_root, *_), tables in ((daily, truth), (year, year_truth)):
        modes = Counter(row["failure_mode"] for table in ("incidents", "referrals") for row in tables[table].values())
        assert set(FAILURE_MODES) <= set(modes)
        summary = json.loads((truth_root / FORCE / "truth_summary.json").read_text())
        assert all(summary["failure_modes"][mode]["events"] > 0 for mode in FAILURE_MODES)
    assert min(modes[mode] for mode in FAILURE_MODES) >= 5  # the year has several of each


def test_failures_look_like_what_they_are(year, year_truth):
    landing, _, _ = year
    truth = year_truth
    incidents = {r["incident_ref"]: r for r in snapshot(landing, "incidents", date(2025, 1, 1))}
    crimes = {r["crime_ref"]: r for r in snapshot(landing, "crimes", date(2025, 1, 1))}
    hints = {row["code"]: row["crime_group_hint"] for row in load_reference("incident_codes")}
    groups = {row["code"]: row["crime_group"] for row in load_reference("ho_offence_codes")}
    by_mode = defaultdict(list)
    for ref, row in incidents.items():
        t = truth["incidents"][ref]
        by_mode[t["failure_mode"]].append(row)
        if t["truly_crime"] and row["opening_code"].startswith("CR-"):
            assert hints[row["opening_code"]] == t["true_crime_group"]
        for crime_ref in filter(None, row["crime_refs"].split("|")):
            if crime_ref in crimes and t["truly_crime"] and crimes[crime_ref]["ho_offence_code"] != "N100":
                assert groups[crimes[crime_ref]["ho_offence_code"]] == t["true_crime_group"]
    closed = lambda rows: [r for r in rows if r["closing_code"]]  # noqa: E731
    assert all(r["closing_code"] == "PSW-DOMESTIC" and not r["crime_refs"] and "DA" in r["qualifiers"]
               for r in closed(by_mode["da_closed_as_domestic"]))
    assert all(not r["crime_refs"] for r in by_mode["downgrade"] + by_mode["rape_no_crime_no_n100"])
    assert all(len(r["crime_refs"].split("|")) == 1 < int(r["victim_count"])
               for r in by_mode["one_crime_for_several_victims"] if r["crime_refs"])
    wrong = [crimes[c] for r in by_mode["wrong_cancellation"] for c in r["crime_refs"].split("|") if c in crimes]
    assert wrong and all(c["status"] == "CANCELLED" for c in wrong)
    # rape or serious violence cancelled without the authority the reference list requires
    required = {row["code"]: row["authority_required_for_rape_or_serious_violence"]
                for row in load_reference("cancellation_codes")}
    assert all(c["cancellation_authority"] not in ("FCR", required[c["cancellation_code"]]) for c in wrong)
    assert all(c["ho_offence_code"] in profiles.SERIOUS_VIOLENCE_CODES or c["ho_offence_code"].startswith("19")
               for c in wrong)
    referral_failures = [t for t in truth["referrals"].values() if t["failure_mode"] == "referral_not_recorded"]
    assert referral_failures and all(t["truly_crime"] for t in referral_failures)
    # innocent look-alikes exist: crime-coded calls that were not crimes, and repeat calls
    assert any(r["opening_code"].startswith("CR-") and not truth["incidents"][ref]["truly_crime"]
               and truth["incidents"][ref]["duplicate_of"] is None for ref, r in incidents.items())
    duplicates = [ref for ref, t in truth["incidents"].items() if t["duplicate_of"]]
    assert duplicates and any(incidents.get(ref, {}).get("closing_code") == "ADM-DUPL" for ref in duplicates)
    pairs = [(incidents[ref], incidents[truth["incidents"][ref]["duplicate_of"]]) for ref in duplicates
             if ref in incidents and truth["incidents"][ref]["duplicate_of"] in incidents]
    assert pairs and all(copy["victim_person_ids"] == original["victim_person_ids"]
                         and copy["created_at"][:10] == original["created_at"][:10]
                         and copy["created_at"] >= original["created_at"] for copy, original in pairs)
    assert all(t["true_crime_count"] == 0 and not t["truly_crime"] for ref, t in truth["incidents"].items()
               if t["duplicate_of"])
    assert any(int(r["victim_count"]) > 1 for r in incidents.values())


def test_late_crimes_appear_only_in_later_snapshots(daily):
    landing, _, _, _ = daily
    first_seen: dict[str, date] = {}
    crime_rows: dict[str, dict] = {}
    incident_first_seen: dict[str, date] = {}
    for day in snapshot_days():
        cutoff = f"{day.isoformat()} 00:00:00"
        for row in snapshot(landing, "crimes", day):
            assert row["recorded_at"] < cutoff  # nothing recorded after the cut-off
            first_seen.setdefault(row["crime_ref"], day)
            crime_rows[row["crime_ref"]] = row
        for row in snapshot(landing, "incidents", day):
            incident_first_seen.setdefault(row["incident_ref"], day)
    late = [ref for ref, row in crime_rows.items()
            if datetime.fromisoformat(row["recorded_at"]) - datetime.fromisoformat(row["reported_at"]) > timedelta(hours=25)
            and row["incident_ref"] in incident_first_seen and first_seen[ref] > DAILY_START]
    assert late
    assert any(incident_first_seen[crime_rows[ref]["incident_ref"]] < first_seen[ref] for ref in late)


def test_snapshots_change_between_days(daily):
    landing, _, _, _ = daily
    days = snapshot_days()
    disappeared = reclassified = closed_later = 0
    for before, after in zip(days, days[1:]):
        window_start = f"{(after - timedelta(days=LOOKBACK)).isoformat()} 00:00:00"
        old = {r["incident_ref"]: r for r in snapshot(landing, "incidents", before)}
        new = {r["incident_ref"]: r for r in snapshot(landing, "incidents", after)}
        for ref, row in old.items():
            if ref not in new and row["updated_at"] >= window_start:
                disappeared += 1
            elif ref in new and row["closing_code"] and new[ref]["closing_code"] != row["closing_code"]:
                reclassified += 1
            elif ref in new and not row["closing_code"] and new[ref]["closing_code"]:
                closed_later += 1
    assert disappeared and reclassified and closed_later


# --- rates and volumes ------------------------------------------------------------------------------
def test_true_rates_of_kent_2017_are_on_target(year):
    _, truth_root, summary = year
    target = PROFILES["kent-2017"]
    assert abs(summary.true_recording_rate - target.recording_rate) <= 0.01
    violence = summary.true_rates_by_group[profiles.VIOLENCE]
    assert abs(violence - target.group_rates[profiles.VIOLENCE]) <= 0.01
    saved = json.loads((truth_root / FORCE / "truth_summary.json").read_text())
    assert saved["rate"] == summary.true_recording_rate
    assert saved["true_crimes"] == summary.true_crimes > 10_000


def test_volumes_and_mix_are_realistic(year):
    landing, truth_root, summary = year
    scale = 0.1
    assert summary.records["incidents"] == pytest.approx(PRESETS["mid"].incidents_per_year * scale, rel=0.05)
    incidents = snapshot(landing, "incidents", date(2025, 1, 1))
    crime_coded = sum(r["opening_code"].startswith("CR-") and r["opening_code"] != "CR-FRAUD" for r in incidents)
    assert 0.17 <= crime_coded / len(incidents) <= 0.23
    saved = json.loads((truth_root / FORCE / "truth_summary.json").read_text())
    share = {group: values["true_crimes"] / saved["true_crimes"] for group, values in saved["by_group"].items()}
    assert 0.40 <= share[profiles.VIOLENCE] + share[profiles.SEXUAL] <= 0.50
    assert 0.07 <= share[profiles.THEFT] <= 0.13
    assert 0.04 <= share[profiles.VEHICLE] <= 0.08 and 0.03 <= share[profiles.BURGLARY] <= 0.07
    crimes = snapshot(landing, "crimes", date(2025, 1, 1))
    domestic = sum("DA" in r["flags"] for r in crimes) / len(crimes)
    assert 0.07 <= domestic <= 0.12
    hours = Counter(int(r["created_at"][11:13]) for r in incidents)
    assert hours[18] > 2 * hours[4]  # evening busier than before dawn
    weekdays = Counter(datetime.fromisoformat(r["created_at"]).weekday() for r in incidents)
    assert weekdays[5] > weekdays[1]  # Saturday busier than Tuesday


@pytest.mark.parametrize("name", ["kent-2018", "derbyshire-2018", "outstanding"])
def test_other_profiles_hit_their_rates(name, tmp_path):
    summary = simulate_force(force="DBY", profile=name, start=date(2024, 1, 1), end=date(2024, 7, 1), seed=2,
                             scale=0.1, mode="period", landing=tmp_path / "landing")
    target = PROFILES[name]
    assert abs(summary.true_recording_rate - target.recording_rate) <= 0.01
    for group, rate in target.group_rates.items():
        assert abs(summary.true_rates_by_group[group] - rate) <= 0.015
    if name == "outstanding":
        assert 1 - summary.true_recording_rate < 0.05  # passes a 5% unrecorded gate
    assert summary.truth_files == []


# --- determinism -----------------------------------------------------------------------------------
def test_same_arguments_give_byte_identical_files(daily, tmp_path):
    landing, truth_root, summary, _ = daily
    again = simulate_force(start=DAILY_START, end=DAILY_END, landing=tmp_path / "landing",
                           truth=tmp_path / "truth", **SMALL)
    for first in summary.files:
        second = tmp_path / first.relative_to(landing.parent)
        assert filecmp.cmp(first, second, shallow=False), first.name
    assert again.true_recording_rate == summary.true_recording_rate


def test_a_date_gives_the_same_files_whatever_the_range(daily, tmp_path):
    landing, _, _, _ = daily
    day = DAILY_START + timedelta(days=5)
    simulate_force(start=day, end=day, landing=tmp_path, **SMALL)
    for source in SOURCES:
        name = SOURCES[source].file_name(day.isoformat())
        assert filecmp.cmp(landing / FORCE / name, tmp_path / FORCE / name, shallow=False), name


def test_demo_is_kent_2017_and_seeds_differ(tmp_path):
    kwargs = dict(force=FORCE, start=date(2024, 5, 1), end=date(2024, 5, 1), scale=0.02, lookback_days=10)
    simulate_force(profile="demo", seed=1, landing=tmp_path / "demo", **kwargs)
    simulate_force(profile="kent-2017", seed=1, landing=tmp_path / "kent", **kwargs)
    simulate_force(profile="kent-2017", seed=2, landing=tmp_path / "other", **kwargs)
    name = f"{FORCE}/incidents_2024-05-01.csv"
    assert filecmp.cmp(tmp_path / "demo" / name, tmp_path / "kent" / name, shallow=False)
    assert not filecmp.cmp(tmp_path / "kent" / name, tmp_path / "other" / name, shallow=False)


def test_period_mode_writes_one_file_per_source_named_by_end(tmp_path):
    summary = simulate_force(force=FORCE, profile="demo", start=date(2024, 2, 1), end=date(2024, 3, 1), seed=4,
                             scale=0.02, mode="period", landing=tmp_path)
    assert sorted(p.name for p in summary.export_files) == sorted(
        SOURCES[s].file_name("2024-03-01") for s in SOURCES)
    rows = snapshot(tmp_path, "incidents", date(2024, 3, 1))
    assert all(r["updated_at"] >= "2024-02-01 00:00:00" for r in rows)
    assert all(r["created_at"] < "2024-03-01 00:00:00" for r in rows)


@pytest.mark.parametrize("change, message", [
    (dict(force="kent"), "force code"),
    (dict(profile="nowhere"), "unknown simulation profile"),
    (dict(preset="huge"), "unknown volume preset"),
    (dict(mode="weekly"), "mode"),
    (dict(scale=0), "scale"),
    (dict(end=date(2024, 4, 30)), "before start"),
])
def test_bad_arguments_are_refused(change, message, tmp_path):
    arguments = dict(force=FORCE, profile="demo", start=date(2024, 5, 1), end=date(2024, 5, 1), seed=1,
                     landing=tmp_path, scale=0.01) | change
    with pytest.raises(ValueError, match=message):
        simulate_force(**arguments)


def test_profile_tables_agree_with_the_reference_lists():
    book = generator.Codebook()  # raises if an opening code's hint does not match its offence
    offences = {row["code"]: row for row in load_reference("ho_offence_codes")}
    generated = {code for weights in profiles.OFFENCE_WEIGHTS.values() for code in weights}
    assert generated == set(offences) - {"N100"}
    assert set(profiles.OFFENCE_INCIDENT_CODE) == generated
    assert set(book.groups) == set(profiles.INCIDENT_ROUTE_GROUP_MIX)
    assert {"demo", *PROFILES} >= {"kent-2017", "kent-2018", "derbyshire-2018", "met-2018", "outstanding"}
    assert set(PRESETS) == {"mid", "large"}
