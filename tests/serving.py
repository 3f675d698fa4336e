"""`cityeye serve` as other tools run it: a real process on a free port, and a readiness
check that polls until it answers (never a fixed sleep)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_cityeye(*args: str, log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """``python -m cityeye ARGS`` (serve, worker), output captured for the failure
    message (into ``log`` for a long run, where an unread pipe would fill and stall)."""
    return subprocess.Popen(
        [sys.executable, "-m", "cityeye", *args],
        stdout=log if log is not None else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )


def start_serve(*args: str) -> subprocess.Popen[bytes]:
    """``cityeye serve ARGS`` without the routine (日提醒、周通报、月考核), whose notices
    and published results would depend on the hour a test runs; a test of the routine
    passes ``--routine`` (the last of the two flags counts)."""
    return start_cityeye("serve", "--no-routine", *args)


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


def wait_until(condition: Callable[[], object], what: str, deadline_s: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {deadline_s}s: {what}")


#: The browser tests' node project (playwright-core) and the repository's fixtures.
BROWSER = Path(__file__).resolve().parent / "browser"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def browser_tools() -> tuple[str, str]:
    """node and Chromium for the browser tests (tests/browser, playwright-core). A
    laptop without them skips with what to install; under ``CI=true`` (``.ci/run``
    installs them) the test fails instead."""
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


def run_in_browser(
    tmp_path: Path,
    script: str,
    *,
    users: dict[str, tuple[str, ...]],
    password: str,
    env: dict[str, str],
    serve: tuple[str, ...] = (),
    before: Callable[[str], None] | None = None,
    after: Callable[[str], None] | None = None,
    world: Path = FIXTURES / "world_small.yaml",
    prepare: Callable[[str], None] | None = None,
) -> tuple[dict[str, object], str]:
    """A browser test's frame: a database with ``world`` and ``users`` (name → the
    ``cityeye user add`` options), ``prepare(database_url)`` if given (what must be
    stored before the server starts), a real ``cityeye serve`` on it (with ``serve``
    options), ``before(base_url)`` if given, then ``tests/browser/<script>`` under node
    with BASE, PASSWORD, CHROMIUM, SHOTS (a folder for screenshots) and ``env``, then
    ``after(database_url)`` if given, while the server still runs (to wait for what
    its analysis process does after the pages have their answers). Returns the JSON
    report the script prints last, and the database URL to check."""
    from typer.testing import CliRunner

    from cityeye.cli import app as cli

    node, chromium = browser_tools()
    db = f"sqlite:///{tmp_path / 'browser.db'}"
    runner = CliRunner()
    loaded = runner.invoke(cli, ["world", "load", str(world), "--db", db])
    assert loaded.exit_code == 0, loaded.output
    for name, options in users.items():
        added = runner.invoke(
            cli,
            ["user", "add", name, *options, "--password-stdin", "--db", db],
            input=password + "\n",
        )
        assert added.exit_code == 0, added.output
    if prepare is not None:
        prepare(db)
    shots = tmp_path / "shots"
    shots.mkdir(exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_serve("--db", db, "--port", str(port), *serve)
    try:
        wait_until_serving(f"{base}/healthz", proc)
        if before is not None:
            before(base)
        run = subprocess.run(
            [node, str(BROWSER / script)],
            env=os.environ
            | {"BASE": base, "PASSWORD": password, "CHROMIUM": chromium, "SHOTS": str(shots)}
            | env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=BROWSER,
        )
        assert run.returncode == 0, run.stderr
        report: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
        if after is not None:
            after(db)
    finally:
        proc.terminate()
        proc.wait(15)
    print(json.dumps(report, ensure_ascii=False))  # shown when a check fails
    return report, db


def keep_screenshots(tmp_path: Path, *names: str) -> None:
    """``make screenshots`` (CITYEYE_SCREENSHOTS=docs/screenshots) keeps these."""
    keep = os.environ.get("CITYEYE_SCREENSHOTS")
    if keep:
        for name in names:
            shutil.copy(tmp_path / "shots" / name, Path(keep) / name)
