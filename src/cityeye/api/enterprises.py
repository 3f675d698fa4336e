"""``/api/v1/enterprises``: 小河网驿's key enterprises, their visits (走访) and the
warnings that send a staff member to them (issue 21 items 1, 2, 4).

Who may do what (:mod:`cityeye.enterprises.registry`): admins everything; dispatchers
keep the registry of their post's areas and record visits there; leaders read; a
handler reads and visits the enterprises they are responsible for (包联) only;
residents nothing (403). An enterprise outside the caller's reach answers 404, and an
``area`` outside their scope 404 too. Lists show phones masked (138****1234); one
enterprise's page shows them whole to those who may visit it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.district import area_in_scope
from cityeye.domain import World
from cityeye.domain.dates import iso_utc
from cityeye.domain.enterprises import Change, Enterprise, Visit, WarningOutcome
from cityeye.domain.users import User
from cityeye.enterprises import registry, visits
from cityeye.errors import FieldError, NotFoundError
from cityeye.ingest.hotline.masking import mask_phone
from cityeye.store import enterprises as db
from cityeye.store.users import list_users

router = APIRouter(prefix="/api/v1/enterprises", tags=["enterprises"])

AreaQuery = Annotated[str | None, Query(max_length=64, description="an area, and below")]


def _reader(user: User) -> None:
    if not registry.may_read(user):
        raise HTTPException(403, "the enterprise registry is for staff")


def _registry(svc: Svc, user: User, area: str | None = None) -> list[Enterprise]:
    """The enterprises the caller may see (within ``area`` when given)."""
    world = svc.world
    within = area_in_scope(world, user, area)
    return [
        e
        for e in db.enterprises(svc.store, within)
        if registry.visible(user, world, e) and (within is None or e.area in within)
    ]


def _one(svc: Svc, user: User, enterprise_id: str) -> Enterprise:
    found = db.get_enterprise(svc.store, enterprise_id)
    if found is None or not registry.visible(user, svc.world, found):
        raise NotFoundError(f"no enterprise {enterprise_id}")
    return found


def _names(svc: Svc) -> dict[str, str]:
    return {u.id: u.display_name for u in list_users(svc.store)}


def _area_name(world: World, code: str) -> str:
    return world.areas[code].name if code in world.areas else code


def enterprise_json(
    e: Enterprise, world: World, names: dict[str, str], *, whole: bool = False
) -> dict[str, Any]:
    """An enterprise as the API shows it; ``whole``: the contacts' phones unmasked."""
    street = registry.street_of(world, e.area)
    return {
        "id": e.id,
        "credit_code": e.credit_code,
        "name": e.name,
        "sector": e.sector,
        "size": e.size.value if e.size else None,
        "address": e.address,
        "area": e.area,
        "area_name": _area_name(world, e.area),
        "street": street,
        "street_name": _area_name(world, street) if street else None,
        "lat": e.lat,
        "lon": e.lon,
        "contacts": db.contacts_json(e.contacts) if whole else registry.masked_contacts(e.contacts),
        "staff": e.staff_id,
        "staff_name": names.get(e.staff_id or ""),
        "tags": list(e.tags),
        "risk": e.risk.value,
        "visit_interval_days": e.interval.days,
        "subject": e.subject_id,
        "created_at": iso_utc(e.created_at),
        "updated_at": iso_utc(e.updated_at),
    }


def visit_json(v: Visit, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": v.id,
        "enterprise": v.enterprise_id,
        "at": iso_utc(v.at),
        "visitor": v.visitor_id,
        "visitor_name": names.get(v.visitor_id),
        "people_met": v.people_met,
        "situation": v.situation,
        "problems": v.problems,
        "photos": list(v.photos),
        "lat": v.lat,
        "lon": v.lon,
        "distance_m": v.distance_m,
        "far": v.far,
        "alert_id": v.alert_id,
        "outcome": v.outcome.value if v.outcome else None,
    }


def change_json(c: Change, names: dict[str, str]) -> dict[str, Any]:
    return {
        "at": iso_utc(c.at),
        "actor": c.actor,
        "actor_name": names.get(c.actor),
        "fields": {k: {"before": b, "after": a} for k, (b, a) in c.fields.items()},
    }


def _masked_field(name: str, value: Any) -> Any:
    """A history entry's contacts as lists show them (phones masked)."""
    if name != "contacts" or not isinstance(value, list):
        return value
    return [
        {**c, "phone": (mask_phone(str(c.get("phone") or "")) or "") if c.get("phone") else ""}
        for c in value
        if isinstance(c, dict)
    ]


