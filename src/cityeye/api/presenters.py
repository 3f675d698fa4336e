"""The API's JSON, in one place: how a case, a user, a token … looks to a caller.

An endpoint finds what to show and hands it here; it never builds a resource's JSON
itself, so a case looks the same in a list, in its detail, in a 409 and in the
participation pages, and a field added here reaches every one of them. (The other
two shapes of a case are contracts of their own, not presentations: ``cases.jsonl``,
:meth:`cityeye.cases.book.CaseBook.to_json`, and the database rows of
:mod:`cityeye.store.cases`.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cityeye.assessment.rules import COUNTABLE, KPIS, CountItem, Rules
from cityeye.assessment.scoring import Board, Item, Period, Score
from cityeye.cases.book import CaseBook
from cityeye.cases.lifecycle import (
    NAMES_PARTY,
    SUPERVISION_NOTE_MAX,
    SUPERVISORS,
    Note,
    actor_name,
    needs_reason,
    person_moves,
    urge_wait,
)
from cityeye.cases.standards import Standard
from cityeye.domain import (
    DEVICE_KINDS,
    REPORT_CATEGORIES,
    Alert,
    Area,
    Case,
    CaseState,
    Device,
    Event,
    Party,
    Severity,
    Venue,
    World,
)
from cityeye.domain.dates import iso_utc, local_date
from cityeye.domain.participation import (
    Ballot,
    Meeting,
    Participant,
    ParticipantRole,
    Resolution,
    StepRecord,
    Suggestion,
    Tally,
    Topic,
    TopicStep,
    Turn,
)
from cityeye.domain.scenario import ScenarioSpec
from cityeye.domain.users import User, pages_of
from cityeye.ingest.hotline.masking import mask_phone
from cityeye.live.clock import Clock, clock_mode, clock_speed
from cityeye.participation.service import text_tools
from cityeye.store import participation as participation_db
from cityeye.store import users as db
from cityeye.store.requests import StoredReport
from cityeye.store.survey import Survey, Unit
from cityeye.survey.service import KIND_NAMES, Results
from cityeye.world.places import Place, Whereabouts


# ---------------------------------------------------------------------- the district
def area_json(area: Area, *, boundary: bool = False) -> dict[str, Any]:
    """An area for the map and the pickers; ``boundary`` adds its GeoJSON."""
    row: dict[str, Any] = {
        "code": area.code,
        "name": area.name,
        "level": area.level.value,
        "parent": area.parent,
    }
    if boundary:
        row["boundary"] = area.boundary
    return row


def place_json(place: Place) -> dict[str, Any]:
    """A public place (cityeye.world.places): never a tag, a subject or a device."""
    return {
        "kind": place.kind.value,
        "id": place.id,
        "name": place.name,
        "address": place.address,
        "area": place.area,
        "lat": place.lat,
        "lon": place.lon,
    }


def whereabouts_json(where: Whereabouts, world: World, near_m: float) -> dict[str, Any]:
    """Where a point is (``GET /api/v1/places/reverse``): inside the district, its
    ``label`` ("长征桥社区 · 长征桥新村3幢"), street, community and grid, and the
    ``nearest`` named place within ``radius_m``; outside it, ``inside: false`` and a
    ``message`` in both languages that names no field."""

    def ref(area: Area | None) -> dict[str, str] | None:
        return {"code": area.code, "name": area.name} if area is not None else None

    nearest = None
    if where.nearest is not None:
        nearest = place_json(where.nearest.place) | {"distance_m": round(where.nearest.distance_m)}
    out: dict[str, Any] = {
        "inside": where.inside,
        "lat": where.lat,
        "lon": where.lon,
        "label": where.label,
        "street": ref(where.street),
        "community": ref(where.community),
        "grid": ref(where.grid),
        "nearest": nearest,
        "radius_m": round(near_m),
        "message": None,
    }
    if not where.inside:
        zh = world.district.name
        en = str(world.district.extra.get("name_en") or "the district")
        out["message"] = {
            "zh": f"这个位置不在{zh}内，请在{zh}范围内选点，或填写地址。",
            "en": f"This spot is outside {en}: place the pin inside it, or type an address.",
        }
    return out


def party_json(party: Party) -> dict[str, Any]:
    return {
        "id": party.id,
        "name": party.name,
        "kind": party.kind.value,
        "areas": list(party.areas),
        "non_government": party.non_government,
    }


def device_json(device: Device) -> dict[str, Any]:
    return {"id": device.id, "kind": device.kind, "area": device.area, "tags": list(device.tags)}


def map_device_json(device: Device, state: str) -> dict[str, Any]:
    """A device as a point on the cockpit's map (``GET /api/v1/map/layers``): its kind,
    area, point and state (``alarming``, ``online``, ``quiet``) — never the subject,
    building or anything else it is tied to. Its id stays for the page to key markers
    by; the page never shows it."""
    return {
        "id": device.id,
        "kind": device.kind,
        "area": device.area,
        "lat": device.lat,
        "lon": device.lon,
        "state": state,
    }


def map_venue_json(venue: Venue, kind: str) -> dict[str, Any]:
    """A venue on the cockpit's map: its public name and point (as the portal's places
    show them), and the one watch-list tag it is on the map for (``kind``)."""
    return {
        "id": venue.id,
        "name": venue.name,
        "area": venue.area,
        "lat": venue.lat,
        "lon": venue.lon,
        "kind": kind,
    }


def map_elderly_json(area: Area, people: int, devices: Mapping[str, int]) -> dict[str, Any]:
    """The registered elderly people living alone of one community, as a count only
    (a bubble on the big screen): never a name, an age, a building or an address; the
    states of their home devices likewise only counted."""
    return {"area": area.code, "name": area.name, "count": people, "devices": dict(devices)}


def map_grid_json(area: Area, workers: Sequence[Party]) -> dict[str, Any]:
    """A grid and the grid workers (网格员) who serve it. ``on_duty`` is ``None``: no
    duty roster is in the world or the store, so the map cannot say who is on duty."""
    return {
        "area": area.code,
        "name": area.name,
        "workers": [p.name for p in workers],
        "on_duty": None,
    }


def scenario_json(spec: ScenarioSpec) -> dict[str, Any]:
    """A running scenario: its names, module, what it reads, its trigger and routing."""
    return {
        "id": spec.id,
        "module": spec.module.value,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "reads": list(spec.reads),
        "trigger": spec.trigger["type"],
        "route": spec.route.value,
    }


def standard_json(standard: Standard) -> dict[str, Any]:
    """A response standard: what it covers and its steps (``within_s``: ``null`` for
    an outcome such as 现场处结)."""
    return {
        "id": standard.id,
        "name_zh": standard.name_zh,
        "name_en": standard.name_en,
        "severities": sorted(s.value for s in standard.severities),
        "scenarios": list(standard.scenarios),
        "source": standard.source,
        "steps": [
            {
                "id": step.id,
                "name_zh": step.name_zh,
                "name_en": step.name_en,
                "mark": step.mark.value,
                "mark_zh": step.mark.zh,
                "mark_en": step.mark.en,
                "within_s": step.within_s,
                "rate_zh": step.rate_zh,
                "rate_en": step.rate_en,
            }
            for step in standard.steps
        ],
    }


def clock_json(clock: Clock, timezone: str) -> dict[str, Any]:
    """The service's time (``GET /api/v1/clock``): now, the district's local day, a
    replayed day's speed and mode, the timezone the pages show times in."""
    now = clock.now()
    return {
        "now": now.isoformat(),
        "day": local_date(now, timezone).isoformat(),
        "speed": clock_speed(clock),
        "mode": clock_mode(clock),
        "timezone": timezone,
    }


