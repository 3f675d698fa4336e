"""``/api/v1/cases``: the closed loop for people — list, detail with timeline, and moves.

Every query goes through the signed-in user's area scope (:func:`scope_of`): a case
outside it answers 404, exactly like a case that does not exist.

A move (``POST /cases/{id}/actions``) is not written to the case directly: it becomes a
``case.action`` event through the same intake as every other input, so it is stored,
replayable and snapshot-safe, and with ``--bus`` it reaches the worker that keeps the
case. It must carry ``If-Match`` with the version the person saw (the ``ETag`` of the
case, the number of its timeline lines): if somebody else moved the case in between,
the answer is 409 with the case as it is now, and nothing changes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from cityeye.analysis import CaseError
from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Services, Svc
from cityeye.api.exports import EXPORT_ROWS, FORMAT, ExportFormat, case_sheet, file_response
from cityeye.api.presenters import candidate_json, case_detail_json, case_json
from cityeye.cases.book import CaseBook
from cityeye.cases.lifecycle import (
    SUPERVISION,
    SUPERVISION_NOTE_MAX,
    SUPERVISORS,
    Action,
    Note,
    Role,
    acting_role,
    check_supervision,
    handles,
    parse_move,
    roles_for,
    urge_wait,
)
from cityeye.cases.routing import plan, route
from cityeye.domain import (
    Alert,
    Case,
    CaseOrigin,
    CaseState,
    Event,
    FieldError,
    Party,
    PartyKind,
    Severity,
)
from cityeye.domain.labels import Labelled
from cityeye.domain.scenario import Module
from cityeye.domain.users import User, UserRole, below, scope_of
from cityeye.errors import RefusedError
from cityeye.live.pipeline import Pipeline, wait_applied
from cityeye.scenarios import LoadedScenario
from cityeye.scenarios.conditions import WorldValues
from cityeye.scenarios.scoring import explain
from cityeye.store.case_queries import (
    CaseFilter,
    case_alert_id,
    count_cases,
    find_cases,
    open_loads,
    visible_case,
)
from cityeye.store.users import display_names

#: Seconds a desk action waits for the analysis process (``serve --analysis process``)
#: to apply it before the answer is 202 (accepted, applied later).
ACTION_WAIT_S = 3.0
#: The days a case filter may name (as the KPIs: cityeye.api.district).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def local_day_bounds(timezone: str) -> Callable[..., datetime | None]:
    """``bound(day, start=True)``: the first moment of the local ``day`` in
    ``timezone``; ``start=False``: the first moment after it (``None`` for no day)."""
    zone: tzinfo = ZoneInfo(timezone)

    def bound(day: date | None, *, start: bool) -> datetime | None:
        if day is None:
            return None
        if not start:
            day = day + timedelta(days=1)
        return datetime.combine(day, time(0), zone).astimezone(UTC)

    return bound


def etag(case: Case) -> str:
    return f'W/"{CaseBook.version(case)}"'


class Move(BaseModel):
    action: str = Field(max_length=32, description="dispatch, accept, handle, close, …")
    party: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=2000)
    photos: list[Annotated[str, Field(max_length=80)]] = Field(
        default=[], max_length=20, description="references from POST /api/v1/attachments"
    )


def check_move(user: User, case: Case, move: Move) -> Role:
    """The lifecycle role ``user`` takes ``move`` in, or the HTTP refusal: 422 for no
    such move, 403 for a move their role never makes, or a case their party does not
    handle, or a party not their own. Whether the case's state allows it is the
    lifecycle's to say when the move is applied (422 then)."""
    try:
        action = parse_move(move.action)
    except ValueError as exc:
        raise HTTPException(422, f"action: {exc}") from None
    if action in SUPERVISION:
        raise HTTPException(
            422, f"action: {move.action} is not a desk move; POST /api/v1/cases/{{id}}/{action}"
        )
    role = acting_role(user.role, action)
    if role is None or role not in roles_for(action):
        raise HTTPException(403, f"a {user.role.value} may not {move.action} cases")
    if user.role == UserRole.HANDLER and not handles(case, user.party_id):
        raise HTTPException(403, "only the parties handling a case act on it")
    if user.role == UserRole.HANDLER and move.party not in (None, user.party_id):
        raise HTTPException(403, "party: a handler acts for their own party only")
    return role


