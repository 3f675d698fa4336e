"""业委会换届选举: an owners' committee election from nomination to the published result
(issue 21 item 6; docs/elections.md).

The seed names the work — "助力大关公寓等 4 个业委会换届选举" (000:376) — and gives no
procedure; the steps and numbers here are ours, the thresholds the Civil Code's
(:mod:`cityeye.domain.elections`). The steps, forward only:

1. 候选人提名 — staff create the election for an estate (the buildings of a community, or
   some of them) and nominate candidates; a candidate must be an owner household of the
   estate (the world file's ``households``);
2. 候选人公示 — the list is public for ``notice_days`` (ours: 7 by default,
   configurable); voting cannot open before the notice ends;
3. 投票中 — one ballot per owner household, whoever casts it: a resident whose account
   staff bound to the household, online; or staff recording a proxy or paper ballot
   (who recorded it is kept); a second ballot for a household is refused, however many
   arrive at once (the store's key). A ballot agrees to at most ``seats`` candidates;
   staff may correct a recorded ballot while voting runs, with a reason;
4. 结果已公布 — staff close the vote: each candidate is counted by art. 278 (participation
   ≥ 2/3 of all the estate's area and households, consent > 1/2 of the area and the
   households that voted); of those who pass, the most agreed-to fill the seats.

Every step writes a line of the audit trail (who, when, what), in the transaction of
the change. The existing ballots of the 红茶议事会 (:mod:`.votes`) count one resident
one vote, anonymously, in one dimension; an owners' election counts households twice
(heads and area), so it keeps its own ballots.

Who may: dispatchers and admins whose post covers the election's area run it; leaders
of that area read it; anything outside the caller's area is "not found" (404). A
resident sees the elections of the estate their household owns in, and votes once
for the household.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cityeye.domain import FieldError, World
from cityeye.domain.elections import (
    NOBODY,
    AuditAction,
    AuditEntry,
    Ballot,
    BallotChannel,
    Candidate,
    Count,
    Election,
    ElectionState,
    Matter,
    decide,
)
from cityeye.domain.users import User, UserRole, scope_of
from cityeye.participation.service import Conflict, NotFound, plain, words
from cityeye.participation.workflow import MANAGERS, Blocked, Refused
from cityeye.store import Store
from cityeye.store import elections as db
from cityeye.store.users import user_with_hash

#: Notice period (公示) in days by default, and the longest one allowed: ours.
NOTICE_DAYS = 7
MAX_NOTICE_DAYS = 60
MAX_SEATS = 15
READERS = MANAGERS | {UserRole.LEADER}


# ---------------------------------------------------------------------- who may
def may_run(user: User, area: str, world: World) -> None:
    """Raise :class:`Refused` unless ``user`` may run elections in ``area``."""
    if user.role not in MANAGERS:
        raise Refused("role", f"a {user.role.value} may not run owners' elections")
    if not scope_of(user, world).allows(area):
        raise Refused("area", f"{area} is outside the areas of your post")


def _visible(user: User, election: Election, world: World) -> bool:
    return user.role in READERS and scope_of(user, world).allows(election.area)


def get(store: Store, world: World, user: User, election_id: str) -> Election:
    """The election, if ``user`` may read it (staff of its area, or an owner of it)."""
    found = db.election(store, election_id)
    if found is not None:
        if _visible(user, found, world):
            return found
        if user.role == UserRole.RESIDENT:
            household = db.household_of(store, user.username)
            if household is not None and _owns_in(world, household, found):
                return found
    raise NotFound("election", f"no election {election_id!r} among yours")


def listed(store: Store, world: World, user: User) -> list[Election]:
    """The elections ``user`` may read: staff, those of their areas; a resident,
    those of the estates their household owns in."""
    if user.role in READERS:
        areas = scope_of(user, world).areas
        return db.elections(store, None if areas is None else sorted(areas))
    if user.role == UserRole.RESIDENT:
        household = db.household_of(store, user.username)
        if household is None:
            return []
        return [e for e in db.elections(store, None) if _owns_in(world, household, e)]
    raise Refused("role", f"a {user.role.value} takes no part in owners' elections")


def _owns_in(world: World, household: str, election: Election) -> bool:
    h = world.households.get(household)
    return h is not None and h.area_in(frozenset(election.buildings)) > 0


def _audit(
    e: Election | str,
    at: datetime,
    actor: User,
    action: AuditAction,
    household: str | None = None,
    **detail: Any,
) -> AuditEntry:
    eid = e if isinstance(e, str) else e.id
    return AuditEntry(eid, at, actor.username, action, household, detail)


# ---------------------------------------------------------------------- create
def estate(world: World, area: str, buildings: Sequence[str] | None) -> tuple[str, ...]:
    """The estate's buildings: those named (each within ``area``, with owners), or
    every building within ``area`` that has owner households."""
    owned = {u.building for h in world.households.values() for u in h.units}
    if buildings is None:
        chosen = sorted(
            b.id for b in world.buildings.values() if b.id in owned and world.within(b.area, area)
        )
        if not chosen:
            raise FieldError("area", f"no building with owner households lies within {area}")
        return tuple(chosen)
    if not buildings:
        raise FieldError("buildings", "name at least one building")
    for i, b in enumerate(buildings):
        building = world.buildings.get(b)
        if building is None:
            raise FieldError(f"buildings[{i}]", f"unknown building {b!r}")
        if not world.within(building.area, area):
            raise FieldError(f"buildings[{i}]", f"{b} does not lie within {area}")
        if b not in owned:
            raise FieldError(f"buildings[{i}]", f"{b} has no owner households in the world file")
    return tuple(dict.fromkeys(buildings))


def create(
    store: Store,
    world: World,
    staff: User,
    *,
    title: str,
    area: str,
    now: datetime,
    buildings: Sequence[str] | None = None,
    seats: int = 5,
    notice_days: int = NOTICE_DAYS,
) -> Election:
    if area not in world.areas:
        raise FieldError("area", f"unknown area {area!r}")
    may_run(staff, area, world)
    if not 1 <= seats <= MAX_SEATS:
        raise FieldError("seats", f"from 1 to {MAX_SEATS}, got {seats}")
    if not 1 <= notice_days <= MAX_NOTICE_DAYS:
        raise FieldError("notice_days", f"from 1 to {MAX_NOTICE_DAYS} days, got {notice_days}")
    election = Election(
        id=f"el_{secrets.token_hex(6)}",
        title=words("title", title),
        area=area,
        buildings=estate(world, area, buildings),
        # an election (art. 278 item 3); the other matters' consent is in Matter, for
        # the decisions a later workflow may put to the owners
        matter=Matter.ELECTION,
        seats=seats,
        notice_days=notice_days,
        state=ElectionState.NOMINATING,
        created_at=now,
        created_by=staff.username,
    )
    audit = _audit(election, now, staff, AuditAction.CREATED, title=election.title)
    db.add_election(store, election, audit)
    return election


def _running(store: Store, world: World, staff: User, election_id: str) -> Election:
    """The election, for a staff member who may run it: another role is refused (403),
    an election outside their area is not found (404)."""
    if staff.role not in MANAGERS:
        raise Refused("role", f"a {staff.role.value} may not run owners' elections")
    election = get(store, world, staff, election_id)
    may_run(staff, election.area, world)
    return election


def _at(election: Election, state: ElectionState, what: str) -> None:
    if election.state != state:
        raise Conflict(
            "state", f"{what} only while {state.zh} ({state.value}); now {election.state.value}"
        )


# ---------------------------------------------------------------------- nominate
def nominate(
    store: Store,
    world: World,
    staff: User,
    election_id: str,
    *,
    household: str,
    name: str,
    now: datetime,
    statement: str = "",
) -> Candidate:
    """A candidate: an owner household of the estate, standing under ``name``."""
    election = _running(store, world, staff, election_id)
    _at(election, ElectionState.NOMINATING, "nominations")
    if household not in world.households:
        raise FieldError("household", f"unknown household {household!r}")
    if not _owns_in(world, household, election):
        raise FieldError("household", f"{household} owns no unit in this estate: not eligible")
    candidate = Candidate(
        election.id,
        household,
        words("name", name)[:100],
        plain("statement", statement)[:2000],
        staff.username,
        now,
    )
    audit = _audit(election, now, staff, AuditAction.NOMINATED, household, name=candidate.name)
    try:
        db.add_candidate(store, candidate, audit)
    except db.Taken:
        raise Conflict("household", f"{household} is a candidate already") from None
    return candidate


# ---------------------------------------------------------------------- steps
def start_notice(
    store: Store, world: World, staff: User, election_id: str, now: datetime
) -> Election:
    """候选人公示 begins: the list is fixed and public for ``notice_days``."""
    election = _running(store, world, staff, election_id)
    _at(election, ElectionState.NOMINATING, "the notice period begins")
    if not db.candidates(store, election.id):
        raise Blocked("candidates", "nominate at least one candidate first")
    audit = _audit(election, now, staff, AuditAction.NOTICE, days=election.notice_days)
    if not db.move(
        store, election.id, ElectionState.NOMINATING, ElectionState.NOTICE, audit, notice_at=now
    ):
        raise Conflict("state", "the election moved on meanwhile")
    return replace(election, state=ElectionState.NOTICE, notice_at=now)


def notice_ends(election: Election) -> datetime | None:
    if election.notice_at is None:
        return None
    return election.notice_at + timedelta(days=election.notice_days)


def open_voting(
    store: Store, world: World, staff: User, election_id: str, now: datetime
) -> Election:
    """投票 begins, once the notice period has ended."""
    election = _running(store, world, staff, election_id)
    _at(election, ElectionState.NOTICE, "voting opens")
    ends = notice_ends(election)
    if ends is not None and now < ends:
        raise Blocked("notice_days", f"the notice period runs until {ends.isoformat()}")
    audit = _audit(election, now, staff, AuditAction.VOTING)
    if not db.move(
        store, election.id, ElectionState.NOTICE, ElectionState.VOTING, audit, voting_at=now
    ):
        raise Conflict("state", "the election moved on meanwhile")
    return replace(election, state=ElectionState.VOTING, voting_at=now)


# ---------------------------------------------------------------------- ballots
def _choices(store: Store, election: Election, choices: Sequence[str]) -> tuple[str, ...]:
    names = {c.household for c in db.candidates(store, election.id)}
    if len(set(choices)) != len(choices):
        raise FieldError("choices", "a candidate is chosen twice")
    for i, c in enumerate(choices):
        if c not in names:
            raise FieldError(f"choices[{i}]", f"{c!r} is not a candidate of this election")
    if len(choices) > election.seats:
        raise FieldError("choices", f"at most {election.seats} candidates (the seats)")
    return tuple(choices)


def _cast(store: Store, ballot: Ballot, audit: AuditEntry) -> Ballot:
    try:
        db.add_ballot(store, ballot, audit)
    except db.Taken:
        had = db.ballot(store, ballot.election_id, ballot.household)
        how = f" ({had.channel.zh})" if had is not None else ""
        raise Conflict(
            "household", f"household {ballot.household} has voted already{how}"
        ) from None
    return ballot


def vote(
    store: Store,
    world: World,
    resident: User,
    election_id: str,
    choices: Sequence[str],
    now: datetime,
) -> Ballot:
    """A resident votes online for the household their account is bound to."""
    if resident.role != UserRole.RESIDENT:
        raise Refused("role", "staff record proxy and paper ballots; residents vote online")
    household = db.household_of(store, resident.username)
    if household is None:
        raise Refused("household", "your account is not bound to an owner household yet")
    election = get(store, world, resident, election_id)
    _at(election, ElectionState.VOTING, "votes are taken")
    ballot = Ballot(
        election.id,
        household,
        _choices(store, election, choices),
        BallotChannel.ONLINE,
        resident.username,
        now,
    )
    audit = _audit(election, now, resident, AuditAction.BALLOT, household, channel="online")
    return _cast(store, ballot, audit)


def _eligible(world: World, election: Election, household: str) -> None:
    if household not in world.households:
        raise FieldError("household", f"unknown household {household!r}")
    if not _owns_in(world, household, election):
        raise FieldError("household", f"{household} owns no unit in this estate: not eligible")


def record(
    store: Store,
    world: World,
    staff: User,
    election_id: str,
    *,
    household: str,
    choices: Sequence[str],
    channel: BallotChannel,
    now: datetime,
    proxy: str | None = None,
) -> Ballot:
    """Staff record a household's proxy (委托, with the proxy's name) or paper ballot."""
    election = _running(store, world, staff, election_id)
    _at(election, ElectionState.VOTING, "ballots are recorded")
    if channel == BallotChannel.ONLINE:
        raise FieldError("channel", "staff record proxy or paper ballots")
    _eligible(world, election, household)
    holder = words("proxy", proxy or "")[:100] if channel == BallotChannel.PROXY else None
    ballot = Ballot(
        election.id,
        household,
        _choices(store, election, choices),
        channel,
        staff.username,
        now,
        holder,
    )
    audit = _audit(
        election, now, staff, AuditAction.BALLOT, household, channel=channel.value, proxy=holder
    )
    return _cast(store, ballot, audit)


def correct(
    store: Store,
    world: World,
    staff: User,
    election_id: str,
    *,
    household: str,
    choices: Sequence[str],
    reason: str,
    now: datetime,
) -> Ballot:
    """Correct a ballot staff recorded (a misread paper ballot), while voting runs; the
    trail keeps what it said before and why it changed. An online ballot is the
    resident's own and is not corrected by staff."""
    election = _running(store, world, staff, election_id)
    _at(election, ElectionState.VOTING, "ballots are corrected")
    why = words("reason", reason)[:500]
    had = db.ballot(store, election.id, household)
    if had is None:
        raise NotFound("household", f"household {household} has no ballot to correct")
    if had.channel == BallotChannel.ONLINE:
        raise Refused("household", "an online ballot is the resident's own: staff do not change it")
    fixed = replace(had, choices=_choices(store, election, choices))
    audit = _audit(
        election,
        now,
        staff,
        AuditAction.CORRECTED,
        household,
        before=list(had.choices),
        after=list(fixed.choices),
        reason=why,
    )
    if not db.correct_ballot(store, fixed, audit):
        raise NotFound("household", f"household {household} has no ballot to correct")
    return fixed


