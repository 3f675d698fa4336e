"""Scores, ranks and the 晾晒台 (ranking board) of the contest, from the KPI counters.

Every figure comes from the stored counters (:meth:`cityeye.store.Store.kpi_breakdown`),
which are dated by day and month: a board can be asked for any past month, quarter or
year and gives the same answer every time (nothing is kept of a board itself). And
every score explains itself: it is the sum of its terms, each with its value, target,
weight and points, so a street that lost points sees where.

The formula (ours, not the seeds'; docs/assessment.md):

* a KPI term scores ``weight × min(1, value / target)`` for an ``at_least`` target
  (reaching the target gives full points, falling short gives the share reached), and
  ``weight × min(1, target / value)`` for an ``at_most`` one; a KPI with nothing to
  count (``value`` is ``None``) gets the rules' ``if_empty`` (full points, or none);
* a deduction takes ``points`` per case counted, at most ``max``; a bonus adds the same;
* the score is the KPI points plus the bonus minus the deductions, to two decimals;
* units are ranked by score, highest first; equal scores share a rank (1, 1, 3); a unit
  with nothing counted in the round is listed but not ranked;
* a term is green at or past its target, yellow within ``yellow_within`` of it, red
  further off (grey, ``none``, with nothing to count); a unit takes its worst colour.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol

from cityeye.assessment.rules import CountItem, KpiTerm, Rules
from cityeye.domain import AreaLevel, FieldError, World
from cityeye.domain.labels import Labelled


class Standing(Labelled):
    """A term's or a unit's colour against its targets, with its names: one place for
    the board page (``/api/v1/meta`` ``standings``), the report and the result."""

    RED = "red", "未达标", "Below target"
    YELLOW = "yellow", "接近目标", "Near target"
    GREEN = "green", "达标", "On target"
    NONE = "none", "无数据", "No data"


#: Worst first: the colour a unit shows is the worst of its terms'.
STATUSES = tuple(s.value for s in Standing)
#: Each status as the Chinese documents print it.
STATUS_NAMES = {s.value: s.zh for s in Standing}


class Counters(Protocol):
    """What scoring reads (:class:`cityeye.assessment.source.KpiSource`): the KPI
    counters per unit, and a module's figures per unit."""

    def kpi_breakdown(
        self, dim: str, first: date, last: date, *, within: str | None = None, times: bool = False
    ) -> dict[str, dict[str, Any]]: ...

    def module_breakdown(
        self, module: str, level: str, first: date, last: date, within: str | None
    ) -> dict[str, dict[str, Any]]: ...


# ------------------------------------------------------------------ periods
_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{2})|Q([1-4])))?$")


@dataclass(frozen=True, slots=True)
class Period:
    """A contest round: a month (``2026-10``), a quarter (``2026-Q4``) or a year
    (``2026``), as the local days ``first..last``."""

    kind: str
    label: str
    first: date
    last: date

    def previous(self) -> Period:
        """The round before (the board's movement is measured from it)."""
        return period_of(self.kind, self.first - timedelta(days=1))


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def period_of(kind: str, day: date) -> Period:
    """The month, quarter or year that ``day`` is in."""
    if kind == "month":
        first = day.replace(day=1)
        return Period(kind, first.isoformat()[:7], first, _month_end(first))
    if kind == "quarter":
        q = (day.month - 1) // 3
        first = date(day.year, 3 * q + 1, 1)
        return Period(kind, f"{day.year}-Q{q + 1}", first, _month_end(date(day.year, 3 * q + 3, 1)))
    if kind == "year":
        return Period(kind, str(day.year), date(day.year, 1, 1), date(day.year, 12, 31))
    raise FieldError("period", f"{kind!r} is not month, quarter or year")


def parse_period(text: str) -> Period:
    """``2026-10`` (a month), ``2026-Q4`` (a quarter) or ``2026`` (a year);
    :class:`FieldError` naming ``period`` otherwise."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise FieldError("period", f"{text!r} is not a month (2026-10), quarter (2026-Q4) or year")
    year, month, quarter = match.groups()
    if not 2000 <= int(year) <= 2100:
        raise FieldError("period", f"{year} is not between 2000 and 2100")
    if month is not None:
        if not 1 <= int(month) <= 12:
            raise FieldError("period", f"{text!r}: there is no month {month}")
        return period_of("month", date(int(year), int(month), 1))
    if quarter is not None:
        return period_of("quarter", date(int(year), 3 * int(quarter) - 2, 1))
    return period_of("year", date(int(year), 1, 1))


# ------------------------------------------------------------------ scores
@dataclass(frozen=True, slots=True)
class Term:
    """One KPI's part of a score."""

    kpi: str
    module: str | None
    value: float | None
    target: float
    at_least: bool
    weight: float
    points: float
    status: str


@dataclass(frozen=True, slots=True)
class Item:
    """One deduction (``points`` < 0) or bonus item: ``n`` counted at ``per`` each."""

    count: str
    n: int
    per: float
    max: float | None
    points: float


@dataclass(slots=True)
class Score:
    """One unit's score in one period, with its terms; ``rank`` once ranked, and the
    previous period's score and rank (``None`` where it was not ranked then)."""

    unit: str
    name: str
    score: float
    terms: list[Term]
    deductions: list[Item]
    bonus: list[Item]
    status: str
    counts: dict[str, int]
    rank: int | None = None
    previous: Score | None = None
    #: Whether the counters hold anything of the unit in the period (else unranked).
    active: bool = True


