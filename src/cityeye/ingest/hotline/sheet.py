"""Reading an export: a CSV or XLSX file → its header and numbered data rows.

Exports come as UTF-8 or GB18030 CSV with any common separator, or as an XLSX workbook;
this module tells them apart by content, decodes them, skips title and blank rows and
checks that every mapped column is in the header, so that a file that cannot be used
fails before anything is stored. It knows nothing of what the cells mean.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from cityeye.ingest.hotline.mapping import HotlineError, HotlineMapping
from cityeye.sourcefile import Problem

#: Largest export accepted (it is read whole: rows are sorted by time before ingest).
MAX_FILE_BYTES = 512 * 1024 * 1024


@dataclass(slots=True)
class Sheet:
    """The header and the non-blank data rows of an export, each with its row number."""

    header: list[str]
    rows: list[tuple[int, list[object]]]
    blank: int = 0
    #: Rows the reader could not split (a CSV cell over the size limit): row → reason.
    broken: dict[int, str] = field(default_factory=dict)


def _header_key(value: object) -> str:
    """How headers are compared: NFKC (full-width brackets and letters), no spaces."""
    text = unicodedata.normalize("NFKC", cell_text(value)).replace("\ufeff", "")
    return "".join(text.split())


def _is_blank(cells: Sequence[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _decode(raw: bytes, mapping: HotlineMapping, name: str) -> str:
    if mapping.encoding is not None:
        try:
            return raw.decode(mapping.encoding)
        except UnicodeDecodeError as exc:
            raise HotlineError(
                name,
                [
                    Problem(
                        "(encoding)",
                        f"is not {mapping.encoding}: byte {raw[exc.start]:#04x} at offset "
                        f"{exc.start}; fix encoding: in the mapping",
                    )
                ],
            ) from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")  # Excel's "Unicode text" export
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise HotlineError(
        name,
        [Problem("(encoding)", "is neither UTF-8 nor GB18030; set encoding: in the mapping")],
    )


@dataclass(frozen=True, slots=True)
class _BrokenRow:
    """A CSV record the reader could not split (a cell over its size limit)."""

    reason: str


def _read_csv(raw: bytes, mapping: HotlineMapping, name: str) -> Iterator[tuple[int, list[object]]]:
    text = _decode(raw, mapping, name)
    delimiter = mapping.delimiter
    if delimiter is None:
        lines = text.lstrip("\ufeff").split("\n", mapping.header_row)[: mapping.header_row]
        line = lines[mapping.header_row - 1] if len(lines) >= mapping.header_row else ""
        delimiter = max((",", "\t", ";", "|"), key=line.count) if line else ","
        if not line.count(delimiter):
            delimiter = ","
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    row = 0
    while True:
        row += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield row, [_BrokenRow(str(exc))]
            continue
        yield row, list(cells)


def _read_xlsx(path: Path, mapping: HotlineMapping) -> Iterator[tuple[int, list[object]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # data_only: a formula cell gives the value Excel showed, never the formula;
        # nothing in the file is ever evaluated
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as exc:
        raise HotlineError(
            str(path), [Problem("(file)", f"is not a readable .xlsx workbook ({exc})")]
        ) from None
    try:
        if mapping.sheet is None:
            if not book.worksheets:
                raise HotlineError(str(path), [Problem("(file)", "has no sheets")])
            sheet = book.worksheets[0]
        elif mapping.sheet in book.sheetnames:
            sheet = book[mapping.sheet]
        else:
            names = ", ".join(book.sheetnames)
            raise HotlineError(
                str(path),
                [Problem("sheet", f"no sheet {mapping.sheet!r}; the workbook has: {names}")],
            )
        for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield index, list(values)
    finally:
        book.close()


def read_sheet(path: Path, mapping: HotlineMapping) -> Sheet:
    """Read an export (CSV or XLSX, told apart by content, not by name) and check that
    every mapped column is in its header; raises :class:`HotlineError` otherwise."""
    name = str(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as stream:
            magic = stream.read(8)
    except OSError as exc:
        raise HotlineError(name, [Problem("(file)", f"cannot be read: {exc.strerror}")]) from None
    if size > MAX_FILE_BYTES:
        raise HotlineError(
            name,
            [Problem("(file)", f"is {size} bytes; at most {MAX_FILE_BYTES} (split the export)")],
        )
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise HotlineError(
            name,
            [Problem("(file)", "is an old .xls workbook; save it as .xlsx or .csv (UTF-8)")],
        )
    if magic.startswith(b"PK\x03\x04"):
        rows = _read_xlsx(path, mapping)
    else:
        rows = _read_csv(path.read_bytes(), mapping, name)
    header: list[str] | None = None
    sheet = Sheet(header=[], rows=[])
    for row, cells in rows:
        if row < mapping.header_row:
            continue
        if header is None:
            if cells and isinstance(cells[0], _BrokenRow):
                raise HotlineError(name, [Problem(f"row {row}", cells[0].reason)])
            header = [cell_text(c).replace("\ufeff", "") for c in cells]
            sheet.header = header
            continue
        if cells and isinstance(cells[0], _BrokenRow):
            sheet.rows.append((row, []))
            sheet.broken[row] = cells[0].reason
        elif _is_blank(cells):
            sheet.blank += 1
        else:
            sheet.rows.append((row, cells))
    if header is None or _is_blank(header):
        where = (
            "is empty"
            if header is None and mapping.header_row == 1
            else (f"has no header in row {mapping.header_row} (header_row)")
        )
        raise HotlineError(name, [Problem("(file)", where)])
    column_indexes(mapping, header, name)  # fail early, before anything is stored
    return sheet


def column_letter(index: int) -> str:
    """A column as a spreadsheet names it: 0 → ``A``, 26 → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_indexes(mapping: HotlineMapping, header: Sequence[str], name: str) -> dict[str, int]:
    """Role (or ``attrs.NAME``) → column index, or :class:`HotlineError` naming every
    mapped column that is missing or ambiguous."""
    positions: dict[str, list[int]] = {}
    for index, title in enumerate(header):
        positions.setdefault(_header_key(title), []).append(index)
    wanted = {**mapping.columns.roles(), **{f"attrs.{k}": v for k, v in mapping.attrs.items()}}
    found: dict[str, int] = {}
    problems: list[Problem] = []
    shown = ", ".join(repr(h) for h in header[:30] if h) + (" …" if len(header) > 30 else "")
    for role, column in wanted.items():
        hits = positions.get(_header_key(column), [])
        field_name = role if role.startswith("attrs.") else f"columns.{role}"
        if not hits:
            problems.append(
                Problem(
                    column,
                    f"column is not in the header (row {mapping.header_row}; mapped as "
                    f"{field_name}); the header has: {shown}",
                )
            )
        elif len(hits) > 1:
            letters = ", ".join(column_letter(i) for i in hits)
            problems.append(
                Problem(column, f"appears more than once in the header (columns {letters})")
            )
        else:
            found[role] = hits[0]
    if problems:
        raise HotlineError(name, problems)
    return found


def cell_text(value: object) -> str:
    """A cell as text: numbers without a spurious ``.0``, times in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value).strip()
