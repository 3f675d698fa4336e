"""The units the simulator counts time in, and its one calendar step.

Every time is built as whole epoch seconds, never floats of hours or datetimes, so that
the same seed writes the same bytes on any machine; datetimes appear only where an event
is written (:mod:`.delivery`) and where the calendar matters (months, local midnights).
Shared by the plan and every channel, so it sits below both.
"""

from __future__ import annotations

from datetime import datetime

HOUR = 3600
MINUTE = 60
DAY = 86400


def add_months(t: datetime, months: int) -> datetime:
    """``t`` moved by whole calendar months (callers pass the 1st of a month)."""
    index = t.year * 12 + t.month - 1 + months
    return t.replace(year=index // 12, month=index % 12 + 1)
