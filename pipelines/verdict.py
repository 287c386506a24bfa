"""The run's verdict in words: what the registrar reads first, in the report, the alert and the terminal."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from pipelines import lake, outputs
from pipelines.settings import Settings


@dataclass(frozen=True)
class RateLine:
    dimension: str
    group: str
    candidate_crimes: int
    recorded: int
    unrecorded: int
    recording_rate: float | None
    ci_lower: float | None
    ci_upper: float | None
    share_within_24h: float | None
    threshold: float | None  # the unrecorded-rate threshold for this group, if one applies
    recorded_within_24h: int | None = None
    share_ci_lower: float | None = None  # the 95% interval of share_within_24h
    share_ci_upper: float | None = None

    @property
    def breached(self) -> bool:
        return (
            self.threshold is not None
            and self.recording_rate is not None
            and 1 - self.recording_rate > self.threshold + 1e-12
        )


@dataclass(frozen=True)
class Verdict:
    force: str
    snapshot_date: dt.date
    gate_evaluated: bool
    passed: bool
    rates: tuple[RateLine, ...]
    breaches: tuple[dict, ...]
    warnings: tuple[dict, ...]
    worklist_items: int
    reports_dir: Path
    window_days: int | None = None  # matured report days the rates count (for a year's estimate)

    @property
    def overall(self) -> RateLine | None:
        return next((line for line in self.rates if line.dimension == "overall"), None)

    @property
    def status(self) -> str:
        if not self.gate_evaluated:
            return "NOT EVALUATED"
        return "PASSED" if self.passed else "BREACHED"

    @property
    def worklist_path(self) -> Path:
        return self.reports_dir / "worklist.csv"

    @property
    def report_path(self) -> Path:
        return self.reports_dir / "report.html"


def threshold_for(thresholds: dict, dimension: str, group: str) -> float | None:
    unrecorded = thresholds.get("unrecorded_rate", {})
    if dimension == "overall":
        return unrecorded.get("overall")
    return (unrecorded.get(dimension) or {}).get(group)


def load_verdict(settings: Settings, snapshot_date: dt.date) -> Verdict:
    rates = outputs.read_mart(settings.lake_dir, "recording_rates", settings.force, snapshot_date).to_pylist()
    worklist = outputs.read_mart(settings.lake_dir, "worklist", settings.force, snapshot_date)
    gate_file = lake.reports_dir(settings.lake_dir, settings.force, snapshot_date) / "gate.json"
    gate = lake.read_json(gate_file) if gate_file.exists() else None
    thresholds = (gate or {}).get("thresholds_used") or settings.thresholds
    lines = tuple(
        RateLine(
            dimension=row["dimension"],
            group=row["dimension_value"],
            candidate_crimes=row["candidate_crimes"],
            recorded=row["recorded"],
            unrecorded=row["unrecorded"],
            recording_rate=row["recording_rate"],
            ci_lower=row["rate_ci_lower"],
            ci_upper=row["rate_ci_upper"],
            share_within_24h=row["share_within_24h"],
            threshold=threshold_for(thresholds, row["dimension"], row["dimension_value"]),
            recorded_within_24h=row.get("recorded_within_24h"),
            share_ci_lower=row.get("share_ci_lower"),
            share_ci_upper=row.get("share_ci_upper"),
        )
        for row in rates
    )
    overall = next((row for row in rates if row["dimension"] == "overall"), None)
    return Verdict(
        force=settings.force,
        snapshot_date=snapshot_date,
        gate_evaluated=gate is not None,
        passed=bool(gate and gate.get("passed")),
        rates=lines,
        breaches=tuple((gate or {}).get("breaches", ())),
        warnings=tuple((gate or {}).get("warnings", ())),
        worklist_items=worklist.num_rows,
        reports_dir=lake.reports_dir(settings.lake_dir, settings.force, snapshot_date),
        window_days=window_days(overall),
    )


def window_days(overall_rates_row: dict | None) -> int | None:
    """Report days the rates span: from the first to the last matured report day, inclusive."""
    if not overall_rates_row or overall_rates_row.get("first_report_day") is None:
        return None
    return (overall_rates_row["last_report_day"] - overall_rates_row["first_report_day"]).days + 1


@dataclass(frozen=True)
class YearEstimate:
    """Estimated unrecorded crimes a year = recorded crimes a year x (1 - r) / r (DOMAIN.md), with
    the range that the rate's 95% interval gives (None for an unbounded end: a rate of 0)."""

    recorded_a_year: float
    estimate: float
    low: float | None
    high: float | None


DAYS_A_YEAR = 365.25