# ---------------------------------------------------------------------- accounts
def user_json(user: User, world: World) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "party": user.party_id,
        "areas": list(user.areas),
        "pages": pages_of(user, world),  # the staff pages a header links for them
    }


def token_json(token: db.UserToken, current: str | None = None) -> dict[str, Any]:
    """A token as its owner may see it: never the secret nor its hash."""
    return {
        "id": token.id,
        "kind": token.kind,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "current": token.id == current,
    }


def resident_json(user: User, world: World) -> dict[str, Any]:
    """A resident as the community's staff see them: who, and their verified home with
    its name (``home`` null: not verified)."""
    home = user.areas[0] if user.areas else None
    area = world.areas.get(home) if home else None
    return {
        "username": user.username,
        "display_name": user.display_name,
        "home": {"code": home, "name": area.name if area else home} if home else None,
        "active": user.active,
    }


# ---------------------------------------------------------------------- cases
def moves_json(case: Case, user: User) -> list[dict[str, Any]]:
    """What ``user`` may do to ``case`` now (:func:`~cityeye.cases.lifecycle.person_moves`):
    each move with whether it must say why and whether it names a party. A page
    offers these and only these."""
    return [
        {
            "action": m.value,
            "reason": needs_reason(case.state, m),
            "party": m in NAMES_PARTY,
        }
        for m in person_moves(case, user.role, user.party_id)
    ]


def case_json(
    case: Case, world: World, *, timeline: bool = True, user: User | None = None
) -> dict[str, Any]:
    """A case as the API shows it; with ``user``, also the ``moves`` they may make."""

    def party(pid: str | None) -> dict[str, str] | None:
        if pid is None:
            return None
        found = world.parties.get(pid)
        return {"id": pid, "name": found.name if found else pid}

    area = world.areas.get(case.area) if case.area else None
    out: dict[str, Any] = {
        "id": case.id,
        "version": CaseBook.version(case),
        "title": case.title,
        "origin": case.origin.value,
        "state": case.state.value,
        "state_zh": case.state.zh,
        "severity": case.severity.value,
        "scenario": case.scenario,
        "key": case.key,
        "area": {"code": case.area, "name": area.name if area else case.area}
        if case.area
        else None,
        "lead": party(case.lead),
        "co_handlers": [party(p) for p in case.co_handlers],
        "opened_at": iso_utc(case.opened_at),
        "due_at": iso_utc(case.due_at),
        "closed_at": iso_utc(case.closed_at),
        "rating": case.rating,
        "heading": case_heading(case, world),
        "area_path": area_path(world, case.area),
        "supervisions": sum(1 for e in case.timeline if e.action == Note.SUPERVISE),
        "urges": sum(1 for e in case.timeline if e.action == Note.URGE),
    }
    if user is not None:
        out["moves"] = moves_json(case, user)
    if timeline:
        out["timeline"] = [
            {
                "at": iso_utc(e.at),
                "actor": e.actor,
                "action": e.action,
                "from": e.from_state.value if e.from_state else None,
                "to": e.to_state.value if e.to_state else None,
                "note": e.note,
                "attachments": list(e.attachments),
            }
            for e in case.timeline
        ]
    return out


