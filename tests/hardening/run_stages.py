"""Run some stages of one snapshot in this process, for tests that kill it or run two at once.

    python -m tests.hardening.run_stages KNT 2024-06-28 LANDING LAKE extract,reconcile [--demo]

``extract`` extracts the three sources in the DAG's order; ``reconcile`` writes the marts. Set
``$CDI_FAULT_INJECT`` (see `pipelines.lake`) to make the process die at a chosen write.
"""

from __future__ import annotations

import sys

from pipelines import stages
from pipelines.contract import SOURCE_NAMES
from pipelines.settings import load_settings, parse_snapshot_date


def main(argv: list[str]) -> int:
    force, day, landing, lake_dir, steps, *flags = argv
    settings = load_settings(force, landing_dir=landing, lake_dir=lake_dir, demo="--demo" in flags)
    snapshot_date = parse_snapshot_date(day)
    for step in steps.split(","):
        if step == "extract":
            for source in SOURCE_NAMES:
                stages.extract(settings, source, snapshot_date)
        elif step == "reconcile":
            stages.reconcile(settings, snapshot_date)
        else:
            raise SystemExit(f"unknown step {step!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
