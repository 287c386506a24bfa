"""The code lists of the national crime-recording rules, shipped with the package.

The CSV files in ``pipelines/reference/`` are copies of ``../shared/reference/``, the canonical
lists of the export contract. Extraction, the GX suites and the SQL all read them from here. A
force whose systems use codes of their own maps them onto these with a column map
(``pipelines/sources/column_map.py``, config/column_maps/); a code the national lists lack is
added to these copies (never removed, as the contract's consumers rely on every code).
``load_reference``'s ``reference_dir`` reads another folder's copies (tests build suites from it).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

PACKAGED_REFERENCE_DIR = Path(__file__).parent / "reference"
REFERENCE_LISTS = (
    "incident_codes",
    "incident_qualifiers",
    "ho_offence_codes",
    "cancellation_codes",
)


@lru_cache(maxsize=None)
def load_reference(name: str, reference_dir: str | None = None) -> tuple[dict[str, str], ...]:
    """The rows of one reference list, as dicts of strings, in file order."""
    if name not in REFERENCE_LISTS:
        raise KeyError(f"unknown reference list {name!r}; known: {', '.join(REFERENCE_LISTS)}")
    path = Path(reference_dir or PACKAGED_REFERENCE_DIR) / f"{name}.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def reference_codes(name: str, reference_dir: str | None = None) -> frozenset[str]:
    return frozenset(row["code"] for row in load_reference(name, reference_dir))


def reference_path(name: str, reference_dir: str | None = None) -> Path:
    return Path(reference_dir or PACKAGED_REFERENCE_DIR) / f"{name}.csv"
