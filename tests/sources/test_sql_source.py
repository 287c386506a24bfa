"""The SQL source on a real PostgreSQL server: the same lake as the CSV files of the same force,
whatever the batch size; bound parameters and quoted identifiers; clear failures."""

from __future__ import annotations

import datetime as dt
import time

import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.contract import SOURCES
from pipelines.extract import extract_source
from pipelines.reconcile import reconcile_snapshot
from pipelines.settings import ConfigurationError, load_settings
from pipelines.sources.sql_source import (
    SourceQueryTimeoutError,
    SourceSchemaError,
    SourceUnavailableError,
    extract_from_database,
    whole_reference_batches,
)
from tests.conftest import crime, incident, referral, write_export
from tests.hardening.corpus import CONTRADICTING_CRIME_FIELDS
from tests.hardening.conftest import mart_rows
from tests.sources.conftest import (
    FIRST_SNAPSHOT,
    FORCE,
    SNAPSHOT,
    connect,
    database_settings,
    snapshot_schema,
    table_ddl,
)
from tests.sources.postgres_server import PASSWORD, free_port

pytestmark = [pytest.mark.unit]


def raw_rows(lake_dir, area: str, source: str, day: dt.date) -> list[tuple]:
    """A partition's rows without their line numbers (file lines vs result positions), sorted."""
    path = (lake.raw_path if area == "raw" else lake.quarantine_path)(lake_dir, source, FORCE, day)
    table = pq.read_table(path)
    names = [name for name in table.column_names if name != "source_line"]
    return sorted(repr(row) for row in table.select(names).to_pylist())


@pytest.fixture(scope="module")
def two_lakes(postgres, loaded_database, simulated_landing, tmp_path_factory):
    """The simulated force's two snapshots extracted and reconciled from CSV and from PostgreSQL."""
    root = tmp_path_factory.mktemp("two-lakes")
    csv_lake, database_lake = root / "csv-lake", root / "database-lake"
    for day in (FIRST_SNAPSHOT, SNAPSHOT):
        csv_settings = load_settings(FORCE, landing_dir=simulated_landing, lake_dir=csv_lake, demo=True)
        database_settings_ = database_settings(database_lake, loaded_database[day], batch_rows=500)
        for source in SOURCES:
            extract_source(csv_settings, source, day)
            extract_source(database_settings_, source, day, database_url=postgres.url())
        reconcile_snapshot(csv_settings, day)
        reconcile_snapshot(database_settings_, day)
    return csv_lake, database_lake



def load_export_into_schema(postgres, schema: str, source: str, path) -> None:
    """A fresh schema holding one source's table, loaded from an export file (the file's rows, as
    a force's database would hold them)."""
    with connect(postgres) as connection:
        connection.execute(f"drop schema if exists {schema} cascade")
        connection.execute(f"create schema {schema}")
        connection.execute(table_ddl(schema, SOURCES[source]))
        with connection.cursor() as cursor, cursor.copy(f"copy {schema}.{source} from stdin with (format csv, header true)") as copy:
            copy.write(path.read_bytes())

def test_marts_from_postgresql_equal_marts_from_the_csv_files(two_lakes):
    csv_lake, database_lake = two_lakes
    for day in (FIRST_SNAPSHOT, SNAPSHOT):
        from_csv, from_database = mart_rows(csv_lake, day), mart_rows(database_lake, day)
        assert from_database == from_csv
        for mart in ("candidate_outcomes", "recording_rates", "worklist"):
            assert len(from_csv[mart][1]) > 10  # real rows were compared, not empty marts
    assert mart_rows(csv_lake, SNAPSHOT)["record_changes"][1]  # the second day saw changes from the first


def test_raw_partitions_and_counts_are_the_same_from_both_paths(two_lakes):
    csv_lake, database_lake = two_lakes
    for source in SOURCES:
        assert raw_rows(database_lake, "raw", source, SNAPSHOT) == raw_rows(csv_lake, "raw", source, SNAPSHOT)
        csv_manifest = lake.read_json(lake.manifest_path(csv_lake, "extract", source, FORCE, SNAPSHOT))
        database_manifest = lake.read_json(lake.manifest_path(database_lake, "extract", source, FORCE, SNAPSHOT))
        assert csv_manifest["rows_in"] > 50
        for count in ("rows_in", "rows_accepted", "rows_quarantined", "clock_change_notes"):
            assert database_manifest[count] == csv_manifest[count], (source, count)
        assert database_manifest["encoding"] == "database"
        assert PASSWORD not in database_manifest["export_file"]
        assert f"{snapshot_schema(SNAPSHOT)}.{source}" in database_manifest["export_file"]