# ---------------------------------------------------------------------- the desk's case view
#: The deadline stages (cityeye.cases.sla.Stage), as an escalation line names them.
STAGE_NAMES = {"accept": "接单", "arrive": "到场", "handle": "处置"}
_JOINED = re.compile(r"^预警 \S+ 并入$")
_RAISED = re.compile(r"^预警升级为 (\w+)$")
_OVERDUE = re.compile(r"^(\w+) 超时，升级至 (.+)$")
_CO = re.compile(r"^协办 (\S+)$")


def area_path(world: World, code: str | None) -> list[dict[str, str]]:
    """The area and those above it, district first: the place as people name it."""
    if code is None:
        return []
    chain = [
        {"code": a.code, "name": a.name, "level": a.level.value} for a in world.ancestors(code)
    ]
    return chain[::-1]


def _device_of(world: World, key: str) -> Device | None:
    """The device a case is keyed by: its id, or its id and a split part
    (``CM-000018/浙A12345``: one alert per truck a camera sees)."""
    return world.devices.get(key) or world.devices.get(key.split("/", 1)[0])


def device_name(world: World, device: Device) -> str:
    """A device as people know it: its named point (瓜山垃圾分类点18号), else its
    area and kind (大运社区第3网格视频监控) — never its id."""
    point = device.extra.get("point")
    if isinstance(point, str) and point.strip():
        return point.strip()
    kind = DEVICE_KINDS.get(device.kind)
    area = world.areas.get(device.area) if device.area else None
    return "".join(filter(None, (area.name if area else None, kind.zh if kind else "设备")))


def case_heading(case: Case, world: World) -> str:
    """The title without a raw id: a case keyed by something the world does not name
    by that key (a camera's alert per plate, an unregistered camera) was titled with the
    key; it reads the device's point, the building's name or the area then (and the
    split part: a plate, a floor)."""
    key = case.key
    if not key or not case.title.endswith(" · " + key) or key in world.areas:
        return case.title
    prefix = case.title[: -len(key)]
    device = _device_of(world, key)
    if device is not None:
        part = key.split("/", 1)[1] if "/" in key and key not in world.devices else ""
        return prefix + device_name(world, device) + (f"（{part}）" if part else "")
    head, _, part = key.partition("/")
    building = world.buildings.get(head)  # a building's alert per floor (高空抛物)
    if building is not None and building.name:
        return prefix + building.name + (f"（{part}）" if part else "")
    area = world.areas.get(case.area) if case.area else None
    return prefix + (area.name if area else "辖区内")


def case_place(case: Case, world: World, report: Event | None = None) -> dict[str, Any] | None:
    """Where the case is, as precisely as known: the device's or venue's point and
    name, the resident's pin and address, else only the area (no point)."""
    area = world.areas.get(case.area) if case.area else None
    place: dict[str, Any] = {"name": area.name if area else None, "lat": None, "lon": None}
    key = case.key or ""
    device = _device_of(world, key) if case.origin.value == "alert" else None
    venue = world.venues.get(key)
    if device is not None and device.venue in world.venues:
        venue = world.venues[device.venue]
    if device is not None:
        place["name"] = device_name(world, device)
        place["lat"], place["lon"] = device.lat, device.lon
    if venue is not None:
        place["name"] = venue.name or place["name"]
        if place["lat"] is None:
            place["lat"], place["lon"] = venue.lat, venue.lon
    if report is not None:
        address = report.attrs.get("address") or report.attrs.get("venue")
        if isinstance(address, str) and address.strip():
            place["name"] = address.strip()[:200]
        if report.lat is not None and report.lon is not None:
            place["lat"], place["lon"] = report.lat, report.lon
    # the smallest area on the path with an outline, to draw on the case's small map
    path = world.ancestors(area.code) if area is not None else iter(())
    outlined = next((a for a in path if a.boundary), None)
    place["boundary"] = outlined.boundary if outlined is not None else None
    return place if place["name"] or place["lat"] is not None else None


