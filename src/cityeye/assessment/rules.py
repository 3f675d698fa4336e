"""The contest's rules (数字治理赛考核细则) as data: an ``assessment:`` YAML file.

A district office changes its rules every year — a weight here, a target there, a new
deduction for 督办 received — so they are a file the office edits, not code. The file
says which KPIs count (those :mod:`cityeye.cases.kpi` computes), each with a weight and
a target (``at_least: 90%`` for a rate that should be high, ``at_most`` for the
false-alarm rate), the deductions and bonus items counted from the same counters
(overdue cases, reopened cases, 督办 and 催办 received …), the period a contest round
runs (month, quarter, year), who is ranked (streets, communities, parties) and whether
the board is public. It is read with :mod:`cityeye.sourcefile` like the world file, so
every problem comes back as ``file:line: path: reason``, all of them at once.

The packaged ``contest.yaml`` is the default (the demo's); ``cityeye serve
--assessment FILE`` uses another. The formula that turns the rules into points is
:mod:`cityeye.assessment.scoring`'s; docs/assessment.md shows both.
"""

from __future__ import annotations

import re
from datetime import time
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from cityeye.cases.kpi import COUNTS
from cityeye.domain.scenario import Module
from cityeye.errors import ProblemsError
from cityeye.sourcefile import Problem, SourceDoc, SourceError, parse_text, read_source

#: The rates a KPI term may name (:func:`cityeye.cases.kpi.figures`), and their
#: Chinese and English names (for the board and the rules' errors).
KPIS: dict[str, tuple[str, str]] = {
    "handling_rate": ("处置率", "handling rate"),
    "co_governance_rate": ("共治率", "co-governance rate"),
    "on_time_rate": ("按期办结率", "on-time rate"),
    "satisfaction": ("满意率", "satisfaction"),
    "false_alarm_rate": ("误报率", "false-alarm rate"),
}
#: The counters a deduction or bonus item may count: the KPI counters, and ``overdue``
#: (cases due in the period not closed by their deadline: ``due - on_time``).
COUNTABLE: dict[str, tuple[str, str]] = {
    "overdue": ("超期工单", "overdue cases"),
    "reopens": ("重新处置", "reopened"),
    "supervisions": ("被督办", "supervised (督办)"),
    "urges": ("被催办", "urged (催办)"),
    "escalations": ("升级", "escalated"),
    "opened": ("立案", "cases opened"),
    "closed": ("结案", "cases closed"),
    "co_governed": ("共治结案", "co-governed closures"),
    "satisfied": ("满意评价", "satisfied ratings"),
    "dismissed": ("误报撤销", "dismissed as false"),
    "self_resolved": ("自动消警", "resolved themselves"),
}
assert set(COUNTABLE) - {"overdue"} <= set(COUNTS), "a countable item the counters lack"
#: Who may be ranked: the area levels the counters roll cases up to, and parties.
RANKED = ("street", "community", "party")
PERIODS = ("month", "quarter", "year")