def unrecorded_a_year(line: RateLine, days: int | None) -> YearEstimate | None:
    if not days or line.recording_rate is None or line.recording_rate == 0:
        return None
    recorded_a_year = line.recorded * DAYS_A_YEAR / days

    def estimate(rate: float | None) -> float | None:
        return None if not rate else recorded_a_year * (1 - rate) / rate

    return YearEstimate(recorded_a_year, estimate(line.recording_rate), estimate(line.ci_upper), estimate(line.ci_lower))


def whole_number(value: float | None) -> str:
    return "n/a" if value is None else f"{round(value):,}"


# The flagged groups the rates also cover, beside the crime groups and routes (recording_rates.sql).
FLAG_DIMENSIONS = ("domestic_abuse", "rape_report")
FLAG_LABELS = {"domestic_abuse": "domestic abuse (flagged)", "rape_report": "rape reports"}


def rape_reports_unresolved(count: int, examples: list[str]) -> str:
    """The rape-report warning, in the gate's and the period report's words (one definition:
    rape_resolution UNRESOLVED in int_candidate_outcomes.sql)."""
    refs = f" (e.g. {', '.join(examples[:3])})" if examples else ""
    return f"{count} rape report(s) not resolved after 24 hours (no recorded rape, N100 or transfer){refs}"


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def change_in_points(now: float | None, before: float | None) -> float | None:
    """The change between two rates as shown (`percent`, one decimal), in percentage points: a
    change is never "none" between two figures that read differently, nor shown between two that
    read the same."""
    if now is None or before is None:
        return None
    return round(round(now * 100, 1) - round(before * 100, 1), 1)


def share_with_interval(line: RateLine) -> str:
    """The share recorded within 24 hours, with its interval when the rates carry one."""
    if line.share_ci_lower is None or line.share_ci_upper is None:
        return percent(line.share_within_24h)
    return f"{percent(line.share_within_24h)} (95% CI {percent(line.share_ci_lower)} to {percent(line.share_ci_upper)})"


def rate_with_interval(line: RateLine) -> str:
    if line.recording_rate is None:
        return "n/a (no matured candidate crimes)"
    return f"{percent(line.recording_rate)} (95% CI {percent(line.ci_lower)} to {percent(line.ci_upper)})"


def _group_line(label: str, line: RateLine, *, with_threshold: bool = True) -> str:
    flag = "  BREACH" if line.breached else ""
    threshold = (f" (threshold: unrecorded <= {percent(line.threshold)})"
                 if with_threshold and line.threshold is not None else "")
    return f"    {label:<38} {rate_with_interval(line)}  n={line.candidate_crimes}{threshold}{flag}"


def verdict_text(verdict: Verdict, *, outbox_file: Path | None = None) -> str:
    """The plain-text verdict printed by `cdi run` and `make demo`, and the body of the alert."""
    overall = verdict.overall
    lines = [
        f"cdi-monitor verdict for {verdict.force}, snapshot {verdict.snapshot_date.isoformat()}: {verdict.status}",
    ]
    # Warnings first: the rape check is a warning by default, and it tops the message.
    for warning in verdict.warnings:
        lines.append(f"  WARNING {warning['description']}")
    if overall is not None:
        lines.append(
            f"  Recording rate overall: {rate_with_interval(overall)}, "
            f"{overall.recorded} of {overall.candidate_crimes} crimes; "
            f"unrecorded threshold {percent(overall.threshold)}"
        )
    lines.append("  By crime group:")
    lines += [_group_line(line.group, line) for line in verdict.rates if line.dimension == "crime_group"]
    routes = [line for line in verdict.rates if line.dimension == "route"]
    if routes:
        lines.append("  By route:")
        lines += [_group_line(line.group, line, with_threshold=False) for line in routes]
    flagged = [line for line in verdict.rates if line.dimension in FLAG_DIMENSIONS]
    if flagged:
        lines.append("  Domestic abuse and rape reports:")
        lines += [_group_line(FLAG_LABELS[line.dimension], line) for line in flagged]
    if overall is not None and overall.share_within_24h is not None:
        lines.append(f"  Recorded within 24 hours: {share_with_interval(overall)} of recorded crimes")
    yearly = unrecorded_a_year(overall, verdict.window_days) if overall is not None else None
    if yearly is not None:
        lines.append(
            f"  Estimated unrecorded crimes a year: {whole_number(yearly.estimate)} "
            f"(95% CI {whole_number(yearly.low)} to {whole_number(yearly.high)}), "
            f"from {verdict.window_days} report days"
        )
    for breach in verdict.breaches:
        lines.append(f"  BREACH  {breach['description']}")
    lines.append(f"  Worklist items: {verdict.worklist_items}")
    lines.append(f"  Worklist: {verdict.worklist_path}")
    if outbox_file is not None:
        lines.append(f"  Alert:    {outbox_file}")
    lines.append(f"  Report:   {verdict.report_path}")  # last: `make demo` ends with the page to open
    return "\n".join(lines)
