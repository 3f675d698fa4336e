"""社会评价 in the database, on SQLite and PostgreSQL: many sends of one link at the same
moment count once (the invitation's conditional update decides), and a response's rows
say nothing of who gave it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityeye.domain.users import User, UserRole
from cityeye.errors import ConflictError
from cityeye.store import Store
from cityeye.store import survey as db
from cityeye.survey import service
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OFFICE = User("u-office", "office", "考评办", UserRole.ADMIN)
NOW = datetime.now(UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'survey.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = Store.open(url)
    yield s
    s.close()


def test_simultaneous_sends_of_one_link_count_once(store: Store) -> None:
    world = load_world(FIXTURES / "world_small.yaml")
    survey = service.create_survey(
        store,
        world,
        OFFICE,
        title=f"并发 {uuid.uuid4().hex[:6]}",  # the PostgreSQL database is per session
        year=2026,
        opens_at=NOW - timedelta(days=1),
        closes_at=NOW + timedelta(days=1),
        now=NOW,
    )
    [token] = service.invite_links(store, world, OFFICE, survey.id, 1, NOW)
    answers = [{"unit": "street:330105001", "rating": 4, "comment": "同时提交"}]

    def send(_: int) -> str:
        try:
            service.respond_by_token(store, token, answers, NOW)
        except ConflictError:
            return "refused"
        return "counted"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(send, range(16)))
    assert sorted(set(outcomes)) == ["counted", "refused"]
    assert outcomes.count("counted") == 1
    assert db.tallies(store, survey.id)["street:330105001"] == {1: 0, 2: 0, 3: 0, 4: 1, 5: 0}
    assert db.comments(store, survey.id) == [("street:330105001", 4, "同时提交")]
    assert db.invitation_counts(store, survey.id) == (1, 1)
