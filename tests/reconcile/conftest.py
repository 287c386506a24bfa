"""Simulated forces reconciled once per session, with the simulator's ground truth beside them.

Each force is simulated in daily mode (snapshots 2024-06-23 to 2024-06-28), and two snapshots are
extracted and reconciled in order: 2024-06-23 and 2024-06-28, so the later one is compared with
the earlier one (record changes, restated days). `stripped` is the Kent-like force with one crime
link in twenty removed from both sides, after extraction: the links the probable-link rule
should find again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from pipelines import lake, reconcile
from pipelines.extract import extract_source
from pipelines.settings import Settings, load_settings
from pipelines.simulate import simulate_force

FORCE = "KNT"
FIRST_SNAPSHOT = dt.date(2024, 6, 23)
SNAPSHOT = dt.date(2024, 6, 28)
SCALE = 0.05
STRIPPED_SHARE_MODULUS = 20  # one link in twenty is removed in the stripped force


@dataclass
class ReconciledForce:
    settings: Settings
    truth_dir: Path
    snapshot: dt.date
    previous_snapshot: dt.date

    def mart(self, name: str, snapshot: dt.date | None = None):
        return pq.read_table(lake.mart_path(self.settings.lake_dir, name, FORCE, snapshot or self.snapshot))

    def raw(self, source: str, snapshot: dt.date | None = None) -> Path:
        return lake.raw_path(self.settings.lake_dir, source, FORCE, snapshot or self.snapshot)

    def truth(self, name: str) -> Path:
        return self.truth_dir / FORCE / f"{name}.parquet"

    def connection(self) -> duckdb.DuckDBPyConnection:
        """DuckDB with this force's marts, raw partitions and truth as views (for accuracy queries)."""
        connection = duckdb.connect()
        connection.execute("set TimeZone = 'UTC'")
        for mart in reconcile.MARTS:
            connection.read_parquet(str(lake.mart_path(self.settings.lake_dir, mart, FORCE, self.snapshot))).create_view(mart)
        for source in reconcile.SOURCES:
            connection.read_parquet(str(self.raw(source))).create_view(f"raw_{source}")
        for name in ("truth_incidents", "truth_referrals", "truth_crimes"):
            connection.read_parquet(str(self.truth(name))).create_view(name)
        return connection


def simulate_and_reconcile(root: Path, profile: str, *, seed: int = 11, strip_links: bool = False) -> ReconciledForce:
    landing, truth, lake_dir = root / "landing", root / "truth", root / "lake"
    simulate_force(force=FORCE, profile=profile, start=FIRST_SNAPSHOT, end=SNAPSHOT, seed=seed,
                   landing=landing, truth=truth, scale=SCALE)
    settings = load_settings(FORCE, landing_dir=landing, lake_dir=lake_dir, demo=True)
    for snapshot in (FIRST_SNAPSHOT, SNAPSHOT):
        for source in reconcile.SOURCES:
            extract_source(settings, source, snapshot)
        if strip_links:
            strip_crime_links(lake_dir, snapshot)
        reconcile.reconcile_snapshot(settings, snapshot)
    return ReconciledForce(settings, truth, SNAPSHOT, FIRST_SNAPSHOT)


def stripped_link(crime_ref_column: str) -> str:
    """The SQL condition choosing the links removed: a fixed one in twenty, by reference."""
    return f"hash({crime_ref_column}) % {STRIPPED_SHARE_MODULUS} = 0"


def strip_crime_links(lake_dir: Path, snapshot: dt.date) -> None:
    """Remove one crime link in twenty from both sides (the crime's report reference and the
    report's list of crime references), as a force whose officers forgot to link would."""
    paths = reconcile.raw_files(lake_dir, FORCE, snapshot)
    connection = duckdb.connect()
    rewritten = {
        "crimes": f"""
            select * replace (
                case when {stripped_link('crime_ref')} then null else incident_ref end as incident_ref,
                case when {stripped_link('crime_ref')} then null else referral_ref end as referral_ref)
            from read_parquet('{paths['crimes']}')""",
        "incidents": f"""
            select * replace (list_filter(crime_refs, lambda ref: not ({stripped_link('ref')})) as crime_refs)
            from read_parquet('{paths['incidents']}')""",
        "referrals": f"""
            select * replace (list_filter(crime_refs, lambda ref: not ({stripped_link('ref')})) as crime_refs)
            from read_parquet('{paths['referrals']}')""",
    }
    for source, query in rewritten.items():
        table = connection.sql(query).to_arrow_table()
        lake.write_parquet(table, paths[source])
    connection.close()


@pytest.fixture(scope="session")
def kent(tmp_path_factory) -> ReconciledForce:
    return simulate_and_reconcile(tmp_path_factory.mktemp("kent-2017"), "kent-2017")


@pytest.fixture(scope="session")
def stripped(tmp_path_factory) -> ReconciledForce:
    return simulate_and_reconcile(tmp_path_factory.mktemp("kent-2017-stripped"), "kent-2017", strip_links=True)


@pytest.fixture(scope="session")
def derbyshire(tmp_path_factory) -> ReconciledForce:
    return simulate_and_reconcile(tmp_path_factory.mktemp("derbyshire-2018"), "derbyshire-2018", seed=5)

