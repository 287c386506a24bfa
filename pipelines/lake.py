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

The lake is a local folder or a place on object storage named by an fsspec URL
(``s3://bucket/prefix``; `location`). A local lake is a `pathlib.Path`; a lake on object storage
is a `upath.UPath`, which offers the same ``/``, ``exists``, ``glob``, ``open`` and ``read_text``
over the store's fsspec filesystem, so the rest of the pipeline names files the same way on both.
Credentials and the endpoint are never in the code or the settings: s3fs reads the standard
``AWS_*`` environment (``AWS_ENDPOINT_URL`` for a store that is not AWS) or fsspec's own
configuration.

Every partition is one file, and a reader sees the old file or the new one, never half of one:

- on a local folder, the file is written beside its final name and moved into place with
  ``os.replace``; a crash leaves the previous version intact (and at worst a ``.tmp-*`` file,
  which readers never match and the next write of that file removes once it is
  `STALE_TEMPORARY_SECONDS` old). Files are created readable by their owner only, and so is every
  folder this module creates; `restrict_new_files_to_owner` extends that to files other libraries
  write for the pipeline (Great Expectations' results and Data Docs).
- on object storage there is no rename (S3's is a copy and a delete), but an object PUT becomes
  visible whole: the file is written complete to a local spool file first, then uploaded to its
  final key in one PUT (from 100 MB, s3fs's multipart upload, which is also only visible once
  completed; a read overlapping the replacement fails with s3fs's FileExpired rather than mixing
  the two). Nothing is ever written to the store under another name. A crash before the upload
  leaves the previous object intact and a spool file in ``$TMPDIR/cdi-lake-spool-<uid>/`` (removed
  by the next write once stale); a crash during a multipart upload leaves an incomplete upload,
  invisible to readers, that the bucket's lifecycle rule (AbortIncompleteMultipartUpload) removes.
  Why not stream into the store: an fsspec file closed after an error commits what was written so
  far, and a DuckDB ``COPY ... TO 's3://...'`` that fails replaces the object with a partial file
  before deleting it, losing the previous version (checked with DuckDB 2.0 and s3fs 2026.9).
  Who may read the objects is the bucket's policy, not file modes.

A rerun replaces exactly what it wrote, on both.

Test hook: ``$CDI_FAULT_INJECT`` makes the process die abruptly (``os._exit``, no clean-up) at a
chosen atomic write, so the crash-safety tests can prove the claims above. Its form is
``<point>:<n>[:<area>]``: ``before_replace`` (the temporary file is complete, the final name not
yet moved or uploaded) or ``after_replace``, at the n-th atomic write of this process (counting only writes
under ``<lake>/<area>/`` when an area such as ``raw`` or ``marts`` is given). Nothing but
`_fault_injection_point` reads it; unset, it costs one dictionary lookup per write.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from upath import UPath

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

# A URL's scheme (s3://, gs://, memory://...): an fsspec location. file:// is a local folder.
URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
SPOOL_PREFIX = "cdi-lake-spool-"


# The clients of a lake on object storage log every request's headers at DEBUG, a session token
# (AWS_SESSION_TOKEN) among them: whatever the process's log level (`cdi --debug`, Airflow's
# logging at DEBUG), they are kept at INFO or above once the lake is on object storage.
OBJECT_STORE_LOGGERS = ("botocore", "aiobotocore", "s3fs", "urllib3")


def keep_object_store_logs_above_debug() -> None:
    for name in OBJECT_STORE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


def location(value: str | os.PathLike) -> Path:
    """A lake, or a file in it, as given by configuration: a local path as a `pathlib.Path`
    (``file://`` URLs too), an fsspec URL such as ``s3://bucket/prefix`` as a `upath.UPath`."""
    if isinstance(value, Path) or on_object_store(value):
        return value
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
    if text.startswith("file://"):
        return Path(UPath(text).path)
    scheme = URL_SCHEME.match(text)
    if not scheme:
        return Path(text)
    keep_object_store_logs_above_debug()
    text = scheme.group(0).lower() + text[scheme.end():]  # S3:// is s3://
    try:
        return UPath(text)
    except ValueError as error:  # no fsspec filesystem for the scheme (gcsfs, adlfs... not installed)
        raise ValueError(f"{text!r}: {error} (install the fsspec package of that store)") from None


def on_object_store(path: object) -> bool:
    """True for a location on an fsspec filesystem other than the local disk (`location`)."""
    return isinstance(path, UPath) and not isinstance(path, Path) and path.protocol not in ("", "file", "local")


def register_filesystem(connection, lake: str | os.PathLike):
    """Let a DuckDB connection read the lake's files when the lake is on object storage: DuckDB's
    own httpfs extension is not available offline, so the lake's fsspec filesystem serves its URLs
    (DuckDB never writes there: `atomic_file`). A local lake needs nothing. Returns the connection."""
    lake = location(lake)
    if on_object_store(lake):
        connection.register_filesystem(lake.fs)
    return connection


def partition_dir(lake: Path, area: str, dataset: str | None, force: str, snapshot_date: dt.date) -> Path:
    base = location(lake) / area
    if dataset:
        base = base / dataset
    return base / f"force={force}" / f"snapshot_date={snapshot_date.isoformat()}"


def period_dir(lake: Path, area: str, dataset: str, force: str, first: dt.date, last: dt.date) -> Path:
    return location(lake) / area / dataset / f"force={force}" / f"period={first.isoformat()}_{last.isoformat()}"


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
    return str(location(lake) / "marts" / mart / f"force={force}" / "snapshot_date=*" / PART_FILE)


def manifest_path(lake: Path, stage: str, name: str, force: str, snapshot_date: dt.date) -> Path:
    return partition_dir(lake, "manifests", stage, force, snapshot_date) / f"{name}.json"


def reports_dir(lake: Path, force: str, snapshot_date: dt.date) -> Path:
    return partition_dir(lake, "reports", None, force, snapshot_date)


def outbox_dir(lake: Path) -> Path:
    return location(lake) / "outbox"


def restrict_new_files_to_owner() -> None:
    """Make every file and folder this process creates from now on private to its owner.

    The lake holds pseudonymised records and quarantined rows; libraries that write into it for us
    (Great Expectations) create their files with the process's umask, so the umask is where the
    rule is enforced. Called when a pipeline process loads its settings.
    """
    os.umask(OWNER_ONLY_UMASK)


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents, each readable by the owner only.

    (``Path.mkdir(parents=True, mode=...)`` applies the mode to the last folder only.) On object
    storage there are no folders to create: a key's prefixes exist as soon as the key does.
    """
    path = location(path)
    if on_object_store(path):
        return path
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
    if wanted_point != point or (area and area[0] not in location(final_path).parts):
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


def atomic_file(final_path: str | os.PathLike) -> AbstractContextManager[Path]:
    """Yield a local temporary path to write ``final_path``'s content to; on success it becomes
    ``final_path`` whole (a rename on a local lake, one upload on object storage: see the module
    docstring). On any exception ``final_path`` is left as it was and the temporary file removed.
    """
    final_path = location(final_path)
    return _uploaded_file(final_path) if on_object_store(final_path) else _replaced_file(final_path)


@contextmanager
def _replaced_file(final_path: Path) -> Iterator[Path]:
    """A local lake: write beside the final name, then ``os.replace`` it into place."""
    ensure_dir(final_path.parent)
    _remove_stale(final_path.parent, f".tmp-{final_path.name}-*")
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


@contextmanager
def _uploaded_file(final_path: UPath) -> Iterator[Path]:
    """Object storage: write a local spool file, then PUT it to the final key in one upload."""
    spool_dir = _spool_dir()
    _remove_stale(spool_dir, ".tmp-*")
    handle, spool_name = tempfile.mkstemp(prefix=f".tmp-{final_path.name}-", dir=spool_dir)
    os.close(handle)
    spool = Path(spool_name)
    try:
        yield spool
        _fault_injection_point("before_replace", final_path)
        final_path.fs.put_file(str(spool), final_path.path)
        spool.unlink()
        _fault_injection_point("after_replace", final_path)
    finally:
        spool.unlink(missing_ok=True)


def _spool_dir() -> Path:
    """This user's folder for files on their way to object storage (the lake's data, so private).

    Its name is predictable and the temporary folder shared, so a folder someone else made (or a
    symbolic link) is refused: another user could otherwise swap a file between its writing and
    its upload."""
    folder = ensure_dir(Path(tempfile.gettempdir()) / f"{SPOOL_PREFIX}{os.getuid()}")
    status = os.lstat(folder)
    if stat.S_ISLNK(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise PermissionError(
            f"{folder} must be a folder of this user's that no one else may open (files on their way to "
            "the lake are written there): remove it, or set TMPDIR to a private folder"
        )
    return folder


def _remove_stale(folder: Path, pattern: str) -> None:
    """Remove the temporary files a crashed writer left in ``folder`` (a kill runs no clean-up):
    those matching ``pattern`` older than `STALE_TEMPORARY_SECONDS` (a younger one may be another
    writer's, mid-write)."""
    stale_before = time.time() - STALE_TEMPORARY_SECONDS
    for leftover in folder.glob(pattern):
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
    return location(final_path)


def write_text(text: str, final_path: Path) -> Path:
    with atomic_file(final_path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return location(final_path)


def write_bytes(data: bytes, final_path: Path) -> Path:
    with atomic_file(final_path) as temporary:
        temporary.write_bytes(data)
    return location(final_path)


def write_json(payload: dict, final_path: Path) -> Path:
    return write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", final_path)


def read_json(path: Path) -> dict:
    with location(path).open(encoding="utf-8") as handle:
        return json.load(handle)


@contextmanager
def local_copies(paths: Iterable[Path]) -> Iterator[list[Path]]:
    """Local files holding those of ``paths`` that exist, for libraries that open attachments by
    name (Airflow's SMTP hook): a local lake's own files, or private downloads from object storage,
    removed on exit."""
    paths = [location(path) for path in paths]
    with tempfile.TemporaryDirectory(prefix=SPOOL_PREFIX) as folder:
        copies = []
        for path in paths:
            if not path.exists():
                continue
            if on_object_store(path):
                copy = Path(folder) / path.name
                path.fs.get_file(path.path, str(copy))
                path = copy
            copies.append(path)
        yield copies


def _for_pyarrow(path: Path) -> dict:
    """A lake file as pyarrow's readers take it: the path, and on object storage its fsspec filesystem."""
    path = location(path)
    return {"where": path.path, "filesystem": path.fs} if on_object_store(path) else {"where": str(path)}


def read_parquet(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A Parquet file of the lake, local or on object storage (through its fsspec filesystem)."""
    target = _for_pyarrow(path)
    return pq.read_table(target.pop("where"), columns=columns, **target)


def read_parquet_schema(path: Path) -> pa.Schema:
    target = _for_pyarrow(path)
    return pq.read_schema(target.pop("where"), **target)


def parquet_row_count(path: Path) -> int:
    """Rows in a Parquet file, from its footer (nothing else is read)."""
    target = _for_pyarrow(path)
    return pq.read_metadata(target.pop("where"), **target).num_rows
