"""The registrar's report: gathered from the lake, written per run or per period, marts beside it.

- A run's report (`publish_report`, the DAG's `publish_report` task and `cdi run`): the gate's
  verdict at the top, the 90-day trend, rates by crime group and route, timeliness, unrecorded
  crimes a year, what changed since the previous run, the worklist and data quality; every mart
  of the run is written beside it as CSV and Parquet for the force's BI tools.
- A period's report (`publish_period_report`, `cdi report --from --to`): the same figures over any
  span of report days, each day counted once, as the latest run that settled it saw it
  (`pipelines.history`), checked against the force's thresholds.

The page itself is `pipelines.report_page`. Everything on it is a reference, a code, a count or
a rate: no personal data exists in the marts it reads.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from pathlib import Path

import pyarrow as pa

from pipelines import charts, history, lake, outputs
from pipelines.localtime import local_midnight_utc
from pipelines.report_page import (  # noqa: F401  (CSP: the policy tests check the page against)
    CSP,
    QualitySummary,
    ReportPage,
    ROUTE_LABELS,
    TrendPanel,
    group_label,
    interval,
    render_page,
    required_rate,
)
from pipelines.settings import Settings
from pipelines.verdict import RateLine, load_verdict, percent, rape_reports_unresolved, threshold_for

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
TREND_DAYS = 90
TREND_BIN_DAYS = 7  # one point a week: a day of a small group is too few crimes to read
LONG_PERIOD_DAYS = 190  # a period longer than about six months is drawn four weeks to a point
LONG_PERIOD_BIN_DAYS = 28

# Beyond all crimes and each crime group, the trend shows these: the referrals route (the route
# the 2017 inspection found failing) and, where the marts break it out, the domestic-abuse flag.
# Calls are most of all crimes, so their trend is nearly the overall one.
TREND_PANELS = {("route", "REFERRAL"): ROUTE_LABELS["REFERRAL"], ("domestic_abuse", "FLAGGED"): "Domestic abuse flag"}
TREND_DIMENSIONS = ("overall", "crime_group", "route", "domestic_abuse")


# ----------------------------------------------------------------------------- gathering
def _trend_panels(rows: list[dict], rates: list[RateLine]) -> list[TrendPanel]:
    """One panel for all crimes, each crime group (those with a required rate first) and the
    referrals route; points from `history.binned_rates`."""
    required = {(line.dimension, line.group): required_rate(line) for line in rates}
    volume = {(line.dimension, line.group): line.candidate_crimes for line in rates}
    keys: dict[tuple[str, str], list[charts.TrendPoint]] = {}
    for row in rows:
        keys.setdefault((row["dimension"], row["dimension_value"]), []).append(charts.TrendPoint(
            first_day=row["bin_start"], last_day=row["bin_end"], rate=row["recording_rate"],
            low=row["rate_ci_lower"], high=row["rate_ci_upper"], count=row["candidate_crimes"], days=row["report_days"],
        ))

    def order(key: tuple[str, str]) -> tuple:
        dimension, value = key
        return (TREND_DIMENSIONS.index(dimension), required.get(key) is None, -volume.get(key, 0), value)

    panels = []
    for key in sorted((key for key in keys if key in TREND_PANELS or key[0] in ("overall", "crime_group")), key=order):
        points = sorted(keys[key], key=lambda point: point.first_day)
        title = TREND_PANELS.get(key) or group_label(key[1])
        panels.append(TrendPanel(title, key[1], points, required.get(key)))
    return panels


def _trend(settings: Settings, snapshot_date: dt.date, as_of: dt.date) -> tuple[list[dict], history.DayView]:
    last_settled = snapshot_date - dt.timedelta(days=settings.maturity_lag_days + 1)
    first_day = snapshot_date - dt.timedelta(days=TREND_DAYS)
    view = history.day_view(
        settings.lake_dir, settings.force, first_day, last_settled,
        lookback_days=settings.lookback_days, maturity_lag_days=settings.maturity_lag_days, as_of=as_of,
    )
    return history.binned_rates(view, TREND_BIN_DAYS), view


def _trend_note(view: history.DayView, bin_days: int = TREND_BIN_DAYS) -> str:
    used = view.snapshots_used
    if not used:
        return "No snapshot settles any of these days yet."
    return (
        f"Each point pools {bin_days} report days, counted as the latest run that settled the day saw it "
        f"(late records count); {len(view.sources)} report days from {len(used)} run(s), "
        f"{used[0]:%d %b} to {used[-1]:%d %b %Y}; read from the {view.read_from} mart. "
        "Hover over a point for its figures."
    )


def _quarantine_reasons(lake_dir: Path, force: str, snapshots: list[dt.date]) -> list[tuple[str, int]]:
    """Counts per field and rule, without the quoted values (they may come from any column)."""
    counts: dict[str, int] = {}
    for snapshot in snapshots:
        for source in ("incidents", "crimes", "referrals"):
            path = lake.quarantine_path(lake_dir, source, force, snapshot)
            if not path.exists():
                continue
            for reason in lake.read_parquet(path, columns=["reason"])["reason"].to_pylist():
                for part in (reason or "").split("; "):
                    rule = re.split(r"[:,]? ['\"]", part, maxsplit=1)[0].strip()
                    counts[f"{source}: {rule}"] = counts.get(f"{source}: {rule}", 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])[:15]


def _quality_summary(settings: Settings, snapshots: list[dt.date], *, show_snapshot: bool) -> QualitySummary:
    summary = QualitySummary()
    for snapshot in snapshots:
        for source in ("incidents", "crimes", "referrals"):
            manifest = lake.manifest_path(settings.lake_dir, "extract", source, settings.force, snapshot)
            if manifest.exists():
                stats = lake.read_json(manifest)
                summary.extraction.append({**stats, "snapshot_date": snapshot.isoformat() if show_snapshot else ""})
        results = lake.reports_dir(settings.lake_dir, settings.force, snapshot) / "validation_raw.json"
        if results.exists():
            for outcome in lake.read_json(results).get("outcomes", []):
                statistics = outcome.get("statistics", {})
                summary.validation.append({
                    "snapshot_date": snapshot.isoformat() if show_snapshot else "",
                    "source": outcome.get("source", ""),
                    "success": bool(outcome.get("success")),
                    "evaluated": statistics.get("evaluated_expectations", 0),
                    "successful": statistics.get("successful_expectations", 0),
                    "failures": [
                        f"{failure.get('severity')}: {failure.get('expectation_type')} on "
                        f"{failure.get('column') or 'the table'} ({failure.get('detail')})"
                        for failure in outcome.get("failures", [])
                    ],
                })
        elif not show_snapshot:
            summary.notes.append("No validation results were found for this run (validation_raw.json).")
    summary.quarantine_reasons = _quarantine_reasons(settings.lake_dir, settings.force, snapshots)
    return summary


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(Path(target).resolve(), Path(start).resolve())).as_posix()


def data_docs_link(data_docs: Path | None, reports: Path) -> str | None:
    """The report's link to the Data Docs, relative so the lake can move. None when the report is
    on object storage: the Data Docs stay on the worker's disk, where a link from the report
    downloaded from the store could not reach them."""
    if data_docs is None or lake.on_object_store(reports):
        return None
    return _relative(data_docs, reports)


def build_data_docs(settings: Settings) -> Path | None:
    """Rebuild the force's Great Expectations Data Docs; None (and a warning) if that fails."""
    try:
        from pipelines import quality, stages

        return quality.build_data_docs(stages.quality_dir(settings))
    except Exception as error:  # the report must not fail for want of its Data Docs
        log.warning("Data Docs not built for %s: %s", settings.force, error)
        return None


