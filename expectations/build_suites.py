"""The single place the Great Expectations suites of cdi-monitor are defined.

Run ``python expectations/build_suites.py`` after changing a rule or the source contract: it writes
one JSON file per suite to ``expectations/suites/``. The JSON files are committed and reviewed like
code; at run time ``pipelines.quality`` loads them (it never rebuilds them from this script), and a
test fails when the committed files and this script disagree.

What is fixed here and what arrives at run time:

- Fixed in the suite: the contract's columns, keys, required fields and enums
  (``pipelines.contract`` is versioned code, so a change to it is a change to the suites), the
  severities and the rules.
- Suite parameters (``{"$PARAMETER": name}``), bound on each run: the snapshot cut-off ``as_of``,
  the configured ``epoch``, the minimum row count derived from the previous snapshot, the code
  lists of ``pipelines.reference`` (a force may extend them, so they cannot be frozen here), and
  the gate's ``min_share_within_24h``.
- The per-group unrecorded-rate thresholds are a column of the rates frame (see
  ``gate_recording_rates_suite``), so a force can configure a threshold for any crime group or route
  without a new suite.

Severity is GX's own ``severity`` field (critical | warning | info, new in GX 1.x and read by
``get_max_severity_failure``) rather than a ``meta`` key; the ``notes`` of each expectation say
why it has that severity. Critical: the data breaks the contract or cannot be trusted to measure
recording (the run must stop). Warning: implausible but measurable (reported, the run goes on).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO_ROOT))

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.expectations.row_conditions import Column as RowColumn  # noqa: E402

from pipelines import quality  # noqa: E402
from pipelines.contract import (  # noqa: E402
    CONTRACT_VERSION,
    FORCE_CODE_PATTERN,
    SOURCES,
    TRANSFER_CANCELLATION_CODE,
    SourceContract,
)

SUITES_DIR = Path(__file__).resolve().parent / "suites"

CRITICAL = "critical"
WARNING = "warning"

# Above this many victims on one incident the count is more likely a keying error than a real
# event; it is still counted, so it is a warning, not a reason to stop the run.
PLAUSIBLE_MAX_VICTIMS = 100


def parameter(name: str) -> dict[str, str]:
    return {"$PARAMETER": name}


def bounded_below(expectation: type, bound: str, notes: str, **kwargs):
    """A critical expectation whose lower bound is the suite parameter ``bound``, named in its meta
    too: results carry the bound's value, and a failure's plain words depend on which check it is
    (`quality.BOUND_BY`)."""
    return expectation(min_value=parameter(bound), severity=CRITICAL, notes=notes,
                       meta={quality.BOUND_BY: bound}, **kwargs)


def raw_snapshot_suite(contract: SourceContract) -> gx.ExpectationSuite:
    """The contract of one source's raw lake snapshot (one row per record)."""
    lake_columns = quality.lake_columns(contract)
    expectations: list[gxe.Expectation] = []

    for column in lake_columns:
        expectations.append(
            gxe.ExpectColumnToExist(
                column=column,
                severity=CRITICAL,
                notes="Contract: the lake schema holds every column of the source contract.",
            )
        )
    expectations.append(
        gxe.ExpectColumnValuesToBeUnique(
            column=contract.key,
            severity=CRITICAL,
            notes="Contract: one row per record; a duplicate reference double-counts a record.",
        )
    )
    for column in contract.columns:
        if column.required and not column.is_personal:
            expectations.append(
                gxe.ExpectColumnValuesToNotBeNull(
                    column=column.lake_name,
                    severity=CRITICAL,
                    notes="Contract: a required field.",
                )
            )
    expectations.append(
        gxe.ExpectColumnValuesToMatchRegex(
            column="force_code",
            regex=FORCE_CODE_PATTERN,
            severity=CRITICAL,
            notes="Contract: a force identifier is 2-5 capital letters.",
        )
    )
    for column in contract.columns:
        if column.kind == "enum":
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=column.name,
                    value_set=list(column.allowed),
                    severity=CRITICAL,
                    notes="Contract: an enumerated value.",
                )
            )
        elif column.kind == "code":
            expectations.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=column.name,
                    value_set=parameter(column.allowed),
                    severity=CRITICAL,
                    notes=(
                        f"Contract: a code from the reference list {column.allowed} "
                        "(bound at run time: a force may extend the list)."
                    ),
                )
            )
        elif column.kind == "timestamp":
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column.name,
                    min_value=parameter(quality.PARAM_EPOCH),
                    max_value=parameter(quality.PARAM_AS_OF),
                    severity=CRITICAL,
                    notes=(
                        "A time after the snapshot cut-off or before the configured epoch is a "
                        "clock, time-zone or placeholder-date defect; the 24-hour rule measured on "
                        "it would be wrong."
                    ),
                )
            )
        elif column.kind == "count":
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column.name,
                    min_value=0,
                    severity=CRITICAL,
                    notes="Contract: a count is an integer >= 0.",
                )
            )
            expectations.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column.name,
                    max_value=PLAUSIBLE_MAX_VICTIMS,
                    severity=WARNING,
                    notes=(
                        f"Plausibility: more than {PLAUSIBLE_MAX_VICTIMS} victims on one record is "
                        "more likely a keying error; it inflates under-counting, so it is reported."
                    ),
                )
            )
    expectations += [
        bounded_below(
            gxe.ExpectTableRowCountToBeBetween,
            quality.PARAM_MIN_ROW_COUNT,
            "A snapshot much smaller than the previous one is far more likely a broken export "
            "than a fall in crime: it would show as crimes gone missing.",
        ),
        bounded_below(
            gxe.ExpectTableRowCountToBeBetween,
            quality.PARAM_MIN_ACCEPTED_ROWS,
            "Extraction quarantines every row that breaks the contract, with its line and "
            "reason; a snapshot most of whose rows were refused would be reconciled as if the "
            "rest were all, and its rates would be wrong. Bound at run time: the rows the export "
            "held less the configured max_quarantined_share of them (no bound while fewer than "
            f"{quality.MIN_QUARANTINED_ROWS_JUDGED} rows are refused and some are accepted).",
        ),
        bounded_below(
            gxe.ExpectColumnMaxToBeBetween,
            quality.PARAM_MIN_NEWEST_UPDATE,
            "A force's systems change every hour: an export whose newest update is older than "
            "max_export_age_hours before the cut-off is an old file delivered again (yesterday's "
            "copied as today's), and its figures would be reported as today's. Bound at run "
            "time: the cut-off less the source's limit (no bound for a source with none, such as "
            "referrals, which keep office hours, or for an empty snapshot).",
            column="updated_at",
        ),
    ]
    expectations.extend(_source_rules(contract))
    _refuse_value_checks_on_person_keys(contract, expectations)
    return gx.ExpectationSuite(
        name=quality.raw_suite_name(contract.name),
        expectations=expectations,
        meta={"contract_version": CONTRACT_VERSION, "source": contract.name},
    )


