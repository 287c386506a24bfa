"""Column maps: a simulated force written in two vendor layouts extracts to exactly the lake of
its canonical files; an unmapped column or code is an error naming it, or a quarantined row."""

from __future__ import annotations

import csv
import io

import pyarrow.parquet as pq
import pytest

from pipelines import lake
from pipelines.contract import SOURCES
from pipelines.extract import extract_source
from pipelines.settings import ConfigurationError, load_settings
from pipelines.sources.column_map import load_column_map, write_vendor_landing
from pipelines.sources.csv_export import ExportFormatError
from tests.sources.conftest import FORCE, SNAPSHOT

pytestmark = [pytest.mark.unit]
MAPS = ("vendor_a_pascal", "vendor_b_legacy")


def settings_for(landing, lake_dir, column_map=None):
    overrides = {"source": {"column_map": column_map}} if column_map else None
    return load_settings(FORCE, landing_dir=landing, lake_dir=lake_dir, demo=True, overrides=overrides)


def partition(lake_dir, area: str, source: str) -> list:
    path = (lake.raw_path if area == "raw" else lake.quarantine_path)(lake_dir, source, FORCE, SNAPSHOT)
    return sorted(repr(row) for row in pq.read_table(path).to_pylist())


def vendor_landing(simulated_landing, tmp_path, map_name):
    """The simulated force's exports as the vendor would write them."""
    landing = tmp_path / map_name
    written = write_vendor_landing(simulated_landing, FORCE, load_column_map(map_name), landing)
    assert len(written) == 2 * len(SOURCES)  # two snapshot days, three sources
    return landing


