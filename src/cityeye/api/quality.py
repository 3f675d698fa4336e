"""误报率 · alarm quality: how each scenario's and each device's alarms ended (found
false on site, or real and handled), over local days and inside an area, scoped like
``/kpis``: an area outside the caller's scope is 404, and a person who does not see the
whole district must name one of their areas (422). Definitions and the maintenance rule:
:mod:`cityeye.cases.quality`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Services, Svc
from cityeye.api.district import area_in_scope, period, span
from cityeye.api.enterprises import visit_outcomes
from cityeye.cases.quality import NoisyRule, Outcome, Tally, by_device, by_scenario
from cityeye.domain import DEVICE_KINDS
from cityeye.domain.users import User, scope_of
from cityeye.store.quality import alarm_outcomes

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])

AreaQuery = Annotated[str | None, Query(max_length=128, description="default: all you see")]


def _outcomes(
    svc: Services, user: User, area: str | None, first: date | None, last: date | None
) -> tuple[date, date, list[Outcome]]:
    world = svc.world
    scope = scope_of(user, world)
    if area is None and scope.areas is not None:
        raise HTTPException(422, "area: give one of your areas")
    areas = area_in_scope(world, user, area)
    first, last = period(svc, first, last)
    start, end = span(svc, first, last)
    return first, last, alarm_outcomes(svc.store, world, scope, areas, start, end)


def _names(svc: Services) -> dict[str, tuple[str, str]]:
    """Scenario id → (Chinese, English) name: the running scenarios', else the stored
    Chinese ones (a scenario retired since its alarms)."""
    names = {sid: (zh, zh) for sid, zh in svc.store.scenario_names().items()}
    for loaded in svc.live.scenarios:
        spec = loaded.to_spec()
        names[spec.id] = (spec.name_zh, spec.name_en)
    return names


@router.get("/scenarios")
def scenarios(
    user: CurrentUser,
    svc: Svc,
    area: AreaQuery = None,
    first: date | None = None,
    last: date | None = None,
) -> dict[str, Any]:
    """Per scenario: the alarms whose cases opened in ``first..last`` (local days;
    default the last 30) in ``area``, how many were found false (误报) and how many
    real (handled), and the false share of the judged ones; for an ``enterprise.*``
    scenario also ``visits``: what the 包联干部's visits found about its warnings of
    the period (已化解 / 确认风险 / 已迁出, pending, lapsed; docs/enterprises.md)."""
    first, last, outcomes = _outcomes(svc, user, area, first, last)
    names = _names(svc)
    start, end = span(svc, first, last)
    visited = visit_outcomes(svc, user, area, start, end)
    tallies = by_scenario(outcomes)
    # a scenario whose warnings were visited but whose cases opened outside the period
    tallies = dict(sorted((tallies | {s: Tally() for s in visited if s not in tallies}).items()))
    rows = [
        {
            "scenario": sid,
            "name": names.get(sid, (sid, sid))[0],
            "name_en": names.get(sid, (sid, sid))[1],
            **tally.to_json(),
        }
        | ({"visits": visited[sid]} if sid in visited else {})
        for sid, tally in tallies.items()
    ]
    return {"area": area, "first": first.isoformat(), "last": last.isoformat(), "rows": rows}


@router.get("/devices")
def devices(
    user: CurrentUser,
    svc: Svc,
    area: AreaQuery = None,
    first: date | None = None,
    last: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> dict[str, Any]:
    """The noisiest devices in ``area`` over ``first..last``: most false alarms first,
    each with its kind and place in words, its tallies, and ``noisy`` — whether the
    maintenance rule (:class:`~cityeye.cases.quality.NoisyRule`, ours) would send it
    for maintenance on these figures."""
    first, last, outcomes = _outcomes(svc, user, area, first, last)
    world, rule = svc.world, NoisyRule()
    names = _names(svc)
    tallies = by_device(outcomes)
    rows = []
    for device_id, tally in list(tallies.items())[:limit]:
        device = world.devices.get(device_id)
        kind = DEVICE_KINDS.get(device.kind) if device else None
        where = world.areas.get(device.area) if device and device.area else None
        building = world.buildings.get(device.building) if device and device.building else None
        rows.append(
            {
                "device": device_id,
                "kind": device.kind if device else None,
                "kind_name": kind.zh if kind else "设备",
                "kind_name_en": kind.en if kind else "device",
                "area": where.code if where else None,
                "area_name": where.name if where else None,
                "place": building.name if building and building.name else None,
                "scenarios": [names.get(s, (s, s))[0] for s in sorted(tally.scenarios)],
                **tally.to_json(),
                "noisy": rule.is_noisy(tally),
            }
        )
    return {
        "area": area,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "total": len(tallies),
        "rule": {"min_false": rule.min_false, "min_share": rule.min_share, "days": rule.days},
        "rows": rows,
    }
