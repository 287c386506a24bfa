"""Great Expectations gates: the contract on every raw snapshot, and the recording-rate gate.

The suites are defined once, in ``expectations/build_suites.py``, and committed as JSON in
``expectations/suites/``; this module loads those files into a file-based GX context under the
run's ``quality_dir`` (never the source tree), binds the run's parameters (snapshot cut-off, epoch,
minimum row count, reference code lists, thresholds), validates pandas frames produced by DuckDB
(GX's SQL datasource is broken on DuckDB) and turns GX's results into small dataclasses that the
DAG logs, alerts on and stores.

What GX cannot express, and how it is handled here (not silently skipped):

- Codes inside list columns (``qualifiers``, ``flags``): GX has no expectation on list elements, so
  each such column is exploded here (vectorised) and validated by its own suite
  (``raw_<source>_<column>``) on one element per row.
- Per-group thresholds: the force's thresholds become a column of the rates frame (null where no
  threshold is configured or there were no candidate crimes) checked by one column-pair
  expectation, so one reviewed suite serves every force and any configured group.
- Severity depends on the force's configuration for the gate: the suite holds the defaults and the
  configured ``severity`` overrides them before each run (the stored suite shows what was used).

Example values in failures never come from person-key columns: the suites put no value check on
them, GX sees list-valued person keys only as "has a list", and ``_detail`` refuses to quote them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import inspect
import json
import logging
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import great_expectations as gx
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from great_expectations.data_context.types.base import ProgressBarsConfig

from pipelines import lake
from pipelines.contract import SOURCES, SourceContract
from pipelines.reference import REFERENCE_LISTS, reference_codes
from pipelines.settings import default_thresholds
from pipelines.verdict import FLAG_DIMENSIONS, rape_reports_unresolved

logging.getLogger("great_expectations").setLevel(logging.WARNING)
log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
SUITES_DIR = REPO_ROOT / "expectations" / "suites"

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = ("critical", "warning", "info")

# Lake columns that extraction adds to every source.
SOURCE_LINE = "source_line"
CLOCK_CHANGE_NOTE = "clock_change_note"

# Suite parameters bound on each run.
PARAM_AS_OF = "as_of"
PARAM_EPOCH = "epoch"
PARAM_MIN_ROW_COUNT = "min_row_count"
PARAM_MIN_ACCEPTED_ROWS = "min_accepted_rows"  # the quarantined-share check (max_quarantined_share)
PARAM_MIN_NEWEST_UPDATE = "min_newest_update"  # the stale-export check (max_export_age_hours)
# An expectation's ``meta`` key naming the parameter that bounds it: GX results carry the bound
# value, not its name, and the failure detail depends on which check it is.
BOUND_BY = "bound_by"
PARAM_MIN_SHARE_WITHIN_24H = "min_share_within_24h"

# Gate checks; each names the key of the force's ``severity`` setting that applies to it.
CHECK_UNRECORDED_RATE = "unrecorded_rate"
CHECK_SHARE_WITHIN_24H = "share_within_24h"
CHECK_RAPE_UNRECORDED = "rape_unrecorded"

GATE_RATES_SUITE = "gate_recording_rates"
GATE_CANDIDATES_SUITE = "gate_candidates"
THRESHOLD_COLUMN = "unrecorded_rate_threshold"
RATE_DIMENSIONS = ("overall", "crime_group", "route", *FLAG_DIMENSIONS)
GROUP_DIMENSIONS = RATE_DIMENSIONS[1:]  # thresholds are set per group of these: {dimension: {group: rate}}
RATES_COLUMNS = (
    "dimension",
    "dimension_value",
    "candidate_crimes",
    "unrecorded",
    "recording_rate",
    "rate_ci_lower",
    "rate_ci_upper",
    "unrecorded_rate",
    "share_within_24h",
)
CANDIDATE_COLUMNS = ("candidate_ref", "is_rape_report", "outcome", "rape_resolution")
# The outcomes sql/intermediate/int_candidate_outcomes.sql assigns (DUPLICATE: a probable repeat
# call about a report already counted, which leaves the count; N100: a reported rape found not to
# be a crime, which leaves it too).
CANDIDATE_OUTCOMES = (
    "RECORDED_ON_TIME",
    "RECORDED_LATE",
    "UNRECORDED",
    "PENDING",
    "CANCELLED_VALID",
    "CANCELLED_QUESTIONABLE",
    "TRANSFERRED",
    "N100",
    "UNDER_COUNTED",
    "DUPLICATE",
)

# The embedded defaults (pipelines/defaults.yaml, the one place they are written); a force's
# configuration and a run's override replace any of them.
DEFAULT_THRESHOLDS: dict[str, Any] = default_thresholds()

# Rates are computed as 1 - r in SQL: 1 - 0.95 is 0.05000000000000004, which must not breach a
# 5% threshold. Compared values are rounded to this many decimals (reported values are not).
RATE_COMPARISON_DECIMALS = 10

DATASOURCE_NAME = "cdi_frames"
BATCH_DEFINITION_NAME = "whole_frame"
EXAMPLES_IN_DETAIL = 3
GX_STATISTICS = ("evaluated_expectations", "successful_expectations", "unsuccessful_expectations")
RAPE_EXAMPLES = 10  # references of unrecorded rape reports quoted in the alert
# SUMMARY keeps a few unexpected values and their index labels; the labels are mapped back to
# source lines here. GX's ``unexpected_index_column_names`` would do that too, but GX 1.24 then
# walks every unexpected row in Python before keeping the first few (245 s on a broken 1M-row
# snapshot instead of 4 s), and its index query would list every unexpected row.
RAW_RESULT_FORMAT = {
    "result_format": "SUMMARY",
    "partial_unexpected_count": 10,
    "return_unexpected_index_query": False,
}


# --------------------------------------------------------------------------- suite vocabulary
def raw_suite_name(source: str) -> str:
    return f"raw_{source}"


def list_suite_name(source: str, column: str) -> str:
    return f"raw_{source}_{column}"


def lake_columns(contract: SourceContract) -> tuple[str, ...]:
    """The columns of a source in the raw lake: the contract's minus personal ones, plus lineage."""
    kept = tuple(column.lake_name for column in contract.columns if not column.is_personal)
    return kept + (SOURCE_LINE, CLOCK_CHANGE_NOTE)


