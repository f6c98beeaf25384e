"""CSV tables with row-level errors, shared by the dispatcher's input readers.

Reads a file in UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark,
or Windows-1252 (with a warning); sniffs the delimiter (``,``, ``;``, tab or ``|``) from the
header; matches header names case-insensitively with aliases; and turns each bad cell into
a :class:`~evfleet.day.RowError` naming the file, line and column, keeping every good row.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Generic, TypeVar

from evfleet.day import INF, InputErrors, RowError, parse_clock

__all__ = [
    "Column",
    "CsvRecord",
    "CsvResult",
    "CsvTable",
    "did_you_mean",
    "normalise_header",
    "read_table",
]

T = TypeVar("T")

DELIMITERS = (",", ";", "\t", "|")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_TRUE = {"yes", "y", "true", "t", "1", "ja", "oui", "si", "sí"}
_FALSE = {"no", "n", "false", "f", "0", "nein", "non"}


@dataclass(frozen=True)
class Column:
    """A column a reader knows: its canonical name, whether it is required, its aliases."""

    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class CsvResult(Generic[T]):
    """What a CSV reader found: the good ``rows``, every bad row in ``errors``.

    ``warnings`` holds problems that lose nothing important (an unknown column, a guessed
    encoding); ``delimiter`` is the one sniffed from the header.
    """

    path: str
    rows: tuple[T, ...]
    errors: tuple[RowError, ...] = ()
    warnings: tuple[RowError, ...] = ()
    delimiter: str = ","

    @property
    def ok(self) -> bool:
        """Whether the file had no errors (warnings allowed)."""
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raises :class:`~evfleet.day.InputErrors` listing every error, if there are any."""
        if self.errors:
            raise InputErrors(self.path, self.errors)


def normalise_header(name: str) -> str:
    """``" Weight (kg) "`` -> ``"weight_kg"``: lower case, punctuation runs to ``_``."""
    return re.sub(r"[^0-9a-z]+", "_", name.replace("\ufeff", "").strip().lower()).strip("_")


def did_you_mean(name: str, candidates: Sequence[str]) -> str:
    """``did you mean "x"?`` for the closest candidate, or an empty string."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f'did you mean "{close[0]}"?' if close else ""


def _decode(data: bytes, where: str, warnings: list[RowError]) -> str:
    if data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif data[1:200:2].count(0) > 40 or data[0:200:2].count(0) > 40:  # UTF-16 without a BOM
        encoding = "utf-16-le" if data[1:200:2].count(0) > 40 else "utf-16-be"
        warnings.append(
            RowError(where, None, None, None, f"no byte-order mark; read as {encoding.upper()}")
        )
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding != "utf-8":
            line = data[: exc.start].count(b"\n") + 1
            raise InputErrors(
                where, [RowError(where, line, None, None, f"not valid {encoding.upper()} text")]
            ) from exc
        line = data[: exc.start].count(b"\n") + 1
        warnings.append(
            RowError(
                where,
                line,
                None,
                None,
                "not valid UTF-8 text; read as Windows-1252 (save the file as UTF-8 to be sure "
                "that accented letters are right)",
            )
        )
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def _sniff_delimiter(header: str) -> str:
    """The candidate delimiter that occurs most often outside quotes in the header line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # first wins ties: "," before ";"
    return best if counts[best] else ","