def existing_data_docs(settings: Settings) -> Path | None:
    index = settings.quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return index if index.exists() else None


def _period_breaches(settings: Settings, lines: list[RateLine], worklist: list[dict]) -> tuple[list[str], list[str]]:
    """The gate's checks on a period's rates: unrecorded rate per threshold, the share within
    24 hours, unresolved rape reports, each a breach or a warning by the configured severity."""
    thresholds = settings.thresholds
    severity = thresholds.get("severity", {})
    found: list[tuple[str, str]] = []
    for line in lines:
        if line.breached:
            where = "overall" if line.dimension == "overall" else f"{line.dimension} {line.group}"
            found.append(("unrecorded_rate", (
                f"{where}: unrecorded rate {percent(1 - line.recording_rate)} above the threshold "
                f"{percent(line.threshold)}, 95% CI {interval(1 - line.ci_upper, 1 - line.ci_lower)}, "
                f"{line.unrecorded:,} of {line.candidate_crimes:,}"
            )))
    overall = next((line for line in lines if line.dimension == "overall"), None)
    minimum = thresholds.get("min_share_within_24h")
    if overall is not None and minimum is not None and overall.share_within_24h is not None and overall.share_within_24h < minimum:
        found.append(("share_within_24h", (
            f"overall: recorded within 24 hours {percent(overall.share_within_24h)}, below the minimum {percent(minimum)}"
        )))
    rapes = [item["candidate_ref"] for item in worklist if "RAPE_REPORT_UNRESOLVED" in (item.get("reason_codes") or "")]
    if rapes:
        found.append(("rape_unrecorded", rape_reports_unresolved(len(rapes), rapes)))
    breaches = [text for check, text in found if severity.get(check, "critical") == "critical"]
    warnings = [text for check, text in found if severity.get(check, "critical") != "critical"]
    return breaches, warnings


