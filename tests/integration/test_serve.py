"""`cityeye serve --db URL --host H --port P` — the server's stable interface, run as
other tools run it: a real process on a real port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from cityeye.cli import app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_serving(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 30) -> None:
    """Readiness check: poll until the server answers, the process dies, or time is up."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"server did not answer on {url} within {deadline_s}s")


def test_serve_answers_with_the_loaded_district(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    loaded = CliRunner().invoke(
        app, ["world", "load", str(FIXTURES / "world_small.yaml"), "--db", url]
    )
    assert loaded.exit_code == 0, loaded.output
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cityeye",
            "serve",
            "--db",
            url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(f"{base}/healthz", proc)
        page = httpx.get(f"{base}/", timeout=5)
        assert page.status_code == 200
        assert "拱墅区" in page.text
        assert "小河街道" in page.text
        status = httpx.get(f"{base}/api/v1/status", timeout=5).json()
        assert status["totals"]["grids"] == 3
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
