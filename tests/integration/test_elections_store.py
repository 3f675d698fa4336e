"""业委会换届选举 on SQLite and PostgreSQL: an election from nomination to its published
result, each step in the audit trail; the notice period holds voting back; a household
votes once, however many of its residents and staff send a ballot at the same moment.

The estate: tests/fixtures/world_estate.yaml — 长征桥新村 (B1, B2), six owner
households, 600 m²; H7 owns in another community."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityeye.domain import FieldError
from cityeye.domain.elections import AuditAction, BallotChannel, ElectionState
from cityeye.domain.users import User, UserRole
from cityeye.errors import ConflictError, NotFoundError, RefusedError
from cityeye.participation import elections as svc
from cityeye.store import Store
from cityeye.store import elections as db
from cityeye.store.users import add_user
from cityeye.world import load_world


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = Store.open(url)
    yield s
    s.close()


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WORLD = load_world(FIXTURES / "world_estate.yaml")
COMMUNITY = "330105001001"  # 长征桥社区
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
STAFF = User("u-s", "cz_disp", "长征桥社区", UserRole.DISPATCHER, areas=(COMMUNITY,))
OTHER = User("u-o", "xh_disp", "小河社区", UserRole.DISPATCHER, areas=("330105001002",))
LEADER = User("u-l", "boss", "街道领导", UserRole.LEADER, areas=("330105001",))


def resident(store: Store, name: str, household: str | None, staff: User = STAFF) -> User:
    name = f"{name}_{uuid.uuid4().hex[:6]}"  # the PostgreSQL database is per session
    user = User(f"u-{name}", name, name, UserRole.RESIDENT, areas=("G0001",), created_at=T0)
    add_user(store, user, "x")
    if household is not None:
        svc.bind(store, WORLD, staff, username=name, household=household, now=T0)
    return user


def voting(store: Store, seats: int = 2) -> str:
    """An election of 长征桥新村 with candidates H3, H6, H1, voting open."""
    e = svc.create(
        store, WORLD, STAFF, title=f"换届 {uuid.uuid4().hex[:6]}", area=COMMUNITY, now=T0,
        seats=seats,
    )  # fmt: skip
    for h, name in (("H3", "陈三"), ("H6", "刘六"), ("H1", "张一")):
        svc.nominate(store, WORLD, STAFF, e.id, household=h, name=name, now=T0)
    svc.start_notice(store, WORLD, STAFF, e.id, T0)
    svc.open_voting(store, WORLD, STAFF, e.id, T0 + timedelta(days=7))
    return e.id


def test_an_election_from_nomination_to_its_published_result(store: Store) -> None:
    e = svc.create(store, WORLD, STAFF, title="新村换届", area=COMMUNITY, now=T0, seats=2)
    assert e.buildings == ("B1", "B2")  # the community's buildings with owners
    with pytest.raises(FieldError, match="owns no unit in this estate"):
        svc.nominate(store, WORLD, STAFF, e.id, household="H7", name="外小区", now=T0)
    for h, name in (("H3", "陈三"), ("H6", "刘六"), ("H1", "张一")):
        svc.nominate(store, WORLD, STAFF, e.id, household=h, name=name, now=T0)
    svc.start_notice(store, WORLD, STAFF, e.id, T0)
    with pytest.raises(ConflictError, match="notice period runs until 2026-11-09"):
        svc.open_voting(store, WORLD, STAFF, e.id, T0 + timedelta(days=6, hours=23))
    svc.open_voting(store, WORLD, STAFF, e.id, T0 + timedelta(days=7))
    at = T0 + timedelta(days=8)
    # H1 and H3 vote online; H2 on paper; H4 by proxy; H5 on paper (misread, corrected)
    zhang, chen = resident(store, "zhang", "H1"), resident(store, "chen", "H3")
    svc.vote(store, WORLD, zhang, e.id, ["H6"], at)
    svc.vote(store, WORLD, chen, e.id, ["H3", "H6"], at)
    svc.record(store, WORLD, STAFF, e.id, household="H2", choices=["H6"],
               channel=BallotChannel.PAPER, now=at)  # fmt: skip
    svc.record(store, WORLD, STAFF, e.id, household="H4", choices=["H3"],
               channel=BallotChannel.PROXY, proxy="李四的女儿", now=at)  # fmt: skip
    svc.record(store, WORLD, STAFF, e.id, household="H5", choices=["H1"],
               channel=BallotChannel.PAPER, now=at)  # fmt: skip
    svc.correct(store, WORLD, STAFF, e.id, household="H5", choices=["H3"],
                reason="唱票时看错了候选人", now=at)  # fmt: skip
    done = svc.close(store, WORLD, STAFF, e.id, T0 + timedelta(days=9))
    assert done.state == ElectionState.PUBLISHED
    result = done.result
    assert result is not None
    # 5 of 6 households, 480 of 600 m²: both at least 2/3
    assert result["eligible"] == {"households": 6, "area_m2": "600.00"}
    assert result["voted"] == {"households": 5, "area_m2": "480.00"}
    rows = {r["household"]: r for r in result["candidates"]}  # type: ignore[union-attr]
    # H6: H1, H2, H3 — 3 of 5 households, 360 of 480 m²: elected
    assert rows["H6"]["agreed"] == {"households": 3, "area_m2": "360.00"}
    assert rows["H6"]["elected"] is True
    # H3: H3, H4, H5 — 3 of 5 households but 180 of 480 m²: the area fails
    assert rows["H3"]["agreed"] == {"households": 3, "area_m2": "180.00"}
    assert (rows["H3"]["consent_households"], rows["H3"]["consent_area"]) == (True, False)
    assert rows["H3"]["elected"] is False
    # H1: nobody (H5's ballot corrected to H3)
    assert rows["H1"]["agreed"] == {"households": 0, "area_m2": "0.00"}
    assert result["elected"] == ["H6"]
    # the trail: every step, who and when
    trail = db.audit_trail(store, e.id)
    assert [a.action for a in trail] == [
        AuditAction.CREATED, *[AuditAction.NOMINATED] * 3, AuditAction.NOTICE,
        AuditAction.VOTING, *[AuditAction.BALLOT] * 5, AuditAction.CORRECTED,
        AuditAction.PUBLISHED,
    ]  # fmt: skip
    fix = trail[-2]
    assert (fix.actor, fix.household) == ("cz_disp", "H5")
    assert fix.detail == {"before": ["H1"], "after": ["H3"], "reason": "唱票时看错了候选人"}
    assert [a.actor for a in trail[6:8]] == [zhang.username, chen.username]
    # the count is frozen: a late ballot has nowhere to go
    with pytest.raises(ConflictError, match="voting"):
        svc.record(store, WORLD, STAFF, e.id, household="H6", choices=[],
                   channel=BallotChannel.PAPER, now=T0 + timedelta(days=10))  # fmt: skip


def test_too_few_taking_part_elects_nobody_however_unanimous(store: Store) -> None:
    eid = voting(store)
    at = T0 + timedelta(days=8)
    for h in ("H1", "H2", "H6"):  # 3 of 6 households, 420 of 600 m²
        svc.record(store, WORLD, STAFF, eid, household=h, choices=["H6"],
                   channel=BallotChannel.PAPER, now=at)  # fmt: skip
    result = svc.close(store, WORLD, STAFF, eid, at).result
    assert result is not None
    assert (result["turnout_households"], result["turnout_area"]) == (False, True)
    assert result["elected"] == []


def test_each_boundary(store: Store) -> None:
    eid = voting(store)
    at = T0 + timedelta(days=8)
    with pytest.raises(NotFoundError):  # another community's dispatcher
        svc.close(store, WORLD, OTHER, eid, at)
    with pytest.raises(RefusedError):  # a leader looks, never runs
        svc.close(store, WORLD, LEADER, eid, at)
    assert svc.get(store, WORLD, LEADER, eid).id == eid
    outsider = resident(store, "wu", "H7", OTHER)  # owns in another community
    with pytest.raises(NotFoundError):  # nor may this community's staff bind them
        svc.bind(store, WORLD, STAFF, username=outsider.username, household="H7", now=at)
    with pytest.raises(NotFoundError):
        svc.vote(store, WORLD, outsider, eid, ["H6"], at)
    unbound = resident(store, "zhao", None)
    with pytest.raises(RefusedError, match="not bound"):
        svc.vote(store, WORLD, unbound, eid, ["H6"], at)
    voter = resident(store, "sun", "H2")
    with pytest.raises(FieldError, match="at most 2"):
        svc.vote(store, WORLD, voter, eid, ["H6", "H3", "H1"], at)
    with pytest.raises(FieldError, match="not a candidate"):
        svc.vote(store, WORLD, voter, eid, ["H2"], at)
    svc.vote(store, WORLD, voter, eid, ["H6"], at)
    with pytest.raises(RefusedError, match="resident's own"):
        svc.correct(store, WORLD, STAFF, eid, household="H2", choices=[], reason="x", now=at)


def test_a_household_votes_once_however_many_send_at_once(store: Store) -> None:
    """Two residents of H1 online and staff on paper, sixteen sends at the same moment:
    one ballot counts, the rest are refused, and the trail has one ballot line."""
    eid = voting(store)
    at = T0 + timedelta(days=8)
    people = [resident(store, "h1a", "H1"), resident(store, "h1b", "H1")]

    def send(n: int) -> str:
        try:
            if n % 3 == 2:
                svc.record(store, WORLD, STAFF, eid, household="H1", choices=["H6"],
                           channel=BallotChannel.PAPER, now=at)  # fmt: skip
            else:
                svc.vote(store, WORLD, people[n % 3], eid, ["H6"], at)
        except ConflictError:
            return "refused"
        return "counted"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(send, range(16)))
    assert outcomes.count("counted") == 1
    assert outcomes.count("refused") == 15
    assert len(db.ballots(store, eid)) == 1
    ballots = [a for a in db.audit_trail(store, eid) if a.action == AuditAction.BALLOT]
    assert len(ballots) == 1


def test_the_households_are_kept_with_the_world_exactly(store: Store) -> None:
    store.save_world(WORLD)
    again = store.load_world()
    assert again is not None
    assert again.households == WORLD.households


def test_two_staff_closing_at_once_count_once(store: Store) -> None:
    eid = voting(store)
    at = T0 + timedelta(days=8)

    def close(_: int) -> str:
        try:
            svc.close(store, WORLD, STAFF, eid, at)
        except ConflictError:
            return "refused"
        return "counted"

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(close, range(8)))
    assert outcomes.count("counted") == 1
    published = [a for a in db.audit_trail(store, eid) if a.action == AuditAction.PUBLISHED]
    assert len(published) == 1
