"""The lake's layout and its one way of writing: the only module that knows where things live.

    <lake>/raw/<source>/force=<F>/snapshot_date=<D>/part-0.parquet
    <lake>/quarantine/<source>/force=<F>/snapshot_date=<D>/part-0.parquet
    <lake>/marts/<mart>/force=<F>/snapshot_date=<D>/part-0.parquet
    <lake>/manifests/<stage>/force=<F>/snapshot_date=<D>/<name>.json
    <lake>/reports/force=<F>/snapshot_date=<D>/{report.html, worklist.csv, ...}
    <lake>/outbox/                        alerts written as .eml when no SMTP server is configured

Every partition is one file, written beside its final name and moved into place with
``os.replace``: a reader sees the old file or the new one, never half of one; a crash leaves the
previous version intact (and at worst a ``.tmp-*`` file, which readers never match); a rerun
replaces exactly what it wrote. Files are created readable by their owner only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part-0.parquet"
FILE_MODE = 0o600
DIR_MODE = 0o700


def partition_dir(lake: Path, area: str, dataset: str | None, force: str, snapshot_date: dt.date) -> Path:
    base = Path(lake) / area
    if dataset:
        base = base / dataset
    return base / f"force={force}" / f"snapshot_date={snapshot_date.isoformat()}"


def raw_path(lake: Path, source: str, force: str, snapshot_date: dt.date) -> Path:
    return partition_dir(lake, "raw", source, force, snapshot_date) / PART_FILE


def quarantine_path(lake: Path, source: str, force: str, snapshot_date: dt.date) -> Path:
    return partition_dir(lake, "quarantine", source, force, snapshot_date) / PART_FILE


def mart_path(lake: Path, mart: str, force: str, snapshot_date: dt.date) -> Path:
    return partition_dir(lake, "marts", mart, force, snapshot_date) / PART_FILE


def mart_glob(lake: Path, mart: str, force: str) -> str:
    """All snapshot partitions of one mart for a force (for trends across runs)."""
    return str(Path(lake) / "marts" / mart / f"force={force}" / "snapshot_date=*" / PART_FILE)


def manifest_path(lake: Path, stage: str, name: str, force: str, snapshot_date: dt.date) -> Path:
    return partition_dir(lake, "manifests", stage, force, snapshot_date) / f"{name}.json"


def reports_dir(lake: Path, force: str, snapshot_date: dt.date) -> Path:
    return partition_dir(lake, "reports", None, force, snapshot_date)


def outbox_dir(lake: Path) -> Path:
    return Path(lake) / "outbox"


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    return path


@contextmanager
def atomic_file(final_path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final_path``; on success move it into place atomically.

    On any exception the temporary file is removed and ``final_path`` is left as it was.
    """
    final_path = Path(final_path)
    ensure_dir(final_path.parent)
    handle, temporary_name = tempfile.mkstemp(prefix=f".tmp-{final_path.name}-", dir=final_path.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        yield temporary
        os.chmod(temporary, FILE_MODE)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, final_path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_parquet(table: pa.Table, final_path: Path) -> Path:
    with atomic_file(final_path) as temporary:
        pq.write_table(table, temporary, compression="zstd")
    return Path(final_path)


def write_text(text: str, final_path: Path) -> Path:
    with atomic_file(final_path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(final_path)


def write_bytes(data: bytes, final_path: Path) -> Path:
    with atomic_file(final_path) as temporary:
        temporary.write_bytes(data)
    return Path(final_path)


def write_json(payload: dict, final_path: Path) -> Path:
    return write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", final_path)


def read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
