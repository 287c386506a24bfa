"""The lake's one way of writing, on object storage: the final key only, whole or not at all.

Against a real S3-protocol server on 127.0.0.1 (moto), reached through s3fs as in production.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
from upath import UPath

from pipelines import lake, reconcile
from pipelines.settings import load_settings
from tests.conftest import FORCE

pytestmark = pytest.mark.unit

SNAPSHOT = dt.date(2024, 6, 10)
TABLE = pa.table({"crime_ref": ["KNT/24/000001", "KNT/24/000002"], "victims": [1, 2]})


def keys(s3, bucket: str) -> list[str]:
    return sorted(s3.find(bucket))


def test_a_lake_is_a_local_folder_or_an_fsspec_url(tmp_path):
    assert lake.location(tmp_path / "lake") == tmp_path / "lake"
    assert lake.location(str(tmp_path / "lake")) == tmp_path / "lake"
    assert lake.location(f"file://{tmp_path}/lake") == tmp_path / "lake"
    on_s3 = lake.location("s3://bucket/lake")
    assert isinstance(on_s3, UPath) and on_s3.protocol == "s3" and lake.on_object_store(on_s3)
    assert not lake.on_object_store(lake.location(tmp_path))
    assert str(lake.raw_path("s3://bucket/lake", "crimes", FORCE, SNAPSHOT)) == (
        "s3://bucket/lake/raw/crimes/force=KNT/snapshot_date=2024-06-10/part-0.parquet"
    )


def test_settings_take_an_s3_lake_and_keep_great_expectations_on_local_disk(tmp_path, monkeypatch):
    monkeypatch.delenv("CDI_QUALITY_DIR", raising=False)
    local = load_settings(FORCE, landing_dir=tmp_path, lake_dir=tmp_path / "lake", demo=True)
    assert local.quality_dir == tmp_path / "lake" / "quality" / f"force={FORCE}"  # as always

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    on_s3 = load_settings(FORCE, landing_dir=tmp_path, lake_dir="s3://bucket/lake", demo=True)
    assert str(on_s3.lake_dir) == "s3://bucket/lake" and lake.on_object_store(on_s3.lake_dir)
    assert isinstance(on_s3.quality_dir, Path) and not lake.on_object_store(on_s3.quality_dir)
    # the user's cache folder, never inside the installed package (which may be read-only)
    assert on_s3.quality_dir == tmp_path / "cache" / "cdi-monitor" / "quality" / f"force={FORCE}"

    monkeypatch.setenv("CDI_QUALITY_DIR", str(tmp_path / "gx"))
    chosen = load_settings(FORCE, landing_dir=tmp_path, lake_dir="s3://bucket/lake", demo=True)
    assert chosen.quality_dir == tmp_path / "gx" / f"force={FORCE}"


def test_an_object_store_write_leaves_no_temporary_object(s3, bucket):
    root = f"s3://{bucket}/lake"
    spooled_before = set(lake._spool_dir().glob(".tmp-*"))
    raw = lake.write_parquet(TABLE, lake.raw_path(root, "crimes", FORCE, SNAPSHOT))
    manifest = lake.write_json({"rows": 2}, lake.manifest_path(root, "extract", "crimes", FORCE, SNAPSHOT))
    page = lake.write_text("<html></html>", lake.reports_dir(root, FORCE, SNAPSHOT) / "report.html")

    assert keys(s3, bucket) == sorted(path.path for path in (raw, manifest, page))
    assert lake.read_parquet(raw).equals(TABLE)
    assert lake.read_json(manifest) == {"rows": 2}
    assert page.read_text() == "<html></html>"
    assert set(lake._spool_dir().glob(".tmp-*")) <= spooled_before, "each upload removes its local spool file"


def test_a_failed_write_leaves_the_previous_object_and_nothing_else(s3, bucket):
    final = lake.raw_path(f"s3://{bucket}/lake", "crimes", FORCE, SNAPSHOT)
    lake.write_parquet(TABLE, final)
    with pytest.raises(RuntimeError, match="writer died"):
        with lake.atomic_file(final) as temporary:
            temporary.write_bytes(b"PAR1 half a file")
            raise RuntimeError("writer died")
    assert keys(s3, bucket) == [final.path]
    assert lake.read_parquet(final).equals(TABLE)


def test_duckdb_reads_the_lake_through_its_fsspec_filesystem(bucket):
    root = f"s3://{bucket}/lake"
    final = lake.write_parquet(TABLE, lake.mart_path(root, "worklist", FORCE, SNAPSHOT))
    with reconcile.open_connection(root) as connection:
        assert connection.execute("select sum(victims) from read_parquet($files)",
                                  {"files": [str(final)]}).fetchone() == (3,)
        assert connection.execute(f"select count(*) from read_parquet('{lake.mart_glob(root, 'worklist', FORCE)}')"
                                  ).fetchone() == (2,)


def test_duckdb_writes_a_mart_to_the_final_key_only(s3, bucket):
    root = f"s3://{bucket}/lake"
    final = lake.mart_path(root, "worklist", FORCE, SNAPSHOT)
    with reconcile.open_connection(root) as connection:
        connection.execute("create table worklist as select range as item from range(1000)")
        reconcile.write_mart(connection, "worklist", final)
    assert keys(s3, bucket) == [final.path]
    assert lake.parquet_row_count(final) == 1000


WRITE_TWICE = """
import sys
from pipelines import lake
final = sys.argv[1]
lake.write_text("first", final)
lake.write_text("second", final)
"""


@pytest.mark.parametrize("fault, left", [("before_replace:2", "first"), ("after_replace:2", "second")])
def test_a_crash_leaves_the_previous_object_or_the_new_one_whole(s3, bucket, fault, left, tmp_path):
    final = lake.reports_dir(f"s3://{bucket}/lake", FORCE, SNAPSHOT) / "gate.json"
    died = subprocess.run([sys.executable, "-c", WRITE_TWICE, str(final)], capture_output=True, text=True,
                          env={**os.environ, lake.FAULT_INJECT_ENV: fault, "TMPDIR": str(tmp_path)}, timeout=120)
    assert died.returncode == lake.FAULT_EXIT_CODE, died.stderr
    assert keys(s3, bucket) == [final.path]
    assert final.read_text() == left
    spooled = list(tmp_path.glob(f"{lake.SPOOL_PREFIX}*/.tmp-gate.json-*"))
    assert len(spooled) == (1 if fault.startswith("before_replace") else 0)  # local, never in the store


def test_a_spool_folder_others_may_open_is_refused(tmp_path, monkeypatch):
    """Files on their way to the store are spooled under a predictable name in the shared temporary
    folder: one that others may open (made by someone else, or a link) is refused, not used."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spool = tmp_path / f"{lake.SPOOL_PREFIX}{os.getuid()}"
    spool.mkdir()
    spool.chmod(0o777)
    with pytest.raises(PermissionError, match="no one else may open"):
        lake._spool_dir()
    spool.chmod(0o700)
    assert lake._spool_dir() == spool
    spool.rmdir()
    spool.symlink_to(tmp_path)
    with pytest.raises(PermissionError):
        lake._spool_dir()


def test_a_lake_on_object_storage_keeps_its_clients_request_logs_above_debug():
    """botocore logs request headers (a session token among them) at DEBUG: a process logging at
    DEBUG (Airflow's tasks, which never pass through cdi's own set-up) must not print them."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in lake.OBJECT_STORE_LOGGERS)]
    levels = [logger.level for logger in loggers]
    try:
        loggers[0].setLevel(logging.DEBUG)
        for logger in loggers[1:]:
            logger.setLevel(logging.NOTSET)
        assert logging.getLogger("botocore").isEnabledFor(logging.DEBUG)
        lake.location("s3://bucket/lake")
        assert not any(logger.isEnabledFor(logging.DEBUG) for logger in loggers[1:])
        assert logging.getLogger("botocore").isEnabledFor(logging.INFO)
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
