"""Issue 14, findings 5 and 6, replayed as attacks on people's credentials.

5. Anyone could lock any account: five wrong passwords from anywhere paused the
   username for everyone, its owner included; staff usernames were public in a topic's
   record (``steps[].actor``).
6. Sessions and API tokens could not be revoked: a 365-day token survived logout and
   a password reset; nothing disabled a user or revoked their tokens.

Each test is named after its finding and fails on the code before the fix.

The district is tests/fixtures/world_small.yaml (小河社区 is ``330105001002``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cityeye import accounts
from cityeye.accounts import create_user
from cityeye.api import auth, district
from cityeye.api.app import create_app
from cityeye.api.auth import CSRF_COOKIE, SESSION_COOKIE
from cityeye.api.limits import SignInGuard
from cityeye.cli import app as cli
from cityeye.demo.users import demo_users
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
XIAOHE = "330105001002"
USERS: dict[str, dict[str, Any]] = {
    "xh_disp": {"role": "dispatcher", "areas": (XIAOHE,)},
    "zhang": {"role": "handler", "party_id": "P-GW1"},
    "li": {"role": "handler", "party_id": "P-PM1"},
    "root": {"role": "admin"},
}
OWNER, ATTACKER = ("203.0.113.5", 50000), ("198.51.100.7", 50000)
LOGIN = "/api/v1/auth/login"


class Env:
    def __init__(self, app: FastAPI, store: Store, url: str, pipeline: LivePipeline) -> None:
        self.app, self.store, self.url, self.pipeline = app, store, url, pipeline

    def client(self, address: tuple[str, int] = OWNER) -> TestClient:
        """A browser at ``address`` (its own cookie jar)."""
        return TestClient(self.app, client=address)

    def cli(self, *args: str, stdin: str | None = None) -> Any:
        return CliRunner().invoke(cli, [*args, "--db", self.url], input=stdin)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    store = Store.open(url)
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    pipeline = LivePipeline(store, lateness_s=0)
    app = create_app(store, pipeline, wall_clock=False)
    with TestClient(app):  # the app's start and stop, once
        yield Env(app, store, url, pipeline)
    store.close()


def login(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(LOGIN, json={"username": username, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed_in(env: Env, username: str, address: tuple[str, int] = OWNER) -> TestClient:
    """A browser where ``username`` signed in (session cookie, CSRF value, device)."""
    client = env.client(address)
    r = login(client, username)
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = client.cookies[CSRF_COOKIE]
    return client


def api_token(client: TestClient) -> str:
    r = client.post("/api/v1/auth/tokens", json={"days": 365})
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token


def me(client: TestClient, headers: dict[str, str] | None = None) -> int:
    return int(client.get("/api/v1/auth/me", headers=headers or {}).status_code)


# ---------------------------------------------------------------------- finding 5
def test_finding_05_attacker_elsewhere_does_not_lock_out_the_owner(env: Env) -> None:
    attacker = env.client(ATTACKER)
    answers = [login(attacker, "zhang", f"wrong guess {i}").status_code for i in range(10)]
    assert answers[:5] == [401] * 5
    assert set(answers[5:]) == {429}  # the attacker's address is held back
    owner = env.client(OWNER)
    assert login(owner, "zhang").status_code == 200  # the owner, elsewhere, is not


def test_finding_05_known_device_is_not_locked_out(env: Env) -> None:
    # the owner signed in once on this browser: it is now a known device
    owner = env.client(OWNER)
    assert login(owner, "zhang").status_code == 200
    assert auth.DEVICE_COOKIE in owner.cookies
    # someone behind the owner's own address (one NAT) guesses: that pair is held back
    nat = env.client(OWNER)
    for i in range(10):
        login(nat, "zhang", f"nat guess {i}")
    assert login(nat, "zhang").status_code == 429
    assert login(owner, "zhang").status_code == 200  # the known device is not
    # many addresses guess: the username's overall ceiling is reached
    for i in range(40):
        login(env.client((f"198.51.100.{i + 10}", 40000)), "zhang", f"guess {i}")
    fresh = env.client(("192.0.2.99", 40000))
    assert login(fresh, "zhang").status_code == 429  # a new device waits now
    assert login(owner, "zhang").status_code == 200  # the known device does not
    # the device cookie is a sign-in aid, never a credential
    device = owner.cookies[auth.DEVICE_COOKIE]
    assert me(env.client(ATTACKER), bearer(device)) == 401


def test_finding_05_the_attacker_is_slowed_more_and_more(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'slow.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    create_user(store, world, username="zhang", password=PASSWORD, role="handler", party_id="P-GW1")
    now = [0.0]
    app = create_app(store)
    app.state.services.sign_ins = SignInGuard(clock=lambda: now[0])
    attacker = TestClient(app, client=ATTACKER)
    waits = []
    for i in range(12):
        r = login(attacker, "zhang", f"guess {i}")
        if r.status_code == 429:  # wait as told, then try again
            wait = int(r.headers["retry-after"])
            waits.append(wait)
            now[0] += wait
            r = login(attacker, "zhang", f"guess {i}")
        assert r.status_code == 401
    assert len(waits) >= 6
    assert waits == sorted(waits)
    assert waits[-1] >= 8 * waits[0]
    # spraying many usernames from one address is held back too
    for i in range(40):
        login(attacker, f"user{i}", "guess")
    assert login(attacker, "someone", "guess").status_code == 429
    store.close()


def test_finding_05_public_topic_names_no_staff_username(env: Env) -> None:
    staff = signed_in(env, "xh_disp")
    body = {"title": "小河苑加装电梯", "description": "3 幢", "area": XIAOHE, "kind": "estate"}
    r = staff.post("/api/v1/participation/topics", json=body)
    assert r.status_code == 201, r.text
    topic = r.json()["id"]
    r = staff.post(f"/api/v1/participation/topics/{topic}/advance", json={"note": "征求意见"})
    assert r.status_code == 200, r.text
    public = env.client(ATTACKER).get(f"/api/v1/participation/topics/{topic}")
    assert public.status_code == 200
    assert "xh_disp" not in public.text
    actors = {s["actor"] for s in public.json()["steps"]}
    assert actors == {"社区工作人员 community staff"}
    # staff on the council page still see who did what
    mine = staff.get(f"/api/v1/participation/topics/{topic}").json()
    assert {s["actor"] for s in mine["steps"]} == {"xh_disp"}


# ---------------------------------------------------------------------- finding 6
def test_finding_06_token_survives_password_reset(env: Env) -> None:
    browser = signed_in(env, "zhang")
    token = api_token(browser)
    other = signed_in(env, "zhang", ATTACKER)  # a second session elsewhere
    session = browser.cookies[SESSION_COOKIE]
    # logout ends the session it was called with, not the others
    assert browser.post("/api/v1/auth/logout").status_code == 200
    assert me(env.client(), bearer(session)) == 401
    assert me(other) == 200
    assert me(env.client(), bearer(token)) == 200  # a personal token is for scripts
    # a password reset ends every session and token
    done = env.cli("user", "password", "zhang", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert me(env.client(), bearer(token)) == 401
    assert me(other) == 401
    assert login(env.client(), "zhang").status_code == 401
    assert login(env.client(), "zhang", NEW_PASSWORD).status_code == 200


def test_finding_06_token_survives_demo_password_reset(env: Env) -> None:
    world = env.store.load_world()
    assert world is not None
    browser = env.client()
    first = {u.username: p for u, p in demo_users(env.store, world)}  # made once
    r = login(browser, "admin", first["admin"])
    assert r.status_code == 200
    session = r.json()["token"]
    demo_users(env.store, world)  # `cityeye user demo` again: new passwords
    assert me(env.client(), bearer(session)) == 401


def test_finding_06_disabled_user_cannot_sign_in_and_open_sessions_end(env: Env) -> None:
    browser = signed_in(env, "zhang")
    token = api_token(browser)
    done = env.cli("user", "disable", "zhang")
    assert done.exit_code == 0, done.output
    assert me(browser) == 401  # the session already open
    assert me(env.client(), bearer(token)) == 401
    assert login(env.client(), "zhang").status_code == 401
    assert login(browser, "zhang").status_code == 401  # not even from its known device
    listed = env.cli("user", "list")
    assert "zhang" in listed.output
    done = env.cli("user", "enable", "zhang")
    assert done.exit_code == 0, done.output
    assert me(env.client(), bearer(token)) == 401  # what was revoked stays revoked
    assert login(env.client(), "zhang").status_code == 200
    assert env.cli("user", "disable", "nobody").exit_code == 2


def test_finding_06_revoke_ends_every_session_but_keeps_the_account(env: Env) -> None:
    browser = signed_in(env, "zhang")
    token = api_token(browser)
    bystander = signed_in(env, "li")
    done = env.cli("user", "revoke", "zhang")
    assert done.exit_code == 0, done.output
    assert me(browser) == 401
    assert me(env.client(), bearer(token)) == 401
    assert me(bystander) == 200  # another user is untouched
    assert login(env.client(), "zhang").status_code == 200  # the account remains


def test_finding_06_people_list_and_revoke_only_their_own_tokens(env: Env) -> None:
    zhang = signed_in(env, "zhang")
    token = api_token(zhang)
    token_id = token.split("_")[1]
    listed = zhang.get("/api/v1/auth/tokens")
    assert listed.status_code == 200
    rows = listed.json()
    assert {r["kind"] for r in rows} >= {"session", "api"}
    assert token_id in {r["id"] for r in rows}
    assert token not in listed.text
    assert "secret" not in listed.text
    assert sum(r["current"] for r in rows) == 1  # the session this request came with
    # another user sees none of them and cannot revoke them
    li = signed_in(env, "li")
    assert token_id not in li.get("/api/v1/auth/tokens").text
    assert li.get("/api/v1/auth/tokens", params={"user": "zhang"}).status_code == 403
    assert li.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 404
    assert me(env.client(), bearer(token)) == 200
    # the owner revokes their own
    assert zhang.delete(f"/api/v1/auth/tokens/{token_id}").status_code == 200
    assert me(env.client(), bearer(token)) == 401
    # an admin may list and revoke anyone's
    second = api_token(zhang)
    root = signed_in(env, "root")
    theirs = root.get("/api/v1/auth/tokens", params={"user": "zhang"})
    assert second.split("_")[1] in {r["id"] for r in theirs.json()}
    assert root.delete(f"/api/v1/auth/tokens/{second.split('_')[1]}").status_code == 200
    assert me(env.client(), bearer(second)) == 401
    # revoking needs the CSRF value with a session cookie, like every change
    del zhang.headers["X-CSRF-Token"]
    session_id = next(r["id"] for r in rows if r["current"])
    assert zhang.delete(f"/api/v1/auth/tokens/{session_id}").status_code == 403


def test_finding_06_open_alert_stream_ends_when_its_token_is_revoked(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(district, "RECHECK_S", 0.0)  # check at every poll
    root = signed_in(env, "root")
    token = api_token(root)
    report = {
        "id": "r1",
        "kind": "report.citizen",
        "ts": datetime(2026, 10, 1, 9, tzinfo=UTC).isoformat(),
        "source": "app",
        "area": "G0001",
        "attrs": {"category": "road", "text": "路面坑洼"},
    }
    revoke = threading.Timer(0.3, lambda: accounts.revoke_user(env.store, "root"))
    alert = threading.Timer(3.0, lambda: env.pipeline.ingest_raw([orjson.dumps(report)], "t"))
    revoke.start()
    alert.start()
    try:
        with env.client().stream(
            "GET", "/api/v1/alerts/stream", params={"limit": 1}, headers=bearer(token)
        ) as r:
            assert r.status_code == 200
            body = "".join(r.iter_text())
    finally:
        revoke.join()
        alert.join()
    assert "event: alert" not in body  # the stream ended when the token was revoked
    assert me(env.client(), bearer(token)) == 401
