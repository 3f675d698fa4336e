"""Issue 14's web findings, replayed as attacks: each test is named after its finding
and failed on the code before its fix (docs/security.md, "Web / 网页与接口").

The district is tests/fixtures/world_small.yaml. Tests that need a real server start
``cityeye serve`` on a free port (tests/serving.py) and wait on deadlines, never on a
fixed sleep."""

from __future__ import annotations

import asyncio
import io
import json
import signal
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.api.hardening import DEFAULT_BODY_LIMIT
from cityeye.api.limits import REPORTS_PER_HOUR
from cityeye.cli import app as cli
from cityeye.domain import Event
from cityeye.live.pipeline import LivePipeline
from cityeye.store import DeadLetter, Store
from cityeye.world import load_world
from serving import free_port, run_in_browser, start_cityeye, wait_until, wait_until_serving

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


# -- a real `cityeye serve`: addresses, the access log, slow clients ------------------


def prepared_db(tmp_path: Path, **users: str) -> str:
    """A SQLite database with the small district and ``users`` (name → role)."""
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    runner = CliRunner()
    loaded = runner.invoke(cli, ["world", "load", str(FIXTURES / "world_small.yaml"), "--db", db])
    assert loaded.exit_code == 0, loaded.output
    for name, role in users.items():
        added = runner.invoke(
            cli,
            ["user", "add", name, "--role", role, "--password-stdin", "--db", db],
            input=PASSWORD + "\n",
        )
        assert added.exit_code == 0, added.output
    return db


class Served:
    """A running ``cityeye serve`` whose output goes to a file the tests read."""

    def __init__(self, tmp_path: Path, *options: str) -> None:
        self.db = prepared_db(tmp_path, root="admin")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "serve.log"
        self.log_file = self.log_path.open("wb")
        self.proc = start_cityeye(
            "serve", "--db", self.db, "--port", str(self.port), *options, log=self.log_file
        )
        wait_until_serving(f"{self.base}/healthz", self.proc)

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log_file.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the tests that only talk to it (short slow-client deadlines)."""
    server = Served(
        tmp_path_factory.mktemp("served"), "--timeout-headers", "1", "--timeout-body", "1"
    )
    yield server
    server.stop()


def test_finding_07_forwarded_for_from_loopback_is_not_believed_by_default(
    served: Served,
) -> None:
    """A local client (or a proxy passing the header on) names a new address for each
    report: by default the server counts the address the connection comes from, so
    the portal's limit of 10 reports an hour holds."""
    answers = []
    with httpx.Client(base_url=served.base, timeout=10) as http:
        for i in range(REPORTS_PER_HOUR + 1):
            r = http.post(
                "/api/v1/portal/reports",
                json={"category": "road", "text": f"井盖松动 {i}", **IN_G0003},
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
            )
            answers.append(r.status_code)
    assert answers[:REPORTS_PER_HOUR] == [201] * REPORTS_PER_HOUR, answers
    assert answers[-1] == 429, answers
    wait_until(lambda: "/api/v1/portal/reports" in served.log(), "the access log lines")
    assert "198.51.100." not in served.log()  # the log names the real peer, too


def test_finding_07_api_key_in_the_query_is_not_in_the_access_log(served: Served) -> None:
    secret = "ce_leaky_0123456789abcdef"
    with httpx.Client(base_url=served.base, timeout=10) as http:
        http.get("/open311/v2/services.json", params={"api_key": secret, "jurisdiction_id": "x"})
        http.get("/api/v1/status", params={"access_token": secret, "page": "2"})
    wait_until(lambda: "/api/v1/status?" in served.log(), "the access log lines")
    log = served.log()
    assert secret not in log
    assert "api_key=***" in log
    assert "access_token=***&page=2" in log  # what is not a secret stays readable
    assert "jurisdiction_id=x" in log


def test_a_survey_link_is_not_in_the_access_log(served: Served) -> None:
    """社会评价: a one-time link's token is its path; the log keeps the path, not it."""
    secret = "sv_0123456789abcdef_S3cret-of-one-link"
    with httpx.Client(base_url=served.base, timeout=10) as http:
        assert http.get(f"/survey/{secret}").status_code == 200
    wait_until(lambda: "/survey/***" in served.log(), "the access log line")
    assert "S3cret-of-one-link" not in served.log()