def _refuse_value_checks_on_person_keys(
    contract: SourceContract, expectations: list[gxe.Expectation]
) -> None:
    """Results and Data Docs show example values: none may come from a pseudonymised column."""
    person_keys = {column.lake_name for column in contract.columns if column.is_pseudonymised}
    for expectation in expectations:
        if isinstance(expectation, gxe.ExpectColumnToExist):
            continue
        if getattr(expectation, "column", None) in person_keys:
            raise ValueError(f"{expectation.expectation_type} on person key {expectation.column}")


def _source_rules(contract: SourceContract) -> list[gxe.Expectation]:
    """Rules between columns of one source."""
    if contract.name == "crimes":
        no_clock_note = RowColumn(quality.CLOCK_CHANGE_NOTE).is_null()
        with_clock_note = RowColumn(quality.CLOCK_CHANGE_NOTE).is_not_null()
        cancelled = RowColumn("status") == "CANCELLED"
        recorded = RowColumn("status") == "RECORDED"
        transferred = RowColumn("status") == "TRANSFERRED"
        return [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="recorded_at",
                column_B="reported_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                row_condition=no_clock_note,
                severity=CRITICAL,
                notes=(
                    "A crime cannot be recorded before it was reported: the time to record (the "
                    "24-hour rule) would be negative."
                ),
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="recorded_at",
                column_B="reported_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                row_condition=with_clock_note,
                severity=WARNING,
                notes=(
                    "Rows whose local times fell in the repeated hour when clocks go back carry a "
                    "clock_change_note: extraction resolved them deliberately, so an inversion "
                    "of up to an hour there is expected once a year and must not stop the run."
                ),
            ),
            gxe.ExpectColumnValuesToNotBeNull(
                column="cancellation_code",
                row_condition=cancelled,
                severity=CRITICAL,
                notes="Counting rules: a cancelled crime needs a cancellation reason (C1-C4).",
            ),
            # "A code exactly when cancelled", refined by the counting rules: C1 is the code of an
            # out-of-area transfer, so a TRANSFERRED record may carry C1 (and nothing else).
            gxe.ExpectColumnValuesToBeNull(
                column="cancellation_code",
                row_condition=recorded,
                severity=CRITICAL,
                notes="A crime still recorded carries no cancellation code.",
            ),
            gxe.ExpectColumnValuesToBeInSet(
                column="cancellation_code",
                value_set=[TRANSFER_CANCELLATION_CODE],
                row_condition=transferred,
                severity=CRITICAL,
                notes="C1 is the transfer code: a transferred record carries C1 or no code.",
            ),
        ]
    if contract.name == "incidents":
        return [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="closed_at",
                column_B="created_at",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                severity=WARNING,
                notes="Plausibility: an incident closed before it was created.",
            ),
        ]
    return []


