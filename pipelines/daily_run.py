"""The daily run without Airflow: the same stages in the DAG's order, for `cdi run` and tests.

extract (3 sources) -> validate_raw_snapshots -> reconcile -> gate_recording_rates
-> publish_report -> notify_registrar. A gate breach does not stop the report or the alert
(the registrar must hear of it); it sets the exit status. A data-quality failure stops the run
before any verdict is produced from data that cannot be trusted.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

from pipelines import lake, stages
from pipelines.contract import SOURCE_NAMES
from pipelines.settings import Settings
from pipelines.verdict import Verdict, load_verdict

log = logging.getLogger(__name__)

EXIT_PASSED = 0
EXIT_BREACHED = 1
EXIT_ERROR = 2


@dataclass
class RunOutcome:
    verdict: Verdict
    report_file: Path
    worklist_file: Path
    outbox_file: Path | None
    breach_message: str | None

    @property
    def exit_code(self) -> int:
        return EXIT_PASSED if self.verdict.passed else EXIT_BREACHED


def run_daily(settings: Settings, snapshot_date: dt.date, *, smtp=None, progress=None) -> RunOutcome:
    steps = [*(f"extract_{source}" for source in SOURCE_NAMES), "validate", "reconcile", "gate", "report", "notify"]

    def done(step: str) -> None:
        if progress is not None:
            progress(step, steps.index(step) + 1, len(steps))

    for source in SOURCE_NAMES:
        stages.extract(settings, source, snapshot_date)
        done(f"extract_{source}")
    stages.validate_raw_snapshots(settings, snapshot_date)
    done("validate")
    stages.reconcile(settings, snapshot_date)
    done("reconcile")
    breach_message = None
    try:
        stages.gate_recording_rates(settings, snapshot_date)
    except stages.GateBreach as breach:
        breach_message = str(breach)
        log.warning("%s", breach)
    done("gate")
    published = stages.publish_report(settings, snapshot_date)
    done("report")
    notified = stages.notify_registrar(settings, snapshot_date, smtp=smtp)
    done("notify")
    return RunOutcome(
        verdict=load_verdict(settings, snapshot_date),
        report_file=lake.location(published["report"]),
        worklist_file=lake.location(published["worklist"]),
        outbox_file=lake.location(notified["outbox_file"]) if notified.get("outbox_file") else None,
        breach_message=breach_message,
    )
