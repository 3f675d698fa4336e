"""Response standards (响应标准) and how often cases meet them (达标率).

A response standard is data: which cases it covers (by severity and scenario) and its
named steps, each a moment of the case's life that must come within a time of the
case's opening. Unlike the deadlines of :mod:`cityeye.cases.sla`, which escalate a case
while it runs, a standard is measured afterwards: of the cases it covers, how many met
each step — the "1 分钟响应率 / 5 分钟到达率 / 现场处结率" a command centre reports.

The built-in standard is "135" (:data:`DEFAULT_STANDARDS`), which the seeds define as
"1 分钟接警、3 分钟出动、5 分钟启动处置" (seed 001, lines 2517-2518 and 17870-17872).
Which cases it covers (severity critical) and which recorded moment stands for each of
its steps are **our choices**; the three rate names are those 九堡街道's command centre
reports ("1分钟响应率达 93%，5分钟到达率达 99%；现场处结率达 90%", seed 001, lines
82396-82400), and tying them to 135's steps is ours too. A world file's
``standards:`` section replaces the built-in list (docs/cases.md, "响应标准").

**Marks** are what cityeye records on a case's timeline (:mod:`cityeye.cases.lifecycle`).
Each timed mark is the first moment the case reached that stage *or a later one* along
派遣 → 受理 → 到场 → 处置完成, so a handler who goes straight from 受理 to 处置完成
(the lifecycle allows it) has arrived by then, and an escalated case taken by the
level above without a dispatch was dispatched when it was taken; the marks of one case
are therefore never out of order. Measured from ``opened_at`` (the report's arrival).

A timed step is **met** when its mark came at most its limit after the opening
(exactly at the limit is met, as a deadline is only missed when passed), **missed**
when it came later or has not come and the limit has passed, and **pending** while it
has not come and the limit has not passed yet (a case still open): pending cases are
in neither count. Its denominator is the covered cases opened in the period, less the
dismissed and self-resolved ones (a false alarm has nothing to reach; the KPIs count
them apart too).

**现场处结** (closed on site) is our definition, since the seeds give none: a covered case
*closed* in the period that was handled by the first party dispatched to it, without a
transfer — dispatched at most once, never returned (退回), escalated (升级) or reopened
(重新处置). Its denominator is the covered cases closed in the period.

Computed from the cases themselves, not from the KPI counters: the counters' stage
histograms (``t.accept.*``) bin durations at 8 bins per doubling, so "≤ 60 s" falls
inside a bin and cannot be told exactly; they keep no severity, so "critical cases of
this street" cannot be selected; and they measure the first entry into one state, not
the "reached or later" marks above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from cityeye.cases.kpi import rate
from cityeye.cases.lifecycle import Action
from cityeye.domain import Case, CaseState, Severity
from cityeye.domain.labels import Labelled

S = CaseState


class Mark(Labelled):
    """A moment of a case's life a step is measured to."""

    DISPATCHED = "dispatched", "派遣", "Dispatched"
    ACCEPTED = "accepted", "受理", "Accepted"
    ARRIVED = "arrived", "到场（开始处置）", "On site (handling begun)"
    HANDLED = "handled", "处置完成", "Handled"
    CLOSED = "closed", "结案", "Closed"
    ON_SITE = "closed_on_site", "现场处结", "Closed on site"


