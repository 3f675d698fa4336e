"""The cockpit map's layers (``GET /api/v1/map/layers``): bound by the area scope like
``/api/v1/devices``, with the elderly only as counts per community and never a
personal field, and each device's state from what the store knows.

The district is tests/fixtures/world_small.yaml with a second street, 大关街道, that
has its own elderly resident, camera, venue and grid worker: a leader of 小河街道 must
get none of them, and a leader of 大关 none of 小河's."""

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

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.domain import World
from cityeye.domain.users import below
from cityeye.live.clock import ReplayClock
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DISTRICT, XIAOHE, DAGUAN = "330105", "330105001", "330105002"
USERS: dict[str, dict[str, Any]] = {
    "xh_leader": {"role": "leader", "areas": (XIAOHE,)},
    "dg_leader": {"role": "leader", "areas": (DAGUAN,)},
    "boss": {"role": "leader", "areas": (DISTRICT,)},
    "resident": {"role": "resident"},
}
#: What must never reach the big screen about the elderly living alone.
PERSONAL = ("王阿姨", "李大伯", "S1", "S9", "B1", "B9", "大关路 1 号")


def two_streets(tmp_path: Path) -> Path:
    doc = yaml.safe_load((FIXTURES / "world_small.yaml").read_text("utf-8"))
    doc["areas"] += [
        {"code": DAGUAN, "name": "大关街道", "level": "street", "parent": DISTRICT},
        {"code": "330105002001", "name": "大关社区", "level": "community", "parent": DAGUAN},
        {"code": "G0101", "name": "大关社区第1网格", "level": "grid", "parent": "330105002001"},
    ]
    doc["parties"].append(
        {"id": "P-GW9", "name": "李网格员", "kind": "grid_worker", "areas": ["G0101"]}
    )
    doc["subjects"].append(
        {"id": "S9", "tags": ["elderly_alone"], "area": "G0101", "name": "李大伯", "age": 88}
    )
    doc["venues"] += [
        {"id": "V9", "tags": ["sensitive"], "area": "G0101", "name": "大关网吧"},
        {"id": "V8", "tags": ["private"], "area": "G0001", "name": "某私人会所"},
    ]
    doc["devices"] += [
        {"id": "D9", "kind": "door_sensor", "area": "G0101", "subject": "S9",
         "lat": 30.33, "lon": 120.13, "address": "大关路 1 号"},
        {"id": "C9", "kind": "camera", "area": "G0101", "lat": 30.331, "lon": 120.131},
        {"id": "C1", "kind": "camera", "area": "G0003", "lat": 30.315, "lon": 120.115},
    ]  # fmt: skip
    path = tmp_path / "two_streets.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


EVENTS = [
    # a smoke alarm: an open alert keyed by D2, so D2 is alarming
    {"id": "s1", "kind": "smoke.alarm", "ts": "2026-11-24T01:00:00+08:00", "device_id": "D2"},
    # heard within the day: online
    {"id": "t1", "kind": "door.open", "ts": "2026-11-24T03:00:00+08:00", "device_id": "D1"},
    {"id": "t9", "kind": "door.open", "ts": "2026-11-24T03:10:00+08:00", "device_id": "D9"},
    {"id": "p4", "kind": "parking.occupied", "ts": "2026-11-24T03:20:00+08:00",
     "device_id": "D4"},
    # heard two days before the last event: quiet now
    {"id": "c1", "kind": "camera.detection", "ts": "2026-11-22T02:00:00+08:00",
     "device_id": "C1", "attrs": {"label": "person", "score": 0.5}},
]  # fmt: skip


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, World]]:
    store = Store.open(f"sqlite:///{tmp_path / 'layers.db'}")
    world = load_world(two_streets(tmp_path))
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest_raw([orjson.dumps({"source": "gw", **e}) for e in EVENTS], "test")
    # the server's "now": paused an hour after the last event
    now = ReplayClock(datetime(2026, 11, 24, 4, 20, tzinfo=SHANGHAI), speed=0)
    with TestClient(create_app(store, pipeline, wall_clock=False, clock=now)) as client:
        yield client, world
    store.close()


