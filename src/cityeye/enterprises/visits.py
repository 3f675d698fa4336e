"""走访: recording a visit, what is due and overdue, coverage, and the warnings that send
a staff member to an enterprise (issue 21 items 2 and 4).

An ``enterprise.*`` alert keeps its generic case (routed as its scenario says: the
scenarios that resolve on a closed case need it) and, besides, is a visit task of the
enterprise's 包联干部: the enterprise is due for a visit within
:data:`~cityeye.domain.enterprises.WARNING_VISIT_DAYS` days, and the visit that answers
the warning records its outcome (已化解 / 确认风险 / 已迁出), counted per scenario. The
task is read off the alerts as they are (no copy to keep in step): a warning of an
enterprise in the registry that has no outcome yet is pending while it is open.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cityeye.domain import Alert, Event, World
from cityeye.domain.enterprises import (
    WARNING_VISIT_DAYS,
    Enterprise,
    Visit,
    WarningOutcome,
    next_due,
)
from cityeye.domain.kinds import EVENT_KINDS
from cityeye.domain.users import User, UserRole, scope_of
from cityeye.enterprises.registry import street_of
from cityeye.errors import FieldError, RefusedError
from cityeye.store import Store
from cityeye.store import enterprises as db
from cityeye.world.places import distance_m

#: How far back a warning's evidence is looked for before its opening (the longest
#: window of the enterprise scenarios: three months of indicators, a 90-day count).
EVIDENCE_BEFORE = timedelta(days=120)
#: The most events a warning's evidence lists (the newest).
EVIDENCE_MAX = 20
#: A visit's time may be this far ahead of the server's clock (a phone's clock off).
CLOCK_SLACK = timedelta(minutes=10)


def warning_subject(alert: Alert) -> str:
    """The subject an ``enterprise.*`` alert is about: its key, before the ``/`` of a
    key split by metric (``ENT-001/revenue``)."""
    return alert.key.split("/", 1)[0]


def enterprise_of(alert: Alert, registry: Iterable[Enterprise]) -> Enterprise | None:
    """The registered enterprise an alert is about (by its world subject or its id)."""
    subject = warning_subject(alert)
    return next((e for e in registry if subject in (e.subject_id, e.id)), None)


def may_visit(user: User, world: World, enterprise: Enterprise) -> bool:
    """The enterprise's 包联干部, or a dispatcher (or admin) whose post covers it,
    records its visits; leaders look on."""
    if enterprise.staff_id == user.id or user.role == UserRole.ADMIN:
        return True
    return user.role == UserRole.DISPATCHER and scope_of(user, world).allows(enterprise.area)


def record_visit(
    store: Store,
    world: World,
    user: User,
    enterprise: Enterprise,
    *,
    at: datetime,
    people_met: str,
    situation: str,
    problems: str = "",
    photos: Sequence[str] = (),
    lat: float | None = None,
    lon: float | None = None,
    alert_id: str | None = None,
    outcome: WarningOutcome | None = None,
    now: datetime,
) -> Visit:
    """Keep a visit; its check-in's distance from the enterprise is computed here
    (the phone sends where it is, not how far). A warning named must be one of this
    enterprise's; an outcome needs the warning it is about."""
    if not may_visit(user, world, enterprise):
        raise RefusedError(
            "only the enterprise's 包联干部 or a dispatcher of its area records visits"
        )
    if at > now + CLOCK_SLACK:
        raise FieldError("at", "is in the future")
    if not people_met.strip():
        raise FieldError("people_met", "is required (走访对象)")
    if not situation.strip():
        raise FieldError("situation", "is required (企业情况)")
    if (lat is None) != (lon is None):
        raise FieldError("lat" if lat is None else "lon", "give both lat and lon, or neither")
    if outcome is not None and alert_id is None:
        raise FieldError("outcome", "needs the warning it is about (alert_id)")
    if alert_id is not None:
        alert = store.get_alert(alert_id)
        if (
            alert is None
            or enterprise_of(alert, [enterprise]) is None
            or not (alert.scenario.startswith(db.WARNING_PREFIX))
        ):
            raise FieldError("alert_id", f"{alert_id} is not a warning about {enterprise.name}")
    distance = None
    if (
        lat is not None
        and lon is not None
        and enterprise.lat is not None
        and enterprise.lon is not None
    ):
        distance = round(distance_m(lat, lon, enterprise.lat, enterprise.lon), 1)
    visit = Visit(
        id=f"ZF-{secrets.token_hex(5).upper()}",
        enterprise_id=enterprise.id,
        at=at,
        visitor_id=user.id,
        people_met=people_met.strip(),
        situation=situation.strip(),
        problems=problems.strip(),
        photos=tuple(photos),
        lat=lat,
        lon=lon,
        distance_m=distance,
        alert_id=alert_id,
        outcome=outcome,
        recorded_at=now,
    )
    db.add_visit(store, visit)
    return visit


# ---------------------------------------------------------------------- the plan
@dataclass(frozen=True, slots=True)
class WarningTask:
    """A warning as a visit task: the alert, its enterprise, when the visit is due,
    and the visit that recorded its outcome (``None``: none yet)."""

    alert: Alert
    enterprise: Enterprise
    outcome_visit: Visit | None

    @property
    def due_at(self) -> datetime:
        return self.alert.opened_at + timedelta(days=WARNING_VISIT_DAYS)

    @property
    def status(self) -> str:
        """``done`` (an outcome recorded), ``pending`` (open, none yet) or ``lapsed``
        (resolved by its data before anyone recorded an outcome)."""
        if self.outcome_visit is not None:
            return "done"
        return "pending" if self.alert.resolved_at is None else "lapsed"