def _lines_from_rows(settings: Settings, rows: list[dict]) -> list[RateLine]:
    return [
        RateLine(
            dimension=row["dimension"], group=row["dimension_value"], candidate_crimes=row["candidate_crimes"],
            recorded=row["recorded"], unrecorded=row["unrecorded"], recording_rate=row["recording_rate"],
            ci_lower=row["rate_ci_lower"], ci_upper=row["rate_ci_upper"], share_within_24h=row["share_within_24h"],
            threshold=threshold_for(settings.thresholds, row["dimension"], row["dimension_value"]),
            recorded_within_24h=row["recorded_within_24h"],
            share_ci_lower=row.get("share_ci_lower"), share_ci_upper=row.get("share_ci_upper"),
        )
        for row in rows
    ]


# ----------------------------------------------------------------------------- a run's report
def build_run_page(settings: Settings, snapshot_date: dt.date, *, data_docs: Path | None,
                   downloads: list[tuple[str, str]]) -> ReportPage:
    verdict = load_verdict(settings, snapshot_date)
    reports = lake.reports_dir(settings.lake_dir, settings.force, snapshot_date)
    worklist = outputs.read_mart(settings.lake_dir, "worklist", settings.force, snapshot_date).to_pylist()
    trend_rows, view = _trend(settings, snapshot_date, as_of=snapshot_date)
    changes = history.changes_since_previous(
        settings.lake_dir, settings.force, snapshot_date,
        lookback_days=settings.lookback_days, maturity_lag_days=settings.maturity_lag_days,
    )
    first, last = history.settled_days(snapshot_date, settings.lookback_days, settings.maturity_lag_days)
    record_changes_file = lake.mart_path(settings.lake_dir, "record_changes", settings.force, snapshot_date)
    record_changes = lake.read_parquet(record_changes_file).to_pylist() if record_changes_file.exists() else None
    return ReportPage(
        force=settings.force,
        title=f"Crime data integrity: {settings.force}",
        subtitle=f"Daily run for the snapshot of {snapshot_date:%A %d %B %Y}",
        scope=(
            f"Rates count crimes reported from {first:%d %b} to {last:%d %b %Y} ({verdict.window_days or 0} report days "
            f"with candidates), the {settings.lookback_days}-day window less the last {settings.maturity_lag_days} days, "
            "which are still being recorded. The worklist lists every overdue item, however recent."
        ),
        status=verdict.status,
        breaches=[breach["description"] for breach in verdict.breaches],
        warnings=[warning["description"] for warning in verdict.warnings],
        rates=list(verdict.rates),
        window_days=verdict.window_days,
        min_share_within_24h=settings.thresholds.get("min_share_within_24h"),
        trend=_trend_panels(trend_rows, list(verdict.rates)),
        trend_first_day=snapshot_date - dt.timedelta(days=TREND_DAYS),
        trend_last_day=snapshot_date - dt.timedelta(days=1),
        unsettled_from=last + dt.timedelta(days=1),
        trend_note=_trend_note(view),
        trend_title=f"Recording rate over the last {TREND_DAYS} days",
        trend_bin_days=TREND_BIN_DAYS,
        changes=changes,
        changes_note=(
            "This is the force's first run in this lake: nothing to compare with yet." if changes is None else
            "Rates: each run's gate over its own window. Restated days: days both runs settled whose counts differ, "
            "usually late records arriving."
            + ("" if record_changes is not None else
               " Source records that change class or vanish are listed once the reconciliation writes record_changes.")
        ),
        record_changes=record_changes,
        worklist=worklist,
        worklist_note="Age: hours since the report at the snapshot's cut-off.",
        quality=_quality_summary(settings, [snapshot_date], show_snapshot=False),
        data_docs_href=data_docs_link(data_docs, reports),
        downloads=downloads,
    )


