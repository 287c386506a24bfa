"""Column maps: a vendor's export layout described as configuration, adapted to the canonical contract.

Every vendor names its columns and codes its own way. A force whose exports differ from the
canonical form (`../shared/contracts/source-exports.md`) gets a YAML file under
``config/column_maps/`` instead of code; ``source.column_map`` in its settings names it. Per source
the map gives:

- ``columns``: canonical column -> the vendor's column name (required canonical columns must be
  mapped; personal-data columns are mapped too, so they are recognised and dropped);
- ``ignore``: vendor columns deliberately not read. Any other column the map does not mention is
  an error naming it: an unknown column may be a renamed one, never silently lost;
- ``date_format``: the vendor's date-time form (``strptime`` codes), still Europe/London wall-clock;
- ``list_separator``: the separator inside list fields;
- ``values``: canonical column -> {vendor value: canonical value}, for codes and Y/N fields.

A vendor value a ``values`` table lacks is an error naming the column, the value and the line
(``unmapped_code: error``, the default) or, with ``unmapped_code: quarantine``, sends the row to
quarantine with the reason (the value is shown as ``UNMAPPED:<value>``): never a silent null. A
date-time that does not match ``date_format`` is marked the same way, so the contract's typing
quarantines it quoting what the vendor wrote.

`to_vendor_layout` does the reverse (canonical CSV -> the vendor's layout), so the simulator's
exports can stand in for any mapped vendor.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.contract import LIST_SEPARATOR, LOCAL_TIME_FORMAT, SOURCES, SourceContract
from pipelines.settings import ConfigurationError, _read_yaml, config_dir
from pipelines.sources.csv_export import IGNORED_BY_MAP, ExportFormatError, RawExport

UNMAPPED_PREFIX = "UNMAPPED:"
IGNORED_PREFIX = IGNORED_BY_MAP  # a vendor column the map lists under ignore: read past, never kept
UNMAPPED_POLICIES = ("error", "quarantine")


@dataclass(frozen=True)
class SourceMap:
    columns: dict[str, str]  # canonical -> vendor
    ignore: tuple[str, ...] = ()
    date_format: str | None = None
    list_separator: str = LIST_SEPARATOR
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # canonical column -> vendor -> canonical

    @property
    def canonical_of(self) -> dict[str, str]:
        return {vendor: canonical for canonical, vendor in self.columns.items()}


@dataclass(frozen=True)
class ColumnMap:
    name: str
    description: str
    unmapped_code: str
    sources: dict[str, SourceMap]


def column_map_path(name: str) -> Path:
    return config_dir() / "column_maps" / f"{name}.yaml"


def load_column_map(name_or_path: str | Path) -> ColumnMap:
    """A map by name (``config/column_maps/<name>.yaml``) or path, checked against the contract."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        path = column_map_path(str(name_or_path))
    if not path.exists():
        raise ConfigurationError(f"column map {str(name_or_path)!r} not found (looked for {path})")
    raw = _read_yaml(path)
    unmapped = raw.get("unmapped_code", "error")
    if unmapped not in UNMAPPED_POLICIES:
        raise ConfigurationError(f"{path}: unmapped_code must be error or quarantine, got {unmapped!r}")
    sources = {}
    for source, spec in (raw.get("sources") or {}).items():
        if source not in SOURCES:
            raise ConfigurationError(f"{path}: {source!r} is not a source ({', '.join(SOURCES)})")
        sources[source] = _source_map(path, SOURCES[source], spec or {})
    return ColumnMap(name=path.stem, description=str(raw.get("description", "")), unmapped_code=unmapped, sources=sources)


def _source_map(path: Path, contract: SourceContract, spec: dict) -> SourceMap:
    where = f"{path}: {contract.name}"
    columns = {str(canonical): str(vendor) for canonical, vendor in (spec.get("columns") or {}).items()}
    for canonical in columns:
        if canonical not in contract.column_names:
            raise ConfigurationError(f"{where}: {canonical!r} is not a column of the contract")
    for required in contract.required_columns:
        if required not in columns:
            raise ConfigurationError(f"{where}: required column {required!r} is not mapped")
    vendors = list(columns.values())
    repeated = sorted({vendor for vendor in vendors if vendors.count(vendor) > 1})
    if repeated:
        raise ConfigurationError(f"{where}: vendor column {repeated[0]!r} is mapped twice")
    values = {}
    for canonical, table in (spec.get("values") or {}).items():
        if canonical not in columns:
            raise ConfigurationError(f"{where}: values given for {canonical!r}, which is not mapped")
        for vendor, value in (table or {}).items():
            if not isinstance(vendor, (str, int)) or isinstance(vendor, bool) or not isinstance(value, str):
                raise ConfigurationError(f"{where}: values of {canonical!r}: {vendor!r}: {value!r} must be text (quote words such as Yes, No, On, Off)")
        values[canonical] = {str(vendor): value for vendor, value in (table or {}).items()}
    separator = str(spec.get("list_separator", LIST_SEPARATOR))
    if not separator:
        raise ConfigurationError(f"{where}: list_separator must not be empty")
    date_format = spec.get("date_format")
    return SourceMap(columns=columns, ignore=tuple(str(name) for name in spec.get("ignore") or ()),
                     date_format=str(date_format) if date_format else None, list_separator=separator, values=values)


