"""线上宣讲 and 促动师 in the database, on SQLite and PostgreSQL: a briefing's list, roll
and questions, the period's counts (an enterprise reached twice counts once), and a
facilitator trained, moved and withdrawn. Area codes are drawn per test, so rows other
tests left in the session's PostgreSQL database are not counted."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityeye.domain.briefings import Briefing, Facilitator, Invitation, Question
from cityeye.domain.participation import MeetingMode
from cityeye.store import Store
from cityeye.store import briefings as db


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


T0 = datetime(2020, 7, 15, 2, 0, tzinfo=UTC)


def briefing(area: str, at: datetime) -> Briefing:
    return Briefing(
        id=f"BR-{secrets.token_hex(4)}",
        title="疫情政策线上宣讲",
        topic="稳岗返还",
        mode=MeetingMode.ONLINE,
        at=at,
        area=area,
        created_at=at,
        created_by="xh_disp",
        link="https://meeting.example.cn/j/1",
        materials=("a" * 64 + ".png",),
    )


def test_a_briefing_its_roll_questions_and_the_period_counts(store: Store) -> None:
    area = f"A{secrets.token_hex(4)}"
    first = briefing(area, T0)
    second = briefing(area, T0 + timedelta(days=40))
    db.add_briefing(store, first, [Invitation(first.id, s, s, "G1") for s in ("E1", "E2")])
    db.add_briefing(store, second, [Invitation(second.id, "E1", "E1", "G1")])
    assert db.get_briefing(store, first.id) == first
    db.set_roll(store, first.id, "E1", T0, T0)
    db.set_roll(store, second.id, "E1", T0, T0 + timedelta(days=40))
    asked = db.add_question(store, Question(first.id, 0, "何时到账？", T0, "E1"))
    assert asked.n == 1
    assert db.add_question(store, Question(first.id, 0, "道路破损", T0)).n == 2
    db.answer_question(store, first.id, 1, "月底", T0, "xh_disp")
    assert db.link_case(store, first.id, 2, f"briefing/{first.id}-2")
    assert not db.link_case(store, first.id, 2, "again")  # once
    found, total = db.list_briefings(store, {area})
    assert total == 2
    assert [b.id for b in found] == [second.id, first.id]  # the latest first
    everything = db.counts(store, {area}, None)
    assert everything["sessions"] == 2
    assert (everything["enterprises_invited"], everything["enterprises_reached"]) == (2, 1)
    assert everything["attendances"] == 2
    july = db.counts(store, {area}, (T0 - timedelta(days=1), T0 + timedelta(days=10)))
    assert (july["sessions"], july["questions"], july["questions_answered"]) == (1, 2, 1)
    assert july["case_keys"] == [f"briefing/{first.id}-2"]
    assert db.counts(store, set(), None)["sessions"] == 0  # no areas: nothing


def test_a_facilitator_is_trained_moved_and_withdrawn(store: Store) -> None:
    user, community = f"U{secrets.token_hex(4)}", f"C{secrets.token_hex(4)}"
    db.put_facilitator(store, Facilitator(user, community, T0, "xh_disp", "培训"))
    assert db.get_facilitator(store, user) == Facilitator(user, community, T0, "xh_disp", "培训")
    assert db.end_facilitator(store, user, T0 + timedelta(days=1))
    assert not db.end_facilitator(store, user, T0 + timedelta(days=2))  # once
    other = f"C{secrets.token_hex(4)}"
    db.put_facilitator(store, Facilitator(user, other, T0 + timedelta(days=3), "root"))
    again = db.get_facilitator(store, user)
    assert again is not None
    assert (again.community, again.active) == (other, True)
    assert [f.user_id for f in db.facilitators(store, [other])] == [user]
    assert db.facilitators(store, [community]) == []
