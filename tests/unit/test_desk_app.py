"""The desk installs as an app (issue 15, item 3a): a browser offers "install" only with
a manifest naming the app, a start page and real icons, and the service worker's
install fails outright if one file of the shell it keeps is missing — so each of
those is checked against what the app actually serves. (The worker at work, the
alerts and an offline start are in test_browser_alerts.py, in a real browser.)"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from cityeye.api.app import create_app
from cityeye.api.hardening import content_security_policy
from cityeye.store import Store

DESK = Path(__file__).resolve().parents[2] / "src" / "cityeye" / "web" / "static" / "desk"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = Store.open(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        yield TestClient(create_app(store))
    finally:
        store.close()


def test_the_desk_page_names_its_manifest_and_icons(client: TestClient) -> None:
    page = client.get("/desk").text
    assert '<link rel="manifest" href="/static/desk/desk.webmanifest">' in page
    assert '<meta name="theme-color"' in page
    assert 'rel="apple-touch-icon"' in page  # iPhones read no manifest icons


def test_the_manifest_makes_the_desk_installable(client: TestClient) -> None:
    got = client.get("/static/desk/desk.webmanifest")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("application/manifest+json")
    app = json.loads(got.content)
    assert app["name"].startswith("城市眼·处置台")  # Chinese first
    assert "cityeye desk" in app["name"]
    assert app["short_name"]
    assert app["start_url"] == "/desk"
    assert app["display"] == "standalone"
    assert app["start_url"].startswith(app["scope"])  # sign-in (/login) stays in the app too
    sizes = set()
    for icon in app["icons"]:
        served = client.get(icon["src"])
        assert served.status_code == 200, icon["src"]
        assert served.headers["content-type"] == "image/png"
        picture = Image.open(io.BytesIO(served.content))
        width, height = (int(n) for n in icon["sizes"].split("x"))
        assert picture.size == (width, height), icon["src"]  # what it says it is
        sizes.add((width, icon["purpose"]))
    # what Chrome and Android want: 192 and 512, and one a launcher may crop to a circle
    assert {(192, "any"), (512, "any"), (512, "maskable")} <= sizes


def test_the_service_worker_is_served_from_the_root_and_its_shell_exists(
    client: TestClient,
) -> None:
    got = client.get("/desk-sw.js")
    assert got.status_code == 200
    assert "javascript" in got.headers["content-type"]
    assert got.headers["cache-control"] == "no-cache"  # a new version reaches desks at once
    source = got.text
    shell = re.search(r"const SHELL = \[(.*?)\];", source, re.DOTALL)
    assert shell is not None
    kept = re.findall(r'"(/[^"]*)"', shell.group(1))
    assert "/desk" in kept
    # every script the desk loads, common.js first, so it starts with the network off
    scripts = re.findall(r'<script src="([^"]+)"', client.get("/desk").text)
    assert scripts[0] == "/static/common.js"
    assert set(scripts) <= set(kept), set(scripts) - set(kept)
    for path in kept:
        assert client.get(path).status_code == 200, f"the worker would fail to install: {path}"
        assert not path.startswith("/api/")  # never an answer that belongs to a user


def test_the_page_policy_lets_the_desk_have_a_worker_and_a_manifest() -> None:
    """No worker-src or manifest-src of its own: both fall back to default-src 'self',
    which is exactly what the desk needs (its worker and manifest are on this server)."""
    policy = {}
    for part in content_security_policy().split("; "):
        name, _, value = part.partition(" ")
        policy[name] = value
    assert policy["default-src"] == "'self'"
    assert policy.get("worker-src", "'self'") == "'self'"
    assert policy.get("manifest-src", "'self'") == "'self'"
    assert policy["script-src"] == "'self'"  # worker-src falls back here first
    assert policy["connect-src"] == "'self'"  # the alert stream and the polls


def test_the_committed_icons_are_the_generators_output() -> None:
    """static/desk/icon-*.png come from web/assets/icons.py (no icon from elsewhere)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "icons", DESK.parent.parent / "assets" / "icons.py"
    )
    assert spec is not None
    assert spec.loader is not None
    icons = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(icons)
    for name, (px, maskable) in icons.ICONS.items():
        committed = Image.open(DESK / name).convert("RGBA")
        drawn = icons.draw(px, maskable=maskable)
        assert committed.size == drawn.size
        assert committed.tobytes() == drawn.tobytes(), name
