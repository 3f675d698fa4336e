"""One row of an export → one ``report.hotline`` event, or the reason it cannot be.

:class:`RowReader` reads each mapped cell (the ticket number, the time in the world's
zone, the text with its numbers masked, the category through the mapping's table, the
area and venue by code or name from the world) and raises a :class:`FieldError` naming
the user's column when a cell will not do, so the import can report the row and go on.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.domain import REPORT_CATEGORIES, Event, FieldError, World, parse_event
from cityeye.domain.events import MAX_TEXT, MAX_TS, MIN_TS
from cityeye.ingest.hotline.mapping import HotlineMapping
from cityeye.ingest.hotline.masking import mask_numbers, mask_phone
from cityeye.ingest.hotline.sheet import cell_text, column_indexes, column_letter

#: The kind of every imported ticket's event.
KIND = "report.hotline"
#: Longest free text kept (诉求内容, addresses, extra columns); longer text is cut and
#: the row is accepted with a warning.
MAX_TEXT_CHARS = 4000
#: How far ahead of now a ticket's time may be: a time in the future is a wrong clock or
#: day and month swapped, and would push the live engine's clock ahead of the world.
FUTURE_SLACK = timedelta(minutes=5)
#: Categories cityeye names (``REPORT_CATEGORIES``: those the built-in catalogue reads);
#: a cell that already holds one of them needs no table entry.
KNOWN_CATEGORIES = tuple(REPORT_CATEGORIES)
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
        text = cell_text(value)
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
        raise FieldError(column, f"{cell_text(value)[:40]!r} is outside 2000 .. 2100")
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
        text = unicodedata.normalize("NFKC", cell_text(value))
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise FieldError(column, f"{text[:40]!r} is not a number") from None
    if number != number or abs(number) > limit:
        raise FieldError(column, f"{cell_text(value)[:40]!r} is outside -{limit:g} .. {limit:g}")
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
        self.at = column_indexes(mapping, header, "(file)")
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
        text = cell_text(self.cell(cells, "id"))
        return text[:MAX_TEXT] if text else None

    def redacted(self, cells: Sequence[object]) -> dict[str, object]:
        """The row as header → cell, safe to keep: the phone masked, numbers in text
        masked (for dead letters)."""
        phone = self.at.get("phone")
        keep = {self.at["id"], self.at["time"]}
        out: dict[str, object] = {}
        for index, value in enumerate(cells):
            name = self.header[index] if index < len(self.header) else f"({column_letter(index)})"
            name = name or f"({column_letter(index)})"
            text = cell_text(value)
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
                f"{cell_text(self.cell(cells, 'time'))[:40]!r} is in the future "
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
            phone = mask_phone(cell_text(self.cell(cells, "phone")))
            if phone:
                attrs["phone"] = phone
        for name in self.mapping.attrs:
            value = self._text(cells, f"attrs.{name}", self.mapping.attrs[name], row, attrs)
            if value:
                attrs[name] = value
        if cols.area is not None:
            area = self._area(cell_text(self.cell(cells, "area"))) or area
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
        text = cell_text(value)
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
        text = mask_numbers(_clean(cell_text(self.cell(cells, role))))
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
        raw = _clean(cell_text(self.cell(cells, "category")))[:MAX_TEXT]
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