def list_elements_suite(contract: SourceContract, column_name: str) -> gx.ExpectationSuite:
    """Codes inside a list column, validated on the column exploded to one element per row.

    GX has no expectation on the elements of a list-valued column, so ``pipelines.quality``
    explodes the column (vectorised, nulls and empty lists dropped) and validates that frame.
    """
    column = contract.column(column_name)
    if isinstance(column.allowed, str):
        value_set = parameter(column.allowed)
        origin = f"the reference list {column.allowed} (bound at run time)"
    else:
        value_set = list(column.allowed)
        origin = "the contract"
    return gx.ExpectationSuite(
        name=quality.list_suite_name(contract.name, column_name),
        expectations=[
            gxe.ExpectColumnValuesToBeInSet(
                column=column_name,
                value_set=value_set,
                severity=CRITICAL,
                notes=f"Contract: every element of {column_name} is a code from {origin}.",
            )
        ],
        meta={
            "contract_version": CONTRACT_VERSION,
            "source": contract.name,
            "exploded": column_name,
        },
    )


def gate_recording_rates_suite() -> gx.ExpectationSuite:
    """Gate on the recording-rate metrics, one row per (dimension, dimension_value).

    The per-group thresholds are expressed as a column-pair expectation against a threshold column
    that ``pipelines.quality`` adds from the force's configuration (null where no threshold is
    configured or the group has no candidate crimes). One expectation per group with a row
    condition would freeze the list of groups into the suite; the column keeps one reviewed suite
    for every force and lets a force add a threshold for, say, ROBBERY by configuration alone.
    Severities here are defaults: the force's ``severity`` setting overrides them on each run.
    """
    expectations: list[gxe.Expectation] = [
        gxe.ExpectColumnToExist(
            column=column,
            severity=CRITICAL,
            notes="The gate cannot judge a metrics frame without it.",
        )
        for column in quality.RATES_COLUMNS
    ]
    expectations += [
        gxe.ExpectColumnValuesToBeInSet(
            column="dimension",
            value_set=list(quality.RATE_DIMENSIONS),
            severity=CRITICAL,
            notes=("The reconciliation reports rates overall, by crime group, by route, for domestic-abuse "
                   "flagged crimes and for rape reports."),
        ),
        gxe.ExpectColumnDistinctValuesToContainSet(
            column="dimension",
            value_set=["overall"],
            severity=CRITICAL,
            notes="Without the overall row the overall and 24-hour gates would pass unchecked.",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="unrecorded_rate",
            min_value=0,
            max_value=1,
            severity=CRITICAL,
            notes="A rate outside [0, 1] means the reconciliation itself is broken.",
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=quality.THRESHOLD_COLUMN,
            column_B="unrecorded_rate",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            severity=CRITICAL,
            meta={"check": quality.CHECK_UNRECORDED_RATE},
            notes=(
                "Unrecorded rate at most its configured threshold, overall and per configured "
                "crime group and route (threshold column from the force's configuration; groups "
                "with no candidate crimes pass)."
            ),
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="share_within_24h",
            min_value=parameter(quality.PARAM_MIN_SHARE_WITHIN_24H),
            row_condition=RowColumn("dimension") == "overall",
            severity=CRITICAL,
            meta={"check": quality.CHECK_SHARE_WITHIN_24H},
            notes="Crimes must be recorded within 24 hours of the report.",
        ),
    ]
    return gx.ExpectationSuite(name=quality.GATE_RATES_SUITE, expectations=expectations)


