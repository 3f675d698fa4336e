"""The API's JSON, in one place: how a case, a user, a token … looks to a caller.

An endpoint finds what to show and hands it here; it never builds a resource's JSON
itself, so a case looks the same in a list, in its detail, in a 409 and in the
participation pages, and a field added here reaches every one of them. (The other
two shapes of a case are contracts of their own, not presentations: ``cases.jsonl``,
:meth:`cityeye.cases.book.CaseBook.to_json`, and the database rows of
:mod:`cityeye.store.cases`.)
"""

from __future__ import annotations

from typing import Any

from cityeye.cases.book import CaseBook
from cityeye.cases.lifecycle import NAMES_PARTY, needs_reason, person_moves
from cityeye.domain import Area, Case, Device, Party, World
from cityeye.domain.dates import iso_utc, local_date
from cityeye.domain.scenario import ScenarioSpec
from cityeye.domain.users import User
from cityeye.live.clock import Clock, clock_mode, clock_speed
from cityeye.store import users as db


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
