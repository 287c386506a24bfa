"""The report in a real browser: headless Chromium opens it from disk, as a registrar would.

The charts must render (SVG with real size), the page must log no error and fetch nothing but
itself. A screenshot of each page is kept under test-artifacts/ for people to look at.
"""

from __future__ import annotations

import json

import pytest

from tests.report.simulated import FORCE, cdi

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# What rendered, measured by the browser's layout (sizes in CSS pixels).
MEASURE = """
(() => {
  const size = (element) => { const box = element.getBoundingClientRect(); return [box.width, box.height]; };
  const charts = [...document.querySelectorAll('svg.chart')];
  return JSON.stringify({
    charts: charts.map(size),
    trend_panels: document.querySelectorAll('.panel svg.trend').length,
    rate_lines: [...document.querySelectorAll('polyline.rate-line')].map((line) => line.getTotalLength()),
    bands: [...document.querySelectorAll('polygon.band')].map((band) => size(band)[1]),
    bars: [...document.querySelectorAll('rect.bar')].map((bar) => size(bar)[0]),
    required_marks: document.querySelectorAll('.required').length,
    verdict: document.querySelector('.verdict .status').textContent,
    verdict_top: document.querySelector('.verdict').getBoundingClientRect().top,
    worklist_rows: document.querySelectorAll('#worklist td.ref').length,
    page_height: document.documentElement.scrollHeight,
  });
})()
"""


# Whether each worklist row folded away under "Show N more" is visible (rendered, not skipped).
FOLDED_ROWS = "JSON.stringify([...document.querySelectorAll('#worklist details td.ref')].map((td) => td.checkVisibility()))"


def visit(browser, page_file, screenshot):
    url = page_file.resolve().as_uri()
    visited, session = browser.open(url)
    measured = json.loads(browser.evaluate(session, MEASURE))
    # On screen the folded rows take no room; printed (evidence handed to inspectors) they all show.
    measured["folded_rows_on_screen"] = json.loads(browser.evaluate(session, FOLDED_ROWS))
    browser.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
    measured["folded_rows_printed"] = json.loads(browser.evaluate(session, FOLDED_ROWS))
    browser.send("Emulation.setEmulatedMedia", {"media": ""}, session=session)
    browser.screenshot(session, screenshot)
    return visited, measured, url


def assert_rendered_offline(visited, measured, url):
    assert visited.errors == []
    assert visited.requests == [url]  # the page itself, and nothing else
    assert measured["charts"] and all(width > 200 and height > 40 for width, height in measured["charts"])
    assert measured["bars"] and all(width > 0 for width in measured["bars"])
    assert measured["required_marks"] > 0


def test_the_run_report_renders_in_chromium(browser, breaching_lake, artefacts):
    screenshot = artefacts / "report-run.png"
    visited, measured, url = visit(browser, breaching_lake.reports() / "report.html", screenshot)
    assert_rendered_offline(visited, measured, url)
    assert measured["verdict"] == "BREACHED" and measured["verdict_top"] < 200  # the verdict is at the top
    assert measured["trend_panels"] >= 4  # all crimes, violence, sexual offences, referrals at least
    assert len(measured["rate_lines"]) >= 4 and all(length > 50 for length in measured["rate_lines"])
    assert all(height > 5 for height in measured["bands"])
    assert measured["worklist_rows"] > 0
    assert measured["folded_rows_on_screen"] and not any(measured["folded_rows_on_screen"])
    assert all(measured["folded_rows_printed"])
    assert screenshot.stat().st_size > 50_000


def test_a_period_report_renders_in_chromium(browser, breaching_lake, artefacts, tmp_path):
    out = tmp_path / "period" / "report.html"
    result = cdi("report", "--force", FORCE, "--from", "2024-05-01", "--to", "2024-06-25",
                 "--lake", str(breaching_lake.lake), "--out", str(out))
    assert result.returncode == 1, result.stderr
    screenshot = artefacts / "report-period.png"
    visited, measured, url = visit(browser, out, screenshot)
    assert_rendered_offline(visited, measured, url)
    assert measured["trend_panels"] >= 4


def test_the_browser_check_sees_a_request_and_a_blocked_one(browser, tmp_path):
    """The instrument itself: a page that fetches is caught, and the report's policy blocks the fetch."""
    open_page = tmp_path / "open.html"
    open_page.write_text('<!doctype html><img src="http://127.0.0.1:9/pixel.png">', encoding="utf-8")
    visited, _ = browser.open(open_page.as_uri())
    assert "http://127.0.0.1:9/pixel.png" in visited.requests

    from pipelines.report import CSP

    guarded = tmp_path / "guarded.html"
    guarded.write_text(f'<!doctype html><meta http-equiv="Content-Security-Policy" content="{CSP}">'
                       '<img src="http://127.0.0.1:9/pixel.png">', encoding="utf-8")
    visited, _ = browser.open(guarded.as_uri())
    # Chromium reports the attempt, then its blocking: the report tests count both as failures.
    assert [failure.get("blockedReason") for failure in visited.failed_requests] == ["csp"]
    assert visited.errors
