"""Run the reconciliation SQL on a few hand-written records and hand the connection to a test."""

from __future__ import annotations

import pytest

from pipelines import lake
from pipelines.extract import extract_source
from pipelines.reconcile import build_marts, open_connection, register_inputs, sql_parameters
from tests.conftest import FORCE, SNAPSHOT, write_export


@pytest.fixture
def reconcile_records(settings, landing):
    """reconcile_records(incidents=[...], crimes=[...], referrals=[...]) -> DuckDB connection."""
    connections = []

    def run(*, incidents=(), crimes=(), referrals=()):
        for source, rows in (("incidents", incidents), ("crimes", crimes), ("referrals", referrals)):
            write_export(landing, source, list(rows))
            result = extract_source(settings, source, SNAPSHOT)
            assert result.rows_quarantined == 0, f"fixture rows must be valid: {source}"
        connection = open_connection()
        connections.append(connection)
        register_inputs(connection, {s: lake.raw_path(settings.lake_dir, s, FORCE, SNAPSHOT) for s in ("incidents", "crimes", "referrals")})
        build_marts(connection, sql_parameters(settings, SNAPSHOT))
        return connection

    yield run
    for connection in connections:
        connection.close()


def rows(connection, query: str) -> list[tuple]:
    return connection.execute(query).fetchall()