# ---------------------------------------------------------------------- the count
def m2(area: Fraction) -> str:
    """An exact area as people write it (sums of areas with two decimals stay exact)."""
    return f"{Decimal(area.numerator) / Decimal(area.denominator):.2f}"


def _count_json(c: Count) -> dict[str, Any]:
    return {"households": c.heads, "area_m2": m2(c.area)}


def count(
    world: World, election: Election, candidates: Sequence[Candidate], ballots: Sequence[Ballot]
) -> dict[str, Any]:
    """The count by art. 278: the estate's households and area, those that voted, and
    for each candidate those that agreed, with the four checks and the verdict; the
    elected are the candidates who pass, most agreeing households first (then area),
    up to the seats. Candidates tied for the last seat (equal households and area)
    are all left out and listed as ``tied``; a ballot of a household outside the
    estate (none can be cast) would not count."""
    buildings = frozenset(election.buildings)
    area = {hid: h.area_in(buildings) for hid, h in world.households.items()}
    area = {hid: a for hid, a in area.items() if a > 0}
    eligible = sum((Count(1, a) for a in area.values()), NOBODY)
    counted = [b for b in ballots if b.household in area]
    voted = sum((Count(1, area[b.household]) for b in counted), NOBODY)
    rows: list[dict[str, Any]] = []
    for c in candidates:
        agreed = sum(
            (Count(1, area[b.household]) for b in counted if c.household in b.choices), NOBODY
        )
        v = decide(election.matter, eligible, voted, agreed)
        rows.append(
            {
                "household": c.household,
                "name": c.name,
                "agreed": _count_json(agreed),
                "consent_households": v.consent_heads,
                "consent_area": v.consent_area,
                "passed": v.passed,
                "why_not": v.why_not,
                "_rank": (agreed.heads, agreed.area),
            }
        )
    passing = sorted((r for r in rows if r["passed"]), key=lambda r: r["_rank"], reverse=True)
    elected = [r["household"] for r in passing[: election.seats]]
    tied: list[str] = []
    if len(passing) > election.seats:
        # the last seat between candidates equal in households and area: the count
        # cannot choose (nomination order would be arbitrary); ours: nobody of them
        # takes it, and the result says so (a further vote decides)
        edge = passing[election.seats - 1]["_rank"]
        tied = [r["household"] for r in passing if r["_rank"] == edge]
        if len(tied) > 1:
            elected = [h for h in elected if h not in tied]
        else:
            tied = []
    for r in rows:
        del r["_rank"]
        r["elected"] = r["household"] in elected
        r["tied"] = r["household"] in tied
    probe = decide(election.matter, eligible, voted, NOBODY)
    return {
        "eligible": _count_json(eligible),
        "voted": _count_json(voted),
        "turnout_households": probe.turnout_heads,
        "turnout_area": probe.turnout_area,
        "candidates": rows,
        "elected": elected,
        "tied": tied,
    }


