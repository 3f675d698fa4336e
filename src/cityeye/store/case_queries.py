"""Cases and alerts as a person may see them: every query takes the user's
:class:`Scope`, so no endpoint can forget the bound (a 小河 worker never sees 大关's
cases)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, or_, select

from cityeye.domain import REPORT_KINDS, Alert, Case, CaseState
from cityeye.domain.users import Scope
from cityeye.store import tables as t
from cityeye.store.alerts import alert_from_row
from cityeye.store.repo import Store

TERMINAL = sorted(s.value for s in CaseState if s.terminal)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    states: Collection[str] | None = None
    scenario: str | None = None
    areas: Collection[str] | None = None  # already expanded to the areas below
    overdue_at: datetime | None = None  # open and past due at this time
    due_since: datetime | None = None  # due in [since, before) (the day's reminder)
    due_before: datetime | None = None
    text: str | None = None
    scenarios: Collection[str] | None = None  # any of these (a module's scenarios)
    party: str | None = None  # the lead or a co-handler
    opened_since: datetime | None = None  # opened in [since, before)
    opened_before: datetime | None = None
    closed_since: datetime | None = None  # ended (closed, dismissed, ...) in [since, before)
    closed_before: datetime | None = None
    severities: Collection[str] | None = None  # any of these
    #: with ``text``: the areas whose names match it (expanded below), so a search for
    #: a place finds the cases there as well as those with the words in their title or id
    text_areas: Collection[str] | None = None
    order: str = "opened"  # "opened": newest first; "due": the nearest deadline first


def _visible(scope: Scope) -> Any:
    c = t.cases.c
    if scope.areas is None:
        return None
    parts = []
    if scope.areas:
        parts.append(c.area_code.in_(sorted(scope.areas)))
    if scope.party is not None:
        taking_part = select(t.case_handlers.c.case_id).where(
            t.case_handlers.c.party_id == scope.party
        )
        parts.append(c.id.in_(taking_part))
    return or_(*parts) if parts else false()


def _conditions(scope: Scope, where: CaseFilter) -> list[Any]:
    c = t.cases.c
    conditions: list[Any] = []
    visible = _visible(scope)
    if visible is not None:
        conditions.append(visible)
    if where.states is not None:
        conditions.append(c.state.in_(sorted(where.states)))
    if where.scenario is not None:
        conditions.append(c.scenario == where.scenario)
    if where.areas is not None:
        conditions.append(c.area_code.in_(sorted(where.areas)))
    if where.overdue_at is not None:
        conditions += [c.due_at < where.overdue_at, c.state.not_in(TERMINAL)]
    if where.due_since is not None:
        conditions.append(c.due_at >= where.due_since)
    if where.due_before is not None:
        conditions.append(c.due_at < where.due_before)
    if where.scenarios is not None:
        conditions.append(c.scenario.in_(sorted(where.scenarios)))
    if where.party is not None:
        handling = select(t.case_handlers.c.case_id).where(
            t.case_handlers.c.party_id == where.party
        )
        conditions.append(or_(c.lead_party == where.party, c.id.in_(handling)))
    if where.opened_since is not None:
        conditions.append(c.opened_at >= where.opened_since)
    if where.opened_before is not None:
        conditions.append(c.opened_at < where.opened_before)
    if where.closed_since is not None:
        conditions.append(c.closed_at >= where.closed_since)
    if where.closed_before is not None:
        conditions.append(c.closed_at < where.closed_before)
    if where.severities is not None:
        conditions.append(c.severity.in_(sorted(where.severities)))
    if where.text:
        escaped = where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        words = [
            c.title.ilike(f"%{escaped}%", escape="\\"),
            c.id.ilike(f"%{escaped}%", escape="\\"),
        ]
        if where.text_areas:
            words.append(c.area_code.in_(sorted(where.text_areas)))
        # a resident's report: the address they gave or the pin's place (issue 17: a
        # dispatcher finds a case by typing part of its address); reports are few
        # beside the sensors' events, and the kind index finds them
        e = t.events.c
        addressed = select(e.source + "/" + e.event_id).where(
            e.kind.in_(REPORT_KINDS),
            e.attrs["address"].as_string().ilike(f"%{escaped}%", escape="\\"),
        )
        words.append(c.key.in_(addressed))
        conditions.append(or_(*words))
    return conditions


def find_cases(
    store: Store, scope: Scope, where: CaseFilter, *, offset: int = 0, limit: int = 50
) -> tuple[list[Case], int]:
    """One page of the cases in ``scope`` matching ``where``, newest first (or by
    deadline: ``where.order``), and how many match in all."""
    c = t.cases.c
    conditions = _conditions(scope, where)
    order: tuple[Any, ...]
    if where.order == "due":  # no deadline last, then the newest
        order = (c.due_at.is_(None), c.due_at.asc(), c.opened_at.desc(), c.id.desc())
    else:
        order = (c.opened_at.desc(), c.id.desc())
    ids_q = select(c.id).where(*conditions).order_by(*order)
    count_q = select(func.count()).select_from(t.cases).where(*conditions)
    with store.engine.connect() as conn:
        total = int(conn.execute(count_q).scalar_one())
        ids = [r.id for r in conn.execute(ids_q.offset(offset).limit(limit))]
    by_id = {case.id: case for case in store.load_cases(ids)} if ids else {}
    return [by_id[i] for i in ids if i in by_id], total


def count_cases(store: Store, scope: Scope, wheres: Mapping[str, CaseFilter]) -> dict[str, int]:
    """How many cases in ``scope`` match each of ``wheres`` (the desk's tabs), in one
    connection."""
    out = {}
    with store.engine.connect() as conn:
        for name, where in wheres.items():
            query = select(func.count()).select_from(t.cases).where(*_conditions(scope, where))
            out[name] = int(conn.execute(query).scalar_one())
    return out


def open_loads(store: Store, parties: Collection[str]) -> dict[str, int]:
    """How many open (not ended) cases each of ``parties`` leads."""
    if not parties:
        return {}
    c = t.cases.c
    query = (
        select(c.lead_party, func.count())
        .where(c.lead_party.in_(sorted(parties)), c.state.not_in(TERMINAL))
        .group_by(c.lead_party)
    )
    with store.engine.connect() as conn:
        return {str(p): int(n) for p, n in conn.execute(query)}


def case_alert_id(store: Store, case_id: str) -> str | None:
    """The alert the case was opened from (its evidence), if it was."""
    with store.engine.connect() as conn:
        row = conn.execute(select(t.cases.c.alert_id).where(t.cases.c.id == case_id)).first()
    return str(row.alert_id) if row is not None and row.alert_id else None


def visible_case(store: Store, scope: Scope, case_id: str) -> Case | None:
    """The case, if it exists and ``scope`` may see it (else ``None``: not found and not
    allowed look the same from outside)."""
    case = store.get_case(case_id)
    if case is None:
        return None
    parties = [case.lead, *case.co_handlers] if case.lead else list(case.co_handlers)
    return case if scope.allows(case.area, [p for p in parties if p]) else None


def find_alerts(
    store: Store,
    scope: Scope,
    *,
    open_only: bool = False,
    scenario: str | None = None,
    areas: Collection[str] | None = None,
    opened_since: datetime | None = None,
    opened_before: datetime | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[Alert], int]:
    """One page of the alerts in ``scope`` (by their area), newest first, and the
    count of all that match; ``opened_since``/``opened_before``: opened in
    ``[since, before)`` (the cockpit's stream of a past period)."""
    a = t.alerts.c
    conditions: list[Any] = []
    if scope.areas is not None:
        conditions.append(a.area_code.in_(sorted(scope.areas)) if scope.areas else false())
    if open_only:
        conditions.append(a.resolved_at.is_(None))
    if scenario is not None:
        conditions.append(a.scenario == scenario)
    if areas is not None:
        conditions.append(a.area_code.in_(sorted(areas)))
    if opened_since is not None:
        conditions.append(a.opened_at >= opened_since)
    if opened_before is not None:
        conditions.append(a.opened_at < opened_before)
    query = select(t.alerts).where(*conditions).order_by(a.opened_at.desc(), a.id)
    count_q = select(func.count()).select_from(t.alerts).where(*conditions)
    with store.engine.connect() as conn:
        total = int(conn.execute(count_q).scalar_one())
        rows = conn.execute(query.offset(offset).limit(limit)).mappings().all()
    return [alert_from_row(r) for r in rows], total


def cases_active(
    store: Store, scope: Scope, areas: Collection[str], start: datetime, end: datetime
) -> list[Case]:
    """The cases in ``scope`` and ``areas`` that may count for the KPIs of
    ``[start, end)``: opened before its end and not ended before its start (every
    dated fact of a case — :func:`cityeye.cases.kpi.case_facts` — lies between its
    opening and its end, or is the deadline of a case still open). For figures the
    counters do not keep (scenarios inside one street: the cockpit's drill-down)."""
    c = t.cases.c
    conditions = _conditions(scope, CaseFilter(areas=areas))
    conditions += [c.opened_at < end, or_(c.closed_at.is_(None), c.closed_at >= start)]
    with store.engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(c.id).where(*conditions))]
    return store.load_cases(ids) if ids else []


