"""The run's report and a period's report, written by the real `cdi` on a small simulated force."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.report import CSP
from pipelines.settings import load_settings
from pipelines.verdict import load_verdict, unrecorded_a_year, whole_number
from tests.report.simulated import FORCE, PREVIOUS_RUN, SNAPSHOT, cdi

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

LINK = re.compile(r"""(?:src|href)\s*=\s*['"]([^'"]*)['"]""", re.IGNORECASE)


def assert_offline(page: str) -> None:
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "<script" not in page.lower() and "@import" not in page and "url(" not in page
    for target in LINK.findall(page):
        assert "://" not in target and not target.startswith("//"), f"link out of the page: {target}"


def test_the_run_report_shows_the_verdict_and_every_section(breaching_lake):
    reports = breaching_lake.reports()
    page = (reports / "report.html").read_text(encoding="utf-8")
    assert_offline(page)
    assert page.index('<div class="verdict BREACHED">') < page.index("id='trend'")  # the verdict comes first
    for section in ("trend", "rates", "timeliness", "unrecorded-a-year", "changes", "worklist", "quality", "downloads"):
        assert f"<section id='{section}'>" in page

    # Trend: all crimes, each crime group with a required rate, and the referrals route.
    for group in ("ALL", "VIOLENCE_AGAINST_THE_PERSON", "SEXUAL_OFFENCES", "REFERRAL"):
        assert f'data-group="{group}"' in page
    assert "required 94%" in page and "required 97%" in page and "required 90%" in page

    # The estimate a year is the recorded crimes a year x (1 - r) / r of the run's overall rate.
    settings = load_settings(FORCE, landing_dir=".", lake_dir=breaching_lake.lake, need_key=False)
    verdict = load_verdict(settings, SNAPSHOT)
    yearly = unrecorded_a_year(verdict.overall, verdict.window_days)
    assert f"~{whole_number(yearly.estimate)}" in page
    assert f"from {verdict.window_days} report days" in page

    # Worklist: references, reasons, priority and age, most urgent first.
    worklist = pq.read_table(lake.mart_path(breaching_lake.lake, "worklist", FORCE, SNAPSHOT)).to_pylist()
    assert worklist, "the breaching force must have a worklist"
    positions = [page.index(f"<td class='ref'>{item['candidate_ref']}</td>") for item in worklist[:50]]
    assert positions == sorted(positions)
    assert f"Worklist: {len(worklist):,} item(s) to review" in page
    assert "<span class='chip p1'" in page and "unrecorded</span>" in page and " d " in page

    # What changed: the previous run is named and the rates compared.
    assert f"What changed since the previous run ({PREVIOUS_RUN:%d %b %Y})" in page

    # Data quality: the extraction counts, the validation results and a working Data Docs link.
    assert "Validation of the raw snapshots" in page and "passed" in page
    (docs,) = re.findall(r"href='([^']*index\.html)'>Open the Data Docs", page)
    assert (reports / docs).resolve().is_file()


def test_every_mart_of_the_run_sits_beside_the_report_as_csv_and_parquet(breaching_lake):
    reports = breaching_lake.reports()
    page = (reports / "report.html").read_text(encoding="utf-8")
    marts = sorted(path.parent.parent.parent.name for path in
                   (breaching_lake.lake / "marts").glob(f"*/force={FORCE}/snapshot_date={SNAPSHOT}/part-0.parquet"))
    assert {"candidate_outcomes", "recording_rates", "worklist"} <= set(marts)
    for mart in marts:
        original = pq.read_table(lake.mart_path(breaching_lake.lake, mart, FORCE, SNAPSHOT))
        assert pq.read_table(reports / f"{mart}.parquet").equals(original)
        with open(reports / f"{mart}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == original.num_rows
        assert f"href='{mart}.parquet'" in page and f"href='{mart}.csv'" in page


def test_a_period_report_counts_each_day_once_from_its_latest_run(breaching_lake, tmp_path):
    # 28 April: only the run of 27 June still settles it (its 60-day window); the rest, up to the
    # 25th (the 26th and 27th are still maturing), the run of the 28th settles.
    first, last = "2024-04-28", "2024-06-25"
    out = tmp_path / "inspection" / "report.html"
    result = cdi("report", "--force", FORCE, "--from", first, "--to", last, "--lake", str(breaching_lake.lake),
                 "--out", str(out))
    assert result.returncode == 1, result.stderr  # the simulated force breaches its thresholds
    assert result.stderr == ""
    assert result.stdout.strip().splitlines()[-1] == f"  Report: {out}"
    assert f"period report for {FORCE}, report days {first} to {last}: BREACHED" in result.stdout
    page = out.read_text(encoding="utf-8")
    assert_offline(page)
    assert '<div class="verdict BREACHED">' in page

    days = pq.read_table(out.parent / "period_days.parquet").to_pylist()
    rates = pq.read_table(out.parent / "period_rates.parquet").to_pylist()
    overall_days = [row for row in days if row["dimension"] == "overall"]
    assert len({row["report_day"] for row in overall_days}) == len(overall_days)  # each day once
    # Days the last run settles come from it; older ones from the run before.
    latest_window = {row["report_day"]: row["snapshot_date"] for row in overall_days}
    assert {day for day, run in latest_window.items() if run == PREVIOUS_RUN} == {min(latest_window)}
    assert set(latest_window.values()) == {PREVIOUS_RUN, SNAPSHOT}
    (overall,) = [row for row in rates if row["dimension"] == "overall"]
    assert overall["recorded"] == sum(row["recorded"] for row in overall_days)
    assert overall["unrecorded"] == sum(row["unrecorded"] for row in overall_days)
    assert f"{overall['recorded']} of {overall['candidate_crimes']} crimes" in result.stdout
    assert "Report days covered: 59 of 59, from 2 run(s)" in result.stdout

    worklist = pq.read_table(out.parent / "worklist.parquet")
    assert worklist.num_rows > 0 and f"{worklist.num_rows:,} item(s) to review" in page


def test_the_default_place_of_a_period_report(breaching_lake):
    result = cdi("report", "--force", FORCE, "--from", "2024-06-01", "--to", "2024-06-20", "--lake", str(breaching_lake.lake))
    expected = breaching_lake.lake / "reports" / f"force={FORCE}" / "period=2024-06-01_2024-06-20" / "report.html"
    assert result.returncode in (0, 1), result.stderr
    assert Path(result.stdout.strip().splitlines()[-1].split("Report: ", 1)[1]) == expected
    assert expected.is_file()