class CsvRecord:
    """One data row of a :class:`CsvTable`, with typed accessors that record errors.

    Each accessor returns the value (or the default when the column is absent or the cell
    empty); on a bad value it records a :class:`RowError` in ``errors`` and returns a
    placeholder. A row with any error is not kept.
    """

    def __init__(self, table: CsvTable, line: int, cells: list[str]) -> None:
        self.table = table
        self.line = line
        self.cells = cells
        self.errors: list[RowError] = []

    def raw(self, column: str) -> str | None:
        """The stripped cell text, or ``None`` when the file has no such column."""
        index = self.table.columns.get(column)
        if index is None:
            return None
        return self.cells[index].strip(" \t\u00a0") if index < len(self.cells) else ""

    def error(self, column: str | None, value: str | None, reason: str, hint: str = "") -> None:
        """Records a problem with this row."""
        self.errors.append(RowError(self.table.path, self.line, column, value, reason, hint))

    def text(self, column: str, *, required: bool = False, default: str = "") -> str:
        """The cell as text; empty on a required column is an error."""
        value = self.raw(column)
        if not value:
            if required:
                self.error(column, None, "a value is required")
            return default
        return value

    def number(
        self,
        column: str,
        *,
        default: float | None = None,
        minimum: float = -INF,
        maximum: float = INF,
        exclusive_minimum: bool = False,
        integer: bool = False,
    ) -> float:
        """The cell as a finite number within the bounds; ``default=None`` means required."""
        value = self.raw(column)
        if not value:
            if default is None:
                self.error(column, None, "a value is required")
                return math.nan
            return default
        expected = _expected_number(minimum, maximum, exclusive_minimum, integer)
        text = value
        if self.table.decimal_comma and _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        if not _NUMBER.match(text):
            hint = ""
            if _DECIMAL_COMMA.match(value):
                hint = f"use a decimal point: {value.replace(',', '.')}"
            self.error(column, value, f"expected {expected}", hint)
            return math.nan
        number = float(text)
        too_low = number <= minimum if exclusive_minimum else number < minimum
        if (
            not math.isfinite(number)
            or too_low
            or number > maximum
            or (integer and not number.is_integer())
        ):
            self.error(column, value, f"expected {expected}")
            return math.nan
        return number

    def integer(self, column: str, *, default: int | None = None, minimum: int = 0) -> int:
        """The cell as a whole number ``>= minimum``; ``default=None`` means required."""
        number = self.number(
            column,
            default=None if default is None else float(default),
            minimum=float(minimum),
            integer=True,
        )
        return int(number) if math.isfinite(number) else -1

    def clock(self, column: str) -> float | None:
        """The cell as seconds since midnight (``HH:MM``); ``None`` when empty."""
        value = self.raw(column)
        if not value:
            return None
        try:
            return parse_clock(value)
        except ValueError as exc:
            self.error(column, value, str(exc))
            return None

    def boolean(self, column: str, *, default: bool) -> bool:
        """The cell as yes/no (also true/false, 1/0)."""
        value = self.raw(column)
        if not value:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        self.error(column, value, "expected yes or no")
        return default


def _expected_number(minimum: float, maximum: float, exclusive: bool, integer: bool) -> str:
    kind = "a whole number" if integer else "a number"
    low, high = f"{minimum:g}", f"{maximum:g}"
    if math.isfinite(minimum) and math.isfinite(maximum):
        return f"{kind} between {low} and {high}"
    if math.isfinite(minimum):
        return f"{kind} {'>' if exclusive else '>='} {low}"
    if math.isfinite(maximum):
        return f"{kind} <= {high}"
    return kind


@dataclass
class CsvTable:
    """A CSV file split into records, its header resolved against the known columns.

    ``columns`` maps each canonical column name the file has to its index. ``errors`` and
    ``warnings`` hold the file-level problems (missing columns, unknown columns, encoding).
    """

    path: str
    delimiter: str
    decimal_comma: bool
    header_line: int = 0
    columns: dict[str, int] = field(default_factory=dict)
    records: list[CsvRecord] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)


