"""A process killed in the middle of extraction or reconciliation leaves no partial partition, and
a rerun completes with the outputs of an undisturbed run.

The kill is injected at a chosen atomic write by ``$CDI_FAULT_INJECT`` (a test hook in
`pipelines.lake`: ``os._exit``, so no ``finally`` runs and no buffer is flushed, as with SIGKILL),
plus one real SIGKILL at whatever moment the process has reached.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines import lake
from tests.hardening.conftest import (
    FORCE,
    PROJECT,
    TODAY,
    assert_no_partial_file_is_visible,
    mart_rows,
    python_env,
    run_stages,
    run_stages_command,
)

pytestmark = [pytest.mark.e2e]


def _killed(result: subprocess.CompletedProcess, fault: str) -> None:
    assert result.returncode == lake.FAULT_EXIT_CODE, result.stderr
    assert f"{lake.FAULT_INJECT_ENV}: dying {fault.split(':')[0]}" in result.stderr


def _extracted_file(lake_dir: Path, area_and_source: str) -> Path:
    """Today's partition or extract manifest of one source, named as ``<area>/<source>``."""
    area, source = area_and_source.split("/")
    if area == "manifests":
        return lake.manifest_path(lake_dir, "extract", source, FORCE, TODAY)
    return lake.partition_dir(lake_dir, area, source, FORCE, TODAY) / lake.PART_FILE


def _with_bad_victim_counts(landing: Path, destination: Path, rows: int) -> Path:
    """A copy of ``landing`` whose incidents export of today has ``rows`` records with a negative
    victim count (records whose reference appears once, so nothing else is quarantined with them)."""
    shutil.copytree(landing, destination)
    path = destination / FORCE / f"incidents_{TODAY.isoformat()}.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        header, *records = list(csv.reader(handle))
    key, count = header.index("incident_ref"), header.index("victim_count")
    references = Counter(record[key] for record in records)
    for record in [record for record in records if references[record[key]] == 1][:rows]:
        record[count] = "-1"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([header, *records])
    return destination


def test_killed_between_the_quarantine_and_the_raw_write_loses_no_rejected_row(simulated_landing, clean_lake, tmp_path):
    """A rerun of a date whose export now has bad rows, killed after the first partition it moves
    into place: that partition is the quarantine, so the rejected rows are already kept."""
    lake_dir = tmp_path / "lake"
    shutil.copytree(clean_lake, lake_dir)  # today's clean run, with no incident quarantined
    assert pq.read_table(lake.quarantine_path(lake_dir, "incidents", FORCE, TODAY)).num_rows == 0
    landing = _with_bad_victim_counts(simulated_landing, tmp_path / "landing", rows=8)
    _killed(run_stages(landing, lake_dir, TODAY, "extract", CDI_FAULT_INJECT="after_replace:1"), "after_replace:1")

    assert_no_partial_file_is_visible(lake_dir)
    quarantined = pq.read_table(lake.quarantine_path(lake_dir, "incidents", FORCE, TODAY)).to_pylist()
    assert len(quarantined) == 8
    assert {row["reason"] for row in quarantined} == {"victim_count: not a whole number from 0 to 9999: '-1'"}

    rerun = run_stages(landing, lake_dir, TODAY, "extract")
    assert rerun.returncode == 0, rerun.stderr
    manifest = lake.read_json(lake.manifest_path(lake_dir, "extract", "incidents", FORCE, TODAY))
    assert manifest["rows_quarantined"] == 8
    assert pq.read_table(lake.raw_path(lake_dir, "incidents", FORCE, TODAY)).num_rows == manifest["rows_accepted"]
    assert manifest["rows_in"] == manifest["rows_accepted"] + 8


def _age(leftovers: list) -> None:
    """Make the crashed run's temporary files as old as a rerun the next morning would find them."""
    long_ago = time.time() - lake.STALE_TEMPORARY_SECONDS - 3600
    for leftover in leftovers:
        os.utime(leftover, (long_ago, long_ago))