def list_code_columns(contract: SourceContract) -> tuple[str, ...]:
    """List columns whose elements must come from a code list (checked on the exploded column)."""
    return tuple(
        column.name for column in contract.columns if column.kind == "list" and column.allowed
    )


def person_key_columns(contract: SourceContract) -> frozenset[str]:
    return frozenset(column.lake_name for column in contract.columns if column.is_pseudonymised)


# --------------------------------------------------------------------------- outcomes
@dataclass
class FailedExpectation:
    suite: str
    expectation_type: str
    column: str | None
    severity: str
    detail: str
    bound_by: str | None = None  # the suite parameter bounding it (BOUND_BY), if any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ValidationOutcome:
    """The raw-snapshot validation of one source: ``success`` means no critical failure."""

    source: str
    success: bool
    failures: list[FailedExpectation]
    statistics: dict[str, Any]
    parameters: dict[str, Any]
    suites: list[str]
    kind: str = "raw_snapshot"

    @property
    def critical_failures(self) -> list[FailedExpectation]:
        return [failure for failure in self.failures if failure.severity == CRITICAL]

    @property
    def ok(self) -> bool:
        return self.success

    def to_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))


@dataclass
class Breach:
    """A gate check that failed for one group.

    observed / threshold: the unrecorded rate and its threshold, the share recorded within 24 hours
    and its minimum, or the number of unrecorded rape reports and 0. ci_lower / ci_upper: the 95%
    Wilson interval of the observed rate where the reconciliation gives one (for the unrecorded
    rate: 1 - the recording rate's interval). count / out_of: unrecorded crimes and candidate crimes
    (rates) or unrecorded rape reports (rape check); examples: candidate references, never personal.
    """

    check: str
    dimension: str | None
    dimension_value: str | None
    observed: float | None
    threshold: float | None
    ci_lower: float | None
    ci_upper: float | None
    severity: str
    count: int | None = None
    out_of: int | None = None
    examples: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for a log, an exception or the registrar's alert."""
        if self.check == CHECK_RAPE_UNRECORDED:
            return rape_reports_unresolved(self.count, self.examples)
        where = (
            "overall" if self.dimension == "overall" else f"{self.dimension} {self.dimension_value}"
        )
        interval = (
            f", 95% CI {self.ci_lower:.1%}-{self.ci_upper:.1%}"
            if self.ci_lower is not None and self.ci_upper is not None
            else ""
        )
        counts = f", {self.count} of {self.out_of}" if self.out_of is not None else ""
        if self.check == CHECK_SHARE_WITHIN_24H:
            return (
                f"{where}: recorded within 24 hours {self.observed:.1%}, "
                f"below the minimum {self.threshold:.1%}"
            )
        return (
            f"{where}: unrecorded rate {self.observed:.1%} above the threshold "
            f"{self.threshold:.1%}{interval}{counts}"
        )

    def to_dict(self) -> dict[str, Any]:
        return _plain({**asdict(self), "description": self.describe()})


@dataclass
class GateOutcome:
    """The recording-rate gate: ``passed`` means no critical breach and a well-formed input.

    ``breaches`` are the critical breaches, ``warnings`` the others; ``failures`` are structural
    problems of the metrics frames themselves (a missing column, an unknown outcome).
    """

    passed: bool
    breaches: list[Breach]
    warnings: list[Breach]
    thresholds_used: dict[str, Any]
    failures: list[FailedExpectation]
    statistics: dict[str, Any]
    suites: list[str]
    kind: str = "recording_rate_gate"

    @property
    def ok(self) -> bool:
        return self.passed

    def to_dict(self) -> dict[str, Any]:
        payload = _plain(asdict(self))
        payload["breaches"] = [breach.to_dict() for breach in self.breaches]
        payload["warnings"] = [warning.to_dict() for warning in self.warnings]
        return payload

    def describe(self) -> str:
        """The reasons the gate did not pass, in one line."""
        reasons = [breach.describe() for breach in self.breaches]
        reasons += [f"{f.suite}: {f.expectation_type} on {f.column or 'the table'} ({f.detail})" for f in self.failures]
        return "; ".join(reasons)


