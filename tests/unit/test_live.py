"""`cityeye serve` live: events posted over HTTP are stored, analysed and kept; the
wall clock drives timers; a restart loses no timer and counts nothing twice."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.auth import issue_token
from cityeye.api.events import MAX_BODY
from cityeye.domain.users import UserRole
from cityeye.live.pipeline import LivePipeline
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.world import load_world
from kit import T0, at

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def event(i: int, kind: str, minutes: float, **extra: object) -> dict[str, object]:
    return {
        "id": f"live-{i}",
        "kind": kind,
        "ts": at(minutes).isoformat(),
        "source": "gw",
        "attrs": {},
    } | extra


def open_store(tmp_path: Path) -> Store:
    store = Store.open(f"sqlite:///{tmp_path / 'live.db'}")
    store.save_world(load_world(FIXTURES / "world_small.yaml"))
    return store


def test_post_batch_gets_a_result_per_item_and_alerts_are_kept(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    pipeline = LivePipeline(store)
    client = TestClient(create_app(store, pipeline, open_ingest=True))
    batch = [
        event(1, "smoke.alarm", 0, device_id="D2"),
        event(1, "smoke.alarm", 0, device_id="D2"),  # the same delivery twice
        {"id": "bad", "kind": "smoke.alarm", "source": "gw"},  # no ts
        event(2, "crowd.count", 1, device_id="D3", attrs={"count": 30, "elderly_ratio": 0.8}),
    ]
    response = client.post("/api/v1/events", content=orjson.dumps(batch))
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicate"], body["rejected"]) == (2, 1, 1)
    assert body["results"][2] == {
        "index": 2,
        "status": "rejected",
        "field": "ts",
        "reason": "must be an ISO-8601 string such as 2026-10-01T08:30:00+08:00",
    }
    assert store.event_count() == 2
    # a smoke alarm and a gathering over the threshold are decided on arrival, not
    # after the 10-minute lateness hold (SCENARIOS.md "Decide on arrival")
    assert client.get("/api/v1/alerts").status_code == 401  # alerts are for signed-in people
    admin = create_user(
        store, pipeline.world, username="root", password="p" * 12, role=UserRole.ADMIN
    )
    auth = {"Authorization": f"Bearer {issue_token(store, admin, 'api', timedelta(hours=1))}"}
    alerts = client.get("/api/v1/alerts", params={"open": True}, headers=auth).json()["items"]
    assert {(a["scenario"], a["key"]) for a in alerts} == {
        ("fire.smoke", "B2"),
        ("health_products.gathering", "V1"),
    }
    assert [d.ref for d in store.dead_letters()] == ["item 2"]


def test_ndjson_and_single_object_bodies(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    client = TestClient(create_app(store, LivePipeline(store), open_ingest=True))
    ndjson = b"\n".join(orjson.dumps(event(i, "door.open", i, device_id="D1")) for i in range(3))
    r = client.post(
        "/api/v1/events", content=ndjson, headers={"content-type": "application/x-ndjson"}
    )
    assert r.json()["accepted"] == 3
    r = client.post("/api/v1/events", content=orjson.dumps(event(9, "door.open", 9)))
    assert r.json()["accepted"] == 1


def test_oversized_body_is_refused_with_413(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    client = TestClient(create_app(store, LivePipeline(store), open_ingest=True))
    r = client.post("/api/v1/events", content=b" " * (MAX_BODY + 1))
    assert r.status_code == 413
    assert "at most" in r.json()["detail"]
    assert store.event_count() == 0


def test_wall_clock_fires_timers_without_events(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    pipeline = LivePipeline(store)
    pipeline.ingest_raw([orjson.dumps(event(1, "door.held_open", 0, device_id="D1"))], "test")
    assert store.alerts() == []
    pipeline.tick(T0 + timedelta(minutes=14))  # clock = 14 - 10 min lateness = 4 min
    [alert] = store.alerts()
    assert (alert.scenario, alert.opened_at) == ("access.held_open", at(3))


def test_restart_restores_timers_and_refeeds_only_what_came_after(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    first = LivePipeline(store)
    first.ingest_raw([orjson.dumps(event(1, "door.held_open", 0, device_id="D1"))], "test")
    first.snapshot()
    # accepted after the snapshot, then the process dies before the next one
    first.ingest_raw([orjson.dumps(event(2, "access.denied", 1, device_id="D1"))], "test")

    second = LivePipeline(store)
    assert second.restored_events == 1  # only the event after the snapshot
    for i in range(3, 7):  # four more denials make five within ten minutes
        second.ingest_raw([orjson.dumps(event(i, "access.denied", i, device_id="D1"))], "t")
    second.tick(T0 + timedelta(minutes=20))
    alerts = {a.scenario: a for a in store.alerts()}
    assert alerts["access.held_open"].opened_at == at(3)  # the timer survived the restart
    assert alerts["access.forced"].count == 5  # the re-fed denial counted once


def test_restart_with_other_scenarios_rebuilds_from_all_events(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    first = LivePipeline(store, scenarios=[s for s in load_catalogue() if s.id == "fire.smoke"])
    first.ingest_raw([orjson.dumps(event(1, "door.held_open", 0, device_id="D1"))], "test")
    first.snapshot()
    second = LivePipeline(store)  # the full catalogue now
    assert second.restored_events == 1
    second.tick(T0 + timedelta(minutes=20))
    assert [a.scenario for a in store.alerts()] == ["access.held_open"]


def test_restart_replays_the_wall_clock_between_the_same_events(tmp_path: Path) -> None:
    """The wall clock moved on after the snapshot, so the next denial arrived late and
    could not open an alert. After a crash the re-feed must meet the same clock: the
    denial is late again and no alert appears that the live run never raised."""
    store = open_store(tmp_path)
    first = LivePipeline(store)
    first.ingest_raw([orjson.dumps(event(1, "door.open", 0, device_id="D1"))], "test")
    first.snapshot()
    first.ingest_raw([orjson.dumps(event(9, "door.open", 1, device_id="D1"))], "test")
    first.tick(T0 + timedelta(hours=2))  # a quiet night: wall time moves on
    late = [orjson.dumps(event(i, "access.denied", i, device_id="D1")) for i in range(2, 8)]
    first.ingest_raw(late, "test")  # six denials from 2 h ago: late, they open nothing
    assert first.engine.late == 6
    live_alerts = sorted(a.id for a in store.alerts())
    assert not any(a.startswith("access.forced") for a in live_alerts)

    second = LivePipeline(store)  # the process died before another snapshot
    assert second.restored_events == 7
    assert second.engine.late == 6  # late again, not evaluated as on time
    assert sorted(a.id for a in store.alerts()) == live_alerts


def report(i: int, minutes: float, category: str = "garbage") -> bytes:
    return orjson.dumps(
        event(i, "report.citizen", minutes, area="G0001")
        | {"attrs": {"category": category, "text": f"第{i}条", "reporter": f"R{i}"}}
    )


def action(i: int, minutes: float, key: str, what: str, **attrs: object) -> bytes:
    body = {"scenario": "citizen.report", "key": key, "action": what} | attrs
    return orjson.dumps(event(i, "case.action", minutes, attrs=body))


def test_live_reports_become_cases_that_handlers_move(tmp_path: Path) -> None:
    """Every resident report opens a case in the live service, routed to the grid
    worker of its area; case actions sent as events move it; all of it is stored."""
    store = open_store(tmp_path)
    pipeline = LivePipeline(store)
    pipeline.ingest_raw([report(1, 0, "fire"), report(2, 1)], "test")
    # cases on arrival: no lateness hold stands between a resident and the grid worker
    cases = {c.key: c for c in store.load_cases()}
    assert set(cases) == {"gw/live-1", "gw/live-2"}  # a report is keyed by itself
    assert (cases["gw/live-1"].severity.value, cases["gw/live-1"].lead) == ("high", "P-GW1")
    assert cases["gw/live-1"].reporter == "R1"
    assert cases["gw/live-1"].title == "社情民意·随手拍与热线 · 第1条"  # the scenario, their words
    pipeline.ingest_raw(
        [
            action(10, 13, "gw/live-1", "accept", party="P-GW1"),
            action(11, 14, "gw/live-1", "handle", party="P-GW1", note="已清理"),
            action(12, 15, "gw/live-9", "accept"),  # no such case: refused, the rest goes on
        ],
        "test",
    )
    pipeline.tick(T0 + timedelta(minutes=30))
    stored = store.get_case(cases["gw/live-1"].id)
    assert stored is not None
    assert stored.state.value == "handled"
    assert [e.action for e in stored.timeline][-2:] == ["accept", "handle"]
    assert [e.event_id for e in pipeline.analysis.case_errors] == ["live-12"]


def test_restart_gives_the_same_cases_and_counts_them_once(tmp_path: Path) -> None:
    """A crash after cases were stored but before the snapshot: the re-feed opens the
    same cases under the same ids, and the KPI counters do not count them twice."""
    store = open_store(tmp_path)
    first = LivePipeline(store)
    first.ingest_raw([report(1, 0)], "test")
    first.tick(T0 + timedelta(minutes=11))
    first.snapshot()
    first.ingest_raw([report(2, 12), report(3, 13, "fire")], "test")
    first.tick(T0 + timedelta(minutes=30))
    before = {c.id: (c.key, c.state, len(c.timeline)) for c in store.load_cases()}
    assert len(before) == 3
    day = T0.date()
    counted = store.kpi_summary("all", "", day, day)

    second = LivePipeline(store)  # the process died before another snapshot
    assert second.restored_events == 2
    assert {c.id: (c.key, c.state, len(c.timeline)) for c in store.load_cases()} == before
    assert store.kpi_summary("all", "", day, day) == counted
    second.ingest_raw([report(4, 31)], "test")
    second.tick(T0 + timedelta(minutes=45))
    ids = sorted(c.id for c in store.load_cases())
    assert ids == ["C000001", "C000002", "C000003", "C000004"]  # numbering carries on
    assert store.kpi_summary("all", "", day, day)["cases"] == counted["cases"] + 1


def test_the_server_heartbeat_ticks_and_snapshots(tmp_path: Path) -> None:
    """`cityeye serve`'s background heartbeat really runs: the wall clock reaches the
    engine and snapshots are written without any event arriving (it once died at
    start with a TypeError, and nothing said so)."""
    store = open_store(tmp_path)
    pipeline = LivePipeline(store)
    assert store.load_engine_state("live") is None
    with TestClient(create_app(store, pipeline, tick_s=0.01, open_ingest=True)):
        end = time.monotonic() + 10
        while store.load_engine_state("live") is None and time.monotonic() < end:
            time.sleep(0.01)
        assert store.load_engine_state("live") is not None, "no snapshot from the heartbeat"
        assert pipeline.engine.clock is not None  # the wall clock moved it


def test_a_long_running_service_keeps_a_bounded_list_of_refused_moves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Months of mistyped moves must not grow memory: the first ones are listed, all
    are counted, and the desk still gets each answer (recent_errors)."""
    import cityeye.analysis

    monkeypatch.setattr(cityeye.analysis, "MAX_CASE_ERRORS", 2)
    store = Store.open(f"sqlite:///{tmp_path / 'errors.db'}")
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest_raw([action(i, i, "gw/none", "accept") for i in range(1, 6)], "test")
    assert [e.event_id for e in pipeline.analysis.case_errors] == ["live-1", "live-2"]
    assert pipeline.analysis.case_error_count == 5
    assert "live-5" in pipeline.analysis.recent_errors
    store.close()