def action_attrs(user: User, case: Case, move: Move, role: Role, seen: int) -> dict[str, Any]:
    """The ``case.action`` event's attrs for a desk move (:meth:`CaseBook.scripted`)."""
    attrs: dict[str, Any] = {
        "case": case.id,
        "action": move.action,
        "role": role.value,
        "actor": user.username,
        "note": move.note,
        "photos": move.photos,
        "if_version": seen,
        "immediate": True,
    }
    if move.party is not None:
        attrs["party"] = move.party
    elif user.role == UserRole.HANDLER:
        attrs["party"] = user.party_id
    return attrs


router = APIRouter(prefix="/api/v1/cases", tags=["cases"])


#: The desk's work queue: each tab's cases (its states, or overdue, or my party's),
#: its names, and which roles see it. The counts endpoint sends these with the counts,
#: so the desk asks for exactly the cases a tab counted.
OPEN_STATES = tuple(s.value for s in CaseState if not s.terminal)
TABS: tuple[dict[str, Any], ...] = (
    {"key": "mine", "zh": "我的", "en": "Mine", "states": OPEN_STATES, "mine": True},
    {"key": "to_dispatch", "zh": "待派遣", "en": "To dispatch", "states": ("reported", "returned")},
    {"key": "to_verify", "zh": "待核查", "en": "To check", "states": ("handled", "verified")},
    {
        "key": "working",
        "zh": "在办",
        "en": "In hand",
        "states": ("dispatched", "accepted", "in_progress", "reopened", "escalated"),
    },
    {"key": "overdue", "zh": "超期", "en": "Overdue", "states": None, "overdue": True},
    {
        "key": "closed",
        "zh": "已结",
        "en": "Ended",
        "states": ("closed", "dismissed", "self_resolved"),
    },
)
#: The tabs each role works from, in order (a handler's own cases come first; the
#: dispatch and check queues are the dispatcher's).
ROLE_TABS: dict[UserRole, tuple[str, ...]] = {
    UserRole.HANDLER: ("mine", "working", "overdue", "closed"),
    UserRole.DISPATCHER: ("to_dispatch", "to_verify", "working", "overdue", "closed"),
    UserRole.ADMIN: ("to_dispatch", "to_verify", "working", "overdue", "closed"),
    UserRole.LEADER: ("to_dispatch", "to_verify", "working", "overdue", "closed"),
}
#: The most parties the dispatch picker lists at once (the proposed ones always).
CANDIDATES_MAX = 50


def values_of(name: str, given: str | None, enum: type[Labelled]) -> list[str] | None:
    """A comma-separated query parameter of ``enum``'s values (``None``: not given), or
    422 naming the parameter and the values it may take."""
    if given is None:
        return None
    values = [v.strip() for v in given.split(",") if v.strip()]
    bad = [v for v in values if v not in enum.__members__.values()]
    if bad:
        options = ", ".join(m.value for m in enum)
        raise HTTPException(422, f"{name}: {', '.join(bad)} not among {options}")
    return values


