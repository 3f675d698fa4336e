"""Issue 14's web findings, replayed as attacks: each test is named after its finding
and failed on the code before its fix (docs/security.md, "Web / 网页与接口").

The district is tests/fixtures/world_small.yaml. Tests that need a real server start
``cityeye serve`` on a free port (tests/serving.py) and wait on deadlines, never on a
fixed sleep."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityeye.api.app import create_app
from cityeye.api.auth import create_user
from cityeye.api.hardening import DEFAULT_BODY_LIMIT
from cityeye.pipeline import LivePipeline
from cityeye.store import DeadLetter, Store
from cityeye.world import load_world
from serving import wait_until

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
IN_G0003 = {"lat": 30.315, "lon": 120.11}
MiB = 1024 * 1024


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[FastAPI, Store]]:
    """The whole app on a small district, with a dispatcher, a handler and a resident."""
    store = Store.open(f"sqlite:///{tmp_path / 'web.db'}")
    world = load_world(FIXTURES / "world_small.yaml")
    store.save_world(world)
    create_user(
        store, world, username="disp", password=PASSWORD, role="dispatcher", areas=("330105001002",)
    )
    create_user(store, world, username="zhang", password=PASSWORD, role="handler", party_id="P-PM1")
    pipeline = LivePipeline(store, lateness_s=0)
    app = create_app(store, pipeline, wall_clock=False, files=tmp_path / "files")
    yield app, store
    store.close()


# -- finding 3: no body limit on anonymous JSON endpoints ----------------------------


def call(
    app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: Iterator[bytes]
) -> tuple[int, dict[str, Any], int]:
    """One request straight into the ASGI app, its body from ``chunks`` as they are
    asked for; returns the status, the JSON answer and how many body bytes the app
    asked for (what a server would have had to read)."""
    taken = 0
    answer: dict[str, Any] = {"status": None, "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal taken
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("203.0.113.9", 40000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return int(answer["status"]), json.loads(answer["body"] or b"{}"), taken


#: The anonymous JSON endpoints a 200 MB body was read whole by.
ANONYMOUS = ("/api/v1/portal/reports", "/api/v1/participation/suggestions", "/api/v1/auth/login")


def endless(size: int = 64 * 1024, total: int = 16 * MiB) -> Iterator[bytes]:
    """A body far over the limit ({"text": "xxxx…), ``total`` bytes in ``size`` chunks
    (bounded, so that code without a limit reads it all and fails, not hangs)."""
    yield b'{"category": "road", "text": "'
    for _ in range(total // size):
        yield b"x" * size


def test_finding_03_declared_oversize_body_is_refused_before_reading(
    live: tuple[FastAPI, Store],
) -> None:
    app, _ = live
    for path in ANONYMOUS:
        declared = {"content-type": "application/json", "content-length": str(200 * MiB)}
        # the client says 200 MB (and would send 4 MB before anyone stopped it)
        body = iter([b"x" * (64 * 1024)] * 64)
        status, answer, taken = call(app, "POST", path, declared, body)
        assert status == 413, (path, answer)
        assert answer["limit"] == DEFAULT_BODY_LIMIT
        assert str(DEFAULT_BODY_LIMIT) in answer["detail"]
        assert taken == 0, f"{path}: read {taken} bytes of a body it refuses"


def test_finding_03_chunked_oversize_body_is_cut_off_at_the_limit(
    live: tuple[FastAPI, Store],
) -> None:
    app, _ = live
    for path in ANONYMOUS:
        # no Content-Length: counted as it comes
        status, answer, taken = call(
            app, "POST", path, {"content-type": "application/json"}, endless()
        )
        assert status == 413, (path, answer)
        assert answer["limit"] == DEFAULT_BODY_LIMIT
        assert taken <= DEFAULT_BODY_LIMIT + 64 * 1024, f"{path}: read {taken} bytes"


def test_finding_03_the_ingest_and_photo_paths_keep_their_own_limits(
    live: tuple[FastAPI, Store],
) -> None:
    """Larger paths keep theirs: 16 MiB of events, 10 MiB for a photo; over it, 413."""
    app, _ = live
    with TestClient(app) as client:
        # 2 MiB of NDJSON events is over the default but fine for the ingest path
        line = b'{"id": "x", "kind": "door.open", "ts": "bad", "source": "gw"}\n'
        r = client.post(
            "/api/v1/events",
            content=line * (2 * MiB // len(line)),
            headers={"content-type": "application/x-ndjson"},
        )
        assert r.status_code in (200, 401, 413), r.text
        assert r.status_code != 413, "the 16 MiB ingest limit was taken for the default"
        declared = {"content-type": "image/jpeg", "content-length": str(11 * MiB)}
        status, answer, taken = call(app, "POST", "/api/v1/portal/photos", declared, iter([]))
        assert (status, taken) == (413, 0)
        assert answer["limit"] == 10 * MiB


# -- finding 4: the public status page loads every dead letter -----------------------


def test_finding_04_status_counts_dead_letters_without_loading_them(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    sqlite_store.add_dead_letters(
        DeadLetter(now, "http", None, "kind", "unknown", "x" * 100, b"x" * 10_000)
        for _ in range(300)
    )

    def loads_them(*_args: Any, **_kwargs: Any) -> list[DeadLetter]:
        raise AssertionError("the status page loaded the dead letters themselves")

    monkeypatch.setattr(sqlite_store, "dead_letters", loads_them)
    client = TestClient(create_app(sqlite_store))
    assert client.get("/api/v1/status").json()["totals"]["dead_letters"] == 300
    assert client.get("/").status_code == 200


def test_finding_04_parallel_status_requests_compute_it_once(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight anonymous requests at once cost one computation, not eight."""
    counted = 0
    real = sqlite_store.event_counts_by_kind
    gate = threading.Event()

    def slow_count() -> dict[str, int]:
        nonlocal counted
        counted += 1
        gate.wait(5)  # hold the first computation until every request has arrived
        return real()

    monkeypatch.setattr(sqlite_store, "event_counts_by_kind", slow_count)
    client = TestClient(create_app(sqlite_store))
    answers: list[int] = []

    def ask() -> None:
        answers.append(client.get("/api/v1/status").status_code)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    wait_until(lambda: counted >= 1, "the first status computation")
    gate.set()
    for t in threads:
        t.join(10)
    assert answers == [200] * 8
    assert counted == 1


# -- finding 7: security headers on every response ----------------------------------

HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def test_finding_07_security_headers_on_every_response(live: tuple[FastAPI, Store]) -> None:
    app, _ = live
    with TestClient(app) as client:
        answers = [
            client.get("/"),
            client.get("/login"),
            client.get("/docs"),
            client.get("/cockpit"),
            client.get("/api/v1/status"),
            client.get("/static/base.css"),
            client.get("/api/v1/cases"),  # 401
            client.get("/no/such/page"),  # 404
            client.post("/api/v1/portal/reports", json={}),  # 422
        ]
        for r in answers:
            for name, value in HEADERS.items():
                assert r.headers.get(name) == value, (r.url, name, r.headers)
            csp = r.headers["content-security-policy"]
            directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
            assert directives["script-src"] == "'self'", csp
            assert "unsafe" not in directives["script-src"]
            assert directives["frame-ancestors"] == "'none'"
            assert directives["object-src"] == "'none'"
            assert "strict-transport-security" not in r.headers  # plain HTTP
        # over TLS (or from a trusted proxy saying so): HSTS too
        tls = TestClient(app, base_url="https://testserver")
        assert "max-age=" in tls.get("/healthz").headers["strict-transport-security"]


def test_finding_07_no_page_has_inline_script_or_event_handler(
    live: tuple[FastAPI, Store],
) -> None:
    """What the CSP forbids is also not in any page: every script is a file."""
    import re

    app, _ = live
    with TestClient(app) as client:
        for path in ("/", "/login", "/docs", "/desk", "/cockpit", "/portal", "/council"):
            page = client.get(path).text
            for tag in re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S | re.I):
                assert not tag.strip(), f"{path}: inline script {tag[:80]!r}"
            assert not re.search(r"<[^>]+\son[a-z]+\s*=", page, re.I), path
            assert "javascript:" not in page.lower(), path
