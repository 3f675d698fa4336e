"""数字治理赛晾晒台 · the contest's ranking board, for staff and for the public.

``GET /api/v1/assessment/board`` is the staff view: signed in, bound by the area scope
like every KPI answer. Ranks are a fact of the contest, so a unit's rank is always
among every unit competing in ``area`` (by default the whole district); what a person
sees of them is their own areas' units (:func:`cityeye.domain.users.scope_of`): a
street leader sees their street's communities with their district-wide ranks, never
another street's; district staff see all of them. Parties can be ranked here too.

``GET /api/v1/public/board`` is the 晾晒 itself: the same scores, ranks and terms of
streets and communities, without signing in — units only, never a person's name (no
party level, where grid workers are ranked by name). The rules' ``public: false``
turns it off (404).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Services, Svc
from cityeye.api.presenters import board_json, trend_json
from cityeye.assessment.scoring import Period, board, history, parse_period, period_of
from cityeye.assessment.source import KpiSource, module_scenarios
from cityeye.domain import FieldError, World
from cityeye.domain.dates import local_date
from cityeye.domain.users import Scope, User, UserRole, scope_of
from cityeye.scenarios import load_catalogue
from cityeye.store.case_queries import latest_activity

router = APIRouter(prefix="/api/v1", tags=["assessment"])

Level = Annotated[
    str,
    Query(pattern="^(street|community|party)$", description="who is ranked"),
]
PeriodQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        description="2026-10 (month), 2026-Q4 (quarter) or 2026 (year); default: the "
        "rules' period holding the data's latest day",
    ),
]
AreaQuery = Annotated[
    str | None,
    Query(max_length=128, description="rank the units inside this area (default: all)"),
]


def _period(svc: Services, scope: Scope, text: str | None) -> Period:
    """The round asked for, else the rules' kind of round holding the newest case or
    alert (a demo's replayed month, a database restored from last year), else today's."""
    try:
        if text is not None:
            return parse_period(text)
        now = svc.clock.now()
        latest = latest_activity(svc.store, scope, now) or now
        return period_of(svc.assessment.period, local_date(latest, svc.world.timezone))
    except FieldError as exc:
        raise HTTPException(422, str(exc)) from None


def _shown(world: World, scope: Scope, level: str, area: str | None) -> frozenset[str] | None:
    """The units of the board ``scope`` may see (``None``: all), or 404 when ``area``
    is neither one of the user's areas nor a contest one of them competes in."""
    if scope.areas is None:
        return None
    if area is not None and area not in world.areas:
        raise HTTPException(404, f"area: no area {area!r} for you")
    field = area or world.district.code
    if field in scope.areas:
        return None
    if not any(world.within(code, field) for code in scope.areas):
        raise HTTPException(404, f"area: no area {area!r} for you")
    if level == "party":
        return frozenset(
            p.id
            for p in world.parties.values()
            if p.areas and all(a in scope.areas for a in p.areas)
        )
    return scope.areas


@cache
def _catalogue_modules() -> dict[str, frozenset[str]]:
    return module_scenarios(load_catalogue())


def _source(svc: Services) -> KpiSource:
    """The counters, and the modules of the scenarios running (the built-in
    catalogue's on a server without a pipeline)."""
    if svc.pipeline is not None:
        modules = module_scenarios(svc.pipeline.scenarios)
    else:
        modules = _catalogue_modules()
    return KpiSource(svc.store, svc.world, modules)


T = TypeVar("T")


def _scored(svc: Services, area: str | None, compute: Callable[[], T]) -> T:
    """``compute()`` for ``area`` (404 when there is no such area), a bad rule or
    level answered 422 naming the field."""
    if area is not None and area not in svc.world.areas:
        raise HTTPException(404, f"area: no area {area!r}")
    try:
        return compute()
    except FieldError as exc:
        raise HTTPException(422, str(exc)) from None


def staff_view(
    user: User, svc: Services, level: str, area: str | None
) -> tuple[Scope, frozenset[str] | None]:
    """The staff views' caller: their scope and the units they may see (residents
    403: theirs is the public board)."""
    if user.role == UserRole.RESIDENT:
        raise HTTPException(403, "the staff board is for staff; see /api/v1/public/board")
    scope = scope_of(user, svc.world)
    return scope, _shown(svc.world, scope, level, area)


def _board(
    svc: Services, level: str, period: Period, area: str | None, shown: frozenset[str] | None
) -> dict[str, Any]:
    world = svc.world
    found = _scored(
        svc, area, lambda: board(svc.assessment, _source(svc), world, level, period, area)
    )
    return board_json(found, world, shown)


@router.get("/assessment/board")
def staff_board(
    user: CurrentUser,
    svc: Svc,
    level: Level = "street",
    period: PeriodQuery = None,
    area: AreaQuery = None,
) -> dict[str, Any]:
    """The board for staff: each unit's score, rank, terms (value, target, weight,
    points), deductions, red/yellow/green status and movement since the period before;
    only the units in the caller's areas, ranked among all the units inside ``area``."""
    scope, shown = staff_view(user, svc, level, area)
    return _board(svc, level, _period(svc, scope, period), area, shown)


@router.get("/public/board")
def public_board(
    svc: Svc,
    level: Annotated[str, Query(pattern="^(street|community)$")] = "street",
    period: PeriodQuery = None,
    area: AreaQuery = None,
) -> dict[str, Any]:
    """The public 晾晒台: streets' or communities' scores, ranks and terms, no sign-in,
    no person's name (404 when the rules keep the board for staff)."""
    if not svc.assessment.public:
        raise HTTPException(404, "the board is not public here")
    return _board(svc, level, _period(svc, Scope(None), period), area, None)


Rounds = Annotated[int, Query(ge=2, le=24, description="how many rounds, up to ``period``")]


def _trend(
    svc: Services,
    level: str,
    period: Period,
    rounds: int,
    area: str | None,
    shown: frozenset[str] | None,
) -> dict[str, Any]:
    rules, world = svc.assessment, svc.world
    found = _scored(
        svc, area, lambda: history(rules, _source(svc), world, level, period, rounds, area)
    )
    return trend_json(found, shown)


@router.get("/assessment/trend")
def staff_trend(
    user: CurrentUser,
    svc: Svc,
    level: Level = "street",
    period: PeriodQuery = None,
    rounds: Rounds = 6,
    area: AreaQuery = None,
) -> dict[str, Any]:
    """Each unit's score and rank over the last ``rounds`` rounds up to ``period``
    (oldest first), with the same scope as the staff board."""
    scope, shown = staff_view(user, svc, level, area)
    return _trend(svc, level, _period(svc, scope, period), rounds, area, shown)


@router.get("/public/trend")
def public_trend(
    svc: Svc,
    level: Annotated[str, Query(pattern="^(street|community)$")] = "street",
    period: PeriodQuery = None,
    rounds: Rounds = 6,
    area: AreaQuery = None,
) -> dict[str, Any]:
    """The public board's trend: units only (404 when the board is not public)."""
    if not svc.assessment.public:
        raise HTTPException(404, "the board is not public here")
    return _trend(svc, level, _period(svc, Scope(None), period), rounds, area, None)