def _case_filter(
    svc: Services,
    *,
    state: str | None = None,
    scenario: str | None = None,
    area: str | None = None,
    overdue: bool = False,
    q: str | None = None,
    module: str | None = None,
    party: str | None = None,
    severity: str | None = None,
    days: Mapping[str, date | None] | None = None,
    sort: str = "opened",
) -> CaseFilter:
    """The filter the query parameters ask for, or 422 saying which is wrong."""
    world = svc.world
    states = values_of("state", state, CaseState)
    severities = values_of("severity", severity, Severity)
    areas = None
    if area is not None:
        if area not in world.areas:
            raise HTTPException(422, f"area: no area {area!r}")
        areas = below(world, [area])
    scenarios = None
    if module is not None:
        if module not in {m.value for m in Module}:
            options = ", ".join(m.value for m in Module)
            raise HTTPException(422, f"module: {module!r} not among {options}")
        scenarios = {s.id for s in svc.live.scenarios if s.module.value == module}
    if party is not None and party not in world.parties:
        raise HTTPException(422, f"party: no party {party!r}")
    days = days or {}
    for name, day in days.items():
        if day is not None and not EARLIEST <= day <= LATEST:
            raise HTTPException(422, f"{name}: {day} is not between {EARLIEST} and {LATEST}")
    text = q.strip() if q is not None and q.strip() else None
    # a place typed in the search: the areas it names, and every area below them
    named = [a.code for a in world.areas.values() if text and text in a.name]
    since = local_day_bounds(world.timezone)
    return CaseFilter(
        states=states,
        scenario=scenario,
        areas=areas,
        overdue_at=svc.clock.now() if overdue else None,
        text=text,
        scenarios=scenarios,
        party=party,
        opened_since=since(days.get("opened_first"), start=True),
        opened_before=since(days.get("opened_last"), start=False),
        closed_since=since(days.get("closed_first"), start=True),
        closed_before=since(days.get("closed_last"), start=False),
        severities=severities,
        text_areas=below(world, named) if named else None,
        order=sort,
    )


@dataclass(frozen=True, slots=True)
class CaseQuery:
    """The filters of ``GET /api/v1/cases`` as they were given: the list and its
    export (``/cases/export``) take exactly these, parsed once here."""

    state: str | None = None
    scenario: str | None = None
    area: str | None = None
    overdue: bool = False
    q: str | None = None
    module: str | None = None
    party: str | None = None
    opened_first: date | None = None
    opened_last: date | None = None
    closed_first: date | None = None
    closed_last: date | None = None
    severity: str | None = None
    sort: str = "opened"

    def where(self, svc: Services) -> CaseFilter:
        """The filter they ask for, or 422 saying which is wrong."""
        days = {
            "opened_first": self.opened_first,
            "opened_last": self.opened_last,
            "closed_first": self.closed_first,
            "closed_last": self.closed_last,
        }
        return _case_filter(
            svc,
            state=self.state,
            scenario=self.scenario,
            area=self.area,
            overdue=self.overdue,
            q=self.q,
            module=self.module,
            party=self.party,
            severity=self.severity,
            days=days,
            sort=self.sort,
        )


def case_query(
    state: Annotated[str | None, Query(description="comma-separated states")] = None,
    scenario: Annotated[str | None, Query(max_length=128)] = None,
    area: Annotated[str | None, Query(max_length=128, description="and the areas below")] = None,
    overdue: bool = False,
    q: Annotated[
        str | None,
        Query(max_length=200, description="in the title or case number, or an area's name"),
    ] = None,
    module: Annotated[
        str | None, Query(max_length=64, description="the scenarios of one module")
    ] = None,
    party: Annotated[str | None, Query(max_length=64, description="lead or co-handler")] = None,
    opened_first: Annotated[date | None, Query(description="opened on or after")] = None,
    opened_last: Annotated[date | None, Query(description="opened on or before")] = None,
    closed_first: Annotated[date | None, Query(description="ended on or after")] = None,
    closed_last: Annotated[date | None, Query(description="ended on or before")] = None,
    severity: Annotated[
        str | None, Query(max_length=64, description="comma-separated severities")
    ] = None,
    sort: Annotated[
        Literal["opened", "due"], Query(description="opened: newest first; due: deadline first")
    ] = "opened",
) -> CaseQuery:
    return CaseQuery(
        state,
        scenario,
        area,
        overdue,
        q,
        module,
        party,
        opened_first,
        opened_last,
        closed_first,
        closed_last,
        severity,
        sort,
    )


