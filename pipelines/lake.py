"""The lake's layout and its one way of writing: the only module that knows where things live.

    <lake>/raw/<source>/force=<F>/snapshot_date=<D>/part-0.parquet
    <lake>/quarantine/<source>/force=<F>/snapshot_date=<D>/part-0.parquet
    <lake>/marts/<mart>/force=<F>/snapshot_date=<D>/part-0.parquet
    <lake>/manifests/<stage>/force=<F>/snapshot_date=<D>/<name>.json
    <lake>/raw/<source>/force=<F>/period=<first>_<last>/part-0.parquet
    <lake>/quarantine/<source>/force=<F>/period=<first>_<last>/part-0.parquet
                                          a period export (cdi backfill), kept apart from the
                                          daily snapshots it stands in for
    <lake>/reports/force=<F>/snapshot_date=<D>/{report.html, worklist.csv, ...}
    <lake>/outbox/                        alerts written as .eml when no SMTP server is configured

Every partition is one file, written beside its final name and moved into place with
``os.replace``: a reader sees the old file or the new one, never half of one; a crash leaves the
previous version intact (and at worst a ``.tmp-*`` file, which readers never match and the next
write of that file removes once it is `STALE_TEMPORARY_SECONDS` old); a rerun replaces exactly
what it wrote. Files are created readable by their owner only, and so is every
folder this module creates; `restrict_new_files_to_owner` extends that to files other libraries
write for the pipeline (Great Expectations' results and Data Docs).

Test hook: ``$CDI_FAULT_INJECT`` makes the process die abruptly (``os._exit``, no clean-up) at a
chosen atomic write, so the crash-safety tests can prove the claims above. Its form is
``<point>:<n>[:<area>]``: ``before_replace`` (the temporary file is complete, the final name not
yet moved) or ``after_replace``, at the n-th atomic write of this process (counting only writes
under ``<lake>/<area>/`` when an area such as ``raw`` or ``marts`` is given). Nothing but
`_fault_injection_point` reads it; unset, it costs one dictionary lookup per write.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part-0.parquet"
FILE_MODE = 0o600
DIR_MODE = 0o700
OWNER_ONLY_UMASK = 0o077  # new files and folders: no access for group or others

# A temporary file this old beside its final name is a crashed writer's: writing one partition
# takes seconds; a younger one may be another writer's, mid-write.
STALE_TEMPORARY_SECONDS = 600

FAULT_INJECT_ENV = "CDI_FAULT_INJECT"
FAULT_EXIT_CODE = 86  # distinguishes an injected crash from a real failure in the tests
FAULT_POINTS = ("before_replace", "after_replace")
_atomic_writes_seen: dict[str, int] = {}


def partition_dir(lake: Path, area: str, dataset: str | None, force: str, snapshot_date: dt.date) -> Path:
    base = Path(lake) / area
    if dataset:
        base = base / dataset
    return base / f"force={force}" / f"snapshot_date={snapshot_date.isoformat()}"


def period_dir(lake: Path, area: str, dataset: str, force: str, first: dt.date, last: dt.date) -> Path:
    return Path(lake) / area / dataset / f"force={force}" / f"period={first.isoformat()}_{last.isoformat()}"


def period_raw_path(lake: Path, source: str, force: str, first: dt.date, last: dt.date) -> Path:
    return period_dir(lake, "raw", source, force, first, last) / PART_FILE


def period_quarantine_path(lake: Path, source: str, force: str, first: dt.date, last: dt.date) -> Path:
    return period_dir(lake, "quarantine", source, force, first, last) / PART_FILE


def period_manifest_path(lake: Path, stage: str, name: str, force: str, first: dt.date, last: dt.date) -> Path:
    return period_dir(lake, "manifests", stage, force, first, last) / f"{name}.json"


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


def restrict_new_files_to_owner() -> None:
    """Make every file and folder this process creates from now on private to its owner.

    The lake holds pseudonymised records and quarantined rows; libraries that write into it for us
    (Great Expectations) create their files with the process's umask, so the umask is where the
    rule is enforced. Called when a pipeline process loads its settings.
    """
    os.umask(OWNER_ONLY_UMASK)


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents, each readable by the owner only.

    (``Path.mkdir(parents=True, mode=...)`` applies the mode to the last folder only.)
    """
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # another process (a run for another date) created it first
    if not path.is_dir():
        raise NotADirectoryError(path)
    return path


def _fault_injection_point(point: str, final_path: Path) -> None:
    """Test hook (see the module docstring): die here if ``$CDI_FAULT_INJECT`` says so."""
    wanted = os.environ.get(FAULT_INJECT_ENV)
    if not wanted:
        return
    wanted_point, count, *area = wanted.split(":")
    if wanted_point not in FAULT_POINTS:
        raise ValueError(f"{FAULT_INJECT_ENV}={wanted!r}: the point must be one of {', '.join(FAULT_POINTS)}")
    if wanted_point != point or (area and area[0] not in Path(final_path).parts):
        return
    seen = _atomic_writes_seen[wanted] = _atomic_writes_seen.get(wanted, 0) + 1
    if seen == int(count):
        print(f"{FAULT_INJECT_ENV}: dying {point} of {final_path}", file=sys.stderr, flush=True)
        os._exit(FAULT_EXIT_CODE)


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a crash after os.replace must not undo it)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextmanager
def atomic_file(final_path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final_path``; on success move it into place atomically.

    On any exception the temporary file is removed and ``final_path`` is left as it was.
    """
    final_path = Path(final_path)
    ensure_dir(final_path.parent)
    _remove_stale_temporaries(final_path)
    handle, temporary_name = tempfile.mkstemp(prefix=f".tmp-{final_path.name}-", dir=final_path.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        yield temporary
        os.chmod(temporary, FILE_MODE)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        _fault_injection_point("before_replace", final_path)
        os.replace(temporary, final_path)
        _fsync_dir(final_path.parent)
        _fault_injection_point("after_replace", final_path)
    finally:
        if temporary.exists():
            temporary.unlink()


def _remove_stale_temporaries(final_path: Path) -> None:
    """Remove what a crashed write of ``final_path`` left beside it (a kill runs no clean-up)."""
    stale_before = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in final_path.parent.glob(f".tmp-{final_path.name}-*"):
        try:
            if leftover.stat().st_mtime < stale_before:
                leftover.unlink()
        except FileNotFoundError:  # another writer removed it first
            pass


# Rows per Parquet row group: DuckDB reads a file's row groups in parallel, so a partition of a
# million rows written as one group would be scanned by one core.
ROW_GROUP_ROWS = 122_880


def write_parquet(table: pa.Table, final_path: Path) -> Path:
    with atomic_file(final_path) as temporary:
        pq.write_table(table, temporary, compression="zstd", row_group_size=ROW_GROUP_ROWS)
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
