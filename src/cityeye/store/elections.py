"""业委会换届选举 in the database: elections, candidates, ballots, the resident–household
roll and the audit trail.

A ballot is one row keyed by (election, household): a second ballot for a household,
whoever casts it and however many at once, is refused by the key, and its audit line
(written in the same transaction) goes with it. A state change is a conditional update
(from the state it must be in), so two staff members moving one election at once move
it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError

from cityeye.domain.elections import (
    AuditAction,
    AuditEntry,
    Ballot,
    BallotChannel,
    Candidate,
    Election,
    ElectionState,
    Matter,
)
from cityeye.errors import ConflictError
from cityeye.store import tables as t
from cityeye.store.repo import Store


class Taken(ConflictError):
    """The row is there already (a second ballot, candidate or election id)."""


def _election(r: Any) -> Election:
    return Election(
        id=r.id,
        title=r.title,
        area=r.area,
        buildings=tuple(r.buildings),
        matter=Matter(r.matter),
        seats=r.seats,
        notice_days=r.notice_days,
        state=ElectionState(r.state),
        created_at=r.created_at,
        created_by=r.created_by,
        notice_at=r.notice_at,
        voting_at=r.voting_at,
        closed_at=r.closed_at,
        result=r.result,
    )


def _audit(conn: Any, e: AuditEntry) -> None:
    conn.execute(
        insert(t.election_audit).values(
            election_id=e.election_id,
            at=e.at,
            actor=e.actor,
            action=e.action.value,
            household=e.household,
            detail=e.detail,
        )
    )


def add_election(store: Store, election: Election, audit: AuditEntry) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.elections).values(
                id=election.id,
                title=election.title,
                area=election.area,
                buildings=list(election.buildings),
                matter=election.matter.value,
                seats=election.seats,
                notice_days=election.notice_days,
                state=election.state.value,
                created_at=election.created_at,
                created_by=election.created_by,
            )
        )
        _audit(conn, audit)


def election(store: Store, election_id: str) -> Election | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.elections).where(t.elections.c.id == election_id)).first()
    return _election(r) if r is not None else None


def elections(store: Store, areas: Sequence[str] | None) -> list[Election]:
    """The elections run in these areas (``None``: all), newest first."""
    q = select(t.elections).order_by(t.elections.c.created_at.desc(), t.elections.c.id)
    if areas is not None:
        q = q.where(t.elections.c.area.in_(sorted(areas)))
    with store.engine.connect() as conn:
        return [_election(r) for r in conn.execute(q)]


def move(
    store: Store,
    election_id: str,
    source: ElectionState,
    target: ElectionState,
    audit: AuditEntry,
    **values: Any,
) -> bool:
    """Move the election from ``source`` to ``target`` (setting ``values``), with its
    audit line; ``False`` when it was not in ``source`` (someone else moved it)."""
    c = t.elections.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.elections)
            .where(and_(c.id == election_id, c.state == source.value))
            .values(state=target.value, **values)
        ).rowcount
        if done:
            _audit(conn, audit)
    return bool(done)


def add_candidate(store: Store, c: Candidate, audit: AuditEntry) -> None:
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(t.election_candidates).values(
                    election_id=c.election_id,
                    household=c.household,
                    name=c.name,
                    statement=c.statement,
                    nominated_by=c.nominated_by,
                    nominated_at=c.nominated_at,
                )
            )
            _audit(conn, audit)
    except IntegrityError:
        raise Taken(c.household) from None


def candidates(store: Store, election_id: str) -> list[Candidate]:
    c = t.election_candidates.c
    q = select(t.election_candidates).where(c.election_id == election_id)
    with store.engine.connect() as conn:
        rows = conn.execute(q.order_by(c.nominated_at, c.household)).all()
    return [
        Candidate(r.election_id, r.household, r.name, r.statement, r.nominated_by, r.nominated_at)
        for r in rows
    ]


def _ballot(r: Any) -> Ballot:
    return Ballot(
        r.election_id,
        r.household,
        tuple(r.choices),
        BallotChannel(r.channel),
        r.cast_by,
        r.cast_at,
        r.proxy,
    )


def add_ballot(store: Store, b: Ballot, audit: AuditEntry) -> None:
    """Record a household's ballot; :class:`Taken` when it has one already."""
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(t.election_ballots).values(
                    election_id=b.election_id,
                    household=b.household,
                    choices=list(b.choices),
                    channel=b.channel.value,
                    cast_by=b.cast_by,
                    proxy=b.proxy,
                    cast_at=b.cast_at,
                )
            )
            _audit(conn, audit)
    except IntegrityError:
        raise Taken(b.household) from None


def correct_ballot(store: Store, b: Ballot, audit: AuditEntry) -> bool:
    """Replace a recorded ballot's choices (a staff member's correction of a paper or
    proxy ballot), with its audit line; ``False`` when there is none."""
    c = t.election_ballots.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.election_ballots)
            .where(and_(c.election_id == b.election_id, c.household == b.household))
            .values(choices=list(b.choices), channel=b.channel.value, proxy=b.proxy)
        ).rowcount
        if done:
            _audit(conn, audit)
    return bool(done)


def ballots(store: Store, election_id: str) -> list[Ballot]:
    c = t.election_ballots.c
    q = select(t.election_ballots).where(c.election_id == election_id)
    with store.engine.connect() as conn:
        return [_ballot(r) for r in conn.execute(q.order_by(c.cast_at, c.household))]


def ballot(store: Store, election_id: str, household: str) -> Ballot | None:
    c = t.election_ballots.c
    q = select(t.election_ballots).where(
        and_(c.election_id == election_id, c.household == household)
    )
    with store.engine.connect() as conn:
        r = conn.execute(q).first()
    return _ballot(r) if r is not None else None


def audit_trail(store: Store, election_id: str) -> list[AuditEntry]:
    c = t.election_audit.c
    q = select(t.election_audit).where(c.election_id == election_id).order_by(c.id)
    with store.engine.connect() as conn:
        return [
            AuditEntry(
                r.election_id, r.at, r.actor, AuditAction(r.action), r.household, r.detail or {}
            )
            for r in conn.execute(q)
        ]


def bind_resident(store: Store, username: str, household: str, by: str, at: datetime) -> None:
    """Bind a resident's account to a household (re-binding replaces the old one)."""
    c = t.household_residents.c
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.household_residents)
            .where(c.username == username)
            .values(household=household, bound_by=by, bound_at=at)
        ).rowcount
        if not done:
            conn.execute(
                insert(t.household_residents).values(
                    username=username, household=household, bound_by=by, bound_at=at
                )
            )


def household_of(store: Store, username: str) -> str | None:
    c = t.household_residents.c
    with store.engine.connect() as conn:
        return conn.execute(select(c.household).where(c.username == username)).scalar()
