"""Response standards (响应标准) and their attainment (达标率), per area, party and
period: ``GET /api/v1/standards`` and ``GET /api/v1/standards/attainment``.

Scoped like ``/api/v1/kpis``: an area outside the caller's scope is a 404, a caller
bound to areas must name one, and the cases counted are only those the caller may see
(:func:`cityeye.domain.users.scope_of`). What is counted, and why from the cases rather
than the KPI counters, is :mod:`cityeye.cases.standards`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.district import area_in_scope, period, span, where
from cityeye.api.presenters import standard_json
from cityeye.cases.kpi import by_area_level
from cityeye.cases.standards import Standard, attainment, standards_for
from cityeye.domain import AreaLevel, Case, Severity, World
from cityeye.domain.users import scope_of
from cityeye.store.standards import standard_cases

router = APIRouter(prefix="/api/v1", tags=["district"])

#: What attainment rows may be grouped by.
By = Annotated[str | None, Query(pattern="^(street|community|party)$")]


def in_force(world: World) -> tuple[Standard, ...]:
    """The standards of the stored world (the built-in ones without a section)."""
    return standards_for(world.standards)


@router.get("/standards")
def standards(user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """The response standards in force: each with the cases it covers and its steps."""
    return {"standards": [standard_json(s) for s in in_force(svc.world)]}


@router.get("/standards/attainment")
def standards_attainment(
    user: CurrentUser,
    svc: Svc,
    area: Annotated[str | None, Query(max_length=128, description="default: all")] = None,
    first: date | None = None,
    last: date | None = None,
    by: By = None,
    standard: Annotated[str | None, Query(max_length=64, description="default: every one")] = None,
) -> dict[str, Any]:
    """How often each standard's steps were met in ``area`` over local days
    ``first..last`` (default: the last 30 days): per step ``met`` of ``denominator``,
    ``missed``, ``pending`` (still open, its limit not passed) and ``rate``; with
    ``by``, the same per street, community or lead party (主办) inside the area."""
    world = svc.world
    where(world, user, area)  # 404 outside the scope; a scoped caller names an area
    first, last = period(svc, first, last)
    chosen = [s for s in in_force(world) if standard is None or s.id == standard]
    if standard is not None and not chosen:
        raise HTTPException(404, f"standard: no standard {standard!r}")
    start, end = span(svc, first, last)
    asof = svc.clock.now()
    scope = scope_of(user, world)
    # only the severities the standards cover are read (none left out if one covers all)
    severities: set[Severity] | None = (
        None
        if any(not s.severities for s in chosen)
        else set().union(*(s.severities for s in chosen))
    )
    cases = standard_cases(
        svc.store, scope, area_in_scope(world, user, area), severities, start, end
    )
    group: Callable[[Case], str | None] | None = None
    if by == "party":
        group = _lead
    elif by is not None:
        group = by_area_level(world, AreaLevel(by))
    out = []
    for s in chosen:
        counted = attainment(s, cases, start, end, asof, group)
        rows = counted["rows"]
        if by in ("street", "community") and scope.areas is not None:
            rows = [r for r in rows if r["value"] in scope.areas]
        for row in rows:
            row["name"] = _name(world, by, row["value"])
        out.append({**standard_json(s), "total": counted["total"], "rows": rows})
    return {
        "area": area,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "by": by,
        "asof": asof.isoformat(),
        "standards": out,
    }


def _lead(case: Case) -> str | None:
    return case.lead


def _name(world: World, by: str | None, value: str) -> str:
    if by == "party":
        party = world.parties.get(value)
        return party.name if party is not None else value
    found = world.areas.get(value)
    return found.name if found is not None else value