def warning_tasks(store: Store, registry: Sequence[Enterprise]) -> list[WarningTask]:
    """The ``enterprise.*`` alerts about the enterprises of ``registry``, newest first."""
    done = db.outcomes(store)
    out = []
    for alert in db.warnings(store):
        enterprise = enterprise_of(alert, registry)
        if enterprise is not None:
            out.append(WarningTask(alert, enterprise, done.get(alert.id)))
    return out


@dataclass(frozen=True, slots=True)
class PlanRow:
    """An enterprise's place in the visit plan."""

    enterprise: Enterprise
    last_visit: datetime | None
    due_at: datetime | None
    pending_warnings: int

    def overdue(self, now: datetime) -> bool:
        return self.due_at is None or self.due_at < now


def plan(
    store: Store,
    registry: Sequence[Enterprise],
    *,
    before: datetime | None = None,
    warnings_until: datetime | None = None,
) -> list[PlanRow]:
    """Each enterprise's last visit and next due date, soonest due first (never
    visited and never registered: due now, first). With ``before``: the plan as it
    stood then — the visits before it, and the warnings open and unanswered then or
    opened before ``warnings_until`` (default ``before``)."""
    ids = [e.id for e in registry]
    if before is None:
        last = db.last_visits(store)
    else:
        last = {}
        for v in db.visits(store, ids, until=before):
            last.setdefault(v.enterprise_id, v.at)  # newest first
    pending: dict[str, list[datetime]] = {}
    for task in warning_tasks(store, registry):
        if before is None:
            waiting = task.status == "pending"
        else:
            until = warnings_until or before
            answered = task.outcome_visit is not None and task.outcome_visit.at < before
            resolved = task.alert.resolved_at is not None and task.alert.resolved_at < before
            waiting = task.alert.opened_at < until and not answered and not resolved
        if waiting:
            pending.setdefault(task.enterprise.id, []).append(task.alert.opened_at)
    rows = [
        PlanRow(
            e,
            last.get(e.id),
            next_due(e, last.get(e.id), pending.get(e.id, [])),
            len(pending.get(e.id, [])),
        )
        for e in registry
    ]
    return sorted(
        rows, key=lambda r: (r.due_at is not None, r.due_at.timestamp() if r.due_at else 0)
    )


def overdue_by_staff(store: Store, now: datetime) -> dict[str, int]:
    """staff user id → how many of the enterprises they are responsible for have an
    overdue visit (the daily reminder's count)."""
    counts: Counter[str] = Counter()
    registry = [e for e in db.enterprises(store) if e.staff_id]
    for row in plan(store, registry):
        if row.overdue(now) and row.enterprise.staff_id:
            counts[row.enterprise.staff_id] += 1
    return dict(counts)


@dataclass(slots=True)
class Coverage:
    """One staff member's or street's figures for a period: enterprises, those due
    (a visit was due by the period's end), those of them visited in it, all visits
    (家次) and the share of the due that were visited."""

    key: str
    enterprises: int = 0
    due: int = 0
    visited_due: int = 0
    visits: int = 0
    visited: int = 0

    @property
    def rate(self) -> float | None:
        return None if not self.due else round(self.visited_due / self.due, 4)


def coverage(
    store: Store,
    world: World,
    registry: Sequence[Enterprise],
    *,
    since: datetime,
    until: datetime,
) -> tuple[list[Coverage], list[Coverage], Coverage]:
    """Coverage for ``[since, until)``, per staff member, per street and in all. An
    enterprise is due in the period when the plan as it stood at its start (its last
    visit before it; the warnings unanswered then or opened during it) asked for a
    visit before its end (ours, docs/enterprises.md)."""
    ids = [e.id for e in registry]
    done: Counter[str] = Counter(
        v.enterprise_id for v in db.visits(store, ids, since=since, until=until)
    )
    rows = plan(store, registry, before=since, warnings_until=until)
    staff: dict[str, Coverage] = {}
    streets: dict[str, Coverage] = {}
    total = Coverage("all")
    for row in rows:
        e = row.enterprise
        due = row.due_at is None or row.due_at < until
        visited = done[e.id] > 0
        for table, key in (
            (staff, e.staff_id or ""),
            (streets, street_of(world, e.area) or ""),
            (None, "all"),
        ):
            cell = total if table is None else table.setdefault(key, Coverage(key))
            cell.enterprises += 1
            cell.visits += done[e.id]
            cell.visited += int(visited)
            if due:
                cell.due += 1
                cell.visited_due += int(visited)
    return (
        sorted(staff.values(), key=lambda c: c.key),
        sorted(streets.values(), key=lambda c: c.key),
        total,
    )


def outcome_counts(tasks: Iterable[WarningTask]) -> dict[str, dict[str, int]]:
    """Per scenario: warnings, and how many are pending, lapsed, and each outcome."""
    out: dict[str, dict[str, int]] = {}
    for task in tasks:
        row = out.setdefault(
            task.alert.scenario,
            {"warnings": 0, "pending": 0, "lapsed": 0, **{o.value: 0 for o in WarningOutcome}},
        )
        row["warnings"] += 1
        if task.outcome_visit is not None and task.outcome_visit.outcome is not None:
            row[task.outcome_visit.outcome.value] += 1
        else:
            row[task.status] += 1
    return dict(sorted(out.items()))


def evidence(store: Store, alert: Alert, now: datetime) -> list[Event]:
    """The events behind a warning (the alert holds their ids), newest first."""
    kinds = [k for k in EVENT_KINDS if k.startswith(db.WARNING_PREFIX)]
    until = alert.resolved_at or now
    found = store.events_among(alert.event_ids, kinds, alert.opened_at - EVIDENCE_BEFORE, until)
    return sorted(found, key=lambda e: e.ts, reverse=True)[:EVIDENCE_MAX]