# ---------------------------------------------------------------------- the registry
@router.get("")
def list_enterprises(
    user: CurrentUser,
    svc: Svc,
    area: AreaQuery = None,
    staff: Annotated[str | None, Query(max_length=32, description="a 包联干部's user id")] = None,
    q: Annotated[str | None, Query(max_length=100, description="in the name or code")] = None,
) -> dict[str, Any]:
    """重点企业名录: the enterprises the caller may see, by name, contacts masked, each
    with its last visit and when the next is due."""
    _reader(user)
    world, names, now = svc.world, _names(svc), svc.clock.now()
    found = _registry(svc, user, area)
    if staff is not None:
        found = [e for e in found if e.staff_id == staff]
    if q:
        needle = q.strip().upper()
        found = [e for e in found if needle in e.name.upper() or needle in e.credit_code]
    rows = {r.enterprise.id: r for r in visits.plan(svc.store, found)}
    out = []
    for e in found:
        item = enterprise_json(e, world, names)
        row = rows[e.id]
        item |= {
            "last_visit": iso_utc(row.last_visit),
            "due_at": iso_utc(row.due_at),
            "overdue": row.overdue(now),
            "pending_warnings": row.pending_warnings,
        }
        out.append(item)
    return {"enterprises": out, "total": len(out)}


class EnterpriseBody(BaseModel):
    """An enterprise's fields; on PATCH only those given change (``null`` clears an
    optional one). ``area``: a grid's code or exact name; ``staff``: the 包联干部's
    user id or username; ``size``: large / medium / small / micro (or 大型…); ``risk``:
    low / medium / high (or 低风险…)."""

    credit_code: str | None = Field(default=None, max_length=40, examples=["91330100716105852F"])
    name: str | None = Field(default=None, max_length=200)
    sector: str | None = Field(default=None, max_length=100)
    size: str | None = Field(default=None, max_length=16)
    address: str | None = Field(default=None, max_length=300)
    area: str | None = Field(default=None, max_length=64)
    lat: float | None = None
    lon: float | None = None
    contacts: list[dict[str, str]] | None = Field(default=None, max_length=10)
    staff: str | None = Field(default=None, max_length=64)
    tags: list[str] | None = Field(default=None, max_length=20)
    risk: str | None = Field(default=None, max_length=16)


def _fields(body: EnterpriseBody) -> dict[str, Any]:
    return body.model_dump(exclude_unset=True)


