"""12345 hotline import: a CSV or XLSX export of tickets → ``report.hotline`` events.

``cityeye import hotline FILE --mapping MAP.yaml`` reads a hotline export with a
mapping file that says which column holds what (columns are named by their header
text, e.g. ``工单编号``)::

    columns:
      id: 工单编号          # the ticket number → event id (required)
      time: 受理时间        # when the hotline took the call (required)
      text: 诉求内容        # what the caller said (required)
      category: 诉求类别    # mapped through categories:
      address: 事发地址
      venue: 涉事单位
      area: 所属社区        # area code or name from the world file
      lat: 纬度
      lon: 经度
      phone: 来电号码       # only a masked form is kept: 138****1234
    categories: {垃圾: garbage, 噪音: noise}

Every data row becomes an event or a :class:`Rejection` naming the row as a
spreadsheet counts it (the header is row 1, the first data row row 2), the column and
the reason; rejected rows also go to the dead letters (channel ``hotline``) and the rest
of the file goes on. Events keep the ticket number as their id under the fixed source
``hotline``, so importing the same file again finds every ticket already stored
(``duplicate``) and creates nothing.

Accepted events go through :class:`~cityeye.live.pipeline.LivePipeline` exactly as events
posted over HTTP do: stored durably, de-duplicated on ``(source, id)``, then analysed
by the scenario engine (``citizen.report`` opens an alert and a case for each). They
are fed in time order (exports are often newest first), so that the engine's reorder
window does not mistake the older half of the file for late events.

Privacy: a caller's number is never stored whole. The phone column keeps only a
masked form, and mobile, landline and ID-card numbers inside the free text are masked
the same way, in events and in dead letters alike.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rich.console import Console
from rich.table import Table

from cityeye.domain import REPORT_CATEGORIES, Event, FieldError, World, parse_event
from cityeye.domain.events import MAX_TEXT, MAX_TS, MIN_TS
from cityeye.errors import ProblemsError
from cityeye.ingest.decode import shorten
from cityeye.sourcefile import DataPath, Problem, SourceDoc, SourceError, read_source
from cityeye.store import DeadLetter

if TYPE_CHECKING:
    from cityeye.ingest.intake import Intake

#: Dead-letter channel and default event source of imported tickets.
CHANNEL = "hotline"
HOTLINE_SOURCE = "hotline"
KIND = "report.hotline"
#: Rows stored and analysed per transaction.
BATCH = 500
#: Longest free text kept (诉求内容, addresses, extra columns); longer text is cut and
#: the row is accepted with a warning.
MAX_TEXT_CHARS = 4000
#: How far ahead of now a ticket's time may be: a time in the future is a wrong clock or
#: day and month swapped, and would push the live engine's clock ahead of the world.
FUTURE_SLACK = timedelta(minutes=5)
#: Categories cityeye names (``REPORT_CATEGORIES``: those the built-in catalogue reads);
#: a cell that already holds one of them needs no table entry.
KNOWN_CATEGORIES = tuple(REPORT_CATEGORIES)
#: Attributes the importer writes itself (``attrs:`` may not reuse them).
_CORE_ATTRS = frozenset(
    {"category", "category_raw", "text", "text_truncated", "venue", "address", "phone"}
)
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
#: Separators of hierarchical categories such as ``城市管理-市容环境-垃圾清运``.
_CATEGORY_SPLIT = re.compile(r"\s*[-/>|\\·、,;]+\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")
_TIME_RE = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s*T\s*|\s+|(?<=日))(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})"
    r"(?:\s*[:：分]\s*(?P<S>\d{1,2})(?:[.,](?P<f>\d{1,9}))?\s*秒?)?\s*分?)?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
)
_ID_CARD = re.compile(r"(?<![0-9Xx])(\d{6})\d{8}(\d{3}[0-9Xx])(?![0-9Xx])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?\d{3,4}(\d{4})(?!\d)")
_PHONE_SPLIT = re.compile(r"[,;/，；、|]+")
#: Largest export accepted (it is read whole: rows are sorted by time before ingest).
MAX_FILE_BYTES = 512 * 1024 * 1024

Progress = Callable[[int, int], None]


# ---------------------------------------------------------------------- mapping
class Columns(BaseModel):
    """Which header names each piece of a ticket."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=256)
    time: str = Field(min_length=1, max_length=256)
    text: str = Field(min_length=1, max_length=256)
    category: str | None = Field(default=None, min_length=1, max_length=256)
    address: str | None = Field(default=None, min_length=1, max_length=256)
    venue: str | None = Field(default=None, min_length=1, max_length=256)
    area: str | None = Field(default=None, min_length=1, max_length=256)
    lat: str | None = Field(default=None, min_length=1, max_length=256)
    lon: str | None = Field(default=None, min_length=1, max_length=256)
    phone: str | None = Field(default=None, min_length=1, max_length=256)

    def roles(self) -> dict[str, str]:
        """Role → column header, for the columns that are mapped."""
        return {name: value for name, value in self.model_dump().items() if value is not None}


