"""Accuracy of the reconciliation against the simulator's ground truth (issue 3, deliverable 9).

Accuracy here means two things:

- the share of truly unrecorded crimes (counted in crimes, not reports) that reach the worklist:
  goal at least 99%;
- the precision and recall of probable links: repeat calls against the simulator's
  `duplicate_of`; probable crime links are counted, as each is a coincidence on a force that
  states every link (every simulated force does; their precision and recall against links a force
  forgot are measured by tests/reconcile/test_accuracy.py, which removes some).

The queries run on a DuckDB connection holding these views (`snapshot_connection` opens one over
a lake and a truth folder): the marts `candidate_outcomes`,
`worklist` and `probable_links` of one snapshot, the raw partitions of the same snapshot
(`raw_incidents`, `raw_referrals`, `raw_crimes`) and the simulator's ground truth
(`truth_incidents`, `truth_referrals`, `truth_crimes`). The tests (tests/reconcile/) and the
reconciliation benchmark (bench/bench_reconcile.py) both measure with them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import NamedTuple

import duckdb

from pipelines import lake, reconcile

from .profiles import ONE_CRIME_FOR_SEVERAL_VICTIMS, UNRECORDED_FAILURE_MODES, WRONG_CANCELLATION

# The views the queries read (the callers create them).
MARTS_READ = ("candidate_outcomes", "worklist", "probable_links")
RAW_SOURCES_READ = ("incidents", "referrals", "crimes")
TRUTH_TABLES = ("truth_incidents", "truth_referrals", "truth_crimes")

LOST_MODES = ", ".join(f"'{mode}'" for mode in UNRECORDED_FAILURE_MODES)

TRULY_UNRECORDED = f"""
with

-- Lost by the simulator: any failure mode but a late record (which records the crimes, only
-- after 24 hours), for reports in the snapshot. A several-victim report recorded as
-- one crime is one crime short per victim after the first.
lost_reports as (
    select 'CALL' as route, incident_ref as ref, failure_mode,
           case when failure_mode = '{ONE_CRIME_FOR_SEVERAL_VICTIMS}' then true_crime_count - 1
                else true_crime_count end as lost_crimes,
    from truth_incidents
    where failure_mode in ({LOST_MODES}) and incident_ref in (select incident_ref from raw_incidents)
    union all
    select 'REFERRAL', referral_ref, failure_mode, true_crime_count
    from truth_referrals
    where failure_mode in ({LOST_MODES}) and referral_ref in (select referral_ref from raw_referrals)
),

-- Route OTHER can only lose a crime by a wrong cancellation: the simulator cancels an
-- other-route record only that way (C2 or C4 without the authority rule 4 needs).
lost_other_route as (
    select 'OTHER' as route, crime_ref as ref, '{WRONG_CANCELLATION}' as failure_mode, 1 as lost_crimes,
    from truth_crimes
    where true_origin = 'other'
      and crime_ref in (select crime_ref from raw_crimes where status = 'CANCELLED' and cancellation_code in ('C2', 'C4'))
),

lost as (
    select * from lost_reports
    union all
    select * from lost_other_route
),

owed as (
    select lost.*, outcomes.outcome,
    from lost
    left join candidate_outcomes as outcomes on outcomes.route = lost.route and outcomes.candidate_ref = lost.ref
    -- a wrong cancellation loses the crime only once the record is cancelled
    where (lost.failure_mode <> '{WRONG_CANCELLATION}' or lost.route = 'OTHER' or exists (
              select 1 from raw_crimes
              where raw_crimes.status <> 'RECORDED'
                and (raw_crimes.incident_ref = lost.ref or raw_crimes.referral_ref = lost.ref)))
      -- a pending report (inside its 24 hours) is not yet owed anything
      and coalesce(outcomes.outcome, '') <> 'PENDING'
)

select
    owed.route,
    owed.failure_mode,
    owed.ref,
    owed.outcome,
    owed.lost_crimes,
    owed.ref in (select candidate_ref from worklist) as on_worklist,
from owed
order by all
"""

REPEAT_CALLS = """
with