def _term(term: KpiTerm, value: float | None, rules: Rules) -> Term:
    target, weight = term.target, term.weight
    if value is None:
        points = weight if rules.if_empty == "full" else 0.0
        status = "none"
    else:
        if term.higher_is_better:
            share = 1.0 if target == 0 or value >= target else value / target
            gap = target - value
        else:
            share = 1.0 if value <= target else target / value
            gap = value - target
        points = weight * share
        status = "green" if gap <= 0 else "yellow" if gap <= rules.yellow_within + 1e-9 else "red"
    module = term.module.value if term.module is not None else None
    return Term(
        term.kpi, module, value, target, term.higher_is_better, weight, round(points, 2), status
    )


def counted(figures: dict[str, Any], name: str) -> int:
    """A countable item of a unit's figures (``overdue``: due but not on time)."""
    if name == "overdue":
        return max(0, int(figures.get("due") or 0) - int(figures.get("on_time") or 0))
    return int(figures.get(name) or 0)


def _item(item: CountItem, figures: dict[str, Any], sign: int) -> Item:
    n = counted(figures, item.count)
    points = n * item.points
    if item.max is not None:
        points = min(points, item.max)
    return Item(item.count, n, item.points, item.max, round(sign * points, 2))


def score(
    rules: Rules,
    unit: str,
    name: str,
    figures: dict[str, Any],
    modules: Mapping[str, dict[str, Any]] | None = None,
) -> Score:
    """The score of one unit from its KPI figures (:func:`cityeye.cases.kpi.figures`),
    and its figures per module for the terms about one module."""
    modules = modules or {}

    def value(t: KpiTerm) -> Any:
        if t.module is None:
            return figures.get(t.kpi)
        return modules.get(t.module.value, {}).get(t.kpi)

    terms = [_term(t, value(t), rules) for t in rules.kpis]
    minus = [_item(i, figures, -1) for i in rules.deductions]
    plus = [_item(i, figures, +1) for i in rules.bonus]
    total = sum(t.points for t in terms) + sum(i.points for i in (*minus, *plus))
    shown = [t.status for t in terms if t.status != "none"]
    status = min(shown, key=STATUSES.index) if shown else "none"
    counts = {k: counted(figures, k) for k in ("opened", "due", "closed", "overdue")}
    counts |= {i.count: i.n for i in (*minus, *plus)}
    return Score(unit, name, round(total, 2), terms, minus, plus, status, counts)


def rank(scores: list[Score]) -> list[Score]:
    """Highest score first; equal scores share a rank (1, 1, 3), then by code. A unit
    with nothing counted in the period is not ranked (``rank`` ``None``, listed last):
    a round without a case is not a score of 100 (nor of 0) to be compared."""
    ordered = sorted(scores, key=lambda s: (not s.active, -s.score, s.unit))
    for index, s in enumerate(ordered):
        if not s.active:
            s.rank = None
        elif index and s.score == ordered[index - 1].score:
            s.rank = ordered[index - 1].rank
        else:
            s.rank = index + 1
    return ordered


# ------------------------------------------------------------------ the board
@dataclass(slots=True)
class Board:
    """Every unit of ``level`` inside ``area`` (``None``: the district), scored and
    ranked for ``period``, each with the previous period's score and rank."""

    rules: Rules
    level: str
    area: str | None
    period: Period
    rows: list[Score] = field(default_factory=list)


def units(world: World, level: str, area: str | None) -> dict[str, str]:
    """The units competing: code → name (areas of ``level`` inside ``area``, or the
    parties serving there)."""
    if level == "party":
        return {
            p.id: p.name
            for p in world.parties.values()
            if area is None or any(world.within(a, area) for a in p.areas)
        }
    return {
        a.code: a.name
        for a in world.at_level(AreaLevel(level))
        if area is None or world.within(a.code, area)
    }


def scores(
    rules: Rules, counters: Counters, world: World, level: str, period: Period, area: str | None
) -> list[Score]:
    """Every unit's score in ``period``, ranked."""
    within = None if level == "party" or area == world.district.code else area
    found = counters.kpi_breakdown(level, period.first, period.last, within=within, times=False)
    wanted = {t.module.value for t in rules.kpis if t.module is not None}
    per_module = {
        m: counters.module_breakdown(m, level, period.first, period.last, within) for m in wanted
    }
    out = []
    for code, name in units(world, level, area).items():
        mine = {m: rows.get(code, {}) for m, rows in per_module.items()}
        s = score(rules, code, name, found.get(code, {}), mine)
        s.active = code in found
        out.append(s)
    return rank(out)


def ranked(rules: Rules, level: str) -> None:
    """:class:`FieldError` (``level``) unless the rules rank ``level``."""
    if level not in rules.ranks:
        raise FieldError(
            "level", f"{level!r} is not ranked by these rules ({', '.join(rules.ranks)})"
        )


def board(
    rules: Rules,
    counters: Counters,
    world: World,
    level: str,
    period: Period,
    area: str | None = None,
) -> Board:
    """The board of ``level`` (``street``, ``community``, ``party``) in ``period``,
    ranked among the units inside ``area``, with the movement since the period before."""
    ranked(rules, level)
    now = scores(rules, counters, world, level, period, area)
    before = {
        s.unit: s
        for s in scores(rules, counters, world, level, period.previous(), area)
        if s.rank is not None
    }
    for s in now:
        s.previous = before.get(s.unit)
    return Board(rules, level, area, period, now)


def history(
    rules: Rules,
    counters: Counters,
    world: World,
    level: str,
    period: Period,
    rounds: int,
    area: str | None = None,
) -> list[tuple[Period, list[Score]]]:
    """The last ``rounds`` rounds up to ``period``, oldest first, each ranked (the
    board's trend: how each unit's score and rank moved)."""
    ranked(rules, level)
    out = []
    for _ in range(rounds):
        out.append((period, scores(rules, counters, world, level, period, area)))
        period = period.previous()
    return out[::-1]
