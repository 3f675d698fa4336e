"""The desk's work queue API (issue 17): tab counts, search by number, words or place,
filters, the deadline order, the case view's extras and the dispatch picker's
candidates — each tried across an area boundary too.

The district (tests/fixtures/world_small.yaml): 长征桥社区 (grids G0001, G0002) and
小河社区 (G0003). A resident reports a pothole in G0001 with a photo and a phone, and
one in G0003; a dispatcher of 长征桥 and one of 小河 each see their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.presenters import case_heading, case_place
from cityeye.domain import Case, CaseOrigin, CaseState, Severity
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world
from kit import at

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
USERS = {
    "cz_dispatch": {"role": "dispatcher", "areas": ("330105001001",)},  # 长征桥
    "xh_dispatch": {"role": "dispatcher", "areas": ("330105001002",)},  # 小河
    "zhang": {"role": "handler", "party_id": "P-GW1"},  # grid worker of G0001
}


def report(i: int, grid: str, **attrs: Any) -> bytes:
    return orjson.dumps(
        {
            "id": f"r{i}",
            "kind": "report.citizen",
            "ts": at(i).isoformat(),
            "source": "app",
            "area": grid,
            "attrs": {"category": "road", "text": f"路面坑洼 {i}", **attrs},
        }
    )


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)  # type: ignore[arg-type]
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest_raw(
        [
            report(1, "G0001", photos=["ph-1"], reporter="138****1234", address="大关路 12 号"),
            report(2, "G0003", address="小河路 8 号 大关路口"),
        ],
        "test",
    )
    cases = {c.area: c.id for c in store.load_cases()}
    with TestClient(create_app(store, pipeline, wall_clock=False)) as client:
        yield client, {"cz": cases["G0001"], "xh": cases["G0003"]}
    store.close()


def bearer(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def tabs(client: TestClient, who: str, **params: str) -> dict[str, int]:
    r = client.get("/api/v1/cases/counts", params=params, headers=bearer(client, who))
    assert r.status_code == 200, r.text
    return {t["key"]: t["count"] for t in r.json()["tabs"]}


def listed(client: TestClient, who: str, **params: str) -> list[str]:
    r = client.get("/api/v1/cases", params=params, headers=bearer(client, who))
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()["items"]]


def test_each_role_gets_its_tabs_counted_in_its_own_area(
    desk: tuple[TestClient, dict[str, str]],
) -> None:
    client, _ = desk
    # 长征桥's report went to its grid worker at once; 小河's grid has none: to dispatch
    cz = tabs(client, "cz_dispatch")
    assert list(cz) == ["to_dispatch", "to_verify", "working", "overdue", "closed"]
    assert cz["working"] == 1
    assert cz["to_dispatch"] == 0
    assert tabs(client, "xh_dispatch")["to_dispatch"] == 1
    # the grid worker's own queue first; nothing of 小河's
    mine = tabs(client, "zhang")
    assert next(iter(mine)) == "mine"
    assert mine["mine"] == 1
    # a search narrows the counts too, and never reaches across the boundary
    assert tabs(client, "cz_dispatch", q="小河社区")["working"] == 0
    assert tabs(client, "xh_dispatch", q="小河社区")["to_dispatch"] == 1
    assert tabs(client, "cz_dispatch", severity="critical")["working"] == 0


def test_the_list_finds_a_case_by_place_number_or_words_within_scope(
    desk: tuple[TestClient, dict[str, str]],
) -> None:
    client, cases = desk
    # a place: part of an area's name finds the cases in it and below it
    assert listed(client, "cz_dispatch", q="长征桥") == [cases["cz"]]
    assert listed(client, "cz_dispatch", q="第1网格") == [cases["cz"]]
    # the case number, or part of it
    assert listed(client, "cz_dispatch", q=cases["cz"][-3:]) == [cases["cz"]]
    # part of the address the resident gave (issue 17: found by its address); 小河's
    # report on 大关路口 is not 长征桥's to find
    assert listed(client, "cz_dispatch", q="大关路") == [cases["cz"]]
    assert listed(client, "xh_dispatch", q="大关路") == [cases["xh"]]
    assert listed(client, "cz_dispatch", q="12 号") == [cases["cz"]]
    assert listed(client, "cz_dispatch", q="%") == []  # typed as text, not a pattern
    # 小河's case exists, but not for 长征桥's dispatcher, however it is searched
    assert listed(client, "cz_dispatch", q="小河社区") == []
    assert listed(client, "cz_dispatch", q=cases["xh"]) == []
    assert listed(client, "xh_dispatch", q=cases["xh"]) == [cases["xh"]]
    # filters and the deadline order
    assert listed(client, "cz_dispatch", severity="low,critical") == []
    assert listed(client, "cz_dispatch", sort="due") == [cases["cz"]]
    bad = client.get("/api/v1/cases?severity=urgent", headers=bearer(client, "cz_dispatch"))
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("severity:")
    assert (
        client.get("/api/v1/cases?sort=x", headers=bearer(client, "cz_dispatch")).status_code == 422
    )


def test_the_case_view_says_where_what_and_who_in_words(
    desk: tuple[TestClient, dict[str, str]],
) -> None:
    client, cases = desk
    r = client.get(f"/api/v1/cases/{cases['cz']}", headers=bearer(client, "cz_dispatch"))
    assert r.status_code == 200, r.text
    case = r.json()
    assert case["photos"] == ["ph-1"]  # the resident's photo, for the handler to see
    assert case["report_text"] == "路面坑洼 1"
    assert [a["name"] for a in case["area_path"]] == [
        "拱墅区",
        "小河街道",
        "长征桥社区",
        "长征桥社区第1网格",
    ]
    assert case["place"]["name"] == "大关路 12 号"  # the address the resident gave
    assert case["reporter_contact"] == "138****1234"  # masked, for staff
    # the timeline names people and parties, and says system lines in plain words
    lines = [(e["actor_name"], e["text"]) for e in case["timeline"]]
    assert lines[0] == ("系统", "居民上报，已立案")
    assert lines[1] == ("系统", "派给 张网格员")
    for e in case["timeline"]:
        assert "预警" not in e["text"]
        assert "system" not in e["actor_name"]
    # the other community's dispatcher: no such case
    other = client.get(f"/api/v1/cases/{cases['cz']}", headers=bearer(client, "xh_dispatch"))
    assert other.status_code == 404


def test_the_picker_proposes_the_grid_worker_first_and_stays_in_scope(
    desk: tuple[TestClient, dict[str, str]],
) -> None:
    client, cases = desk
    cz = bearer(client, "cz_dispatch")
    r = client.get(f"/api/v1/cases/{cases['cz']}/candidates", headers=cz)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    proposed = [p["id"] for p in items if p["proposed"]]
    # a road report goes to the grid worker by its route; then 居委会 and property
    assert proposed[:1] == ["P-GW1"]
    assert set(proposed) == {"P-GW1", "P-C1", "P-PM1"}
    assert [p["id"] for p in items][: len(proposed)] == proposed  # proposed ones first
    assert items[0]["load"] == 1  # it leads this case already
    assert all(p["reason"] for p in items if p["proposed"])
    # the district bureau serves the case's area too: offered after them
    assert "P-CG" in [p["id"] for p in items if not p["proposed"]]
    # search by name
    found = client.get(f"/api/v1/cases/{cases['cz']}/candidates?q=物业", headers=cz).json()
    assert [p["id"] for p in found["items"]] == ["P-PM1"]
    # across the boundary: 小河's dispatcher gets no such case, and on their own case
    # is never offered 长征桥's grid worker or community
    xh = bearer(client, "xh_dispatch")
    assert client.get(f"/api/v1/cases/{cases['cz']}/candidates", headers=xh).status_code == 404
    theirs = client.get(f"/api/v1/cases/{cases['xh']}/candidates", headers=xh).json()["items"]
    ids = {p["id"] for p in theirs}
    assert "P-GW1" not in ids
    assert "P-C1" not in ids
    assert "P-PM1" in ids
    # a handler does not dispatch
    handler = client.get(f"/api/v1/cases/{cases['cz']}/candidates", headers=bearer(client, "zhang"))
    assert handler.status_code == 403


def test_a_case_keyed_by_a_camera_and_a_plate_is_titled_by_the_place_not_the_ids() -> None:
    """A per-plate alert's key is the device id and the plate: the book titles the case
    with it ("城市管理·渣土车未覆盖 · CM-000018/…", issue 17); the API's heading names
    the device's place instead, and its point goes on the map."""
    world = load_world(FIXTURES / "world_small.yaml")
    opened = at(1)
    truck = Case(
        id="C9",
        origin=CaseOrigin.ALERT,
        state=CaseState.REPORTED,
        severity=Severity.MEDIUM,
        opened_at=opened,
        title="城市管理·渣土车未覆盖 · D4/浙A12345",
        scenario="city.muck_truck",
        key="D4/浙A12345",
        area="G0003",
    )
    heading = case_heading(truck, world)
    assert heading.startswith("城市管理·渣土车未覆盖 · 小河社区第1网格")
    assert heading.endswith("（浙A12345）")
    assert "D4" not in heading
    place = case_place(truck, world)
    assert place is not None
    assert (place["lat"], place["lon"]) == (30.315, 120.11)  # the device's point
    assert place["boundary"] is not None  # the grid's outline for the map
    # a key the world does not know at all: the area, never the key
    stray = replace(truck, title="城市管理·渣土车未覆盖 · CM-404", key="CM-404")
    assert case_heading(stray, world) == "城市管理·渣土车未覆盖 · 小河社区第1网格"


def test_a_moves_answer_and_a_conflict_show_the_case_as_its_view_does(
    desk: tuple[TestClient, dict[str, str]],
) -> None:
    """The desk draws the answer of a move (and the case in a 409) as it drew the
    case: with names and plain words, not the raw timeline (it once showed "由预警
    citizen.report/app/r1/1 生成" right after a tap)."""
    client, cases = desk
    auth = bearer(client, "zhang")
    url = f"/api/v1/cases/{cases['cz']}"
    tag = client.get(url, headers=auth).headers["etag"]
    r = client.post(f"{url}/actions", json={"action": "accept"}, headers=auth | {"If-Match": tag})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["timeline"][-1]["actor_name"] == "张网格员"
    assert body["timeline"][0]["text"] == "居民上报，已立案"
    assert body["photos"] == ["ph-1"]
    stale = client.post(
        f"{url}/actions", json={"action": "arrive"}, headers=auth | {"If-Match": tag}
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["timeline"][-1]["actor_name"] == "张网格员"
