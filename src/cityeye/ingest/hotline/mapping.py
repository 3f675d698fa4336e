"""The mapping file: which column of an export holds which part of a ticket.

A hotline export's headers are whatever the local 12345 system writes, so the operator
says in YAML which header is the ticket number, the time, the text and so on. This
module is that file's schema and its validation (every bad field named with its line);
:class:`HotlineError`, which the whole import raises for an unusable file, lives here
with it.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cityeye.errors import ProblemsError
from cityeye.sourcefile import DataPath, Problem, SourceDoc, SourceError, read_source

#: Default event source of imported tickets.
HOTLINE_SOURCE = "hotline"
#: Attributes the importer writes itself (``attrs:`` may not reuse them).
_CORE_ATTRS = frozenset(
    {"category", "category_raw", "text", "text_truncated", "venue", "address", "phone"}
)
_CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


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