def gate_candidates_suite() -> gx.ExpectationSuite:
    """Gate on the candidate crimes, one row per candidate."""
    expectations: list[gxe.Expectation] = [
        gxe.ExpectColumnToExist(
            column=column, severity=CRITICAL, notes="The gate cannot judge candidates without it."
        )
        for column in quality.CANDIDATE_COLUMNS
    ]
    expectations += [
        gxe.ExpectColumnValuesToBeInSet(
            column="outcome",
            value_set=list(quality.CANDIDATE_OUTCOMES),
            severity=CRITICAL,
            notes="The reconciliation's outcome list.",
        ),
        gxe.ExpectColumnValuesToNotBeInSet(
            column="rape_resolution",
            value_set=["UNRESOLVED"],
            severity=WARNING,
            meta={"check": quality.CHECK_RAPE_UNRECORDED},
            notes=(
                "A rape report must end as a recorded rape, a justified N100 classification or a "
                "documented transfer (rape_resolution, int_candidate_outcomes.sql): once its 24 hours "
                "have passed, unrecorded, recorded as another offence, or cancelled are all "
                "unresolved. Default warning (it tops the alert); a force may make it critical."
            ),
        ),
    ]
    return gx.ExpectationSuite(name=quality.GATE_CANDIDATES_SUITE, expectations=expectations)


def build_suites() -> list[gx.ExpectationSuite]:
    suites = []
    for contract in SOURCES.values():
        suites.append(raw_snapshot_suite(contract))
        for column_name in quality.list_code_columns(contract):
            suites.append(list_elements_suite(contract, column_name))
    suites.append(gate_recording_rates_suite())
    suites.append(gate_candidates_suite())
    return suites


def suite_json(suite: gx.ExpectationSuite) -> str:
    """Stable JSON for review: no ids (they are per context), no GX version stamp, sorted keys."""
    document = suite.to_json_dict()
    document.pop("id", None)
    document["meta"].pop("great_expectations_version", None)
    for expectation in document["expectations"]:
        expectation.pop("id", None)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def write_suites(suites_dir: Path = SUITES_DIR) -> list[Path]:
    suites_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for suite in build_suites():
        path = suites_dir / f"{suite.name}.json"
        path.write_text(suite_json(suite), encoding="utf-8")
        written.append(path)
    expected = {path.name for path in written}
    for stale in suites_dir.glob("*.json"):
        if stale.name not in expected:
            stale.unlink()
    return written


def main() -> None:
    for path in write_suites():
        print(path.relative_to(REPO_ROOT))


if __name__ == "__main__":
    main()
