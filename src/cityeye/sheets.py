"""Rows to a spreadsheet: one sheet, a title line saying what was chosen (the filters),
a header and the rows, as ``.xlsx`` bytes (openpyxl, as the monthly report in
:mod:`cityeye.report` uses it).

Times go in as the district's local wall-clock time, typed as dates (a sheet sorts and
filters them as dates; openpyxl takes no time zone), never as UTC ISO strings: the
people who open the file read the district's clock.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["MEDIA_TYPE", "local", "xlsx_bytes"]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: How a local time shows in a cell.
TIME_FORMAT = "yyyy-mm-dd hh:mm"
#: The widest a column is made (characters): long texts wrap instead.
WIDEST = 60


def local(at: datetime | None, timezone: str) -> datetime | None:
    """``at`` (aware) as the naive wall-clock time of ``timezone``, for a cell."""
    return None if at is None else at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def xlsx_bytes(
    sheet: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> bytes:
    """A workbook of one sheet named ``sheet``: ``title`` in the first line, ``header``
    in the second (frozen, so it stays in view), then ``rows``; datetimes formatted as
    :data:`TIME_FORMAT`, columns as wide as their content up to :data:`WIDEST`."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    def text(value: Any) -> Any:
        # a control character (in words someone searched for, say) is no cell's text
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]  # Excel's limit on a sheet's name
    ws.append([text(title)])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([text(h) for h in header])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A3"
    widths = [len(h) * 2 for h in header]
    for row in rows:
        ws.append([text(v) for v in row])
        for i, value in enumerate(row):
            if i < len(widths) and value is not None:
                shown = 16 if isinstance(value, datetime) else len(str(value)) * 2
                widths[i] = max(widths[i], shown)
    for column in ws.iter_cols(min_row=3):
        for cell in column:
            if isinstance(cell.value, datetime):
                cell.number_format = TIME_FORMAT
            elif isinstance(cell.value, str) and len(cell.value) * 2 > WIDEST:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=2, column=i).column_letter].width = min(width, WIDEST) + 2
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