def rewrite(path, change) -> None:
    """Apply ``change(header, rows)`` to a vendor CSV file."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header, body = change(rows[0], rows[1:])
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *body])
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


@pytest.fixture(scope="module")
def canonical_lake(simulated_landing, tmp_path_factory):
    lake_dir = tmp_path_factory.mktemp("canonical") / "lake"
    for source in SOURCES:
        extract_source(settings_for(simulated_landing, lake_dir), source, SNAPSHOT)
    return lake_dir


@pytest.mark.parametrize("map_name", MAPS)
def test_a_vendor_layout_extracts_to_the_same_lake_as_the_canonical_files(simulated_landing, canonical_lake, tmp_path, map_name):
    landing = vendor_landing(simulated_landing, tmp_path, map_name)
    first_line = (landing / FORCE / f"crimes_{SNAPSHOT}.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "crime_ref" not in first_line  # the files really are in the vendor's layout
    lake_dir = tmp_path / "lake"
    for source in SOURCES:
        result = extract_source(settings_for(landing, lake_dir, map_name), source, SNAPSHOT)
        assert result.rows_in > 50 and result.extra_columns == []
        assert partition(lake_dir, "raw", source) == partition(canonical_lake, "raw", source)
        assert partition(lake_dir, "quarantine", source) == partition(canonical_lake, "quarantine", source)


def test_an_unmapped_code_is_an_error_naming_column_value_and_line(simulated_landing, tmp_path):
    landing = vendor_landing(simulated_landing, tmp_path, "vendor_a_pascal")
    path = landing / FORCE / f"incidents_{SNAPSHOT}.csv"
    rewrite(path, lambda header, rows: (header, [rows[0], [*rows[1][:3], "07", *rows[1][4:]], *rows[2:]]))
    assert open(path, encoding="utf-8").read().splitlines()[0].split(",")[3] == "ContactChannel"
    with pytest.raises(ExportFormatError, match=r"line 3, column 'ContactChannel': value '07' is not in the column map 'vendor_a_pascal'"):
        extract_source(settings_for(landing, tmp_path / "lake", "vendor_a_pascal"), "incidents", SNAPSHOT)


def test_by_configuration_an_unmapped_code_quarantines_the_row(simulated_landing, tmp_path):
    landing = vendor_landing(simulated_landing, tmp_path, "vendor_b_legacy")
    path = landing / FORCE / f"incidents_{SNAPSHOT}.csv"
    rewrite(path, lambda header, rows: (header, [[*rows[0][:3], "CARRIER_PIGEON", *rows[0][4:]], *rows[1:]]))
    result = extract_source(settings_for(landing, tmp_path / "lake", "vendor_b_legacy"), "incidents", SNAPSHOT)
    quarantined = pq.read_table(lake.quarantine_path(tmp_path / "lake", "incidents", FORCE, SNAPSHOT)).to_pylist()
    pigeon = [row for row in quarantined if row["source_line"] == 2]
    assert len(pigeon) == 1 and "channel: value not allowed by the contract: 'UNMAPPED:CARRIER_PIGEON'" in pigeon[0]["reason"]
    assert result.rows_accepted == result.rows_in - result.rows_quarantined > 50


def test_an_unmapped_column_is_an_error_naming_it_and_an_ignored_one_is_read_past(simulated_landing, tmp_path):
    landing = vendor_landing(simulated_landing, tmp_path, "vendor_a_pascal")
    path = landing / FORCE / f"incidents_{SNAPSHOT}.csv"
    rewrite(path, lambda header, rows: ([*header, "OperatorId"], [[*row, "OP-123-SECRET"] for row in rows]))
    result = extract_source(settings_for(landing, tmp_path / "lake", "vendor_a_pascal"), "incidents", SNAPSHOT)
    raw = lake.raw_path(tmp_path / "lake", "incidents", FORCE, SNAPSHOT)
    assert result.rows_accepted > 50 and b"OP-123-SECRET" not in raw.read_bytes()
    rewrite(path, lambda header, rows: ([*header, "SurpriseColumn"], [[*row, "x"] for row in rows]))
    with pytest.raises(ExportFormatError, match=r"line 1, column 'SurpriseColumn': column is not in the column map 'vendor_a_pascal'"):
        extract_source(settings_for(landing, tmp_path / "lake", "vendor_a_pascal"), "incidents", SNAPSHOT)
    rewrite(path, lambda header, rows: ([name if name != "CreatedDateTime" else "CreatedAt" for name in header], rows))
    with pytest.raises(ExportFormatError, match="column 'CreatedAt': column is not in the column map"):
        extract_source(settings_for(landing, tmp_path / "lake", "vendor_a_pascal"), "incidents", SNAPSHOT)


def test_a_date_time_not_in_the_vendor_format_is_quarantined_quoting_it(simulated_landing, tmp_path):
    landing = vendor_landing(simulated_landing, tmp_path, "vendor_a_pascal")
    path = landing / FORCE / f"crimes_{SNAPSHOT}.csv"
    rewrite(path, lambda header, rows: (header, [[*rows[0][:4], "2024-06-01 10:00:00", *rows[0][5:]], *rows[1:]]))
    extract_source(settings_for(landing, tmp_path / "lake", "vendor_a_pascal"), "crimes", SNAPSHOT)
    quarantined = pq.read_table(lake.quarantine_path(tmp_path / "lake", "crimes", FORCE, SNAPSHOT)).to_pylist()
    assert any(row["source_line"] == 2 and "reported_at: not a date-time" in row["reason"]
               and "'UNMAPPED:2024-06-01 10:00:00'" in row["reason"] for row in quarantined)


def test_a_map_that_misses_a_required_column_or_names_an_unknown_one_is_refused(tmp_path):
    (tmp_path / "column_maps").mkdir()
    bad = tmp_path / "column_maps" / "bad.yaml"
    bad.write_text("sources:\n  referrals:\n    columns: {referral_ref: RefNo}\n")
    with pytest.raises(ConfigurationError, match="required column 'force_code' is not mapped"):
        load_column_map(bad)
    bad.write_text("sources:\n  referrals:\n    columns: {referal_ref: RefNo}\n")
    with pytest.raises(ConfigurationError, match="'referal_ref' is not a column of the contract"):
        load_column_map(bad)
