"""误报率 per scenario and per device (issue 20, alarm quality 1): counted from what
the people who went to look decided — dismissed as false, or handled — and bound by the
caller's areas like /kpis.

The district (tests/fixtures/world_small.yaml plus a detector in 小河): detector D2 in
长征桥 alarms three times (two found false, one real fire handled), detector D5 in 小河
once (false)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from cityeye.accounts import create_user
from cityeye.api.app import create_app
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
CZ, XH = "330105001001", "330105001002"  # 长征桥社区, 小河社区
USERS: dict[str, dict[str, Any]] = {
    "cz_dispatch": {"role": "dispatcher", "areas": (CZ,)},
    "xh_dispatch": {"role": "dispatcher", "areas": (XH,)},
    "zhang": {"role": "handler", "party_id": "P-GW1"},
    "root": {"role": "admin"},
}
DAY = {"first": "2026-10-01", "last": "2026-10-01"}


def line(n: int, kind: str, hhmm: str, **fields: Any) -> bytes:
    attrs = fields.pop("attrs", {})
    event = {"id": f"q{n}", "kind": kind, "ts": f"2026-10-01T{hhmm}:00+08:00", "source": "gw"}
    return orjson.dumps(event | {"attrs": attrs} | fields)


def alarm_and_outcome(n: int, hhmm: str, device: str, building: str, real: bool) -> list[bytes]:
    """A smoke alarm, then the grid worker's visit: dismissed as false, or handled."""
    h, m = hhmm.split(":")

    def at(minutes: int) -> str:
        return f"{h}:{int(m) + minutes:02d}"

    def act(i: int, minutes: int, action: str, **attrs: Any) -> bytes:
        base = {"scenario": "fire.smoke", "key": building, "action": action}
        return line(n * 10 + i, "case.action", at(minutes), attrs=base | attrs)

    steps = [
        line(n * 10, "smoke.alarm", hhmm, device_id=device),
        act(1, 1, "dispatch", party="P-GW1", actor="dispatcher-1"),
        act(2, 2, "accept", party="P-GW1"),
    ]
    if real:
        steps += [
            act(3, 3, "arrive", party="P-GW1"),
            act(4, 5, "handle", party="P-GW1", note="明火已扑灭", photos=["a.jpg"]),
            act(5, 6, "verify", role="verifier", party="P-C1"),
            act(6, 7, "close"),
        ]
    else:
        steps.append(act(3, 4, "dismiss", role="handler", note="现场核实为误报"))
    return steps


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    text = (FIXTURES / "world_small.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "devices:\n",
        "devices:\n  - {id: D5, kind: smoke_detector, area: G0003, building: B5}\n",
    )
    (tmp_path / "world.yaml").write_text(text, encoding="utf-8")
    world = load_world(tmp_path / "world.yaml")
    store = Store.open(f"sqlite:///{tmp_path / 'q.db'}")
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)
    pipeline = LivePipeline(store, lateness_s=0)
    lines = [
        *alarm_and_outcome(1, "08:00", "D2", "B2", real=False),
        *alarm_and_outcome(2, "09:00", "D2", "B2", real=False),
        *alarm_and_outcome(3, "10:00", "D2", "B2", real=True),
        *alarm_and_outcome(4, "11:00", "D5", "B5", real=False),
        line(99, "door.open", "12:00", device_id="D1"),  # moves the clock on
    ]
    results = pipeline.ingest_raw(lines, "test")
    assert {r.status for r in results} == {"accepted"}, [r for r in results if r.reason]
    with TestClient(create_app(store, pipeline, wall_clock=False)) as c:
        yield c
    store.close()


def bearer(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_false_alarms_per_scenario_come_from_the_dispositions(client: TestClient) -> None:
    auth = bearer(client, "cz_dispatch")
    r = client.get("/api/v1/quality/scenarios", params={"area": CZ, **DAY}, headers=auth)
    assert r.status_code == 200, r.text
    [row] = r.json()["rows"]
    assert row["scenario"] == "fire.smoke"
    assert row["name"] == "智慧消安·烟感报警"
    assert (row["alarms"], row["false"], row["real"], row["open"]) == (3, 2, 1, 0)
    assert row["false_share"] == pytest.approx(2 / 3, abs=1e-4)
    admin = client.get("/api/v1/quality/scenarios", params=DAY, headers=bearer(client, "root"))
    [whole] = admin.json()["rows"]
    assert (whole["alarms"], whole["false"]) == (4, 3)  # 小河's false alarm too


def test_the_noisiest_device_comes_first_with_its_kind_and_place_in_words(
    client: TestClient,
) -> None:
    r = client.get("/api/v1/quality/devices", params=DAY, headers=bearer(client, "root"))
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [row["device"] for row in rows] == ["D2", "D5"]  # a building key, traced to D2
    d2 = rows[0]
    assert (d2["kind_name"], d2["area_name"]) == ("烟感", "长征桥社区第2网格")
    assert (d2["false"], d2["real"], d2["noisy"]) == (2, 1, False)  # 2 < 5 false alarms
    assert d2["scenarios"] == ["智慧消安·烟感报警"]


def test_another_communitys_devices_are_not_reachable(client: TestClient) -> None:
    xh = bearer(client, "xh_dispatch")
    for path in ("/api/v1/quality/scenarios", "/api/v1/quality/devices"):
        assert client.get(path, params={"area": CZ, **DAY}, headers=xh).status_code == 404
        assert client.get(path, params=DAY, headers=xh).status_code == 422  # name an area
        assert client.get(path, params=DAY).status_code == 401  # signed out
    own = client.get("/api/v1/quality/devices", params={"area": XH, **DAY}, headers=xh).json()
    assert [row["device"] for row in own["rows"]] == ["D5"]
    # a grid worker of 长征桥 asking for 小河 is refused like a dispatcher
    zhang = bearer(client, "zhang")
    r = client.get("/api/v1/quality/scenarios", params={"area": XH, **DAY}, headers=zhang)
    assert r.status_code == 404


def test_bad_days_are_refused_naming_the_field(client: TestClient) -> None:
    auth = bearer(client, "root")
    r = client.get(
        "/api/v1/quality/scenarios",
        params={"first": "2026-10-02", "last": "2026-10-01"},
        headers=auth,
    )
    assert r.status_code == 422
    assert "last" in r.text
