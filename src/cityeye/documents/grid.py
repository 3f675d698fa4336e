"""Tables read back: the rows of an xlsx sheet or a CSV file as lists of cell texts,
each with the row number a person sees (the sheet's row, the CSV's line).

One reader for every import that takes a spreadsheet (the 督办表 of
:mod:`cityeye.tasks.table`, the enterprise registry of :mod:`cityeye.enterprises`), so
they accept the same files — UTF-8 or GB18030 CSV as 表格 programs save it, the first
sheet of an xlsx — and say where a bad row is the same way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from cityeye.errors import Problem, ProblemsError


class GridError(ProblemsError):
    """A file that cannot be read as a table at all (its encoding, its format)."""


def decode(data: bytes, name: str) -> str:
    """A CSV or text file's text: UTF-8 (with or without a BOM) or GB18030."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise GridError(name, [Problem("file", "is neither UTF-8 nor GB18030 text")])


def csv_rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each record with the line it starts on (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text))
    start = 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The first sheet's rows with their row numbers, every cell as text."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, ["" if v is None else str(v) for v in values]
    finally:
        book.close()


def grid_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The rows of ``path``: an ``.xlsx`` sheet, else CSV text."""
    if path.suffix.lower() == ".xlsx":
        return xlsx_rows(path)
    return csv_rows(decode(path.read_bytes(), path.name))
