"""The API's JSON, in one place: how a case, a user, a token … looks to a caller.

An endpoint finds what to show and hands it here; it never builds a resource's JSON
itself, so a case looks the same in a list, in its detail, in a 409 and in the
participation pages, and a field added here reaches every one of them. (The other
two shapes of a case are contracts of their own, not presentations: ``cases.jsonl``,
:meth:`cityeye.cases.book.CaseBook.to_json`, and the database rows of
:mod:`cityeye.store.cases`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cityeye.cases.book import CaseBook
from cityeye.cases.lifecycle import NAMES_PARTY, needs_reason, person_moves
from cityeye.domain import REPORT_CATEGORIES, Area, Case, CaseState, Device, Event, Party, World
from cityeye.domain.dates import iso_utc, local_date
from cityeye.domain.scenario import ScenarioSpec
from cityeye.domain.users import User
from cityeye.live.clock import Clock, clock_mode, clock_speed
from cityeye.store import users as db
from cityeye.store.requests import StoredReport


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
def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "party": user.party_id,
        "areas": list(user.areas),
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


# ---------------------------------------------------------------------- portal
#: What a resident reads for each case state: Chinese, English.
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


def receipt(tracking: str, follow_key: str) -> dict[str, str]:
    return {
        "tracking": tracking,
        "follow_key": follow_key,
        "notice": "已收到，立案后派往处置单位。请保存编号和查询码，凭它们查询进度、评价结果。"
        " Received; it becomes a case for the responsible unit. Keep the number and the key "
        "to follow it and rate the result.",
    }


def status_of(report: Event, case: Case | None, can_rate: bool) -> dict[str, Any]:
    """What a resident sees of their report: what they sent, and where the case is,
    step by step (states and times; no names of staff, no internal notes)."""
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
    }
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