def alerts_by_scenario(
    store: Store, scope: Scope, areas: Collection[str], start: datetime, end: datetime
) -> dict[str, int]:
    """How many alerts each scenario raised in ``scope`` and ``areas`` in
    ``[start, end)`` (the false-alarm rate's denominator, inside one area)."""
    a = t.alerts.c
    conditions = [a.area_code.in_(sorted(areas)), a.opened_at >= start, a.opened_at < end]
    if scope.areas is not None:
        conditions.append(a.area_code.in_(sorted(scope.areas)) if scope.areas else false())
    query = select(a.scenario, func.count()).where(*conditions).group_by(a.scenario)
    with store.engine.connect() as conn:
        return {str(scenario): int(n) for scenario, n in conn.execute(query)}


def latest_activity(store: Store, scope: Scope, before: datetime) -> datetime | None:
    """When the newest case or alert in ``scope`` opened, not after ``before`` (now):
    where the data's own latest period lies (a demo's replayed month, a database
    restored from last year), so the cockpit opens on figures rather than on an empty
    month."""
    c, a = t.cases.c, t.alerts.c
    case_q = select(func.max(c.opened_at)).where(*_conditions(scope, CaseFilter()))
    alert_q = select(func.max(a.opened_at)).where(a.opened_at <= before)
    if scope.areas is not None:
        alert_q = alert_q.where(a.area_code.in_(sorted(scope.areas)) if scope.areas else false())
    with store.engine.connect() as conn:
        found = [
            conn.execute(case_q.where(c.opened_at <= before)).scalar_one(),
            conn.execute(alert_q).scalar_one(),
        ]
    times = [f for f in found if f is not None]
    return max(times) if times else None
