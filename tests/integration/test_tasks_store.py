"""督办 rows on both databases: a year's table replaced whole, a report that makes its
task's progress and completion, the reports read back in order (issue 19 item 5)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityeye.domain.tasks import Task, TaskReport
from cityeye.store import Store
from cityeye.store import tasks as db

T0 = datetime(2021, 1, 5, 2, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = (
        f"sqlite:///{tmp_path / 'tasks.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    s = Store.open(url)
    for year in db.years(s):  # the PostgreSQL database is shared by the session
        db.replace_year(s, year, "", [])
    yield s
    s.close()


def task(seq: int, year: int = 2020) -> Task:
    return Task(
        id=f"{year}-{seq:03d}",
        year=year,
        seq=seq,
        section_no="（一）",
        section_title="城市管理",
        content=f"任务{seq}",
        lead_units=("区城管局",),
        units=("区城管局", "各街道"),
        party_ids=("P-CG",),
        progress="推进中",
        completion=None,
        target=None,
        due_at=T0 + timedelta(days=seq),
        done_at=None,
        source=f"t.csv:{seq + 2}",
        updated_at=T0,
    )


def test_a_year_is_replaced_whole_and_reports_make_the_progress(store: Store) -> None:
    db.replace_year(store, 2020, "2020年督办", [task(1), task(2)])
    db.replace_year(store, 2020, "2020年督办", [task(1), task(2), task(3)])
    assert [t.id for t in db.tasks_of(store, 2020)] == ["2020-001", "2020-002", "2020-003"]
    assert db.tasks_of(store, 2020)[0] == task(1)
    assert db.title(store, 2020) == "2020年督办"
    at = T0 + timedelta(hours=3)
    db.add_report(store, TaskReport("2020-002", at, "完成率60%", "u1", "P-CG", 0.6, False, ("a",)))
    db.add_report(store, TaskReport("2020-002", at + timedelta(hours=1), "已完成", done=True))
    db.add_report(store, TaskReport("2020-002", at + timedelta(hours=2), "补充材料"))
    got = db.get_task(store, "2020-002")
    assert got is not None
    assert (got.progress, got.completion, got.done_at) == ("补充材料", 0.6, at + timedelta(hours=1))
    reports = db.reports_of(store, "2020-002")
    assert [r.text for r in reports] == ["完成率60%", "已完成", "补充材料"]
    assert reports[0].photos == ("a",)
    assert db.tasks_of(store, 2020, party="P-CG")[1].id == "2020-002"
    assert db.tasks_of(store, 2020, party="P-X") == []
    db.replace_year(store, 2020, "2020年督办", [task(1)])  # the reports go with their tasks
    assert db.reports_of(store, "2020-002") == []
