"""The KPIs the seeds publish, exactly as PRODUCT.md defines them — in one place.

* 处置率 handling rate = cases closed in the period / cases due in the period
* 按期办结率 on-time rate = cases closed within their deadline / cases closed
* 共治率 co-governance rate = closed cases in which a non-government party acted / closed
* 满意率 satisfaction = ratings ≥ 4 of 5 / ratings (of cases closed in the period)
* 误报率 false-alarm rate = alerts dismissed as false / alerts
* times to dispatch, accept, arrive and close (median and p90), of cases opened in the
  period
* 督办 supervisions and 催办 urges: how many a leader made in the period (dated when
  made, per area like every counter), and reopened cases (重新处置, dated when
  reopened), for the contest's deductions (:mod:`cityeye.assessment`)

Every case is *due* in exactly one period: the one its handling deadline falls in — or
the one it was closed in, if it was closed before its deadline (a case handled early
was due then; counting it only as "closed" would push the rate over 100 % for any
period shorter than the longest deadline). One period per case is what lets the
cockpit add up days into months (:mod:`cityeye.cases.aggregate`) and get the same
figures as this module. A period that closes cases its predecessor left overdue can
therefore show more than 100 %; that is shown as it is, not capped. Dismissed and
self-resolved cases are neither due nor closed (they are counted apart). Rates are
``None`` when their denominator is zero — "no cases" is not "100 %".

:func:`case_facts` turns a case into the dated facts these definitions count;
:func:`count` and :func:`figures` turn counts into the KPIs; :func:`kpis` does both for
cases in memory (exact quantiles), the aggregate module for stored counters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.cases.lifecycle import Action, Note
from cityeye.cases.sla import DEFAULT_SLA, Stage, handle_limit
from cityeye.domain import AreaLevel, Case, CaseState, Party, Severity, World

#: The counters behind the KPIs; every one is dated (see :class:`CaseFacts`).
COUNTS = (
    "opened",
    "closed",
    "due",
    "on_time",
    "co_governed",
    "rated",
    "satisfied",
    "dismissed",
    "self_resolved",
    "escalations",
    "supervisions",
    "urges",
    "reopens",
)
#: The stages whose durations are reported, each measured from the report.
TIMES = {
    "dispatch": CaseState.DISPATCHED,
    "accept": CaseState.ACCEPTED,
    "arrive": CaseState.IN_PROGRESS,
    "close": CaseState.CLOSED,
}
_NOT_HANDLED = {CaseState.DISMISSED, CaseState.SELF_RESOLVED}
SLA = Mapping[Severity, Mapping[Stage, int]]


def due_at(case: Case, sla: SLA = DEFAULT_SLA) -> datetime:
    """When the case must be handled by: the deadline the case book set (a severity
    upgrade may have made it tighter), else its severity's last limit from the report."""
    if case.due_at is not None:
        return case.due_at
    return case.opened_at + timedelta(seconds=handle_limit(sla, case.severity))


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What a case contributes to the KPIs, each counter with the moment it counts at
    (``events``), and the stage durations (seconds from the report)."""

    events: tuple[tuple[str, datetime], ...]
    times: dict[str, float] = field(default_factory=dict)


def _first(case: Case, to: CaseState) -> datetime | None:
    return next((e.at for e in case.timeline if e.to_state == to and e.from_state != to), None)


def co_governed(case: Case, parties: Mapping[str, Party]) -> bool:
    """Whether a non-government party took part: lead, co-handler or actor."""
    actors = {*case.co_handlers, *(e.actor for e in case.timeline)}
    if case.lead is not None:
        actors.add(case.lead)
    return any(parties[a].non_government for a in actors if a in parties)


def case_facts(case: Case, parties: Mapping[str, Party], sla: SLA = DEFAULT_SLA) -> CaseFacts:
    """The dated counters of one case, by the definitions above."""
    events: list[tuple[str, datetime]] = [("opened", case.opened_at)]
    ended = case.closed_at
    if case.state == CaseState.CLOSED and ended is not None:
        deadline = due_at(case, sla)
        events.append(("closed", ended))
        events.append(("due", min(ended, deadline)))
        if ended <= deadline:
            events.append(("on_time", ended))
        if co_governed(case, parties):
            events.append(("co_governed", ended))
        if case.rating is not None:
            events.append(("rated", ended))
            if case.rating >= 4:
                events.append(("satisfied", ended))
    elif case.state == CaseState.DISMISSED and ended is not None:
        events.append(("dismissed", ended))
    elif case.state == CaseState.SELF_RESOLVED and ended is not None:
        events.append(("self_resolved", ended))
    elif case.state not in _NOT_HANDLED:
        events.append(("due", due_at(case, sla)))
    events.extend(("escalations", e.at) for e in case.timeline if e.action == Action.ESCALATE)
    events.extend(("supervisions", e.at) for e in case.timeline if e.action == Note.SUPERVISE)
    events.extend(("urges", e.at) for e in case.timeline if e.action == Note.URGE)
    events.extend(("reopens", e.at) for e in case.timeline if e.action == Action.REOPEN)
    times = {}
    for name, state in TIMES.items():
        when = _first(case, state)
        if when is not None:
            times[name] = (when - case.opened_at).total_seconds()
    return CaseFacts(tuple(events), times)


def rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def quantiles(values: list[float]) -> dict[str, float | None]:
    """Median and p90 (nearest rank) of exact durations."""
    if not values:
        return {"median_s": None, "p90_s": None, "n": 0}
    ordered = sorted(values)

    def q(p: float) -> float:
        return round(ordered[rank(p, len(ordered))], 1)

    return {"median_s": q(0.5), "p90_s": q(0.9), "n": len(ordered)}


def rank(p: float, n: int) -> int:
    """The 0-based rank of the ``p`` quantile among ``n`` sorted values."""
    return min(n - 1, int(p * (n - 1) + 0.5))


def figures(
    counts: Mapping[str, int],
    times: Mapping[str, dict[str, float | None]],
    alerts: int | None = None,
) -> dict[str, Any]:
    """The KPIs from counters (see :data:`COUNTS`) and stage-time quantiles."""
    c = {name: int(counts.get(name, 0)) for name in COUNTS}
    return {
        "cases": c["opened"],
        **c,
        "handling_rate": rate(c["closed"], c["due"]),
        "on_time_rate": rate(c["on_time"], c["closed"]),
        "co_governance_rate": rate(c["co_governed"], c["closed"]),
        "satisfaction": rate(c["satisfied"], c["rated"]),
        "alerts": alerts,
        "false_alarm_rate": rate(c["dismissed"], alerts) if alerts is not None else None,
        "times": {name: times.get(name, quantiles([])) for name in TIMES},
    }


def count(
    facts: Iterable[CaseFacts], start: datetime, end: datetime
) -> tuple[Counter[str], dict[str, list[float]]]:
    """Counters for ``[start, end)`` and the stage times of cases opened in it."""
    counts: Counter[str] = Counter()
    times: dict[str, list[float]] = {name: [] for name in TIMES}
    for fact in facts:
        opened_in = False
        for name, when in fact.events:
            if start <= when < end:
                counts[name] += 1
                opened_in = opened_in or name == "opened"
        if opened_in:
            for name, seconds in fact.times.items():
                times[name].append(seconds)
    return counts, times


def kpis(
    cases: Iterable[Case],
    parties: Mapping[str, Party],
    start: datetime,
    end: datetime,
    *,
    alerts: int | None = None,
    sla: SLA = DEFAULT_SLA,
) -> dict[str, Any]:
    """KPIs for cases in ``[start, end)``. ``alerts`` is the number of alerts raised in
    the period (for the false-alarm rate)."""
    counts, times = count((case_facts(c, parties, sla) for c in cases), start, end)
    out = figures(counts, {name: quantiles(v) for name, v in times.items()}, alerts)
    return {"period": {"start": start.isoformat(), "end": end.isoformat()}, **out}


def breakdown(
    cases: Iterable[Case],
    parties: Mapping[str, Party],
    start: datetime,
    end: datetime,
    group: Callable[[Case], str | None],
    *,
    sla: SLA = DEFAULT_SLA,
) -> dict[str, dict[str, Any]]:
    """The same KPIs per group (an area rolled up to a level, a scenario, a party, a
    day), groups in sorted order; cases whose group is ``None`` are left out, and so
    are groups with nothing in the period."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        name = group(case)
        if name is not None:
            groups.setdefault(name, []).append(case)
    out = {}
    for name in sorted(groups):
        result = kpis(groups[name], parties, start, end, sla=sla)
        result.pop("period")
        if any(result[k] for k in COUNTS):
            out[name] = result
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