def _write_table(table: pa.Table, folder: Path, name: str) -> list[tuple[str, str]]:
    csv_file = outputs.write_csv(table, folder / f"{name}.csv")
    parquet_file = lake.write_parquet(table, folder / f"{name}.parquet")
    return [(f"{name}.csv ({table.num_rows:,} rows)", csv_file.name), (f"{name}.parquet", parquet_file.name)]


def run_marts(settings: Settings, snapshot_date: dt.date) -> list[str]:
    """Every mart with a partition for this run (new marts are picked up as they appear)."""
    marts_root = settings.lake_dir / "marts"
    if not marts_root.exists():
        return []
    return sorted(
        folder.name for folder in marts_root.iterdir()
        if lake.mart_path(settings.lake_dir, folder.name, settings.force, snapshot_date).exists()
    )


def publish_report(settings: Settings, snapshot_date: dt.date) -> dict:
    """Write report.html and every mart of the run as CSV and Parquet beside it; return the paths."""
    reports = lake.reports_dir(settings.lake_dir, settings.force, snapshot_date)
    downloads: list[tuple[str, str]] = []
    for mart in run_marts(settings, snapshot_date):
        downloads += _write_table(outputs.read_mart(settings.lake_dir, mart, settings.force, snapshot_date), reports, mart)
    for name in ("gate.json", "validation_raw.json"):
        if (reports / name).exists():
            downloads.append((name, name))
    page = build_run_page(settings, snapshot_date, data_docs=build_data_docs(settings), downloads=downloads)
    report_file = lake.write_text(render_page(page), reports / REPORT_FILE)
    return {
        "report": str(report_file),
        "worklist": str(reports / "worklist.csv"),
        "status": page.status,
        "files": [str(reports / href) for _, href in downloads],
    }


def report_path(settings: Settings, snapshot_date: dt.date) -> Path:
    return lake.reports_dir(settings.lake_dir, settings.force, snapshot_date) / REPORT_FILE


# ----------------------------------------------------------------------------- a period's report
def period_dir(settings: Settings, first_day: dt.date, last_day: dt.date) -> Path:
    """<lake>/reports/force=<F>/period=<first>_<last>/ (beside the runs' snapshot_date=<D> folders)."""
    return lake.reports_dir(settings.lake_dir, settings.force, last_day).parent / f"period={first_day}_{last_day}"


def period_worklist(view: history.DayView, time_zone: str) -> list[dict]:
    """Worklist items reported on the period's days, as the snapshot settling each day left them (a
    day no snapshot settles: the latest one after it), aged to the last snapshot read."""
    if not view.worklist_sources:
        return []
    latest = max(view.worklist_sources.values())
    cutoff = local_midnight_utc(latest, time_zone)
    items = history.worklist_for_days(view)
    for item in items:
        if item.get("reported_at") is not None:
            item["age_hours"] = round((cutoff - item["reported_at"]).total_seconds() / 3600, 1)
    return items


