"""Early warnings (预警): a scenario firing for one key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    @property
    def zh(self) -> str:
        return _ZH[self]


_RANKS = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}
_ZH = {Severity.LOW: "低", Severity.MEDIUM: "中", Severity.HIGH: "高", Severity.CRITICAL: "紧急"}


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

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