# --------------------------------------------------------------------------- thresholds
def resolve_thresholds(thresholds: dict[str, Any] | None) -> dict[str, Any]:
    """The thresholds a run uses: the given ones over the defaults, checked for typos."""
    given = dict(thresholds or {})
    unknown = set(given) - set(DEFAULT_THRESHOLDS)
    if unknown:
        raise ValueError(f"unknown threshold settings: {', '.join(sorted(unknown))}")
    resolved = json.loads(json.dumps(DEFAULT_THRESHOLDS))
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(resolved[key], dict):
            resolved[key] = {**resolved[key], **value}
        else:
            resolved[key] = value
    unknown_dimensions = set(resolved["unrecorded_rate"]) - set(RATE_DIMENSIONS)
    if unknown_dimensions:
        raise ValueError(f"unknown rate dimensions: {', '.join(sorted(unknown_dimensions))}")
    for check, severity in resolved["severity"].items():
        if check not in DEFAULT_THRESHOLDS["severity"]:
            raise ValueError(f"unknown gate check in severity: {check}")
        if severity not in SEVERITIES:
            raise ValueError(f"severity of {check} must be one of {SEVERITIES}, not {severity!r}")
    resolved["epoch"] = str(resolved["epoch"])
    return resolved


# --------------------------------------------------------------------------- GX context
_contexts: dict[Path, Any] = {}
_held_locks: dict[Path, int] = {}


@contextlib.contextmanager
def _quality_lock(quality_dir: Path):
    """Hold the force's GX folder for one whole operation (validate, gate, Data Docs).

    Runs for two dates of one force share the folder: the gate rewrites its suite and Data Docs
    re-read every store, so a lock only around opening the context let one run see the other's
    half-written suite. Re-entrant within a process (flock is per open file, not per process).
    """
    quality_dir = Path(quality_dir).resolve()
    quality_dir.mkdir(parents=True, exist_ok=True)
    if _held_locks.get(quality_dir):
        _held_locks[quality_dir] += 1
        try:
            yield
        finally:
            _held_locks[quality_dir] -= 1
        return
    with (quality_dir / ".gx-context.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _held_locks[quality_dir] = 1
        try:
            yield
        finally:
            _held_locks[quality_dir] = 0


def _holding_quality_lock(function):
    """Run ``function`` under `_quality_lock` of its ``quality_dir`` argument."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def locked(*args, **kwargs):
        quality_dir = signature.bind(*args, **kwargs).arguments["quality_dir"]
        with _quality_lock(quality_dir):
            return function(*args, **kwargs)

    return locked


def _context(quality_dir: Path):
    """A file GX context under quality_dir holding the committed suites (cached per process).

    Opened under a lock, and every data asset created up front: tasks of one run may open the same
    quality_dir in parallel processes, and GX rewrites its whole ``great_expectations.yml`` when an
    asset is added (a second process adding another asset would drop the first one's).
    """
    quality_dir = Path(quality_dir).resolve()
    context = _contexts.get(quality_dir)
    if context is not None:
        return context
    with _quality_lock(quality_dir):
        context = gx.get_context(mode="file", project_root_dir=quality_dir)
        variables = context.variables
        progress_bars = variables.progress_bars  # a ProgressBarsConfig, or a dict once reloaded
        if isinstance(progress_bars, ProgressBarsConfig):
            progress_bars = {"globally": progress_bars.globally}
        site = (variables.data_docs_sites or {}).get("local_site", {})
        if (progress_bars or {}).get("globally", True) or site.get("show_how_to_buttons", True):
            variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
            if site:
                site["show_how_to_buttons"] = False
            variables.save()
        for path in sorted(SUITES_DIR.glob("*.json")):
            suite = _store_suite(context, load_suite(path.stem))
            _validation_definition(context, suite)
    _contexts[quality_dir] = context
    return context


def load_suite(name: str) -> gx.ExpectationSuite:
    """A committed suite, as written by ``expectations/build_suites.py``."""
    path = SUITES_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python expectations/build_suites.py`")
    return gx.ExpectationSuite(**json.loads(path.read_text(encoding="utf-8")))


def _store_suite(context, suite: gx.ExpectationSuite) -> gx.ExpectationSuite:
    return context.suites.add_or_update(suite)


def _validation_definition(context, suite: gx.ExpectationSuite):
    """The suite's validation definition, on a whole-frame batch of the asset named after it."""
    asset_name = suite.name
    try:
        datasource = context.data_sources.get(DATASOURCE_NAME)
    except (KeyError, ValueError):
        datasource = context.data_sources.add_pandas(DATASOURCE_NAME)
    try:
        asset = datasource.get_asset(asset_name)
    except LookupError:
        asset = datasource.add_dataframe_asset(asset_name)
    try:
        batch_definition = asset.get_batch_definition(BATCH_DEFINITION_NAME)
    except KeyError:
        batch_definition = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite)
    )