def _share(value: Any) -> Any:
    """``"90%"`` → 0.9; a number stays as it is (0.9)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            return float(value.strip()[:-1]) / 100
        except ValueError:
            raise ValueError(f"{value!r} is not a percentage such as 90%") from None
    return value


Share = Annotated[float, BeforeValidator(_share), Field(ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KpiTerm(_Model):
    """One KPI that scores: ``weight`` points at most, for reaching ``at_least`` (a
    rate that should be high) or staying within ``at_most`` (the false-alarm rate);
    ``module``: of that module's cases only (城市管理场景的处置率), counted from the
    cases themselves with the same definitions (the counters keep scenarios only
    district-wide)."""

    kpi: Literal[
        "handling_rate", "co_governance_rate", "on_time_rate", "satisfaction", "false_alarm_rate"
    ]
    weight: float = Field(gt=0, le=1000)
    at_least: Share | None = None
    at_most: Share | None = None
    module: Module | None = None

    @property
    def target(self) -> float:
        return self.at_least if self.at_least is not None else float(self.at_most or 0)

    @property
    def higher_is_better(self) -> bool:
        return self.at_least is not None


class CountItem(_Model):
    """A deduction or bonus: ``points`` per case counted, at most ``max`` in all."""

    count: Literal[
        "overdue",
        "reopens",
        "supervisions",
        "urges",
        "escalations",
        "opened",
        "closed",
        "co_governed",
        "satisfied",
        "dismissed",
        "self_resolved",
    ]
    points: float = Field(gt=0, le=1000)
    max: float | None = Field(default=None, gt=0, le=1000)


def _clock(value: Any) -> Any:
    """``"08:30"`` → 08:30; ``off`` → ``None``. An unquoted 08:30 reaches here as the
    number 510: YAML 1.1 reads ``H:MM`` as base 60, which is the minutes of the day."""
    if value is None or value is False or (isinstance(value, str) and value.strip() == "off"):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 24 * 60:
            raise ValueError(f"{value} is not a time of day such as '08:30'")
        return time(value // 60, value % 60)
    if isinstance(value, str):
        match = _CLOCK.fullmatch(value.strip())
        if match is None or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError(f"{value!r} is not a time of day such as '08:30', or off")
        return time(int(match[1]), int(match[2]))
    return value


_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
ClockTime = Annotated[time | None, BeforeValidator(_clock)]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Schedule(_Model):
    """When the routine runs (:mod:`cityeye.routine`), in the district's local time;
    ``off`` turns a job off. The times are ours: the seeds name the rhythm
    "日提醒、周通报、月考核" (seed 000), not its hours."""

    #: 日提醒: every day at this time.
    reminder: ClockTime = time(8, 30)
    #: 周通报: the week before's bulletin, on ``bulletin_day`` at this time.
    bulletin: ClockTime = time(9, 0)
    bulletin_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    #: 月考核: the round before's result, on the first day of a round at this time.
    result: ClockTime = time(9, 0)
    #: 设备检修: chronically noisy devices sent for maintenance, daily at this time
    #: (before the reminder, so the morning's reminder counts the new cases).
    maintenance: ClockTime = time(7, 0)


class Rules(_Model):
    """The contest's rules (see the module's docstring and docs/assessment.md)."""

    name: str = Field(default="数字治理赛", min_length=1, max_length=100)
    name_en: str = Field(default="Digital governance contest", min_length=1, max_length=100)
    period: Literal["month", "quarter", "year"] = "month"
    ranks: tuple[Literal["street", "community", "party"], ...] = ("street", "community")
    kpis: tuple[KpiTerm, ...] = Field(min_length=1)
    deductions: tuple[CountItem, ...] = ()
    bonus: tuple[CountItem, ...] = ()
    #: A term within this much under its target (in rate points) is yellow, not red.
    yellow_within: Share = 0.05
    #: A KPI with nothing to count (no case due, none rated): full points, or none.
    if_empty: Literal["full", "zero"] = "full"
    #: Whether GET /api/v1/public/board shows the board to everyone.
    public: bool = True
    #: When the daily reminder, the weekly bulletin and the round's result go out.
    schedule: Schedule = Schedule()

    @property
    def full_marks(self) -> float:
        return sum(term.weight for term in self.kpis)


class _File(_Model):
    assessment: Rules


class AssessmentError(ProblemsError):
    """The assessment file has problems; ``problems`` lists every one."""


_HINTS = {
    "extra_forbidden": "is not an assessment setting",
    "missing": "is required",
}


def _check(doc: SourceDoc) -> Rules:
    problems = list(doc.problems)
    data = doc.data if doc.data is not None else {}
    try:
        rules = _File.model_validate(data).assessment
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            message = _HINTS.get(err["type"], err["msg"].removeprefix("Value error, "))
            if err["type"] == "literal_error":
                message = f"{err['msg']} (got {err['input']!r})"
            problems.append(doc.problem(loc, message))
        raise AssessmentError(doc.source, problems) from None
    for index, term in enumerate(rules.kpis):
        at = ("assessment", "kpis", index)
        if (term.at_least is None) == (term.at_most is None):
            problems.append(doc.problem(at, "give one target: at_least or at_most"))
        elif term.kpi == "false_alarm_rate" and term.at_least is not None:
            problems.append(
                doc.problem((*at, "at_least"), "a false-alarm rate should be low: use at_most")
            )
        elif term.kpi != "false_alarm_rate" and term.at_most is not None:
            problems.append(
                doc.problem((*at, "at_most"), f"{term.kpi} should be high: use at_least")
            )
        if term.module is not None and term.kpi == "false_alarm_rate":
            problems.append(
                doc.problem((*at, "module"), "a module's false-alarm rate is not counted per area")
            )
    seen: dict[tuple[str, Module | None], int] = {}
    for index, term in enumerate(rules.kpis):
        key = (term.kpi, term.module)
        if key in seen:
            problems.append(
                doc.problem(
                    ("assessment", "kpis", index, "kpi"),
                    f"{term.kpi} is already scored by kpis[{seen[key]}]",
                )
            )
        seen.setdefault(key, index)
    if len(set(rules.ranks)) != len(rules.ranks):
        problems.append(doc.problem(("assessment", "ranks"), "names a level twice"))
    if problems:
        raise AssessmentError(doc.source, problems)
    return rules


def parse_rules(text: str, source: str = "(text)") -> Rules:
    """Rules from YAML text; :class:`AssessmentError` lists every problem."""
    try:
        doc = parse_text(text, source)
    except SourceError as exc:
        raise AssessmentError(exc.source, exc.problems) from None
    return _check(doc)


def load_rules(path: Path) -> Rules:
    """Rules from a file; :class:`AssessmentError` lists every problem with its line."""
    try:
        doc = read_source(path)
    except SourceError as exc:
        raise AssessmentError(exc.source, exc.problems) from None
    return _check(doc)


#: The packaged rules: the demo's, and the default of ``cityeye serve``.
DEFAULT_FILE = Path(__file__).resolve().parent / "contest.yaml"


@cache
def default_rules() -> Rules:
    return load_rules(DEFAULT_FILE)


__all__ = ["AssessmentError", "Problem", "Rules", "default_rules", "load_rules", "parse_rules"]
