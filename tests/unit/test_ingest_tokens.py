"""Ingest tokens: no event is taken without one, a device's token speaks for that device
only, a revoked token stops at once, and the database never holds a secret."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from cityeye.api.app import create_app
from cityeye.api.tokens import TokenError, issue, verify
from cityeye.cli import app
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world
from kit import T0

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def smoke(i: int, device: str) -> dict[str, object]:
    return {
        "id": f"tok-{i}",
        "kind": "smoke.alarm",
        "ts": T0.isoformat(),
        "source": "gw",
        "device_id": device,
        "attrs": {},
    }


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(f"sqlite:///{tmp_path / 'tok.db'}")
    s.save_world(load_world(FIXTURES / "world_small.yaml"))
    return s


def client_for(store: Store) -> TestClient:
    return TestClient(create_app(store, LivePipeline(store)))


def test_no_token_no_events(store: Store) -> None:
    client = client_for(store)
    r = client.post("/api/v1/events", content=orjson.dumps(smoke(1, "D2")))
    assert r.status_code == 401
    assert "Bearer" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"
    for bad in ("Bearer nonsense", "Basic abc", "Bearer ce_", "Bearer ce_abc_wrong"):
        r = client.post(
            "/api/v1/events",
            content=orjson.dumps(smoke(1, "D2")),
            headers={"authorization": bad},
        )
        assert r.status_code == 401, bad
    assert store.event_count() == 0


def test_a_device_token_sends_only_for_its_device(store: Store) -> None:
    issued = issue(store, label="3号楼烟感", device_id="D2")
    client = client_for(store)
    r = client.post(
        "/api/v1/events",
        content=orjson.dumps([smoke(1, "D2"), smoke(2, "D1")]),
        headers={"authorization": f"Bearer {issued.secret}"},
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 1)
    refused = body["results"][1]
    assert refused["field"] == "device_id"
    assert "D2 only" in refused["reason"]
    assert store.event_count() == 1
    [letter] = store.dead_letters()
    assert letter.field == "device_id"
    assert orjson.loads(letter.payload or b"") == smoke(2, "D1")  # the exact bytes kept


def test_a_revoked_token_stops_at_once_and_last_use_is_kept(store: Store) -> None:
    issued = issue(store, label="gateway")
    client = client_for(store)
    auth = {"authorization": f"Bearer {issued.secret}"}
    assert (
        client.post("/api/v1/events", content=orjson.dumps(smoke(1, "D2")), headers=auth).json()[
            "accepted"
        ]
        == 1
    )
    [tok] = store.api_tokens()
    assert tok.last_used_at is not None
    assert store.revoke_api_token(tok.id, datetime.now(UTC))
    r = client.post("/api/v1/events", content=orjson.dumps(smoke(2, "D2")), headers=auth)
    assert r.status_code == 401
    assert "revoked" in r.json()["detail"]
    with pytest.raises(TokenError):
        verify(store, f"Bearer {issued.secret}")


def test_secrets_are_never_stored(store: Store) -> None:
    issued = issue(store, label="Open311 app", source="open311")
    secret = issued.secret.split("_", 2)[2]  # ce_<id>_<secret>; the secret may hold "_"
    with store.engine.connect() as conn:
        dump = "\n".join(str(tuple(r)) for r in conn.execute(text("SELECT * FROM api_tokens")))
    assert issued.token.id in dump
    assert secret not in dump
    # a source-bound token refuses other sources, naming the field
    client = client_for(store)
    r = client.post(
        "/api/v1/events",
        content=orjson.dumps(smoke(1, "D2")),
        headers={"authorization": f"Bearer {issued.secret}"},
    )
    assert r.json()["results"][0]["field"] == "source"


def test_token_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["world", "load", str(FIXTURES / "world_small.yaml"), "--db", url]
        ).exit_code
        == 0
    )
    unknown = runner.invoke(app, ["token", "add", "--label", "x", "--device", "NOPE", "--db", url])
    assert unknown.exit_code == 2
    made = runner.invoke(app, ["token", "add", "--label", "烟感 D2", "--device", "D2", "--db", url])
    assert made.exit_code == 0, made.output
    secret = next(line for line in made.stdout.splitlines() if line.startswith("ce_"))
    store = Store.open(url)
    token = verify(store, f"Bearer {secret}")
    assert token.device_id == "D2"
    listed = runner.invoke(app, ["token", "list", "--db", url])
    assert token.id in listed.stdout
    assert secret not in listed.stdout
    assert runner.invoke(app, ["token", "revoke", token.id, "--db", url]).exit_code == 0
    assert runner.invoke(app, ["token", "revoke", token.id, "--db", url]).exit_code == 1