def _run_suite(
    context,
    suite: gx.ExpectationSuite,
    frame: pd.DataFrame,
    *,
    parameters: dict[str, Any],
    result_format: dict[str, Any],
):
    validation_definition = _validation_definition(context, suite)
    with warnings.catch_warnings():
        # GX 1.24 reads tz-aware columns through Series.values, which pandas 3.1 deprecates:
        # one warning per expectation per run, about GX's code, not ours.
        warnings.filterwarnings(
            "ignore", message="Series.values returning an ndarray", category=DeprecationWarning
        )
        return validation_definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            result_format=result_format,
        )


# --------------------------------------------------------------------------- raw snapshots
@_holding_quality_lock
def validate_raw_snapshot(
    source: str,
    frame: pd.DataFrame,
    *,
    as_of: dt.datetime,
    previous_row_count: int | None,
    thresholds: dict[str, Any],
    quality_dir: Path,
    reference_dir: str | None = None,
    rows_quarantined: int = 0,
) -> ValidationOutcome:
    """Validate one source's raw lake snapshot against its committed suites, and check that
    extraction did not quarantine too much of it (``rows_quarantined``: its rows refused)."""
    started = time.perf_counter()
    contract = SOURCES[source]
    settings = resolve_thresholds(thresholds)
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware (UTC)")
    drop_share = float(settings["max_row_count_drop_share"])
    min_row_count = (
        None if previous_row_count is None else math.ceil(previous_row_count * (1 - drop_share))
    )
    quarantined_share = float(settings["max_quarantined_share"])
    max_age_hours = (settings["max_export_age_hours"] or {}).get(source)
    cutoff = pd.Timestamp(as_of).tz_convert("UTC")
    parameters: dict[str, Any] = {
        PARAM_AS_OF: cutoff,
        PARAM_EPOCH: pd.Timestamp(settings["epoch"], tz="UTC"),
        PARAM_MIN_ROW_COUNT: min_row_count,
        PARAM_MIN_ACCEPTED_ROWS: min_accepted_rows(len(frame), rows_quarantined, quarantined_share),
        PARAM_MIN_NEWEST_UPDATE: (
            # not judged: a source with no limit, or no update to judge (an empty snapshot)
            None if max_age_hours is None or "updated_at" not in frame or frame["updated_at"].isna().all()
            else cutoff - pd.Timedelta(hours=float(max_age_hours))
        ),
    }
    for list_name in REFERENCE_LISTS:
        parameters[list_name] = sorted(reference_codes(list_name, reference_dir))

    context = _context(quality_dir)
    frame = frame.reset_index(drop=True)  # index labels must map back to source lines

    suite_names = [raw_suite_name(source)]
    results = [
        (
            suite_names[0],
            _run_suite(
                context,
                context.suites.get(suite_names[0]),
                frame_for_gx(frame, contract),
                parameters=parameters,
                result_format=RAW_RESULT_FORMAT,
            ),
            _source_lines(frame),
        )
    ]
    list_statistics = {}
    for column in list_code_columns(contract):
        if column not in frame.columns:
            continue  # reported by the main suite's expect_column_to_exist
        elements = explode_list_column(frame, column)
        list_statistics[column] = {"elements": len(elements)}
        name = list_suite_name(source, column)
        suite_names.append(name)
        results.append(
            (
                name,
                _run_suite(
                    context,
                    context.suites.get(name),
                    elements,
                    parameters=parameters,
                    result_format=RAW_RESULT_FORMAT,
                ),
                _source_lines(elements),
            )
        )

    failures: list[FailedExpectation] = []
    statistics: dict[str, Any] = {"rows": len(frame), **dict.fromkeys(GX_STATISTICS, 0)}
    for name, result, source_lines in results:
        for key in GX_STATISTICS:
            statistics[key] += int(result.statistics[key])
        failures += _failures(
            name,
            result.results,
            person_keys=person_key_columns(contract),
            source_lines=source_lines,
        )
    if list_statistics:
        statistics["list_columns"] = list_statistics
    statistics["seconds"] = round(time.perf_counter() - started, 3)
    for failure in failures:
        if failure.bound_by == PARAM_MIN_ROW_COUNT and previous_row_count:
            failure.detail = (
                f"{len(frame)} rows vs {previous_row_count} in the previous snapshot: dropped "
                f"{1 - len(frame) / previous_row_count:.0%}, more than the {drop_share:.0%} "
                "allowed (a broken export looks like a fall in crime)"
            )
        elif failure.bound_by == PARAM_MIN_ACCEPTED_ROWS:
            failure.detail = _quarantined_detail(len(frame), rows_quarantined, quarantined_share)
        elif failure.bound_by == PARAM_MIN_NEWEST_UPDATE:
            failure.detail = _stale_detail(frame, cutoff, float(max_age_hours))

    outcome = ValidationOutcome(
        source=source,
        success=not any(failure.severity == CRITICAL for failure in failures),
        failures=failures,
        statistics=statistics,
        parameters={
            "as_of": parameters[PARAM_AS_OF].isoformat(),
            "epoch": parameters[PARAM_EPOCH].isoformat(),
            "previous_row_count": previous_row_count,
            "min_row_count": min_row_count,
            "max_row_count_drop_share": drop_share,
            "rows_quarantined": rows_quarantined,
            "max_quarantined_share": quarantined_share,
            "min_accepted_rows": parameters[PARAM_MIN_ACCEPTED_ROWS],
            "max_export_age_hours": max_age_hours,
            "reference_dir": reference_dir,
        },
        suites=suite_names,
    )
    _log_outcome(outcome)
    return outcome