def header_reader(contract: SourceContract, column_map: ColumnMap):
    """For `read_export`: the file's vendor header -> canonical names, checked against the map."""
    source_map = column_map.sources[contract.name]

    def canonical_header(path: Path, header: list[str]) -> list[str]:
        canonical_of = source_map.canonical_of
        for name in header:
            if name not in canonical_of and name not in source_map.ignore:
                raise ExportFormatError(
                    path, 1, f"column is not in the column map {column_map.name!r} (map it, or list it under ignore)", name
                )
        for required in contract.required_columns:
            vendor = source_map.columns[required]
            if vendor not in header:
                raise ExportFormatError(path, 1, f"required column is missing (mapped to {required!r} by {column_map.name!r})", vendor)
        return [canonical_of.get(name, f"{IGNORED_PREFIX}{name}") for name in header]

    return canonical_header


def apply_column_map(export: RawExport, contract: SourceContract, column_map: ColumnMap) -> RawExport:
    """Vendor values -> canonical ones (codes, date-times, list separators), column by column."""
    source_map = column_map.sources[contract.name]
    columns = {}
    for name, values in export.columns.items():
        array = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
        column = contract.column(name)
        if column.kind in ("list", "person_id_list") and source_map.list_separator != LIST_SEPARATOR:
            array = pc.replace_substring(array, source_map.list_separator, LIST_SEPARATOR)
        if column.kind == "timestamp" and source_map.date_format:
            array = _canonical_timestamps(array, source_map.date_format)
        if name in source_map.values:
            array = _map_values(export, name, array, column.kind == "list", source_map, column_map)
        columns[name] = array
    return RawExport(path=export.path, encoding=export.encoding, columns=columns, source_lines=export.source_lines,
                     malformed=export.malformed, extra_columns=export.extra_columns,
                     missing_optional_columns=export.missing_optional_columns)


def _canonical_timestamps(raw: pa.Array, date_format: str) -> pa.Array:
    parsed = pc.strptime(raw, format=date_format, unit="s", error_is_null=True)
    # Only a value that prints back exactly as written is read (strptime rolls 30 February over).
    exact = pc.fill_null(pc.equal(pc.strftime(parsed, format=date_format), raw), False)
    # Anything else is marked, so the contract's typing quarantines it quoting what was written,
    # even a value that happens to be in the canonical form (the map says it cannot be).
    marked = pc.binary_join_element_wise(pa.scalar(UNMAPPED_PREFIX), raw, "")
    return pc.if_else(exact, pc.strftime(parsed, format=LOCAL_TIME_FORMAT), marked)


def _map_values(export: RawExport, name: str, array: pa.Array, is_list: bool, source_map: SourceMap,
                column_map: ColumnMap) -> pa.Array:
    table = source_map.values[name]
    mapped = []
    for row, value in enumerate(array.to_pylist()):
        if value is None:
            mapped.append(None)
            continue
        parts = [part.strip() for part in value.split(LIST_SEPARATOR)] if is_list else [value]
        out = []
        for part in parts:
            if not part:
                continue
            if part in table:
                out.append(table[part])
            elif column_map.unmapped_code == "quarantine":
                out.append(f"{UNMAPPED_PREFIX}{part}")
            else:
                vendor = source_map.columns[name]
                raise ExportFormatError(
                    export.path, export.source_lines[row],
                    f"value {part!r} is not in the column map {column_map.name!r} (column {vendor!r} -> {name})", vendor,
                )
        mapped.append(LIST_SEPARATOR.join(out) if is_list else out[0])
    return pa.array(mapped, type=pa.string())


def to_vendor_layout(canonical_csv: Path, source: str, column_map: ColumnMap, vendor_csv: Path) -> Path:
    """Rewrite a canonical export into the vendor layout the map describes (for simulated forces)."""
    source_map = column_map.sources[source]
    contract = SOURCES[source]
    reverse = {canonical: {} for canonical in source_map.values}
    for canonical, table in source_map.values.items():
        for vendor, value in table.items():
            reverse[canonical].setdefault(value, vendor)
    with open(canonical_csv, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    header = [source_map.columns[name] for name in contract.column_names if name in source_map.columns]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        out = []
        for name in contract.column_names:
            if name not in source_map.columns:
                continue
            value = row.get(name) or ""
            kind = contract.column(name).kind
            if value and name in reverse:
                parts = value.split(LIST_SEPARATOR) if kind == "list" else [value]
                try:
                    parts = [reverse[name][part] for part in parts]
                except KeyError as error:
                    raise ConfigurationError(f"column map {column_map.name!r} has no vendor value for {name} {error.args[0]!r}") from None
                value = LIST_SEPARATOR.join(parts)
            if value and kind == "timestamp" and source_map.date_format:
                value = _format_local(value, source_map.date_format)
            if value and kind in ("list", "person_id_list"):
                value = value.replace(LIST_SEPARATOR, source_map.list_separator)
            out.append(value)
        writer.writerow(out)
    vendor_csv = Path(vendor_csv)
    vendor_csv.parent.mkdir(parents=True, exist_ok=True)
    vendor_csv.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return vendor_csv


def _format_local(value: str, date_format: str) -> str:
    return dt.datetime.strptime(value, LOCAL_TIME_FORMAT).strftime(date_format)


def write_vendor_landing(landing: Path, force: str, column_map: ColumnMap, vendor_landing: Path) -> list[Path]:
    """Every canonical export of a force in ``landing`` rewritten into the vendor's layout under
    ``vendor_landing`` (same file names): a simulated force as that vendor would export it."""
    written = []
    for path in sorted((Path(landing) / force).glob("*_????-??-??.csv")):
        source = path.name.rsplit("_", 1)[0]
        if source in column_map.sources:
            written.append(to_vendor_layout(path, source, column_map, Path(vendor_landing) / force / path.name))
    return written
