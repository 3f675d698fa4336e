"""The case filters the cockpit drills through with (``GET /api/v1/cases``): module,
party, and the local days a case was opened or ended in — each enforced in SQL, and
never a way around the area scope.

The district is tests/fixtures/world_small.yaml with a second street added, 大关街道
(one community, one grid G0101), so that scoping is tried across streets: a dispatcher
of 小河街道 must never see 大关's cases through a new filter, and the other way round."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest
import yaml
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
XIAOHE, DAGUAN = "330105001", "330105002"
USERS: dict[str, dict[str, Any]] = {
    "xh_street": {"role": "dispatcher", "areas": (XIAOHE,)},
    "dg_street": {"role": "dispatcher", "areas": (DAGUAN,)},
    "zhang": {"role": "handler", "party_id": "P-GW1"},  # grid worker of G0001
    "boss": {"role": "leader", "areas": ("330105",)},
    "root": {"role": "admin"},
}
#: Local days in Asia/Shanghai: 23:30 on the 23rd is still the 23rd there (15:30 UTC),
#: 00:30 on the 24th is the 24th (16:30 UTC on the 23rd): days are the district's.
EVENTS = [
    ("r1", "report.citizen", "2026-11-22T09:00:00+08:00", {"area": "G0001"}),
    ("r2", "report.citizen", "2026-11-23T23:30:00+08:00", {"area": "G0003"}),
    ("r3", "report.citizen", "2026-11-24T00:30:00+08:00", {"area": "G0101"}),
    ("s1", "smoke.alarm", "2026-11-24T01:00:00+08:00", {"device_id": "D2"}),
    ("t1", "door.open", "2026-11-24T03:00:00+08:00", {"device_id": "D1"}),
]


def two_streets(tmp_path: Path) -> Path:
    doc = yaml.safe_load((FIXTURES / "world_small.yaml").read_text("utf-8"))
    doc["areas"] += [
        {"code": DAGUAN, "name": "大关街道", "level": "street", "parent": "330105"},
        {"code": "330105002001", "name": "大关社区", "level": "community", "parent": DAGUAN},
        {"code": "G0101", "name": "大关社区第1网格", "level": "grid", "parent": "330105002001"},
    ]
    doc["parties"].append(
        {"id": "P-GW9", "name": "李网格员", "kind": "grid_worker", "areas": ["G0101"]}
    )
    path = tmp_path / "two_streets.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


def event(eid: str, kind: str, ts: str, extra: dict[str, Any]) -> bytes:
    body: dict[str, Any] = {"id": eid, "kind": kind, "ts": ts, "source": "app", **extra}
    if kind == "report.citizen":
        body["attrs"] = {"category": "road", "text": f"路面坑洼 {eid}"}
    return orjson.dumps(body)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, Store, dict[str, str]]]:
    store = Store.open(f"sqlite:///{tmp_path / 'cockpit.db'}")
    world = load_world(two_streets(tmp_path))
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest_raw([event(*e) for e in EVENTS], "test")
    cases = {c.area: c.id for c in store.load_cases()}
    assert set(cases) == {"G0001", "G0003", "G0101", "G0002"}, cases
    with TestClient(create_app(store, pipeline, wall_clock=False)) as client:
        yield client, store, cases
    store.close()


def bearer(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def listed(client: TestClient, user: str, **params: str) -> set[str]:
    r = client.get("/api/v1/cases", params=params, headers=bearer(client, user))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return {c["area"]["code"] for c in body["items"]}


def test_module_keeps_the_cases_of_that_modules_scenarios(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, store, _ = app
    by_scenario = {c.area: c.scenario for c in store.load_cases()}
    assert by_scenario["G0002"] == "fire.smoke"  # 应急管理
    assert listed(client, "root", module="emergency") == {"G0002"}
    assert listed(client, "root", module="livelihood") == {"G0001", "G0003", "G0101"}
    assert listed(client, "root", module="market") == set()
    # with the other filters (AND): livelihood cases in 小河街道
    assert listed(client, "root", module="livelihood", area=XIAOHE) == {"G0001", "G0003"}
    bad = client.get("/api/v1/cases", params={"module": "weather"}, headers=bearer(client, "root"))
    assert bad.status_code == 422
    assert "module" in bad.json()["detail"]


def test_party_keeps_the_cases_it_leads_or_co_handles(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, store, cases = app
    leads = {c.area: c.lead for c in store.load_cases()}
    assert leads["G0001"] == "P-GW1"
    assert leads["G0101"] == "P-GW9"
    mine = {area for area, lead in leads.items() if lead == "P-GW1"}
    assert listed(client, "root", party="P-GW1") == mine
    assert "G0101" not in mine
    assert listed(client, "root", party="P-GW9") == {"G0101"}
    assert listed(client, "root", party="P-CG") == {
        area
        for area, case in {c.area: c for c in store.load_cases()}.items()
        if "P-CG" in (case.lead, *case.co_handlers)
    }
    bad = client.get("/api/v1/cases", params={"party": "P-NOPE"}, headers=bearer(client, "root"))
    assert bad.status_code == 422
    # a co-handler counts as much as the lead
    assert listed(client, "root", party="P-PM1") == set()
    auth = bearer(client, "root")
    detail = client.get(f"/api/v1/cases/{cases['G0003']}", headers=auth)
    moved = client.post(
        f"/api/v1/cases/{cases['G0003']}/actions",
        json={"action": "co_handle", "party": "P-PM1"},
        headers=auth | {"If-Match": detail.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    assert listed(client, "root", party="P-PM1") == {"G0003"}
    assert listed(client, "dg_street", party="P-PM1") == set()


def test_opened_days_are_the_districts_local_days(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, _ = app
    day = {"opened_first": "2026-11-23", "opened_last": "2026-11-23"}
    assert listed(client, "root", **day) == {"G0003"}  # 23:30 local, 15:30 UTC
    later = {"opened_first": "2026-11-24", "opened_last": "2026-11-24"}
    assert listed(client, "root", **later) == {"G0101", "G0002"}  # 16:30 UTC on the 23rd
    assert listed(client, "root", opened_last="2026-11-22") == {"G0001"}
    assert listed(client, "root", opened_first="2026-11-23") == {"G0003", "G0101", "G0002"}
    everything = {"opened_first": "2026-11-01", "opened_last": "2026-11-30"}
    assert listed(client, "root", **everything) == {"G0001", "G0003", "G0101", "G0002"}
    nothing = {"opened_first": "2026-11-25", "opened_last": "2026-11-30"}
    assert listed(client, "root", **nothing) == set()


def test_closed_days_keep_the_cases_that_ended_then(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, store, cases = app
    auth = bearer(client, "root")
    detail = client.get(f"/api/v1/cases/{cases['G0002']}", headers=auth)
    moved = client.post(
        f"/api/v1/cases/{cases['G0002']}/actions",
        json={"action": "dismiss", "note": "误报：厨房油烟"},
        headers=auth | {"If-Match": detail.headers["etag"]},
    )
    assert moved.status_code == 200, moved.text
    dismissed = store.get_case(cases["G0002"])
    assert dismissed is not None
    assert dismissed.closed_at is not None
    ended = dismissed.closed_at.astimezone(load_world_tz(store)).date().isoformat()
    on_the_day = {"closed_first": ended, "closed_last": ended}
    assert listed(client, "root", **on_the_day) == {"G0002"}
    assert listed(client, "root", state="dismissed", **on_the_day) == {"G0002"}
    assert listed(client, "root", state="closed", **on_the_day) == set()
    assert listed(client, "root", closed_last="2026-01-01") == set()
    # open cases have no end: a closed-day filter never lists them
    assert listed(client, "root", closed_first="2000-01-01") == {"G0002"}


def load_world_tz(store: Store) -> ZoneInfo:
    world = store.load_world()
    assert world is not None
    return ZoneInfo(world.timezone)


@pytest.mark.parametrize(
    "params",
    [
        {"module": "livelihood"},
        {"module": "emergency"},
        {"party": "P-GW1"},
        {"party": "P-GW9"},
        {"opened_first": "2026-11-01", "opened_last": "2026-11-30"},
        {"closed_first": "2000-01-01"},
        {"module": "livelihood", "area": DAGUAN},
        {"module": "livelihood", "area": XIAOHE},
        {"party": "P-GW9", "area": DAGUAN},
    ],
)
def test_the_new_filters_never_reach_past_the_users_areas(
    app: tuple[TestClient, Store, dict[str, str]], params: dict[str, str]
) -> None:
    """Whatever the filter names (another street's party, another street's area), a
    street's dispatcher lists only cases in that street; the handler only its party's
    areas and cases; the leader of the district all that matches."""
    client, _, _ = app
    everything = listed(client, "root", **params)
    xiaohe = {"G0001", "G0002", "G0003"}
    assert listed(client, "xh_street", **params) == everything & xiaohe
    assert listed(client, "dg_street", **params) == everything & {"G0101"}
    assert listed(client, "zhang", **params) <= {"G0001"}
    assert listed(client, "boss", **params) == everything


def test_a_street_never_sees_anothers_case_through_party_or_module(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, _ = app
    assert listed(client, "xh_street", party="P-GW9") == set()  # 大关's grid worker
    assert listed(client, "dg_street", party="P-GW1") == set()  # 小河's grid worker
    assert listed(client, "dg_street", module="emergency") == set()  # the smoke in 小河
    assert listed(client, "dg_street", module="livelihood") == {"G0101"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"opened_first": "1999-12-31"}, "opened_first"),
        ({"closed_last": "2101-01-01"}, "closed_last"),
        ({"opened_last": "0001-01-01"}, "opened_last"),
        ({"closed_first": "9999-12-31"}, "closed_first"),
        ({"opened_first": "2026-13-01"}, "opened_first"),
    ],
)
def test_days_out_of_range_are_refused_not_a_server_error(
    app: tuple[TestClient, Store, dict[str, str]], params: dict[str, str], field: str
) -> None:
    client, _, _ = app
    r = client.get("/api/v1/cases", params=params, headers=bearer(client, "root"))
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"]