def closed_within(sock: socket.socket, seconds: float, drip: bytes | None) -> float:
    """Seconds until the server closes ``sock`` (sending ``drip`` every 0.2 s until it
    does, as a slowloris client would); fails if it is still open after ``seconds``."""
    sock.settimeout(0.2)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        try:
            data = sock.recv(4096)
        except TimeoutError:
            if drip is not None:
                try:
                    sock.sendall(drip)
                except OSError:
                    return time.monotonic() - start
            continue
        except OSError:
            return time.monotonic() - start
        if not data or b"408" in data:
            return time.monotonic() - start
    raise AssertionError(f"the server kept a slow connection open for {seconds} s")


def test_finding_07_slow_request_heads_are_timed_out(served: Served) -> None:
    """A client that opens a connection and says nothing, or sends its headers a line
    at a time forever (slowloris), is cut off after --timeout-headers (1 s here)."""
    with socket.create_connection(("127.0.0.1", served.port)) as idle:
        assert closed_within(idle, 10, drip=None) < 5
    with socket.create_connection(("127.0.0.1", served.port)) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        assert closed_within(slow, 10, drip=b"X-Drip: 1\r\n") < 5


def test_finding_07_slow_request_bodies_are_timed_out(served: Served) -> None:
    """Headers on time, then a body a byte at a time: cut off after --timeout-body."""
    with socket.create_connection(("127.0.0.1", served.port)) as slow:
        slow.sendall(
            b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        assert closed_within(slow, 10, drip=b" ") < 5
    # a client on time is served as before
    assert httpx.get(f"{served.base}/healthz", timeout=5).status_code == 200


# -- finding 11: a clean stop hangs while any SSE client is connected ----------------


def test_finding_11_clean_stop_with_a_live_alert_stream_open(tmp_path: Path) -> None:
    server = Served(tmp_path)
    try:
        with httpx.Client(base_url=server.base, timeout=10) as http:
            login = http.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
            bearer = {"Authorization": f"Bearer {login.json()['token']}"}
            with http.stream("GET", "/api/v1/alerts/stream", headers=bearer) as stream:
                lines = stream.iter_lines()
                assert next(lines).startswith("retry:")  # the cockpit is connected
                asked = datetime.now(UTC)
                server.proc.send_signal(signal.SIGTERM)
                start = time.monotonic()
                try:
                    server.proc.wait(15)
                except subprocess.TimeoutExpired:
                    raise AssertionError("serve still running 15 s after SIGTERM") from None
                took = time.monotonic() - start
        assert server.proc.returncode == 0, server.log()  # a stop asked for is a clean one
        assert took < 8, f"stopping took {took:.1f} s"
        assert "engine snapshot saved" in server.log()
        engine = create_engine(server.db)
        with engine.connect() as conn:
            taken = conn.execute(
                text("SELECT taken_at FROM engine_state WHERE name = 'live'")
            ).scalar_one()
        engine.dispose()
        taken_at = datetime.fromisoformat(str(taken))
        if taken_at.tzinfo is None:
            taken_at = taken_at.replace(tzinfo=UTC)
        assert taken_at >= asked.replace(microsecond=0), "the final snapshot was not saved"
    finally:
        server.stop()


# -- finding 7: control characters in XML output -----------------------------------


def test_finding_07_control_characters_in_a_note_keep_open311_xml_well_formed(
    tmp_path: Path,
) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'o311.db'}")
    try:
        store.save_world(load_world(FIXTURES / "world_small.yaml"))
        pipeline = LivePipeline(store, lateness_s=0)
        client = TestClient(create_app(store, pipeline, wall_clock=False, open_ingest=True))
        form = {"service_code": "garbage", "description": "垃圾桶满了", "lat": "30.305"}
        r = client.post("/open311/v2/requests.json", data=form | {"long": "120.105"})
        assert r.status_code == 200, r.text
        request_id = r.json()[0]["service_request_id"]
        note = "误报\u000b\u0001已核实\u0000"
        pipeline.ingest(
            [
                Event(
                    id="act-dismiss",
                    kind="case.action",
                    ts=datetime.now(UTC) + timedelta(seconds=5),
                    source="app",
                    attrs={
                        "scenario": "citizen.report",
                        "key": f"open311/{request_id}",
                        "action": "dismiss",
                        "role": "dispatcher",
                        "note": note,
                    },
                )
            ]
        )
        pipeline.tick(datetime.now(UTC) + timedelta(seconds=10))
        for path in ("/open311/v2/requests.xml", f"/open311/v2/requests/{request_id}.xml"):
            page = client.get(path)
            assert page.status_code == 200
            top = ET.fromstring(page.content)  # a real XML parser: well-formed or it raises
            [row] = [{c.tag: c.text for c in request} for request in top]
            assert row["status_notes"] == "误报已核实"
    finally:
        store.close()