def test_personal_data_is_never_selected(two_lakes):
    _, database_lake = two_lakes
    personal = {column.name for contract in SOURCES.values() for column in contract.columns if column.is_personal}
    for source in SOURCES:
        columns = set(pq.read_schema(lake.raw_path(database_lake, source, FORCE, SNAPSHOT)).names)
        assert columns and not columns & personal
        assert not any("person_id" in name for name in columns)  # pseudonymised: *_person_key(s)


def test_small_batches_give_the_same_partition(postgres, loaded_database, two_lakes, tmp_path):
    _, database_lake = two_lakes
    settings = database_settings(tmp_path / "lake", loaded_database[SNAPSHOT], batch_rows=3)
    result = extract_from_database(settings, "crimes", SNAPSHOT, url=postgres.url())
    assert result.rows_in > 50
    assert raw_rows(tmp_path / "lake", "raw", "crimes", SNAPSHOT) == raw_rows(database_lake, "raw", "crimes", SNAPSHOT)


def test_duplicates_split_across_batches_are_resolved_as_in_a_file(postgres, tmp_path):
    """Rows of one reference straddling a batch boundary are judged together."""
    rows = [
        crime("KNT/24/000001"),
        crime("KNT/24/000002", updated_at="2024-06-01 14:00:00"),
        crime("KNT/24/000002", status="CANCELLED", cancellation_code="C1", cancelled_at="2024-06-02 09:00:00",
              cancellation_authority="FCR", updated_at="2024-06-02 09:00:00"),  # later update wins
        crime("KNT/24/000003"), crime("KNT/24/000003"),  # exact duplicate
        crime("KNT/24/000004", ho_offence_code="8N"), crime("KNT/24/000004", ho_offence_code="105A"),  # conflict
        crime("KNT/24/000005"),
    ]
    landing = tmp_path / "landing"
    path = write_export(landing, "crimes", rows)
    schema = "dups"
    load_export_into_schema(postgres, schema, "crimes", path)
    snapshot = dt.date(2024, 6, 10)
    csv_settings = load_settings(FORCE, landing_dir=landing, lake_dir=tmp_path / "csv-lake", demo=True)
    extract_source(csv_settings, "crimes", snapshot)
    for batch_rows in (1, 2, 3):
        lake_dir = tmp_path / f"lake-{batch_rows}"
        result = extract_from_database(database_settings(lake_dir, schema, batch_rows=batch_rows), "crimes",
                                       snapshot, url=postgres.url())
        assert (result.rows_in, result.rows_accepted, result.rows_quarantined) == (8, 4, 4)
        assert raw_rows(lake_dir, "raw", "crimes", snapshot) == raw_rows(tmp_path / "csv-lake", "raw", "crimes", snapshot)
        kept = pq.read_table(lake.raw_path(lake_dir, "crimes", FORCE, snapshot)).sort_by("crime_ref")
        assert kept["crime_ref"].to_pylist() == ["KNT/24/000001", "KNT/24/000002", "KNT/24/000003", "KNT/24/000005"]
        assert kept["status"][1].as_py() == "CANCELLED"  # the later state of KNT/24/000002 was kept
        reasons = pq.read_table(lake.quarantine_path(lake_dir, "crimes", FORCE, snapshot))["reason"].to_pylist()
        assert sum("superseded by line" in reason for reason in reasons) == 1
        assert sum("exact duplicate of line" in reason for reason in reasons) == 1
        assert sum("conflicting rows for the same reference" in reason for reason in reasons) == 2


