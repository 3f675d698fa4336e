"""Signing in, roles, area scoping and the cases API (issue 6, parts 1–2).

The district: 长征桥社区 (grids G0001, G0002) and 小河社区 (G0003). A resident's report
in G0001 and one in G0003 each become a case. A dispatcher of 长征桥 must never see or
touch the 小河 case, through any endpoint, and the other way round."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.auth import CSRF_COOKIE, SESSION_COOKIE
from cityeye.api.limits import Throttle
from cityeye.cases.lifecycle import Role, moves
from cityeye.demo.users import demo_users
from cityeye.domain import CaseState, FieldError
from cityeye.live.pipeline import LivePipeline
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.world import load_world
from kit import at, photo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
PNG = photo()
USERS = {
    "cz_dispatch": {"role": "dispatcher", "areas": ("330105001001",)},  # 长征桥
    "xh_dispatch": {"role": "dispatcher", "areas": ("330105001002",)},  # 小河
    "zhang": {"role": "handler", "party_id": "P-GW1"},  # grid worker of G0001
    "boss": {"role": "leader", "areas": ("330105",)},
    "root": {"role": "admin"},
    "resident": {"role": "resident"},
}


def report(i: int, grid: str) -> bytes:
    return orjson.dumps(
        {
            "id": f"r{i}",
            "kind": "report.citizen",
            "ts": at(i).isoformat(),
            "source": "app",
            "area": grid,
            "attrs": {"category": "road", "text": f"路面坑洼 {i}"},
        }
    )


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, Store, dict[str, str]]]:
    store = Store.open(f"sqlite:///{tmp_path / 'auth.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)  # type: ignore[arg-type]
    pipeline = LivePipeline(store, lateness_s=0)
    pipeline.ingest_raw([report(1, "G0001"), report(2, "G0003")], "test")
    cases = {c.area: c.id for c in store.load_cases()}
    assert set(cases) == {"G0001", "G0003"}
    with TestClient(create_app(store, pipeline, wall_clock=False)) as client:
        yield client, store, {"cz": cases["G0001"], "xh": cases["G0003"]}
    store.close()


def bearer(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()  # this helper speaks bearer only
    return {"Authorization": f"Bearer {r.json()['token']}"}


# ---------------------------------------------------------------------- users
def test_users_are_checked_field_by_field(app: tuple[TestClient, Store, dict[str, str]]) -> None:
    _, store, _ = app
    world = store.load_world()
    assert world is not None
    bad: list[tuple[dict[str, Any], str]] = [
        ({"username": "x", "password": PASSWORD, "role": "admin"}, "username"),
        ({"username": "shorty", "password": "short", "role": "admin"}, "password"),
        ({"username": "who", "password": PASSWORD, "role": "mayor"}, "role"),
        ({"username": "h2", "password": PASSWORD, "role": "handler"}, "party"),
        ({"username": "d2", "password": PASSWORD, "role": "dispatcher"}, "areas"),
        ({"username": "d3", "password": PASSWORD, "role": "leader", "areas": ("X",)}, "areas"),
        ({"username": "root", "password": PASSWORD, "role": "admin"}, "username"),  # taken
    ]
    for spec, field in bad:
        with pytest.raises(FieldError) as exc:
            create_user(store, world, **spec)
        assert exc.value.field == field, spec


def test_passwords_are_stored_as_argon2_only(app: tuple[TestClient, Store, dict[str, str]]) -> None:
    _, store, _ = app
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT password_hash FROM users").all()
    assert rows
    assert all(r[0].startswith("$argon2id$") and PASSWORD not in r[0] for r in rows)


# ---------------------------------------------------------------------- sessions
def test_login_sets_a_safe_session_cookie_and_wrong_passwords_say_the_same(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, _ = app
    r = client.post("/api/v1/auth/login", json={"username": "zhang", "password": PASSWORD})
    assert r.status_code == 200
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert r.json()["user"]["role"] == "handler"
    wrong = client.post("/api/v1/auth/login", json={"username": "zhang", "password": "nope" * 3})
    nobody = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "x" * 12})
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json()  # does not tell which usernames exist


def test_a_cookie_session_needs_the_csrf_value_to_change_anything(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, ids = app
    r = client.post("/api/v1/auth/login", json={"username": "cz_dispatch", "password": PASSWORD})
    csrf = r.json()["csrf_token"]
    assert client.cookies.get(CSRF_COOKIE) == csrf
    detail = client.get(f"/api/v1/cases/{ids['cz']}")  # reading needs no CSRF
    assert detail.status_code == 200
    move = {"action": "dismiss", "note": "误报"}
    headers = {"If-Match": detail.headers["etag"]}
    forged = client.post(f"/api/v1/cases/{ids['cz']}/actions", json=move, headers=headers)
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["detail"]
    ok = client.post(
        f"/api/v1/cases/{ids['cz']}/actions", json=move, headers=headers | {"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["state"] == "dismissed"


def test_logout_ends_the_token(app: tuple[TestClient, Store, dict[str, str]]) -> None:
    client, _, _ = app
    auth = bearer(client, "boss")
    assert client.get("/api/v1/auth/me", headers=auth).json()["username"] == "boss"
    assert client.post("/api/v1/auth/logout", headers=auth).status_code == 200
    again = client.get("/api/v1/auth/me", headers=auth)
    assert again.status_code == 401
    assert "revoked" in again.json()["detail"]
    assert client.get("/api/v1/cases").status_code == 401


# ---------------------------------------------------------------------- scoping
def every_case_endpoint(
    client: TestClient, auth: dict[str, str], case_id: str
) -> list[httpx.Response]:
    """Each way the API can reach one case."""
    return [
        client.get(f"/api/v1/cases/{case_id}", headers=auth),
        client.get(f"/api/v1/cases/{case_id}/candidates", headers=auth),
        client.post(
            f"/api/v1/cases/{case_id}/actions",
            json={"action": "dispatch", "party": "P-GW1"},
            headers=auth | {"If-Match": 'W/"1"'},
        ),
        client.post(
            f"/api/v1/cases/{case_id}/actions",
            json={"action": "accept"},
            headers=auth | {"If-Match": 'W/"1"'},
        ),
        client.post(f"/api/v1/cases/{case_id}/supervise", json={"note": "抓紧"}, headers=auth),
        client.post(f"/api/v1/cases/{case_id}/urge", json={}, headers=auth),
    ]


@pytest.mark.parametrize(
    ("user", "mine", "theirs"),
    [("cz_dispatch", "cz", "xh"), ("xh_dispatch", "xh", "cz"), ("zhang", "cz", "xh")],
)
def test_nobody_reaches_a_case_outside_their_areas(
    app: tuple[TestClient, Store, dict[str, str]], user: str, mine: str, theirs: str
) -> None:
    client, store, ids = app
    auth = bearer(client, user)
    listed = client.get("/api/v1/cases", headers=auth).json()
    assert [c["id"] for c in listed["items"]] == [ids[mine]]
    assert listed["total"] == 1
    # asking for the other community's area by name gives nothing either
    other_area = "330105001002" if mine == "cz" else "330105001001"
    filtered = client.get("/api/v1/cases", params={"area": other_area}, headers=auth).json()
    assert filtered["items"] == []
    before = store.get_case(ids[theirs])
    for response in every_case_endpoint(client, auth, ids[theirs]):
        assert response.status_code == 404, response.text  # not found == not allowed
    assert store.get_case(ids[theirs]) == before  # and nothing changed
    assert client.get(f"/api/v1/cases/{ids[mine]}", headers=auth).status_code == 200


def test_admin_and_leader_see_all_but_a_leader_changes_nothing(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, ids = app
    for user in ("root", "boss"):
        auth = bearer(client, user)
        assert client.get("/api/v1/cases", headers=auth).json()["total"] == 2
    auth = bearer(client, "boss")
    tag = client.get(f"/api/v1/cases/{ids['xh']}", headers=auth).headers["etag"]
    r = client.post(
        f"/api/v1/cases/{ids['xh']}/actions",
        json={"action": "dismiss"},
        headers=auth | {"If-Match": tag},
    )
    assert r.status_code == 403
    resident = bearer(client, "resident")
    assert client.get("/api/v1/cases", headers=resident).json()["total"] == 0


# ---------------------------------------------------------------------- versions
def test_two_dispatchers_cannot_overwrite_each_other(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    """Both looked at the unassigned 小河 case; the first dispatch wins, the second
    gets 409 with the case as it is now, and nothing is overwritten."""
    client, store, ids = app
    first, second = bearer(client, "xh_dispatch"), bearer(client, "root")
    seen = client.get(f"/api/v1/cases/{ids['xh']}", headers=first).headers["etag"]
    assert client.get(f"/api/v1/cases/{ids['xh']}", headers=second).headers["etag"] == seen
    url = f"/api/v1/cases/{ids['xh']}/actions"
    won = client.post(
        url, json={"action": "dispatch", "party": "P-PM1"}, headers=first | {"If-Match": seen}
    )
    assert won.status_code == 200, won.text
    assert won.json()["lead"]["id"] == "P-PM1"
    lost = client.post(
        url, json={"action": "dispatch", "party": "P-CG"}, headers=second | {"If-Match": seen}
    )
    assert lost.status_code == 409
    assert lost.json()["current"]["lead"]["id"] == "P-PM1"
    assert lost.headers["etag"] == won.headers["etag"]
    case = store.get_case(ids["xh"])
    assert case is not None
    assert case.lead == "P-PM1"
    missing = client.post(url, json={"action": "close"}, headers=first)
    assert missing.status_code == 428


def test_a_handler_works_its_case_through_the_lifecycle(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, ids = app
    auth = bearer(client, "zhang")
    url = f"/api/v1/cases/{ids['cz']}"
    case = client.get(url, headers=auth)
    assert case.json()["lead"]["id"] == "P-GW1"  # routed to the grid worker
    tag = case.headers["etag"]
    photo = client.post(
        "/api/v1/attachments", content=PNG, headers=auth | {"content-type": "image/png"}
    )
    assert photo.status_code == 201, photo.text
    ref = photo.json()["ref"]
    outside = client.post(
        f"{url}/actions",
        json={"action": "accept", "photos": ["https://evil.example/x.jpg"]},
        headers=auth | {"If-Match": tag},
    )
    assert outside.status_code == 422
    assert "photos[0]" in outside.json()["detail"]
    for action in ("accept", "handle"):
        body: dict[str, Any] = {"action": action, "note": f"{action} 已到场"}
        if action == "handle":
            body["photos"] = [ref]
        r = client.post(f"{url}/actions", json=body, headers=auth | {"If-Match": tag})
        assert r.status_code == 200, r.text
        tag = r.headers["etag"]
    done = client.get(url, headers=auth).json()
    assert done["state"] == "handled"
    assert done["timeline"][-1]["attachments"] == [ref]
    got = client.get(f"/api/v1/attachments/{ref}", headers=auth)
    assert (got.status_code, got.content, got.headers["content-type"]) == (200, PNG, "image/png")
    assert client.get(f"/api/v1/attachments/{ref}").status_code == 401
    assert done["timeline"][-1]["actor"] == "P-GW1"
    # a handler may not close: that is the dispatcher's
    r = client.post(f"{url}/actions", json={"action": "close"}, headers=auth | {"If-Match": tag})
    assert r.status_code == 403
    # the lifecycle refuses a move the state does not allow, saying why
    r = client.post(f"{url}/actions", json={"action": "accept"}, headers=auth | {"If-Match": tag})
    assert r.status_code == 422
    assert "handled" in r.json()["detail"]


def test_the_case_offers_the_moves_the_api_then_keeps_to(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    """Issue 16: the case's JSON says what the signed-in person may do (the desk's
    buttons); the desk once offered "return" on an accepted case, which got a 422."""
    client, _, ids = app
    auth = bearer(client, "zhang")
    url = f"/api/v1/cases/{ids['cz']}"
    case = client.get(url, headers=auth)
    assert [m["action"] for m in case.json()["moves"]] == ["accept", "return", "progress"]
    r = client.post(
        f"{url}/actions",
        json={"action": "accept"},
        headers=auth | {"If-Match": case.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    offered = [m["action"] for m in r.json()["moves"]]
    assert offered == ["arrive", "handle", "dismiss", "progress"]
    refused = client.post(
        f"{url}/actions",
        json={"action": "return", "note": "不归我管"},
        headers=auth | {"If-Match": r.headers["etag"]},
    )
    assert refused.status_code == 422
    assert "allowed from" in refused.json()["detail"]  # the lifecycle's own words
    assert client.get(url, headers=auth).json()["state"] != "returned"
    # the same case seen by the other community's dispatcher: not at all; by a leader:
    # no moves; by the dispatcher of its own community: theirs
    assert client.get(url, headers=bearer(client, "xh_dispatch")).status_code == 404
    assert client.get(url, headers=bearer(client, "boss")).json()["moves"] == []
    seen = client.get(url, headers=bearer(client, "cz_dispatch")).json()
    expected = moves(CaseState(seen["state"]), Role.DISPATCHER)  # (its deadline may pass)
    assert [m["action"] for m in seen["moves"]] == [m.value for m in expected]
    # a list carries no moves (it is not what anyone acts on)
    listed = client.get("/api/v1/cases", headers=auth).json()["items"]
    assert listed
    assert all("moves" not in c for c in listed)


def test_desk_moves_replay_the_same_after_a_crash(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    """A move made at the desk is an event: a restart without a snapshot re-feeds it
    at the same place, and the case comes out exactly as it was."""
    client, store, ids = app
    auth = bearer(client, "xh_dispatch")
    tag = client.get(f"/api/v1/cases/{ids['xh']}", headers=auth).headers["etag"]
    r = client.post(
        f"/api/v1/cases/{ids['xh']}/actions",
        json={"action": "dispatch", "party": "P-PM1", "note": "请物业处理"},
        headers=auth | {"If-Match": tag},
    )
    assert r.status_code == 200
    before = store.get_case(ids["xh"])
    again = LivePipeline(store, lateness_s=0)  # no snapshot was taken: all is re-fed
    assert again.restored_events == 3
    assert again.analysis.case_errors == []
    assert store.get_case(ids["xh"]) == before
    assert again.book.cases[ids["xh"]].lead == "P-PM1"


# ---------------------------------------------------------------------- the district
@pytest.mark.parametrize(
    ("user", "mine", "other"),
    [("cz_dispatch", "G0001", "330105001002"), ("xh_dispatch", "G0003", "330105001001")],
)
def test_alerts_devices_and_kpis_stay_inside_the_areas_too(
    app: tuple[TestClient, Store, dict[str, str]], user: str, mine: str, other: str
) -> None:
    client, store, _ = app
    auth = bearer(client, user)
    alerts = client.get("/api/v1/alerts", headers=auth).json()
    assert [a["area"] for a in alerts["items"]] == [mine]  # the other report's alert is not
    assert len(store.alerts()) == 2
    world = store.load_world()
    assert world is not None
    devices = client.get("/api/v1/devices", headers=auth).json()["items"]
    own = {
        a
        for a in world.areas
        if world.within(a, "330105001001" if mine == "G0001" else "330105001002")
    }
    assert devices
    assert all(d["area"] in own for d in devices)
    for path in ("/api/v1/alerts", "/api/v1/devices", "/api/v1/kpis"):
        r = client.get(path, params={"area": other}, headers=auth)
        assert r.status_code == 404, (path, r.text)
    assert client.get("/api/v1/kpis", headers=auth).status_code == 422  # name an area
    kpis = client.get(
        "/api/v1/kpis",
        params={"area": mine, "first": "2026-10-01", "last": "2026-10-01"},
        headers=auth,
    )
    assert kpis.status_code == 200
    assert kpis.json()["cases"] == 1


def test_the_map_and_the_rules_are_the_same_for_everyone(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, _ = app
    auth = bearer(client, "zhang")
    areas = client.get("/api/v1/areas", params={"boundaries": True}, headers=auth).json()
    assert [a["code"] for a in areas][:2] == ["330105", "330105001"]
    assert any(a["boundary"] for a in areas)
    assert {p["id"] for p in client.get("/api/v1/parties", headers=auth).json()} >= {"P-GW1"}
    scenarios = client.get("/api/v1/scenarios", headers=auth).json()
    assert len(scenarios) == len(load_catalogue())
    root = bearer(client, "root")
    district = client.get(
        "/api/v1/kpis", params={"first": "2026-10-01", "last": "2026-10-01"}, headers=root
    ).json()
    assert district["cases"] == 2


def test_the_demo_has_one_login_per_role(app: tuple[TestClient, Store, dict[str, str]]) -> None:
    client, store, _ = app
    world = store.load_world()
    assert world is not None
    first = demo_users(store, world)
    assert sorted(u.role.value for u, _ in first) == sorted(
        ["admin", "dispatcher", "handler", "leader", "resident"]
    )
    for user, password in first:
        r = client.post(
            "/api/v1/auth/login", json={"username": user.username, "password": password}
        )
        assert r.status_code == 200, user.username
    again = {u.username: p for u, p in demo_users(store, world)}
    old = {u.username: p for u, p in first}
    assert again["admin"] != old["admin"]  # printed once: a rerun sets new ones
    r = client.post("/api/v1/auth/login", json={"username": "admin", "password": old["admin"]})
    assert r.status_code == 401


def test_an_upload_must_be_the_image_it_claims(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, _ = app
    auth = bearer(client, "zhang")
    script = client.post(
        "/api/v1/attachments",
        content=b"<script>alert(1)</script>",
        headers=auth | {"content-type": "image/jpeg"},
    )
    assert script.status_code == 422
    assert "photo" in script.json()["detail"]
    assert client.get("/api/v1/attachments/../../etc/passwd", headers=auth).status_code == 404
    boss = bearer(client, "boss")
    r = client.post(
        "/api/v1/attachments", content=PNG, headers=boss | {"content-type": "image/png"}
    )
    assert r.status_code == 403


def test_bad_input_names_the_field_like_every_other_error(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, _ = app
    r = client.post("/api/v1/auth/login", json={"username": 5})
    assert r.status_code == 422
    body = r.json()
    assert [e["field"] for e in body["errors"]] == ["username", "password"]
    assert body["detail"].startswith("username: ")
    auth = bearer(client, "root")
    r = client.get("/api/v1/cases", params={"per_page": 0}, headers=auth)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "per_page"


def test_the_cockpit_drills_down_within_the_scope(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, _ = app
    day = {"first": "2026-10-01", "last": "2026-10-01"}
    boss = bearer(client, "boss")  # the whole district
    streets = client.get(
        "/api/v1/kpis/breakdown", params={"by": "community", "area": "330105"} | day, headers=boss
    ).json()["rows"]
    assert {(r["value"], r["name"], r["cases"]) for r in streets} == {
        ("330105001001", "长征桥社区", 1),
        ("330105001002", "小河社区", 1),
    }
    scenarios = client.get(
        "/api/v1/kpis/breakdown", params={"by": "scenario", "area": "330105"} | day, headers=boss
    ).json()["rows"]
    assert [(r["value"], r["cases"]) for r in scenarios] == [("citizen.report", 2)]
    trend = client.get("/api/v1/kpis/trend", params={"area": "330105"} | day, headers=boss)
    assert [d["cases"] for d in trend.json()["days"]] == [2]
    # a 长征桥 dispatcher drills into its own community only
    cz = bearer(client, "cz_dispatch")
    grids = client.get(
        "/api/v1/kpis/breakdown", params={"by": "grid", "area": "330105001001"} | day, headers=cz
    ).json()["rows"]
    assert "G0001" in {r["value"] for r in grids} <= {"G0001", "G0002"}
    # its community's scenarios (issue 18: counted from the community's cases), not the
    # district's two reports
    own = client.get(
        "/api/v1/kpis/breakdown",
        params={"by": "scenario", "area": "330105001001"} | day,
        headers=cz,
    )
    assert own.status_code == 200, own.text
    assert [(r["value"], r["cases"]) for r in own.json()["rows"]] == [("citizen.report", 1)]
    for params in (
        {"by": "community", "area": "330105"},  # above its post
        {"by": "scenario", "area": "330105"},  # the district's scenarios
        {"by": "scenario", "area": "330105001002"},  # the other community's
        {"by": "grid"},  # no area
    ):
        r = client.get("/api/v1/kpis/breakdown", params=params | day, headers=cz)
        assert r.status_code in (404, 422), params


def read_stream(client: TestClient, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    """The alerts of a server-sent event stream that ends after ``limit``."""
    with client.stream("GET", "/api/v1/alerts/stream", params=params, headers=auth) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        body = "".join(r.iter_text())
    out = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields.get("event") == "alert":
            out.append({"seq": int(fields["id"])} | orjson.loads(fields["data"]))
    return out


def test_the_live_alert_stream_shows_only_the_users_areas_and_resumes(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, store, _ = app
    auth = bearer(client, "cz_dispatch")
    first = read_stream(client, auth, after=0, limit=1)
    assert [a["area"] for a in first] == ["G0001"]  # the 小河 alert was skipped
    pipeline = LivePipeline(store, lateness_s=0)  # a second process on the same database
    resume = store.last_alert_change()
    pipeline.ingest_raw([report(3, "G0003"), report(4, "G0002")], "test")
    new = read_stream(client, auth, after=resume, limit=1)
    assert [(a["area"], a["scenario"]) for a in new] == [("G0002", "citizen.report")]
    assert new[0]["seq"] > resume


def test_password_guessing_is_paused_after_five_failures(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, _, _ = app
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"username": "zhang", "password": "guess" * 3})
        assert r.status_code == 401
    paused = client.post("/api/v1/auth/login", json={"username": "zhang", "password": PASSWORD})
    assert paused.status_code == 429  # even the right password waits now
    assert int(paused.headers["retry-after"]) > 0


def test_the_throttle_forgets_after_its_window() -> None:
    now = [0.0]
    throttle = Throttle(limit=2, window=timedelta(minutes=1), clock=lambda: now[0])
    throttle.failed("user:a", "ip:1")
    throttle.failed("user:a", "ip:1")
    assert throttle.wait_s("user:a", "ip:2") == 60
    assert throttle.wait_s("user:b", "ip:1") == 60  # the address is paused too
    now[0] = 30.0
    assert throttle.wait_s("user:a") == 30
    now[0] = 61.0
    assert throttle.wait_s("user:a", "ip:1") == 0
    throttle.failed("user:c")
    throttle.succeeded("user:c")
    throttle.failed("user:c")
    assert throttle.wait_s("user:c") == 0  # a success cleared the earlier failure


def test_a_progress_note_adds_words_and_a_photo_without_moving_the_case(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, store, ids = app
    auth = bearer(client, "zhang")
    url = f"/api/v1/cases/{ids['cz']}"
    case = client.get(url, headers=auth)
    state, tag = case.json()["state"], case.headers["etag"]
    ref = client.post(
        "/api/v1/attachments", content=PNG, headers=auth | {"content-type": "image/png"}
    ).json()["ref"]
    empty = client.post(
        f"{url}/actions", json={"action": "progress"}, headers=auth | {"If-Match": tag}
    )
    assert empty.status_code == 422
    assert "note" in empty.json()["detail"]
    r = client.post(
        f"{url}/actions",
        json={"action": "progress", "note": "材料已到，明早施工", "photos": [ref]},
        headers=auth | {"If-Match": tag},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == state  # no state change
    last = r.json()["timeline"][-1]
    assert (last["action"], last["actor"], last["attachments"]) == ("progress", "P-GW1", [ref])
    assert r.headers["etag"] != tag  # a new version: a move on the old view is a conflict
    stale = client.post(
        f"{url}/actions", json={"action": "progress", "note": "x"}, headers=auth | {"If-Match": tag}
    )
    assert stale.status_code == 409
    leader = bearer(client, "boss")
    tag = client.get(url, headers=leader).headers["etag"]
    r = client.post(
        f"{url}/actions",
        json={"action": "progress", "note": "x"},
        headers=leader | {"If-Match": tag},
    )
    assert r.status_code == 403
    saved = store.get_case(ids["cz"])
    assert saved is not None
    assert saved.timeline[-1].note == "材料已到，明早施工"


#: Endpoints that take an area and must refuse one outside the caller's scope, with
#: the other parameters they need.
AREA_PARAM = {
    "/api/v1/alerts": {},
    "/api/v1/devices": {},
    "/api/v1/kpis": {},
    "/api/v1/kpis/breakdown": {"by": "grid"},
    "/api/v1/kpis/breakdown/export": {"by": "grid"},
    "/api/v1/kpis/trend": {},
    "/api/v1/detections": {},
    "/api/v1/quality/scenarios": {},
    "/api/v1/quality/devices": {},
    "/api/v1/map/layers": {},
    "/api/v1/participation/suggestions": {},
    "/api/v1/participation/groups": {},
    "/api/v1/participation/suggestions.xlsx": {},
    "/api/v1/participation/stats": {},
    "/api/v1/participation/facilitators": {},
    "/api/v1/briefings": {},
    "/api/v1/briefings/stats": {},
    "/api/v1/residents": {},
    "/api/v1/assessment/board": {"level": "community"},
    "/api/v1/assessment/trend": {"level": "community"},
    "/api/v1/standards/attainment": {},
    "/api/v1/enterprises": {},
    "/api/v1/enterprises/visits/due": {},
    "/api/v1/enterprises/visits/coverage": {},
    "/api/v1/enterprises/warnings": {},
    "/api/v1/enterprises/warnings/stats": {},
}
#: Endpoints that reach one case (every_case_endpoint tries them across areas).
ONE_CASE = {
    "/api/v1/cases/{case_id}",
    "/api/v1/cases/{case_id}/actions",
    "/api/v1/cases/{case_id}/candidates",
    "/api/v1/cases/{case_id}/supervise",
    "/api/v1/cases/{case_id}/urge",
}
#: Everything else, and why area scoping does not apply or is tested elsewhere.
NOT_AREA_SCOPED = {
    "/api/v1/cases": "filtered to the scope in SQL (test_nobody_reaches_a_case_outside_…)",
    "/api/v1/cases/counts": "counted within the scope in SQL (test_desk_queue_api.py)",
    "/api/v1/cases/export": "the list's query, filtered to the scope in SQL (test_exports.py)",
    "/api/v1/alerts/stream": "filtered to the scope (test_the_live_alert_stream_shows_…)",
    "/api/v1/notifications": "one's own notifications only (test_notifications.py)",
    "/api/v1/notifications/stream": "one's own notifications only (test_notifications.py)",
    "/api/v1/tasks": "the district's 督办 table: a unit's people see their unit's tasks "
    "only, leaders and staff all of it (test_tasks.py)",
    "/api/v1/tasks/overdue": "the list's tasks, by the same rule (test_tasks.py)",
    "/api/v1/tasks/stats": "staff and leaders only (test_tasks.py)",
    "/api/v1/tasks/export": "staff and leaders only (test_tasks.py)",
    "/api/v1/tasks/{task_id}": "a unit's own tasks; others answer 404 (test_tasks.py)",
    "/api/v1/tasks/{task_id}/reports": "the people of the task's units only (test_tasks.py)",
    "/api/v1/surveys": "社会评价: district posts only (admins, dispatchers; leaders read); a "
    "street's or community's post is refused (test_survey.py)",
    "/api/v1/surveys/units": "the district's streets and departments, district posts only",
    "/api/v1/surveys/{survey_id}/invitations": "district posts only; the residents' area in "
    "the body goes through accounts.residents_of's scope (test_survey.py)",
    "/api/v1/surveys/{survey_id}/close": "district posts only (test_survey.py)",
    "/api/v1/surveys/{survey_id}/results": "district posts only, anonymous (test_survey.py)",
    "/api/v1/surveys/{survey_id}/results/export": "as results",
    "/api/v1/survey/ballot": "a one-time link's holder: its own questionnaire",
    "/api/v1/survey/mine": "a resident's own invitations",
    "/api/v1/survey/responses": "a link once, or an invited resident once (test_survey.py)",
    "/api/v1/elections": "业委会选举: staff see their areas' elections (a query by area); a "
    "resident those of their household's estate (test_elections_api.py)",
    "/api/v1/elections/{election_id}": "one election: staff of its area, a resident of its "
    "estate; others 404 (test_elections_api.py)",
    "/api/v1/elections/{election_id}/audit": "as the election; residents 403",
    "/api/v1/elections/{election_id}/candidates": "dispatchers and admins of its area; others "
    "403 or 404 (test_elections_api.py)",
    "/api/v1/elections/{election_id}/notice": "as candidates",
    "/api/v1/elections/{election_id}/voting": "as candidates",
    "/api/v1/elections/{election_id}/ballots": "a resident for their own household only; staff "
    "of its area record proxy and paper ballots (test_elections_api.py)",
    "/api/v1/elections/{election_id}/corrections": "as candidates",
    "/api/v1/elections/{election_id}/close": "as candidates",
    "/api/v1/households/{household}/residents": "staff whose areas hold one of the household's "
    "units; others 404 (test_elections_api.py)",
    "/api/v1/events": "ingest: device and source tokens, not people",
    "/open311/v2/services.{fmt}": "the public standard: categories",
    "/open311/v2/services/{code}.{fmt}": "the public standard: a category",
    "/open311/v2/requests.{fmt}": "the public standard: requests without reporters",
    "/open311/v2/requests/{request_id}.{fmt}": "the public standard: one request",
    "/api/v1/areas": "the map, the same for everyone",
    "/api/v1/parties": "who handles what, the same for everyone",
    "/api/v1/scenarios": "the rules, the same for everyone",
    "/api/v1/standards": "the response standards, the same for everyone",
    "/api/v1/kpis/latest": "takes no area: the newest case or alert within the caller's own "
    "areas (test_cockpit_period.py)",
    "/api/v1/portal/categories": "public: what residents may report",
    "/api/v1/portal/map": "public: the district's boundaries",
    "/api/v1/places/reverse": "public: a point's areas and the nearest public building or venue "
    "(never subjects or devices; test_api_places.py)",
    "/api/v1/places/search": "public: buildings, venues and areas by name (test_api_places.py)",
    "/api/v1/participation/groups/{group_id}/answer": "only the members within the caller's "
    "areas; 404 when none is (test_participation_groups.py)",
    "/api/v1/participation/suggestions/mine": "one's own suggestions only "
    "(test_participation_groups.py)",
    "/api/v1/portal/photos": "anonymous upload, rate-limited",
    "/api/v1/portal/reports": "anonymous report, rate-limited",
    "/api/v1/portal/reports/{tracking}": "one report's progress, no staff names",
    "/api/v1/portal/reports/{tracking}/rating": "the reporter only (test_portal.py)",
    "/api/v1/portal/reports/{tracking}/photos/{ref}": "the reporter only, and only the "
    "report's own photos and its handlers' (test_portal.py)",
    "/api/v1/portal/mine": "the signed-in resident's own reports",
    "/api/v1/auth/login": "signing in",
    "/api/v1/auth/logout": "signing out",
    "/api/v1/auth/me": "oneself",
    "/api/v1/auth/tokens": "one's own tokens; an admin's: anyone's (test_attack_auth.py)",
    "/api/v1/auth/tokens/{token_id}": "revoking one's own token; an admin: anyone's",
    "/api/v1/clock": "the time; changing it is for admins (test_demo_replay.py)",
    "/api/v1/meta": "public: the names of codes, no data (test_meta.py)",
    "/api/v1/public/board": "public 晾晒台: units' scores and ranks, never a person; no parties "
    "(test_assessment.py)",
    "/api/v1/public/trend": "public 晾晒台's trend: units only, as /api/v1/public/board",
    "/api/v1/public/results/{period}": "public 晾晒 of a published result: units only, no "
    "party level (test_results.py)",
    "/api/v1/assessment/results": "which rounds are published: staff, no unit's figures "
    "(test_results.py)",
    "/api/v1/assessment/results/{period}": "a published result: the rows of the caller's "
    "areas only, by the staff board's rule (test_results.py)",
    "/api/v1/reports/{period}": "an area's report: its area in the caller's scope or 404, "
    "handlers 403 (test_results.py tries each boundary)",
    "/api/v1/attachments": "upload by signed-in staff",
    "/api/v1/attachments/{ref}": "content-addressed: known only from a visible case",
    "/api/v1/status": "counts per street, no case or alert content",
    "/api/v1/participation/suggestions/{suggestion_id}/answer": "404 outside the scope, then "
    "the workflow's area check (test_participation.py)",
    "/api/v1/participation/suggestions/{suggestion_id}/case": "as answer",
    "/api/v1/participation/suggestions/{suggestion_id}/topic": "as answer",
    "/api/v1/participation/topics": "public list of topics (no personal data); creating one "
    "needs a post covering the area (test_participation.py)",
    "/api/v1/participation/topics/{topic_id}": "the public record of a topic",
    "/api/v1/participation/topics/{topic_id}/advance": "the workflow: dispatcher of the area, "
    "or a facilitator of its community (test_briefings.py)",
    "/api/v1/participation/topics/{topic_id}/meetings": "as advance",
    "/api/v1/participation/topics/{topic_id}/ballot": "the workflow: dispatcher of the area",
    "/api/v1/participation/topics/{topic_id}/ballot/close": "the workflow: dispatcher of the area",
    "/api/v1/participation/topics/{topic_id}/votes": "verified residents of the area only",
    "/api/v1/participation/topics/{topic_id}/resolution": "the workflow: dispatcher of the area",
    "/api/v1/participation/meetings/{meeting_id}/participants": "dispatcher of the topic's area",
    "/api/v1/participation/meetings/{meeting_id}/sign-in": "the meeting's own participants",
    "/api/v1/participation/meetings/{meeting_id}/turns": "the meeting's signed-in participants",
    "/api/v1/participation/meetings/{meeting_id}/minutes": "dispatcher of the topic's area",
    "/api/v1/participation/meetings/{meeting_id}/decisions": "dispatcher of the topic's area",
    "/api/v1/enterprises/{enterprise_id}": "an enterprise in the caller's areas, or (a "
    "handler) one they are responsible for; 404 otherwise (test_enterprises.py)",
    "/api/v1/enterprises/{enterprise_id}/history": "as the enterprise (test_enterprises.py)",
    "/api/v1/enterprises/{enterprise_id}/visits": "as the enterprise; recording one: its "
    "包联干部 or a dispatcher of its area (test_enterprises.py)",
    "/api/v1/residents/{username}/home": "into the verifier's areas, of residents whose home "
    "is there or unverified (test_residents.py)",
    "/api/v1/briefings/{briefing_id}": "404 outside the caller's areas, 403 for handlers "
    "and residents (test_briefings.py tries each boundary)",
    "/api/v1/briefings/{briefing_id}/materials": "as the briefing, then dispatcher of its area",
    "/api/v1/briefings/{briefing_id}/invitations/{subject_id}": "as materials",
    "/api/v1/briefings/{briefing_id}/questions": "as materials",
    "/api/v1/briefings/{briefing_id}/questions/{n}/answer": "as materials",
    "/api/v1/briefings/{briefing_id}/questions/{n}/case": "as materials",
    "/api/v1/participation/facilitators/mine": "oneself: whether one is a facilitator",
    "/api/v1/participation/facilitators/{username}": "404 unless a facilitator of a community "
    "in the caller's areas, then dispatcher of it (test_briefings.py)",
}


@pytest.mark.parametrize(("user", "other"), [("cz_dispatch", "G0003"), ("xh_dispatch", "G0001")])
def test_every_endpoint_is_scoped_or_says_why(
    app: tuple[TestClient, Store, dict[str, str]], user: str, other: str
) -> None:
    """A new endpoint fails this until someone decides how it is scoped; each one that
    takes an area is asked for an area of the other community and refuses."""
    client, _, _ = app
    paths = set(client.app.openapi()["paths"])  # type: ignore[attr-defined]
    unclassified = paths - set(AREA_PARAM) - ONE_CASE - set(NOT_AREA_SCOPED)
    assert not unclassified, f"decide how these are scoped: {sorted(unclassified)}"
    assert not (set(AREA_PARAM) | ONE_CASE | set(NOT_AREA_SCOPED)) - paths  # no stale rows
    auth = bearer(client, user)
    for path, extra in AREA_PARAM.items():
        r = client.get(path, params={"area": other, **extra}, headers=auth)
        assert r.status_code == 404, (path, r.text)


def test_a_rate_limit_lets_exactly_its_number_through_at_once() -> None:
    """Checked and counted together: twenty requests arriving at the same moment get
    three passes from a limit of three, not twenty."""
    throttle = Throttle(3, timedelta(hours=1), clock=lambda: 0.0)
    waits: list[float] = []
    start = threading.Barrier(20)

    def one() -> None:
        start.wait()
        waits.append(throttle.take("ip:203.0.113.9"))

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(w == 0 for w in waits) == [False] * 17 + [True] * 3
    assert throttle.take("ip:198.51.100.1") == 0  # another address is not held up


def test_a_handler_acts_for_their_own_party_only(
    app: tuple[TestClient, Store, dict[str, str]],
) -> None:
    client, store, ids = app
    auth = bearer(client, "zhang")  # the grid worker P-GW1
    url = f"/api/v1/cases/{ids['cz']}"
    tag = client.get(url, headers=auth).headers["etag"]
    for action in ("progress", "accept"):
        r = client.post(
            f"{url}/actions",
            json={"action": action, "party": "P-PM1", "note": "以物业名义"},
            headers=auth | {"If-Match": tag},
        )
        assert r.status_code == 403, r.text
        assert r.json()["detail"].startswith("party")
    case = store.get_case(ids["cz"])
    assert case is not None
    assert "P-PM1" not in case.co_handlers
