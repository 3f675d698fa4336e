"""居民核验: a community's staff verify residents' homes on a screen, not the command
line (issue 17), and only in their own areas — each boundary tried."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.domain.users import UserRole
from cityeye.live.pipeline import LivePipeline
from cityeye.participation.votes import home_within
from cityeye.store import Store
from cityeye.store.users import user_with_hash
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "resident-pass-123"
CZ, XH = "330105001001", "330105001002"  # 长征桥社区, 小河社区 (G0001/G0002 are 长征桥's)
STAFF = {
    "cz_dispatch": {"role": "dispatcher", "areas": (CZ,)},
    "xh_dispatch": {"role": "dispatcher", "areas": (XH,)},
    "zhang": {"role": "handler", "party_id": "P-GW1"},
    "boss": {"role": "leader", "areas": ("330105",)},
    "root": {"role": "admin"},
    "newcomer": {"role": "resident"},
}


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    store = Store.open(f"sqlite:///{tmp_path / 'residents.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    for name, spec in STAFF.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)  # type: ignore[arg-type]
    with TestClient(create_app(store, LivePipeline(store, lateness_s=0), wall_clock=False)) as c:
        yield c, store
    store.close()


def auth(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_staff_register_a_resident_who_then_signs_in_and_may_vote(
    env: tuple[TestClient, Store],
) -> None:
    client, store = env
    cz = auth(client, "cz_dispatch")
    r = client.post(
        "/api/v1/residents",
        json={"username": "wang.ayi", "display_name": "王阿姨", "area": "G0001"},
        headers=cz,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["resident"] == {
        "username": "wang.ayi",
        "display_name": "王阿姨",
        "home": {"code": "G0001", "name": "长征桥社区第1网格"},
        "active": True,
    }
    # the initial password, shown once, signs them in as a resident of that home
    me = client.get("/api/v1/auth/me", headers=auth(client, "wang.ayi", made["password"]))
    assert me.json()["role"] == "resident"
    assert me.json()["areas"] == ["G0001"]
    # and so their home counts for 长征桥's ballots (participation.votes), not 小河's
    found = user_with_hash(store, "wang.ayi")
    assert found is not None
    world = load_world(FIXTURES / "world_small.yaml")
    assert home_within(found[0], CZ, world)
    assert not home_within(found[0], XH, world)
    listed = client.get("/api/v1/residents", headers=cz).json()
    assert [x["username"] for x in listed] == ["wang.ayi"]
    # 小河's staff do not see 长征桥's residents
    assert client.get("/api/v1/residents", headers=auth(client, "xh_dispatch")).json() == []


def test_staff_verify_only_into_their_own_areas_and_only_residents(
    env: tuple[TestClient, Store],
) -> None:
    client, _ = env
    cz, xh = auth(client, "cz_dispatch"), auth(client, "xh_dispatch")
    # into another community's area: as if it were not there
    r = client.put("/api/v1/residents/newcomer/home", json={"area": "G0003"}, headers=cz)
    assert r.status_code == 404
    assert r.json()["detail"].startswith("area:")
    r = client.post("/api/v1/residents", json={"username": "li", "area": XH}, headers=cz)
    assert r.status_code == 404
    # a street is too wide for a home; a made-up area is named as such
    r = client.put("/api/v1/residents/newcomer/home", json={"area": "330105001"}, headers=cz)
    assert (r.status_code, r.json()["detail"]) == (422, "area: a home is a community or a grid")
    # a staff account is not a resident, whoever asks
    for who in ("zhang", "xh_dispatch", "root"):
        r = client.put(f"/api/v1/residents/{who}/home", json={"area": CZ}, headers=cz)
        assert r.status_code == 404, who
    # the unverified newcomer: 长征桥 verifies them
    r = client.put("/api/v1/residents/newcomer/home", json={"area": CZ}, headers=cz)
    assert r.status_code == 200
    assert r.json()["home"] == {"code": CZ, "name": "长征桥社区"}
    # 小河 can neither move nor withdraw a home verified by 长征桥
    r = client.put("/api/v1/residents/newcomer/home", json={"area": XH}, headers=xh)
    assert r.status_code == 403
    assert client.delete("/api/v1/residents/newcomer/home", headers=xh).status_code == 403
    # 长征桥 withdraws it (they moved); then 小河 may verify them
    r = client.delete("/api/v1/residents/newcomer/home", headers=cz)
    assert (r.status_code, r.json()["home"]) == (200, None)
    assert client.delete("/api/v1/residents/newcomer/home", headers=cz).status_code == 409
    r = client.put("/api/v1/residents/newcomer/home", json={"area": XH}, headers=xh)
    assert r.json()["home"]["code"] == XH


@pytest.mark.parametrize("who", ["zhang", "boss", "newcomer"])
def test_handlers_leaders_and_residents_verify_nobody(
    env: tuple[TestClient, Store], who: str
) -> None:
    client, store = env
    headers = auth(client, who)
    assert client.get("/api/v1/residents", headers=headers).status_code == 403
    r = client.post("/api/v1/residents", json={"username": "x1", "area": CZ}, headers=headers)
    assert r.status_code == 403
    r = client.put("/api/v1/residents/newcomer/home", json={"area": CZ}, headers=headers)
    assert r.status_code == 403
    assert user_with_hash(store, "x1") is None
    found = user_with_hash(store, "newcomer")
    assert found is not None
    assert found[0].areas == ()
    assert found[0].role == UserRole.RESIDENT


def test_an_admin_verifies_anywhere_and_a_taken_username_is_said(
    env: tuple[TestClient, Store],
) -> None:
    client, _ = env
    root = auth(client, "root")
    r = client.post("/api/v1/residents", json={"username": "zhao", "area": "G0003"}, headers=root)
    assert r.status_code == 201
    r = client.post("/api/v1/residents", json={"username": "zhao", "area": "G0003"}, headers=root)
    assert r.status_code == 422
    assert r.json()["detail"] == "username: username 'zhao' is taken"
    assert [x["username"] for x in client.get("/api/v1/residents", headers=root).json()] == ["zhao"]
    assert client.get("/api/v1/residents", params={"area": CZ}, headers=root).json() == []
