"""`cityeye serve --db URL --host H --port P` — the server's stable interface, run as
other tools run it: a real process on a real port."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from typer.testing import CliRunner

from cityeye.cli import app
from serving import free_port, start_serve, wait_until_serving

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_serve_answers_with_the_loaded_district(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    loaded = CliRunner().invoke(
        app, ["world", "load", str(FIXTURES / "world_small.yaml"), "--db", url]
    )
    assert loaded.exit_code == 0, loaded.output
    port = free_port()
    proc = start_serve("--db", url, "--host", "127.0.0.1", "--port", str(port))
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
