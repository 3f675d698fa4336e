"""Pages in a real browser: playwright-core (tests/browser) driving Debian's Chromium,
against a real ``cityeye serve``. Without node, the npm packages or Chromium a laptop
run skips with what to install; under ``CI=true`` (``.ci/run`` installs them) it fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cityeye.cli import app as cli
from cityeye.store import Store
from serving import free_port, start_serve, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent.parent
BROWSER = ROOT / "tests" / "browser"
FIXTURES = ROOT / "tests" / "fixtures"
PASSWORD = "handler-pass-123"


def tools() -> tuple[str, str]:
    node, chromium = shutil.which("node"), shutil.which("chromium")
    missing = []
    if node is None:
        missing.append("node (apt-get install nodejs)")
    if chromium is None:
        missing.append("chromium (apt-get install chromium)")
    if not (BROWSER / "node_modules" / "playwright-core").is_dir():
        missing.append("playwright-core (npm ci --prefix tests/browser)")
    if missing:
        message = "browser test needs " + ", ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {message}; .ci/run installs them")
        pytest.skip(message)
    assert node is not None
    assert chromium is not None
    return node, chromium


def test_a_handler_signs_in_on_a_phone_and_accepts_a_case(tmp_path: Path) -> None:
    node, chromium = tools()
    db = f"sqlite:///{tmp_path / 'desk.db'}"
    runner = CliRunner()
    loaded = runner.invoke(cli, ["world", "load", str(FIXTURES / "world_small.yaml"), "--db", db])
    assert loaded.exit_code == 0, loaded.output
    added = runner.invoke(
        cli,
        [
            "user",
            "add",
            "zhang",
            "--role",
            "handler",
            "--party",
            "P-GW1",
            "--name",
            "张网格员",
            "--password-stdin",
            "--db",
            db,
        ],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_serve("--db", db, "--port", str(port), "--clock", "events", "--open-ingest")
    try:
        wait_until_serving(f"{base}/healthz", proc)
        events = [
            {
                "id": "r1",
                "kind": "report.citizen",
                "ts": "2026-11-23T08:00:00+08:00",
                "source": "app",
                "area": "G0001",
                "attrs": {"category": "road", "text": "路面坑洼"},
            },
            # a later event moves event time past the lateness hold
            {
                "id": "t1",
                "kind": "door.open",
                "ts": "2026-11-23T08:30:00+08:00",
                "source": "gw",
                "device_id": "D1",
            },
        ]
        r = httpx.post(f"{base}/api/v1/events", json=events, timeout=10)
        assert r.json()["accepted"] == 2
        shot = tmp_path / "desk.png"
        run = subprocess.run(
            [node, str(BROWSER / "desk.mjs")],
            env=os.environ
            | {
                "BASE": base,
                "USERNAME": "zhang",
                "PASSWORD": PASSWORD,
                "SHOT": str(shot),
                "CHROMIUM": chromium,
            },
            capture_output=True,
            text=True,
            timeout=120,
            cwd=BROWSER,
        )
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        proc.terminate()
        proc.wait(15)
    assert report["errors"] == []
    assert report["external"] == []  # nothing from another host: works offline
    assert report["cases"] == 1
    assert report["accepted"]
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("CITYEYE_SCREENSHOTS")  # `make screenshots` refreshes the README's
    if keep:
        shutil.copy(shot, Path(keep) / "desk.png")
    store = Store.open(db)
    [case] = store.load_cases()
    assert case.state.value == "accepted"
    assert case.timeline[-1].actor == "P-GW1"
    store.close()
