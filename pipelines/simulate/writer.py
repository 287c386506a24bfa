"""Writing the simulated force: source exports in the contract's CSV form, and the ground truth.

`simulate_force` is the one entry point (the CLI and the pipeline's embedded default source call
it). Exports land where a real force's file drop would (`<landing>/<force>/<source>_<date>.csv`);
the ground truth goes elsewhere (`<truth>/<force>/`), never inside the landing folder, so the
pipeline cannot see the answers it is being tested against.

CSV: UTF-8 without BOM, CRLF line ends, a header row with the contract's column names in the
contract's order, fields quoted only when they contain a comma, a quote or a line break (RFC
4180), null written as an empty field. Every file is written aside and renamed into place, so a
rerun replaces it whole and a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.contract import FORCE_CODE_PATTERN, SOURCE_NAMES, SOURCES

from . import generator as G
from . import profiles as P

MODES = ("daily", "period")
CSV_CHUNK_ROWS = 500_000  # rows rendered and written at a time: bounds memory on large forces
CSV_LINE_END = "\r\n"  # RFC 4180
TRUTH_FILES = ("truth_incidents.parquet", "truth_referrals.parquet", "truth_crimes.parquet",
               "truth_summary.json")


@dataclass(frozen=True)
class SimulationSummary:
    """What `simulate_force` wrote, and the true recording rates of the simulated force.

    files: every file written (exports, then ground truth); rows: rows written per source,
    summed over files; records: distinct records per source over all files. True rates are
    recorded true crimes / true crimes (victims of real offences) reported in the covered days;
    a crime counts as recorded if it has a record that was not wrongly cancelled.
    """

    force: str
    profile: str
    mode: str
    snapshot_dates: list[date]
    covered_from: date
    covered_to: date
    files: list[Path]
    export_files: list[Path]
    truth_files: list[Path]
    rows: dict[str, int]
    records: dict[str, int]
    true_crimes: int
    recorded_true_crimes: int
    true_recording_rate: float | None  # None when no crime was reported in the covered days
    true_rates_by_group: dict[str, float | None] = field(default_factory=dict)
    true_rates_by_slice: dict[str, float | None] = field(default_factory=dict)


# --- CSV ----------------------------------------------------------------------------------------
def _csv_cells(values: pa.Array, may_need_quotes: bool) -> pa.Array:
    values = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
    if not may_need_quotes:
        return values
    needs = pc.match_substring_regex(values, '[",\r\n]')
    if not pc.any(needs).as_py():
        return values
    quoted = pc.binary_join_element_wise(
        pa.scalar('"'), pc.replace_substring(values, '"', '""'), pa.scalar('"'), "")
    return pc.if_else(needs, quoted, values)


def _string_bytes(values: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a string array, without copying."""
    offset_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    offsets = np.frombuffer(values.buffers()[1], dtype=offset_type)[values.offset:values.offset + len(values) + 1]
    return memoryview(values.buffers()[2])[int(offsets[0]):int(offsets[-1])]