# A share of a small source is judged from this many refused rows (one bad row of 19 is the
# quarantine's ordinary work); a source with nothing accepted is judged whatever its size.
MIN_QUARANTINED_ROWS_JUDGED = 10


def min_accepted_rows(accepted: int, quarantined: int, max_share: float) -> int | None:
    """The fewest rows the raw snapshot may hold (the suite's ``min_accepted_rows``): the rows the
    export held less the most ``max_share`` of them may be refused; None when not judged."""
    rows_in = accepted + quarantined
    if not quarantined or (quarantined < MIN_QUARANTINED_ROWS_JUDGED and accepted > 0):
        return None
    return rows_in - math.floor(max_share * rows_in)


def _quarantined_detail(accepted: int, quarantined: int, max_share: float) -> str:
    rows_in = accepted + quarantined
    return (f"{quarantined} of {rows_in} rows quarantined ({quarantined / rows_in:.0%}), more than the "
            f"{max_share:.0%} allowed: the quarantine partition gives each row's line and reason")


def _stale_detail(frame: pd.DataFrame, as_of: pd.Timestamp, max_age_hours: float) -> str:
    newest = pd.to_datetime(frame["updated_at"], utc=True).max()
    return (f"the newest update is {newest:%Y-%m-%d %H:%M} UTC, {(as_of - newest) / pd.Timedelta(hours=1):.0f} hours "
            f"before the snapshot's cut-off {as_of:%Y-%m-%d %H:%M} UTC, more than the {max_age_hours:g} allowed: "
            "a stale export?")


def _source_lines(frame: pd.DataFrame) -> np.ndarray | None:
    """Source line by position (the frames given to GX have a RangeIndex)."""
    return frame[SOURCE_LINE].to_numpy() if SOURCE_LINE in frame.columns else None