@router.post("", status_code=201)
def create_enterprise(body: EnterpriseBody, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Register an enterprise (dispatchers of its area, admins)."""
    _reader(user)
    world, fields = svc.world, _fields(body)
    area = registry.find_area(world, str(fields.get("area") or ""))
    area_in_scope(world, user, area)  # 404 outside the caller's areas
    if not registry.may_edit(user, world, area):
        raise HTTPException(403, "only dispatchers of its area register an enterprise")
    made, _ = registry.save(svc.store, world, fields, actor=user.id, now=svc.clock.now())
    return enterprise_json(made, world, _names(svc), whole=True)


# ---------------------------------------------------------------------- visits, plans
@router.get("/visits/due")
def visits_due(
    user: CurrentUser,
    svc: Svc,
    area: AreaQuery = None,
    staff: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    """逾期走访: the enterprises whose visit is overdue (soonest due first) and, per
    staff member, how many of theirs are."""
    _reader(user)
    world, names, now = svc.world, _names(svc), svc.clock.now()
    found = _registry(svc, user, area)
    if staff is not None:
        found = [e for e in found if e.staff_id == staff]
    late = [r for r in visits.plan(svc.store, found) if r.overdue(now)]
    per: dict[str, int] = {}
    for r in late:
        per[r.enterprise.staff_id or ""] = per.get(r.enterprise.staff_id or "", 0) + 1
    return {
        "overdue": [
            enterprise_json(r.enterprise, world, names)
            | {
                "last_visit": iso_utc(r.last_visit),
                "due_at": iso_utc(r.due_at),
                "pending_warnings": r.pending_warnings,
            }
            for r in late
        ],
        "by_staff": [
            {"staff": k or None, "staff_name": names.get(k), "overdue": n}
            for k, n in sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
    }


def _day(value: str | None, name: str, default: dt.date) -> dt.date:
    if value is None:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FieldError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None


@router.get("/visits/coverage")
def visits_coverage(
    user: CurrentUser,
    svc: Svc,
    area: AreaQuery = None,
    since: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> dict[str, Any]:
    """走访覆盖率 for a period (the district's dates ``from``–``to``, both inclusive;
    default this month): per staff member, per street and in all — enterprises, due,
    visited of the due, visits (家次) and the rate."""
    _reader(user)
    world, names = svc.world, _names(svc)
    zone = ZoneInfo(world.timezone)
    today = svc.clock.now().astimezone(zone).date()
    first = _day(since, "from", today.replace(day=1))
    last = _day(until, "to", today)
    if last < first:
        raise FieldError("to", "is before from")
    if (last - first).days > 400:
        raise FieldError("to", "a period is at most 400 days")
    start = dt.datetime.combine(first, dt.time(), zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone)
    per_staff, per_street, total = visits.coverage(
        svc.store, world, _registry(svc, user, area), since=start, until=end
    )

    def row(c: visits.Coverage, name: str | None) -> dict[str, Any]:
        return {
            "key": c.key or None,
            "name": name,
            "enterprises": c.enterprises,
            "due": c.due,
            "visited_due": c.visited_due,
            "visited": c.visited,
            "visits": c.visits,
            "rate": c.rate,
        }

    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "staff": [row(c, names.get(c.key)) for c in per_staff],
        "streets": [row(c, _area_name(world, c.key) if c.key else None) for c in per_street],
        "total": row(total, None),
    }


# ---------------------------------------------------------------------- warnings
def warning_json(task: visits.WarningTask, world: World, names: dict[str, str]) -> dict[str, Any]:
    e = task.enterprise
    return {
        "alert": task.alert.to_json(),
        "enterprise": {"id": e.id, "name": e.name, "area": e.area},
        "staff": e.staff_id,
        "staff_name": names.get(e.staff_id or ""),
        "due_at": iso_utc(task.due_at),
        "status": task.status,
        "outcome": (
            task.outcome_visit.outcome.value
            if task.outcome_visit is not None and task.outcome_visit.outcome
            else None
        ),
        "visit": task.outcome_visit.id if task.outcome_visit is not None else None,
    }


@router.get("/warnings")
def list_warnings(
    user: CurrentUser,
    svc: Svc,
    area: AreaQuery = None,
    status: Annotated[str | None, Query(pattern="^(pending|done|lapsed)$")] = None,
    staff: Annotated[str | None, Query(max_length=32)] = None,
) -> dict[str, Any]:
    """预警走访任务: each ``enterprise.*`` warning about an enterprise the caller may
    see, as a visit task of its 包联干部 (due within the documented days), with the
    outcome its visit recorded, and the events behind it (the evidence)."""
    _reader(user)
    world, names, now = svc.world, _names(svc), svc.clock.now()
    tasks = visits.warning_tasks(svc.store, _registry(svc, user, area))
    if status is not None:
        tasks = [t for t in tasks if t.status == status]
    if staff is not None:
        tasks = [t for t in tasks if t.enterprise.staff_id == staff]
    out = []
    for task in tasks:
        item = warning_json(task, world, names)
        item["evidence"] = [
            ev.to_json() | {"ts": iso_utc(ev.ts)}
            for ev in visits.evidence(svc.store, task.alert, now)
        ]
        out.append(item)
    return {"warnings": out}


def visit_outcomes(
    svc: Svc, user: User, area: str | None, start: dt.datetime, end: dt.datetime
) -> dict[str, dict[str, int]]:
    """Per scenario, what the visits found about the warnings opened in ``[start,
    end)`` about the enterprises the caller may see (the quality page's 走访结果)."""
    tasks = visits.warning_tasks(svc.store, _registry(svc, user, area))
    return visits.outcome_counts(t for t in tasks if start <= t.alert.opened_at < end)


@router.get("/warnings/stats")
def warning_stats(user: CurrentUser, svc: Svc, area: AreaQuery = None) -> dict[str, Any]:
    """Per scenario: the warnings about the caller's enterprises and what their visits
    found (已化解 / 确认风险 / 已迁出), pending and lapsed."""
    _reader(user)
    tasks = visits.warning_tasks(svc.store, _registry(svc, user, area))
    return {"scenarios": visits.outcome_counts(tasks)}


# ---------------------------------------------------------------------- one enterprise
@router.get("/{enterprise_id}")
def get_enterprise(enterprise_id: str, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """One enterprise: the whole contacts to those who may visit it, its plan, its
    visits (newest first) and its warnings."""
    _reader(user)
    e = _one(svc, user, enterprise_id)
    world, names, now = svc.world, _names(svc), svc.clock.now()
    whole = visits.may_visit(user, world, e)
    out = enterprise_json(e, world, names, whole=whole)
    row = visits.plan(svc.store, [e])[0]
    out |= {
        "last_visit": iso_utc(row.last_visit),
        "due_at": iso_utc(row.due_at),
        "overdue": row.overdue(now),
        "may_visit": whole,
        "may_edit": registry.may_edit(user, world, e.area),
        "visits": [visit_json(v, names) for v in db.visits(svc.store, [e.id])],
        "warnings": [warning_json(t, world, names) for t in visits.warning_tasks(svc.store, [e])],
    }
    return out


@router.patch("/{enterprise_id}")
def update_enterprise(
    enterprise_id: str, body: EnterpriseBody, user: CurrentUser, svc: Svc
) -> dict[str, Any]:
    """Change an enterprise (dispatchers of its area, admins); the change is recorded
    in its history. Moving it to another area needs a post covering that one too."""
    _reader(user)
    e = _one(svc, user, enterprise_id)
    world, fields = svc.world, _fields(body)
    if not registry.may_edit(user, world, e.area):
        raise HTTPException(403, "only dispatchers of its area change an enterprise")
    if "area" in fields:
        area = registry.find_area(world, str(fields["area"] or ""))
        if not registry.may_edit(user, world, area):
            raise HTTPException(404, f"area: no area {area!r} for you")
    made, _ = registry.save(
        svc.store, world, fields, actor=user.id, now=svc.clock.now(), existing=e
    )
    return enterprise_json(made, world, _names(svc), whole=True)


@router.get("/{enterprise_id}/history")
def enterprise_history(enterprise_id: str, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """变更记录: who changed what, when, oldest first (phones masked)."""
    _reader(user)
    e = _one(svc, user, enterprise_id)
    names = _names(svc)
    changes = []
    for c in db.history(svc.store, e.id):
        item = change_json(c, names)
        for name, pair in item["fields"].items():
            pair["before"] = _masked_field(name, pair["before"])
            pair["after"] = _masked_field(name, pair["after"])
        changes.append(item)
    return {"enterprise": e.id, "changes": changes}


class VisitBody(BaseModel):
    """A visit: when (default now), whom they met, the enterprise's situation, the
    problems found; ``photos``: refs from ``POST /api/v1/attachments``; ``lat``/``lon``:
    the phone's check-in; ``alert_id`` and ``outcome`` (resolved / confirmed /
    relocated) when the visit answers a warning."""

    at: dt.datetime | None = None
    people_met: str = Field(max_length=300)
    situation: str = Field(max_length=4000)
    problems: str = Field(default="", max_length=4000)
    photos: list[str] = Field(default_factory=list, max_length=9)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    alert_id: str | None = Field(default=None, max_length=64)
    outcome: WarningOutcome | None = None


@router.get("/{enterprise_id}/visits")
def enterprise_visits(enterprise_id: str, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """The enterprise's visits, newest first."""
    _reader(user)
    e = _one(svc, user, enterprise_id)
    names = _names(svc)
    return {"visits": [visit_json(v, names) for v in db.visits(svc.store, [e.id])]}


@router.post("/{enterprise_id}/visits", status_code=201)
def add_visit(enterprise_id: str, body: VisitBody, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Record a visit (the enterprise's 包联干部, or a dispatcher of its area)."""
    _reader(user)
    e = _one(svc, user, enterprise_id)
    if not visits.may_visit(user, svc.world, e):
        raise HTTPException(403, "only its 包联干部 or a dispatcher of its area records a visit")
    svc.files.check(body.photos)
    now = svc.clock.now()
    at = body.at or now
    if at.tzinfo is None:
        raise FieldError("at", "give a time zone (2026-12-02T10:00:00+08:00)")
    visit = visits.record_visit(
        svc.store,
        svc.world,
        user,
        e,
        at=at,
        people_met=body.people_met,
        situation=body.situation,
        problems=body.problems,
        photos=body.photos,
        lat=body.lat,
        lon=body.lon,
        alert_id=body.alert_id,
        outcome=body.outcome,
        now=now,
    )
    return visit_json(visit, _names(svc))