def test_rows_whose_fields_contradict_each_other_are_quarantined_as_in_a_file(postgres, tmp_path):
    """The rules between fields (cancellation code by status, recorded not before reported) are
    the file's: the same rows quarantined for the same reasons."""
    rows = [row for row, _ in CONTRADICTING_CRIME_FIELDS]
    landing = tmp_path / "landing"
    path = write_export(landing, "crimes", rows)
    load_export_into_schema(postgres, "contradicting", "crimes", path)
    snapshot = dt.date(2024, 6, 10)
    extract_source(load_settings(FORCE, landing_dir=landing, lake_dir=tmp_path / "csv-lake", demo=True), "crimes", snapshot)
    result = extract_from_database(database_settings(tmp_path / "lake", "contradicting"), "crimes", snapshot, url=postgres.url())
    assert (result.rows_in, result.rows_accepted) == (len(rows), 4)
    quarantined = pq.read_table(lake.quarantine_path(tmp_path / "lake", "crimes", FORCE, snapshot)).to_pylist()
    assert {row["reference"]: row["reason"] for row in quarantined} == {
        row["crime_ref"]: reason for row, reason in CONTRADICTING_CRIME_FIELDS if reason}
    assert raw_rows(tmp_path / "lake", "raw", "crimes", snapshot) == raw_rows(tmp_path / "csv-lake", "raw", "crimes", snapshot)


def test_the_window_is_selected_with_bound_parameters(postgres, tmp_path):
    """Records updated before the lookback window or created after the cut-off are not selected;
    wall-clock times in the clock-change hours are handled exactly as in a file."""
    snapshot = dt.date(2024, 11, 1)
    rows = [
        incident("KNT-241001-00001", created_at="2024-10-01 10:00:00", closed_at="2024-10-01 11:00:00", updated_at="2024-10-01 11:00:00"),
        incident("KNT-241027-00002", created_at="2024-10-27 01:30:00", closed_at="2024-10-27 03:00:00", updated_at="2024-10-27 03:00:00"),
        incident("KNT-240301-00003", created_at="2024-03-01 10:00:00", closed_at="2024-03-01 11:00:00", updated_at="2024-03-01 11:00:00"),  # before the window
        incident("KNT-241101-00004", created_at="2024-11-01 00:10:00", closed_at="", closing_code="", updated_at="2024-11-01 00:10:00"),  # after the cut-off
    ]
    landing = tmp_path / "landing"
    path = write_export(landing, "incidents", rows, snapshot=snapshot)
    load_export_into_schema(postgres, "window_test", "incidents", path)
    result = extract_from_database(database_settings(tmp_path / "lake", "window_test"), "incidents", snapshot, url=postgres.url())
    assert (result.rows_in, result.rows_accepted, result.clock_change_notes) == (2, 2, 1)
    table = pq.read_table(lake.raw_path(tmp_path / "lake", "incidents", FORCE, snapshot)).sort_by("incident_ref")
    assert table["incident_ref"].to_pylist() == ["KNT-241001-00001", "KNT-241027-00002"]
    # 01:30 in the repeated hour: the first (BST) instant by default, 00:30 UTC, and noted.
    assert table["created_at"][1].as_py() == dt.datetime(2024, 10, 27, 0, 30, tzinfo=dt.timezone.utc)
    assert "repeated clock-change hour" in table["clock_change_note"][1].as_py()
    assert table["created_at"][0].as_py() == dt.datetime(2024, 10, 1, 9, 0, tzinfo=dt.timezone.utc)


def test_the_query_binds_the_window_and_quotes_configured_names():
    from sqlalchemy.dialects import postgresql

    from pipelines.sources.sql_source import table_reference, window_query

    schema, name = table_reference("select.Order")  # reserved word and capital: both need quoting
    query = window_query(SOURCES["crimes"], schema, name, ["crime_ref", "recorded_at", "updated_at"])
    sql = str(query.compile(dialect=postgresql.dialect()))
    assert 'FROM "select"."Order"' in sql
    assert '"Order".updated_at >= %(window_start)s' in sql and '"Order".recorded_at < %(cutoff)s' in sql
    assert 'ORDER BY "select"."Order".crime_ref, "select"."Order".updated_at' in sql


def test_whole_reference_batches_never_split_a_reference():
    partitions = [[("a",), ("b",), ("b",)], [("b",), ("c",)], [("c",)], [("d",), ("d",)]]
    assert list(whole_reference_batches(partitions, 0)) == [
        [("a",)], [("b",), ("b",), ("b",)], [("c",), ("c",)], [("d",), ("d",)],
    ]


