"""The lifts' counts (issue 20): "系统阻止电动车上楼39373次，劝阻不文明乘梯107794次，电梯故障预警
3291次" (seed 000, lines 120 and 128). E-bike blocks and uncivil use are counted per lift,
building and community and reach nobody below the "3 within 60 min" upgrade; a fault
warning is dispatched to the property company. The counts are read through
``GET /api/v1/detections`` (scoped like /kpis) and in the monthly report."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import yaml
from fastapi.testclient import TestClient
from test_auth_cases import PASSWORD, bearer

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.backtest import run_replay
from cityeye.domain.detections import LIFT_TALLIES, TallyBy, tally, totals
from cityeye.live.pipeline import LivePipeline
from cityeye.report import build_report, lift_table, render_html
from cityeye.sourcefile import parse_text
from cityeye.store import Store
from cityeye.world import build_world, load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def lift_world_text() -> str:
    """The small test district with three lifts: two in 长征桥新村3幢 (长征桥社区),
    one in 小河苑1幢 (小河社区)."""
    data = yaml.safe_load((FIXTURES / "world_small.yaml").read_text(encoding="utf-8"))
    data["buildings"] = [
        {"id": "B1", "name": "长征桥新村3幢", "area": "G0001"},
        {"id": "B2", "name": "长征桥新村5幢", "area": "G0002"},
        {"id": "B3", "name": "小河苑1幢", "area": "G0003"},
    ]
    data["devices"] += [
        {"id": "EL1", "kind": "elevator_monitor", "area": "G0001", "building": "B1"},
        {"id": "EL2", "kind": "elevator_monitor", "area": "G0001", "building": "B1"},
        {"id": "EL3", "kind": "elevator_monitor", "area": "G0003", "building": "B3"},
    ]
    return yaml.safe_dump(data, allow_unicode=True)


def line(i: int, kind: str, hhmm: str, device: str, **attrs: Any) -> bytes:
    return orjson.dumps(
        {
            "id": f"l{i}",
            "kind": kind,
            "ts": f"2026-10-01T{hhmm}:00+08:00",
            "source": "lift",
            "device_id": device,
            "attrs": attrs,
        }
    )


#: EL1: 4 e-bikes 20 min apart (never 3 within one alert's 60 min: each new one starts
#: an incident) and 2 uncivil rides; EL2: 1 fault; EL3 (小河): 2 e-bikes, 1 uncivil.
EVENTS = [
    line(1, "elevator.ebike_detected", "08:00", "EL1"),
    line(2, "elevator.ebike_detected", "08:20", "EL1"),
    line(3, "elevator.ebike_detected", "08:40", "EL1"),
    line(4, "elevator.ebike_detected", "09:00", "EL1"),
    line(5, "elevator.incivility_detected", "09:10", "EL1", label="door_blocked"),
    line(6, "elevator.incivility_detected", "09:20", "EL1", label="smoking"),
    line(7, "elevator.fault", "10:00", "EL2", code="door"),
    line(8, "elevator.ebike_detected", "11:00", "EL3"),
    line(9, "elevator.ebike_detected", "13:00", "EL3"),
    line(10, "elevator.incivility_detected", "13:05", "EL3", label="door_kicked"),
]
EBIKE, UNCIVIL, FAULT = (t.kind for t in LIFT_TALLIES)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = tmp_path_factory.mktemp("lifts")
    (base / "world.yaml").write_text(lift_world_text(), encoding="utf-8")
    (base / "events.jsonl").write_bytes(b"\n".join(EVENTS) + b"\n")
    run_replay(base / "events.jsonl", base / "out", load_world(base / "world.yaml"))
    return f"sqlite:///{base / 'out' / 'cityeye.db'}"


def test_counted_blocks_open_no_case_and_a_fault_goes_to_the_property(db: str) -> None:
    store = Store.open(db)
    try:
        cases = store.load_cases()
        ebike_alerts = [a for a in store.alerts(limit=None) if a.scenario == "elevator.ebike"]
    finally:
        store.close()
    assert len(ebike_alerts) == 6  # every detection recorded (20 min apart: each its own)
    assert [(c.scenario, c.key, c.lead) for c in cases] == [("elevator.fault", "EL2", "P-PM1")]


def test_counts_per_lift_building_and_community(db: str) -> None:
    store = Store.open(db)
    try:
        world = store.load_world()
        assert world is not None
        rows = store.detection_rows([t.kind for t in LIFT_TALLIES], *period())
    finally:
        store.close()
    by_lift = {g.id: g.counts for g in tally(world, rows, TallyBy.DEVICE)}
    assert by_lift == {
        "EL1": {EBIKE: 4, UNCIVIL: 2, FAULT: 0},
        "EL2": {EBIKE: 0, UNCIVIL: 0, FAULT: 1},
        "EL3": {EBIKE: 2, UNCIVIL: 1, FAULT: 0},
    }
    by_building = [(g.name, g.total) for g in tally(world, rows, TallyBy.BUILDING)]
    assert by_building == [("长征桥新村3幢", 7), ("小河苑1幢", 3)]
    by_community = tally(world, rows, TallyBy.COMMUNITY)
    assert [(g.name, g.counts[EBIKE]) for g in by_community] == [("长征桥社区", 4), ("小河社区", 2)]
    assert totals(by_community) == {EBIKE: 6, UNCIVIL: 3, FAULT: 1}
    only_xh = tally(world, rows, TallyBy.COMMUNITY, {"330105001002", "G0003"})
    assert totals(only_xh) == {EBIKE: 2, UNCIVIL: 1, FAULT: 0}


def period() -> tuple[datetime, datetime]:
    """2026-10-01, the events' local day, as ``[start, end)``."""
    tz = ZoneInfo("Asia/Shanghai")
    return datetime(2026, 10, 1, tzinfo=tz), datetime(2026, 10, 2, tzinfo=tz)


