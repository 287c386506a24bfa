"""Canonical export -> validated, pseudonymised, typed Parquet partitions, with quarantine.

For one (source, force, snapshot date): read the export, type every column by the contract,
send each row that cannot be typed to quarantine with the reason naming its line and field,
replace person ids by keyed hashes, and write the quarantine partition, the raw partition and
the extract manifest, each atomically and in that order (a crash between two writes never loses a
rejected row). Invariant, checked before anything is written: rows in = rows accepted + rows
quarantined.

Besides the contract's types, a row is quarantined when it breaks a rule between its fields (a
cancellation code that does not fit the crime's status, a crime recorded before it was reported:
`SourceContract.status_rules` and `.not_before`), when a date-time lies after the snapshot was
taken (local midnight starting the snapshot date) or before the configured epoch (a placeholder
such as 1900-01-01), when a reference holds a line break or control character or is implausibly
long, and when its reference also appears on a quarantined row that may hold the record's latest
state. A file in which no record belongs to the force is refused as a whole: it is another
force's export in the wrong folder, not a day without crime.

The export is a CSV file in the landing folder (in the canonical layout, or a vendor's described by
a column map, `pipelines.sources.column_map`) or, when the settings say ``source.kind: database``,
a table or view read in batches (`pipelines.sources.sql_source`); all are typed by `type_export`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines import lake
from pipelines.contract import LIST_SEPARATOR, LOCAL_TIME_FORMAT, SOURCES, Column, SourceContract
from pipelines.localtime import (
    NOTE_AMBIGUOUS_EARLIER,
    NOTE_AMBIGUOUS_LATER,
    NOTE_NONEXISTENT_SHIFTED,
    REASON_AMBIGUOUS,
    REASON_NONEXISTENT,
    local_midnight_utc,
    local_to_utc,
)
from pipelines.pseudonymise import person_keys
from pipelines.reference import reference_codes
from pipelines.settings import Settings
from pipelines.sources.csv_export import ExportFormatError, RawExport, read_export

log = logging.getLogger(__name__)

MAX_VICTIM_COUNT_DIGITS = 4
# References, beat codes and lists of references are short identifiers. A longer field is a
# broken export (a stray quote swallowing the lines after it), and would bloat every join.
MAX_IDENTIFIER_FIELD_CHARS = 1000
# A value quoted in a quarantine reason is cut to this many characters.
QUOTED_VALUE_CHARS = 80
CONTROL_CHARACTER = r"[\x00-\x1f\x7f]"  # RE2 syntax: line breaks, tabs and the like
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
# How far a local time resolved by the clock-change policy may be from the true instant.
CLOCK_CHANGE_HOUR = pa.scalar(dt.timedelta(hours=1), type=pa.duration("us"))
QUARANTINE_SCHEMA = pa.schema(
    [
        ("source_line", pa.int64()),
        ("reference", pa.string()),
        ("reason", pa.string()),
        ("record_json", pa.string()),  # the row's non-personal fields as read, for reprocessing
    ]
)


@dataclass
class ExtractResult:
    source: str
    force: str
    snapshot_date: str
    export_file: str
    encoding: str
    rows_in: int
    rows_accepted: int
    rows_quarantined: int
    clock_change_notes: int
    extra_columns: list[str]
    missing_optional_columns: list[str]  # optional contract columns the export lacks: read as empty
    raw_partition: str
    quarantine_partition: str

    def to_dict(self) -> dict:
        return asdict(self)


class _Rejections:
    """Collects the reasons each row is rejected for."""

    def __init__(self, row_count: int):
        self.reasons = np.full(row_count, None, dtype=object)

    def add(self, mask: np.ndarray, field: str, describe) -> None:
        """Reject rows in ``mask``; ``describe(row_index)`` words the reason. A row rejected for
        several fields keeps every reason, so one look at the quarantine tells all that is wrong."""
        for row in np.flatnonzero(mask):
            reason = f"{field}: {describe(row)}"
            previous = self.reasons[row]
            self.reasons[row] = reason if previous is None else f"{previous}; {reason}"

    @property
    def rejected(self) -> np.ndarray:
        return np.not_equal(self.reasons, None)


@dataclass
class _Typing:
    """What typing one export needs besides its columns."""

    settings: Settings
    rejections: _Rejections
    notes: np.ndarray  # clock-change notes per row
    earliest_utc: np.datetime64  # the configured epoch: earlier is a placeholder date
    cutoff_utc: np.datetime64  # the snapshot was taken then: later cannot have happened yet
    earliest_text: str
    cutoff_text: str


def _typing_for(settings: Settings, snapshot_date: dt.date, row_count: int) -> _Typing:
    cutoff = local_midnight_utc(snapshot_date, settings.time_zone)
    epoch = dt.date.fromisoformat(str(settings.thresholds["epoch"]))
    return _Typing(
        settings=settings,
        rejections=_Rejections(row_count),
        notes=np.full(row_count, None, dtype=object),
        earliest_utc=np.datetime64(epoch.isoformat(), "s"),
        cutoff_utc=np.datetime64(cutoff.replace(tzinfo=None), "s"),
        earliest_text=epoch.isoformat(),
        cutoff_text=f"{snapshot_date.isoformat()} 00:00 {settings.time_zone}",
    )


def _quoted(value: object) -> str:
    """A value for a reason: repr, cut short so a huge field cannot bloat the quarantine."""
    if isinstance(value, str) and len(value) > QUOTED_VALUE_CHARS:
        return f"{value[:QUOTED_VALUE_CHARS]!r}... ({len(value)} characters)"
    return repr(value)


def _mask(array: pa.Array) -> np.ndarray:
    return np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _type_timestamp(column: Column, raw: pa.Array, typing: _Typing):
    rejections, settings, notes = typing.rejections, typing.settings, typing.notes
    parsed = pc.strptime(raw, format=LOCAL_TIME_FORMAT, unit="s", error_is_null=True)
    # strptime rolls impossible dates over (30 February -> 1 March) and accepts unpadded fields:
    # only a value that prints back exactly as it was written is a valid date-time. Arrow's cast
    # of a timestamp to text prints LOCAL_TIME_FORMAT, 30 times faster than strftime
    # (tests/unit/test_extract.py holds the two to the same answers).
    round_trip = parsed.cast(pa.string())
    parsed = pc.if_else(pc.fill_null(pc.equal(round_trip, raw), False), parsed, None)
    unparseable = _mask(pc.and_(pc.is_valid(raw), pc.is_null(parsed)))
    rejections.add(unparseable, column.name, lambda row: f"not a date-time of the form YYYY-MM-DD HH:MM:SS: {_quoted(raw[row].as_py())}")
    local = parsed.to_numpy(zero_copy_only=False).astype("datetime64[s]")
    policy = settings.clock_change
    converted = local_to_utc(local, settings.time_zone, ambiguous=policy.ambiguous)
    if policy.nonexistent == "quarantine":
        rejections.add(converted.nonexistent, column.name, lambda row: f"{REASON_NONEXISTENT}: {_quoted(raw[row].as_py())}")
    else:
        _note(notes, converted.nonexistent, f"{column.name}: {NOTE_NONEXISTENT_SHIFTED}")
    if policy.ambiguous == "quarantine":
        rejections.add(converted.ambiguous, column.name, lambda row: f"{REASON_AMBIGUOUS}: {_quoted(raw[row].as_py())}")
    else:
        note = NOTE_AMBIGUOUS_LATER if policy.ambiguous == "later" else NOTE_AMBIGUOUS_EARLIER
        _note(notes, converted.ambiguous, f"{column.name}: {note}")
    readable = ~np.isnat(converted.utc)
    after_cutoff = readable & (converted.utc >= typing.cutoff_utc)
    rejections.add(after_cutoff, column.name, lambda row: f"after the snapshot was taken ({typing.cutoff_text}): {_quoted(raw[row].as_py())}")
    before_epoch = readable & (converted.utc < typing.earliest_utc)
    rejections.add(before_epoch, column.name, lambda row: f"before the configured epoch {typing.earliest_text} (a placeholder date?): {_quoted(raw[row].as_py())}")
    utc = pa.array(converted.utc, type=pa.timestamp("s")).cast(pa.timestamp("us"))
    return pc.assume_timezone(utc, "UTC").cast(TIMESTAMP_TYPE)


def _note(notes: np.ndarray, mask: np.ndarray, text: str) -> None:
    for row in np.flatnonzero(mask):
        notes[row] = text if notes[row] is None else f"{notes[row]}; {text}"


def _allowed_values(column: Column, settings: Settings) -> frozenset[str] | None:
    if column.allowed is None:
        return None
    if isinstance(column.allowed, str):
        return reference_codes(column.allowed)
    return frozenset(column.allowed)


def _split_list(raw: pa.Array) -> pa.Array:
    """'a|b| c' -> ['a', 'b', 'c']; null -> []; empty elements are dropped."""
    parts = pc.split_pattern(raw.fill_null(""), LIST_SEPARATOR)
    flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
    parent = pc.list_parent_indices(parts)
    keep = pc.not_equal(flat, "")
    flat, parent = flat.filter(keep), parent.filter(keep)
    offsets = np.searchsorted(parent.to_numpy(), np.arange(len(raw) + 1))
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), flat)


def _check_identifiers(column: Column, raw: pa.Array, rejections: _Rejections) -> None:
    """References and lists of them: one line of printable text, of a plausible length."""
    control = _mask(pc.match_substring_regex(raw, CONTROL_CHARACTER))
    rejections.add(control, column.name, lambda row: f"holds a line break or control character: {_quoted(raw[row].as_py())}")
    too_long = _mask(pc.greater(pc.utf8_length(raw), MAX_IDENTIFIER_FIELD_CHARS))
    rejections.add(too_long, column.name, lambda row: f"longer than {MAX_IDENTIFIER_FIELD_CHARS} characters: {_quoted(raw[row].as_py())}")


def _type_column(column: Column, raw: pa.Array, typing: _Typing) -> pa.Array:
    rejections, settings = typing.rejections, typing.settings
    if column.kind in ("text", "list"):
        _check_identifiers(column, raw, rejections)
    if column.required:
        rejections.add(_mask(pc.is_null(raw)), column.name, lambda row: "required field is empty")
    if column.name == "force_code":
        wrong_force = _mask(pc.not_equal(raw, settings.force))
        rejections.add(wrong_force, column.name, lambda row: f"record of force {_quoted(raw[row].as_py())} in the export of force {settings.force!r}")
        return raw
    kind = column.kind
    if kind == "timestamp":
        return _type_timestamp(column, raw, typing)
    if kind == "count":
        digits = pc.match_substring_regex(raw, rf"^[0-9]{{1,{MAX_VICTIM_COUNT_DIGITS}}}$")
        bad = _mask(pc.and_(pc.is_valid(raw), pc.invert(digits)))
        rejections.add(bad, column.name, lambda row: f"not a whole number from 0 to 9999: {_quoted(raw[row].as_py())}")
        return pc.if_else(pc.fill_null(digits, False), raw, None).cast(pa.int32())
    if kind == "yes_no":
        bad = _mask(pc.and_(pc.is_valid(raw), pc.invert(pc.is_in(raw, pa.array(["Y", "N"])))))
        rejections.add(bad, column.name, lambda row: f"must be Y or N, found {_quoted(raw[row].as_py())}")
        return pc.equal(raw, "Y")
    if kind in ("enum", "code"):
        allowed = _allowed_values(column, settings)
        bad = _mask(pc.and_(pc.is_valid(raw), pc.invert(pc.is_in(raw, pa.array(sorted(allowed))))))
        what = "code not in the reference list" if kind == "code" else "value not allowed by the contract"
        rejections.add(bad, column.name, lambda row: f"{what}: {_quoted(raw[row].as_py())}")
        return raw
    if kind == "list":
        lists = _split_list(raw)
        allowed = _allowed_values(column, settings)
        if allowed is not None:
            flat = pc.list_flatten(lists)
            bad_elements = pc.invert(pc.is_in(flat, pa.array(sorted(allowed))))
            bad_rows = np.zeros(len(raw), dtype=bool)
            bad_rows[pc.list_parent_indices(lists).filter(bad_elements).to_numpy()] = True
            rejections.add(bad_rows, column.name, lambda row: f"code not in the reference list in {_quoted(raw[row].as_py())}")
        return lists
    if kind == "person_id":
        return pa.array(person_keys(raw.to_pylist(), settings.pseudonym_key), type=pa.string())
    if kind == "person_id_list":
        lists = _split_list(raw)
        hashed = pa.array(person_keys(pc.list_flatten(lists).to_pylist(), settings.pseudonym_key), type=pa.string())
        return pa.ListArray.from_arrays(lists.offsets, hashed)
    return raw  # text


def _check_status_rules(contract: SourceContract, raw_columns: dict[str, pa.Array], rejections: _Rejections) -> None:
    """A field that must be filled, or may hold only some values, on rows of a given status."""
    for rule in contract.status_rules:
        on_status = _mask(pc.equal(raw_columns[rule.status_column], rule.status))
        value = raw_columns[rule.column]
        condition = f"when {rule.status_column} is {rule.status}"
        if rule.required:
            empty = on_status & _mask(pc.is_null(value))
            rejections.add(empty, rule.column, lambda row: f"required {condition}")
        if rule.allowed is not None:
            allowed = pa.array(rule.allowed, type=pa.string())
            other = on_status & _mask(pc.and_(pc.is_valid(value), pc.invert(pc.is_in(value, allowed))))
            wording = f"must be {' or '.join(rule.allowed)} or empty" if rule.allowed else "must be empty"
            wording = f"{wording} {condition}"
            rejections.add(other, rule.column, lambda row: f"{wording}, found {_quoted(value[row].as_py())}")


def _check_not_before(contract: SourceContract, raw_columns: dict[str, pa.Array], typed: dict[str, pa.Array],
                      typing: _Typing) -> None:
    """Date-times of one row in their order, compared in UTC.

    A row with a clock-change note may be up to `CLOCK_CHANGE_HOUR` out of order: its local times
    fell in a clock-change hour and were resolved by policy, not known (the raw-snapshot suite only
    warns about such rows). Any other inversion is a broken record.
    """
    noted = np.not_equal(typing.notes, None)
    for rule in contract.not_before:
        later, earlier = raw_columns[rule.column], raw_columns[rule.earliest]
        inverted = _mask(pc.less(typed[rule.column], typed[rule.earliest]))
        within_the_hour = _mask(pc.greater_equal(pc.add(typed[rule.column], CLOCK_CHANGE_HOUR), typed[rule.earliest]))
        inverted &= ~(noted & within_the_hour)
        typing.rejections.add(
            inverted, rule.column,
            lambda row: f"before {rule.earliest} ({_quoted(earlier[row].as_py())}): {_quoted(later[row].as_py())}",
        )


def _record_json(contract: SourceContract, raw_columns: dict[str, pa.Array], row: int) -> str:
    """A quarantined row's fields as read, minus personal data and raw person ids."""
    record = {
        name: _cut(raw_columns[name][row].as_py())
        for name in contract.column_names
        if name in raw_columns and not contract.column(name).is_pseudonymised
    }
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _cut(value: str | None) -> str | None:
    """A huge field is kept in the quarantine only in part (the export itself stays in landing)."""
    if value is not None and len(value) > MAX_IDENTIFIER_FIELD_CHARS:
        return f"{value[:MAX_IDENTIFIER_FIELD_CHARS]}... (cut: {len(value)} characters)"
    return value


