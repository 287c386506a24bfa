"""The registrar's report for one run: one self-contained HTML file, plus the worklist and marts.

The page opens offline on a closed network: no script, font, stylesheet or image from anywhere;
charts are inline SVG. Everything on it is a reference, a code, a count or a rate: no personal
data exists in the marts it reads.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from pipelines import lake, outputs
from pipelines.settings import Settings
from pipelines.verdict import RateLine, Verdict, load_verdict, percent, rate_with_interval

WORKLIST_ROWS_ON_PAGE = 200
CHART_WIDTH = 640
BAR_HEIGHT = 22
LABEL_WIDTH = 260

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:70rem;color:#1b1b1b;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
.verdict{padding:1rem 1.2rem;border-radius:6px;margin:1rem 0;font-size:1.05rem}
.BREACHED{background:#fde8e8;border-left:6px solid #b3261e}.PASSED{background:#e7f5ea;border-left:6px solid #1e7b34}
.NOT_EVALUATED{background:#fff4e0;border-left:6px solid #b26a00}
table{border-collapse:collapse;width:100%;font-size:.9rem} th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums} .breach{color:#b3261e;font-weight:600}
.muted{color:#666;font-size:.85rem} svg text{font-size:12px;fill:#1b1b1b}
"""


def _rate_chart(lines: list[RateLine], title: str) -> str:
    """Horizontal bars of recording rate with 95% interval whiskers and threshold ticks."""
    usable = [line for line in lines if line.recording_rate is not None]
    if not usable:
        return "<p class='muted'>No matured candidate crimes in this group.</p>"
    height = BAR_HEIGHT * len(usable) + 30
    scale = (CHART_WIDTH - LABEL_WIDTH - 20) / 1.0
    parts = [
        f"<svg role='img' aria-label='{html.escape(title)}' width='{CHART_WIDTH}' height='{height}' "
        f"viewBox='0 0 {CHART_WIDTH} {height}' xmlns='http://www.w3.org/2000/svg'>"
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = LABEL_WIDTH + tick * scale
        parts.append(f"<line x1='{x:.1f}' y1='0' x2='{x:.1f}' y2='{height - 20}' stroke='#eee'/>")
        parts.append(f"<text x='{x:.1f}' y='{height - 5}' text-anchor='middle'>{int(tick * 100)}%</text>")
    for index, line in enumerate(usable):
        y = index * BAR_HEIGHT + 4
        colour = "#b3261e" if line.breached else "#2f6db5"
        width = line.recording_rate * scale
        parts.append(f"<text x='{LABEL_WIDTH - 8}' y='{y + 13}' text-anchor='end'>{html.escape(line.group)}</text>")
        parts.append(
            f"<rect class='bar' x='{LABEL_WIDTH}' y='{y}' width='{width:.1f}' height='{BAR_HEIGHT - 8}' fill='{colour}'>"
            f"<title>{html.escape(line.group)}: {html.escape(rate_with_interval(line))}</title></rect>"
        )
        low, high = LABEL_WIDTH + line.ci_lower * scale, LABEL_WIDTH + line.ci_upper * scale
        middle = y + (BAR_HEIGHT - 8) / 2
        parts.append(f"<line x1='{low:.1f}' y1='{middle}' x2='{high:.1f}' y2='{middle}' stroke='#111' stroke-width='1.5'/>")
        for x in (low, high):
            parts.append(f"<line x1='{x:.1f}' y1='{y + 2}' x2='{x:.1f}' y2='{y + BAR_HEIGHT - 10}' stroke='#111'/>")
        if line.threshold is not None:
            tx = LABEL_WIDTH + (1 - line.threshold) * scale
            parts.append(
                f"<line x1='{tx:.1f}' y1='{y - 2}' x2='{tx:.1f}' y2='{y + BAR_HEIGHT - 6}' stroke='#b26a00' "
                "stroke-width='2' stroke-dasharray='3,2'/>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _rates_table(lines: list[RateLine]) -> str:
    rows = []
    for line in lines:
        css = " class='breach'" if line.breached else ""
        rows.append(
            f"<tr{css}><td>{html.escape(line.group)}</td><td class='num'>{line.candidate_crimes}</td>"
            f"<td class='num'>{line.recorded}</td><td class='num'>{line.unrecorded}</td>"
            f"<td class='num'>{percent(line.recording_rate)}</td>"
            f"<td class='num'>{percent(line.ci_lower)} to {percent(line.ci_upper)}</td>"
            f"<td class='num'>{percent(line.share_within_24h)}</td>"
            f"<td class='num'>{'' if line.threshold is None else percent(1 - line.threshold)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Group</th><th class='num'>Should be recorded</th><th class='num'>Recorded</th>"
        "<th class='num'>Unrecorded</th><th class='num'>Recording rate</th><th class='num'>95% interval</th>"
        "<th class='num'>Within 24 h</th><th class='num'>Required rate</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _worklist_table(worklist: list[dict]) -> str:
    if not worklist:
        return "<p>No worklist items.</p>"
    rows = [
        f"<tr><td class='num'>{item['priority']}</td><td>{html.escape(item['candidate_ref'])}</td>"
        f"<td>{html.escape(item['route'])}</td><td>{html.escape(item['crime_group'] or '')}</td>"
        f"<td>{html.escape(item['reason_codes'])}</td><td class='num'>{item['unrecorded_crimes']}</td>"
        f"<td class='num'>{item['age_hours']}</td></tr>"
        for item in worklist[:WORKLIST_ROWS_ON_PAGE]
    ]
    more = len(worklist) - WORKLIST_ROWS_ON_PAGE
    note = f"<p class='muted'>{more} more items in worklist.csv.</p>" if more > 0 else ""
    return (
        "<table><thead><tr><th class='num'>Priority</th><th>Reference</th><th>Route</th><th>Crime group</th>"
        "<th>Reasons</th><th class='num'>Unrecorded crimes</th><th class='num'>Age (hours)</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + note
    )


def _extraction_table(settings: Settings, snapshot_date: dt.date) -> str:
    rows = []
    for source in ("incidents", "crimes", "referrals"):
        manifest = lake.manifest_path(settings.lake_dir, "extract", source, settings.force, snapshot_date)
        if not manifest.exists():
            continue
        stats = lake.read_json(manifest)
        rows.append(
            f"<tr><td>{source}</td><td class='num'>{stats['rows_in']}</td><td class='num'>{stats['rows_accepted']}</td>"
            f"<td class='num'>{stats['rows_quarantined']}</td><td class='num'>{stats['clock_change_notes']}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Source</th><th class='num'>Rows in</th><th class='num'>Accepted</th>"
        "<th class='num'>Quarantined</th><th class='num'>Clock-change notes</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def render_report(settings: Settings, verdict: Verdict, worklist: list[dict]) -> str:
    overall = verdict.overall
    groups = [line for line in verdict.rates if line.dimension == "crime_group"]
    routes = [line for line in verdict.rates if line.dimension == "route"]
    headline = (
        f"Recording rate {rate_with_interval(overall)}" if overall is not None else "No matured candidate crimes"
    )
    breaches = "".join(f"<li>{html.escape(b['description'])}</li>" for b in verdict.breaches)
    warnings = "".join(f"<li>{html.escape(w['description'])}</li>" for w in verdict.warnings)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Crime recording: {html.escape(verdict.force)} {verdict.snapshot_date.isoformat()}</title>
<style>{STYLE}</style></head><body>
<h1>Crime data integrity: {html.escape(verdict.force)}</h1>
<p class="muted">Snapshot {verdict.snapshot_date.isoformat()} &middot; reports over matured days in the
{settings.lookback_days}-day window (last {settings.maturity_lag_days} days excluded while still being recorded)</p>
<div class="verdict {verdict.status.replace(' ', '_')}"><strong>{verdict.status}</strong>: {html.escape(headline)}.
{'<ul>' + breaches + '</ul>' if breaches else ''}{'<p>Warnings:</p><ul>' + warnings + '</ul>' if warnings else ''}
<div>{verdict.worklist_items} items on the worklist.</div></div>
<h2>Recording rate by crime group</h2>
{_rate_chart(groups, 'Recording rate by crime group with 95% intervals')}
<p class="muted">Bars: recording rate; black whiskers: 95% Wilson interval; dashed orange: required rate.</p>
{_rates_table(([overall] if overall else []) + groups)}
<h2>Recording rate by route</h2>
{_rate_chart(routes, 'Recording rate by route with 95% intervals')}
{_rates_table(routes)}
<h2>Worklist</h2>
{_worklist_table(worklist)}
<h2>Data quality</h2>
{_extraction_table(settings, verdict.snapshot_date)}
<p class="muted">Validation results: <a href="validation_raw.json">validation_raw.json</a>,
gate: <a href="gate.json">gate.json</a>. Automated screening finds candidates: whether a report
was a crime is an auditor's judgement.</p>
</body></html>
"""


def publish_report(settings: Settings, snapshot_date: dt.date) -> dict:
    """Write report.html, worklist.csv and the marts as CSV beside them; return their paths."""
    reports = lake.reports_dir(settings.lake_dir, settings.force, snapshot_date)
    worklist_table = outputs.read_mart(settings.lake_dir, "worklist", settings.force, snapshot_date)
    worklist_file = outputs.write_csv(worklist_table, reports / "worklist.csv")
    for mart in ("recording_rates", "candidate_outcomes"):
        outputs.write_csv(outputs.read_mart(settings.lake_dir, mart, settings.force, snapshot_date), reports / f"{mart}.csv")
    verdict = load_verdict(settings, snapshot_date)
    report_file = lake.write_text(render_report(settings, verdict, worklist_table.to_pylist()), reports / "report.html")
    return {"report": str(report_file), "worklist": str(worklist_file), "status": verdict.status}


def report_path(settings: Settings, snapshot_date: dt.date) -> Path:
    return lake.reports_dir(settings.lake_dir, settings.force, snapshot_date) / "report.html"
