"""The page from a hand-made `ReportPage`: words, escaping, and a page with nothing to show yet."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import charts
from pipelines.report_page import QualitySummary, ReportPage, TrendPanel, age_words, one_in, render_page
from pipelines.verdict import RateLine

pytestmark = pytest.mark.unit

HOSTILE = '<img src=x onerror="alert(1)">'


def line(dimension: str, group: str, recorded: int, unrecorded: int, threshold: float | None) -> RateLine:
    total = recorded + unrecorded
    return RateLine(dimension, group, total, recorded, unrecorded, recorded / total, recorded / total - 0.05,
                    min(1.0, recorded / total + 0.05), 0.93, threshold, recorded_within_24h=int(recorded * 0.93))


def page(**changes) -> ReportPage:
    fields = dict(
        force="KNT", title="Crime data integrity: KNT", subtitle="Daily run", scope="58 report days",
        status="BREACHED", breaches=["overall: unrecorded rate 20.0% above the threshold 5.0%"], warnings=[],
        rates=[line("overall", "ALL", 800, 200, 0.05), line("crime_group", "VIOLENCE_AGAINST_THE_PERSON", 400, 150, 0.06),
               line("route", "REFERRAL", 50, 20, 0.10)],
        window_days=58, min_share_within_24h=0.9,
        trend=[TrendPanel("All crimes", "ALL", [charts.TrendPoint(dt.date(2024, 6, d), dt.date(2024, 6, d + 6), 0.8, 0.75, 0.85, 140, 7)
                                                for d in (1, 8, 15)], 0.95)],
        trend_first_day=dt.date(2024, 3, 30), trend_last_day=dt.date(2024, 6, 27), unsettled_from=dt.date(2024, 6, 26),
        trend_note="", trend_title="Recording rate over the last 90 days", trend_bin_days=7,
        changes=None, changes_note="first run", record_changes=None,
        worklist=[{"priority": 1, "candidate_ref": HOSTILE, "route": "CALL", "crime_group": "SEXUAL_OFFENCES",
                   "reason_codes": "UNRECORDED|DOWNGRADED", "unrecorded_crimes": 1, "age_hours": 50.2}],
        worklist_note="", quality=QualitySummary(quarantine_reasons=[(f"incidents: {HOSTILE}", 2)]),
        data_docs_href=None, downloads=[("worklist.csv", "worklist.csv")],
    )
    fields.update(changes)
    return ReportPage(**fields)


def test_source_text_is_escaped_everywhere():
    html = render_page(page())
    assert HOSTILE not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_the_verdict_in_words():
    html = render_page(page())
    assert "about 1 in 5 crimes reported was not recorded" in html
    # 200 unrecorded over 58 days: 800 recorded a year-scaled x 0.2 / 0.8.
    assert f"~{round(800 * 365.25 / 58 * 0.25):,}" in html
    assert "P1</span>" in html and "50 h" not in html and "2 d 2 h" in html
    assert "required 95%" in html  # the trend's threshold line


def test_a_questioned_cancellation_says_why_it_does_not_stand():
    item = {"priority": 2, "candidate_ref": "KNT-9", "route": "CALL", "crime_group": "VIOLENCE_AGAINST_THE_PERSON",
            "reason_codes": "UNRECORDED|CANCELLED_QUESTIONABLE", "unrecorded_crimes": 1, "age_hours": 30.0,
            "cancellation_issues": "KNT/24/1: C3 but the victim has no other record"}
    html = render_page(page(worklist=[item]))
    assert "cancelled questionable" in html and "KNT/24/1: C3 but the victim has no other record" in html


def test_a_page_with_no_settled_days_still_renders():
    html = render_page(page(status="NOT EVALUATED", breaches=[], rates=[], trend=[], worklist=[], window_days=None))
    assert '<div class="verdict NOT_EVALUATED">' in html and "No settled report days to judge yet." in html
    assert "No worklist items." in html


@pytest.mark.parametrize(("rate", "words"), [(0.302, "about 1 in 3"), (0.164, "about 1 in 6"), (0.0, "none")])
def test_one_in(rate, words):
    assert one_in(rate) == words


def test_age_words():
    assert (age_words(5.4), age_words(50.2), age_words(None)) == ("5 h", "2 d 2 h", "")


def test_the_latest_point_says_how_many_days_it_pools():
    full = page()
    assert "latest week 80.0%" in render_page(full)
    # a bin at the edge of the runs covers 5 report days: not called a week
    points = full.trend[0].points[:-1] + [charts.TrendPoint(dt.date(2024, 6, 22), dt.date(2024, 6, 28), 0.7, 0.6, 0.8, 90, 5)]
    html = render_page(page(trend=[TrendPanel("All crimes", "ALL", points, 0.95)]))
    assert "latest 5 days 70.0%" in html and "latest week" not in html
    # a group with candidates on 4 days of a full week: still a week (the bin covers 7 report days)
    sparse = [charts.TrendPoint(dt.date(2024, 6, 15), dt.date(2024, 6, 21), 0.5, 0.2, 0.8, 6, 4)]
    html = render_page(page(trend=[full.trend[0], TrendPanel("Robbery", "ROBBERY", sparse, None)]))
    assert "latest week 50.0%" in html and "latest 4 days" not in html


def test_flagged_groups_and_the_share_interval_are_shown():
    flagged = [line("domestic_abuse", "FLAGGED", 60, 40, None), line("rape_report", "RAPE_REPORT", 20, 5, None)]
    overall = RateLine("overall", "ALL", 1000, 800, 200, 0.8, 0.75, 0.85, 0.93, 0.05, recorded_within_24h=744,
                       share_ci_lower=0.912, share_ci_upper=0.946)
    html = render_page(page(rates=[overall, *page().rates[1:], *flagged]))
    assert "Domestic abuse and rape reports" in html
    assert "Domestic abuse (flagged)" in html and "Rape reports" in html
    assert "95% CI 91.2% to 94.6%" in html  # the share card
