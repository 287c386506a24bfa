"""Shared test helpers: settings on a temporary lake, and exports written from a few dicts."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from pipelines.contract import SOURCES
from pipelines.settings import load_settings

FORCE = "KNT"
SNAPSHOT = dt.date(2024, 6, 10)


def export_text(source: str, rows: list[dict], columns: list[str] | None = None) -> str:
    """CSV text of an export with the contract's header (or ``columns``); missing fields empty."""
    header = columns or list(SOURCES[source].column_names)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return buffer.getvalue()


def write_export(landing: Path, source: str, rows: list[dict], *, snapshot: dt.date = SNAPSHOT,
                 encoding: str = "utf-8", columns: list[str] | None = None) -> Path:
    path = landing / FORCE / SOURCES[source].file_name(snapshot.isoformat())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(export_text(source, rows, columns).encode(encoding))
    return path


def incident(ref: str = "KNT-240601-00001", **fields) -> dict:
    row = {
        "incident_ref": ref, "force_code": FORCE, "created_at": "2024-06-01 10:00:00",
        "channel": "EMERGENCY_999", "opening_code": "CR-VIOL", "closing_code": "CR-VIOL",
        "closed_at": "2024-06-01 12:00:00", "qualifiers": "", "victim_count": "1",
        "victim_person_ids": f"V-{ref}", "caller_name": "Alice Example", "caller_phone": "07700 900001",
        "location_text": "1 Test Street", "beat_code": "B01", "crime_refs": "",
        "updated_at": "2024-06-01 12:00:00",
    }
    row.update(fields)
    return row


def crime(ref: str = "KNT/24/000001", **fields) -> dict:
    row = {
        "crime_ref": ref, "force_code": FORCE, "incident_ref": "KNT-240601-00001", "referral_ref": "",
        "reported_at": "2024-06-01 10:00:00", "recorded_at": "2024-06-01 14:00:00",
        "ho_offence_code": "8N", "status": "RECORDED", "cancellation_code": "", "cancelled_at": "",
        "cancellation_authority": "", "victim_person_id": "P100", "victim_name": "Alice Example",
        "beat_code": "B01", "flags": "", "updated_at": "2024-06-01 14:00:00",
    }
    row.update(fields)
    return row


def referral(ref: str = "KNT-R-240601-0001", **fields) -> dict:
    row = {
        "referral_ref": ref, "force_code": FORCE, "received_at": "2024-06-01 09:00:00",
        "source_agency": "HEALTH", "team": "SEXUAL_OFFENCES", "discloses_offence": "Y",
        "disclosed_offence_code": "19C", "victim_person_id": "P200", "subject_name": "Bob Example",
        "crime_refs": "", "updated_at": "2024-06-01 09:00:00",
    }
    row.update(fields)
    return row


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def settings(tmp_path: Path, landing: Path):
    return load_settings(FORCE, landing_dir=landing, lake_dir=tmp_path / "lake", demo=True)