class HotlineMapping(BaseModel):
    """A validated mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    columns: Columns
    #: Hotline category (as written in the export) → cityeye category.
    categories: dict[str, str] = Field(default_factory=dict)
    #: The category of a ticket whose category is empty or not in the table.
    default_category: str = "other"
    #: Reject a row whose category is empty or not in the table instead.
    strict_categories: bool = False
    #: ``strptime`` format of the time column when it is none of the common ones.
    time_format: str | None = Field(default=None, min_length=2)
    #: XLSX: the sheet to read (default: the first).
    sheet: str | None = Field(default=None, min_length=1)
    #: The row holding the column headers (rows above it, such as a title, are skipped).
    header_row: int = Field(default=1, ge=1, le=10_000)
    #: CSV: the text encoding (default: UTF-8, with or without BOM, else GB18030).
    encoding: str | None = None
    #: CSV: the field separator (default: guessed from the header row).
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    #: Event source; the ticket number is unique within it.
    source: str = HOTLINE_SOURCE
    #: Further columns kept as attributes: attribute name → column header.
    attrs: dict[str, str] = Field(default_factory=dict)

    @field_validator("categories", mode="before")
    @classmethod
    def _text_keys(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                if not isinstance(key, str):
                    raise ValueError(
                        f"key {key!r} must be text as written in the export; quote it"
                        f" (e.g. '{key}': other)"
                    )
        return value

    @field_validator("categories")
    @classmethod
    def _category_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key, target in value.items():
            if not key.strip():
                raise ValueError("has an empty key")
            if not _CATEGORY_RE.match(target):
                raise ValueError(
                    f"{key}: {target!r} must be a lower-case name such as garbage or noise"
                )
        return value

    @field_validator("default_category")
    @classmethod
    def _category(cls, value: str) -> str:
        if not _CATEGORY_RE.match(value):
            raise ValueError(f"{value!r} must be a lower-case name such as other")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown encoding {value!r} (e.g. utf-8, gb18030)") from None
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str) -> str:
        if not _SOURCE_RE.match(value):
            raise ValueError(f"{value!r} must be a short name such as hotline or 12345")
        return value

    @field_validator("attrs")
    @classmethod
    def _attr_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name, column in value.items():
            if not _ATTR_RE.match(name):
                raise ValueError(f"{name!r} must be an attribute name such as dept")
            if name in _CORE_ATTRS:
                raise ValueError(f"{name!r} is written by the importer; choose another name")
            if not column.strip():
                raise ValueError(f"{name}: needs a column header")
        return value

    def check(self) -> list[tuple[str, str]]:
        """What the field validators cannot see alone."""
        problems: list[tuple[str, str]] = []
        c = self.columns
        if (c.lat is None) != (c.lon is None):
            missing = "columns.lat" if c.lat is None else "columns.lon"
            problems.append((missing, "lat and lon must be mapped together"))
        if self.categories and c.category is None:
            problems.append(("categories", "needs columns.category (the column to map)"))
        if self.strict_categories and c.category is None:
            problems.append(("strict_categories", "needs columns.category"))
        return problems


class HotlineError(ProblemsError):
    """A mapping file or an export cannot be used at all; ``problems`` says every reason
    (the rows of a usable file are reported one by one instead, see :class:`Rejection`).
    A :class:`~cityeye.errors.ProblemsError`: ``lines()`` renders them."""


def parse_mapping(data: object, lines: Mapping[DataPath, int] | None = None) -> HotlineMapping:
    """Validate decoded mapping data; raises :class:`HotlineError` naming every field."""
    source = "mapping"
    doc = SourceDoc(data, dict(lines or {}), source=source)
    if not isinstance(data, dict):
        raise HotlineError(
            source, [Problem("(document)", "must be a mapping with columns: (id, time, text)")]
        )
    try:
        mapping = HotlineMapping.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "is not a mapping field" + (
                    " (columns: id, time, text, category, address, venue, area, lat, lon, phone)"
                    if loc[:1] == ("columns",)
                    else ""
                )
            elif err["type"] == "string_type" and loc[:1] in (("columns",), ("attrs",)):
                message = "must be the column's header text (quote it if it is a number)"
            elif err["type"] == "missing":
                message = "is required"
            problems.append(doc.problem(loc, message))
        raise HotlineError(source, problems) from None
    problems = [doc.problem(tuple(path.split(".")), reason) for path, reason in mapping.check()]
    if problems:
        raise HotlineError(source, problems)
    return mapping


def load_mapping(path: Path) -> HotlineMapping:
    """Read and validate a YAML mapping file (``file:line: field: reason`` on error)."""
    try:
        doc = read_source(path)
    except SourceError as exc:
        raise HotlineError(str(path), exc.problems) from None
    if doc.problems:
        raise HotlineError(str(path), doc.problems)
    try:
        return parse_mapping(doc.data, doc.lines)
    except HotlineError as exc:
        raise HotlineError(str(path), exc.problems) from None


# ---------------------------------------------------------------------- reading
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
    text = unicodedata.normalize("NFKC", _cell_text(value)).replace("\ufeff", "")
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
            header = [_cell_text(c).replace("\ufeff", "") for c in cells]
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
    _column_indexes(mapping, header, name)  # fail early, before anything is stored
    return sheet


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _column_indexes(mapping: HotlineMapping, header: Sequence[str], name: str) -> dict[str, int]:
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
            letters = ", ".join(_column_letter(i) for i in hits)
            problems.append(
                Problem(column, f"appears more than once in the header (columns {letters})")
            )
        else:
            found[role] = hits[0]
    if problems:
        raise HotlineError(name, problems)
    return found


# ---------------------------------------------------------------------- cells
def _cell_text(value: object) -> str:
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


def mask_phone(value: str) -> str | None:
    """``13812341234`` → ``138****1234``; several numbers in one cell each masked. The
    full number is never returned; ``None`` when the cell holds no digits."""
    masked = []
    for part in _PHONE_SPLIT.split(value):
        digits = re.sub(r"\D", "", part)
        if len(digits) == 13 and digits.startswith("86"):
            digits = digits[2:]
        n = len(digits)
        if n == 0:
            continue
        if n >= 8:
            masked.append(digits[:3] + "*" * (n - 7) + digits[-4:])
        elif n >= 4:
            masked.append("*" * (n - 2) + digits[-2:])
        else:
            masked.append("*" * n)
    return ", ".join(masked) or None


def mask_numbers(text: str) -> str:
    """Mask ID-card, mobile and landline numbers inside free text."""
    text = _ID_CARD.sub(r"\1********\2", text)
    text = _MOBILE.sub(r"\1****\2", text)
    return _LANDLINE.sub(r"\1-****\2", text)


def _clean(text: str) -> str:
    """Free text as kept: line breaks normalised, control characters dropped."""
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()


def parse_time(
    value: object, zone: tzinfo, column: str, time_format: str | None = None
) -> datetime:
    """A ticket time from a cell: an Excel date cell, an Excel serial number, ISO 8601,
    ``2026-10-05 14:03``, ``2026/10/5 14:03:00``, ``2026年10月5日 14时03分``, or
    ``time_format``. Times without an offset are in ``zone`` (the world's)."""
    ts: datetime | None = None
    if isinstance(value, datetime):
        ts = value
    elif isinstance(value, date):
        raise FieldError(column, f"{value.isoformat()} has a date but no time of day")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        if not 1 <= value < 2958466:
            raise FieldError(column, f"{value!r} is not a date (an Excel serial number?)")
        excel = from_excel(value)
        if not isinstance(excel, datetime):
            raise FieldError(column, f"{value!r} is not a date and time")
        ts = excel
    else:
        text = _cell_text(value)
        if not text:
            raise FieldError(column, "is empty")
        example = "use e.g. 2026-10-05 14:03 or 2026-10-05T14:03:00+08:00"
        if time_format is not None:
            try:
                ts = datetime.strptime(text, time_format)
            except ValueError:
                raise FieldError(
                    column, f"{text[:40]!r} does not match time_format {time_format!r}"
                ) from None
        else:
            ts = _parse_time_text(text, column, example)
    if ts.tzinfo is None or ts.utcoffset() is None:
        ts = ts.replace(tzinfo=zone)
    if not MIN_TS <= ts < MAX_TS:
        raise FieldError(column, f"{_cell_text(value)[:40]!r} is outside 2000 .. 2100")
    return ts


def _parse_time_text(text: str, column: str, example: str) -> datetime:
    text = unicodedata.normalize("NFKC", text)
    match = _TIME_RE.match(text)
    if match is None:
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise FieldError(column, f"{text[:40]!r} is not a time; {example}") from None
    g = match.groupdict()
    if g["H"] is None:
        raise FieldError(column, f"{text[:40]!r} has a date but no time of day; {example}")
    fraction = (g["f"] or "0")[:6].ljust(6, "0")
    zone: tzinfo | None = None
    if g["tz"]:
        mark = g["tz"]
        if mark in "Zz":
            zone = UTC
        else:
            digits = mark[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + int(digits[2:4] or 0)
            if minutes >= 24 * 60:
                raise FieldError(column, f"{text[:40]!r} has an impossible UTC offset")
            zone = timezone(timedelta(minutes=-minutes if mark[0] == "-" else minutes))
    try:
        return datetime(
            int(g["y"]),
            int(g["m"]),
            int(g["d"]),
            int(g["H"]),
            int(g["M"]),
            int(g["S"] or 0),
            int(fraction),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise FieldError(column, f"{text[:40]!r} is not a real date and time ({exc})") from None


def _number(value: object, column: str, limit: float) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        text = unicodedata.normalize("NFKC", _cell_text(value))
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise FieldError(column, f"{text[:40]!r} is not a number") from None
    if number != number or abs(number) > limit:
        raise FieldError(column, f"{_cell_text(value)[:40]!r} is outside -{limit:g} .. {limit:g}")
    return number


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


# ---------------------------------------------------------------------- rows → events
@dataclass(frozen=True, slots=True)
class Rejection:
    """A row that did not become an event (or, as a warning, one changed on the way)."""

    row: int
    field: str
    reason: str
    id: str | None = None


class RowReader:
    """Turns one row of cells into a ``report.hotline`` event, or raises
    :class:`FieldError` with the column header as the field."""

    def __init__(
        self, mapping: HotlineMapping, header: Sequence[str], world: World, now: datetime
    ) -> None:
        self.mapping = mapping
        self.header = list(header)
        self.world = world
        self.zone = ZoneInfo(world.timezone)
        self.latest = now + FUTURE_SLACK
        self.at = _column_indexes(mapping, header, "(file)")
        self.cols = mapping.columns
        self.warnings: list[Rejection] = []
        self.categories = {_norm(k): v for k, v in mapping.categories.items()}
        self.canonical = {
            *KNOWN_CATEGORIES,
            *mapping.categories.values(),
            mapping.default_category,
        }
        # a world with areas checks the area column; without one (no world loaded) the
        # value is kept as given
        self.check_areas = len(world.areas) > 1
        self.area_names: dict[str, list[str]] = {}
        for area in world.areas.values():
            self.area_names.setdefault(_norm(area.name), []).append(area.code)
        self.venue_names: dict[str, list[str]] = {}
        for venue in world.venues.values():
            if venue.name:
                self.venue_names.setdefault(_norm(venue.name), []).append(venue.id)

    def cell(self, cells: Sequence[object], role: str) -> object:
        index = self.at.get(role)
        if index is None or index >= len(cells):
            return None
        return cells[index]

    def ticket_id(self, cells: Sequence[object]) -> str | None:
        text = _cell_text(self.cell(cells, "id"))
        return text[:MAX_TEXT] if text else None

    def redacted(self, cells: Sequence[object]) -> dict[str, object]:
        """The row as header → cell, safe to keep: the phone masked, numbers in text
        masked (for dead letters)."""
        phone = self.at.get("phone")
        keep = {self.at["id"], self.at["time"]}
        out: dict[str, object] = {}
        for index, value in enumerate(cells):
            name = self.header[index] if index < len(self.header) else f"({_column_letter(index)})"
            name = name or f"({_column_letter(index)})"
            text = _cell_text(value)
            if index == phone:
                out[name] = mask_phone(text)
            elif index in keep:
                out[name] = text
            else:
                out[name] = mask_numbers(text)
        return out

    def event(self, cells: Sequence[object], row: int) -> Event:
        cols = self.cols
        event_id = self._ticket(cells)
        ts = parse_time(self.cell(cells, "time"), self.zone, cols.time, self.mapping.time_format)
        if ts > self.latest:
            raise FieldError(
                cols.time,
                f"{_cell_text(self.cell(cells, 'time'))[:40]!r} is in the future "
                "(wrong clock, or day and month swapped?)",
            )
        attrs: dict[str, Any] = {}
        text = self._text(cells, "text", cols.text, row, attrs, required=True)
        category, raw_category = self._category(cells)
        attrs["category"] = category
        attrs["text"] = text
        if raw_category and raw_category != category:
            attrs["category_raw"] = raw_category
        area: str | None = None
        if cols.venue is not None:
            venue = self._text(cells, "venue", cols.venue, row, attrs, limit=MAX_TEXT)
            if venue:
                venue_id = self._venue(venue)
                attrs["venue"] = venue_id
                known = self.world.venues.get(venue_id)
                if known is not None:
                    area = known.area
        if cols.address is not None:
            address = self._text(cells, "address", cols.address, row, attrs)
            if address:
                attrs["address"] = address
        if cols.phone is not None:
            phone = mask_phone(_cell_text(self.cell(cells, "phone")))
            if phone:
                attrs["phone"] = phone
        for name in self.mapping.attrs:
            value = self._text(cells, f"attrs.{name}", self.mapping.attrs[name], row, attrs)
            if value:
                attrs[name] = value
        if cols.area is not None:
            area = self._area(_cell_text(self.cell(cells, "area"))) or area
        lat = lon = None
        if cols.lat is not None and cols.lon is not None:
            lat = _number(self.cell(cells, "lat"), cols.lat, 90.0)
            lon = _number(self.cell(cells, "lon"), cols.lon, 180.0)
            if lat == 0 and lon == 0:  # "no position" in many exports
                lat = lon = None
            if (lat is None) != (lon is None):
                missing = cols.lat if lat is None else cols.lon
                raise FieldError(missing, "is empty; latitude and longitude go together")
        obj: dict[str, Any] = {
            "id": event_id,
            "kind": KIND,
            "ts": ts.isoformat(),
            "source": self.mapping.source,
            "attrs": attrs,
        }
        if area is not None:
            obj["area"] = area
        if lat is not None and lon is not None:
            obj["lat"], obj["lon"] = lat, lon
        try:
            return parse_event(obj)
        except FieldError as exc:  # the event's field named as the user's column
            column = {"id": cols.id, "ts": cols.time, "area": cols.area or cols.venue}.get(
                exc.field, exc.field
            )
            raise FieldError(column or exc.field, exc.reason) from None

    def _ticket(self, cells: Sequence[object]) -> str:
        column = self.cols.id
        value = self.cell(cells, "id")
        text = _cell_text(value)
        if not text:
            raise FieldError(column, "is empty; every ticket needs its number")
        if _SCIENTIFIC.match(text):
            raise FieldError(
                column,
                f"{text!r} is a number Excel shortened; format the column as text and export again",
            )
        if len(text) > MAX_TEXT:
            raise FieldError(column, f"is {len(text)} characters long; at most {MAX_TEXT}")
        if _CONTROL.search(text) or "\n" in text or "\t" in text:
            raise FieldError(column, "contains control characters")
        return text

    def _text(
        self,
        cells: Sequence[object],
        role: str,
        column: str,
        row: int,
        attrs: dict[str, Any],
        *,
        required: bool = False,
        limit: int = MAX_TEXT_CHARS,
    ) -> str:
        text = mask_numbers(_clean(_cell_text(self.cell(cells, role))))
        if not text:
            if required:
                raise FieldError(column, "is empty")
            return ""
        if len(text) > limit:
            if role == "text":
                attrs["text_truncated"] = len(text)
            self.warnings.append(
                Rejection(
                    row,
                    column,
                    f"is {len(text)} characters long; kept the first {limit}",
                    self.ticket_id(cells),
                )
            )
            text = text[:limit]
        return text

    def _category(self, cells: Sequence[object]) -> tuple[str, str]:
        column = self.cols.category
        if column is None:
            return self.mapping.default_category, ""
        raw = _clean(_cell_text(self.cell(cells, "category")))[:MAX_TEXT]
        if raw:
            key = _norm(raw)
            candidates = [key, *reversed(_CATEGORY_SPLIT.split(key))]
            for candidate in candidates:
                if candidate in self.categories:
                    return self.categories[candidate], raw
                if candidate in self.canonical:
                    return candidate, raw
        if self.mapping.strict_categories:
            if not raw:
                raise FieldError(column, "is empty (strict_categories)")
            raise FieldError(
                column, f"{raw[:40]!r} is not in categories: (strict_categories is on)"
            )
        return self.mapping.default_category, raw

    def _area(self, value: str) -> str | None:
        column = self.cols.area or "area"
        if not value:
            return None
        if not self.check_areas or value in self.world.areas:
            if len(value) > MAX_TEXT:
                raise FieldError(column, f"is {len(value)} characters long; at most {MAX_TEXT}")
            return value
        codes = self.area_names.get(_norm(value), [])
        if len(codes) == 1:
            return codes[0]
        if codes:
            raise FieldError(
                column,
                f"{value[:40]!r} names {len(codes)} areas ({', '.join(sorted(codes)[:5])}); "
                "use the area code",
            )
        raise FieldError(
            column, f"{value[:40]!r} is not an area code or name in the world (cityeye world load)"
        )

    def _venue(self, value: str) -> str:
        """A world venue's id when the cell names one (by id or unique name), else the
        text itself (complaints about one business still count together)."""
        if value in self.world.venues:
            return value
        ids = self.venue_names.get(_norm(value), [])
        return ids[0] if len(ids) == 1 else value


# ---------------------------------------------------------------------- import
@dataclass(slots=True)
class ImportResult:
    """What became of every row of one export."""

    file: str
    #: Non-blank data rows read.
    rows: int = 0
    blank: int = 0
    accepted: int = 0
    duplicate: int = 0
    #: Accepted events older than the engine's clock: stored, but they can raise no
    #: alert (see docs/ingest.md).
    late: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    #: Accepted rows with something cut (a text over :data:`MAX_TEXT_CHARS`).
    warnings: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every row was accepted or already there, 1 when some were rejected."""
        return 1 if self.rejected else 0


def import_sheet(
    sheet: Sheet,
    mapping: HotlineMapping,
    pipeline: Intake,
    *,
    ref: str,
    progress: Progress | None = None,
    batch: int = BATCH,
    now: datetime | None = None,
) -> ImportResult:
    """Turn every row into an event or a rejection; store and analyse the events in time
    order, ``batch`` per transaction; dead-letter the rejected rows (``ref:row N``)."""
    now = now or datetime.now(UTC)
    reader = RowReader(mapping, sheet.header, pipeline.world, now)
    result = ImportResult(file=ref, rows=len(sheet.rows), blank=sheet.blank)
    total = len(sheet.rows)
    good: list[tuple[int, Event]] = []
    dead: list[DeadLetter] = []
    where = ref if len(ref) <= 200 else "…" + ref[-199:]
    for row, cells in sheet.rows:
        try:
            if row in sheet.broken:
                raise FieldError("(row)", sheet.broken[row])
            good.append((row, reader.event(cells, row)))
        except FieldError as exc:
            rejection = Rejection(row, exc.field[:128], exc.reason, reader.ticket_id(cells))
            result.rejected.append(rejection)
            payload = orjson.dumps(reader.redacted(cells))
            dead.append(
                DeadLetter(
                    now,
                    CHANNEL,
                    f"{where}:row {row}",
                    rejection.field,
                    rejection.reason,
                    shorten(payload),
                    payload,
                )
            )
    rejected_rows = {r.row for r in result.rejected}
    result.warnings = [w for w in reader.warnings if w.row not in rejected_rows]
    for start in range(0, len(dead), batch):
        pipeline.store.add_dead_letters(dead[start : start + batch])
    done = len(result.rejected)
    if progress is not None:
        progress(done, total)
    # time order: an export listed newest first must not look late to the engine
    good.sort(key=lambda item: (item[1].ts, item[0]))
    # a live intake: the engine's clock is never behind the wall clock (less the
    # lateness), so tickets from yesterday arrive late — and, as reports stay
    # actionable (raise_late), become cases whose deadlines start now
    pipeline.tick(now)
    for start in range(0, len(good), batch):
        chunk = good[start : start + batch]
        events = [e for _, e in chunk]
        late = {(e.source, e.id) for e in events if pipeline.is_late(e)}
        results = pipeline.ingest(events, indexes=[row for row, _ in chunk])
        marked = []
        for item, event in zip(results, events, strict=True):
            if item.status == "accepted":
                result.accepted += 1
                if (event.source, event.id) in late:
                    marked.append((event.source, event.id))
            else:
                result.duplicate += 1
        if marked:
            result.late += pipeline.store.mark_late(marked)
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    if good:
        pipeline.snapshot()
    result.rejected.sort(key=lambda r: r.row)
    if len(pipeline.world.areas) <= 1:
        result.notes.append(
            "no world is loaded (cityeye world load): areas were not checked and the "
            "cases have no one to route to / 未加载世界文件，区域未校验，工单无法派发"
        )
    if result.late:
        result.notes.append(
            f"{result.late} tickets were older than the live engine's clock: their cases "
            "start now, each keeping when it was reported / 早于引擎时钟（补录）：已立案，"
            "时限自导入时起算，保留原反映时间"
        )
    return result


def write_errors(rejections: Sequence[Rejection], path: Path) -> None:
    """All rejections as CSV (``row,id,field,reason``) for the operator to fix, in
    UTF-8 with a BOM so that Excel shows the Chinese; cells that Excel would read as a
    formula are prefixed with ``'``."""
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["row", "id", "field", "reason"])
        for r in rejections:
            writer.writerow([r.row, *(_safe(v) for v in (r.id or "", r.field, r.reason))])


def _safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def print_summary(
    result: ImportResult, console: Console, *, limit: int = 20, errors_file: Path | None = None
) -> None:
    """The counts as a table, then the first ``limit`` rejections as
    ``FILE:row N: column: reason`` lines, warnings and notes."""
    table = Table(title=f"12345 热线导入 hotline import: {result.file}", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("rows 行", justify="right")
    table.add_row("accepted 已接收", str(result.accepted))
    table.add_row("duplicate 重复（已导入）", str(result.duplicate))
    table.add_row(
        "rejected 拒收", str(len(result.rejected)), style="red" if result.rejected else None
    )
    if result.blank:
        table.add_row("blank, skipped 空行", str(result.blank))
    console.print(table)
    for r in result.rejected[:limit]:
        ticket = f" [{r.id}]" if r.id else ""
        console.print(
            f"{result.file}:row {r.row}{ticket}: {r.field}: {r.reason}",
            markup=False,
            highlight=False,
        )
    more = len(result.rejected) - limit
    if errors_file is not None and result.rejected:
        console.print(f"→ all {len(result.rejected)} rejected rows 拒收行: {errors_file}")
    elif more > 0:
        console.print(f"… and {more} more rejected rows; --errors FILE.csv writes them all")
    for w in result.warnings[:limit]:
        console.print(
            f"{result.file}:row {w.row}: {w.field}: {w.reason} (accepted)",
            markup=False,
            highlight=False,
        )
    for note in result.notes:
        console.print(f"note 注意: {note}", markup=False, highlight=False)