@pytest.mark.parametrize(
    "fault, in_place, not_yet_written",
    [
        # Incidents are extracted; the crimes raw partition is complete beside its name, not moved in.
        ("before_replace:2:raw", ["quarantine/crimes"], "raw/crimes"),
        # Each source writes its quarantine partition first, then its raw partition, its manifest last.
        ("after_replace:1:quarantine", ["quarantine/incidents"], "raw/incidents"),
        ("after_replace:1:raw", ["quarantine/incidents", "raw/incidents"], "manifests/incidents"),
    ],
)
def test_killed_during_extraction_then_rerun(simulated_landing, lake_after_yesterday, clean_lake, fault, in_place,
                                             not_yet_written):
    lake_dir = lake_after_yesterday
    _killed(run_stages(simulated_landing, lake_dir, TODAY, CDI_FAULT_INJECT=fault), fault)

    leftovers = assert_no_partial_file_is_visible(lake_dir)
    for written in in_place:
        assert _extracted_file(lake_dir, written).exists()
    final = _extracted_file(lake_dir, not_yet_written)
    assert not final.exists()  # nothing under the name a reader opens...
    if fault.startswith("before_replace"):
        assert [path.parent for path in leftovers] == [final.parent]  # ...only the finished temporary file
    assert not lake.mart_path(lake_dir, "worklist", FORCE, TODAY).exists()

    _age(leftovers)
    rerun = run_stages(simulated_landing, lake_dir, TODAY)
    assert rerun.returncode == 0, rerun.stderr
    assert assert_no_partial_file_is_visible(lake_dir) == []  # the rerun also removed the crash's leftovers
    assert mart_rows(lake_dir, TODAY) == mart_rows(clean_lake, TODAY)


@pytest.mark.parametrize(
    "fault, marts_in_place",
    [("before_replace:2:marts", 1), ("after_replace:1:marts", 1), ("before_replace:1:manifests", "all")],
)
def test_killed_during_reconciliation_then_rerun(simulated_landing, lake_after_yesterday, clean_lake, fault, marts_in_place):
    lake_dir = lake_after_yesterday
    extracted = run_stages(simulated_landing, lake_dir, TODAY, "extract")
    assert extracted.returncode == 0, extracted.stderr
    _killed(run_stages(simulated_landing, lake_dir, TODAY, "reconcile", CDI_FAULT_INJECT=fault), fault)

    leftovers = assert_no_partial_file_is_visible(lake_dir)
    written, clean = mart_rows(lake_dir, TODAY), mart_rows(clean_lake, TODAY)
    assert len(written) == (len(clean) if marts_in_place == "all" else marts_in_place)
    assert not lake.manifest_path(lake_dir, "reconcile", "marts", FORCE, TODAY).exists()  # the run is unfinished
    for mart, rows in written.items():  # and what is visible is whole, as a complete run wrote it
        assert rows == clean[mart]

    _age(leftovers)
    rerun = run_stages(simulated_landing, lake_dir, TODAY, "reconcile")
    assert rerun.returncode == 0, rerun.stderr
    assert assert_no_partial_file_is_visible(lake_dir) == []
    assert mart_rows(lake_dir, TODAY) == mart_rows(clean_lake, TODAY)


def test_sigkill_at_any_moment_leaves_only_complete_files(simulated_landing, lake_after_yesterday, clean_lake):
    lake_dir = lake_after_yesterday
    process = subprocess.Popen(run_stages_command(simulated_landing, lake_dir, TODAY), cwd=PROJECT,
                               env=python_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    first_partition = lake.raw_path(lake_dir, "incidents", FORCE, TODAY)
    deadline = time.monotonic() + 120
    while not first_partition.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) in (-signal.SIGKILL, 0)  # 0 only if it won the race to the end

    assert_no_partial_file_is_visible(lake_dir)
    rerun = run_stages(simulated_landing, lake_dir, TODAY)
    assert rerun.returncode == 0, rerun.stderr
    assert mart_rows(lake_dir, TODAY) == mart_rows(clean_lake, TODAY)


def test_the_fault_hook_is_inert_unless_asked(tmp_path, monkeypatch):
    monkeypatch.delenv(lake.FAULT_INJECT_ENV, raising=False)
    written = lake.write_text("complete\n", tmp_path / "a" / "file.txt")
    assert written.read_text() == "complete\n"
    monkeypatch.setenv(lake.FAULT_INJECT_ENV, "sometime:1")
    with pytest.raises(ValueError, match="the point must be one of before_replace, after_replace"):
        lake.write_text("x", tmp_path / "a" / "other.txt")
    assert not (tmp_path / "a" / "other.txt").exists()


def test_a_write_removes_only_stale_leftovers_of_its_own_file(tmp_path):
    folder = tmp_path / "marts" / "worklist"
    folder.mkdir(parents=True)
    crashed = folder / ".tmp-part-0.parquet-crashed"  # a killed writer's, long ago
    in_progress = folder / ".tmp-part-0.parquet-writing"  # another writer's, this minute
    other_file = folder / ".tmp-part-1.parquet-crashed"  # another file's: not this write's business
    for leftover in (crashed, in_progress, other_file):
        leftover.write_text("half")
    _age([crashed, other_file])

    lake.write_text("complete\n", folder / "part-0.parquet")

    assert (folder / "part-0.parquet").read_text() == "complete\n"
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        ["part-0.parquet", in_progress.name, other_file.name])
