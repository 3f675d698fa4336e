"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC.

    SQLite has no time zone type and would silently drop the offset; PostgreSQL returns
    times in the session's zone. Normalising to UTC on the way in and attaching UTC on
    the way out gives the same aware value back on both. The original offset of an
    event is kept in its raw JSON.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: cityeye stores only timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite dialect stores for a UTC datetime, for the few
    hot paths that write through the driver directly."""
    v = value.astimezone(UTC).replace(tzinfo=None)
    if v.year < 1000:  # isoformat would not pad the year to four digits
        return (
            f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
            f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
        )
    return v.isoformat(" ", "microseconds")  # the same text, formatted in C (issue 15)


#: JSON everywhere, JSONB on PostgreSQL (indexable, compact).
JSONType: Any = JSON().with_variant(JSONB(), "postgresql")
