"""Reading a run's marts back, and writing tables people open in spreadsheets, safely.

CSV outputs go to people who open them in Excel or LibreOffice, where a cell starting with
``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) is run as a formula. Every text cell that
starts so is prefixed with an apostrophe (OWASP's advice for CSV injection), so
``=HYPERLINK(...)`` arriving in a source field is shown, never run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pyarrow as pa

from pipelines import lake

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):  # a list starting with a source reference is source text too
        return neutralise_formula("|".join(str(item) for item in value))
    return neutralise_formula(value)


def table_to_csv(table: pa.Table) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow([_cell(row[name]) for name in table.column_names])
    return buffer.getvalue()


def write_csv(table: pa.Table, path: Path) -> Path:
    return lake.write_text(table_to_csv(table), path)


def read_mart(lake_dir: Path, mart: str, force: str, snapshot_date: dt.date) -> pa.Table:
    path = lake.mart_path(lake_dir, mart, force, snapshot_date)
    if not path.exists():
        raise FileNotFoundError(
            f"no {mart} mart for {force} {snapshot_date} in the lake {lake_dir} (has that run finished?): {path}"
        )
    return lake.read_parquet(path)