@pytest.mark.parametrize("table", ["incidents; drop table crimes", "a.b.c", "incidents--", '"incidents"', "1abc"])
def test_a_table_name_that_is_not_a_plain_identifier_is_refused(tmp_path, table):
    with pytest.raises(ConfigurationError, match="source.tables.incidents"):
        load_settings(FORCE, landing_dir=tmp_path, lake_dir=tmp_path / "lake", demo=True,
                      overrides={"source": {"kind": "database", "tables": {"incidents": table}}})


def test_an_unreachable_database_is_a_clear_error_and_keeps_the_previous_partition(two_lakes, tmp_path):
    _, database_lake = two_lakes
    settings = database_settings(database_lake, snapshot_schema(SNAPSHOT), connect_timeout_seconds=2)
    before = lake.raw_path(database_lake, "incidents", FORCE, SNAPSHOT).read_bytes()
    url = f"postgresql+psycopg://cdi_test:{PASSWORD}@127.0.0.1:{free_port()}/cdi_source"
    started = time.monotonic()
    with pytest.raises(SourceUnavailableError) as raised:
        extract_from_database(settings, "incidents", SNAPSHOT, url=url)
    assert time.monotonic() - started < 10
    message = str(raised.value)
    assert "cannot connect" in message and "incidents table 'snap_20240628.incidents'" in message
    assert "DAG" in message and PASSWORD not in message
    assert lake.raw_path(database_lake, "incidents", FORCE, SNAPSHOT).read_bytes() == before


def test_a_query_over_the_statement_timeout_is_cancelled_with_a_clear_error(postgres, loaded_database, tmp_path):
    schema = loaded_database[SNAPSHOT]
    with connect(postgres) as connection:
        connection.execute("drop schema if exists slow cascade")
        connection.execute("create schema slow")
        connection.execute(f"create view slow.incidents as select i.* from {schema}.incidents as i cross join (select pg_sleep(30)) as pause")
    settings = load_settings(FORCE, landing_dir=tmp_path, lake_dir=tmp_path / "lake", demo=True, overrides={
        "source": {"kind": "database", "tables": {"incidents": "slow.incidents"}, "statement_timeout_seconds": 1}})
    started = time.monotonic()
    with pytest.raises(SourceQueryTimeoutError, match=r"incidents table 'slow.incidents' .*statement timeout of 1 s"):
        extract_from_database(settings, "incidents", SNAPSHOT, url=postgres.url())
    assert time.monotonic() - started < 15
    assert not lake.raw_path(tmp_path / "lake", "incidents", FORCE, SNAPSHOT).exists()
    assert not list((tmp_path / "lake").rglob(".tmp-*"))


def test_a_column_renamed_at_the_source_is_a_clear_error_naming_table_and_column(postgres, loaded_database, tmp_path):
    schema = loaded_database[SNAPSHOT]
    with connect(postgres) as connection:
        connection.execute("drop schema if exists drift cascade")
        connection.execute("create schema drift")
        connection.execute(f"create table drift.crimes as select * from {schema}.crimes")
        connection.execute("alter table drift.crimes rename column ho_offence_code to offence_code")
    settings = database_settings(tmp_path / "lake", "drift")
    with pytest.raises(SourceSchemaError) as raised:
        extract_from_database(settings, "crimes", SNAPSHOT, url=postgres.url())
    message = str(raised.value)
    assert "crimes table 'drift.crimes'" in message
    assert "column 'ho_offence_code'" in message and "offence_code; renamed?" in message
    with pytest.raises(SourceSchemaError, match="'drift.incidents'.* does not exist"):
        extract_from_database(settings, "incidents", SNAPSHOT, url=postgres.url())