-- The simulator's repeat calls where both calls are candidates of the snapshot.
truth as (
    select incident_ref as report_ref, duplicate_of
    from truth_incidents
    where duplicate_of is not null
      and incident_ref in (select candidate_ref from candidate_outcomes where route = 'CALL')
      and duplicate_of in (select candidate_ref from candidate_outcomes where route = 'CALL')
),

found as (
    select report_ref, linked_ref as duplicate_of from probable_links where link_kind = 'REPEAT_CALL'
)

select
    (select count(*) from found) as found,
    (select count(*) from truth) as true_links,
    (select count(*) from found semi join truth using (report_ref, duplicate_of)) as correct,
"""

# On a force that states every link, each probable crime link is a coincidence.
PROBABLE_CRIME_LINKS = """
select
    (select count(*) from probable_links where link_kind = 'CRIME_RECORD') as found,
    (select count(*) from candidate_outcomes) as candidates,
"""


class TrulyUnrecorded(NamedTuple):
    """A report (or an other-route record) that truly lost crimes, and whether it is on the worklist."""

    route: str
    failure_mode: str
    ref: str
    outcome: str | None
    lost_crimes: int
    on_worklist: bool


class RepeatCalls(NamedTuple):
    """Probable repeat calls found, the simulator's true ones, and the found ones that are true."""

    found: int
    true_links: int
    correct: int


class ProbableCrimeLinks(NamedTuple):
    """Probable crime links found, out of how many candidate reports."""

    found: int
    candidates: int


def snapshot_connection(lake_dir: Path, truth_dir: Path, force: str, snapshot_date: dt.date) -> duckdb.DuckDBPyConnection:
    """A connection holding the views the queries read, over one snapshot's marts and raw
    partitions in a lake and the simulator's ground truth (``<truth_dir>/<force>/<table>.parquet``)."""
    connection = lake.register_filesystem(duckdb.connect(), lake_dir)
    connection.execute(reconcile.NO_PROGRESS_BAR)
    for mart in MARTS_READ:
        connection.read_parquet(str(lake.mart_path(lake_dir, mart, force, snapshot_date))).create_view(mart)
    for source in RAW_SOURCES_READ:
        connection.read_parquet(str(lake.raw_path(lake_dir, source, force, snapshot_date))).create_view(f"raw_{source}")
    for name in TRUTH_TABLES:
        connection.read_parquet(str(Path(truth_dir) / force / f"{name}.parquet")).create_view(name)
    return connection


def truly_unrecorded(connection: duckdb.DuckDBPyConnection) -> list[TrulyUnrecorded]:
    """Every truly unrecorded report owed a crime now, with its outcome and whether it reaches the worklist."""
    return [TrulyUnrecorded(*row) for row in connection.execute(TRULY_UNRECORDED).fetchall()]


def repeat_calls(connection: duckdb.DuckDBPyConnection) -> RepeatCalls:
    """Probable repeat calls against the simulator's `duplicate_of`."""
    (row,) = connection.execute(REPEAT_CALLS).fetchall()  # fetched to the end: the connection stays free
    return RepeatCalls(*row)


def probable_crime_links(connection: duckdb.DuckDBPyConnection) -> ProbableCrimeLinks:
    """Probable crime links found, and the candidate reports they were found among."""
    (row,) = connection.execute(PROBABLE_CRIME_LINKS).fetchall()
    return ProbableCrimeLinks(*row)


def share(part: int, whole: int) -> float:
    """part / whole rounded to 5 decimals (0 when there is no whole)."""
    return round(part / whole, 5) if whole else 0.0


def figures(connection: duckdb.DuckDBPyConnection) -> dict:
    """The accuracy figures of one reconciled snapshot, as plain numbers."""
    lost = truly_unrecorded(connection)
    total = sum(row.lost_crimes for row in lost)
    reaching = sum(row.lost_crimes for row in lost if row.on_worklist)
    repeats = repeat_calls(connection)
    return {
        "truly_unrecorded_crimes": total,
        "reaching_worklist": reaching,
        "share_reaching_worklist": share(reaching, total),
        "repeat_calls_found": repeats.found,
        "repeat_calls_true": repeats.true_links,
        "repeat_calls_correct": repeats.correct,
        "repeat_call_precision": share(repeats.correct, repeats.found),
        "repeat_call_recall": share(repeats.correct, repeats.true_links),
        "probable_crime_links": probable_crime_links(connection).found,
    }