def _resolve_duplicates(contract: SourceContract, typed: dict[str, pa.Array], lines: np.ndarray, rejections: _Rejections) -> None:
    """Unique references: exact repeats keep the first; conflicting rows keep the latest update.

    Rows with the same reference and the same latest ``updated_at`` but different content cannot
    be ordered: all of them go to quarantine rather than a guess. So do the rows of a reference
    that also has a quarantined row which is, or may be, newer: keeping an older state would
    present a stale record as the current one.
    """
    key_array = typed[contract.key]
    counts = pc.value_counts(key_array)
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1)).drop_null()
    if len(repeated) == 0:
        return  # every reference once (or empty): nothing to resolve
    keys = key_array.to_numpy(zero_copy_only=False)
    already_rejected = rejections.rejected.copy()
    groups: dict[str, list[int]] = {}
    # Only the rows of references written more than once, in file order.
    for row in np.flatnonzero(_mask(pc.is_in(key_array, value_set=repeated))):
        groups.setdefault(keys[row], []).append(int(row))
    compared = [name for name in typed if name != "source_line"]
    updated = typed["updated_at"].to_numpy(zero_copy_only=False)
    for all_rows in groups.values():
        rows = [row for row in all_rows if not already_rejected[row]]
        if len(all_rows) < 2 or not rows:
            continue
        latest = max(updated[row] for row in rows)
        maybe_newer = [row for row in all_rows if already_rejected[row] and (np.isnat(updated[row]) or updated[row] >= latest)]
        if maybe_newer:
            listed = ", ".join(str(lines[row]) for row in maybe_newer)
            mask = np.zeros(len(keys), dtype=bool)
            mask[rows] = True
            rejections.add(mask, contract.key, lambda row: f"the same reference is quarantined on line {listed}, which may hold the record's latest state")
            continue
        if len(rows) < 2:
            continue

        def content(row: int) -> tuple:
            return tuple(str(typed[name][row].as_py()) for name in compared)
        newest = [row for row in rows if updated[row] == latest]
        distinct_newest = {content(row) for row in newest}
        if len(distinct_newest) > 1:
            listed = ", ".join(str(lines[row]) for row in newest)
            mask = np.zeros(len(keys), dtype=bool)
            mask[rows] = True
            rejections.add(mask, contract.key, lambda row: f"conflicting rows for the same reference (lines {listed}), none can be preferred")
            continue
        keep = newest[0]
        for row in rows:
            if row == keep:
                continue
            mask = np.zeros(len(keys), dtype=bool)
            mask[row] = True
            if content(row) == content(keep):
                rejections.add(mask, contract.key, lambda r: f"exact duplicate of line {lines[keep]}")
            else:
                rejections.add(mask, contract.key, lambda r: f"superseded by line {lines[keep]} (same reference, later update)")


