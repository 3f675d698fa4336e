"""Repository tests, run unchanged against SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from cityeye.domain import (
    Alert,
    Case,
    CaseOrigin,
    CaseState,
    Severity,
    TimelineEntry,
    parse_event,
)
from cityeye.domain.users import Scope
from cityeye.live.pipeline import LivePipeline
from cityeye.store import DeadLetter, Store
from cityeye.store.case_queries import CaseFilter, find_cases
from cityeye.store.db import alembic_config
from cityeye.store.events import EventRows
from cityeye.store.tables import metadata
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
T0 = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cityeye.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    s = Store.open(url)
    # each test starts from empty tables (the PostgreSQL database is per session)
    with s.engine.begin() as conn:
        if s.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_delete"))
            conn.execute(
                text("ALTER TABLE case_timeline DISABLE TRIGGER case_timeline_append_only")
            )
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
            conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_delete"))
            conn.execute(text("ALTER TABLE case_timeline ENABLE TRIGGER case_timeline_append_only"))
    yield s
    s.close()


def event(i: int, source: str = "gw", **attrs: object) -> object:
    return parse_event(
        {
            "id": f"e{i}",
            "kind": "door.open",
            "ts": (T0 + timedelta(minutes=i)).isoformat(),
            "source": source,
            "device_id": "D1",
            "attrs": attrs,
        }
    )


def test_migrations_match_the_table_definitions(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_migrating_twice_changes_nothing(store: Store) -> None:
    again = Store.open(store.engine.url.render_as_string(hide_password=False))
    with again.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    again.close()
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    assert version == head
    assert diff == []


def test_world_round_trip(store: Store) -> None:
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    assert store.load_world() == world
    store.save_world(world)  # replacing is idempotent
    assert store.load_world() == world


def test_world_with_buildings_round_trip(store: Store) -> None:
    world = load_world(FIXTURES / "world_places.yaml")  # buildings, venue addresses
    store.save_world(world)
    assert store.load_world() == world
    assert store.load_world().buildings["B1"].name == "长征桥新村3幢"  # type: ignore[union-attr]


def test_events_are_idempotent_on_source_and_id(store: Store) -> None:
    batch = [event(1), event(2), event(1), event(1, source="other")]
    assert store.add_events(batch, T0) == [True, True, False, True]  # type: ignore[arg-type]
    assert store.add_events([event(2), event(3)], T0) == [False, True]  # type: ignore[list-item]
    assert store.event_count() == 4
    assert store.event_counts_by_kind() == {"door.open": 4}


_RUNS = itertools.count(1)
_KINDS = ("door.open", "smoke.alarm")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(
        st.lists(st.tuples(st.sampled_from(["gw", "cam"]), st.integers(0, 12)), max_size=12),
        min_size=1,
        max_size=5,
    ),
    grouped=st.lists(st.booleans(), min_size=5, max_size=5),
)
def test_each_event_is_new_exactly_once_whatever_the_batches(
    store: Store, batches: list[list[tuple[str, int]]], grouped: list[bool]
) -> None:
    """Whatever mix of new events, stored ones and repeats within a batch or within a
    group commit (batches stored in one transaction, as the live HTTP path does), an
    event is told new exactly once, at its first delivery, and stored and counted once
    (the SQLite path tells the new ones from the newest seqs when a batch had
    duplicates; the counts per kind and area are kept beside the events, not counted
    from them)."""
    run = next(_RUNS)  # fresh ids per example: the store outlives the examples
    seen: set[tuple[str, int]] = set()
    before = store.event_count()
    group: list[tuple[EventRows, list[bool]]] = []
    for batch, joins_next in zip(batches, grouped, strict=False):
        events = [
            parse_event(
                {
                    "id": f"r{run}-{i}",
                    "kind": _KINDS[i % 2],
                    "ts": T0.isoformat(),
                    "source": src,
                }
            )
            for src, i in batch
        ]
        areas = [None if i % 3 == 0 else f"G{i % 3}" for _, i in batch]
        expected = []
        for pair in batch:
            expected.append(pair not in seen)
            seen.add(pair)
        group.append((store.prepare_events(events, T0, areas=areas), expected))
        if not joins_next or len(group) == len(batches):
            assert store.add_prepared([rows for rows, _ in group]) == [e for _, e in group]
            group = []
    if group:
        assert store.add_prepared([rows for rows, _ in group]) == [e for _, e in group]
    assert store.event_count() - before == len(seen)
    with store.engine.connect() as conn:
        by_kind = dict(conn.execute(text("SELECT kind, COUNT(*) FROM events GROUP BY kind")).all())
        by_area = dict(
            conn.execute(
                text("SELECT COALESCE(area_code, ''), COUNT(*) FROM events GROUP BY 1")
            ).all()
        )
        kept_area = dict(
            conn.execute(text("SELECT area_code, SUM(n) FROM event_counts GROUP BY 1")).all()
        )
    assert store.event_counts_by_kind() == by_kind
    assert {a: int(n) for a, n in kept_area.items()} == by_area


def test_the_migration_counts_the_events_already_stored(tmp_path: Path) -> None:
    """A database from before ``event_counts`` (revision 0010) gets its counts filled
    from the events it holds when it is upgraded."""
    from alembic import command

    from cityeye.store.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    command.upgrade(alembic_config(engine), "0010")
    with engine.begin() as conn:
        for i, (kind, area) in enumerate(
            [("door.open", "G1"), ("door.open", "G1"), ("smoke.alarm", None), ("door.open", None)]
        ):
            conn.execute(
                text(
                    "INSERT INTO events (source, event_id, kind, ts, received_at, area_code,"
                    " attrs, known_kind, late, raw) VALUES ('gw', :id, :kind,"
                    " '2026-10-01 00:00:00.000000', '2026-10-01 00:00:00.000000', :area,"
                    " '{}', 1, 0, '{}')"
                ),
                {"id": f"e{i}", "kind": kind, "area": area},
            )
    migrate(engine)
    store = Store(engine)
    assert store.event_count() == 4
    assert store.event_counts_by_kind() == {"door.open": 3, "smoke.alarm": 1}
    with engine.connect() as conn:
        kept = set(conn.execute(text("SELECT kind, area_code, n FROM event_counts")).all())
    assert kept == {("door.open", "G1", 2), ("door.open", "", 1), ("smoke.alarm", "", 1)}
    store.close()


def test_stored_event_is_the_event_with_its_offset(store: Store) -> None:
    original = parse_event(
        {
            "id": "x",
            "kind": "smoke.alarm",
            "ts": "2026-10-01T23:59:59.5+08:00",
            "source": "gw",
            "attrs": {"building": "B1", "text": "厨房 烟雾"},
        }
    )
    store.add_events([original], T0)
    assert store.get_event("gw", "x") == original
    assert store.get_event("gw", "missing") is None


def test_events_cannot_be_deleted(store: Store) -> None:
    store.add_events([event(1)], T0)  # type: ignore[list-item]
    with pytest.raises(DBAPIError), store.engine.begin() as conn:
        conn.execute(text("DELETE FROM events"))
    assert store.event_count() == 1


def test_case_timeline_is_append_only(store: Store) -> None:
    case = Case(
        id="C1",
        origin=CaseOrigin.ALERT,
        state=CaseState.REPORTED,
        severity=Severity.HIGH,
        opened_at=T0,
        title="烟感报警",
        scenario="fire.smoke",
        key="B1",
        area="G0001",
        lead="P-GW1",
        co_handlers=["P-PM1"],
        timeline=[TimelineEntry(T0, "engine", "open", None, CaseState.REPORTED, "预警开案")],
    )
    store.save_cases([case])
    step = TimelineEntry(
        T0 + timedelta(minutes=1),
        "dispatcher-1",
        "dispatch",
        CaseState.REPORTED,
        CaseState.DISPATCHED,
        "派给网格员",
        ("photo-1.jpg",),
    )
    case.timeline.append(step)
    case.state = CaseState.DISPATCHED
    store.save_cases([case])
    stored = store.get_case("C1")
    assert stored is not None
    assert stored.lead == "P-GW1"
    assert stored.co_handlers == ["P-PM1"]
    assert [e.action for e in stored.timeline] == ["open", "dispatch"]
    assert stored.timeline[1] == step
    for sql in ("UPDATE case_timeline SET note = 'rewritten'", "DELETE FROM case_timeline"):
        with pytest.raises(DBAPIError), store.engine.begin() as conn:
            conn.execute(text(sql))
    assert store.get_case("C1").timeline[1].note == "派给网格员"  # type: ignore[union-attr]
    rewritten = replace(case, timeline=[case.timeline[0]])
    with pytest.raises(ValueError, match="cannot be rewritten"):
        store.save_cases([rewritten])


def test_alert_upsert_grows_in_place(store: Store) -> None:
    alert = Alert("A1", "elevator.ebike", "EL1", Severity.MEDIUM, T0, event_ids=["e1"])
    store.save_alert(alert)
    alert.count, alert.event_ids, alert.severity = 3, ["e1", "e2", "e3"], Severity.HIGH
    alert.resolved_at = T0 + timedelta(hours=1)
    store.save_alert(alert)
    assert store.get_alert("A1") == alert


def test_dead_letters_keep_the_raw_input(store: Store) -> None:
    store.add_dead_letters(
        [DeadLetter(T0, "replay", "line 3", "ts", "has no UTC offset", '{"id": "x"}')]
    )
    [letter] = store.dead_letters()
    assert (letter.ref, letter.field, letter.raw) == ("line 3", "ts", '{"id": "x"}')


def test_a_case_is_found_by_the_address_its_report_gave(store: Store) -> None:
    """The desk's search looks into the address a resident gave (issue 17), on both
    databases' JSON, with what is typed taken as text, never as a pattern."""
    store.save_world(load_world(FIXTURES / "world_small.yaml"))
    report = {
        "id": "r1",
        "kind": "report.citizen",
        "ts": T0.isoformat(),
        "source": "app",
        "area": "G0001",
        "attrs": {"category": "road", "text": "路面坑洼", "address": "大关路 12 号"},
    }
    LivePipeline(store, lateness_s=0).ingest_raw([orjson.dumps(report)], "test")
    everyone = Scope(None)
    found, total = find_cases(store, everyone, CaseFilter(text="大关路"))
    assert (total, [c.area for c in found]) == (1, ["G0001"])
    assert find_cases(store, everyone, CaseFilter(text="%"))[1] == 0
    assert find_cases(store, Scope(frozenset({"G0003"})), CaseFilter(text="大关路"))[1] == 0
