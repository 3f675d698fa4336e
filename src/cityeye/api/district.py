"""The district as the API shows it to signed-in people: areas (with boundaries, for
the map), parties, devices, scenarios, alerts and KPIs.

Areas, parties and scenarios are the same for everyone (they are the map and the
rules). Devices, alerts and KPIs are bound by the user's area scope like cases: a
device or alert outside it is never listed, and KPIs are only given for an area inside
it (:func:`cityeye.domain.users.scope_of`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from cityeye.api.auth import CurrentUser
from cityeye.api.cases import local_day_bounds
from cityeye.api.deps import Services, Svc
from cityeye.api.exports import FORMAT, ExportFormat, breakdown_sheet, file_response
from cityeye.api.presenters import area_json, device_json, party_json, scenario_json
from cityeye.api.sse import MAX_SEQ, sse_response
from cityeye.api.sse import last_event_id as last_event_id_of
from cityeye.cases.kpi import breakdown as case_breakdown
from cityeye.cases.kpi import rate
from cityeye.domain import AreaLevel, Case, World
from cityeye.domain.dates import local_date
from cityeye.domain.detections import LIFT_TALLIES, TallyBy, tally, totals
from cityeye.domain.users import User, below, scope_of
from cityeye.store.case_queries import (
    alerts_by_scenario,
    cases_active,
    find_alerts,
    latest_activity,
)
from cityeye.store.outbox import ALERT_BELL

#: The live alert stream looks for changes this often, and says it is alive this often.
POLL_S = 1.0
HEARTBEAT_S = 15.0
#: How often an open alert stream checks that its credential is still good.
RECHECK_S = 15.0
#: The longest KPI period one request may ask for, and the days one may name.
MAX_KPI_DAYS = 400
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


router = APIRouter(prefix="/api/v1", tags=["district"])


def area_in_scope(world: World, user: User, code: str | None) -> set[str] | None:
    """``code`` and the areas below it, refused with 404 outside the scope."""
    if code is None:
        return None
    scope = scope_of(user, world)
    if code not in world.areas or (scope.areas is not None and code not in scope.areas):
        raise HTTPException(404, f"area: no area {code!r} for you")
    return set(below(world, [code]))


@router.get("/areas")
def areas(user: CurrentUser, svc: Svc, boundaries: bool = False) -> list[dict[str, Any]]:
    """Every area of the district, parents first; ``boundaries`` adds GeoJSON."""
    ordered = sorted(svc.world.areas.values(), key=lambda a: (a.level.rank, a.code))
    return [area_json(a, boundary=boundaries) for a in ordered]


@router.get("/parties")
def parties(user: CurrentUser, svc: Svc) -> list[dict[str, Any]]:
    return [party_json(p) for p in sorted(svc.world.parties.values(), key=lambda p: p.id)]


@router.get("/devices")
def devices(
    user: CurrentUser,
    svc: Svc,
    area: Annotated[str | None, Query(max_length=128)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Devices in the user's areas (all for an admin), a page at a time."""
    world = svc.world
    scope = scope_of(user, world)
    wanted = area_in_scope(world, user, area)
    found = [
        d
        for d in sorted(world.devices.values(), key=lambda d: d.id)
        if (scope.areas is None or d.area in scope.areas) and (wanted is None or d.area in wanted)
    ]
    start = (page - 1) * per_page
    return {
        "items": [device_json(d) for d in found[start : start + per_page]],
        "page": page,
        "per_page": per_page,
        "total": len(found),
    }


@router.get("/scenarios")
def scenarios(user: CurrentUser, svc: Svc) -> list[dict[str, Any]]:
    """The scenarios running, with their names, module and routing."""
    return [scenario_json(loaded.to_spec()) for loaded in svc.live.scenarios]