def type_export(
    export: RawExport, contract: SourceContract, settings: Settings, snapshot_date: dt.date
) -> tuple[pa.Table, pa.Table]:
    """Typed accepted rows and quarantined rows of one export (nothing written)."""
    row_count = len(export.source_lines)
    raw_columns = {
        name: values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
        for name, values in export.columns.items()
    }
    typing = _typing_for(settings, snapshot_date, row_count)
    rejections, notes = typing.rejections, typing.notes
    typed: dict[str, pa.Array] = {}
    for column in contract.columns:
        if column.is_personal:
            continue
        typed[column.name] = _type_column(column, raw_columns[column.name], typing)
    # Rules between fields, before duplicates are resolved: a row breaking one may be a record's
    # newest state, which must then not be read from an older row.
    _check_status_rules(contract, raw_columns, rejections)
    _check_not_before(contract, raw_columns, typed, typing)
    lines = np.asarray(export.source_lines, dtype=np.int64)
    _resolve_duplicates(contract, typed, lines, rejections)

    accepted = ~rejections.rejected
    accepted_mask = pa.array(accepted)
    fields = {contract.column(name).lake_name: array.filter(accepted_mask) for name, array in typed.items()}
    fields["source_line"] = pa.array(lines[accepted])
    fields["clock_change_note"] = pa.array(notes[accepted], type=pa.string())
    accepted_table = pa.table(fields)

    rejected_rows = np.flatnonzero(rejections.rejected)
    key_values = raw_columns[contract.key]
    quarantine = {
        "source_line": [int(lines[row]) for row in rejected_rows] + [bad.line for bad in export.malformed],
        "reference": [key_values[row].as_py() for row in rejected_rows] + [bad.reference for bad in export.malformed],
        "reason": [rejections.reasons[row] for row in rejected_rows] + [bad.reason for bad in export.malformed],
        "record_json": [_record_json(contract, raw_columns, row) for row in rejected_rows] + [None] * len(export.malformed),
    }
    return accepted_table, pa.table(quarantine, schema=QUARANTINE_SCHEMA)


