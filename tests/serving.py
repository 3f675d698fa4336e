"""`cityeye serve` as other tools run it: a real process on a free port, and a readiness
check that polls until it answers (never a fixed sleep)."""

from __future__ import annotations

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
    return start_cityeye("serve", *args)


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
