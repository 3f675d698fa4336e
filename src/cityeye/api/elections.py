"""``/api/v1/elections``: 业委会换届选举 (issue 21 item 6; docs/elections.md).

Staff of the estate's area create an election, nominate candidates, start the public
notice, open voting, record proxy and paper ballots, correct a recorded one, and close
it (the count by Civil Code art. 278 is published); leaders of the area read it. A
resident bound to an owner household sees the elections of its estate and votes once
for the household. The rules are :mod:`cityeye.participation.elections`'; this module
only speaks HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Services, Svc
from cityeye.domain.elections import AuditEntry, BallotChannel, Election, ElectionState
from cityeye.domain.users import User, UserRole
from cityeye.errors import FieldError
from cityeye.participation import elections as service
from cityeye.participation.workflow import Refused
from cityeye.store import elections as db
from cityeye.store.users import display_names

router = APIRouter(prefix="/api/v1", tags=["elections"])

ElectionId = Annotated[str, Path(max_length=64)]
HouseholdId = Annotated[str, Field(max_length=64)]


class NewElection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200, examples=["长征桥新村第三届业委会换届选举"])
    area: str = Field(max_length=64, description="the community (or area) it is run in")
    buildings: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=500, description="the estate's buildings (all with owners if none)"
    )
    seats: int = Field(default=5, description=f"1 to {service.MAX_SEATS}")
    notice_days: int = Field(default=service.NOTICE_DAYS, description="公示 days (ours: 7)")


class Nomination(BaseModel):
    model_config = ConfigDict(extra="forbid")
    household: HouseholdId
    name: str = Field(min_length=1, max_length=100)
    statement: str = Field(default="", max_length=2000)


class BallotIn(BaseModel):
    """A resident's own vote: ``choices`` only. Staff recording one: ``household``,
    ``channel`` (proxy / paper) and for a proxy the holder's name."""

    model_config = ConfigDict(extra="forbid")
    choices: list[HouseholdId] = Field(max_length=service.MAX_SEATS)
    household: HouseholdId | None = None
    channel: BallotChannel | None = None
    proxy: str | None = Field(default=None, max_length=100)


class Correction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    household: HouseholdId
    choices: list[HouseholdId] = Field(max_length=service.MAX_SEATS)
    reason: str = Field(min_length=1, max_length=500)


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=32)


# ---------------------------------------------------------------------- JSON
def _summary(e: Election, svc: Services) -> dict[str, Any]:
    area = svc.world.areas.get(e.area)
    ends = service.notice_ends(e)
    return {
        "id": e.id,
        "title": e.title,
        "area": e.area,
        "area_name": area.name if area is not None else e.area,
        "buildings": [
            {"id": b, "name": svc.world.buildings[b].name if b in svc.world.buildings else b}
            for b in e.buildings
        ],
        "matter": e.matter.value,
        "seats": e.seats,
        "notice_days": e.notice_days,
        "state": e.state.value,
        "created_at": e.created_at.isoformat(),
        "notice_at": e.notice_at.isoformat() if e.notice_at else None,
        "notice_ends": ends.isoformat() if ends else None,
        "voting_at": e.voting_at.isoformat() if e.voting_at else None,
        "closed_at": e.closed_at.isoformat() if e.closed_at else None,
        "result": e.result if e.state == ElectionState.PUBLISHED else None,
    }


def _audit_json(entries: list[AuditEntry], names: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "at": a.at.isoformat(),
            "actor": names.get(a.actor, a.actor),
            "action": a.action.value,
            "household": a.household,
            "detail": a.detail,
        }
        for a in entries
    ]


def _detail(e: Election, user: User, svc: Services) -> dict[str, Any]:
    out = _summary(e, svc)
    candidates = db.candidates(svc.store, e.id)
    out["candidates"] = [
        {"household": c.household, "name": c.name, "statement": c.statement} for c in candidates
    ]
    ballots = db.ballots(svc.store, e.id)
    if user.role == UserRole.RESIDENT:
        mine = service.household_of(svc.store, user)
        had = next((b for b in ballots if b.household == mine), None)
        out["my_household"] = mine
        out["my_ballot"] = (
            {"channel": had.channel.value, "cast_at": had.cast_at.isoformat()} if had else None
        )
        return out
    names = display_names(
        svc.store, {b.cast_by for b in ballots} | {b.nominated_by for b in candidates}
    )
    estate = frozenset(e.buildings)
    voted = {b.household for b in ballots}
    out["households"] = [
        {
            "id": h.id,
            "units": [f"{svc.world.buildings[u.building].name} {u.room}" for u in h.units
                      if u.building in estate and u.building in svc.world.buildings],
            "area_m2": service.m2(h.area_in(estate)),
            "voted": h.id in voted,
        }
        for h in sorted(svc.world.households.values(), key=lambda h: h.id)
        if h.area_in(estate) > 0
    ]  # fmt: skip
    out["ballots"] = [
        {
            "household": b.household,
            "channel": b.channel.value,
            "cast_by": names.get(b.cast_by, b.cast_by),
            "proxy": b.proxy,
            "cast_at": b.cast_at.isoformat(),
            # what a staff member recorded, they may read back (to correct it); a
            # resident's own online choice is not shown
            "choices": list(b.choices) if b.channel != BallotChannel.ONLINE else None,
        }
        for b in ballots
    ]
    return out