# -- finding 7: JPEG comments survive image cleaning ----------------------------------


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """The (marker, payload) of each segment before the image data (SOS)."""
    assert data[:2] == b"\xff\xd8"
    segments, at = [], 2
    while at < len(data):
        assert data[at] == 0xFF, f"not a marker at {at}"
        marker = data[at + 1]
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        segments.append((marker, data[at + 4 : at + 2 + length]))
        if marker == 0xDA:  # start of scan: the picture itself follows
            break
        at += 2 + length
    return segments


def test_finding_07_jpeg_comments_do_not_survive_photo_cleaning(
    live: tuple[FastAPI, Store], tmp_path: Path
) -> None:
    picture = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker SN-12345"  # Make
    Image.new("RGB", (32, 32), (90, 140, 200)).save(
        picture,
        format="JPEG",
        comment=b"home: 3-2-501, call 13800000000",
        exif=exif.tobytes(),
        icc_profile=b"\0" * 128,
        dpi=(300, 300),
    )
    sent = picture.getvalue()
    assert b"13800000000" in sent
    app, _ = live
    with TestClient(app) as client:
        r = client.post(
            "/api/v1/portal/photos", content=sent, headers={"content-type": "image/jpeg"}
        )
        assert r.status_code == 201, r.text
        ref = r.json()["ref"]
    kept = (tmp_path / "files").rglob(ref)
    [stored] = list(kept)
    data = stored.read_bytes()
    assert b"13800000000" not in data
    assert b"SN-12345" not in data
    segments = jpeg_segments(data)
    assert 0xFE not in [m for m, _ in segments], "a COM segment survived"
    apps = [(m, p) for m, p in segments if 0xE0 <= m <= 0xEF]
    # only the JFIF header the encoder writes itself, with no density taken from the input
    assert [m for m, _ in apps] == [0xE0]
    assert apps[0][1].startswith(b"JFIF\0")
    with Image.open(io.BytesIO(data)) as again:
        assert again.info.get("dpi") in (None, (1, 1))
        assert again.getpixel((16, 16)) != (0, 0, 0)  # still the picture


# -- finding 7: the form-field CSRF path answered 500 ---------------------------------


def test_finding_07_form_field_csrf_is_a_clean_answer(live: tuple[FastAPI, Store]) -> None:
    """A form-encoded POST carrying ``csrf_token`` (a plain HTML form) is checked like
    the header: 403 when wrong, accepted when right — never a 500."""
    app, _ = live
    with TestClient(app, raise_server_exceptions=False) as client:
        login = client.post("/api/v1/auth/login", json={"username": "disp", "password": PASSWORD})
        assert login.status_code == 200, login.text
        csrf = client.cookies["cityeye_csrf"]
        form = {"content-type": "application/x-www-form-urlencoded"}
        wrong = client.post("/api/v1/auth/logout", content="csrf_token=nope", headers=form)
        assert wrong.status_code == 403, wrong.text
        assert "CSRF" in wrong.json()["detail"]
        missing = client.post("/api/v1/auth/logout", content="other=1", headers=form)
        assert missing.status_code == 403, missing.text
        garbled = client.post("/api/v1/auth/logout", content=b"csrf_token=\xff\xfe", headers=form)
        assert garbled.status_code == 403, garbled.text
        right = client.post("/api/v1/auth/logout", content=f"csrf_token={csrf}", headers=form)
        assert right.status_code == 200, right.text
        assert right.json()["signed_out"] == "disp"


