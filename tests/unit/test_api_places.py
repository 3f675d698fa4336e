"""``/api/v1/places`` (issue 17): the portal's pin named in words, places found by
name — public, limited per address, and never a person's home or a device.

The district is tests/fixtures/world_places.yaml: 长征桥新村3幢 (B1) at 30.3050,
120.1050 in 长征桥社区's first grid, where 王阿姨 (a subject) lives and a door sensor
(D1) is fitted; a 警务室 tagged ``private``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.limits import PLACE_LOOKUPS, Throttle
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
BY_B1 = {"lat": 30.3051, "lon": 120.1052}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = Store.open(f"sqlite:///{tmp_path / 'places.db'}")
    world = load_world(FIXTURES / "world_places.yaml")
    store.save_world(world)
    # a dispatcher of 小河社区 and a resident: neither sees more than anybody
    create_user(store, world, username="xh", password=PASSWORD, role="dispatcher",
                areas=("330105001002",))  # fmt: skip
    create_user(store, world, username="li", password=PASSWORD, role="resident")
    app = create_app(store, LivePipeline(store, lateness_s=0), wall_clock=False,
                     files=tmp_path / "files")  # fmt: skip
    with TestClient(app) as c:
        yield c
    store.close()


def get(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(f"/api/v1/places/{path}", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_pin_is_named_by_its_community_and_the_nearest_building(client: TestClient) -> None:
    where = get(client, "reverse", **BY_B1)
    assert where["inside"] is True
    assert where["label"] == "长征桥社区 · 长征桥新村3幢"
    assert where["street"] == {"code": "330105001", "name": "小河街道"}
    assert where["community"] == {"code": "330105001001", "name": "长征桥社区"}
    assert where["grid"] == {"code": "G0001", "name": "长征桥社区第1网格"}
    nearest = where["nearest"]
    assert (nearest["kind"], nearest["name"], nearest["id"]) == ("building", "长征桥新村3幢", "B1")
    assert nearest["address"] == "长征桥路 12 号长征桥新村 3 幢"
    assert 10 <= nearest["distance_m"] <= 30
    assert where["radius_m"] == 200
    assert where["message"] is None


def test_a_pin_outside_the_district_is_an_answer_with_a_message(client: TestClient) -> None:
    r = client.get("/api/v1/places/reverse", params={"lat": 31.2304, "lon": 121.4737})
    assert r.status_code == 200
    where = r.json()
    assert where["inside"] is False
    assert (where["label"], where["grid"], where["nearest"]) == (None, None, None)
    message = where["message"]
    assert message["zh"] == "这个位置不在拱墅区内，请在拱墅区范围内选点，或填写地址。"
    assert message["en"].startswith("This spot is outside Gongshu District")
    for words in message.values():  # no field name a resident could not read
        assert "lat" not in words
        assert "lon" not in words


def test_search_finds_buildings_venues_and_areas_by_name(client: TestClient) -> None:
    found = get(client, "search", q="长征桥新村")
    assert [p["name"] for p in found] == ["长征桥新村3幢", "长征桥新村12幢"]
    assert found[0] == {
        "kind": "building",
        "id": "B1",
        "name": "长征桥新村3幢",
        "address": "长征桥路 12 号长征桥新村 3 幢",
        "area": "G0001",
        "lat": 30.305,
        "lon": 120.105,
    }
    [community] = get(client, "search", q="小河社区", limit=1)
    assert community["kind"] == "community"
    assert community["lat"] is not None  # a point inside it, to move the pin to
    assert [p["name"] for p in get(client, "search", q="88 号")] == ["康乐保健品体验店"]


def test_no_person_no_device_no_tag_and_nothing_private_comes_out(client: TestClient) -> None:
    """王阿姨 lives in B1 and D1 watches her door; the answers name the building,
    never her, the sensor, what a venue is watched for, or the private 警务室."""
    answers = [
        get(client, "reverse", **BY_B1),
        get(client, "reverse", lat=30.3160, lon=120.1050),  # on the 警务室
        get(client, "reverse", lat=30.3056, lon=120.1154),  # on the 保健品 shop
        *(get(client, "search", q=q, limit=20) for q in ("长征桥", "小河", "王阿姨", "S1", "D1")),
    ]
    text = json.dumps(answers, ensure_ascii=False)
    for secret in ("王阿姨", "S1", "D1", "D2", "D3", "door_sensor", "elderly_alone",
                   "sales_venue", "sensitive", "private", "警务室", "V3"):  # fmt: skip
        assert secret not in text, secret
    assert get(client, "search", q="王阿姨") == []


def test_the_answers_are_the_same_for_everyone_whatever_their_area(client: TestClient) -> None:
    """Public like the portal's map: signing in (a dispatcher of another community,
    a resident) neither narrows nor widens what a place look-up answers."""
    anonymous = (get(client, "reverse", **BY_B1), get(client, "search", q="长征桥", limit=20))
    for name in ("xh", "li"):
        login = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        client.cookies.clear()
        signed_in = (
            client.get("/api/v1/places/reverse", params=BY_B1, headers=auth).json(),
            client.get(
                "/api/v1/places/search", params={"q": "长征桥", "limit": 20}, headers=auth
            ).json(),
        )
        assert signed_in == anonymous, name


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("reverse", {"lat": 91, "lon": 120.1}, "lat"),
        ("reverse", {"lat": 30.3, "lon": -181}, "lon"),
        ("reverse", {"lat": "nan", "lon": 120.1}, "lat"),
        ("reverse", {"lat": 30.3}, "lon"),
        ("search", {"q": ""}, "q"),
        ("search", {"q": "长" * 51}, "q"),
        ("search", {"q": "长征桥", "limit": 21}, "limit"),
        ("search", {"q": "长征桥", "limit": 0}, "limit"),
    ],
)
def test_inputs_are_bounded(
    client: TestClient, path: str, params: dict[str, Any], field: str
) -> None:
    r = client.get(f"/api/v1/places/{path}", params=params)
    assert r.status_code == 422
    assert r.json()["detail"].startswith(f"{field}: ")


def test_one_address_cannot_read_out_the_district(client: TestClient) -> None:
    now = [0.0]
    services = client.app.state.services  # type: ignore[attr-defined]
    services.place_limits = Throttle(3, timedelta(minutes=10), clock=lambda: now[0])
    codes = [
        client.get("/api/v1/places/reverse", params=BY_B1).status_code,
        client.get("/api/v1/places/search", params={"q": "长征桥"}).status_code,
        client.get("/api/v1/places/reverse", params=BY_B1).status_code,
        client.get("/api/v1/places/search", params={"q": "小河"}).status_code,
    ]
    assert codes == [200, 200, 200, 429]  # one limit over both look-ups
    refused = client.get("/api/v1/places/reverse", params=BY_B1)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    now[0] += 601
    assert client.get("/api/v1/places/search", params={"q": "小河"}).status_code == 200
    assert PLACE_LOOKUPS >= 60  # a person tapping and typing is never held up


def test_without_a_live_pipeline_there_is_no_places_api(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'ro.db'}")
    try:
        with TestClient(create_app(store)) as c:
            assert c.get("/api/v1/places/search", params={"q": "x"}).status_code == 404
    finally:
        store.close()