def refuse_another_forces_export(export: RawExport, settings: Settings) -> None:
    """A file in which no record is the force's own is misfiled, not a day without crime."""
    force_codes = export.columns["force_code"]
    if isinstance(force_codes, pa.Array):
        force_codes = force_codes.to_pylist()
    named = {value for value in force_codes if value is not None}
    if export.source_lines and named and settings.force not in named:
        others = ", ".join(_quoted(value) for value in sorted(named)[:3])
        raise ExportFormatError(
            export.path, export.source_lines[0],
            f"no record belongs to force {settings.force!r} (the records name {others}): another force's export?",
            "force_code",
        )


def _column_map(settings: Settings, source: str):
    """The force's vendor layout of this source, if its settings name a column map that covers it."""
    if settings.source.column_map is None:
        return None
    from pipelines.sources.column_map import load_column_map

    column_map = load_column_map(settings.source.column_map)
    return column_map if source in column_map.sources else None


def export_path(settings: Settings, source: str, snapshot_date: dt.date) -> Path:
    return settings.landing_dir / settings.force / SOURCES[source].file_name(snapshot_date.isoformat())


def extract_source(settings: Settings, source: str, snapshot_date: dt.date, *,
                   database_url: str | None = None) -> ExtractResult:
    """Extract one source for one snapshot date into the lake; return what was written.

    ``settings.source.kind`` chooses where from: ``csv`` (the export in the landing folder) or
    ``database`` (a table or view, see `pipelines.sources.sql_source`; the URL is
    ``database_url`` when given, as Airflow passes a connection's, else the environment variable
    the settings name).
    """
    if settings.pseudonym_key is None:
        raise ValueError("extraction needs the pseudonymisation key; these settings were loaded without one")
    if settings.source.kind == "database":
        from pipelines.sources.sql_source import extract_from_database  # SQLAlchemy only when used

        return extract_from_database(settings, source, snapshot_date, url=database_url)
    return extract_csv_export(
        settings, source, snapshot_date,
        export_file=export_path(settings, source, snapshot_date),
        raw_file=lake.raw_path(settings.lake_dir, source, settings.force, snapshot_date),
        quarantine_file=lake.quarantine_path(settings.lake_dir, source, settings.force, snapshot_date),
        manifest_file=lake.manifest_path(settings.lake_dir, "extract", source, settings.force, snapshot_date),
    )