CaseQueryDep = Annotated[CaseQuery, Depends(case_query)]


@router.get("")
def list_cases(
    user: CurrentUser,
    svc: Svc,
    query: CaseQueryDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    """Cases the user may see, newest first (or the nearest deadline first), a page at
    a time. The days are the district's local days, as the KPIs count them (the
    cockpit drills through its figures to the cases behind them)."""
    world = svc.world
    found, total = find_cases(
        svc.store,
        scope_of(user, world),
        query.where(svc),
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    return {
        "items": [case_json(c, world, timeline=False) for c in found],
        "page": page,
        "per_page": per_page,
        "total": total,
    }


@router.get("/export", response_class=Response)
def export_cases(
    user: CurrentUser,
    svc: Svc,
    query: CaseQueryDep,
    fmt: Annotated[ExportFormat, FORMAT] = "xlsx",
) -> Response:
    """The cases ``GET /api/v1/cases`` lists with the same filters (and the same area
    scope), all of them up to a cap, as an xlsx or PDF whose title names the filters
    in Chinese (docs/cases.md, "导出 · Export")."""
    world = svc.world
    cap = EXPORT_ROWS[fmt]
    found, total = find_cases(
        svc.store, scope_of(user, world), query.where(svc), offset=0, limit=cap
    )
    given = asdict(query)
    sheet = case_sheet(
        found, total, given, world, svc.store.scenario_names(), user, svc.clock.now()
    )
    return file_response(sheet, fmt, "工单清单")


@router.get("/counts")
def case_counts(
    user: CurrentUser,
    svc: Svc,
    scenario: Annotated[str | None, Query(max_length=128)] = None,
    area: Annotated[str | None, Query(max_length=128, description="and the areas below")] = None,
    q: Annotated[
        str | None,
        Query(max_length=200, description="in the title or case number, or an area's name"),
    ] = None,
    severity: Annotated[
        str | None, Query(max_length=64, description="comma-separated severities")
    ] = None,
) -> dict[str, Any]:
    """The desk's tabs for the signed-in user, each with how many cases in their scope
    it holds (with the same search and filters as the list), and the query that lists
    them: ``states`` (``null``: any), ``overdue``, ``party``."""
    tabs = []
    wheres = {}
    for key in ROLE_TABS.get(user.role, ()):
        tab = next(t for t in TABS if t["key"] == key)
        if tab.get("mine") and user.party_id is None:
            continue
        party = user.party_id if tab.get("mine") else None
        states = tab["states"]
        wheres[key] = _case_filter(
            svc,
            state=",".join(states) if states is not None else None,
            scenario=scenario,
            area=area,
            overdue=bool(tab.get("overdue")),
            q=q,
            party=party,
            severity=severity,
        )
        tabs.append(
            {
                "key": key,
                "zh": tab["zh"],
                "en": tab["en"],
                "states": list(states) if states is not None else None,
                "overdue": bool(tab.get("overdue")),
                "party": party,
            }
        )
    counts = count_cases(svc.store, scope_of(user, svc.world), wheres)
    return {"tabs": [tab | {"count": counts[tab["key"]]} for tab in tabs]}


@router.get("/{case_id}")
def get_case(
    case_id: Annotated[str, Path(max_length=128)],
    user: CurrentUser,
    svc: Svc,
    response: Response,
) -> dict[str, Any]:
    """One case with its whole timeline; its ``ETag`` is the version to send back.
    Also what the desk's case view shows: the place (area chain, point), the
    resident's photos and words, why it was opened, the reporter's masked contact, and
    each timeline line's actor name and plain text."""
    case = visible_case(svc.store, scope_of(user, svc.world), case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    response.headers["ETag"] = etag(case)
    return case_detail(svc, case, user)


def case_detail(svc: Services, case: Case, user: User) -> dict[str, Any]:
    """The case as its detail, a move's answer and a 409 show it: :func:`case_json`
    with what the desk's case view needs (found here: the report, the alert, the
    scenario, the people named in the timeline)."""
    store, world = svc.store, svc.world
    report = None
    if case.origin != CaseOrigin.ALERT and case.key and "/" in case.key:
        source, _, event_id = case.key.partition("/")
        report = store.get_event(source, event_id)
    alert_id = case_alert_id(store, case.id)
    alert = store.get_alert(alert_id) if alert_id else None
    loaded = None
    if svc.pipeline is not None and case.scenario:
        loaded = next((s for s in svc.pipeline.scenarios if s.id == case.scenario), None)
    described = loaded.config.description if loaded is not None else None
    people = display_names(store, {e.actor for e in case.timeline if e.actor not in world.parties})
    detail = case_detail_json(
        case,
        world,
        user,
        report=report,
        alert=alert,
        spec=loaded.to_spec() if loaded is not None else None,
        description=described.zh if described is not None else None,
        people=people,
        now=svc.clock.now(),
    )
    why = detail.get("why")
    if loaded is not None and alert is not None and isinstance(why, dict):
        card = score_card(svc, loaded, alert)
        if card is not None:
            why["score"] = card
    return detail


def score_card(svc: Services, loaded: LoadedScenario, alert: Alert) -> dict[str, Any] | None:
    """Why a colour code's unit has its colour (issue 20): the score when the alert
    was resolved (or now), each event with the points it took, from the alert's
    events and the scenario's ``score:`` model — computed as the engine computed it
    (:func:`cityeye.scenarios.scoring.explain`). ``None`` for other scenarios."""
    model = loaded.config.score
    if model is None:
        return None
    at = alert.resolved_at or svc.clock.now()
    since = alert.opened_at - timedelta(seconds=model.window)
    events = svc.store.events_among(alert.event_ids, loaded.config.reads, since, at)
    zone = ZoneInfo(svc.world.timezone)

    def local(t: float) -> int:
        moment = datetime.fromtimestamp(t, zone)
        return moment.hour * 3600 + moment.minute * 60 + moment.second

    compiled = model.compile("score", WorldValues(district=svc.world.district.code))
    return explain(compiled, events, at, local).to_json()


@router.get("/{case_id}/candidates")
def dispatch_candidates(
    case_id: Annotated[str, Path(max_length=128)],
    user: CurrentUser,
    svc: Svc,
    q: Annotated[str | None, Query(max_length=100, description="in the party's name")] = None,
) -> dict[str, Any]:
    """Whom the case may be sent to, for the dispatch picker: first the parties the
    routing rules choose for it, its grid's grid worker, community (居委会) and
    property company, each with why; then (all of them with ``q``: those whose name
    has it) the other parties serving the case's area or an area in the dispatcher's
    scope. Each with how many open cases it leads now."""
    world = svc.world
    scope = scope_of(user, world)
    case = visible_case(svc.store, scope, case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    role = acting_role(user.role, Action.DISPATCH)
    if role is None or role not in roles_for(Action.DISPATCH):
        raise RefusedError(f"a {user.role.value} does not dispatch cases")
    covering = {a.code for a in world.ancestors(case.area)} if case.area else set()
    covering.add(world.district.code)

    def reachable(p: Party) -> bool:
        return any(a in covering or scope.areas is None or a in scope.areas for a in p.areas)

    loads = open_loads(svc.store, [p.id for p in world.parties.values() if reachable(p)])
    proposed: dict[str, str] = {}
    default = None
    if svc.pipeline is not None and case.scenario:
        found = next((s for s in svc.pipeline.scenarios if s.id == case.scenario), None)
        default = found.config.route if found is not None else None
    how = plan(world, case.scenario, case.area, default)
    if how.party is not None and how.party in world.parties:
        proposed[how.party] = "派遣规则指定"
    elif how.kind is not None:
        chosen = route(world, how.kind, case.area, loads)
        if chosen is not None:
            proposed[chosen.id] = f"派遣规则：{how.kind.zh}"
    for kind in (*how.co_handlers, PartyKind.GRID_WORKER, PartyKind.COMMUNITY, PartyKind.PROPERTY):
        near = route(world, kind, case.area, loads)
        if near is not None and near.id not in proposed:
            reason = "派遣规则：协办" if kind in how.co_handlers else f"本辖区{kind.zh}"
            proposed[near.id] = reason
    text = q.strip() if q else ""
    items = [
        candidate_json(world.parties[pid], loads.get(pid, 0), why)
        for pid, why in proposed.items()
        if reachable(world.parties[pid]) and (not text or text in world.parties[pid].name)
    ]
    rest = sorted(
        (
            p
            for p in world.parties.values()
            if p.id not in proposed and reachable(p) and (not text or text in p.name)
        ),
        key=lambda p: (not any(a in covering for a in p.areas), loads.get(p.id, 0), p.id),
    )
    items += [candidate_json(p, loads.get(p.id, 0), None) for p in rest]
    shown = items[: max(CANDIDATES_MAX, len(proposed))]
    return {"items": shown, "total": len(items)}


@router.post("/{case_id}/actions")
async def act(
    case_id: Annotated[str, Path(max_length=128)],
    move: Move,
    user: CurrentUser,
    svc: Svc,
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Move the case on. 200 with the case when applied, 409 with the current
    case when it changed since ``If-Match``, 422 when the lifecycle refuses, 202
    when it went to a bus worker."""
    world = svc.world
    case = await run_in_threadpool(visible_case, svc.store, scope_of(user, world), case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    if if_match is None:
        raise HTTPException(428, "If-Match: send the ETag of the case you looked at")
    try:
        seen = int(if_match.removeprefix("W/").strip('"'))
    except ValueError:
        raise HTTPException(400, 'If-Match: not a case ETag such as W/"7"') from None
    role = check_move(user, case, move)
    svc.files.check(move.photos)
    if CaseBook.version(case) != seen:
        return await _conflict(svc, case, user)
    attrs = action_attrs(user, case, move, role, seen)
    event = Event(
        id=f"desk-{secrets.token_hex(8)}",
        kind="case.action",
        ts=svc.clock.now(),
        source="desk",
        area=case.area,
        attrs=attrs,
    )
    applied = await submit_action(svc.live, event)
    if applied is None:
        return JSONResponse({"accepted": event.id, "case": case.id}, status_code=202)
    now, error = applied
    if error is not None and error.field == "if_version":
        return await _conflict(svc, now, user)
    if error is not None:
        raise HTTPException(422, error.reason)
    shown = await run_in_threadpool(case_detail, svc, now, user)
    return JSONResponse(shown, headers={"ETag": etag(now)})


class Supervision(BaseModel):
    note: str = Field(
        default="",
        max_length=SUPERVISION_NOTE_MAX,
        description="督办: what is to be done (required); 催办: optional",
    )


@router.post("/{case_id}/supervise")
async def supervise(
    case_id: Annotated[str, Path(max_length=128)],
    body: Supervision,
    user: CurrentUser,
    svc: Svc,
) -> JSONResponse:
    """督办: a leader (or an admin) whose areas cover the case records a supervision
    note on it. It moves nothing; it is on the timeline under their name, told to the
    lead party's handlers (no lead yet: the area's dispatchers) on every channel, and
    counted (``supervisions``: on the case and in the KPIs of its areas and day).
    200 with the case; 403 for anyone else; 422 naming the field (``note``: missing
    or over 500 characters, ``state``: the case has ended)."""
    return await _supervision(svc, user, case_id, Note.SUPERVISE, body.note)


@router.post("/{case_id}/urge")
async def urge(
    case_id: Annotated[str, Path(max_length=128)],
    body: Supervision,
    user: CurrentUser,
    svc: Svc,
) -> JSONResponse:
    """催办: a lighter nudge than 督办, the note optional; recorded, told and counted
    (``urges``) the same way. A case takes one 催办 per 10 minutes (our choice): a
    second one sooner is answered 429 with ``Retry-After``."""
    return await _supervision(svc, user, case_id, Note.URGE, body.note)


#: How many times a 督办 / 催办 is sent again when the case changed on its way (it
#: does not depend on the version: only a second delivery of the same event must not
#: count twice, which the version sent with it prevents).
SUPERVISION_TRIES = 3


async def _supervision(
    svc: Services, user: User, case_id: str, note: Note, text: str
) -> JSONResponse:
    """Check, then send one 督办 / 催办 as a ``case.action`` event (as every change to
    a case goes), with the rule of :func:`~cityeye.cases.lifecycle.check_supervision`
    asked here and again by the case book."""
    scope = scope_of(user, svc.world)
    case = await run_in_threadpool(visible_case, svc.store, scope, case_id)
    if case is None:
        raise HTTPException(404, f"no case {case_id}")
    if user.role not in SUPERVISORS:
        raise HTTPException(403, f"a {user.role.value} may not {note.value}: leaders do")
    text = text.strip()
    for _ in range(SUPERVISION_TRIES):
        at = svc.clock.now()
        try:
            check_supervision(case, note, text, at)
        except FieldError as exc:
            raise _supervision_refused(exc.field, str(exc), case, at) from None
        event = Event(
            id=f"desk-{secrets.token_hex(8)}",
            kind="case.action",
            ts=at,
            source="desk",
            area=case.area,
            attrs={
                "case": case.id,
                "action": note.value,
                "role": Role.LEADER.value,
                "actor": user.username,
                "note": text,
                "if_version": CaseBook.version(case),
                "immediate": True,
            },
        )
        applied = await submit_action(svc.live, event)
        if applied is None:
            return JSONResponse({"accepted": event.id, "case": case.id}, status_code=202)
        now, error = applied
        if error is None:
            shown = await run_in_threadpool(case_detail, svc, now, user)
            return JSONResponse(shown, headers={"ETag": etag(now)})
        if error.field != "if_version":
            raise _supervision_refused(error.field, error.reason, now, at)
        case = now  # somebody moved it meanwhile: send it again on what it is now
    raise HTTPException(409, "the case kept changing; try again")


def _supervision_refused(field: str, reason: str, case: Case, at: datetime) -> HTTPException:
    """A 督办 / 催办 refused: 429 with ``Retry-After`` for a 催办 too soon, else 422."""
    if field == "urge":
        seconds = max(1, urge_wait(case, at))
        return HTTPException(429, reason, headers={"Retry-After": str(seconds)})
    return HTTPException(422, reason)


async def submit_action(pipeline: Pipeline, event: Event) -> tuple[Case, CaseError | None] | None:
    """Send one ``case.action`` event through the intake, as every change to a case
    goes (so it is stored, replayable and snapshot-safe), and say how it went: the
    case as it is now and the book's refusal if any; ``None`` when a bus worker will
    apply it later, or the analysis did not answer within :data:`ACTION_WAIT_S`
    (answer 202). However the pipeline analyses (here, in another process, on a bus),
    it says so through :meth:`~cityeye.live.pipeline.Pipeline.expect`."""
    pending = pipeline.expect(event.id)  # before the store: its answer may come at once
    try:
        await run_in_threadpool(pipeline.ingest, [event])
    except BaseException:
        pipeline.forget(event.id)
        raise
    if pending is None:
        return None
    applied, error = await wait_applied(pending, ACTION_WAIT_S)
    if not applied:
        pipeline.forget(event.id)
        return None
    case = await run_in_threadpool(pipeline.store.get_case, str(event.attrs["case"]))
    assert case is not None
    return case, error


async def _conflict(svc: Services, case: Case, user: User) -> JSONResponse:
    current = await run_in_threadpool(case_detail, svc, case, user)
    return JSONResponse(
        {
            "detail": "the case changed since you looked at it; here it is now",
            "current": current,
        },
        status_code=409,
        headers={"ETag": etag(case)},
    )