def test_the_monthly_report_has_the_seeds_three_counts(db: str) -> None:
    store = Store.open(db)
    try:
        street = build_report(store, "2026-10", "小河街道")
        xiaohe = build_report(store, "2026-10", "小河社区")
        november = build_report(store, "2026-11", "小河街道")
    finally:
        store.close()
    assert [(r["name"], r["n"]) for r in street.lifts] == [
        ("阻止电动车上楼", 6),
        ("劝阻不文明乘梯", 3),
        ("电梯故障预警", 1),
    ]
    assert [r["n"] for r in xiaohe.lifts] == [2, 1, 0]
    assert [r["n"] for r in november.lifts] == [0, 0, 0]
    assert lift_table(street)[1] == ["阻止电动车上楼 · e-bikes blocked from going upstairs", 6]
    html = render_html(street)
    assert "电梯安全" in html
    assert '阻止电动车上楼 <span lang="en">e-bikes blocked from going upstairs</span>' in html


# ------------------------------------------------------------------ the API
USERS = {
    "cz_dispatch": {"role": "dispatcher", "areas": ("330105001001",)},  # 长征桥
    "zhang": {"role": "handler", "party_id": "P-GW1"},  # grid worker of G0001
    "root": {"role": "admin"},
    "resident": {"role": "resident"},
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('lift-api') / 'a.db'}")
    world = build_world(parse_text(lift_world_text()))
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)  # type: ignore[arg-type]
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest_raw(EVENTS, "lift")
    with TestClient(create_app(store, pipeline, wall_clock=False)) as c:
        yield c
    store.close()


DAY = {"first": "2026-10-01", "last": "2026-10-01"}


def test_the_api_counts_per_building_in_the_callers_area(client: TestClient) -> None:
    auth = bearer(client, "cz_dispatch")
    r = client.get(
        "/api/v1/detections", params={"area": "330105001001", "by": "building"} | DAY, headers=auth
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totals"] == {EBIKE: 4, UNCIVIL: 2, FAULT: 1}
    assert [(g["name"], g["total"]) for g in body["groups"]] == [("长征桥新村3幢", 7)]
    assert [k["name_zh"] for k in body["kinds"]] == [
        "阻止电动车上楼",
        "劝阻不文明乘梯",
        "电梯故障预警",
    ]


def test_the_whole_district_by_community_for_an_admin(client: TestClient) -> None:
    r = client.get(
        "/api/v1/detections", params={"by": "community"} | DAY, headers=bearer(client, "root")
    )
    assert r.status_code == 200, r.text
    assert [(g["name"], g["counts"][EBIKE]) for g in r.json()["groups"]] == [
        ("长征桥社区", 4),
        ("小河社区", 2),
    ]
    other_day = {"first": "2026-10-02", "last": "2026-10-02"}
    r = client.get("/api/v1/detections", params=other_day, headers=bearer(client, "root"))
    assert r.json()["totals"] == {EBIKE: 0, UNCIVIL: 0, FAULT: 0}


@pytest.mark.parametrize(
    ("user", "params", "status"),
    [
        ("cz_dispatch", {"area": "330105001002"}, 404),  # another community
        ("cz_dispatch", {}, 422),  # someone with areas names one
        ("zhang", {"area": "G0003"}, 404),  # a handler outside their party's grid
        ("resident", {"area": "G0001"}, 404),  # residents see no area
        (None, {"area": "G0001"}, 401),  # signed out
        ("root", {"by": "street"}, 422),  # not a grouping
    ],
)
def test_each_boundary_is_refused(
    client: TestClient, user: str | None, params: dict[str, str], status: int
) -> None:
    headers = bearer(client, user) if user else {}
    r = client.get("/api/v1/detections", params=params | DAY, headers=headers)
    assert r.status_code == status, r.text