def test_a_scripted_action_names_its_case_by_when_it_opened(tmp_path: Path) -> None:
    """Simulated responders address a case by scenario, key and opening time, so a
    case opened live before it (a person's report during a replayed day) does not
    move the action onto another case; a wrong opening time is refused by name."""
    store = open_store(tmp_path)
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest_raw([report(1, 0), report(2, 1)], "test")
    opened = at(1).isoformat()

    def named(i: int, when: str) -> bytes:
        return action(i, 5, "gw/live-2", "accept", party="P-GW1", opened=when)

    pipeline.ingest_raw([named(3, opened), named(4, at(3).isoformat())], "test")
    cases = {c.key: c for c in store.load_cases()}
    assert cases["gw/live-2"].state.value == "accepted"
    assert cases["gw/live-1"].state.value != "accepted"
    [refused] = pipeline.analysis.case_errors
    assert (refused.event_id, refused.field) == ("live-4", "attrs.opened")
    store.close()


def test_an_sos_case_names_the_person_not_their_id(tmp_path: Path) -> None:
    """The grid worker reads who needs help — 王阿姨 — and a gathering's venue by its
    name; a world id (S1, V1) never stands in the title of a case."""
    store = open_store(tmp_path)
    pipeline = LivePipeline(store)
    pipeline.ingest_raw(
        [
            orjson.dumps(event(1, "button.sos", 0, subject="S1")),
            orjson.dumps(
                event(2, "crowd.count", 0, device_id="D3", attrs={"count": 30, "elderly_ratio": 1})
            ),
        ],
        "test",
    )
    titles = {c.key: c.title for c in store.load_cases()}
    assert titles["S1"] == "独居老人服务·一键呼救 · 王阿姨"
    assert titles["V1"].endswith(" · 某保健品体验店")