def read_table(
    path: str | PathLike[str],
    known: Sequence[Column],
    *,
    what: str,
    decimal_comma: bool | None = None,
) -> CsvTable:
    """Reads ``path`` into records (raw text cells) against the ``known`` columns.

    ``what`` names the content in messages ("orders"). ``decimal_comma``: ``None`` accepts
    ``48,85`` when the delimiter is not a comma. A file that cannot be read raises
    :class:`~evfleet.errors.InputError`; everything else is recorded in the table.
    """
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputErrors(
            where, [RowError(where, None, None, None, f"cannot read file: {exc.strerror or exc}")]
        ) from exc
    warnings: list[RowError] = []
    text = _decode(data, where, warnings)
    lines = text.splitlines()
    header_index = next((k for k, line in enumerate(lines) if line.strip()), None)
    names = ", ".join(c.name for c in known)
    if header_index is None:
        table = CsvTable(where, ",", bool(decimal_comma), warnings=warnings)
        table.errors.append(
            RowError(where, None, None, None, f"empty file: expected a header row ({names})")
        )
        return table
    delimiter = _sniff_delimiter(lines[header_index])
    use_comma = delimiter != "," if decimal_comma is None else decimal_comma
    table = CsvTable(where, delimiter, use_comma, warnings=warnings)

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_end = 0
    header: list[str] | None = None
    unnamed_with_values: set[int] = set()
    unnamed: set[int] = set()
    while True:
        start = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the reader skips the rest of the bad line and goes on
            previous_end = reader.line_num
            reason = f"cannot split the row into values ({exc})"
            hint = 'a quote inside a value must be doubled: "say ""hi"""'
            if "end of data" in str(exc):
                reason = "a quote opened in this row is never closed"
                hint = f"lines {start} to {previous_end} were read as one value"
            if header is None:
                table.errors.append(RowError(where, start, None, None, reason, hint))
                return table
            record = CsvRecord(table, start, [])
            record.error(None, None, reason, hint)
            table.records.append(record)
            continue
        previous_end = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = cells
            table.header_line = start
            _resolve_header(table, header, known, what)
            if table.errors:
                return table
            unnamed = {k for k, name in enumerate(header) if not normalise_header(name)}
            continue
        if len(cells) > len(header):
            hint = ""
            if delimiter == ",":
                hint = "a decimal comma, or a comma in a value that is not quoted?"
            table.records.append(_bad_width(table, start, cells, header, hint))
            continue
        if len(cells) < len(header):
            table.records.append(_bad_width(table, start, cells, header, ""))
            continue
        unnamed_with_values.update(k for k in unnamed if cells[k].strip())
        table.records.append(CsvRecord(table, start, cells[: len(header)]))
    if header is None:  # only whitespace rows
        table.errors.append(
            RowError(where, None, None, None, f"empty file: expected a header row ({names})")
        )
    for k in sorted(unnamed_with_values):
        table.warnings.append(
            RowError(
                where,
                table.header_line,
                None,
                None,
                f"column {k + 1} has no header name; its values are ignored",
            )
        )
    return table


def _bad_width(
    table: CsvTable, line: int, cells: list[str], header: list[str], hint: str
) -> CsvRecord:
    record = CsvRecord(table, line, cells)
    record.error(
        None,
        None,
        f"the row has {len(cells)} values but the header has {len(header)} columns",
        hint,
    )
    return record


def _resolve_header(table: CsvTable, header: list[str], known: Sequence[Column], what: str) -> None:
    canonical: dict[str, str] = {}
    for column in known:
        canonical[column.name] = column.name
        for alias in column.aliases:
            canonical[alias] = column.name
    unknown: list[tuple[int, str]] = []
    for index, raw_name in enumerate(header):
        name = normalise_header(raw_name)
        if not name:
            continue
        target = canonical.get(name)
        if target is None:
            unknown.append((index, raw_name.strip()))
            continue
        if target in table.columns:
            first = header[table.columns[target]].strip()
            table.errors.append(
                RowError(
                    table.path,
                    table.header_line,
                    raw_name.strip(),
                    None,
                    f'column given twice (as "{first}" in column {table.columns[target] + 1} '
                    f"and again in column {index + 1})",
                )
            )
            continue
        table.columns[target] = index
    known_names = [c.name for c in known]
    missing = [c.name for c in known if c.required and c.name not in table.columns]
    if missing:
        hints = []
        for _, raw_name in unknown:
            close = difflib.get_close_matches(normalise_header(raw_name), missing, n=1, cutoff=0.6)
            if close:
                hints.append(f'"{raw_name}" for "{close[0]}"')
        listed = ", ".join(f'"{name}"' for name in missing)
        found = ", ".join(f'"{name.strip()}"' for name in header if name.strip())
        message = f"missing required column(s) {listed} for {what}; the header has {found}"
        hint = f"a misspelling? {', '.join(hints)}" if hints else ""
        if table.delimiter == "," and len(header) == 1:
            hint = "is the file delimited by something other than , ; tab or |?"
        table.errors.append(RowError(table.path, table.header_line, None, None, message, hint))
        return
    for _, raw_name in unknown:
        hint = did_you_mean(normalise_header(raw_name), known_names)
        table.warnings.append(
            RowError(table.path, table.header_line, raw_name, None, "unknown column, ignored", hint)
        )
