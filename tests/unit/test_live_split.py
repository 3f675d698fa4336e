"""``cityeye serve --analysis process``: the HTTP process stores and answers, a second
process analyses (issue 15, item 4). Real servers on free ports: an event's alert on
the SSE stream within a second, an SOS's case dispatched, desk actions answered as in
one process, and a SIGKILL of either process losing nothing and doubling nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from cityeye.cli import app as cli
from cityeye.store import Store
from serving import FIXTURES, free_port, start_cityeye, wait_until, wait_until_serving

PASSWORD = "correct horse battery"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def report(i: int, tag: str = "r") -> dict[str, Any]:
    """A resident's report: one alert and one case each (a stream whose right outcome
    is simply counted)."""
    return {
        "id": f"{tag}{i}",
        "kind": "report.citizen",
        "ts": now_iso(),
        "source": "app",
        "area": "G0001",
        "attrs": {"category": "road", "text": f"路面坑洼 {i}"},
    }


def prepared(tmp_path: Path, db: str | None = None) -> str:
    db = db or f"sqlite:///{tmp_path / 'split.db'}"
    runner = CliRunner()
    done = runner.invoke(cli, ["world", "load", str(FIXTURES / "world_small.yaml"), "--db", db])
    assert done.exit_code == 0, done.output
    added = runner.invoke(
        cli,
        ["user", "add", "root", "--role", "admin", "--password-stdin", "--db", db],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    return db


class Server:
    """``cityeye serve --analysis process`` on a free port, its output in a file."""

    def __init__(self, tmp_path: Path, db: str) -> None:
        self.db, self.port = db, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"serve-{self.port}.log"
        self.log_file: IO[bytes] = self.log_path.open("wb")
        self.proc = start_cityeye(
            "serve",
            "--db",
            db,
            "--port",
            str(self.port),
            "--open-ingest",
            "--analysis",
            "process",
            log=self.log_file,
        )
        wait_until_serving(f"{self.base}/healthz", self.proc)
        wait_until(lambda: self.status().get("last_seq") is not None, "the analysis process")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def status(self) -> dict[str, Any]:
        live: dict[str, Any] = httpx.get(f"{self.base}/api/v1/status", timeout=10).json()["live"]
        return live

    def post(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = b"[" + b",".join(orjson.dumps(e) for e in events) + b"]"
        r = httpx.post(
            f"{self.base}/api/v1/events",
            content=body,
            headers={"content-type": "application/json"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        results: list[dict[str, Any]] = r.json()["results"]
        return results

    def token(self) -> dict[str, str]:
        r = httpx.post(
            f"{self.base}/api/v1/auth/login",
            json={"username": "root", "password": PASSWORD},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)
        self.log_file.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """On SQLite and on PostgreSQL: the two processes share the database, and
    ``--analysis process`` is serve's default on both."""
    url = request.getfixturevalue("pg_fresh_url") if request.param == "postgresql" else None
    srv = Server(tmp_path, prepared(tmp_path, url))
    yield srv
    srv.stop()


def cases_of(db: str) -> list[Any]:
    store = Store.open(db)
    try:
        return store.load_cases()
    finally:
        store.close()


def test_an_alert_reaches_the_sse_stream_within_a_second(server: Server) -> None:
    """A dispatcher's stream lives in the HTTP process, the alert is decided in the
    other: it still arrives within a second of the batch's answer."""
    auth = server.token()
    seen: dict[str, float] = {}
    opened = threading.Event()

    def listen() -> None:
        with httpx.stream(
            "GET", f"{server.base}/api/v1/alerts/stream", headers=auth, timeout=30
        ) as r:
            opened.set()
            for line in r.iter_lines():
                if line.startswith("data:") and "elderly.sos" in line:
                    seen["at"] = time.monotonic()
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(10)
    sos = {"id": "sos-1", "kind": "button.sos", "ts": now_iso(), "source": "gw", "subject": "S1"}
    answered = time.monotonic()
    results = server.post([sos, report(1)])
    answered = time.monotonic()
    assert [r["status"] for r in results] == ["accepted", "accepted"]
    listener.join(5)
    assert "at" in seen, server.log()
    assert seen["at"] - answered < 1.0
    assert server.status()["analysis"] == "process"