def build_period_page(settings: Settings, first_day: dt.date, last_day: dt.date, *, as_of: dt.date | None,
                      downloads: list[tuple[str, str]], view: history.DayView, rows: list[dict],
                      worklist: list[dict]) -> ReportPage:
    lines = _lines_from_rows(settings, rows)
    breaches, warnings = _period_breaches(settings, lines, worklist)
    used = view.snapshots_used
    covered = len(view.sources)
    total_days = (last_day - first_day).days + 1
    bin_days = TREND_BIN_DAYS if total_days <= LONG_PERIOD_DAYS else LONG_PERIOD_BIN_DAYS
    quality = _quality_summary(settings, used, show_snapshot=True)
    quality.notes.insert(0, (
        f"{covered} of {total_days} report days are settled by a run"
        + (f"; not covered: {_day_ranges(view.missing_days)}" if view.missing_days else "")
        + f". Runs read: {len(used)}" + (f", {used[0]} to {used[-1]}" if used else "") + "."
    ))
    return ReportPage(
        force=settings.force,
        title=f"Crime data integrity: {settings.force}",
        subtitle=f"Period report, crimes reported {first_day:%d %B %Y} to {last_day:%d %B %Y}"
                 + (f", as known on {as_of:%d %B %Y}" if as_of else ""),
        scope=(
            f"Each report day from {first_day:%d %b %Y} to {last_day:%d %b %Y} is counted once, as the latest run that "
            f"settled it saw it (its {settings.lookback_days}-day window less the last {settings.maturity_lag_days} days), "
            f"so late records count; {covered} of {total_days} days covered. Checked against the force's thresholds."
        ),
        status=("BREACHED" if breaches else "PASSED") if lines else "NOT EVALUATED",
        breaches=breaches,
        warnings=warnings,
        rates=lines,
        window_days=covered or None,
        min_share_within_24h=settings.thresholds.get("min_share_within_24h"),
        trend=_trend_panels(history.binned_rates(view, bin_days), lines),
        trend_first_day=first_day,
        trend_last_day=last_day,
        unsettled_from=None,
        trend_note=_trend_note(view, bin_days),
        trend_title="Recording rate over the period, " + ("week by week" if bin_days == 7 else f"{bin_days} days to a point"),
        trend_bin_days=bin_days,
        changes=None,
        changes_note="A period report compares no runs; each run's own report says what changed since the one before.",
        record_changes=None,
        worklist=worklist,
        worklist_note=(
            "Items reported in the period, as the run that settled their report day saw them, or for a day no run "
            "settles (its rates not counted here) as the latest run saw them; age at the last run read."
        ),
        quality=quality,
        data_docs_href=None,  # set by the caller, who knows where the page is written
        downloads=downloads,
    )


def _day_ranges(days: list[dt.date]) -> str:
    ranges: list[list[dt.date]] = []
    for day in sorted(days):
        if ranges and (day - ranges[-1][1]).days == 1:
            ranges[-1][1] = day
        else:
            ranges.append([day, day])
    return ", ".join(f"{a}" if a == b else f"{a} to {b}" for a, b in ranges)


def publish_period_report(settings: Settings, first_day: dt.date, last_day: dt.date, *,
                          out: Path | None = None, as_of: dt.date | None = None, progress=None) -> dict:
    """Aggregate the runs' marts over report days first_day..last_day into one report.

    Writes report.html (or ``out``) with period_rates, period_days and worklist as CSV and Parquet
    beside it. Returns the paths, the status and the breaches.
    """
    if last_day < first_day:
        raise ValueError(f"--to {last_day} is before --from {first_day}")

    def step(done: int) -> None:
        if progress is not None:
            progress(done, 4)

    view = history.day_view(
        settings.lake_dir, settings.force, first_day, last_day,
        lookback_days=settings.lookback_days, maturity_lag_days=settings.maturity_lag_days, as_of=as_of,
    )
    if not view.sources:
        known = history.snapshot_dates(settings.lake_dir, "candidate_outcomes", settings.force)
        raise FileNotFoundError(
            f"no run of {settings.force} in {settings.lake_dir} settles any report day from {first_day} to {last_day}"
            + (f" (runs found: {known[0]} to {known[-1]})" if known else " (no runs found)")
        )
    step(1)
    rows = history.period_rates(view)
    worklist = period_worklist(view, settings.time_zone)
    step(2)
    report_file = lake.location(out) if out else period_dir(settings, first_day, last_day) / REPORT_FILE
    folder = report_file.parent
    lake.ensure_dir(folder)
    downloads = _write_table(pa.Table.from_pylist(rows), folder, "period_rates") if rows else []
    downloads += _write_table(view.counts, folder, "period_days")
    downloads += _write_table(pa.Table.from_pylist(worklist) if worklist else pa.table({"candidate_ref": pa.array([], pa.string())}),
                              folder, "worklist")
    step(3)
    page = build_period_page(settings, first_day, last_day, as_of=as_of, downloads=downloads, view=view, rows=rows,
                             worklist=worklist)
    docs = existing_data_docs(settings)
    page.data_docs_href = data_docs_link(docs, folder)
    lake.write_text(render_page(page), report_file)
    step(4)
    return {
        "report": str(report_file),
        "status": page.status,
        "breaches": page.breaches,
        "warnings": page.warnings,
        "rates": page.rates,
        "window_days": page.window_days,
        "days_covered": len(view.sources),
        "days_in_period": (last_day - first_day).days + 1,
        "runs_read": len(view.snapshots_used),
        "worklist_items": len(worklist),
    }
