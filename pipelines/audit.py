"""Statistically valid audit samples, and the auditors' verdicts taken back (issue 3, item 8).

Automated screening finds candidates; whether a report was a crime is an auditor's judgement. So
the registrar audits a random sample, as the inspectorate does, and reports the audited
recording rate with its interval next to the screened one.

`draw_sample` (``cdi audit sample``): the frame is the candidates the verdict's rates count
(matured report days, candidate crimes > 0: recorded or unrecorded) in one snapshot's
`candidate_outcomes`. Two strata, violence and everything else, because the inspectorate states
both (defaults: +/- 2 points overall, +/- 3.3 points for violence). Sizes, for an expected rate p
(the screened rate of the stratum, kept within 5%-95%):

- violence: n = z^2 p (1 - p) / h^2 with h = the violence half-width, then the finite population
  correction n / (1 + (n - 1) / N);
- the rest: as many as the overall half-width still needs once violence is sampled, for the
  stratified estimate's variance sum W^2 p (1 - p) / n (W = the stratum's share of candidate
  crimes), with the same correction; the whole stratum when that cannot be met.

The draw is reproducible: within each stratum candidates are ordered by SHA-256 of
``<seed>:<candidate_ref>`` and the first n taken; the same seed gives the same sample on any
machine. The sample is written as ``audit_sample.csv`` (references only, plus empty verdict
columns) beside the run's report, with ``audit_plan.json`` saying how it was sized.

`ingest_verdicts` (``cdi audit ingest``): reads the sample back with the auditors' columns filled
in: ``verdict`` CRIME or NO_CRIME; for a crime, ``crimes_due`` (default: the victims the report
named) and ``crimes_recorded`` (default: what screening found recorded). The file is read as a
spreadsheet saves it: UTF-8 (with or without BOM) or Windows-1252, rows of empty cells skipped,
lines counted as in the file (a quoted note may span several). A verdict its own counts
contradict is refused: CRIME with crimes_due 0, NO_CRIME with crimes_due or crimes_recorded above
0, crimes_recorded above crimes_due. Any bad row stops the ingest with one message naming the
file and every bad line and field. Audited rate per stratum = crimes recorded /
crimes due (Wilson 95%); overall = the stratified estimate sum W p with a normal interval from
its variance sum W^2 p (1 - p) / n, each term times the finite population correction 1 - n / N. Written as ``audit_rates.csv`` and ``audit_results.json``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from pipelines import lake, outputs
from pipelines.reconcile import wilson
from pipelines.settings import Settings
from pipelines.sources.csv_export import ExportFormatError, decode_export

Z_95 = 1.959964
DEFAULT_OVERALL_HALF_WIDTH = 0.02
DEFAULT_VIOLENCE_HALF_WIDTH = 0.033
VIOLENCE = "VIOLENCE_AGAINST_THE_PERSON"
STRATA = ("VIOLENCE", "OTHER_GROUPS")
SIZING_RATE_BOUNDS = (0.05, 0.95)
VERDICTS = ("CRIME", "NO_CRIME")
SAMPLE_FILE = "audit_sample.csv"
PLAN_FILE = "audit_plan.json"
RATES_FILE = "audit_rates.csv"
RESULTS_FILE = "audit_results.json"
SAMPLE_COLUMNS = ("stratum", "candidate_ref", "route", "crime_group", "report_day", "screened_outcome",
                  "expected_crimes", "screened_recorded_crimes", "verdict", "crimes_due", "crimes_recorded",
                  "auditor", "notes")


class AuditInputError(ValueError):
    """The verdict file cannot be taken in as it is; the message names every bad line."""


@dataclass
class StratumPlan:
    stratum: str
    frame_candidates: int
    frame_crimes: int
    weight: float  # share of the frame's candidate crimes
    screened_rate: float | None
    sizing_rate: float
    sample_size: int


@dataclass
class AuditPlan:
    force: str
    snapshot_date: str
    seed: int
    overall_half_width: float
    violence_half_width: float
    first_report_day: str
    last_report_day: str
    strata: list[StratumPlan] = field(default_factory=list)
    sample_file: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _finite(n: float, population: int) -> int:
    """Sample size after the finite population correction, at most the population."""
    if population <= 0 or n <= 0:
        return 0
    corrected = n / (1 + (n - 1) / population)
    return min(population, math.ceil(corrected))


def _sizing_rate(rate: float | None) -> float:
    low, high = SIZING_RATE_BOUNDS
    return 0.5 if rate is None else min(high, max(low, rate))


def stratum_sizes(frame: dict[str, dict], overall_half_width: float, violence_half_width: float) -> dict[str, int]:
    """Sample size of each stratum. frame: stratum -> {"candidates": N, "crimes": C, "rate": r or None}."""
    total_crimes = sum(stratum["crimes"] for stratum in frame.values()) or 1
    sizes = {}
    violence = frame["VIOLENCE"]
    p = _sizing_rate(violence["rate"])
    sizes["VIOLENCE"] = _finite(Z_95**2 * p * (1 - p) / violence_half_width**2, violence["candidates"])
    budget = (overall_half_width / Z_95) ** 2
    weight_v = violence["crimes"] / total_crimes
    if sizes["VIOLENCE"]:
        budget -= weight_v**2 * p * (1 - p) / sizes["VIOLENCE"]
    rest = frame["OTHER_GROUPS"]
    q = _sizing_rate(rest["rate"])
    weight_r = rest["crimes"] / total_crimes
    if budget <= 0:
        sizes["OTHER_GROUPS"] = rest["candidates"]
    else:
        sizes["OTHER_GROUPS"] = _finite(weight_r**2 * q * (1 - q) / budget, rest["candidates"])
    return sizes


def _draw_key(seed: int, candidate_ref: str) -> str:
    return hashlib.sha256(f"{seed}:{candidate_ref}".encode("utf-8")).hexdigest()


def _frame(settings: Settings, snapshot_date: dt.date) -> tuple[list[dict], dt.date, dt.date]:
    outcomes = outputs.read_mart(settings.lake_dir, "candidate_outcomes", settings.force, snapshot_date)
    first = snapshot_date - dt.timedelta(days=settings.lookback_days)
    last = snapshot_date - dt.timedelta(days=settings.maturity_lag_days + 1)
    columns = ["candidate_ref", "route", "crime_group", "report_day", "outcome", "expected_crimes",
               "recorded_crimes", "unrecorded_crimes"]
    rows = [
        row for row in outcomes.select(columns).to_pylist()
        if first <= row["report_day"] <= last and row["recorded_crimes"] + row["unrecorded_crimes"] > 0
    ]
    for row in rows:
        row["stratum"] = "VIOLENCE" if row["crime_group"] == VIOLENCE else "OTHER_GROUPS"
    return rows, first, last


def draw_sample(settings: Settings, snapshot_date: dt.date, *, seed: int = 1,
                overall_half_width: float = DEFAULT_OVERALL_HALF_WIDTH,
                violence_half_width: float = DEFAULT_VIOLENCE_HALF_WIDTH) -> AuditPlan:
    """Draw and write the audit sample of one snapshot; return the plan it followed."""
    if not (0 < overall_half_width < 0.5 and 0 < violence_half_width < 0.5):
        raise ValueError("half-widths are proportions between 0 and 0.5, e.g. 0.02 for 2 points")
    rows, first, last = _frame(settings, snapshot_date)
    if not rows:
        raise ValueError(f"no matured candidate crimes in {settings.force} {snapshot_date}: nothing to sample")
    frame = {}
    for stratum in STRATA:
        members = [row for row in rows if row["stratum"] == stratum]
        recorded = sum(row["recorded_crimes"] for row in members)
        crimes = recorded + sum(row["unrecorded_crimes"] for row in members)
        frame[stratum] = {"candidates": len(members), "crimes": crimes, "rate": recorded / crimes if crimes else None}
    sizes = stratum_sizes(frame, overall_half_width, violence_half_width)
    total_crimes = sum(stratum["crimes"] for stratum in frame.values())
    sample = []
    for stratum in STRATA:
        members = sorted((row for row in rows if row["stratum"] == stratum),
                         key=lambda row: _draw_key(seed, row["candidate_ref"]))
        sample += members[:sizes[stratum]]
    table = pa.table({
        "stratum": [row["stratum"] for row in sample],
        "candidate_ref": [row["candidate_ref"] for row in sample],
        "route": [row["route"] for row in sample],
        "crime_group": [row["crime_group"] for row in sample],
        "report_day": [row["report_day"].isoformat() for row in sample],
        "screened_outcome": [row["outcome"] for row in sample],
        "expected_crimes": [int(row["expected_crimes"]) for row in sample],
        "screened_recorded_crimes": [int(row["recorded_crimes"]) for row in sample],
        **{name: [""] * len(sample) for name in ("verdict", "crimes_due", "crimes_recorded", "auditor", "notes")},
    })
    reports = lake.reports_dir(settings.lake_dir, settings.force, snapshot_date)
    sample_file = outputs.write_csv(table, reports / SAMPLE_FILE)
    plan = AuditPlan(
        force=settings.force, snapshot_date=snapshot_date.isoformat(), seed=seed,
        overall_half_width=overall_half_width, violence_half_width=violence_half_width,
        first_report_day=first.isoformat(), last_report_day=last.isoformat(),
        strata=[StratumPlan(stratum, frame[stratum]["candidates"], frame[stratum]["crimes"],
                            frame[stratum]["crimes"] / total_crimes if total_crimes else 0.0, frame[stratum]["rate"],
                            _sizing_rate(frame[stratum]["rate"]), sizes[stratum]) for stratum in STRATA],
        sample_file=str(sample_file),
    )
    lake.write_json(plan.to_dict(), reports / PLAN_FILE)
    return plan


# ------------------------------------------------------------------------------------- ingest
def _whole(value: str, default: int, name: str) -> int:
    value = value.strip()
    if value == "":
        return default
    if not re.fullmatch(r"[0-9]+", value):
        raise ValueError(f"{name} is not a whole number >= 0: {value!r}")
    return int(value)


def _checked(row: dict[str, str], drawn: dict) -> dict | str:
    """One verdict row with its defaults filled in, or what is wrong with it (naming the field)."""
    verdict = row["verdict"].strip().upper()
    if verdict not in VERDICTS:
        if not verdict:
            return "verdict is empty: CRIME or NO_CRIME is required"
        return f"verdict must be CRIME or NO_CRIME, got {row['verdict']!r}"
    try:
        due = _whole(row.get("crimes_due", ""), drawn["expected_crimes"] if verdict == "CRIME" else 0, "crimes_due")
        recorded = _whole(row.get("crimes_recorded", ""), min(due, drawn["screened_recorded_crimes"]), "crimes_recorded")
    except ValueError as error:
        return str(error)
    # crimes_due is the audited rate's denominator: a crime is due at least once, a non-crime never.
    if verdict == "CRIME" and due == 0:
        return ("crimes_due 0 contradicts verdict CRIME: a crime is due at least once "
                f"(leave it empty for the {drawn['expected_crimes']} the report named)")
    if verdict == "NO_CRIME" and due:
        return f"crimes_due {due} contradicts verdict NO_CRIME: no crime is due (leave it empty or 0)"
    if verdict == "NO_CRIME" and recorded:
        return f"crimes_recorded {recorded} contradicts verdict NO_CRIME: no crime is due (leave it empty or 0)"
    if recorded > due:
        return f"crimes_recorded {recorded} is more than crimes_due {due}"
    return {**drawn, "verdict": verdict, "crimes_due": due, "crimes_recorded": recorded}


def read_verdicts(path: Path, sample: dict[str, dict]) -> list[dict]:
    """The verdict rows, checked against the sample; AuditInputError naming every bad line.

    The file is what an auditor's spreadsheet saves: UTF-8 (with or without BOM) or Windows-1252,
    decoded as extraction decodes exports. Lines are the file's own (a quoted note may span
    several; blank lines count); rows whose every field is empty, as Excel leaves below a table,
    are not rows.
    """
    path = Path(path)
    data = path.read_bytes()
    if not data.strip():
        raise AuditInputError(f"{path}, line 1: the file is empty: no header row")
    try:
        text, _ = decode_export(path, data)
    except ExportFormatError as error:
        raise AuditInputError(str(error)) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        raise AuditInputError(f"{path}, line 1: header row cannot be read: {error}") from None
    missing = [name for name in ("candidate_ref", "verdict") if name not in header]
    if missing:
        raise AuditInputError(f"{path}, line 1: columns missing: {', '.join(missing)}")
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise AuditInputError(f"{path}, line 1: columns given more than once: {', '.join(duplicated)}")
    problems, seen, verdicts = [], {}, []
    line_after_previous = reader.line_num
    while True:
        line = line_after_previous + 1  # the line the row starts on; reader.line_num is where it ends
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise AuditInputError(f"{path}, line {line}: not valid CSV: {error}") from None
        line_after_previous = reader.line_num
        if not any(value.strip() for value in fields):
            continue  # a blank line, or a row of empty cells (",,,,") as spreadsheets leave them
        if len(fields) != len(header):
            problems.append(f"line {line}: expected {len(header)} fields as in the header, found {len(fields)} "
                            "(a separator in an unquoted field?)")
            continue
        row = dict(zip(header, fields))
        ref = row["candidate_ref"].strip().lstrip("'")
        if not ref:
            problems.append(f"line {line}: candidate_ref is empty")
            continue
        if ref not in sample:
            problems.append(f"line {line}: candidate_ref {ref!r} is not in the sample")
            continue
        if ref in seen:
            problems.append(f"line {line}: candidate_ref {ref} already given on line {seen[ref]}")
            continue
        seen[ref] = line
        checked = _checked(row, sample[ref])
        if isinstance(checked, str):
            problems.append(f"line {line}: {checked}")
            continue
        verdicts.append(checked)
    not_given = sorted(set(sample) - set(seen))
    if not_given:
        problems.append(f"{len(not_given)} sampled candidates have no verdict, e.g. {', '.join(not_given[:5])}")
    if problems:
        raise AuditInputError(f"{path}: {len(problems)} problems: " + "; ".join(problems[:20]))
    return verdicts


def audited_rates(verdicts: list[dict], plan: dict) -> list[dict]:
    """Audited rate per stratum (Wilson 95%) and overall (stratified, normal 95% interval)."""
    weights = {stratum["stratum"]: stratum["weight"] for stratum in plan["strata"]}
    frame_sizes = {stratum["stratum"]: stratum["frame_candidates"] for stratum in plan["strata"]}
    results, estimate, variance = [], 0.0, 0.0
    for stratum in STRATA:
        rows = [row for row in verdicts if row["stratum"] == stratum]
        due = sum(row["crimes_due"] for row in rows)
        recorded = sum(row["crimes_recorded"] for row in rows)
        rate = recorded / due if due else None
        lower, upper = wilson(recorded, due)
        results.append({"dimension": "stratum", "dimension_value": stratum, "reports_audited": len(rows),
                        "judged_crimes": sum(1 for row in rows if row["verdict"] == "CRIME"),
                        "crimes_due": due, "crimes_recorded": recorded,
                        "audited_rate": rate, "audited_ci_lower": lower, "audited_ci_upper": upper})
        if rate is not None:
            estimate += weights[stratum] * rate
            # finite population correction: a sample that is much of its stratum knows it well
            correction = max(0.0, 1 - len(rows) / frame_sizes[stratum]) if frame_sizes[stratum] else 0.0
            variance += weights[stratum] ** 2 * rate * (1 - rate) / due * correction
    half = Z_95 * math.sqrt(variance)
    results.insert(0, {"dimension": "overall", "dimension_value": "ALL", "reports_audited": len(verdicts),
                       "judged_crimes": sum(1 for row in verdicts if row["verdict"] == "CRIME"),
                       "crimes_due": sum(row["crimes_due"] for row in verdicts),
                       "crimes_recorded": sum(row["crimes_recorded"] for row in verdicts),
                       "audited_rate": estimate, "audited_ci_lower": max(0.0, estimate - half),
                       "audited_ci_upper": min(1.0, estimate + half)})
    return results


def ingest_verdicts(settings: Settings, snapshot_date: dt.date, verdict_file: Path) -> list[dict]:
    """Take the auditors' verdicts back; write the audited rates beside the screened ones."""
    reports = lake.reports_dir(settings.lake_dir, settings.force, snapshot_date)
    plan_file = reports / PLAN_FILE
    if not plan_file.exists():
        raise FileNotFoundError(f"no audit sample was drawn for {settings.force} {snapshot_date}: {plan_file}")
    plan = lake.read_json(plan_file)
    with lake.location(plan["sample_file"]).open(newline="", encoding="utf-8") as handle:
        sample = {row["candidate_ref"].lstrip("'"): {**row, "expected_crimes": int(row["expected_crimes"]),
                                                     "screened_recorded_crimes": int(row["screened_recorded_crimes"])}
                  for row in csv.DictReader(handle)}
    rates = audited_rates(read_verdicts(Path(verdict_file), sample), plan)
    screened = {
        (row["dimension"], row["dimension_value"]): row
        for row in lake.read_parquet(lake.mart_path(settings.lake_dir, "recording_rates", settings.force, snapshot_date)).to_pylist()
    }
    screened_key = {"ALL": ("overall", "ALL"), "VIOLENCE": ("crime_group", VIOLENCE)}
    for row in rates:
        match = screened.get(screened_key.get(row["dimension_value"], ("", "")), {})
        row["screened_rate"] = match.get("recording_rate")
        row["screened_ci_lower"] = match.get("rate_ci_lower")
        row["screened_ci_upper"] = match.get("rate_ci_upper")
    outputs.write_csv(pa.Table.from_pylist(rates), reports / RATES_FILE)
    lake.write_json({"plan": plan, "verdict_file": str(verdict_file), "rates": rates}, reports / RESULTS_FILE)
    return rates