def test_an_sos_case_is_dispatched_from_the_desk_as_in_one_process(server: Server) -> None:
    """200 with the moved case, 422 when the lifecycle refuses, 409 when it changed
    since: the HTTP process waits for the analysis process's word."""
    auth = server.token()
    sos = {"id": "sos-2", "kind": "button.sos", "ts": now_iso(), "source": "gw", "subject": "S1"}
    server.post([sos])
    wait_until(lambda: cases_of(server.db), "the SOS's case")
    (case,) = cases_of(server.db)
    assert case.key == "S1"
    url = f"{server.base}/api/v1/cases/{case.id}"
    tag = httpx.get(url, headers=auth, timeout=10).headers["etag"]
    refused = httpx.post(
        f"{url}/actions",
        json={"action": "handle"},
        headers=auth | {"If-Match": tag},
        timeout=10,
    )
    assert refused.status_code == 422, refused.text
    moved = httpx.post(
        f"{url}/actions",
        json={"action": "dispatch", "party": "P-GW1"},
        headers=auth | {"If-Match": tag},
        timeout=10,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["lead"]["id"] == "P-GW1"
    assert moved.json()["state"] == "dispatched"
    assert moved.headers["etag"] != tag
    stale = httpx.post(
        f"{url}/actions",
        json={"action": "dispatch", "party": "P-CG"},
        headers=auth | {"If-Match": tag},
        timeout=10,
    )
    assert stale.status_code == 409
    (stored,) = cases_of(server.db)
    assert stored.lead == "P-GW1"


def post_stream(server: Server, batches: int, size: int, sent: list[int], first: int = 0) -> None:
    """``batches`` batches of ``size`` reports, numbered from batch ``first``."""
    for b in range(first, first + batches):
        server.post([report(b * size + i) for i in range(size)])
        sent.append(b)


def check_consistent(db: str) -> None:
    done = CliRunner().invoke(cli, ["check", "--db", db])
    assert done.exit_code == 0, done.output


def exactly_once(db: str, n: int) -> None:
    """Every report made one case, none twice, and a rebuild agrees."""
    found = cases_of(db)
    assert len(found) == n
    assert len({c.key for c in found}) == n
    check_consistent(db)


def test_sigkill_of_the_analysis_process_loses_and_doubles_nothing(server: Server) -> None:
    batches, size = 30, 20
    sent: list[int] = []
    sender = threading.Thread(target=post_stream, args=(server, batches, size, sent))
    sender.start()
    wait_until(lambda: len(sent) >= 5, "a few batches stored")
    pid = server.status()["analysis_pid"]
    os.kill(pid, signal.SIGKILL)
    sender.join(60)
    assert len(sent) == batches
    wait_until(
        lambda: server.status()["analysis_pid"] not in (pid, None), "the analysis process restarted"
    )
    assert server.status()["analysis_restarts"] == 1
    wait_until(
        lambda: len(cases_of(server.db)) == batches * size, "every report's case", deadline_s=30
    )
    server.stop()
    assert "starting it again" in server.log()
    exactly_once(server.db, batches * size)


def test_sigkill_of_the_whole_server_loses_and_doubles_nothing(tmp_path: Path) -> None:
    db = prepared(tmp_path)
    first = Server(tmp_path, db)
    batches, size = 20, 20
    sent: list[int] = []
    try:
        post_stream(first, batches // 2, size, sent)
        child = first.status()["analysis_pid"]
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait(10)
        # the analysis process sees its stdin close and ends at once
        wait_until(lambda: not alive(child), "the orphaned analysis process ends")
    finally:
        first.stop()
    second = Server(tmp_path, db)
    try:
        post_stream(second, batches // 2, size, sent, first=batches // 2)
        wait_until(
            lambda: len(cases_of(db)) == batches * size, "every report's case", deadline_s=30
        )
    finally:
        second.stop()
    exactly_once(db, batches * size)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of a killed parent is reaped by init; /proc says what it is now
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False


def test_the_option_is_checked(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    runner = CliRunner()
    wrong = runner.invoke(cli, ["serve", "--db", db, "--analysis", "elsewhere"])
    assert wrong.exit_code == 2
    assert "thread or process" in wrong.output
    with_bus = ["serve", "--db", db, "--analysis", "process", "--bus", "nats://127.0.0.1:1"]
    both = runner.invoke(cli, with_bus)
    assert both.exit_code == 2
    assert "not with --bus" in both.output