def plain_note(note: str, action: str, case: Case, world: World, scenario_name: str) -> str:
    """A system line in plain Chinese (the book writes alert ids and enum values)."""
    if action == "open" and note.startswith("由预警 "):
        if case.origin.value == "citizen":
            return "居民上报，已立案"
        return f"系统发现「{scenario_name}」，自动立案" if scenario_name else "系统自动立案"
    if _JOINED.match(note):
        return "同一问题再次出现，并入本工单"
    raised = _RAISED.match(note)
    if raised:
        try:
            return f"问题加重，紧急程度升为「{Severity(raised.group(1)).zh}」"
        except ValueError:
            return "问题加重，紧急程度提高"
    overdue = _OVERDUE.match(note)
    if overdue:
        stage = STAGE_NAMES.get(overdue.group(1), "办理")
        target = overdue.group(2)
        if target == "上级":
            return f"{stage}超时；已无更高一级单位，继续督办"
        return f"{stage}超时，升级至 {target}"
    co = _CO.match(note)
    if co and co.group(1) in world.parties:
        return f"协办 {world.parties[co.group(1)].name}"
    return note


def scenario_why(
    spec: ScenarioSpec | None, description: str | None, alert: Alert | None
) -> dict[str, Any] | None:
    """Why the case was opened, in plain words: the scenario's name and description,
    and what the alert carries (how many times it was seen, since when)."""
    if spec is None:
        return None
    out: dict[str, Any] = {"name": spec.name_zh, "name_en": spec.name_en, "text": description}
    if alert is not None:
        out["count"] = alert.count
        out["first_at"] = iso_utc(alert.opened_at)
        out["resolved_at"] = iso_utc(alert.resolved_at)
    return out


def masked_contact(reporter: str | None) -> str | None:
    """The reporter's contact as staff may see it: masked as the hotline masks numbers
    (it is stored masked; a value that somehow is not gets masked here)."""
    if not reporter:
        return None
    if "*" in reporter:
        return reporter
    return mask_phone(reporter) or None