#: The stages along the chain, each with the states that mean "reached it or later".
_CHAIN: dict[Mark, frozenset[CaseState]] = {
    Mark.DISPATCHED: frozenset({S.DISPATCHED, S.ACCEPTED, S.IN_PROGRESS, S.HANDLED}),
    Mark.ACCEPTED: frozenset({S.ACCEPTED, S.IN_PROGRESS, S.HANDLED}),
    Mark.ARRIVED: frozenset({S.IN_PROGRESS, S.HANDLED}),
    Mark.HANDLED: frozenset({S.HANDLED}),
}
#: Marks that are an outcome, not a moment: a step on one has no time limit.
UNTIMED = frozenset({Mark.ON_SITE})
_NOT_HANDLED = frozenset({S.DISMISSED, S.SELF_RESOLVED})


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a standard: ``mark`` within ``within_s`` seconds of the opening
    (``None`` for an untimed mark), and the name of its rate (``1 分钟响应率``)."""

    id: str
    name_zh: str
    name_en: str
    mark: Mark
    within_s: int | None
    rate_zh: str
    rate_en: str


@dataclass(frozen=True, slots=True)
class Standard:
    """A response standard and the cases it covers: those of one of ``severities``
    (empty: any) whose scenario matches one of ``scenarios`` (shell patterns; empty:
    any)."""

    id: str
    name_zh: str
    name_en: str
    steps: tuple[Step, ...]
    severities: frozenset[Severity] = frozenset()
    scenarios: tuple[str, ...] = ()
    source: str = ""

    def covers(self, case: Case) -> bool:
        if self.severities and case.severity not in self.severities:
            return False
        scenario = case.scenario or case.origin.value
        return not self.scenarios or any(fnmatchcase(scenario, p) for p in self.scenarios)


#: The built-in standards: "135" for critical cases (see the module's docstring for
#: what is the seeds' and what is ours).
DEFAULT_STANDARDS: tuple[Standard, ...] = (
    Standard(
        id="135",
        name_zh="“135”应急处置圈",
        name_en="The 135 emergency response standard",
        severities=frozenset({Severity.CRITICAL}),
        source="seed 001 lines 2517-2518, 17870-17872 (135); 82396-82400 (rate names)",
        steps=(
            Step("take_call", "1 分钟接警", "Take the call in 1 min", Mark.ACCEPTED, 60,
                 "1 分钟响应率", "1-min response rate"),
            Step("set_out", "3 分钟出动", "Set out in 3 min", Mark.DISPATCHED, 180,
                 "3 分钟出动率", "3-min dispatch rate"),
            Step("start", "5 分钟启动处置", "Start handling in 5 min", Mark.ARRIVED, 300,
                 "5 分钟到达率", "5-min arrival rate"),
            Step("on_site", "现场处结", "Closed on site", Mark.ON_SITE, None,
                 "现场处结率", "On-site closure rate"),
        ),
    ),
)  # fmt: skip


def standards_for(configured: Sequence[Mapping[str, Any]] | None) -> tuple[Standard, ...]:
    """The standards in force: a world file's ``standards:`` (as validated by
    :mod:`cityeye.world.schema`, durations in seconds) replaces the built-in list as a
    whole, so a district may drop 135 or add its own; ``None`` (no section): the
    built-in list."""
    if configured is None:
        return DEFAULT_STANDARDS
    return tuple(
        Standard(
            id=str(s["id"]),
            name_zh=str(s["name"]),
            name_en=str(s.get("name_en") or s["name"]),
            severities=frozenset(Severity(v) for v in s.get("severities", ())),
            scenarios=tuple(str(p) for p in s.get("scenarios", ())),
            source=str(s.get("source") or ""),
            steps=tuple(
                Step(
                    id=str(step["id"]),
                    name_zh=str(step["name"]),
                    name_en=str(step.get("name_en") or step["name"]),
                    mark=Mark(step["mark"]),
                    within_s=int(step["within"]) if step.get("within") is not None else None,
                    rate_zh=str(step.get("rate") or step["name"] + "率"),
                    rate_en=str(step.get("rate_en") or step.get("name_en") or step["name"]),
                )
                for step in s["steps"]
            ),
        )
        for s in configured
    )


def reached(case: Case, mark: Mark) -> datetime | None:
    """When ``case`` first reached ``mark`` (a timed one), or ``None`` if it has not."""
    if mark == Mark.CLOSED:
        return case.closed_at if case.state == S.CLOSED else None
    states = _CHAIN.get(mark)
    if states is None:
        raise ValueError(f"{mark.value} is not a moment")
    return next((e.at for e in case.timeline if e.to_state in states), None)


def closed_on_site(case: Case) -> bool:
    """现场处结, our definition: closed, handled by the first party dispatched to it,
    with no transfer — at most one dispatch, never returned, escalated or reopened."""
    if case.state != S.CLOSED:
        return False
    actions = [e.action for e in case.timeline]
    if any(a in (Action.RETURN, Action.ESCALATE, Action.REOPEN) for a in actions):
        return False
    return actions.count(Action.DISPATCH) <= 1


#: A step's outcome for one case: met, missed, pending, or not counted (``None``).
MET, MISSED, PENDING = "met", "missed", "pending"


def outcome(case: Case, step: Step, start: datetime, end: datetime, asof: datetime) -> str | None:
    """What ``case`` counts for ``step`` in the period ``[start, end)``, seen at
    ``asof`` (now): see the module's docstring."""
    if step.mark == Mark.ON_SITE:
        ended = case.closed_at
        if case.state != S.CLOSED or ended is None or not start <= ended < end:
            return None
        return MET if closed_on_site(case) else MISSED
    if not start <= case.opened_at < end or case.state in _NOT_HANDLED:
        return None
    when = reached(case, step.mark)
    limit = case.opened_at + timedelta(seconds=step.within_s or 0)
    if when is not None:
        return MET if when <= limit else MISSED
    return MISSED if asof > limit else PENDING


@dataclass(slots=True)
class StepCount:
    """One step's counts in one group."""

    met: int = 0
    missed: int = 0
    pending: int = 0

    def json(self) -> dict[str, Any]:
        denominator = self.met + self.missed
        return {
            "met": self.met,
            "denominator": denominator,
            "missed": self.missed,
            "pending": self.pending,
            "rate": rate(self.met, denominator),
        }


@dataclass(slots=True)
class _Group:
    tallies: dict[str, StepCount] = field(default_factory=dict)
    cases: int = 0


def attainment(
    standard: Standard,
    cases: Iterable[Case],
    start: datetime,
    end: datetime,
    asof: datetime,
    group: Callable[[Case], str | None] | None = None,
) -> dict[str, Any]:
    """How often the ``cases`` covered by ``standard`` met each step in ``[start,
    end)``: ``total`` and, with ``group``, ``rows`` per group value (sorted; cases
    whose group is ``None`` count in the total only). Each step gives ``met``,
    ``denominator``, ``missed``, ``pending`` and ``rate`` (``None`` with nothing
    counted — no cases is not 100 %)."""
    total, rows = _Group(), dict[str, _Group]()
    for case in cases:
        if not standard.covers(case):
            continue
        name = group(case) if group is not None else None
        targets = [total] if name is None else [total, rows.setdefault(name, _Group())]
        counted = False
        for step in standard.steps:
            result = outcome(case, step, start, end, asof)
            if result is None:
                continue
            counted = True
            for target in targets:
                tally = target.tallies.setdefault(step.id, StepCount())
                setattr(tally, result, getattr(tally, result) + 1)
        if counted:
            for target in targets:
                target.cases += 1

    def steps(g: _Group) -> dict[str, Any]:
        return {s.id: g.tallies.get(s.id, StepCount()).json() for s in standard.steps}

    return {
        "total": {"cases": total.cases, "steps": steps(total)},
        "rows": [
            {"value": name, "cases": rows[name].cases, "steps": steps(rows[name])}
            for name in sorted(rows)
            if rows[name].cases
        ],
    }