def explode_list_column(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """One row per element of a list column (nulls and empty lists dropped), with its source line.

    Arrow flattens the lists in C++ (0.25 s for 1M rows, against 1.2 s for ``Series.explode``);
    lists Arrow cannot type (mixed element types) fall back to pandas.
    """
    try:
        lists = pa.array(frame[column].to_numpy(), from_pandas=True)
        if not pa.types.is_list(lists.type) and not pa.types.is_null(lists.type):
            raise TypeError(f"{column} does not hold lists")
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        kept = [column] + ([SOURCE_LINE] if SOURCE_LINE in frame.columns else [])
        exploded = frame[kept].explode(column)
        return exploded[exploded[column].notna()].reset_index(drop=True)
    if pa.types.is_null(lists.type):  # every value null
        elements = pd.DataFrame({column: pd.Series([], dtype=object)})
    else:
        flat = pc.list_flatten(lists)
        rows = pc.list_parent_indices(lists).to_numpy()
        elements = pd.DataFrame({column: flat.to_numpy(zero_copy_only=False)})
        if SOURCE_LINE in frame.columns:
            elements[SOURCE_LINE] = frame[SOURCE_LINE].to_numpy()[rows]
    return elements[elements[column].notna()].reset_index(drop=True)


def frame_for_gx(frame: pd.DataFrame, contract: SourceContract) -> pd.DataFrame:
    """The frame as the raw suite sees it (a shallow copy: the caller's frame is untouched).

    - GX fingerprints every batch with ``pd.util.hash_pandas_object`` and, when a column holds
      unhashable lists, falls back to pickling the whole frame: 27 s for 1M incidents. The suite
      only checks that list columns exist (their elements are validated exploded), so GX sees each
      list column as "has a list" (bool).
    - GX's pandas ``between`` is vectorised only for int64/float64/datetime columns; on int32 it
      calls a Python function per row, so counts are widened to int64.
    """
    view = frame.copy(deep=False)
    for column in contract.columns:
        name = column.lake_name
        if name not in view.columns:
            continue
        if column.kind in ("list", "person_id_list"):
            view[name] = view[name].notna()
        elif column.kind == "count" and pd.api.types.is_integer_dtype(view[name].dtype):
            view[name] = view[name].astype("int64")
    return view


def _failures(
    suite_name: str,
    expectation_results,
    *,
    person_keys: frozenset[str],
    source_lines: np.ndarray | None = None,
) -> list[FailedExpectation]:
    """The failed expectations of one suite run, a missing column reported once.

    A missing column makes every expectation that reads it (as its column or in its row
    condition) fail too; those are folded into the one expect_column_to_exist failure.
    """
    failed = [result for result in expectation_results if not result.success]
    missing = {
        result.expectation_config.kwargs["column"]
        for result in failed
        if result.expectation_config.type == "expect_column_to_exist"
    }
    not_evaluated = dict.fromkeys(missing, 0)
    failures = []
    for expectation_result in failed:
        config = expectation_result.expectation_config
        kwargs = dict(config.kwargs)
        involved = _columns_read(kwargs) & missing
        if config.type != "expect_column_to_exist" and involved:
            for column in involved:
                not_evaluated[column] += 1
            continue
        failures.append(
            FailedExpectation(
                suite=suite_name,
                expectation_type=config.type,
                column=_column_of(kwargs),
                severity=_severity_of(config),
                detail=_detail(config.type, kwargs, expectation_result, person_keys, source_lines),
                bound_by=(config.meta or {}).get(BOUND_BY),
            )
        )
    for failure in failures:
        if failure.expectation_type == "expect_column_to_exist" and not_evaluated[failure.column]:
            dependent = not_evaluated[failure.column]
            failure.detail += f"; {dependent} expectation(s) on it not evaluated"
    order = {CRITICAL: 0, WARNING: 1}
    return sorted(failures, key=lambda item: (order.get(item.severity, 2), item.column or ""))


def _columns_read(kwargs: dict[str, Any]) -> set[str]:
    columns = {kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs}
    condition = kwargs.get("row_condition")
    if hasattr(condition, "dict"):
        condition = condition.dict()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("column"), dict) and "name" in node["column"]:
                columns.add(node["column"]["name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(condition)
    return columns


def _column_of(kwargs: dict[str, Any]) -> str | None:
    if "column" in kwargs:
        return kwargs["column"]
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return None


def _severity_of(config) -> str:
    severity = getattr(config, "severity", None) or CRITICAL
    return getattr(severity, "value", str(severity))


def _exception_message(expectation_result) -> str | None:
    info = expectation_result.exception_info or {}
    candidates = [info] + [value for value in info.values() if isinstance(value, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "error")
            return message.splitlines()[0][:160]
    return None


def _detail(
    expectation_type: str,
    kwargs: dict[str, Any],
    expectation_result,
    person_keys: frozenset[str],
    source_lines: np.ndarray | None,
) -> str:
    error = _exception_message(expectation_result)
    if expectation_type == "expect_column_to_exist":
        return "column missing from the frame"
    if error:
        return f"could not be evaluated: {error}"
    result = expectation_result.result or {}
    if expectation_type == "expect_table_row_count_to_be_between":
        return f"{result.get('observed_value')} rows"
    unexpected = result.get("unexpected_count")
    if unexpected is None:
        return f"observed {_short(result.get('observed_value'))}"
    total = result.get("element_count")
    text = f"{unexpected} of {total} rows unexpected"
    columns = {kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B")}
    if columns & person_keys:
        return text + " (values of person keys are never shown)"
    examples = _examples(result, kwargs, source_lines)
    return f"{text}, e.g. {examples}" if examples else text


def _examples(
    result: dict[str, Any], kwargs: dict[str, Any], source_lines: np.ndarray | None
) -> str:
    """A few distinct unexpected values, each with the source line(s) they came from."""
    values = result.get("partial_unexpected_list") or []
    positions = result.get("partial_unexpected_index_list") or []
    pair = "column_A" in kwargs
    lines_by_value: dict[str, list[str]] = {}
    for number, value in enumerate(values):
        if pair and isinstance(value, (list, tuple)) and len(value) == 2:
            column_a, column_b = kwargs["column_A"], kwargs["column_B"]
            text = f"{column_a}={_short(value[0])} vs {column_b}={_short(value[1])}"
        else:
            text = _short(value)
        lines = lines_by_value.setdefault(text, [])
        position = positions[number] if number < len(positions) else None
        if source_lines is not None and isinstance(position, (int, np.integer)):
            if 0 <= position < len(source_lines):
                lines.append(str(source_lines[position]))
    parts = []
    for text, lines in list(lines_by_value.items())[:EXAMPLES_IN_DETAIL]:
        where = f" (line{'s' if len(lines) > 1 else ''} {', '.join(lines[:3])})" if lines else ""
        parts.append(f"{text}{where}")
    return "; ".join(parts)


def _short(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, (np.datetime64, pd.Timestamp, dt.datetime)):
        timestamp = pd.Timestamp(value)
        if pd.isna(timestamp):
            return "null"
        if timestamp.tzinfo is None:  # GX hands pair values back as naive numpy datetimes (UTC)
            timestamp = timestamp.tz_localize("UTC")
        return timestamp.isoformat()
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_short(item) for item in value) + ")"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _log_outcome(outcome: ValidationOutcome) -> None:
    for failure in outcome.failures:
        log.log(
            logging.ERROR if failure.severity == CRITICAL else logging.WARNING,
            "%s %s %s on %s: %s",
            failure.severity,
            failure.suite,
            failure.expectation_type,
            failure.column,
            failure.detail,
        )


# --------------------------------------------------------------------------- recording-rate gate
@_holding_quality_lock
def gate_recording_rates(
    rates: pd.DataFrame,
    candidates: pd.DataFrame,
    *,
    thresholds: dict[str, Any],
    quality_dir: Path,
) -> GateOutcome:
    """Gate the run on its recording rates (per group) and on unrecorded rape reports."""
    started = time.perf_counter()
    settings = resolve_thresholds(thresholds)
    context = _context(quality_dir)
    rates_frame = _rates_with_thresholds(rates, settings["unrecorded_rate"])
    parameters = {PARAM_MIN_SHARE_WITHIN_24H: float(settings["min_share_within_24h"])}

    candidates = candidates.reset_index(drop=True)

    # The rates frame has a row per group (a few dozen): COMPLETE names every breaching group.
    rates_result = _run_suite(
        context,
        _with_configured_severity(context, GATE_RATES_SUITE, settings["severity"]),
        rates_frame,
        parameters=parameters,
        result_format={
            "result_format": "COMPLETE",
            "unexpected_index_column_names": [
                column for column in ("dimension", "dimension_value") if column in rates_frame
            ],
            "return_unexpected_index_query": False,
        },
    )
    # Candidates can be many: SUMMARY, positions mapped to references here (see RAW_RESULT_FORMAT).
    candidates_result = _run_suite(
        context,
        _with_configured_severity(context, GATE_CANDIDATES_SUITE, settings["severity"]),
        candidates,
        parameters=parameters,
        result_format={**RAW_RESULT_FORMAT, "partial_unexpected_count": RAPE_EXAMPLES},
    )

    breaches: list[Breach] = []
    failures: list[FailedExpectation] = []
    for suite_name, result in (
        (GATE_RATES_SUITE, rates_result),
        (GATE_CANDIDATES_SUITE, candidates_result),
    ):
        structural = []
        for expectation_result in result.results:
            check = (expectation_result.expectation_config.meta or {}).get("check")
            if expectation_result.success or not check or _exception_message(expectation_result):
                structural.append(expectation_result)
            elif check == CHECK_RAPE_UNRECORDED:
                breaches.append(_rape_breach(expectation_result, candidates))
            else:
                breaches += _rate_breaches(check, expectation_result, rates, rates_frame, settings)
        failures += _failures(suite_name, structural, person_keys=frozenset())

    configured_absent = _configured_groups_absent(rates_frame, settings["unrecorded_rate"])
    statistics = {
        "rate_rows": len(rates_frame),
        "candidates": len(candidates),
        "rape_reports": (
            int(candidates["is_rape_report"].fillna(False).sum())
            if "is_rape_report" in candidates
            else None
        ),
        "configured_groups_absent": configured_absent,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if configured_absent:
        log.warning("thresholds configured for groups absent from the rates: %s", configured_absent)
    critical = [breach for breach in breaches if breach.severity == CRITICAL]
    others = [breach for breach in breaches if breach.severity != CRITICAL]
    outcome = GateOutcome(
        passed=not critical and not any(failure.severity == CRITICAL for failure in failures),
        breaches=critical,
        warnings=others,
        thresholds_used=settings,
        failures=failures,
        statistics=statistics,
        suites=[GATE_RATES_SUITE, GATE_CANDIDATES_SUITE],
    )
    for breach in breaches:
        log.log(
            logging.ERROR if breach.severity == CRITICAL else logging.WARNING,
            "%s %s: %s",
            breach.severity,
            breach.check,
            breach.describe(),
        )
    for failure in failures:
        log.error(
            "%s %s on %s: %s", failure.suite, failure.expectation_type, failure.column, failure.detail
        )
    return outcome


def _with_configured_severity(context, suite_name: str, severities: dict[str, str]):
    """The committed suite with the force's severities applied to its gate checks."""
    suite = context.suites.get(suite_name)
    for expectation in suite.expectations:
        check = (expectation.meta or {}).get("check")
        if check in severities:
            expectation.severity = severities[check]
    return _store_suite(context, suite)


def _rates_with_thresholds(rates: pd.DataFrame, rate_thresholds: dict[str, Any]) -> pd.DataFrame:
    """The rates frame plus the configured threshold of each row (null: no threshold applies)."""
    frame = rates.reset_index(drop=True).copy()
    if not {"dimension", "dimension_value"} <= set(frame.columns):
        frame[THRESHOLD_COLUMN] = np.nan
        return frame
    overall = rate_thresholds.get("overall")
    configured = {
        (dimension, group): threshold
        for dimension in GROUP_DIMENSIONS
        for group, threshold in (rate_thresholds.get(dimension) or {}).items()
    }
    frame[THRESHOLD_COLUMN] = pd.Series(
        [
            overall if dimension == "overall" else configured.get((dimension, value))
            for dimension, value in zip(frame["dimension"], frame["dimension_value"])
        ],
        index=frame.index,
        dtype="float64",
    )
    if "candidate_crimes" in frame.columns:
        # No candidate crimes: no rate to judge, the group passes.
        frame.loc[frame["candidate_crimes"].fillna(0) == 0, THRESHOLD_COLUMN] = np.nan
    for column in ("unrecorded_rate", "share_within_24h"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column]).round(RATE_COMPARISON_DECIMALS)
    return frame


def _configured_groups_absent(frame: pd.DataFrame, rate_thresholds: dict[str, Any]) -> list[str]:
    """Configured thresholds that matched no row: often a misspelt group name."""
    if not {"dimension", "dimension_value"} <= set(frame.columns):
        return []
    present = set(zip(frame["dimension"], frame["dimension_value"]))
    return sorted(
        f"{dimension}={group}"
        for dimension in GROUP_DIMENSIONS
        for group in (rate_thresholds.get(dimension) or {})
        if (dimension, group) not in present
    )


def _rape_breach(expectation_result, candidates: pd.DataFrame) -> Breach:
    """Unrecorded rape reports: their number, and the first references for the alert."""
    result = expectation_result.result or {}
    positions = [int(position) for position in result.get("partial_unexpected_index_list") or []]
    examples = []
    if "candidate_ref" in candidates.columns and positions:
        examples = [str(ref) for ref in candidates["candidate_ref"].to_numpy()[positions]]
    count = int(result.get("unexpected_count") or 0)
    return Breach(
        check=CHECK_RAPE_UNRECORDED,
        dimension="candidates",
        dimension_value="rape_report",
        observed=float(count),
        threshold=0.0,
        ci_lower=None,
        ci_upper=None,
        severity=_severity_of(expectation_result.expectation_config),
        count=count,
        examples=sorted(examples),
    )


def _rate_breaches(
    check: str,
    expectation_result,
    rates: pd.DataFrame,
    rates_frame: pd.DataFrame,
    settings: dict[str, Any],
) -> list[Breach]:
    """One breach per group GX found above its threshold (or below the 24-hour share).

    Observed values come from the caller's frame (not the rounded copy GX compared).
    """
    severity = _severity_of(expectation_result.expectation_config)
    result = expectation_result.result or {}
    breaches = []
    group = ["dimension", "dimension_value"]
    thresholds = rates_frame.set_index(group)[THRESHOLD_COLUMN]
    observed = rates.set_index(group)
    for entry in result.get("unexpected_index_list") or []:
        key = (entry["dimension"], entry["dimension_value"])
        row = observed.loc[key]
        if isinstance(row, pd.DataFrame):  # a group reported twice: the first row speaks
            row = row.iloc[0]
        threshold = thresholds.loc[key]
        if isinstance(threshold, pd.Series):
            threshold = threshold.iloc[0]
        if check == CHECK_UNRECORDED_RATE:
            breaches.append(
                Breach(
                    check=check,
                    dimension=entry["dimension"],
                    dimension_value=entry["dimension_value"],
                    observed=_number(row.get("unrecorded_rate")),
                    threshold=_number(threshold),
                    ci_lower=_complement(row.get("rate_ci_upper")),
                    ci_upper=_complement(row.get("rate_ci_lower")),
                    severity=severity,
                    count=_integer(row.get("unrecorded")),
                    out_of=_integer(row.get("candidate_crimes")),
                )
            )
        else:
            breaches.append(
                Breach(
                    check=check,
                    dimension=entry["dimension"],
                    dimension_value=entry["dimension_value"],
                    observed=_number(row.get("share_within_24h")),
                    threshold=float(settings["min_share_within_24h"]),
                    ci_lower=None,
                    ci_upper=None,
                    severity=severity,
                    count=_integer(row.get("recorded_within_24h")),
                )
            )
    return breaches


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _integer(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _complement(value: Any) -> float | None:
    number = _number(value)
    return None if number is None else round(1 - number, RATE_COMPARISON_DECIMALS)


# --------------------------------------------------------------------------- results and docs
def write_validation_results(outcomes: list, path: Path) -> Path:
    """All outcomes of one run in one JSON file (pretty, sorted keys), replaced atomically."""
    document = {
        "success": all(outcome.ok for outcome in outcomes),
        "outcomes": [outcome.to_dict() for outcome in outcomes],
    }
    return lake.write_json(document, path)


@_holding_quality_lock
def build_data_docs(quality_dir: Path) -> Path:
    """Rebuild GX Data Docs from the suites and results stored under quality_dir."""
    context = _context(quality_dir)
    context.build_data_docs()
    index = Path(context.root_directory) / "uncommitted" / "data_docs" / "local_site" / "index.html"
    if not index.exists():
        raise FileNotFoundError(index)
    return index


def _plain(value: Any) -> Any:
    """JSON-ready copies of numpy and pandas scalars."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
