"""The KPIs the seeds publish, exactly as PRODUCT.md defines them.

* 处置率 handling rate = cases closed in the period / cases due in the period
* 按期办结率 on-time rate = cases closed within their deadline / cases closed
* 共治率 co-governance rate = closed cases in which a non-government party acted / closed
* 满意率 satisfaction = ratings ≥ 4 of 5 / ratings
* 误报率 false-alarm rate = alerts dismissed as false / alerts
* times to dispatch, accept, arrive and close (median and p90)

A case is *due* in the period its final (handle) deadline falls in — or in the period it
was closed, if it was closed before it fell due: a case handled early was due then, and
counting it only as "closed" would push the rate over 100 % for any period shorter than
the longest deadline. Dismissed and self-resolved cases are neither due nor closed for
the handling rate (they are counted apart). Rates are ``None`` when their denominator
is zero — "no cases" is not "100 %".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.cases.sla import DEFAULT_SLA, Stage
from cityeye.domain import AreaLevel, Case, CaseState, Party, Severity, World

_NOT_HANDLED = {CaseState.DISMISSED, CaseState.SELF_RESOLVED}


def due_at(case: Case, sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA) -> datetime:
    """When the case must be handled by (its severity's last limit from the report)."""
    limits = sla.get(case.severity, {})
    seconds = limits.get(Stage.HANDLE) or max(limits.values(), default=72 * 3600)
    return case.opened_at + timedelta(seconds=seconds)


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median_s": None, "p90_s": None, "n": 0}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * (len(ordered) - 1) + 0.5))], 1)

    return {"median_s": q(0.5), "p90_s": q(0.9), "n": len(ordered)}


def _first(case: Case, to: CaseState) -> datetime | None:
    return next((e.at for e in case.timeline if e.to_state == to and e.from_state != to), None)


def kpis(
    cases: Iterable[Case],
    parties: Mapping[str, Party],
    start: datetime,
    end: datetime,
    *,
    alerts: int | None = None,
    sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA,
) -> dict[str, Any]:
    """KPIs for cases in ``[start, end)``. ``alerts`` is the number of alerts raised in
    the period (for the false-alarm rate)."""
    cases = list(cases)
    closed = [
        c
        for c in cases
        if c.state == CaseState.CLOSED and c.closed_at is not None and start <= c.closed_at < end
    ]
    closed_ids = {c.id for c in closed}
    due = [
        c
        for c in cases
        if c.state not in _NOT_HANDLED and (c.id in closed_ids or start <= due_at(c, sla) < end)
    ]
    on_time = [c for c in closed if c.closed_at is not None and c.closed_at <= due_at(c, sla)]

    def co_governed(case: Case) -> bool:
        actors = {*case.co_handlers, *(e.actor for e in case.timeline)}
        if case.lead is not None:
            actors.add(case.lead)
        return any(parties[a].non_government for a in actors if a in parties)

    rated = [c.rating for c in closed if c.rating is not None]
    dismissed = sum(
        1
        for c in cases
        if c.state == CaseState.DISMISSED and c.closed_at and start <= c.closed_at < end
    )
    times: dict[str, list[float]] = {"dispatch": [], "accept": [], "arrive": [], "close": []}
    for case in cases:
        if not start <= case.opened_at < end:
            continue
        for name, state in (
            ("dispatch", CaseState.DISPATCHED),
            ("accept", CaseState.ACCEPTED),
            ("arrive", CaseState.IN_PROGRESS),
            ("close", CaseState.CLOSED),
        ):
            when = _first(case, state)
            if when is not None:
                times[name].append((when - case.opened_at).total_seconds())
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "cases": len(cases),
        "closed": len(closed),
        "due": len(due),
        "handling_rate": _rate(len(closed), len(due)),
        "on_time_rate": _rate(len(on_time), len(closed)),
        "co_governance_rate": _rate(sum(co_governed(c) for c in closed), len(closed)),
        "satisfaction": _rate(sum(1 for r in rated if r >= 4), len(rated)),
        "false_alarm_rate": _rate(dismissed, alerts) if alerts is not None else None,
        "dismissed": dismissed,
        "self_resolved": sum(1 for c in cases if c.state == CaseState.SELF_RESOLVED),
        "times": {name: _quantiles(values) for name, values in times.items()},
    }


def breakdown(
    cases: Iterable[Case],
    parties: Mapping[str, Party],
    start: datetime,
    end: datetime,
    group: Callable[[Case], str | None],
    *,
    sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA,
) -> dict[str, dict[str, Any]]:
    """The same KPIs per group (an area rolled up to a level, a scenario, a party, a
    day), groups in sorted order; cases whose group is ``None`` are left out."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        name = group(case)
        if name is not None:
            groups.setdefault(name, []).append(case)
    out = {}
    for name in sorted(groups):
        figures = kpis(groups[name], parties, start, end, sla=sla)
        figures.pop("period")
        out[name] = figures
    return out


def by_area_level(world: World, level: AreaLevel) -> Callable[[Case], str | None]:
    """Group by the area at ``level`` enclosing the case's area (roll-up)."""

    def group(case: Case) -> str | None:
        if case.area is None:
            return None
        area = world.enclosing(case.area, level)
        return area.code if area is not None else None

    return group


def by_day(timezone: str) -> Callable[[Case], str | None]:
    """Group by the local day the case was opened."""
    tz = ZoneInfo(timezone)
    return lambda case: case.opened_at.astimezone(tz).date().isoformat()