def extract_period_export(settings: Settings, source: str, first: dt.date, last: dt.date, export_file: Path,
                          export_date: dt.date) -> ExtractResult:
    """Extract a period export (one file per source covering a whole period, in its state at
    ``export_date``'s cut-off) into the lake's partition for the period ``first`` to ``last``,
    with the same typing, quarantine and pseudonymisation as a daily export."""
    if settings.pseudonym_key is None:
        raise ValueError("extraction needs the pseudonymisation key; these settings were loaded without one")
    return extract_csv_export(
        settings, source, export_date,
        export_file=export_file,
        raw_file=lake.period_raw_path(settings.lake_dir, source, settings.force, first, last),
        quarantine_file=lake.period_quarantine_path(settings.lake_dir, source, settings.force, first, last),
        manifest_file=lake.period_manifest_path(settings.lake_dir, "extract", source, settings.force, first, last),
    )


def extract_csv_export(settings: Settings, source: str, snapshot_date: dt.date, *, export_file: Path,
                       raw_file: Path, quarantine_file: Path, manifest_file: Path) -> ExtractResult:
    """Read, type and pseudonymise one CSV export taken at ``snapshot_date``'s cut-off; write its
    accepted rows, its quarantined rows (with their reasons) and its manifest where told."""
    contract = SOURCES[source]
    path = export_file
    column_map = _column_map(settings, source)
    if column_map is None:
        export = read_export(path, contract)
    else:
        from pipelines.sources.column_map import apply_column_map, header_reader

        export = apply_column_map(read_export(path, contract, header_reader(contract, column_map)), contract, column_map)
    refuse_another_forces_export(export, settings)
    accepted, quarantined = type_export(export, contract, settings, snapshot_date)
    if export.rows_in != accepted.num_rows + quarantined.num_rows:
        raise AssertionError(
            f"{path}: {export.rows_in} rows in but {accepted.num_rows} accepted + {quarantined.num_rows} quarantined"
        )
    # The order of the writes is what a crash between two of them leaves behind. The quarantine
    # goes first: the rejected rows are then never lost (at worst they sit beside the previous raw
    # partition until the rerun). The raw partition next, the manifest last: a manifest always
    # describes partitions already in place, and a stale one shows the run did not finish.
    quarantine_file = lake.write_parquet(quarantined, quarantine_file)
    raw_file = lake.write_parquet(accepted, raw_file)
    result = ExtractResult(
        source=source,
        force=settings.force,
        snapshot_date=snapshot_date.isoformat(),
        export_file=str(path),
        encoding=export.encoding,
        rows_in=export.rows_in,
        rows_accepted=accepted.num_rows,
        rows_quarantined=quarantined.num_rows,
        clock_change_notes=int(pc.sum(pc.is_valid(accepted["clock_change_note"])).as_py() or 0),
        extra_columns=export.extra_columns,
        missing_optional_columns=export.missing_optional_columns,
        raw_partition=str(raw_file),
        quarantine_partition=str(quarantine_file),
    )
    lake.write_json(result.to_dict(), manifest_file)
    log.info(
        "extracted %s for %s %s: %d rows in, %d accepted, %d quarantined",
        source, settings.force, snapshot_date, result.rows_in, result.rows_accepted, result.rows_quarantined,
    )
    return result