# -- in a real browser: the open redirect, the CSP, the desk's offline queue ----------

#: ``next`` values (as they appear in the link) that must not leave the site.
HOSTILE_NEXT = [
    "/%09/127.0.0.1:8132/pwned",
    "/%0A/127.0.0.1:8132/pwned",
    "/%0D/127.0.0.1:8132/pwned",
    "/%09%0A/127.0.0.1:8132/pwned",
    "//127.0.0.1:8132/pwned",
    "/%5C127.0.0.1:8132/pwned",
    "/.//127.0.0.1:8132/pwned",
    "javascript:alert(1)",
    "http://127.0.0.1:8132/pwned",
]


def test_finding_02_open_redirect_after_sign_in_with_tab_newline_or_cr(tmp_path: Path) -> None:
    report, _ = run_in_browser(
        tmp_path,
        "attack.mjs",
        users={"root": ("--role", "admin")},
        password=PASSWORD,
        env={"USERNAME": "root", "NEXTS": json.dumps([*HOSTILE_NEXT, "/council%3Fx%3D1"])},
    )
    landed = report["landed"]
    navigations = report["navigations"]
    assert isinstance(landed, dict)
    assert isinstance(navigations, dict)
    for next_ in HOSTILE_NEXT:
        for url in navigations[next_]:
            assert url.startswith(f"{report['base']}/"), f"next={next_} went to {url}"
        assert landed[next_].endswith("/cockpit"), (next_, landed[next_])  # the admin's home
    assert landed["/council%3Fx%3D1"].endswith("/council?x=1")  # a page of the site: kept
    # the pages no other browser test opens keep to the CSP
    assert report["pages"] == {"/": 0, "/docs": 0, "/login": 0, "/portal": 0}
    assert report["errors"] == []


def test_finding_07_desk_offline_queue_is_sent_only_by_its_owner(tmp_path: Path) -> None:
    """A note a dispatcher queued offline is not sent when an admin signs in on the same
    browser (it waits, and the desk says whose it is); it goes once the dispatcher is
    back, as theirs."""

    def a_case(base: str) -> None:
        events = [
            {
                "id": "r1",
                "kind": "report.citizen",
                "ts": "2026-11-23T08:00:00+08:00",
                "source": "app",
                "area": "G0001",
                "attrs": {"category": "road", "text": "路面坑洼"},
            },
            {  # moves event time past the lateness hold
                "id": "t1",
                "kind": "door.open",
                "ts": "2026-11-23T08:30:00+08:00",
                "source": "gw",
                "device_id": "D1",
            },
        ]
        r = httpx.post(f"{base}/api/v1/events", json=events, timeout=10)
        assert r.json()["accepted"] == 2, r.text

    note = "离线记录：已电话联系业主"
    report, db = run_in_browser(
        tmp_path,
        "desk_queue.mjs",
        users={
            "disp": ("--role", "dispatcher", "--area", "330105001"),
            "root": ("--role", "admin"),
        },
        password=PASSWORD,
        serve=("--clock", "events", "--open-ingest"),
        before=a_case,
        env={"NOTE": note},
    )
    assert report["errors"] == []
    assert report["queued"] == "1"
    assert report["after_admin"] == [], "the dispatcher's note was sent as the admin"
    assert "disp" in str(report["others"])  # the admin is told whose move is waiting
    owner = report["after_owner"]
    assert isinstance(owner, list)
    assert len(owner) == 1
    store = Store.open(db)
    try:
        [case] = store.load_cases()
        [line] = [e for e in case.timeline if e.note == note]
        assert line.action == "progress"
        assert "root" not in str(line.actor)
    finally:
        store.close()
