"""A real PostgreSQL server for the session, loaded with a small simulated force, and the same
force's CSV files: the SQL source and the file-drop connector must give the same lake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from pipelines.contract import SOURCES, SourceContract
from pipelines.settings import load_settings
from tests.sources.postgres_server import DATABASE, PASSWORD, SUPERUSER, PostgresServer, start_server

FORCE = "KNT"
FIRST_SNAPSHOT = dt.date(2024, 6, 27)
SNAPSHOT = dt.date(2024, 6, 28)
SCALE = 0.02
# The source database's column types: date-times are local wall-clock without a zone, as the
# source systems hold them; counts are integers; the rest text (lists '|'-separated).
COLUMN_TYPES = {"timestamp": "timestamp without time zone", "count": "integer"}


def snapshot_schema(day: dt.date) -> str:
    """One schema per snapshot day: the tables as the source system stood at that cut-off."""
    return f"snap_{day:%Y%m%d}"


def table_ddl(schema: str, contract: SourceContract) -> str:
    columns = ", ".join(f"{column.name} {COLUMN_TYPES.get(column.kind, 'text')}" for column in contract.columns)
    return f"create table {schema}.{contract.name} ({columns})"


def connect(server: PostgresServer) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=server.port, user=SUPERUSER, password=PASSWORD,
                           dbname=DATABASE, autocommit=True)


def load_snapshot(server: PostgresServer, landing: Path, day: dt.date) -> str:
    """The three CSV exports of one snapshot day, loaded with COPY into their own schema."""
    schema = snapshot_schema(day)
    with connect(server) as connection:
        connection.execute(f"drop schema if exists {schema} cascade")
        connection.execute(f"create schema {schema}")
        for contract in SOURCES.values():
            connection.execute(table_ddl(schema, contract))
            path = landing / FORCE / contract.file_name(day.isoformat())
            header = path.read_text(encoding="utf-8").split("\n", 1)[0].strip()
            with connection.cursor() as cursor:
                with cursor.copy(f"copy {schema}.{contract.name} ({header}) from stdin with (format csv, header true)") as copy:
                    copy.write(path.read_bytes())
    return schema


def database_settings(lake_dir: Path, schema: str, **source):
    tables = {name: f"{schema}.{name}" for name in SOURCES}
    return load_settings(FORCE, landing_dir=lake_dir.parent / "no-landing", lake_dir=lake_dir, demo=True,
                         overrides={"source": {"kind": "database", "tables": tables, **source}})


@pytest.fixture(scope="session")
def postgres():
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def simulated_landing(tmp_path_factory) -> Path:
    from pipelines.simulate import simulate_force

    root = tmp_path_factory.mktemp("simulated")
    simulate_force(force=FORCE, profile="kent-2017", start=FIRST_SNAPSHOT, end=SNAPSHOT, seed=11,
                   landing=root / "landing", scale=SCALE, mode="daily")
    return root / "landing"


@pytest.fixture(scope="session")
def loaded_database(postgres, simulated_landing) -> dict[dt.date, str]:
    """Snapshot day -> the schema holding that day's three tables."""
    return {day: load_snapshot(postgres, simulated_landing, day) for day in (FIRST_SNAPSHOT, SNAPSHOT)}