def close(store: Store, world: World, staff: User, election_id: str, now: datetime) -> Election:
    """Stop the vote, count it and publish the result (frozen as counted now)."""
    election = _running(store, world, staff, election_id)
    _at(election, ElectionState.VOTING, "the vote is counted")
    result = count(
        world, election, db.candidates(store, election.id), db.ballots(store, election.id)
    )
    audit = _audit(election, now, staff, AuditAction.PUBLISHED, elected=result["elected"])
    if not db.move(
        store,
        election.id,
        ElectionState.VOTING,
        ElectionState.PUBLISHED,
        audit,
        closed_at=now,
        result=result,
    ):
        raise Conflict("state", "the election moved on meanwhile")
    return replace(election, state=ElectionState.PUBLISHED, closed_at=now, result=result)


# ---------------------------------------------------------------------- the roll
def bind(
    store: Store, world: World, staff: User, *, username: str, household: str, now: datetime
) -> None:
    """Bind a resident's account to the owner household staff checked it belongs to;
    staff may bind households whose units lie within their post's areas."""
    h = world.households.get(household)
    if h is None:
        raise FieldError("household", f"unknown household {household!r}")
    areas = {world.buildings[u.building].area for u in h.units if u.building in world.buildings}
    if staff.role not in MANAGERS:
        raise Refused("role", f"a {staff.role.value} may not bind residents to households")
    if not any(scope_of(staff, world).allows(a) for a in areas):
        raise NotFound("household", f"no household {household!r} among yours")
    found = user_with_hash(store, username)
    user = found[0] if found is not None else None
    if user is None or user.role != UserRole.RESIDENT:
        raise FieldError("username", f"{username!r} is not a resident's account")
    db.bind_resident(store, username, household, staff.username, now)


def household_of(store: Store, resident: User) -> str | None:
    return db.household_of(store, resident.username)
