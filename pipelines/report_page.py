"""The registrar's report page: a `ReportPage` rendered as one self-contained HTML file.

The page opens offline on a closed network: no script, font, stylesheet or image from anywhere,
and its Content-Security-Policy forbids fetching any; charts are inline SVG (`pipelines.charts`),
hover text comes from ``title`` attributes. Its sections, top to bottom: the verdict, four
headline figures, the trend, rates by crime group and route, timeliness, unrecorded crimes a
year, what changed since the previous run, the worklist, data quality and the files beside it.
What goes on a page is gathered by `pipelines.report`; this module only words and draws it.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

from pipelines import charts, history
from pipelines.reconcile import wilson
from pipelines.verdict import FLAG_DIMENSIONS, RateLine, change_in_points, percent, unrecorded_a_year, whole_number

WORKLIST_ROWS_OPEN = 25
WORKLIST_ROWS_ON_PAGE = 200
CHANGED_ROWS_ON_PAGE = 50
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

PRIORITY_LABELS = {
    1: "Sexual offences or rape",
    2: "Domestic abuse",
    3: "Vulnerable victim",
    4: "Violence",
    5: "Other",
}
REASON_LABELS = {
    "UNRECORDED": "no crime record after 24 hours",
    "UNDER_COUNTED": "fewer crimes recorded than victims",
    "CANCELLED_QUESTIONABLE": "cancellation without the right code or authority",
    "DOWNGRADED": "crime-coded call closed as a non-crime",
    "RAPE_REPORT_UNRESOLVED": "rape report neither recorded, classified N100 nor transferred",
}
ROUTE_LABELS = {
    "CALL": "Calls and contacts",
    "REFERRAL": "Referrals (public protection, partners)",
    "OTHER": "Other (no incident or referral)",
}
# The flagged groups the rates also cover (recording_rates: dimensions domestic_abuse, rape_report).
FLAG_LABELS = {
    "FLAGGED": "Domestic abuse (flagged)",
    "RAPE_REPORT": "Rape reports",
}

STYLE = """
:root{--ink:#1b1b1b;--muted:#5f6368;--line:#e3e3e3;--breach:#b3261e;--meets:#1e7b34;--warn:#b26a00;--accent:#1d3f6e}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:0;color:var(--ink);background:#f6f7f9;line-height:1.45}
header.top{background:var(--accent);color:#fff;padding:1.1rem 2rem}
header.top h1{margin:0;font-size:1.45rem;font-weight:650}
header.top p{margin:.25rem 0 0;opacity:.85;font-size:.92rem}
main{max-width:76rem;margin:0 auto;padding:1.2rem 2rem 3rem}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:1rem 1.4rem 1.2rem;margin:1.1rem 0;overflow-x:auto}
h2{font-size:1.15rem;margin:.2rem 0 .7rem} h3{font-size:.95rem;margin:.2rem 0}
.verdict{border-radius:8px;padding:1rem 1.4rem;margin:1.1rem 0;border:1px solid var(--line);border-left-width:10px;background:#fff}
.verdict .status{font-size:1.7rem;font-weight:750;letter-spacing:.02em;margin-right:.6rem}
.verdict .headline{font-size:1.15rem}
.verdict ul{margin:.5rem 0 0;padding-left:1.2rem} .verdict li{margin:.15rem 0}
.BREACHED{border-left-color:var(--breach)} .BREACHED .status{color:var(--breach)}
.PASSED{border-left-color:var(--meets)} .PASSED .status{color:var(--meets)}
.NOT_EVALUATED{border-left-color:var(--warn)} .NOT_EVALUATED .status{color:var(--warn)}
.warning{background:#fff4e0;border-radius:6px;padding:.45rem .8rem;margin:.5rem 0;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(15rem,1fr));gap:1rem;margin:1.1rem 0}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.9rem 1.1rem;border-top:5px solid var(--accent)}
.card.bad{border-top-color:var(--breach)} .card.good{border-top-color:var(--meets)}
.card .label{color:var(--muted);font-size:.85rem;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:2rem;font-weight:700;margin:.15rem 0;font-variant-numeric:tabular-nums}
.card.bad .value{color:var(--breach)}
.card .detail{color:var(--muted);font-size:.85rem}
.trends{display:grid;grid-template-columns:repeat(auto-fill,minmax(21.5rem,1fr));gap:.9rem 1.2rem}
.panel h3{display:flex;justify-content:space-between;align-items:baseline;gap:.5rem;font-size:.9rem} .panel h3 .now{font-weight:500;color:var(--muted);white-space:nowrap;font-size:.82rem}
.panel h3 .now.bad{color:var(--breach);font-weight:650}
svg.chart{max-width:100%;height:auto;display:block} svg text{font-family:inherit}
.legend{color:var(--muted);font-size:.82rem;margin:.4rem 0 .8rem}
.legend .key{display:inline-block;width:1.6rem;height:.55rem;vertical-align:middle;margin:0 .3rem 0 .8rem;border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin-top:.6rem}
th,td{text-align:left;padding:.32rem .55rem;border-bottom:1px solid #eee;vertical-align:top}
th{background:#fafafa;font-weight:600;color:#333}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.breach td{color:var(--breach)} tr.breach td:first-child{font-weight:650}
.ref{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.84rem;white-space:nowrap}
.chip{display:inline-block;border-radius:999px;padding:.05rem .55rem;font-size:.76rem;margin:.05rem .2rem .05rem 0;background:#eef1f5;white-space:nowrap}
.chip.reason{background:#fde8e8;color:#7c1d16} .chip.p1{background:#7c1d16;color:#fff} .chip.p2{background:#b3261e;color:#fff}
.chip.p3{background:#d9822b;color:#fff} .chip.p4{background:#e8b04a} .chip.p5{background:#e0e0e0}
.up{color:var(--meets)} .down{color:var(--breach)}
.muted{color:var(--muted);font-size:.86rem}
details summary{cursor:pointer;color:var(--accent);margin:.6rem 0}
a{color:var(--accent)}
.ok{color:var(--meets);font-weight:600} .fail{color:var(--breach);font-weight:600}
footer{color:var(--muted);font-size:.82rem;max-width:76rem;margin:0 auto;padding:0 2rem 2rem}
@media print{body{background:#fff} section,.card,.verdict{break-inside:avoid} header.top{background:#fff;color:#000}
details::details-content{content-visibility:visible;display:block} details>summary{display:none}}
"""


# ----------------------------------------------------------------------------- what a page holds
@dataclass
class TrendPanel:
    title: str
    code: str
    points: list[charts.TrendPoint]
    required: float | None


@dataclass
class QualitySummary:
    extraction: list[dict] = field(default_factory=list)  # one per source and snapshot
    validation: list[dict] = field(default_factory=list)  # outcomes from validation_raw.json
    quarantine_reasons: list[tuple[str, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportPage:
    force: str
    title: str
    subtitle: str
    scope: str  # which report days the rates count, in words
    status: str  # PASSED, BREACHED or NOT EVALUATED
    breaches: list[str]
    warnings: list[str]
    rates: list[RateLine]
    window_days: int | None
    min_share_within_24h: float | None
    trend: list[TrendPanel]
    trend_first_day: dt.date
    trend_last_day: dt.date
    unsettled_from: dt.date | None
    trend_note: str
    trend_title: str
    trend_bin_days: int
    changes: history.Changes | None
    changes_note: str
    record_changes: list[dict] | None  # the record_changes mart of the run, where the lake has one
    worklist: list[dict]
    worklist_note: str
    quality: QualitySummary
    data_docs_href: str | None
    downloads: list[tuple[str, str]]
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    @property
    def overall(self) -> RateLine | None:
        return next((line for line in self.rates if line.dimension == "overall"), None)

    def lines(self, dimension: str) -> list[RateLine]:
        return [line for line in self.rates if line.dimension == dimension]


# ----------------------------------------------------------------------------- words and numbers
def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def group_label(code: str | None) -> str:
    if code is None:
        return "Unknown"
    if code in ROUTE_LABELS:
        return ROUTE_LABELS[code]
    if code in FLAG_LABELS:
        return FLAG_LABELS[code]
    if code == "ALL":
        return "All crimes"
    return code.replace("_", " ").capitalize()


def one_in(unrecorded_rate: float | None) -> str:
    """0.302 -> 'about 1 in 3', as the inspectorate words it."""
    if not unrecorded_rate:
        return "none"
    return f"about 1 in {round(1 / unrecorded_rate)}"


def interval(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "n/a"
    return f"{low * 100:.1f}% to {high * 100:.1f}%"


def age_words(hours: float | None) -> str:
    if hours is None:
        return ""
    days, rest = divmod(int(round(hours)), 24)
    return f"{days} d {rest} h" if days else f"{rest} h"


def required_rate(line: RateLine) -> float | None:
    return None if line.threshold is None else 1 - line.threshold


def _colour(line: RateLine) -> str:
    if line.threshold is None:
        return charts.NEUTRAL
    return charts.BREACH if line.breached else charts.MEETS


# ----------------------------------------------------------------------------- sections
def _verdict_section(page: ReportPage) -> str:
    overall = page.overall
    if overall is not None and overall.recording_rate is not None:
        unrecorded = 1 - overall.recording_rate
        headline = (
            f"Recording rate {percent(overall.recording_rate)} (95% CI {interval(overall.ci_lower, overall.ci_upper)}): "
            f"{one_in(unrecorded)} crimes reported {'was' if unrecorded else 'were'} not recorded."
            if unrecorded else f"Recording rate {percent(overall.recording_rate)}: every crime reported was recorded."
        )
    else:
        headline = "No settled report days to judge yet."
    warnings = "".join(f'<div class="warning">Warning: {_e(text)}</div>' for text in page.warnings)
    breaches = "".join(f"<li>{_e(text)}</li>" for text in page.breaches)
    status_class = page.status.replace(" ", "_")
    return (
        f'<div class="verdict {status_class}"><span class="status">{_e(page.status)}</span>'
        f'<span class="headline">{_e(headline)}</span>{warnings}'
        f"{'<ul>' + breaches + '</ul>' if breaches else ''}"
        f'<p class="muted">{_e(page.scope)}</p></div>'
    )


def _cards(page: ReportPage) -> str:
    overall = page.overall
    cards = []
    if overall is not None and overall.recording_rate is not None:
        required = required_rate(overall)
        cards.append(_card(
            "Recording rate", percent(overall.recording_rate),
            f"95% CI {interval(overall.ci_lower, overall.ci_upper)}; "
            f"{overall.recorded:,} of {overall.candidate_crimes:,} crimes"
            + (f"; required {percent(required)}" if required is not None else ""),
            "bad" if overall.breached else "good" if required is not None else "",
        ))
        yearly = unrecorded_a_year(overall, page.window_days)
        if yearly is not None:
            cards.append(_card(
                "Crimes not recorded a year", f"~{whole_number(yearly.estimate)}",
                f"estimate, 95% CI {whole_number(yearly.low)} to {whole_number(yearly.high)}; "
                # Coloured as the gate judged the rate it comes from: a passing force still has some.
                f"from {page.window_days} report days",
                "bad" if overall.breached else "good" if required is not None else "",
            ))
        if overall.share_within_24h is not None:
            slow = page.min_share_within_24h is not None and overall.share_within_24h < page.min_share_within_24h
            cards.append(_card(
                "Recorded within 24 hours", percent(overall.share_within_24h),
                f"of {overall.recorded:,} recorded crimes"
                + (f"; 95% CI {interval(overall.share_ci_lower, overall.share_ci_upper)}"
                   if overall.share_ci_lower is not None and overall.share_ci_upper is not None else "")
                + (f"; required {percent(page.min_share_within_24h)}" if page.min_share_within_24h is not None else ""),
                "bad" if slow else "good" if page.min_share_within_24h is not None else "",
            ))
    first_priority = sum(1 for item in page.worklist if item.get("priority") == 1)
    cards.append(_card(
        "Worklist", f"{len(page.worklist):,}",
        f"{first_priority:,} about sexual offences or rape; oldest first within each priority", "",
    ))
    return '<div class="cards">' + "".join(cards) + "</div>"


def _card(label: str, value: str, detail: str, tone: str) -> str:
    return (
        f'<div class="card {tone}"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div>'
        f'<div class="detail">{_e(detail)}</div></div>'
    )


def _trend_section(page: ReportPage) -> str:
    if not page.trend:
        return ""
    panels = []
    # The report days each bin covers, from the all-crimes panel (a group's point counts only the
    # days it had candidates on; the bin covers the same days for every group).
    covered = {(point.first_day, point.last_day): point.days for point in page.trend[0].points}
    for panel in page.trend:
        latest = next((point for point in reversed(panel.points) if point.rate is not None), None)
        now = ""
        if latest is not None:
            below = panel.required is not None and latest.rate < panel.required
            # A bin at the edge of the runs covers fewer report days than its width: say so.
            days = covered.get((latest.first_day, latest.last_day), latest.days)
            latest_label = "latest week" if days == 7 else f"latest {days} day{'s' if days != 1 else ''}"
            now = f'<span class="now{" bad" if below else ""}">{latest_label} {percent(latest.rate)}</span>'
        chart = charts.trend_chart(
            panel.points, label=f"{panel.title}: weekly recording rate with 95% interval",
            first_day=page.trend_first_day, last_day=page.trend_last_day, required=panel.required,
            unsettled_from=page.unsettled_from,
        )
        panels.append(
            f'<div class="panel" data-group="{_e(panel.code)}"><h3><span title="{_e(panel.code)}">'
            f"{_e(panel.title)}</span>{now}</h3>{chart}</div>"
        )
    return (
        f"<section id='trend'><h2>{_e(page.trend_title)}</h2>"
        f'<p class="legend"><span class="key" style="background:rgba(59,110,165,.25)"></span>95% interval'
        f'<span class="key" style="background:#3b6ea5;height:.18rem"></span>recording rate, one point '
        f'{"a week" if page.trend_bin_days == 7 else f"per {page.trend_bin_days} days"}'
        f'<span class="key" style="border-top:2px dashed #b26a00;height:0"></span>required rate'
        + ('<span class="key" style="background:#f2f2f2"></span>days still being recorded' if page.unsettled_from else "")
        + f'</p>'
        f'<div class="trends">{"".join(panels)}</div><p class="muted">{_e(page.trend_note)}</p></section>'
    )


def _rate_bars(lines: list[RateLine], label: str) -> str:
    bars = [
        charts.Bar(
            label=group_label(line.group), value=line.recording_rate, low=line.ci_lower, high=line.ci_upper,
            colour=_colour(line), marker=required_rate(line),
            note=f"{percent(line.recording_rate)}  n={line.candidate_crimes:,}",
            tooltip=f"{group_label(line.group)}: {percent(line.recording_rate)} "
                    f"(95% CI {interval(line.ci_lower, line.ci_upper)}), {line.recorded:,} of {line.candidate_crimes:,}",
        )
        for line in lines
    ]
    return charts.bar_chart(bars, label=label)


def _rates_table(lines: list[RateLine], window_days: int | None) -> str:
    rows = []
    for line in lines:
        yearly = unrecorded_a_year(line, window_days)
        required = required_rate(line)
        row_class = ' class="breach"' if line.breached else ""
        rows.append(
            f"<tr{row_class}><td title='{_e(line.group)}'>{_e(group_label(line.group))}</td>"
            f"<td class='num'>{line.candidate_crimes:,}</td><td class='num'>{line.recorded:,}</td>"
            f"<td class='num'>{line.unrecorded:,}</td><td class='num'>{percent(line.recording_rate)}</td>"
            f"<td class='num'>{interval(line.ci_lower, line.ci_upper)}</td>"
            f"<td class='num'>{'' if required is None else percent(required)}</td>"
            f"<td class='num'>{percent(line.share_within_24h)}</td>"
            f"<td class='num'>{'' if yearly is None else whole_number(yearly.estimate)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>Group</th><th class='num'>Should be recorded</th><th class='num'>Recorded</th>"
        "<th class='num'>Not recorded</th><th class='num'>Recording rate</th><th class='num'>95% interval</th>"
        "<th class='num'>Required</th><th class='num'>Within 24 h</th><th class='num'>Not recorded a year (est.)</th>"
        "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _rates_section(page: ReportPage) -> str:
    overall = [page.overall] if page.overall is not None else []
    groups = sorted(page.lines("crime_group"), key=lambda line: -line.candidate_crimes)
    routes = page.lines("route")
    flagged = [line for dimension in FLAG_DIMENSIONS for line in page.lines(dimension)]
    return (
        "<section id='rates'><h2>Recording rate by crime group</h2>"
        '<p class="legend"><span class="key" style="background:#b3261e"></span>below the required rate'
        '<span class="key" style="background:#1e7b34"></span>meets it'
        '<span class="key" style="background:#3b6ea5"></span>no required rate set'
        '<span class="key" style="border-top:2px dashed #b26a00;height:0"></span>required rate; whiskers: 95% interval</p>'
        f"{_rate_bars(overall + groups, 'Recording rate by crime group with 95% intervals')}"
        "<h2 style='margin-top:1.4rem'>Recording rate by route</h2>"
        f"{_rate_bars(routes, 'Recording rate by route with 95% intervals')}"
        + (("<h2 style='margin-top:1.4rem'>Domestic abuse and rape reports</h2>"
            f"{_rate_bars(flagged, 'Recording rate of domestic-abuse crimes and rape reports with 95% intervals')}")
           if flagged else "")
        + "<details><summary>The figures as a table</summary>"
        f"{_rates_table(overall + groups + routes + flagged, page.window_days)}</details></section>"
    )


def _timeliness_section(page: ReportPage) -> str:
    lines = [line for line in ([page.overall] if page.overall else []) + page.lines("crime_group") + page.lines("route")
             if line.share_within_24h is not None]
    if not lines:
        return ""
    bars = []
    for line in lines:
        # The interval the rates carry; worked out here only for lines that came without one.
        low, high = line.share_ci_lower, line.share_ci_upper
        if low is None and line.recorded_within_24h is not None and line.recorded:
            low, high = wilson(line.recorded_within_24h, line.recorded)
        required = page.min_share_within_24h if line.dimension == "overall" else None
        slow = required is not None and line.share_within_24h < required
        bars.append(charts.Bar(
            label=group_label(line.group), value=line.share_within_24h, low=low, high=high,
            colour=charts.BREACH if slow else charts.MEETS if required is not None else charts.NEUTRAL,
            marker=required, note=f"{percent(line.share_within_24h)} of {line.recorded:,}",
            tooltip=f"{group_label(line.group)}: {percent(line.share_within_24h)} of recorded crimes recorded within 24 hours",
        ))
    return (
        "<section id='timeliness'><h2>Recorded within 24 hours of the report</h2>"
        f"{charts.bar_chart(bars, label='Share of recorded crimes recorded within 24 hours, with 95% intervals')}"
        '<p class="muted">Of the crimes that were recorded, the share recorded within 24 hours of the report '
        "(National Crime Recording Standard). The required share applies to all crimes together.</p></section>"
    )


def _year_section(page: ReportPage) -> str:
    lines = page.lines("crime_group") + page.lines("route")
    estimates = [(line, unrecorded_a_year(line, page.window_days)) for line in lines]
    estimates = sorted([(line, yearly) for line, yearly in estimates if yearly is not None], key=lambda pair: -pair[1].estimate)
    if not estimates or page.overall is None:
        return ""
    groups = [(line, yearly) for line, yearly in estimates if line.dimension == "crime_group"]
    top = max((yearly.high or yearly.estimate) for _, yearly in groups) if groups else 1
    axis_max = _nice_ceiling(top)
    bars = [
        charts.Bar(
            label=group_label(line.group), value=yearly.estimate, low=yearly.low, high=yearly.high,
            colour=charts.BREACH if line.breached else charts.NEUTRAL,
            note=f"~{whole_number(yearly.estimate)} a year",
            tooltip=f"{group_label(line.group)}: about {whole_number(yearly.estimate)} crimes a year not recorded "
                    f"(95% CI {whole_number(yearly.low)} to {whole_number(yearly.high)})",
        )
        for line, yearly in groups
    ]
    ticks = tuple(axis_max * step / 4 for step in range(5))
    total = unrecorded_a_year(page.overall, page.window_days)
    return (
        "<section id='unrecorded-a-year'><h2>Where the unrecorded crimes are: estimated a year</h2>"
        f"{charts.bar_chart(bars, label='Estimated unrecorded crimes a year by crime group', axis_max=axis_max, ticks=ticks, tick_format=lambda v: f'{v:,.0f}')}"
        f'<p class="muted">Estimated unrecorded crimes a year = recorded crimes a year &times; (1 &minus; r) / r, '
        f"with r the recording rate and the recorded crimes of the {page.window_days} report days scaled to a year; "
        f"the whiskers put the ends of r's 95% interval in the same formula. All crimes: about "
        f"{whole_number(total.estimate) if total else 'n/a'} a year.</p></section>"
    )


def _nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _changes_section(page: ReportPage) -> str:
    changes = page.changes
    if changes is None:
        return f"<section id='changes'><h2>What changed since the previous run</h2><p class='muted'>{_e(page.changes_note)}</p></section>"
    rows = []
    dimension_order = {"overall": 0, "crime_group": 1, "route": 2}
    for row in sorted(changes.rate_changes, key=lambda row: (dimension_order.get(row["dimension"], 3), row["dimension_value"])):
        before, now = row["previous_rate"], row["recording_rate"]
        if before is None or now is None:
            delta = ""
        else:
            points = change_in_points(now, before)  # as the two figures read
            if points == 0:
                delta = "<span class='muted'>no change</span>"
            else:
                arrow, tone = ("&#9650;", "up") if points > 0 else ("&#9660;", "down")
                delta = f"<span class='{tone}'>{arrow} {points:+.1f} pts</span>"
        rows.append(
            f"<tr><td>{_e(group_label(row['dimension_value']))}</td><td class='num'>{percent(before)}</td>"
            f"<td class='num'>{percent(now)}</td><td class='num'>{delta}</td>"
            f"<td class='num'>{'' if row['candidate_crimes'] is None else format(row['candidate_crimes'], ',')}</td></tr>"
        )
    restated = "".join(
        f"<tr><td>{row['report_day']:%a %d %b %Y}</td><td class='num'>{row['previous_recorded']} / {row['previous_unrecorded']}</td>"
        f"<td class='num'>{row['recorded']} / {row['unrecorded']}</td></tr>"
        for row in changes.restated_days
    )
    transitions: dict[tuple[str, str], int] = {}
    for row in changes.candidate_changes:
        if row["change"] == "OUTCOME_CHANGED":
            key = (row["previous_outcome"], row["outcome"])
            transitions[key] = transitions.get(key, 0) + 1
    transition_rows = "".join(
        f"<tr><td>{_e(before)}</td><td>{_e(after)}</td><td class='num'>{count}</td></tr>"
        for (before, after), count in sorted(transitions.items(), key=lambda item: -item[1])
    )
    vanished = [row for row in changes.candidate_changes if row["change"] == "VANISHED"]
    reclassified = [row for row in changes.candidate_changes if row["change"] == "RECLASSIFIED"]
    appeared = [row for row in changes.candidate_changes if row["change"] == "NEW"]
    attention = "".join(
        f"<tr><td class='ref'>{_e(row['candidate_ref'])}</td><td>{_e(row['change'].lower())}</td>"
        f"<td>{row['report_day']:%d %b}</td><td>{_e(group_label(row['previous_crime_group']) if row['previous_crime_group'] else '')}</td>"
        f"<td>{_e(group_label(row['crime_group']) if row['crime_group'] else '')}</td>"
        f"<td>{_e(row['previous_outcome'] or '')}</td><td>{_e(row['outcome'] or '')}</td></tr>"
        for row in (vanished + reclassified + appeared)[:CHANGED_ROWS_ON_PAGE]
    )
    summary = (
        f"{len(changes.restated_days)} report day(s) restated; {len(transitions) and sum(transitions.values())} "
        f"candidate(s) changed outcome; {len(vanished)} vanished; {len(reclassified)} reclassified; "
        f"{len(appeared)} appeared late on days the previous run had seen"
    )
    return (
        f"<section id='changes'><h2>What changed since the previous run ({changes.previous_snapshot:%d %b %Y})</h2>"
        f"<p>{_e(summary)}.</p>"
        "<table><thead><tr><th>Group</th><th class='num'>Previous run</th><th class='num'>This run</th>"
        "<th class='num'>Change</th><th class='num'>Crimes</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        + (
            "<h3 style='margin-top:1rem'>Restated report days (recorded / not recorded)</h3>"
            "<table><thead><tr><th>Report day</th><th class='num'>Previous run</th><th class='num'>This run</th></tr></thead>"
            f"<tbody>{restated}</tbody></table>" if restated else ""
        )
        + (
            "<h3 style='margin-top:1rem'>Candidates whose outcome changed</h3><table><thead><tr><th>Was</th><th>Now</th>"
            f"<th class='num'>Candidates</th></tr></thead><tbody>{transition_rows}</tbody></table>" if transition_rows else ""
        )
        + (
            "<h3 style='margin-top:1rem'>Candidates that vanished, were reclassified or appeared late</h3>"
            '<p class="muted">A crime-coded call that stops being a candidate, or changes crime group, between '
            "runs deserves the registrar's eye (DOMAIN rule 6).</p>"
            "<table><thead><tr><th>Reference</th><th>Change</th><th>Report day</th><th>Group before</th><th>Group now</th>"
            f"<th>Outcome before</th><th>Outcome now</th></tr></thead><tbody>{attention}</tbody></table>" if attention else ""
        )
        + _record_changes_table(page.record_changes)
        + f'<p class="muted">{_e(page.changes_note)}</p></section>'
    )


RECORD_CHANGE_COLUMNS = (
    ("record_ref", "Reference"), ("source", "System"), ("change", "Change"), ("previous_value", "Before"),
    ("current_value", "Now"), ("report_day", "Report day"),
)


def _record_changes_table(rows: list[dict] | None) -> str:
    """Source records that vanished or stopped being crimes since the previous run (rule 6)."""
    if rows is None:
        return ""
    if not rows:
        return "<h3 style='margin-top:1rem'>Records that vanished or stopped being crimes</h3><p>None since the previous run.</p>"
    tally: dict[str, int] = {}
    for row in rows:
        key = f"{row.get('source', '')} {str(row.get('change', '')).replace('_', ' ').lower()}".strip()
        tally[key] = tally.get(key, 0) + 1
    chips = "".join(f"<span class='chip reason'>{_e(key)}: {count}</span>" for key, count in sorted(tally.items()))
    columns = [(name, title) for name, title in RECORD_CHANGE_COLUMNS if name in rows[0]]
    body = "".join(
        "<tr>" + "".join(
            f"<td class='ref'>{_e(row.get(name))}</td>" if name == "record_ref" else f"<td>{_e(row.get(name) or '')}</td>"
            for name, _ in columns
        ) + "</tr>"
        for row in rows[:CHANGED_ROWS_ON_PAGE]
    )
    more = len(rows) - CHANGED_ROWS_ON_PAGE
    return (
        f"<h3 style='margin-top:1rem'>Records that vanished or stopped being crimes: {len(rows):,}</h3>"
        f"<p>{chips}</p><table><thead><tr>{''.join(f'<th>{_e(title)}</th>' for _, title in columns)}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
        + (f"<p class='muted'>{more:,} more in record_changes.csv.</p>" if more > 0 else "")
    )


def _worklist_row(item: dict) -> str:
    reasons = "".join(
        f"<span class='chip reason' title='{_e(REASON_LABELS.get(code, code))}'>{_e(code.replace('_', ' ').lower())}</span>"
        for code in (item.get("reason_codes") or "").split("|") if code
    )
    if item.get("cancellation_issues"):  # why a questioned cancellation does not stand, record by record
        reasons += f"<div class='muted'>{_e(item['cancellation_issues'])}</div>"
    priority = item.get("priority")
    return (
        f"<tr><td><span class='chip p{priority}' title='{_e(PRIORITY_LABELS.get(priority, ''))}'>P{priority}</span></td>"
        f"<td class='ref'>{_e(item['candidate_ref'])}</td><td>{_e(group_label(item.get('crime_group')))}</td>"
        f"<td>{_e('Referral' if item.get('route') == 'REFERRAL' else 'Call')}</td><td>{reasons}</td>"
        f"<td class='num'>{item.get('unrecorded_crimes', '')}</td><td class='num'>{_e(age_words(item.get('age_hours')))}</td></tr>"
    )


def _worklist_section(page: ReportPage) -> str:
    items = page.worklist
    if not items:
        return f"<section id='worklist'><h2>Worklist</h2><p>No worklist items. {_e(page.worklist_note)}</p></section>"
    head = (
        "<table><thead><tr><th>Priority</th><th>Reference</th><th>Crime group</th><th>Route</th><th>Why it is listed</th>"
        "<th class='num'>Crimes not recorded</th><th class='num'>Age</th></tr></thead><tbody>"
    )
    shown = items[:WORKLIST_ROWS_ON_PAGE]
    first, rest = shown[:WORKLIST_ROWS_OPEN], shown[WORKLIST_ROWS_OPEN:]
    by_priority = {}
    for item in items:
        by_priority[item.get("priority")] = by_priority.get(item.get("priority"), 0) + 1
    counts = ", ".join(f"P{p} {PRIORITY_LABELS.get(p, '').lower()}: {n:,}" for p, n in sorted(by_priority.items()))
    more = len(items) - len(shown)
    return (
        f"<section id='worklist'><h2>Worklist: {len(items):,} item(s) to review</h2><p class='muted'>{_e(counts)}. "
        f"{_e(page.worklist_note)}</p>"
        + head + "".join(_worklist_row(item) for item in first) + "</tbody></table>"
        + (f"<details><summary>Show {len(rest)} more</summary>{head}{''.join(_worklist_row(item) for item in rest)}"
           "</tbody></table></details>" if rest else "")
        + (f"<p class='muted'>{more:,} more in worklist.csv.</p>" if more > 0 else "")
        + "</section>"
    )


def _quality_section(page: ReportPage) -> str:
    quality = page.quality
    per_snapshot = any(row.get("snapshot_date") for row in quality.extraction + quality.validation)

    def snapshot_cell(row: dict) -> str:
        return f"<td>{_e(row.get('snapshot_date'))}</td>" if per_snapshot else ""

    snapshot_head = "<th>Snapshot</th>" if per_snapshot else ""
    extraction = "".join(
        f"<tr>{snapshot_cell(row)}<td>{_e(row['source'])}</td><td class='num'>{row['rows_in']:,}</td>"
        f"<td class='num'>{row['rows_accepted']:,}</td>"
        f"<td class='num{' fail' if row['rows_quarantined'] else ''}'>{row['rows_quarantined']:,}</td>"
        f"<td class='num'>{row.get('clock_change_notes', 0):,}</td></tr>"
        for row in quality.extraction
    )
    validation = "".join(
        f"<tr>{snapshot_cell(outcome)}<td>{_e(outcome['source'])}</td>"
        f"<td class='{'ok' if outcome['success'] else 'fail'}'>{'passed' if outcome['success'] else 'FAILED'}</td>"
        f"<td class='num'>{outcome['successful']} of {outcome['evaluated']}</td>"
        f"<td>{'; '.join(_e(failure) for failure in outcome['failures']) or '&#8211;'}</td></tr>"
        for outcome in quality.validation
    )
    reasons = "".join(f"<tr><td>{_e(reason)}</td><td class='num'>{count:,}</td></tr>" for reason, count in quality.quarantine_reasons)
    docs = (
        f"<p><a href='{_e(page.data_docs_href)}'>Open the Data Docs</a> (every expectation and its result, "
        "from Great Expectations).</p>" if page.data_docs_href else ""
    )
    return (
        "<section id='quality'><h2>Data quality</h2>"
        + docs
        + (f"<h3>Extraction</h3><table><thead><tr>{snapshot_head}<th>Source</th><th class='num'>Rows in</th>"
           "<th class='num'>Accepted</th><th class='num'>Quarantined</th><th class='num'>Clock-change notes</th></tr></thead>"
           f"<tbody>{extraction}</tbody></table>" if extraction else "")
        + ("<h3 style='margin-top:1rem'>Validation of the raw snapshots</h3>"
           f"<table><thead><tr>{snapshot_head}<th>Source</th>"
           "<th>Result</th><th class='num'>Expectations met</th><th>Failures</th></tr></thead>"
           f"<tbody>{validation}</tbody></table>" if validation else "")
        + ("<h3 style='margin-top:1rem'>Why rows were quarantined</h3><table><thead><tr><th>Field and rule</th>"
           f"<th class='num'>Rows</th></tr></thead><tbody>{reasons}</tbody></table>" if reasons else "")
        + "".join(f"<p class='muted'>{_e(note)}</p>" for note in quality.notes)
        + "</section>"
    )


def _downloads_section(page: ReportPage) -> str:
    links = " &middot; ".join(f"<a href='{_e(href)}'>{_e(label)}</a>" for label, href in page.downloads)
    return (
        f"<section id='downloads'><h2>Files beside this report</h2><p>{links}</p>"
        "<p class='muted'>CSV for spreadsheets (cells that would run as formulas are prefixed with an apostrophe); "
        "Parquet for BI tools.</p></section>"
    )


def render_page(page: ReportPage) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(page.title)}: {_e(page.subtitle)}</title>
<style>{STYLE}</style></head><body>
<header class="top"><h1>{_e(page.title)}</h1><p>{_e(page.subtitle)}</p></header>
<main>
{_verdict_section(page)}
{_cards(page)}
{_trend_section(page)}
{_rates_section(page)}
{_timeliness_section(page)}
{_year_section(page)}
{_changes_section(page)}
{_worklist_section(page)}
{_quality_section(page)}
{_downloads_section(page)}
</main>
<footer>Rates count crimes (victims) that should have been recorded, with 95% Wilson intervals. Automated screening
finds candidates: whether a report was a crime is an auditor's judgement, so a screened rate is a lower bound where
crime-coded calls that were genuinely not crimes are closed without a record. Generated by cdi-monitor at
{page.generated_at:%Y-%m-%d %H:%M} UTC.</footer>
</body></html>
"""
