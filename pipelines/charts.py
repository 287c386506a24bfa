"""Charts for the registrar's report as inline SVG: no script, no font, no file from anywhere.

Two kinds: horizontal bars with a 95% interval whisker and a required-rate marker (rates by group,
by route, share within 24 hours, estimated unrecorded crimes a year), and a small trend chart of a
rate with its interval band and the required rate. Hover text comes from SVG ``<title>`` elements,
which browsers show without script. Every chart carries ``role="img"`` and an ``aria-label``.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from dataclasses import dataclass
from typing import Callable

BREACH = "#b3261e"
MEETS = "#1e7b34"
NEUTRAL = "#3b6ea5"
REQUIRED = "#b26a00"
INK = "#1b1b1b"
GRID = "#e6e6e6"
MUTED = "#6b6b6b"
BAND = "#3b6ea5"

LABEL_WIDTH = 250
VALUE_WIDTH = 190
BAR_ROW = 26
BAR_THICKNESS = 16
AXIS_HEIGHT = 22


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def _svg_open(width: int, height: int, label: str, css_class: str) -> str:
    return (
        f'<svg class="{css_class}" role="img" aria-label="{_escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{_escape(label)}</title>"
    )


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    colour: str = NEUTRAL
    marker: float | None = None  # the required value for this row, drawn as a dashed tick
    note: str = ""  # shown right of the chart, e.g. "69.1% (65.1-72.8) n=556"
    tooltip: str = ""


def percent_axis(value: float) -> str:
    return f"{value * 100:.0f}%"


def bar_chart(
    bars: list[Bar], *, label: str, axis_max: float = 1.0, ticks: tuple[float, ...] = (0, 0.25, 0.5, 0.75, 1.0),
    tick_format: Callable[[float], str] = percent_axis, width: int = 900,
) -> str:
    """Horizontal bars from 0 to axis_max, each with its 95% interval and required-value marker."""
    if not bars:
        return '<p class="muted">Nothing to show yet.</p>'
    plot_width = width - LABEL_WIDTH - VALUE_WIDTH
    height = BAR_ROW * len(bars) + AXIS_HEIGHT + 4

    def x(value: float) -> float:
        return LABEL_WIDTH + max(0.0, min(value, axis_max)) / axis_max * plot_width

    parts = [_svg_open(width, height, label, "chart bars")]
    for tick in ticks:
        parts.append(f'<line x1="{x(tick):.1f}" y1="0" x2="{x(tick):.1f}" y2="{height - AXIS_HEIGHT}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{x(tick):.1f}" y="{height - 6}" text-anchor="middle" fill="{MUTED}" font-size="11">'
            f"{_escape(tick_format(tick))}</text>"
        )
    for index, bar in enumerate(bars):
        top = index * BAR_ROW + (BAR_ROW - BAR_THICKNESS) / 2
        middle = top + BAR_THICKNESS / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 10}" y="{middle + 4:.1f}" text-anchor="end" font-size="12" fill="{INK}">'
            f"{_escape(bar.label)}</text>"
        )
        if bar.value is None:
            parts.append(f'<text x="{LABEL_WIDTH + 4}" y="{middle + 4:.1f}" font-size="12" fill="{MUTED}">no data</text>')
            continue
        parts.append(
            f'<rect class="bar" x="{LABEL_WIDTH}" y="{top:.1f}" width="{x(bar.value) - LABEL_WIDTH:.1f}" '
            f'height="{BAR_THICKNESS}" rx="2" fill="{bar.colour}" fill-opacity="0.85">'
            f"<title>{_escape(bar.tooltip or bar.label)}</title></rect>"
        )
        if bar.low is not None and bar.high is not None:
            low, high = x(bar.low), x(bar.high)
            parts.append(
                f'<g class="interval" stroke="{INK}" stroke-width="1.5"><line x1="{low:.1f}" y1="{middle:.1f}" '
                f'x2="{high:.1f}" y2="{middle:.1f}"/><line x1="{low:.1f}" y1="{top + 3:.1f}" x2="{low:.1f}" '
                f'y2="{top + BAR_THICKNESS - 3:.1f}"/><line x1="{high:.1f}" y1="{top + 3:.1f}" x2="{high:.1f}" '
                f'y2="{top + BAR_THICKNESS - 3:.1f}"/></g>'
            )
        if bar.marker is not None:
            marker = x(bar.marker)
            parts.append(
                f'<line class="required" x1="{marker:.1f}" y1="{top - 3:.1f}" x2="{marker:.1f}" '
                f'y2="{top + BAR_THICKNESS + 3:.1f}" stroke="{REQUIRED}" stroke-width="2.5" stroke-dasharray="4,2"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + plot_width + 10}" y="{middle + 4:.1f}" font-size="12" fill="{INK}">'
            f"{_escape(bar.note)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class TrendPoint:
    first_day: dt.date
    last_day: dt.date
    rate: float | None
    low: float | None
    high: float | None
    count: int  # candidate crimes in the bin
    days: int  # report days in the bin

    @property
    def middle(self) -> dt.date:
        return self.first_day + (self.last_day - self.first_day) / 2


TREND_WIDTH = 340
TREND_HEIGHT = 170
TREND_LEFT = 40
TREND_RIGHT = 10
TREND_TOP = 10
TREND_BOTTOM = 24


def _trend_floor(points: list[TrendPoint], required: float | None) -> float:
    """The lowest rate on the y axis: a tenth below the lowest interval or the required rate."""
    lows = [point.low for point in points if point.low is not None]
    if required is not None:
        lows.append(required)
    if not lows:
        return 0.0
    return max(0.0, math.floor(min(lows) * 10 - 0.5) / 10)


def trend_chart(
    points: list[TrendPoint], *, label: str, first_day: dt.date, last_day: dt.date, required: float | None,
    unsettled_from: dt.date | None = None,
) -> str:
    """A rate over report days: the line, its 95% band, the required rate, unsettled days shaded."""
    width, height = TREND_WIDTH, TREND_HEIGHT
    plot_left, plot_right = TREND_LEFT, width - TREND_RIGHT
    plot_top, plot_bottom = TREND_TOP, height - TREND_BOTTOM
    span_days = max((last_day - first_day).days, 1)
    floor = _trend_floor(points, required)

    def x(day: dt.date) -> float:
        return plot_left + (day - first_day).days / span_days * (plot_right - plot_left)

    def y(rate: float) -> float:
        return plot_bottom - (rate - floor) / (1 - floor) * (plot_bottom - plot_top)

    parts = [_svg_open(width, height, label, "chart trend")]
    step = 0.1 if 1 - floor <= 0.5 else 0.2
    tick = 1.0
    while tick >= floor - 1e-9:
        parts.append(f'<line x1="{plot_left}" y1="{y(tick):.1f}" x2="{plot_right}" y2="{y(tick):.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{plot_left - 5}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="10" fill="{MUTED}">'
            f"{tick * 100:.0f}%</text>"
        )
        tick = round(tick - step, 6)
    month = dt.date(first_day.year, first_day.month, 1)
    while month <= last_day:
        if month >= first_day:
            parts.append(f'<line x1="{x(month):.1f}" y1="{plot_top}" x2="{x(month):.1f}" y2="{plot_bottom}" stroke="{GRID}"/>')
            parts.append(
                f'<text x="{x(month) + 3:.1f}" y="{height - 8}" font-size="10" fill="{MUTED}">'
                f"{month.strftime('%b')}</text>"
            )
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    if unsettled_from is not None and unsettled_from <= last_day:
        left = x(unsettled_from)
        parts.append(
            f'<rect class="unsettled" x="{left:.1f}" y="{plot_top}" width="{plot_right - left:.1f}" '
            f'height="{plot_bottom - plot_top}" fill="#f2f2f2"><title>Days still being recorded: not yet counted'
            "</title></rect>"
        )
    usable = [point for point in points if point.rate is not None]
    if usable:
        upper = " ".join(f"{x(p.middle):.1f},{y(p.high):.1f}" for p in usable)
        lower = " ".join(f"{x(p.middle):.1f},{y(p.low):.1f}" for p in reversed(usable))
        parts.append(f'<polygon class="band" points="{upper} {lower}" fill="{BAND}" fill-opacity="0.18" stroke="none"/>')
        line = " ".join(f"{x(p.middle):.1f},{y(p.rate):.1f}" for p in usable)
        parts.append(f'<polyline class="rate-line" points="{line}" fill="none" stroke="{BAND}" stroke-width="2"/>')
    if required is not None:
        parts.append(
            f'<line class="required" x1="{plot_left}" y1="{y(required):.1f}" x2="{plot_right}" y2="{y(required):.1f}" '
            f'stroke="{REQUIRED}" stroke-width="1.5" stroke-dasharray="5,3"/>'
            f'<text x="{plot_left + 4}" y="{y(required) - 4:.1f}" font-size="10" fill="{REQUIRED}">required '
            f"{required * 100:.0f}%</text>"
        )
    for point in usable:
        below = required is not None and point.rate < required - 1e-12
        parts.append(
            f'<circle class="point" cx="{x(point.middle):.1f}" cy="{y(point.rate):.1f}" r="3" '
            f'fill="{BREACH if below else BAND}"><title>{point.first_day:%d %b} to {point.last_day:%d %b}: '
            f"{point.rate * 100:.1f}% (95% CI {point.low * 100:.1f}% to {point.high * 100:.1f}%), "
            f"{point.count} crimes over {point.days} days</title></circle>"
        )
    if not usable:
        parts.append(
            f'<text x="{(plot_left + plot_right) / 2:.1f}" y="{(plot_top + plot_bottom) / 2:.1f}" text-anchor="middle" '
            f'font-size="12" fill="{MUTED}">no settled report days</text>'
        )
    parts.append(
        f'<line x1="{plot_left}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" stroke="{MUTED}"/></svg>'
    )
    return "".join(parts)
