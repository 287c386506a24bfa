"""The daily run's stages, one function per DAG task; the DAG and the CLI both call these.

Every stage takes the resolved `Settings` and the snapshot date, reads what earlier stages wrote
to the lake, writes only its own outputs, and returns a small JSON-able summary (an XCom in
Airflow). A stage that must stop the run raises: `DataQualityError` for a critical failure of a
raw snapshot suite, `GateBreach` when recording slips past a threshold. Both carry the words the
data engineer or the registrar needs.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from pipelines import lake, outputs
from pipelines.contract import SOURCE_NAMES
from pipelines.extract import extract_source
from pipelines.reconcile import reconcile_snapshot, snapshot_cutoff
from pipelines.settings import Settings

log = logging.getLogger(__name__)

PREVIOUS_SNAPSHOT_SEARCH_DAYS = 7


class DataQualityError(RuntimeError):
    """A raw snapshot failed a critical expectation: the data cannot be trusted for a verdict."""


class GateBreach(RuntimeError):
    """Recording slipped past a critical threshold. The run's outputs are complete."""


def quality_dir(settings: Settings) -> Path:
    """Great Expectations' folder for the force: local disk, whatever the lake (`Settings.quality_dir`)."""
    return lake.ensure_dir(settings.quality_dir)


def extract(settings: Settings, source: str, snapshot_date: dt.date, *, database_url: str | None = None) -> dict:
    return extract_source(settings, source, snapshot_date, database_url=database_url).to_dict()


def rows_quarantined(settings: Settings, source: str, snapshot_date: dt.date) -> int:
    """Rows extraction refused for this snapshot of a source (its extract manifest; 0 without one)."""
    manifest = lake.manifest_path(settings.lake_dir, "extract", source, settings.force, snapshot_date)
    return int(lake.read_json(manifest)["rows_quarantined"]) if manifest.exists() else 0


def previous_row_count(settings: Settings, source: str, snapshot_date: dt.date) -> int | None:
    """Rows accepted in the latest earlier snapshot of this source (within a week), if any."""
    for days_back in range(1, PREVIOUS_SNAPSHOT_SEARCH_DAYS + 1):
        earlier = snapshot_date - dt.timedelta(days=days_back)
        manifest = lake.manifest_path(settings.lake_dir, "extract", source, settings.force, earlier)
        if manifest.exists():
            return int(lake.read_json(manifest)["rows_accepted"])
    return None


def validate_raw_snapshots(settings: Settings, snapshot_date: dt.date) -> dict:
    from pipelines import quality  # GX costs seconds to import: only when validating

    as_of = snapshot_cutoff(settings, snapshot_date)
    outcomes = []
    for source in SOURCE_NAMES:
        frame = lake.read_parquet(lake.raw_path(settings.lake_dir, source, settings.force, snapshot_date)).to_pandas()
        outcomes.append(
            quality.validate_raw_snapshot(
                source,
                frame,
                as_of=as_of,
                previous_row_count=previous_row_count(settings, source, snapshot_date),
                thresholds=settings.thresholds,
                quality_dir=quality_dir(settings),
                rows_quarantined=rows_quarantined(settings, source, snapshot_date),
            )
        )
    results_file = lake.reports_dir(settings.lake_dir, settings.force, snapshot_date) / "validation_raw.json"
    quality.write_validation_results(outcomes, results_file)
    critical = [failure for outcome in outcomes for failure in outcome.failures if failure.severity == "critical"]
    summary = {
        "results_file": str(results_file),
        "success": not critical,
        "failures": [failure.__dict__ for outcome in outcomes for failure in outcome.failures],
    }
    if critical:
        named = "; ".join(f"{f.suite}: {f.expectation_type} on {f.column or 'the table'} ({f.detail})" for f in critical)
        raise DataQualityError(f"{settings.force} {snapshot_date}: raw snapshot failed critical checks: {named}")
    return summary


def reconcile(settings: Settings, snapshot_date: dt.date) -> dict:
    return reconcile_snapshot(settings, snapshot_date).to_dict()


def gate_recording_rates(settings: Settings, snapshot_date: dt.date) -> dict:
    """Check rates against thresholds; store the outcome; raise `GateBreach` on a critical breach."""
    from pipelines import quality

    rates = outputs.read_mart(settings.lake_dir, "recording_rates", settings.force, snapshot_date).to_pandas()
    candidates = outputs.read_mart(settings.lake_dir, "candidate_outcomes", settings.force, snapshot_date).to_pandas()
    outcome = quality.gate_recording_rates(
        rates, candidates, thresholds=settings.thresholds, quality_dir=quality_dir(settings)
    )
    gate_file = gate_result_path(settings, snapshot_date)
    lake.write_json(outcome.to_dict(), gate_file)
    if not outcome.passed:
        raise GateBreach(f"{settings.force} {snapshot_date}: recording gate breached: {outcome.describe()}")
    return {"gate_file": str(gate_file), "passed": True}


def gate_result_path(settings: Settings, snapshot_date: dt.date) -> Path:
    return lake.reports_dir(settings.lake_dir, settings.force, snapshot_date) / "gate.json"


def publish_report(settings: Settings, snapshot_date: dt.date) -> dict:
    from pipelines.report import publish_report as publish

    return publish(settings, snapshot_date)


def notify_registrar(settings: Settings, snapshot_date: dt.date, smtp=None, webhook_url: str | None = None) -> dict:
    from pipelines.notify import notify_registrar as notify

    return notify(settings, snapshot_date, smtp=smtp, webhook_url=webhook_url)
