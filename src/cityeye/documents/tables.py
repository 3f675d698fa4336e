"""Tables on paper: the one place a table becomes an xlsx sheet or a PDF page.

The monthly report (:mod:`cityeye.report`) and the exports of a case list or a KPI
table (``/api/v1/cases/export``, ``/api/v1/kpis/breakdown/export``) write their tables
through here, so every PDF embeds the same font (:mod:`cityeye.documents.font`), lays
its tables out the same way, and every cell reads the same in both formats: a rate as
a percentage, hours as hours, nothing as "—".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo

from cityeye.documents.font import pdf_font

#: How a column's cells read: ``auto``: a float is a rate (``12.5%``), anything else as
#: it is; ``hours``: a number of hours (``3,208.0``, never a percentage); ``points``: a
#: score to two decimals at most (``35.56``, ``59``, never ``59.0`` nor a percentage);
#: ``text``.
Kind = Literal["auto", "hours", "points", "text"]
Target = Path | IO[bytes]


#: How a moment shows in a spreadsheet cell (the cell keeps a date, so it sorts).
CELL_TIME = "yyyy-mm-dd hh:mm"


def local_datetime(value: datetime | None, timezone: str) -> datetime | None:
    """A moment as the district's naive wall-clock time, for a spreadsheet cell that
    sorts and filters as a date (openpyxl takes no time zone); never UTC."""
    return None if value is None else value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def local_time(value: datetime | None, timezone: str) -> str | None:
    """A moment as the district reads it (``2026-10-01 11:00``, its local time), not
    a UTC ISO string; ``None`` stays ``None`` (printed "—")."""
    if value is None:
        return None
    return f"{value.astimezone(ZoneInfo(timezone)):%Y-%m-%d %H:%M}"


def cell_text(value: Any, kind: Kind = "auto") -> str:
    """A cell as the PDF prints it."""
    if value is None:
        return "—"
    if kind == "hours" and isinstance(value, int | float):
        return f"{value:,.1f}"
    if kind == "points" and isinstance(value, int | float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value else "0"
    if kind == "auto" and isinstance(value, float):
        return f"{value:.1%}"
    return str(value)


@dataclass(slots=True)
class Sheet:
    """A titled table: what one export is, and one sheet of its xlsx.

    ``notes`` are the lines under the title (the filters, when it was made, whether
    the rows were cut short); ``kinds`` says how each column reads (default ``auto``).
    """

    title: str
    header: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    kinds: dict[int, Kind] = field(default_factory=dict)
    name: str = "数据 Data"

    def texts(self) -> Iterable[str]:
        """Every string the PDF will draw (to choose the font's glyphs)."""
        yield self.title
        yield from self.notes
        yield from self.header
        for row in self.rows:
            for i, value in enumerate(row):
                yield cell_text(value, self.kinds.get(i, "auto"))


# ------------------------------------------------------------------------------ xlsx


def xlsx_rows(
    sheet: Any,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    kinds: dict[int, Kind] | None = None,
) -> None:
    """Append a header (bold) and ``rows`` to an openpyxl worksheet, the columns as
    wide as their text; a rate keeps its value (0.5) shown as 50.0%, hours as hours
    (``#,##0.0``). ``kinds`` as :class:`Sheet`."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    def clean(value: Any) -> Any:
        # a control character (in words someone typed or searched for) is no cell's text
        return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value

    kinds = kinds or {}
    sheet.append(list(header))
    top = sheet.max_row
    bold = Font(bold=True)
    widths = [_width(str(h)) for h in header]
    for column in range(1, len(header) + 1):
        sheet.cell(row=top, column=column).font = bold
    row_number = top
    for row in rows:
        sheet.append([clean(v) for v in row])
        row_number += 1
        for i, value in enumerate(row):
            kind = kinds.get(i, "auto")
            if isinstance(value, float) and kind in ("auto", "hours"):
                fmt = "#,##0.0" if kind == "hours" else "0.0%"
                sheet.cell(row=row_number, column=i + 1).number_format = fmt
            elif isinstance(value, datetime):
                sheet.cell(row=row_number, column=i + 1).number_format = CELL_TIME
            if i < len(widths) and isinstance(value, str):
                widths[i] = max(widths[i], min(60, _width(value)))
    for i, width in enumerate(widths, start=1):
        letter = get_column_letter(i)
        current = sheet.column_dimensions[letter].width or 0
        sheet.column_dimensions[letter].width = max(current, width + 2)


def _width(text: str) -> int:
    """Columns ``text`` takes in a fixed-width sense: a CJK character two, others one."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def wrapped(text: str, width: int = 34) -> str:
    """``text`` broken into lines of at most ``width`` columns (:func:`_width`), so a
    long title wraps inside its cell instead of pushing the table off the page."""
    lines = []
    for part in text.split("\n"):
        line, used = "", 0
        for ch in part:
            w = 2 if ord(ch) > 0x2E7F else 1
            if used + w > width and line:
                lines.append(line)
                line, used = "", 0
            line, used = line + ch, used + w
        lines.append(line)
    return "\n".join(lines)


def write_xlsx(sheet: Sheet, out: Target) -> None:
    """The table as a workbook: the title and notes on top, then the header and rows."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = sheet.name[:31]
    ws.append([ILLEGAL_CHARACTERS_RE.sub("", sheet.title)])
    ws["A1"].font = Font(bold=True, size=14)
    for note in sheet.notes:
        ws.append([note])
    ws.append([])
    xlsx_rows(ws, sheet.header, sheet.rows, kinds=sheet.kinds)
    ws.freeze_panes = ws.cell(row=len(sheet.notes) + 4, column=1)
    book.save(out)


# ------------------------------------------------------------------------------- PDF


@dataclass(slots=True)
class Pdf:
    """What a PDF is set with: the embedded font (covering ``texts``), the styles, and
    the table layout, shared by every PDF cityeye writes."""

    font: str
    styles: dict[str, Any]

    @classmethod
    def covering(cls, texts: Iterable[str]) -> Pdf:
        from reportlab.lib.styles import ParagraphStyle

        font = pdf_font(texts)
        return cls(
            font,
            {
                "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22),
                "heading": ParagraphStyle(
                    "h", fontName=font, fontSize=12, leading=16, spaceBefore=8
                ),
                "body": ParagraphStyle("b", fontName=font, fontSize=8.5, leading=11),
            },
        )

    def para(self, text: str, style: str = "body") -> Any:
        from xml.sax.saxutils import escape

        from reportlab.platypus import Paragraph

        return Paragraph(escape(text), self.styles[style])

    def table(self, rows: Sequence[Sequence[Any]], kinds: dict[int, Kind] | None = None) -> Any:
        """``rows`` (header first) as a grid that repeats its header on every page.

        The cells are plain strings (long ones wrapped, :func:`wrapped`), not
        paragraphs: a table of 10,000 rows then takes seconds, not minutes."""
        from reportlab.lib import colors
        from reportlab.platypus import Table, TableStyle

        kinds = kinds or {}
        cells = [
            [
                wrapped(cell_text(v, kinds.get(i, "auto") if r else "text"))
                for i, v in enumerate(row)
            ]
            for r, row in enumerate(rows)
        ]
        out = Table(cells, repeatRows=1, hAlign="LEFT")
        out.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), self.font),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("LEADING", (0, 0), (-1, -1), 10),
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        return out

    def build(self, story: list[Any], out: Target, *, title: str, landscape: bool = False) -> None:
        """Write ``story`` as an A4 PDF. ``invariant``: the same document, the same bytes."""
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.pagesizes import landscape as turned
        from reportlab.lib.units import mm
        from reportlab.platypus import SimpleDocTemplate

        doc = SimpleDocTemplate(
            out if not isinstance(out, Path) else str(out),
            pagesize=turned(A4) if landscape else A4,
            title=title,
            author="cityeye",
            leftMargin=12 * mm,
            rightMargin=12 * mm,
            topMargin=12 * mm,
            bottomMargin=12 * mm,
            invariant=1,
            # the canvas starts in our font, not Helvetica: a font named and not
            # embedded is the one a reader without it cannot draw
            initialFontName=self.font,
        )
        doc.build(story)


def write_pdf(sheet: Sheet, out: Target) -> None:
    """The table as a landscape A4 PDF: the title, the notes, then the table."""
    pdf = Pdf.covering(sheet.texts())
    story = [pdf.para(sheet.title, "title")]
    story += [pdf.para(note) for note in sheet.notes]
    story.append(pdf.table([sheet.header, *sheet.rows], sheet.kinds))
    pdf.build(story, out, title=sheet.title, landscape=True)
