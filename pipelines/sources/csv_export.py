"""Read one canonical CSV export into columns of strings, keeping each row's line number.

This reader knows the file format (encoding, RFC 4180 quoting, header) and nothing of the lake.
A file that cannot be read as a whole raises `ExportFormatError` naming the file, the line and,
where there is one, the column. A row that cannot be split into the header's fields (a truncated
last line, a stray delimiter) is kept as a `MalformedRow` for quarantine: nothing is dropped.
A header name that differs from a contract column only in case or surrounding spaces is read as
that column (two such names for one column are refused); an optional column the header lacks is
read as empty and named in `RawExport.missing_optional_columns` (and so in the extract manifest).
Personal-data columns are dropped here, as early as possible: they never reach memory beyond this
function's loop.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.contract import FORCE_CODE_PATTERN, SourceContract

log = logging.getLogger(__name__)

UTF8_BOM = b"\xef\xbb\xbf"
# Byte-order marks of encodings the contract does not accept (Excel's "Unicode text" is UTF-16).
FOREIGN_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32",
    b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16",
}
# A multi-byte UTF-8 character: in a file that is otherwise not UTF-8, it means mixed encodings.
UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# Python's csv refuses fields over 128 KiB by default; a real export can carry long free text.
# Beyond this a field is a broken export (or an attack on memory), and the file is refused.
MAX_FIELD_BYTES = 16 * 1024 * 1024
csv.field_size_limit(MAX_FIELD_BYTES)
IGNORED_BY_MAP = "ignored:"  # the header name a column map gives a vendor column it deliberately ignores


class ExportFormatError(ValueError):
    """The export cannot be read; names file, line and column."""

    def __init__(self, path: Path, line: int | None, message: str, column: str | None = None):
        self.path, self.line, self.column = Path(path), line, column
        where = f"{path}" + (f", line {line}" if line else "") + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass
class MalformedRow:
    line: int
    reason: str
    reference: str | None  # the row's reference, when it could be read


@dataclass
class RawExport:
    path: Path
    encoding: str
    columns: dict[str, list[str | None]]  # contract column -> values ('' read as None)
    source_lines: list[int]
    malformed: list[MalformedRow] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    missing_optional_columns: list[str] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return len(self.source_lines) + len(self.malformed)


def _line_of(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1


def decode_export(path: Path, data: bytes) -> tuple[str, str]:
    """Text and encoding name: UTF-8 with or without BOM, else Windows-1252.

    Refused, naming the line: UTF-16/32 (a BOM or NUL bytes: Windows-1252 would "decode" them
    into nonsense), bytes that are neither, and a file mixing UTF-8 with Windows-1252 (decoding
    all of it as Windows-1252 would silently garble the UTF-8 text, e.g. é as Ã©).
    """
    for bom, name in FOREIGN_BOMS.items():
        if data.startswith(bom):
            raise ExportFormatError(path, 1, f"the file is {name} (byte-order mark): export it as UTF-8 or Windows-1252")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ExportFormatError(
            path, _line_of(data, nul), "contains NUL bytes: not a UTF-8 or Windows-1252 text export (UTF-16?)"
        )
    if data.startswith(UTF8_BOM):
        try:
            return data[len(UTF8_BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as error:
            raise ExportFormatError(
                path, data[: error.start].count(b"\n") + 1, "starts with a UTF-8 BOM but is not valid UTF-8"
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        not_utf8_at = error.start
    # Mixed encodings are looked for before decoding as Windows-1252: a UTF-8 character may hold a
    # byte Windows-1252 leaves undefined (0x81 of 'Á'), and that error would point at the UTF-8
    # text, far from the byte that is actually wrong.
    utf8 = UTF8_MULTIBYTE.search(data)
    if utf8 is not None:
        raise ExportFormatError(
            path,
            _line_of(data, not_utf8_at),
            f"mixes encodings: byte 0x{data[not_utf8_at]:02x} here is not UTF-8, but line "
            f"{_line_of(data, utf8.start())} holds UTF-8 text; re-export the file in one encoding",
        )
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as error:
        raise ExportFormatError(
            path, _line_of(data, error.start), f"byte 0x{data[error.start]:02x} is neither UTF-8 nor Windows-1252 text"
        ) from None


def _reference_of_malformed(row: list[str], key_position: int, force_position: int) -> str | None:
    """The reference of a row with the wrong number of fields, if its fields are still aligned.

    An unquoted line break (in an address, say) splits a record in two, and the second part's
    fields are shifted: its "reference" would be a piece of personal text. A force code where the
    force code belongs shows the fields up to there are where the header says.
    """
    if len(row) <= max(key_position, force_position):
        return None
    if not re.fullmatch(FORCE_CODE_PATTERN, row[force_position].strip()):
        return None
    return row[key_position].strip() or None


def _reference_of_truncated(text: str, row_start: int, key_position: int, force_position: int) -> str | None:
    """The reference of a last row cut off inside a quoted field, if its fields are still aligned.

    The reader gives nothing of such a row; closing the open quote lets its start be read.
    """
    buffer = io.StringIO(text, newline="")  # lines broken as the reader broke them (CR, LF, CR LF)
    for _ in range(row_start - 1):
        buffer.readline()
    try:
        row = next(csv.reader(io.StringIO(buffer.read() + '"', newline="")), [])
    except csv.Error:
        return None
    return _reference_of_malformed(row, key_position, force_position)


def _header_in_contract_names(path: Path, header: list[str], contract: SourceContract) -> list[str]:
    """The header with each name that differs from a contract column only in case (``Closing_Code``)
    read as that column; several names for one column are refused (which holds the data?)."""
    by_folded = {name.casefold(): name for name in contract.column_names}
    canonical = [name if name in contract.column_names else by_folded.get(name.casefold(), name) for name in header]
    for column in contract.column_names:
        spellings = [written for written, name in zip(header, canonical) if name == column]
        if len(spellings) > 1 and len(set(spellings)) > 1:
            listed = ", ".join(repr(spelling) for spelling in spellings)
            raise ExportFormatError(path, 1, f"column appears more than once in the header (as {listed})", column)
    renamed = [f"{written!r} as {name!r}" for written, name in zip(header, canonical) if written != name]
    if renamed:
        log.warning("%s: reading header names that differ from the contract only in case: %s", path, ", ".join(renamed))
    return canonical


def read_export(path: Path, contract: SourceContract,
                canonical_header: Callable[[Path, list[str]], list[str]] | None = None) -> RawExport:
    """Read one export. ``canonical_header`` renames a vendor's header to the contract's names (a
    column map, `pipelines.sources.column_map`); the values are mapped after reading."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExportFormatError(path, None, f"the {contract.name} export is missing") from None
    if not data.strip():
        raise ExportFormatError(path, 1, "the file is empty: no header row")
    text, encoding = decode_export(path, data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        raise ExportFormatError(path, 1, f"header row cannot be read: {error}") from None
    if canonical_header is not None:
        header = canonical_header(path, header)
    else:
        header = _header_in_contract_names(path, header, contract)

    duplicated = sorted({name for name in header if header.count(name) > 1})
    if "" in duplicated:
        raise ExportFormatError(path, 1, "empty column name(s) in the header (trailing commas?)")
    if duplicated:
        raise ExportFormatError(path, 1, "column appears more than once in the header", duplicated[0])
    missing_required = [name for name in contract.required_columns if name not in header]
    if missing_required:
        raise ExportFormatError(path, 1, "required column is missing", missing_required[0])
    known = set(contract.column_names)
    extra = [name for name in header if name not in known and not name.startswith(IGNORED_BY_MAP)]
    if extra:
        log.warning("%s: ignoring columns not in the contract: %s", path, ", ".join(extra))

    # Positions of the columns we keep; personal data is never copied out of the row.
    kept = [
        (name, header.index(name))
        for name in contract.column_names
        if name in header and not contract.column(name).is_personal
    ]
    missing_optional = [
        name for name in contract.column_names if name not in header and not contract.column(name).is_personal
    ]
    if missing_optional:  # read as empty on every row: said once here and in the extract manifest
        log.warning("%s: optional columns missing, read as empty: %s", path, ", ".join(missing_optional))
    key_position = header.index(contract.key)
    force_position = header.index("force_code")
    width = len(header)

    values: list[list[str | None]] = [[] for _ in kept]
    source_lines: list[int] = []
    malformed: list[MalformedRow] = []
    line_after_previous = reader.line_num
    while True:
        row_start = line_after_previous + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            if "unexpected end of data" in str(error):
                reference = _reference_of_truncated(text, row_start, key_position, force_position)
                malformed.append(MalformedRow(row_start, "truncated: the file ends inside a quoted field", reference))
                break
            if "field larger than field limit" in str(error):
                raise ExportFormatError(
                    path, row_start, f"a field is longer than {MAX_FIELD_BYTES // (1024 * 1024)} MiB: not a plausible export"
                ) from None
            raise ExportFormatError(path, row_start, f"not valid CSV: {error}") from None
        line_after_previous = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line: not a record
        if len(row) != width:
            reference = _reference_of_malformed(row, key_position, force_position)
            malformed.append(
                MalformedRow(row_start, f"expected {width} fields, found {len(row)} (truncated or mis-quoted line)", reference)
            )
            continue
        source_lines.append(row_start)
        for slot, (_, position) in enumerate(kept):
            value = row[position].strip()
            values[slot].append(value or None)

    columns = {name: values[slot] for slot, (name, _) in enumerate(kept)}
    for name in missing_optional:
        columns[name] = [None] * len(source_lines)
    return RawExport(
        path=path,
        encoding=encoding,
        columns=columns,
        source_lines=source_lines,
        malformed=malformed,
        extra_columns=extra,
        missing_optional_columns=missing_optional,
    )