def write_csv(path: Path, header: tuple[str, ...], chunks: Iterator[Mapping[str, pa.Array]],
              quoted_columns: frozenset[str]) -> int:
    """Write chunks of columns as one CSV file; returns the number of data rows.

    quoted_columns: the columns whose values can contain a separator or a quote (free text);
    values of the others (codes, references, timestamps, counts) are generated and never do.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    rows = 0
    with temporary.open("wb") as handle:
        handle.write((",".join(header) + CSV_LINE_END).encode("utf-8"))
        for columns in chunks:
            count = len(columns[header[0]])
            if count == 0:
                continue
            cells = [_csv_cells(columns[name], name in quoted_columns) for name in header]
            lines = pc.binary_join_element_wise(*cells, ",", null_handling="replace", null_replacement="")
            lines = pc.binary_join_element_wise(lines, pa.scalar(""), CSV_LINE_END)
            handle.write(_string_bytes(lines))
            rows += count
    os.replace(temporary, path)
    return rows


def _chunks(world: G.World, source: str, snap: G.SourceSnapshot) -> Iterator[Mapping[str, pa.Array]]:
    render = G.RENDER_FUNCTIONS[source]
    total = len(snap.rows)
    for start in range(0, max(total, 1), CSV_CHUNK_ROWS):
        yield render(world, snap, slice(start, min(start + CSV_CHUNK_ROWS, total)))


def _free_text_columns(source: str) -> frozenset[str]:
    return frozenset(column.name for column in SOURCES[source].columns if column.kind == "personal")


# --- Ground truth -------------------------------------------------------------------------------
def _optional_names(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    codes = np.asarray(codes, dtype=np.int64)
    return pa.array(names, type=pa.string()).take(pa.array(np.maximum(codes, 0), mask=codes < 0))


def truth_tables(world: G.World, exported: Mapping[str, np.ndarray]) -> dict[str, pa.Table]:
    """Ground truth for every record that appears in at least one export."""
    groups = world.book.groups
    modes = P.FAILURE_MODES
    inc = world.incidents
    rows = np.flatnonzero(exported["incidents"])
    dup_of = inc["dup_of"][rows]
    has_original = dup_of != G.NONE
    incidents = pa.table({
        "incident_ref": world.incident_refs(rows),
        "truly_crime": pa.array(inc["truly"][rows]),
        "true_crime_count": pa.array(inc["true_count"][rows].astype(np.int64)),
        "true_crime_group": _optional_names(groups, inc["true_group"][rows]),
        "failure_mode": _optional_names(modes, inc["failure"][rows]),
        "duplicate_of": G._null_where(world.incident_refs(np.maximum(dup_of, 0)), has_original)
        if len(rows) else pa.array([], pa.string()),
    })
    ref = world.referrals
    rows = np.flatnonzero(exported["referrals"])
    referrals = pa.table({
        "referral_ref": world.referral_refs(rows),
        "truly_crime": pa.array(ref["truly"][rows]),
        "true_crime_count": pa.array(ref["true_count"][rows].astype(np.int64)),
        "true_crime_group": _optional_names(groups, ref["true_group"][rows]),
        "failure_mode": _optional_names(modes, ref["failure"][rows]),
    })
    crimes = world.crimes
    rows = np.flatnonzero(exported["crimes"])
    kind = crimes["origin_kind"][rows]
    origin = crimes["origin_row"][rows]
    on_incident, on_referral = kind == G.ROUTE_INCIDENT, kind == G.ROUTE_REFERRAL
    origin_ref = pc.if_else(
        pa.array(on_incident),
        world.incident_refs(np.where(on_incident, origin, 0)) if len(inc["created"]) else pa.nulls(len(rows), pa.string()),
        G._null_where(world.referral_refs(np.where(on_referral, origin, 0)), on_referral)
        if len(ref["received"]) else pa.nulls(len(rows), pa.string()),
    ) if len(rows) else pa.array([], pa.string())
    crimes_table = pa.table({
        "crime_ref": world.crime_refs(rows),
        "true_origin": pa.array(P.ROUTES, type=pa.string()).take(kind.astype(np.int64)),
        "origin_ref": origin_ref,
    })
    return {"truth_incidents": incidents, "truth_referrals": referrals, "truth_crimes": crimes_table}


def _rate(recorded: float, true: float) -> float | None:
    return round(recorded / true, 6) if true else None


def truth_summary(world: G.World, covered_from: date, covered_to: date, final_cutoff: int) -> dict:
    """True recording rates of the crimes reported in the covered days.

    true crimes = victims of real offences; recorded = those with a crime record that was not
    wrongly cancelled (eventually: a late record counts, even one made after the last cut-off;
    `recording_rate_at_last_cutoff` counts only records made before it).
    """
    ev = world.events
    first = covered_from.toordinal() - G.UNIX_EPOCH_ORDINAL
    last = covered_to.toordinal() - G.UNIX_EPOCH_ORDINAL
    covered = (ev["day"] >= first) & (ev["day"] <= last)
    victims = ev["victims"][covered].astype(np.int64)
    recorded = ev["recorded_victims"][covered].astype(np.int64)
    recorded_by_cutoff = np.where(ev["first_recorded"][covered] < final_cutoff, recorded, 0)
    group = ev["group"][covered].astype(np.int64)
    failure = ev["failure"][covered]

    def breakdown(mask: np.ndarray) -> dict:
        true, done = int(victims[mask].sum()), int(recorded[mask].sum())
        return {"true_crimes": true, "recorded": done, "unrecorded": true - done, "rate": _rate(done, true)}

    by_group = {name: breakdown(group == i) for i, name in enumerate(world.book.groups)}
    by_slice = {
        "RAPE": breakdown(ev["rape"][covered]),
        "DOMESTIC_ABUSE": breakdown(ev["da"][covered]),
        "REFERRALS_ROUTE": breakdown(ev["route"][covered] == G.ROUTE_REFERRAL),
        "INCIDENTS_ROUTE": breakdown(ev["route"][covered] == G.ROUTE_INCIDENT),
        "OTHER_ROUTE": breakdown(ev["route"][covered] == G.ROUTE_OTHER),
    }
    failures = {
        mode: {"events": int((failure == code).sum()),
               "true_crimes_unrecorded": int((victims - recorded)[failure == code].sum())}
        for code, mode in enumerate(P.FAILURE_MODES)
    }
    spec = world.spec
    return {
        "force": spec.force,
        "profile": spec.profile.name,
        "preset": spec.preset.name,
        "scale": spec.scale,
        "seed": spec.seed,
        "covered_report_days": {"from": covered_from.isoformat(), "to": covered_to.isoformat()},
        "target_recording_rate": spec.profile.recording_rate,
        "target_group_rates": dict(spec.profile.group_rates),
        **breakdown(np.ones(len(victims), dtype=bool)),
        "recording_rate_at_last_cutoff": _rate(int(recorded_by_cutoff.sum()), int(victims.sum())),
        "by_group": by_group,
        "by_slice": by_slice,
        "failure_modes": failures,
        "definitions": {
            "true_crime": "one victim of a real notifiable offence (one crime per victim)",
            "recorded": "has a crime record that was not wrongly cancelled (late records count)",
            "covered_report_days": "report days whose crimes the exports cover",
        },
    }


def _write_parquet(table: pa.Table, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, path)


def _write_json(payload: dict, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, path)


# --- The entry point ----------------------------------------------------------------------------
def _check_truth_outside_landing(landing: Path, truth: Path) -> None:
    landing_resolved, truth_resolved = landing.resolve(), truth.resolve()
    if truth_resolved == landing_resolved or landing_resolved in truth_resolved.parents:
        raise ValueError(f"the ground truth folder {truth} must not be inside the landing folder "
                         f"{landing}: the pipeline would read the answers")


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def simulate_force(*, force: str, profile: str, start: date, end: date, seed: int,
                   landing: Path, truth: Path | None = None, mode: str = "daily",
                   preset: str = "mid", scale: float = 1.0, lookback_days: int = 60,
                   progress: Callable[[int, int], None] | None = None) -> SimulationSummary:
    """Simulate a force's three source systems and write their exports (and the ground truth).

    start / end: snapshot dates, inclusive. The snapshot of day D is cut at 00:00 Europe/London
    on D, so it holds activity up to the end of D-1.
    mode "daily": for each snapshot date D, `<landing>/<force>/<source>_<D>.csv` with every
    record created or updated in the `lookback_days` before D's cut-off, in its state then.
    mode "period": one file per source named with `end`, covering activity from `start`'s
    cut-off to `end`'s, in its state at `end`'s cut-off.
    truth: folder for `<truth>/<force>/truth_*.parquet` and `truth_summary.json`; None writes
    no ground truth. It must not be inside `landing`.
    Same arguments, same bytes: the world depends only on (force, profile, preset, scale,
    seed), and the files of a date do not depend on the range asked for.
    """
    if not re.match(FORCE_CODE_PATTERN, force or ""):
        raise ValueError(f"force code {force!r} must be 2-5 capital letters")
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} must be one of {', '.join(MODES)}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback_days}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    resolved_profile = P.resolve_profile(profile)
    spec = G.WorldSpec(force, resolved_profile, P.resolve_preset(preset), float(scale), int(seed))
    landing = Path(landing)
    if truth is not None:
        truth = Path(truth)
        _check_truth_outside_landing(landing, truth)

    if mode == "daily":
        snapshot_dates = _days(start, end)
        windows = [(day, G.cutoff_utc(day), G.cutoff_utc(day - timedelta(days=lookback_days)))
                   for day in snapshot_dates]
        covered_from = start - timedelta(days=lookback_days)
    else:
        snapshot_dates = [end]
        windows = [(end, G.cutoff_utc(end), G.cutoff_utc(start))]
        covered_from = start
    covered_to = end - timedelta(days=1)
    earliest_window = min(snapshot_dates) - timedelta(days=lookback_days) if mode == "daily" else start
    content_first = earliest_window - timedelta(days=P.LIFECYCLE_DAYS)
    numbering_first = date(content_first.year, 1, 1) - timedelta(days=P.LIFECYCLE_DAYS)
    to_number = lambda day: day.toordinal() - G.UNIX_EPOCH_ORDINAL  # noqa: E731
    world = G.World(spec, to_number(numbering_first), to_number(content_first), to_number(covered_to))

    exported = {
        "incidents": np.zeros(len(world.incidents["created"]), dtype=bool),
        "crimes": np.zeros(len(world.crimes["recorded"]), dtype=bool),
        "referrals": np.zeros(len(world.referrals["received"]), dtype=bool),
    }
    rows = dict.fromkeys(SOURCE_NAMES, 0)
    export_files: list[Path] = []
    folder = landing / force
    for done, (day, cutoff, window_start) in enumerate(windows, start=1):
        for source in SOURCE_NAMES:
            snap = G.SNAPSHOT_FUNCTIONS[source](world, cutoff, window_start)
            exported[source][snap.rows] = True
            path = folder / SOURCES[source].file_name(day.isoformat())
            rows[source] += write_csv(path, SOURCES[source].column_names, _chunks(world, source, snap),
                                      _free_text_columns(source))
            export_files.append(path)
        if progress is not None:
            progress(done, len(windows))

    summary = truth_summary(world, covered_from, covered_to, windows[-1][1])
    truth_files: list[Path] = []
    if truth is not None:
        truth_folder = truth / force
        truth_folder.mkdir(parents=True, exist_ok=True)
        for name, table in truth_tables(world, exported).items():
            _write_parquet(table, truth_folder / f"{name}.parquet")
            truth_files.append(truth_folder / f"{name}.parquet")
        _write_json(summary, truth_folder / "truth_summary.json")
        truth_files.append(truth_folder / "truth_summary.json")

    return SimulationSummary(
        force=force,
        profile=resolved_profile.name,
        mode=mode,
        snapshot_dates=snapshot_dates,
        covered_from=covered_from,
        covered_to=covered_to,
        files=export_files + truth_files,
        export_files=export_files,
        truth_files=truth_files,
        rows=rows,
        records={source: int(mask.sum()) for source, mask in exported.items()},
        true_crimes=summary["true_crimes"],
        recorded_true_crimes=summary["recorded"],
        true_recording_rate=summary["rate"],
        true_rates_by_group={name: group["rate"] for name, group in summary["by_group"].items()},
        true_rates_by_slice={name: group["rate"] for name, group in summary["by_slice"].items()},
    )
