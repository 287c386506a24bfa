"""Read one source (incidents, crimes or referrals) from a database table or view into the lake.

The file-drop connector's twin for forces that give a read-only view instead of files. The view
has the contract's columns (`../shared/contracts/source-exports.md`); date-times are Europe/London
wall-clock ``timestamp without time zone``, exactly as in the CSV export, and are converted to UTC
by the same code (`pipelines.localtime`, through `pipelines.extract.type_export`). A
``timestamp with time zone`` column is also accepted: it is read as the wall-clock time of the
configured zone, and then follows the same clock-change policy.

One snapshot selects the records created before the snapshot's cut-off (local midnight starting
the snapshot date) and updated in the lookback window before it, in their state at extraction
time, as the contract defines an export. The window's two instants reach the database as bound
parameters; the table's name comes from configuration, is checked to be ``[schema.]name`` of plain
identifiers and reaches SQL only as an identifier quoted by SQLAlchemy. Personal-data columns are
never selected: names and phone numbers do not even leave the database.

Memory stays bounded whatever the table's size: rows are fetched through a server-side cursor
``batch_rows`` at a time, ordered by the reference, and each batch of whole references (the rows of
the last reference of a batch wait for the next one, so duplicates are always judged together) is
typed, quarantined and pseudonymised by `type_export`, then appended to the raw and quarantine
Parquet files as a row group. Both files are written beside their final names and moved into place
only when the whole query has been read and rows in = rows accepted + rows quarantined: a failure
half-way leaves the previous partitions. ``source_line`` is a row's position in the
reference-ordered result.

Faults fail the extraction with one clear message and are not retried here: retrying is the
orchestrator's job (the DAG's task retries), which then raises the data-engineering alert.
- `SourceUnavailableError`: the server cannot be reached (``connect_timeout_seconds``), or the
  connection broke while reading;
- `SourceQueryTimeoutError`: a statement ran longer than ``statement_timeout_seconds`` (PostgreSQL
  times the cursor's opening and each batch's fetch separately: the first fetch does the sort);
- `SourceSchemaError`: the table is missing, or a contract column is (renamed at the source,
  say): the message names the table and the column, and the source's columns the contract lacks.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from pipelines import lake
from pipelines.contract import LIST_SEPARATOR, LOCAL_TIME_FORMAT, SOURCES, SourceContract
from pipelines.extract import QUARANTINE_SCHEMA, ExtractResult, type_export
from pipelines.settings import TABLE_NAME_PATTERN, ConfigurationError, Settings, SourceSettings
from pipelines.sources.csv_export import RawExport

log = logging.getLogger(__name__)

# The column that says when a record came into being: a record created after the cut-off belongs
# to the next snapshot, however soon after midnight the extraction runs.
CREATED_COLUMN = {"incidents": "created_at", "crimes": "recorded_at", "referrals": "received_at"}
# SQLSTATE of a statement cancelled by statement_timeout (PostgreSQL's query_canceled).
SQLSTATE_QUERY_CANCELED = "57014"
PARQUET_COMPRESSION = "zstd"
WALL_CLOCK_TEXT = "YYYY-MM-DD HH24:MI:SS"  # PostgreSQL's to_char form of the contract's date-times


class SourceDatabaseError(RuntimeError):
    """The source database cannot be read; the message names the table and what went wrong."""


class SourceUnavailableError(SourceDatabaseError):
    """The server cannot be reached, or the connection broke while reading."""


class SourceQueryTimeoutError(SourceDatabaseError):
    """The query ran longer than the configured statement timeout."""


class SourceSchemaError(SourceDatabaseError):
    """The table or a contract column is missing (schema drift at the source)."""


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL of the source database, from the environment variable the settings name."""
    url = os.environ.get(settings.source.url_env, "")
    if not url.strip():
        raise ConfigurationError(
            f"source.kind is database but ${settings.source.url_env} holds no database URL "
            "(in Airflow, pass the connection's URL to extract_from_database)"
        )
    return url