@router.get("/alerts")
def alerts(
    user: CurrentUser,
    svc: Svc,
    open_only: Annotated[bool, Query(alias="open")] = False,
    scenario: Annotated[str | None, Query(max_length=128)] = None,
    area: Annotated[str | None, Query(max_length=128)] = None,
    first: Annotated[date | None, Query(description="opened on or after this local day")] = None,
    last: Annotated[date | None, Query(description="opened on or before this local day")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Alerts in the user's areas, newest first; ``first``/``last``: those opened in
    those local days (the cockpit's stream of a period that is over)."""
    since = before = None
    if first is not None or last is not None:
        since, before = span(svc, *period(svc, first, last))
    found, total = find_alerts(
        svc.store,
        scope_of(user, svc.world),
        open_only=open_only,
        scenario=scenario,
        areas=area_in_scope(svc.world, user, area),
        opened_since=since,
        opened_before=before,
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    return {
        "items": [a.to_json() for a in found],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


def period(svc: Services, first: date | None, last: date | None) -> tuple[date, date]:
    """``first..last`` checked, by default the 30 local days up to today."""
    for name, day in (("first", first), ("last", last)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise HTTPException(422, f"{name}: {day} is not between {EARLIEST} and {LATEST}")
    last = last or svc.clock.now().astimezone(ZoneInfo(svc.world.timezone)).date()
    first = first or last - timedelta(days=29)
    if (last - first).days > MAX_KPI_DAYS:
        raise HTTPException(422, f"first: at most {MAX_KPI_DAYS} days at a time")
    if last < first:
        raise HTTPException(422, f"last: {last} is before first {first}")
    return first, last


def span(svc: Services, first: date, last: date) -> tuple[datetime, datetime]:
    """The instants the local days ``first..last`` run between: ``[start, end)``."""
    bound = local_day_bounds(svc.world.timezone)
    start, end = bound(first, start=True), bound(last, start=False)
    assert start is not None
    assert end is not None
    return start, end


def where(world: World, user: User, area: str | None) -> tuple[str, str]:
    """The counters' (dim, value) of ``area``, or of the district for those who
    see all of it."""
    if area is None:
        if scope_of(user, world).areas is not None:
            raise HTTPException(422, "area: give one of your areas")
        return "all", ""
    area_in_scope(world, user, area)
    return world.areas[area].level.value, area


@router.get("/alerts/stream")
async def alert_stream(
    request: Request,
    user: CurrentUser,
    svc: Svc,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_SEQ, description="resume after this id")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: each alert in the user's areas as it is opened, grows or
    is resolved (``event: alert``, ``id``: resume with ``Last-Event-ID`` or
    ``after``), from whichever process stored it. ``limit`` ends the stream after
    that many alerts."""
    store = svc.store
    scope = scope_of(user, svc.world)
    after = last_event_id_of(after, last_event_id)
    cursor = after if after is not None else await run_in_threadpool(store.last_alert_change)

    def fetch(cursor: int) -> list[tuple[int, bytes | None]]:
        return [
            (seq, orjson.dumps(a.to_json()) if scope.allows(a.area) else None)
            for seq, a in store.alert_changes_after(cursor)
        ]

    return sse_response(
        request,
        fetch,
        cursor,
        event="alert",
        limit=limit,
        poll_s=POLL_S,
        wake=ALERT_BELL,
        heartbeat_s=HEARTBEAT_S,
        recheck_s=RECHECK_S,  # read now: tests shorten it
    )


@router.get("/kpis")
def kpis(
    user: CurrentUser,
    svc: Svc,
    area: Annotated[str | None, Query(max_length=128, description="default: all")] = None,
    first: date | None = None,
    last: date | None = None,
) -> dict[str, Any]:
    """The KPIs (处置率, 按期办结率, 共治率, 满意率, …) of one area, or of the whole
    district for those who see all of it, over local days ``first..last``
    (default: the last 30 days)."""
    dim, value = where(svc.world, user, area)
    first, last = period(svc, first, last)
    summary = svc.store.kpi_summary(dim, value, first, last)
    return {"area": area, "first": first.isoformat(), "last": last.isoformat(), **summary}


@router.get("/detections")
def detections(
    user: CurrentUser,
    svc: Svc,
    by: Annotated[str, Query(pattern="^(device|building|community)$")] = "building",
    area: Annotated[str | None, Query(max_length=128, description="default: all")] = None,
    first: date | None = None,
    last: date | None = None,
) -> dict[str, Any]:
    """What the lifts counted but nobody was sent to: 阻止电动车上楼, 劝阻不文明乘梯,
    电梯故障预警 (seed 000's three figures), per lift, building or community, in one
    area (or the district for those who see all of it) over local days
    ``first..last`` (default: the last 30 days). Scoped like /kpis: an area outside
    the caller's is 404, and someone with areas must name one."""
    world = svc.world
    first, last = period(svc, first, last)
    if area is None and scope_of(user, world).areas is not None:
        raise HTTPException(422, "area: give one of your areas")
    areas = area_in_scope(world, user, area)
    start, end = span(svc, first, last)
    rows = svc.store.detection_rows([t.kind for t in LIFT_TALLIES], start, end)
    groups = tally(world, rows, TallyBy(by), areas)
    return {
        "area": area,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "by": by,
        "kinds": [{"kind": t.kind, "name_zh": t.zh, "name_en": t.en} for t in LIFT_TALLIES],
        "totals": totals(groups),
        "groups": [
            {"id": g.id, "name": g.name, "counts": g.counts, "total": g.total} for g in groups
        ],
    }


#: What the cockpit's table groups by, and inside which area.
By = Annotated[str, Query(pattern="^(street|community|grid|scenario|party)$")]
InArea = Annotated[str | None, Query(max_length=128, description="inside this area")]


@router.get("/kpis/breakdown")
def breakdown(
    user: CurrentUser,
    svc: Svc,
    by: By,
    area: InArea = None,
    first: date | None = None,
    last: date | None = None,
) -> dict[str, Any]:
    """The KPIs of each street / community / grid inside ``area`` (the cockpit's
    drill-down), or of each scenario or party there. The counters keep scenarios and
    parties district-wide only, so inside a street or community these are counted from
    the area's cases themselves (the same definitions, :mod:`cityeye.cases.kpi`; the
    false-alarm rate there counts the alerts of the cases' scenarios too)."""
    world = svc.world
    first, last = period(svc, first, last)
    scope = scope_of(user, world)
    if area is None and scope.areas is not None:
        raise HTTPException(422, "area: give one of your areas")
    if area is not None:
        area_in_scope(world, user, area)
    whole = area is None or world.areas[area].level == AreaLevel.DISTRICT
    if by in ("scenario", "party") and not whole:
        assert area is not None
        rows = _counted_from_cases(svc, user, area, by, first, last)
    else:
        rows = svc.store.kpi_breakdown(by, first, last, within=None if whole else area)
    if scope.areas is not None and by not in ("scenario", "party"):
        rows = {code: kpi for code, kpi in rows.items() if code in scope.areas}
    names = {code: world.areas[code].name for code in rows if code in world.areas}
    return {
        "by": by,
        "area": area,
        "first": first.isoformat(),
        "last": last.isoformat(),
        "rows": [{"value": k, "name": names.get(k, k), **v} for k, v in rows.items()],
    }


def _counted_from_cases(
    svc: Services, user: User, area: str, by: str, first: date, last: date
) -> dict[str, dict[str, Any]]:
    """The KPIs per scenario or party of the cases in ``area`` over ``first..last``
    (times: exact, from the cases), with the alerts each scenario raised there."""
    world = svc.world
    start, end = span(svc, first, last)
    areas = set(below(world, [area]))
    scope = scope_of(user, world)
    cases = cases_active(svc.store, scope, areas, start, end)

    def group(case: Case) -> str | None:
        if by == "party":
            return case.lead
        return case.scenario or case.origin.value

    rows = case_breakdown(cases, world.parties, start, end, group)
    if by == "scenario":
        raised = alerts_by_scenario(svc.store, scope, areas, start, end)
        for scenario, row in rows.items():
            row["alerts"] = raised.get(scenario, 0)
            row["false_alarm_rate"] = rate(row["dismissed"], row["alerts"])
    return rows


@router.get("/kpis/breakdown/export", response_class=Response)
def breakdown_export(
    user: CurrentUser,
    svc: Svc,
    by: By,
    area: InArea = None,
    first: date | None = None,
    last: date | None = None,
    fmt: Annotated[ExportFormat, FORMAT] = "xlsx",
) -> Response:
    """The cockpit's table (``/kpis/breakdown`` with the same parameters and scope) as
    an xlsx or PDF titled with its area, grouping and period."""
    table = breakdown(user, svc, by, area, first, last)
    names = svc.store.scenario_names()
    sheet = breakdown_sheet(table, svc.world, names, user, svc.clock.now())
    return file_response(sheet, fmt, "分区指标")


@router.get("/kpis/trend")
def trend(
    user: CurrentUser,
    svc: Svc,
    area: Annotated[str | None, Query(max_length=128)] = None,
    first: date | None = None,
    last: date | None = None,
) -> dict[str, Any]:
    """The KPIs of one area (or the district) day by day."""
    dim, value = where(svc.world, user, area)
    first, last = period(svc, first, last)
    days = svc.store.kpi_trend(dim, value, first, last)
    return {"area": area, "days": [{"day": d, **k} for d, k in days.items()]}


@router.get("/kpis/latest")
def latest(user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """The data's own latest period in the user's areas: ``day`` and ``month`` (local)
    of the newest case or alert up to now (``null`` with none), and ``today`` by the
    service's clock (a replay's). The cockpit opens on that month, so a demo or a
    database restored from last year opens on its figures, not on an empty month."""
    now = svc.clock.now()
    found = latest_activity(svc.store, scope_of(user, svc.world), now)
    day = local_date(found, svc.world.timezone) if found is not None else None
    return {
        "day": day.isoformat() if day else None,
        "month": day.isoformat()[:7] if day else None,
        "today": local_date(now, svc.world.timezone).isoformat(),
    }