def test_the_url_comes_from_the_environment_variable_the_settings_name(postgres, loaded_database, tmp_path, monkeypatch):
    from pipelines.stages import extract

    settings = database_settings(tmp_path / "lake", loaded_database[SNAPSHOT], url_env="KNT_RMS_URL")
    monkeypatch.delenv("KNT_RMS_URL", raising=False)
    with pytest.raises(ConfigurationError, match=r"\$KNT_RMS_URL holds no database URL"):
        extract(settings, "referrals", SNAPSHOT)
    monkeypatch.setenv("KNT_RMS_URL", postgres.url().replace("postgresql+psycopg://", "postgres://"))  # Airflow's form
    assert extract(settings, "referrals", SNAPSHOT)["rows_accepted"] > 10


@pytest.mark.parametrize("source, message", [
    ({"kind": "oracle"}, "source.kind must be one of csv, database"),
    ({"column_map": "../../etc/passwd"}, "source.column_map must be the name of a file"),
    ({"batch_rows": 0}, "source.batch_rows"),
])
def test_source_settings_are_checked(tmp_path, source, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings(FORCE, landing_dir=tmp_path, lake_dir=tmp_path / "lake", demo=True, overrides={"source": source})


def test_timestamps_with_a_zone_and_fractions_of_a_second_read_as_in_a_file(postgres, tmp_path):
    """A ``timestamptz`` column is read as Europe/London wall-clock; fractions of a second are cut."""
    rows = [incident(f"KNT-240601-{number:05d}", created_at=f"2024-06-0{number} 10:00:00",
                     closed_at=f"2024-06-0{number} 12:00:00", updated_at=f"2024-06-0{number} 12:00:00")
            for number in range(1, 4)]
    landing = tmp_path / "landing"
    path = write_export(landing, "incidents", rows)
    load_export_into_schema(postgres, "zoned", "incidents", path)
    with connect(postgres) as connection:
        connection.execute("alter table zoned.incidents alter column created_at type timestamptz "
                           "using created_at at time zone 'Europe/London'")
        connection.execute("update zoned.incidents set closed_at = closed_at + interval '0.75 seconds'")
    snapshot = dt.date(2024, 6, 10)
    extract_source(load_settings(FORCE, landing_dir=landing, lake_dir=tmp_path / "csv-lake", demo=True), "incidents", snapshot)
    result = extract_from_database(database_settings(tmp_path / "lake", "zoned"), "incidents", snapshot, url=postgres.url())
    assert result.rows_accepted == 3
    assert raw_rows(tmp_path / "lake", "raw", "incidents", snapshot) == raw_rows(tmp_path / "csv-lake", "raw", "incidents", snapshot)
    created = pq.read_table(lake.raw_path(tmp_path / "lake", "incidents", FORCE, snapshot)).sort_by("incident_ref")["created_at"]
    assert created[0].as_py() == dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.timezone.utc)  # 10:00 BST


def test_another_forces_table_is_refused_and_padded_codes_are_read_as_written(postgres, tmp_path):
    from pipelines.sources.sql_source import SourceDatabaseError

    rows = [referral(f"KNT-R-240601-{number:04d}") for number in range(1, 4)]
    landing = tmp_path / "landing"
    path = write_export(landing, "referrals", rows)
    with connect(postgres) as connection:
        connection.execute("drop schema if exists padded cascade")
        connection.execute("create schema padded")
        connection.execute(table_ddl("padded", SOURCES["referrals"]))
        connection.execute("alter table padded.referrals alter column force_code type char(5)")  # 'KNT  '
        with connection.cursor() as cursor, cursor.copy("copy padded.referrals from stdin with (format csv, header true)") as copy:
            copy.write(path.read_bytes())
    snapshot = dt.date(2024, 6, 10)
    result = extract_from_database(database_settings(tmp_path / "lake", "padded"), "referrals", snapshot, url=postgres.url())
    assert (result.rows_in, result.rows_accepted) == (3, 3)
    with connect(postgres) as connection:
        connection.execute("update padded.referrals set force_code = 'ESX'")
    before = lake.raw_path(tmp_path / "lake", "referrals", FORCE, snapshot).read_bytes()
    with pytest.raises(SourceDatabaseError, match=r"'padded.referrals'.*no record belongs to force 'KNT' \(the records name 'ESX'\)"):
        extract_from_database(database_settings(tmp_path / "lake", "padded"), "referrals", snapshot, url=postgres.url())
    assert lake.raw_path(tmp_path / "lake", "referrals", FORCE, snapshot).read_bytes() == before