def case_detail_json(
    case: Case,
    world: World,
    user: User,
    *,
    report: Event | None = None,
    alert: Alert | None = None,
    spec: ScenarioSpec | None = None,
    description: str | None = None,
    people: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The case for the desk's case view: :func:`case_json` and, added, the place (area
    chain, point), the resident's photos, why it fired, the reporter's masked contact,
    each timeline line's actor name and plain-Chinese text, and its 督办 / 催办
    (:func:`supervision_json`; ``now`` for when another 催办 is taken)."""
    out = case_json(case, world, user=user)
    names = people or {}
    scenario_name = spec.name_zh if spec is not None else ""
    for line, entry in zip(out["timeline"], case.timeline, strict=True):
        line["actor_name"] = actor_name(entry.actor, world, names)
        line["text"] = plain_note(entry.note, entry.action, case, world, scenario_name)
    photos = report.attrs.get("photos") if report is not None else None
    out["photos"] = [str(p) for p in photos] if isinstance(photos, list) else []
    out["report_text"] = str(report.attrs.get("text") or "") if report is not None else ""
    out["place"] = case_place(case, world, report)
    out["why"] = scenario_why(spec, description, alert)
    out["reporter_contact"] = (
        masked_contact(case.reporter) if user.role.value != "resident" else None
    )
    out["supervision"] = supervision_json(case, world, user, names, now)
    return out


def supervision_json(
    case: Case, world: World, user: User, people: Mapping[str, str], now: datetime | None
) -> dict[str, Any]:
    """督办 / 催办 on the case: the latest of each (who by name, when, the note: the
    desk's red banner), whether ``user`` may send one now, and how many seconds until
    another 催办 is taken (:data:`~cityeye.cases.lifecycle.URGE_GAP`)."""

    def latest(note: Note) -> dict[str, Any] | None:
        entry = next((e for e in reversed(case.timeline) if e.action == note), None)
        if entry is None:
            return None
        return {
            "at": iso_utc(entry.at),
            "by": actor_name(entry.actor, world, people),
            "note": entry.note,
        }

    may = user.role in SUPERVISORS and not case.state.terminal
    wait = urge_wait(case, now) if may and now is not None else 0
    return {
        "supervise": latest(Note.SUPERVISE),
        "urge": latest(Note.URGE),
        "may": may,
        "urge_wait_s": wait,
        "note_max": SUPERVISION_NOTE_MAX,
    }


def candidate_json(party: Party, load: int, reason: str | None) -> dict[str, Any]:
    """A party the dispatch picker offers: its open-case load and, when proposed, why."""
    return {
        "id": party.id,
        "name": party.name,
        "kind": party.kind.value,
        "kind_zh": party.kind.zh,
        "non_government": party.non_government,
        "load": load,
        "proposed": reason is not None,
        "reason": reason,
    }


# ---------------------------------------------------------------------- case states
#: What a resident reads for each case state: Chinese, English (the portal's follow-up
#: page, and the cases suggestions and resolutions became).
STATE_WORDS: dict[CaseState, tuple[str, str]] = {
    CaseState.REPORTED: ("已受理，待派遣", "Received, awaiting dispatch"),
    CaseState.DISPATCHED: ("已派遣至处置单位", "Sent to the responsible unit"),
    CaseState.ACCEPTED: ("处置单位已接单", "Accepted by the unit"),
    CaseState.IN_PROGRESS: ("正在处置", "Being handled"),
    CaseState.HANDLED: ("已处置，待核查", "Handled, being checked"),
    CaseState.VERIFIED: ("核查通过", "Checked"),
    CaseState.CLOSED: ("已办结", "Closed"),
    CaseState.RETURNED: ("退回重新派遣", "Returned, to be re-sent"),
    CaseState.ESCALATED: ("已升级处理", "Escalated"),
    CaseState.REOPENED: ("已重新处理", "Reopened"),
    CaseState.DISMISSED: ("经核实不需处置", "Found to need no action"),
    CaseState.SELF_RESOLVED: ("问题已自行消除", "Resolved by itself"),
}


# ---------------------------------------------------------------------- portal
def receipt(tracking: str, follow_key: str) -> dict[str, str]:
    return {
        "tracking": tracking,
        "follow_key": follow_key,
        "notice": "已收到，立案后派往处置单位。请保存编号和查询码，凭它们查询进度、评价结果。"
        " Received; it becomes a case for the responsible unit. Keep the number and the key "
        "to follow it and rate the result.",
    }


#: The moves whose photos a reporter sees: the handler's "after" pictures and those of
#: the check that closed it (a progress note's photos are staff's working record).
AFTER_PHOTOS = frozenset({"handle", "verify", "close"})


def report_photos(report: Event, case: Case | None) -> dict[str, list[str]]:
    """The photos a reporter may see: theirs (``before``) and the handlers' (``after``)."""
    sent = report.attrs.get("photos")
    before = [str(r) for r in sent] if isinstance(sent, list) else []
    after: list[str] = []
    for entry in case.timeline if case is not None else ():
        if entry.action in AFTER_PHOTOS:
            after += [r for r in entry.attachments if r not in after]
    return {"before": before, "after": after}


def status_of(
    report: Event, case: Case | None, reporter: bool, *, can_rate: bool | None = None
) -> dict[str, Any]:
    """What a resident sees of their report: what they sent, and where the case is,
    step by step (states and times; no names of staff, no internal notes), by when it
    should be handled; the reporter (``reporter``: the follow key or their sign-in)
    also sees the photos, both ways, and whether they can rate it now."""
    can_rate = reporter if can_rate is None else can_rate
    category = str(report.attrs.get("category", ""))
    known = REPORT_CATEGORIES.get(category)
    out: dict[str, Any] = {
        "tracking": report.id,
        "category": {
            "code": category,
            "zh": known.zh if known else category,
            "en": known.en if known else category,
        },
        "text": report.attrs.get("text"),
        "address": report.attrs.get("address"),
        "lat": report.lat,
        "lon": report.lon,
        "reported_at": report.ts.isoformat(),
        "state": None,
        "state_zh": "已收到，正在立案",
        "state_en": "Received, a case is being opened",
        "steps": [],
        "rating": None,
        "can_rate": False,
        "due_at": None,
    }
    if reporter:
        out["photos"] = report_photos(report, case)
    if case is None:
        return out
    zh, en = STATE_WORDS[case.state]
    steps = []
    for entry in case.timeline:
        if entry.to_state is None or entry.to_state == entry.from_state:
            continue
        step_zh, step_en = STATE_WORDS[entry.to_state]
        steps.append(
            {
                "at": entry.at.isoformat(),
                "state": entry.to_state.value,
                "zh": step_zh,
                "en": step_en,
            }
        )
    out.update(
        state=case.state.value,
        state_zh=zh,
        state_en=en,
        steps=steps,
        rating=case.rating,
        can_rate=can_rate and case.state == CaseState.CLOSED and case.rating is None,
        due_at=iso_utc(case.due_at) if not case.state.terminal else None,
    )
    return out


# ---------------------------------------------------------------------- open311
#: Case states in which a request counts as ``closed`` (handled, checked, or ended);
#: the GET requests' ``status`` filter asks by the same line (cityeye.api.open311).
CLOSED_STATES = frozenset(
    {CaseState.HANDLED, CaseState.VERIFIED} | {s for s in CaseState if s.terminal}
)

#: The moves whose note a reporter may read (who has it, what was done, why it needed
#: nothing, why it was opened again); the working notes between staff — a progress
#: note, a return's or an escalation's reason, a rating's comment — stay inside.
RESIDENT_NOTES = frozenset({"dispatch", "handle", "verify", "close", "dismiss", "reopen"})


def category_name(code: str) -> str:
    """``火灾隐患 Fire hazard``, or the code itself for a category with no name."""
    known = REPORT_CATEGORIES.get(code)
    return known.name if known is not None else code


def resident_notes(case: Case) -> list[str]:
    """The notes of ``case`` a reporter may read, oldest first."""
    return [e.note for e in case.timeline if e.note and e.action in RESIDENT_NOTES]


def request_row(
    report: StoredReport, case: Case | None, parties: Mapping[str, str]
) -> dict[str, Any]:
    """One request in the standard's fields (and nothing that names the reporter)."""
    event, attrs = report.event, report.event.attrs
    category = attrs.get("category")
    code = str(category) if category is not None else None
    closed = case is not None and case.state in CLOSED_STATES
    notes = resident_notes(case) if case is not None else []
    if case is None:
        notice = "已收到，等待立案 Received, waiting to become a case"
    else:
        notice = f"{case.state.zh} {case.state.value.replace('_', ' ')}"
    updated = case.timeline[-1].at if case is not None and case.timeline else event.ts
    lead = case.lead if case is not None else None
    return {
        "service_request_id": event.id,
        "status": "closed" if closed else "open",
        "status_notes": notes[-1] if notes else None,
        "service_name": category_name(code) if code is not None else None,
        "service_code": code,
        "description": _str(attrs.get("text")),
        "agency_responsible": parties.get(lead, lead) if lead is not None else None,
        "service_notice": notice,
        "requested_datetime": event.ts.isoformat(),
        "updated_datetime": max(updated, event.ts).isoformat(),
        "expected_datetime": _iso(case.due_at) if case is not None else None,
        "address": _str(attrs.get("address")),
        "address_id": _str(attrs.get("address_id")),
        "zipcode": None,
        "lat": event.lat,
        "long": event.lon,
        "media_url": _str(attrs.get("media_url")),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _str(value: object) -> str | None:
    return None if value is None else str(value)


# ---------------------------------------------------------------------- participation
#: Who moved a topic's step, as the public sees it (staff see the username).
STAFF_LABEL = "社区工作人员 community staff"


def step_json(step: TopicStep) -> dict[str, Any]:
    return {"code": step.value, "zh": step.zh, "en": step.en, "order": step.order}


def case_state_json(case: Case | None) -> dict[str, Any] | None:
    """The case a suggestion or a resolution's action became, as the participation
    pages show it: which case, its state in a resident's words and its lead party's id
    — deliberately less than :func:`case_json` (a topic's record is public)."""
    if case is None:
        return None
    zh, en = STATE_WORDS[case.state]
    return {
        "id": case.id,
        "state": case.state.value,
        "state_zh": zh,
        "state_en": en,
        "lead": case.lead,
    }


def tally_json(t: Tally) -> dict[str, Any]:
    return {
        "eligible": t.eligible,
        "voters": t.voters,
        "counts": t.counts,
        "quorum_met": t.quorum_met,
        "winner": t.winner,
        "passed": t.passed,
    }


def area_ref_json(world: World, code: str) -> dict[str, str]:
    """An area named where a suggestion, group or topic points at it: code and name."""
    found = world.areas.get(code)
    return {"code": code, "name": found.name if found else code}


def category_json(code: str) -> dict[str, str]:
    """A suggestion's category (:mod:`cityeye.participation.text`), in both languages."""
    known = text_tools().CATEGORIES_BY_CODE.get(code)
    return {
        "code": code,
        "zh": known.zh if known else code,
        "en": known.en if known else code,
    }


def suggestion_json(s: Suggestion, world: World, case: Case | None = None) -> dict[str, Any]:
    """A suggestion as staff see it; ``case``: the case it became, if it did."""
    return {
        "id": s.id,
        "channel": s.channel.value,
        "category": category_json(s.category),
        "text": s.text,
        "area": area_ref_json(world, s.area),
        "photos": list(s.photos),
        "signed_in": s.author is not None,
        "created_at": iso_utc(s.created_at),
        "group": s.group_id,
        "terms": list(s.terms),
        "answer": s.answer,
        "answered_at": iso_utc(s.answered_at),
        "answered_by": s.answered_by,
        "case_key": s.case_key,
        "case": case_state_json(case),
        "topic_id": s.topic_id,
    }


def suggestion_receipt_json(s: Suggestion) -> dict[str, Any]:
    """What the sender of a suggestion who is not staff is told."""
    return {
        "id": s.id,
        "category": category_json(s.category),
        "group": s.group_id,
        "notice": "已收到您的建议，社区将汇总研究并答复。 Received: the community will "
        "consider it with similar ones and answer.",
    }


def my_suggestion_json(s: Suggestion, world: World) -> dict[str, Any]:
    """A suggestion as the person who sent it sees it: what they wrote, and the
    community's answer — not which member of staff wrote it."""
    return {
        "id": s.id,
        "category": category_json(s.category),
        "text": s.text,
        "area": area_ref_json(world, s.area),
        "created_at": iso_utc(s.created_at),
        "answer": s.answer,
        "answered_at": iso_utc(s.answered_at),
        "topic_id": s.topic_id,
    }


def group_json(g: participation_db.Group, world: World) -> dict[str, Any]:
    """A group of near-duplicate suggestions: how many (``unanswered`` of them without
    an answer), the category, its title — the most representative member's words, in
    ``title`` and in ``label``, which the cockpit and older clients show — and its
    keywords (``terms``), which were the label before titles (issue 18)."""
    keywords = " · ".join(g.terms)
    return {
        "id": g.id,
        "count": g.count,
        "unanswered": g.unanswered,
        "category": category_json(g.category),
        "terms": list(g.terms),
        "title": g.title or keywords,
        "label": g.title or keywords,
        "areas": [area_ref_json(world, a) for a in g.areas],
        "latest": iso_utc(g.latest),
    }


def topic_summary_json(t: Topic, world: World) -> dict[str, Any]:
    return {
        "id": t.id,
        "title": t.title,
        "description": t.description,
        "area": area_ref_json(world, t.area),
        "kind": t.kind.value,
        "step": step_json(t.step),
        "step_due_at": iso_utc(t.step_due_at),
        "created_at": iso_utc(t.created_at),
        "rules": {"quorum": str(t.rules.quorum), "majority": str(t.rules.majority)},
    }


def participant_json(p: Participant, *, named: bool = False) -> dict[str, Any]:
    """A meeting's participant; a resident's name stays off the public record unless
    ``named`` (the staff who added them)."""
    name = p.name if named or p.role != ParticipantRole.RESIDENT else None
    return {
        "n": p.n,
        "role": p.role.value,
        "name": name,
        "signed_in": p.signed_in_at is not None,
    }


def turn_json(turn: Turn) -> dict[str, Any]:
    return {"speaker": turn.speaker, "text": turn.text, "at": iso_utc(turn.at)}


def meeting_json(
    m: Meeting, people: Sequence[Participant], turns: Sequence[Turn]
) -> dict[str, Any]:
    """A meeting with its participants (``people``) and what they said (``turns``)."""
    roles = {p.n: p.role.value for p in people}
    return {
        "id": m.id,
        "topic_id": m.topic_id,
        "mode": m.mode.value,
        "at": iso_utc(m.at),
        "place": m.place,
        "agenda": list(m.agenda),
        "minutes": m.minutes,
        "decisions": list(m.decisions),
        "participants": [participant_json(p) for p in people],
        "turns": [
            {
                "speaker": x.speaker,
                "role": roles.get(x.speaker),
                "text": x.text,
                "at": iso_utc(x.at),
            }
            for x in turns
        ],
    }


def topic_record_json(
    t: Topic,
    world: World,
    *,
    staff: bool,
    steps: Sequence[StepRecord],
    meetings: Sequence[tuple[Meeting, Sequence[Participant], Sequence[Turn]]],
    suggestions: int,
    ballot: Ballot | None,
    tally: Tally | None,
    resolution: Resolution | None,
    cases: Mapping[str, Case],
) -> dict[str, Any]:
    """A topic's public record: its steps, meetings, ballot, ``tally`` (once the ballot
    is closed), and the resolution with the case of each action (``cases``, by key).
    Who moved each step is named (by username) only to ``staff``: the public sees
    :data:`STAFF_LABEL`, so the record gives no one a username to guess passwords for."""
    out = topic_summary_json(t, world)
    out["steps"] = [
        {
            **step_json(r.step),
            "at": iso_utc(r.at),
            "actor": r.actor if staff else STAFF_LABEL,
            "note": r.note,
        }
        for r in steps
    ]
    out["meetings"] = [meeting_json(*m) for m in meetings]
    out["suggestions"] = suggestions
    out["ballot"] = (
        None
        if ballot is None
        else {
            "options": list(ballot.options),
            "opens_at": iso_utc(ballot.opens_at),
            "closes_at": iso_utc(ballot.closes_at),
            "closed": ballot.closed,
            "closed_at": iso_utc(ballot.closed_at),
        }
    )
    out["tally"] = tally_json(tally) if tally is not None else None
    out["resolution"] = None
    if resolution is not None:
        out["resolution"] = {
            "text": resolution.text,
            "at": iso_utc(resolution.at),
            "actions": [
                {
                    "n": a.n,
                    "title": a.title,
                    "party": {
                        "id": a.party,
                        "name": world.parties[a.party].name
                        if a.party in world.parties
                        else a.party,
                    },
                    "due_at": iso_utc(a.due_at),
                    "case_key": a.case_key,
                    "case": case_state_json(cases.get(a.case_key)),
                }
                for a in resolution.actions
            ],
        }
    return out


# ---------------------------------------------------------------------- the contest
def _contest_json(rules: Rules) -> dict[str, Any]:
    """The rules as the board shows them: what scores, with names in both languages."""

    def items(found: Sequence[CountItem]) -> list[dict[str, Any]]:
        return [
            {
                "count": i.count,
                "name": COUNTABLE[i.count][0],
                "name_en": COUNTABLE[i.count][1],
                "points": i.points,
                "max": i.max,
            }
            for i in found
        ]

    return {
        "name": rules.name,
        "name_en": rules.name_en,
        "period": rules.period,
        "ranks": list(rules.ranks),
        "full_marks": rules.full_marks,
        "yellow_within": rules.yellow_within,
        "kpis": [
            {
                "kpi": t.kpi,
                "module": t.module.value if t.module is not None else None,
                "name": (t.module.zh if t.module is not None else "") + KPIS[t.kpi][0],
                "name_en": (t.module.en + " " if t.module is not None else "") + KPIS[t.kpi][1],
                "weight": t.weight,
                "target": t.target,
                "at_least": t.higher_is_better,
            }
            for t in rules.kpis
        ],
        "deductions": items(rules.deductions),
        "bonus": items(rules.bonus),
    }


def _period_json(period: Period) -> dict[str, Any]:
    return {
        "label": period.label,
        "kind": period.kind,
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
    }


def _score_json(s: Score) -> dict[str, Any]:
    before = s.previous
    return {
        "unit": s.unit,
        "name": s.name,
        "score": s.score,
        "rank": s.rank,
        "status": s.status,
        "terms": [
            {
                "kpi": t.kpi,
                "module": t.module,
                "value": t.value,
                "target": t.target,
                "at_least": t.at_least,
                "weight": t.weight,
                "points": t.points,
                "status": t.status,
            }
            for t in s.terms
        ],
        "deductions": [_item_json(i) for i in s.deductions],
        "bonus": [_item_json(i) for i in s.bonus],
        "counts": s.counts,
        "movement": None
        if before is None or before.rank is None
        else {
            "rank": before.rank,
            "score": before.score,
            "rank_change": None if s.rank is None else before.rank - s.rank,
            "score_change": round(s.score - before.score, 2),
        },
    }


def _item_json(i: Item) -> dict[str, Any]:
    return {"count": i.count, "n": i.n, "per": i.per, "max": i.max, "points": i.points}


def board_json(board: Board, world: World, shown: frozenset[str] | None) -> dict[str, Any]:
    """A contest board (:mod:`cityeye.assessment.scoring`): the rules, the round, and
    the rows ``shown`` (``None``: all), each ranked among all ``units``."""
    area = world.areas.get(board.area) if board.area else None
    return {
        "contest": _contest_json(board.rules),
        "level": board.level,
        "area": board.area,
        "area_name": area.name if area else world.district.name,
        "period": _period_json(board.period),
        "previous": _period_json(board.period.previous()),
        "units": len(board.rows),
        "rows": [_score_json(s) for s in board.rows if shown is None or s.unit in shown],
    }


def trend_json(
    found: Sequence[tuple[Period, Sequence[Score]]], shown: frozenset[str] | None
) -> dict[str, Any]:
    """Each unit's score and rank round by round (``None`` where it was not ranked)."""
    units: dict[str, dict[str, Any]] = {}
    for index, (_, scores) in enumerate(found):
        for s in scores:
            if shown is not None and s.unit not in shown:
                continue
            row = units.setdefault(
                s.unit,
                {
                    "unit": s.unit,
                    "name": s.name,
                    "scores": [None] * len(found),
                    "ranks": [None] * len(found),
                },
            )
            if s.rank is not None:
                row["scores"][index] = s.score
                row["ranks"][index] = s.rank
    return {
        "periods": [_period_json(p) for p, _ in found],
        "units": sorted(units.values(), key=lambda u: u["unit"]),
    }


# ---------------------------------------------------------------------- survey (社会评价)
def survey_json(
    survey: Survey, invited: int | None = None, answered: int | None = None
) -> dict[str, Any]:
    """A survey as staff and respondents see it: its
    question, window and units by name; never who made it or who was invited."""
    out: dict[str, Any] = {
        "id": survey.id,
        "title": survey.title,
        "year": survey.year,
        "question": {"zh": survey.question_zh, "en": survey.question_en},
        "opens_at": iso_utc(survey.opens_at),
        "closes_at": iso_utc(survey.closes_at),
        "units": [unit_json(u) for u in survey.units],
    }
    if invited is not None:
        out["invited"] = invited
        out["answered"] = answered
    return out


def unit_json(unit: Unit) -> dict[str, Any]:
    """A unit a survey rates: its key, kind (with the kind's names) and name."""
    kind = KIND_NAMES.get(unit.kind)
    names = {"zh": kind.zh, "en": kind.en} if kind is not None else None
    return {"unit": unit.key, "kind": unit.kind, "kind_name": names, "name": unit.name}


def survey_results_json(found: Results) -> dict[str, Any]:
    """A survey's results: per unit the number of
    ratings, the mean, its 95 % t interval (``null`` below two ratings), how many gave
    each score, and the comments with their score — in the text's order, unsigned."""
    return {
        "survey": survey_json(found.survey, found.invited, found.answered),
        "interval": "95% Student t interval on the mean, clipped to 1–5; null below 2 ratings",
        "units": [
            {
                **unit_json(r.unit),
                "responses": r.score.n,
                "mean": None if r.score.mean is None else round(r.score.mean, 3),
                "low": None if r.score.low is None else round(r.score.low, 3),
                "high": None if r.score.high is None else round(r.score.high, 3),
                "counts": {str(k): v for k, v in r.score.counts.items()},
                "comments": [{"rating": rating, "text": text} for rating, text in r.comments],
            }
            for r in found.units
        ],
    }
