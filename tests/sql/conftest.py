"""Run the reconciliation SQL on a few hand-written records and hand the connection to a test."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines import lake
from pipelines.extract import extract_source
from pipelines.reconcile import build_marts, open_connection, raw_files, reconcile_snapshot, register_inputs, sql_parameters
from tests.conftest import FORCE, SNAPSHOT, write_export

PREVIOUS_SNAPSHOT = SNAPSHOT - dt.timedelta(days=1)


@pytest.fixture
def reconcile_records(settings, landing):
    """reconcile_records(incidents=[...], crimes=[...], referrals=[...], previous=None) -> connection.

    previous: {"incidents": [...], "crimes": [...], "referrals": [...]} for the snapshot of the day
    before, reconciled into the lake first (its raw partitions and its daily rates are what this
    snapshot is compared with).
    """
    connections = []

    def extract(snapshot, sources):
        for source in ("incidents", "crimes", "referrals"):
            write_export(landing, source, list(sources.get(source, ())), snapshot=snapshot)
            result = extract_source(settings, source, snapshot)
            assert result.rows_quarantined == 0, f"fixture rows must be valid: {source}"

    def run(*, incidents=(), crimes=(), referrals=(), previous=None):
        previous_date = None
        if previous is not None:
            extract(PREVIOUS_SNAPSHOT, previous)
            reconcile_snapshot(settings, PREVIOUS_SNAPSHOT)
            previous_date = PREVIOUS_SNAPSHOT
        extract(SNAPSHOT, {"incidents": incidents, "crimes": crimes, "referrals": referrals})
        connection = open_connection()
        connections.append(connection)
        register_inputs(
            connection,
            raw_files(settings.lake_dir, FORCE, SNAPSHOT),
            raw_files(settings.lake_dir, FORCE, previous_date) if previous_date else None,
            lake.mart_path(settings.lake_dir, "daily_recording_rates", FORCE, previous_date) if previous_date else None,
        )
        build_marts(connection, sql_parameters(settings, SNAPSHOT, previous_date))
        return connection

    yield run
    for connection in connections:
        connection.close()


def rows(connection, query: str) -> list[tuple]:
    return connection.execute(query).fetchall()