def layers(client: TestClient, user: str, **params: str) -> Any:
    r = client.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {r.json()['token']}"}
    return client.get("/api/v1/map/layers", params=params, headers=auth)


def areas_in(body: dict[str, Any]) -> set[str]:
    """Every area code any item of any layer is in."""
    return {
        item["area"]
        for layer in ("devices", "cameras", "elderly", "venues", "grids")
        for item in body[layer]
    }


def test_a_street_leader_gets_nothing_outside_the_street(
    app: tuple[TestClient, World],
) -> None:
    client, world = app
    xiaohe, daguan = below(world, [XIAOHE]), below(world, [DAGUAN])
    mine = layers(client, "xh_leader").json()
    assert areas_in(mine), mine
    assert areas_in(mine) <= xiaohe, mine
    assert [c["area"] for c in mine["cameras"]] == ["G0003"]
    assert "大关" not in orjson.dumps(mine).decode()
    theirs = layers(client, "dg_leader").json()
    assert areas_in(theirs), theirs
    assert areas_in(theirs) <= daguan, theirs
    assert [g["workers"] for g in theirs["grids"]] == [["李网格员"]]
    # naming the other street, or one of its grids, is refused as an area not theirs
    for user, other in (("xh_leader", DAGUAN), ("xh_leader", "G0101"), ("dg_leader", XIAOHE)):
        r = layers(client, user, area=other)
        assert r.status_code == 404, r.text
        assert "area" in r.json()["detail"]
    # a resident has no area: nothing at all
    nothing = layers(client, "resident").json()
    assert areas_in(nothing) == set()
    # the district's leader sees both streets, and can narrow to one
    everything = layers(client, "boss").json()
    assert areas_in(everything) & xiaohe
    assert areas_in(everything) & daguan
    assert areas_in(layers(client, "boss", area=DAGUAN).json()) <= daguan


def test_the_elderly_are_counts_per_community_and_no_personal_field_appears(
    app: tuple[TestClient, World],
) -> None:
    client, _ = app
    body = layers(client, "boss").json()
    text = orjson.dumps(body).decode()
    for personal in PERSONAL:
        assert personal not in text, personal
    for layer in ("devices", "cameras", "elderly", "venues", "grids"):
        for item in body[layer]:
            assert not {"subject", "building", "address", "age", "tags"} & set(item), item
    assert body["elderly"] == [
        {
            "area": "330105001001",
            "name": "长征桥社区",
            "count": 1,
            "devices": {"online": 1},  # D1, the door sensor in her flat, is only counted
        },
        {"area": "330105002001", "name": "大关社区", "count": 1, "devices": {"online": 1}},
    ]
    # devices in someone's home are never points on the map
    assert {d["id"] for d in body["devices"]} == {"D2", "D3", "D4"}
    # a venue marked private is never drawn
    assert {v["name"] for v in body["venues"]} == {"某保健品体验店", "某网吧", "大关网吧"}


def test_a_devices_state_is_what_the_store_knows(app: tuple[TestClient, World]) -> None:
    client, _ = app
    body = layers(client, "boss").json()
    state = {d["id"]: d["state"] for d in body["devices"] + body["cameras"]}
    assert state == {
        "D2": "alarming",  # an open smoke alert is keyed by it
        "D3": "quiet",  # never heard
        "D4": "online",  # heard within the day
        "C1": "quiet",  # heard two days ago
        "C9": "quiet",
    }
    assert body["heard_within_h"] == 24
    # a point where the world gives one; the map places the others in their area
    points = {d["id"]: (d["lat"], d["lon"]) for d in body["devices"] + body["cameras"]}
    assert points["D4"] == (30.315, 120.11)
    assert points["D2"] == (None, None)