# ---------------------------------------------------------------------- routes
@router.get("/elections")
def list_elections(user: CurrentUser, svc: Svc) -> list[dict[str, Any]]:
    """Staff: the elections of their areas; a resident: those of their household's estate."""
    return [_summary(e, svc) for e in service.listed(svc.store, svc.world, user)]


@router.post("/elections", status_code=201)
def create_election(body: NewElection, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    e = service.create(
        svc.store,
        svc.world,
        user,
        title=body.title,
        area=body.area,
        buildings=body.buildings,
        seats=body.seats,
        notice_days=body.notice_days,
        now=svc.clock.now(),
    )
    return _detail(e, user, svc)


@router.get("/elections/{election_id}")
def get_election(election_id: ElectionId, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """The election: candidates, and for staff the households, ballots (who recorded
    each) ; the result once published."""
    return _detail(service.get(svc.store, svc.world, user, election_id), user, svc)


@router.get("/elections/{election_id}/audit")
def audit(election_id: ElectionId, user: CurrentUser, svc: Svc) -> list[dict[str, Any]]:
    """The audit trail: every nomination, step, ballot and correction, who and when."""
    e = service.get(svc.store, svc.world, user, election_id)
    if user.role == UserRole.RESIDENT:
        raise Refused("role", "the audit trail is for the staff of the estate's area")
    entries = db.audit_trail(svc.store, e.id)
    return _audit_json(entries, display_names(svc.store, {a.actor for a in entries}))


@router.post("/elections/{election_id}/candidates", status_code=201)
def nominate(
    election_id: ElectionId, body: Nomination, user: CurrentUser, svc: Svc
) -> dict[str, Any]:
    service.nominate(
        svc.store,
        svc.world,
        user,
        election_id,
        household=body.household,
        name=body.name,
        statement=body.statement,
        now=svc.clock.now(),
    )
    return _detail(service.get(svc.store, svc.world, user, election_id), user, svc)


@router.post("/elections/{election_id}/notice")
def start_notice(election_id: ElectionId, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """候选人公示 begins (the candidate list is fixed)."""
    e = service.start_notice(svc.store, svc.world, user, election_id, svc.clock.now())
    return _detail(e, user, svc)


@router.post("/elections/{election_id}/voting")
def open_voting(election_id: ElectionId, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Voting opens (409 while the notice period runs)."""
    e = service.open_voting(svc.store, svc.world, user, election_id, svc.clock.now())
    return _detail(e, user, svc)


@router.post("/elections/{election_id}/ballots", status_code=201)
def cast(election_id: ElectionId, body: BallotIn, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """A resident's vote for their household, or a staff member's record of a proxy or
    paper ballot. A household's second ballot: 409."""
    now = svc.clock.now()
    if user.role == UserRole.RESIDENT:
        b = service.vote(svc.store, svc.world, user, election_id, body.choices, now)
    else:
        if body.household is None:
            raise FieldError("household", "whose ballot is it? give the household")
        b = service.record(
            svc.store,
            svc.world,
            user,
            election_id,
            household=body.household,
            choices=body.choices,
            channel=body.channel or BallotChannel.PAPER,
            proxy=body.proxy,
            now=now,
        )
    return {"household": b.household, "channel": b.channel.value, "cast_at": b.cast_at.isoformat()}


@router.post("/elections/{election_id}/corrections")
def correct(
    election_id: ElectionId, body: Correction, user: CurrentUser, svc: Svc
) -> dict[str, Any]:
    """Correct a proxy or paper ballot while voting runs; the trail keeps the before."""
    b = service.correct(
        svc.store,
        svc.world,
        user,
        election_id,
        household=body.household,
        choices=body.choices,
        reason=body.reason,
        now=svc.clock.now(),
    )
    return {"household": b.household, "choices": list(b.choices)}


@router.post("/elections/{election_id}/close")
def close(election_id: ElectionId, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Stop the vote, count it by art. 278 and publish the result."""
    e = service.close(svc.store, svc.world, user, election_id, svc.clock.now())
    return _detail(e, user, svc)


@router.post("/households/{household}/residents", status_code=204)
def bind(
    household: Annotated[str, Path(max_length=64)], body: Binding, user: CurrentUser, svc: Svc
) -> None:
    """Bind a resident's account to an owner household (staff of its area)."""
    service.bind(
        svc.store,
        svc.world,
        user,
        username=body.username,
        household=household,
        now=svc.clock.now(),
    )
