"""业委会换届选举 over HTTP (issue 21 item 6): the steps a community's staff take and a
resident's one vote for their household; the result as art. 278 counts it; every
boundary tried — signed out 401, a handler 403, a leader who only reads 403 on a step,
another community's dispatcher 404, a resident of another estate 404, a second ballot
for a household 409, a wrong field 422 naming it.

The estate: tests/fixtures/world_estate.yaml (长征桥新村, six households, 600 m²)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "elections-pass-1234"
CZ, XH = "330105001001", "330105001002"
PEOPLE: dict[str, dict[str, Any]] = {
    "cz_disp": {"role": "dispatcher", "areas": (CZ,), "display_name": "长征桥社区书记"},
    "xh_disp": {"role": "dispatcher", "areas": (XH,)},
    "boss": {"role": "leader", "areas": ("330105001",)},
    "worker": {"role": "handler", "party_id": "P-C1"},
    "zhang": {"role": "resident", "areas": ("G0001",)},  # H1
    "zhang2": {"role": "resident", "areas": ("G0001",)},  # H1 too
    "chen": {"role": "resident", "areas": ("G0001",)},  # H3
    "wu": {"role": "resident", "areas": ("G0003",)},  # H7, another estate
}
BOUND = {"zhang": "H1", "zhang2": "H1", "chen": "H3"}


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, Clock]]:
    store = Store.open(f"sqlite:///{tmp_path / 'el.db'}")
    world = load_world(FIXTURES / "world_estate.yaml")
    store.save_world(world)
    for name, spec in PEOPLE.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    clock = Clock(datetime(2026, 11, 2, 1, 0, tzinfo=UTC))
    app = create_app(store, LivePipeline(store, lateness_s=0), wall_clock=False, clock=clock)
    with TestClient(app) as c:
        yield c, clock
    store.close()


def auth(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def to_voting(client: TestClient, clock: Clock, staff: dict[str, str]) -> str:
    r = client.post(
        "/api/v1/elections",
        json={"title": "长征桥新村业委会换届", "area": CZ, "seats": 2},
        headers=staff,
    )
    assert r.status_code == 201, r.text
    eid = str(r.json()["id"])
    for h, name in (("H3", "陈三"), ("H6", "刘六"), ("H1", "张一")):
        r = client.post(
            f"/api/v1/elections/{eid}/candidates",
            json={"household": h, "name": name},
            headers=staff,
        )
        assert r.status_code == 201, r.text
    for who, h in BOUND.items():
        r = client.post(f"/api/v1/households/{h}/residents", json={"username": who}, headers=staff)
        assert r.status_code == 204, r.text
    assert client.post(f"/api/v1/elections/{eid}/notice", headers=staff).status_code == 200
    early = client.post(f"/api/v1/elections/{eid}/voting", headers=staff)
    assert early.status_code == 409
    assert "notice period runs until" in early.json()["detail"]
    clock.at += timedelta(days=7)
    assert client.post(f"/api/v1/elections/{eid}/voting", headers=staff).status_code == 200
    return eid


def test_an_election_passes_only_when_heads_and_area_both_agree(
    env: tuple[TestClient, Clock],
) -> None:
    client, clock = env
    staff = auth(client, "cz_disp")
    eid = to_voting(client, clock, staff)
    url = f"/api/v1/elections/{eid}/ballots"
    # H1 online; its second resident, then staff on paper, are refused: one per household
    assert (
        client.post(url, json={"choices": ["H6"]}, headers=auth(client, "zhang")).status_code == 201
    )
    again = client.post(url, json={"choices": ["H3"]}, headers=auth(client, "zhang2"))
    assert again.status_code == 409
    assert "H1 has voted already" in again.json()["detail"]
    paper = {"household": "H1", "choices": ["H3"], "channel": "paper"}
    assert client.post(url, json=paper, headers=staff).status_code == 409
    assert (
        client.post(url, json={"choices": ["H3", "H6"]}, headers=auth(client, "chen")).status_code
        == 201
    )
    for body in (
        {"household": "H2", "choices": ["H6"], "channel": "paper"},
        {"household": "H4", "choices": ["H3"], "channel": "proxy", "proxy": "李四的女儿"},
        {"household": "H5", "choices": ["H3"], "channel": "paper"},
    ):
        assert client.post(url, json=body, headers=staff).status_code == 201
    seen = client.get(f"/api/v1/elections/{eid}", headers=staff).json()
    assert [h["voted"] for h in seen["households"]] == [True] * 5 + [False]
    by = {b["household"]: b for b in seen["ballots"]}
    assert by["H4"]["cast_by"] == "长征桥社区书记"
    assert by["H4"]["proxy"] == "李四的女儿"
    assert by["H1"]["choices"] is None  # a resident's own choice is not shown to staff
    r = client.post(f"/api/v1/elections/{eid}/close", headers=staff)
    assert r.status_code == 200, r.text
    result = r.json()["result"]
    assert result["voted"] == {"households": 5, "area_m2": "480.00"}
    rows = {c["household"]: c for c in result["candidates"]}
    # H6: 3 of 5 households, 360 of 480 m²; H3: 3 of 5 households but 180 of 480 m²
    assert (rows["H6"]["consent_households"], rows["H6"]["consent_area"]) == (True, True)
    assert (rows["H3"]["consent_households"], rows["H3"]["consent_area"]) == (True, False)
    assert result["elected"] == ["H6"]
    # the resident sees the published result and that their household voted
    mine = client.get(f"/api/v1/elections/{eid}", headers=auth(client, "zhang2")).json()
    assert mine["my_household"] == "H1"
    assert mine["my_ballot"]["channel"] == "online"
    assert mine["result"]["elected"] == ["H6"]
    assert "ballots" not in mine
    actions = [
        a["action"] for a in client.get(f"/api/v1/elections/{eid}/audit", headers=staff).json()
    ]
    assert actions.count("ballot") == 5
    assert actions[-1] == "published"


def test_each_boundary(env: tuple[TestClient, Clock]) -> None:
    client, clock = env
    staff = auth(client, "cz_disp")
    eid = to_voting(client, clock, staff)
    one = f"/api/v1/elections/{eid}"
    assert client.get(one).status_code == 401
    assert client.post(f"{one}/close").status_code == 401
    assert client.get("/api/v1/elections", headers=auth(client, "worker")).status_code == 403
    assert client.post(f"{one}/close", headers=auth(client, "worker")).status_code == 403
    other = auth(client, "xh_disp")
    assert client.get(one, headers=other).status_code == 404
    assert client.post(f"{one}/close", headers=other).status_code == 404
    assert client.get("/api/v1/elections", headers=other).json() == []
    leader = auth(client, "boss")
    assert client.get(one, headers=leader).status_code == 200
    assert client.post(f"{one}/close", headers=leader).status_code == 403
    wu = auth(client, "wu")  # not bound, and H7 owns elsewhere
    assert client.post(f"{one}/ballots", json={"choices": []}, headers=wu).status_code == 403
    assert client.get(one, headers=wu).status_code == 404
    assert client.get("/api/v1/elections", headers=wu).json() == []
    r = client.post("/api/v1/households/H7/residents", json={"username": "wu"}, headers=staff)
    assert r.status_code == 404  # another community's household
    chen = auth(client, "chen")
    assert client.get(f"{one}/audit", headers=chen).status_code == 403
    wrong = client.post(f"{one}/ballots", json={"choices": ["H2"]}, headers=chen)
    assert wrong.status_code == 422
    assert "choices[0]" in wrong.json()["detail"]
    bad = client.post(
        "/api/v1/elections", json={"title": "x", "area": CZ, "notice_days": 0}, headers=staff
    )
    assert bad.status_code == 422
    assert "notice_days" in bad.json()["detail"]
    outside = client.post("/api/v1/elections", json={"title": "x", "area": XH}, headers=staff)
    assert outside.status_code == 403