def create_source_engine(url: str | sa.URL, source: SourceSettings) -> Engine:
    """An engine for one extraction: no pool kept between runs, a bounded wait for the server."""
    if isinstance(url, str) and url.startswith("postgres://"):  # Airflow's URI for a 'postgres' connection
        url = "postgresql://" + url.removeprefix("postgres://")
    url = sa.make_url(url)
    if url.drivername == "postgresql":  # a URI naming no driver: psycopg 3 is the one installed
        url = url.set(drivername="postgresql+psycopg")
    connect_args = {}
    if url.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = source.connect_timeout_seconds
    return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)


def table_reference(configured: str) -> tuple[str | None, str]:
    """(schema, name) of a configured ``[schema.]name``; anything else is refused."""
    if not isinstance(configured, str) or not re.fullmatch(TABLE_NAME_PATTERN, configured):
        raise ConfigurationError(f"source table {configured!r} must be [schema.]name of letters, digits and _")
    schema, _, name = configured.rpartition(".")
    return (schema or None), name


def snapshot_window(settings: Settings, snapshot_date: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Wall-clock start of the lookback window and the cut-off (local midnights, naive)."""
    cutoff = dt.datetime.combine(snapshot_date, dt.time())
    return cutoff - dt.timedelta(days=settings.lookback_days), cutoff


def _prepare_session(connection: Connection, settings: Settings) -> None:
    """PostgreSQL: the statement timeout, ISO dates, and the zone naive bounds are read in."""
    if connection.dialect.name != "postgresql":
        log.warning("source database %s: statement timeout not set (PostgreSQL only)", connection.dialect.name)
        return
    connection.execute(
        sa.text(
            "select set_config('statement_timeout', :timeout, false), "
            "set_config('TimeZone', :zone, false), set_config('DateStyle', 'ISO', false)"
        ),
        {"timeout": f"{settings.source.statement_timeout_seconds}s", "zone": settings.time_zone},
    )


def source_columns(connection: Connection, contract: SourceContract, schema: str | None, name: str,
                   where: str) -> tuple[list[str], list[str], set[str]]:
    """The contract columns to select, the table's columns the contract does not know, and the
    selected columns that are wall-clock ``timestamp without time zone``.

    Every non-personal contract column must be there: a view is configured once, so a missing
    column is drift at the source (a rename, a dropped column), never a day of nulls.
    """
    inspector = sa.inspect(connection)
    try:
        reflected = inspector.get_columns(name, schema=schema)
    except sa.exc.NoSuchTableError:
        raise SourceSchemaError(f"{where}: the table or view does not exist") from None
    present = [column["name"] for column in reflected]
    wanted = [column.name for column in contract.columns if not column.is_personal]
    unknown = [column for column in present if column not in contract.column_names]
    missing = [column for column in wanted if column not in present]
    if missing:
        hint = f" (the source has columns the contract does not know: {', '.join(unknown)}; renamed?)" if unknown else ""
        raise SourceSchemaError(f"{where}: column {missing[0]!r} of the {contract.name} contract is missing{hint}")
    if unknown:
        log.warning("%s: ignoring columns not in the contract: %s", where, ", ".join(unknown))
    wall_clock = {
        column["name"] for column in reflected
        if column["name"] in wanted and isinstance(column["type"], sa.DateTime) and not column["type"].timezone
    }
    return wanted, unknown, wall_clock


def window_query(contract: SourceContract, schema: str | None, name: str, columns: Sequence[str],
                 as_text: frozenset[str] = frozenset()) -> sa.Select:
    """The snapshot's records, ordered by reference; the window's instants are bound parameters.

    Columns in ``as_text`` (PostgreSQL's wall-clock timestamps) are formatted by the server in the
    contract's form, seconds cut: text travels and is typed faster than date-time objects.
    """
    table = sa.table(name, *(sa.column(column) for column in columns), schema=schema)
    selected = [
        sa.func.to_char(table.c[column], WALL_CLOCK_TEXT).label(column) if column in as_text else table.c[column]
        for column in columns
    ]
    return (
        sa.select(*selected)
        .where(table.c.updated_at >= sa.bindparam("window_start"))
        .where(table.c[CREATED_COLUMN[contract.name]] < sa.bindparam("cutoff"))
        .order_by(table.c[contract.key], table.c.updated_at)
    )


def whole_reference_batches(partitions: Iterable[Sequence], key_position: int) -> Iterator[list]:
    """Batches of rows that never split one reference's rows (the input is ordered by reference)."""
    carried: list = []
    for partition in partitions:
        rows = carried + list(partition)
        if not rows:
            continue
        last_key = rows[-1][key_position]
        cut = len(rows)
        while cut > 0 and rows[cut - 1][key_position] == last_key:
            cut -= 1
        if cut == 0:
            carried = rows
            continue
        yield rows[:cut]
        carried = rows[cut:]
    if carried:
        yield carried


def _format_timestamps(values: list, time_zone: str) -> pa.Array:
    array = pa.array(values)
    if array.type.tz is not None:  # timestamp with time zone: its wall-clock time in the zone
        array = array.cast(pa.timestamp(array.type.unit, tz=time_zone))
    # The contract's form has whole seconds (Arrow would print the fraction): cut it off.
    whole = pc.floor_temporal(array, unit="second").cast(pa.timestamp("s", tz=array.type.tz))
    return pc.strftime(whole, format=LOCAL_TIME_FORMAT)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, (list, tuple)):  # a PostgreSQL array for a list column
        return LIST_SEPARATOR.join(str(item) for item in value if item is not None)
    if isinstance(value, dt.datetime):
        return value.strftime(LOCAL_TIME_FORMAT)
    return str(value)


def text_column(values: Sequence, time_zone: str) -> pa.Array:
    """A database column as the strings of the CSV form ('' and spaces-only read as null)."""
    values = list(values)
    sample = next((value for value in values if value is not None), None)
    if sample is None:
        return pa.nulls(len(values), pa.string())
    try:
        if isinstance(sample, dt.datetime):
            text = _format_timestamps(values, time_zone)
        elif isinstance(sample, str):
            text = pa.array(values, type=pa.string())
        else:
            raise TypeError
    except (TypeError, pa.ArrowException):  # another type, or mixed types: value by value
        text = pa.array([_as_text(value) for value in values], type=pa.string())
    text = pc.utf8_trim_whitespace(text)
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _batch_export(where: Path, rows: list, columns: Sequence[str], first_line: int, time_zone: str) -> RawExport:
    by_column = list(zip(*rows)) if rows else [() for _ in columns]
    return RawExport(
        path=where,
        encoding="database",
        columns={name: text_column(values, time_zone) for name, values in zip(columns, by_column)},
        source_lines=list(range(first_line, first_line + len(rows))),
    )


def _is_timeout(error: sa.exc.DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) == SQLSTATE_QUERY_CANCELED


def extract_from_database(settings: Settings, source: str, snapshot_date: dt.date, *,
                          url: str | sa.URL | None = None) -> ExtractResult:
    """Extract one source for one snapshot date from the database at ``url`` (default: the
    environment variable the settings name) into the lake; return what was written."""
    if settings.pseudonym_key is None:
        raise ValueError("extraction needs the pseudonymisation key; these settings were loaded without one")
    if settings.source.column_map is not None:
        raise ConfigurationError(
            "source.column_map applies to CSV exports; for a database, name the contract's columns in the view"
        )
    contract = SOURCES[source]
    configured = settings.source.tables[source]
    schema, name = table_reference(configured)
    engine = create_source_engine(url if url is not None else database_url(settings), settings.source)
    server = engine.url.render_as_string(hide_password=True)
    where = f"{source} table {configured!r} of {server}"
    window_start, cutoff = snapshot_window(settings, snapshot_date)
    raw_final = lake.raw_path(settings.lake_dir, source, settings.force, snapshot_date)
    quarantine_final = lake.quarantine_path(settings.lake_dir, source, settings.force, snapshot_date)
    try:
        try:
            connection = engine.connect()
        except sa.exc.DBAPIError as error:
            raise SourceUnavailableError(
                f"{where}: cannot connect ({_first_line(error.orig)}); not retried here: the DAG's task retries"
            ) from None
        with connection:
            _prepare_session(connection, settings)
            columns, extra, wall_clock = source_columns(connection, contract, schema, name, where)
            as_text = frozenset(wall_clock) if connection.dialect.name == "postgresql" else frozenset()
            counts = _stream_to_lake(
                connection, contract, settings, window_query(contract, schema, name, columns, as_text), columns,
                {"window_start": window_start, "cutoff": cutoff}, snapshot_date, Path(where),
                raw_final, quarantine_final,
            )
    except sa.exc.DBAPIError as error:
        if _is_timeout(error):
            raise SourceQueryTimeoutError(
                f"{where}: the query ran longer than the statement timeout of "
                f"{settings.source.statement_timeout_seconds} s and was cancelled"
            ) from None
        if isinstance(error, sa.exc.OperationalError):
            raise SourceUnavailableError(f"{where}: the connection failed while reading ({_first_line(error.orig)})") from None
        raise SourceDatabaseError(f"{where}: {_first_line(error.orig)}") from None
    finally:
        engine.dispose()

    rows_in, accepted, quarantined, notes = counts
    result = ExtractResult(
        source=source,
        force=settings.force,
        snapshot_date=snapshot_date.isoformat(),
        export_file=where,
        encoding="database",
        rows_in=rows_in,
        rows_accepted=accepted,
        rows_quarantined=quarantined,
        clock_change_notes=notes,
        extra_columns=extra,
        missing_optional_columns=[],  # a view must have every contract column (`source_columns`)
        raw_partition=str(raw_final),
        quarantine_partition=str(quarantine_final),
    )
    lake.write_json(result.to_dict(), lake.manifest_path(settings.lake_dir, "extract", source, settings.force, snapshot_date))
    log.info("extracted %s for %s %s from %s: %d rows in, %d accepted, %d quarantined",
             source, settings.force, snapshot_date, server, rows_in, accepted, quarantined)
    return result


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else type(error).__name__


def _stream_to_lake(connection: Connection, contract: SourceContract, settings: Settings, query: sa.Select,
                    columns: list[str], parameters: dict, snapshot_date: dt.date, where: Path,
                    raw_final: Path, quarantine_final: Path) -> tuple[int, int, int, int]:
    """Type the query's rows batch by batch into the two partitions; (rows in, accepted, quarantined, notes)."""
    empty_accepted, _ = type_export(_batch_export(where, [], columns, 1, settings.time_zone), contract, settings, snapshot_date)
    accepted_schema = empty_accepted.schema
    key_position = columns.index(contract.key)
    force_position = columns.index("force_code")
    rows_in = accepted = quarantined = notes = 0
    own_force_seen, other_forces = False, set()
    # Context managers exit in reverse order: the quarantine partition is moved into place before
    # the raw one (and the manifest is written after both), so a crash between the two never loses
    # the rejected rows, as in `pipelines.extract.extract_csv_export`.
    with lake.atomic_file(raw_final) as raw_file, lake.atomic_file(quarantine_final) as quarantine_file, \
            pq.ParquetWriter(raw_file, accepted_schema, compression=PARQUET_COMPRESSION) as raw_writer, \
            pq.ParquetWriter(quarantine_file, QUARANTINE_SCHEMA, compression=PARQUET_COMPRESSION) as quarantine_writer:
        result = connection.execution_options(stream_results=True, yield_per=settings.source.batch_rows).execute(query, parameters)
        for rows in whole_reference_batches(result.partitions(), key_position):
            export = _batch_export(where, rows, columns, rows_in + 1, settings.time_zone)
            forces = {str(row[force_position]).strip() for row in rows if row[force_position] is not None}  # char(n) pads
            own_force_seen = own_force_seen or settings.force in forces
            other_forces.update(force for force in forces if force and force != settings.force)
            typed, rejected = type_export(export, contract, settings, snapshot_date)
            if typed.num_rows:
                raw_writer.write_table(typed.cast(accepted_schema))
            if rejected.num_rows:
                quarantine_writer.write_table(rejected)
            rows_in += len(rows)
            accepted += typed.num_rows
            quarantined += rejected.num_rows
            notes += int(pc.sum(pc.is_valid(typed["clock_change_note"])).as_py() or 0)
        if rows_in and other_forces and not own_force_seen:
            named = ", ".join(repr(force) for force in sorted(other_forces)[:3])
            raise SourceDatabaseError(
                f"{where}: no record belongs to force {settings.force!r} (the records name {named}): another force's table?"
            )
        if rows_in != accepted + quarantined:  # checked before either file is moved into place
            raise AssertionError(f"{where}: {rows_in} rows in but {accepted} accepted + {quarantined} quarantined")
    return rows_in, accepted, quarantined, notes
