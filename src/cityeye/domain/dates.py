"""The district's calendar: one default time zone and the local day of an instant.

Times are kept in UTC everywhere; a *day* (a tracking number's date, "today" on a
page, a KPI period) is the district's local day (``World.timezone``), never the UTC
one: 07:30 in Hangzhou is still the day before in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

#: A world file that names no time zone is in this one (the seeds' districts are all
#: in Hangzhou; our default, not a rule of the seeds).
DEFAULT_TIMEZONE = "Asia/Shanghai"


def local_date(at: datetime, timezone: str) -> date:
    """The district's calendar day of ``at`` (``World.timezone``): what a tracking
    number or "today" means to the people there, not the UTC day."""
    return at.astimezone(ZoneInfo(timezone)).date()


def iso_utc(at: datetime | None) -> str | None:
    """``at`` as ISO 8601 in UTC (``…+00:00``), the form every file and API answer
    carries; ``None`` stays ``None``."""
    return at.astimezone(UTC).isoformat() if at else None
