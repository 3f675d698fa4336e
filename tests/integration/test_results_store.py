"""月考核 in the database, on SQLite and PostgreSQL: many publications of one round at
the same moment leave exactly one result, the first one's board; the list of results
gives the newest round first."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityeye.store import Store
from cityeye.store.results import find_results, get_result, publish_result

NOW = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'results.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = Store.open(url)
    yield s
    s.close()


def test_simultaneous_publications_of_a_round_leave_one_result(store: Store) -> None:
    level = f"street-{uuid.uuid4().hex[:6]}"  # the PostgreSQL database is per session

    def publish(n: int) -> bool:
        return publish_result(
            store,
            period="2026-10",
            level=level,
            area="",
            contest="数字治理赛",
            board={"rows": [{"unit": "S1", "score": 100 - n}], "n": n},
            now=NOW + timedelta(seconds=n),
        )

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(publish, range(8)))
    assert outcomes.count(True) == 1
    found = get_result(store, "2026-10", level)
    assert found is not None
    first = outcomes.index(True)
    assert found["n"] == first  # the board of the publication that won, whole
    assert found["rows"] == [{"unit": "S1", "score": 100 - first}]
    assert found["published_at"] == (NOW + timedelta(seconds=first)).isoformat()


def test_results_are_listed_newest_round_first(store: Store) -> None:
    level = f"community-{uuid.uuid4().hex[:6]}"
    for period, day in (("2026-09", 1), ("2026-10", 2), ("2026-08", 3)):
        publish_result(
            store,
            period=period,
            level=level,
            area="",
            contest="数字治理赛",
            board={"rows": []},
            now=NOW + timedelta(days=day),
        )
    mine = [r for r in find_results(store) if r.level == level]
    assert [r.period for r in mine] == ["2026-10", "2026-09", "2026-08"]
    assert mine[0].published_at == NOW + timedelta(days=2)
    assert mine[0].contest == "数字治理赛"
