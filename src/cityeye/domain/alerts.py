"""Early warnings (预警): a scenario firing for one key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from cityeye.domain.labels import Labelled


class Severity(Labelled):
    LOW = "low", "低", "low"
    MEDIUM = "medium", "中", "medium"
    HIGH = "high", "高", "high"
    CRITICAL = "critical", "紧急", "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


@dataclass(slots=True)
class Alert:
    """One alert. While open, further matches join it (``count``, ``event_ids``)."""

    id: str
    scenario: str
    key: str
    severity: Severity
    opened_at: datetime
    resolved_at: datetime | None = None
    count: int = 1
    event_ids: list[str] = field(default_factory=list)
    area: str | None = None
    #: When the event behind a late-raised alert happened (``raise_late``: a
    #: back-filled hotline record opens its alert on arrival, ``opened_at``, and keeps
    #: its own time here); ``None`` for every other alert.
    reported_at: datetime | None = None

    def to_json(self, tz: tzinfo = UTC) -> dict[str, Any]:
        """The alert as JSON (``alerts.jsonl``, the API, the live stream); times in
        ``tz`` (the district's zone for files people read, UTC for the API)."""
        return {
            "id": self.id,
            "scenario": self.scenario,
            "key": self.key,
            "severity": self.severity.value,
            "opened_at": self.opened_at.astimezone(tz).isoformat(),
            "resolved_at": self.resolved_at.astimezone(tz).isoformat()
            if self.resolved_at
            else None,
            "count": self.count,
            "event_ids": self.event_ids,
            "area": self.area,
        } | (
            {"reported_at": self.reported_at.astimezone(tz).isoformat()}
            if self.reported_at is not None
            else {}
        )
