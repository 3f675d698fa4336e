"""Cases (事件/工单): the unit of the closed loop 发现 → 上报 → 派遣 → 处置 → 反馈 → 结案.

This module holds only the vocabulary (states, origins, roles, the timeline entry).
Which transitions are legal, and who may make them, lives in ``cityeye.cases`` as one
transition table, so the lifecycle is readable in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cityeye.domain.alerts import Severity
from cityeye.domain.labels import Labelled


class CaseState(Labelled):
    REPORTED = "reported", "已上报", "Reported"
    DISPATCHED = "dispatched", "已派遣", "Dispatched"
    ACCEPTED = "accepted", "已受理", "Accepted"
    IN_PROGRESS = "in_progress", "处置中", "In progress"
    HANDLED = "handled", "已处置", "Handled"
    VERIFIED = "verified", "已核查", "Verified"
    CLOSED = "closed", "已结案", "Closed"
    RETURNED = "returned", "已退回", "Returned"
    ESCALATED = "escalated", "已升级", "Escalated"
    DISMISSED = "dismissed", "误报撤销", "Dismissed (false alarm)"
    REOPENED = "reopened", "已重启", "Reopened"
    SELF_RESOLVED = "self_resolved", "自动消警", "Resolved itself"

    @property
    def terminal(self) -> bool:
        """No further transition is expected (a reopen starts from CLOSED explicitly)."""
        return self in {CaseState.CLOSED, CaseState.DISMISSED, CaseState.SELF_RESOLVED}


class CaseOrigin(StrEnum):
    """Where a case came from."""

    ALERT = "alert"
    CITIZEN = "citizen"
    HOTLINE = "hotline"
    PATROL = "patrol"
    SUGGESTION = "suggestion"
    RESOLUTION = "resolution"


class HandlerRole(StrEnum):
    LEAD = "lead"  # 主办
    CO = "co"  # 协办


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One append-only line of a case's history: who did what, when and why."""

    at: datetime
    actor: str
    action: str
    from_state: CaseState | None
    to_state: CaseState | None
    note: str = ""
    attachments: tuple[str, ...] = ()


@dataclass(slots=True)
class Case:
    """A case and its current state; its history is ``timeline``, never rewritten."""

    id: str
    origin: CaseOrigin
    state: CaseState
    severity: Severity
    opened_at: datetime
    title: str = ""
    scenario: str | None = None
    key: str | None = None
    area: str | None = None
    lead: str | None = None
    co_handlers: list[str] = field(default_factory=list)
    reporter: str | None = None
    closed_at: datetime | None = None
    rating: int | None = None
    #: The handling deadline (set by the case book; a severity upgrade may tighten it).
    due_at: datetime | None = None
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def version(self) -> int:
        """Every change adds a timeline line, so their count: the same in memory, in
        the database and after a crash's re-feed (a count of saves would drift)."""
        return len(self.timeline)
