"""The status page a person opens after `make demo`."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from cityeye.api.app import create_app
from cityeye.backtest import run_replay
from cityeye.store import Store
from cityeye.world import load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_empty_database_says_how_to_start(sqlite_store: Store) -> None:
    page = TestClient(create_app(sqlite_store)).get("/")
    assert page.status_code == 200
    assert "尚未加载世界文件" in page.text
    assert "No world loaded yet" in page.text


def test_status_shows_streets_and_event_counts(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    events.write_text(
        "\n".join(
            f'{{"id": "{i}", "kind": "smoke.alarm", "ts": "2026-10-01T08:00:0{i}+08:00",'
            f' "source": "gw", "device_id": "D2"}}'
            for i in range(3)
        )
        + '\n{"id": "x", "kind": "door.open", "ts": "bad", "source": "gw"}\n',
        encoding="utf-8",
    )
    run_replay(events, tmp_path / "out", load_world(FIXTURES / "world_small.yaml"))
    store = Store.open(f"sqlite:///{tmp_path / 'out' / 'cityeye.db'}")
    try:
        client = TestClient(create_app(store))
        status = client.get("/api/v1/status").json()
        assert status["district"]["name"] == "拱墅区"
        assert status["totals"]["events"] == 3
        assert status["totals"]["dead_letters"] == 1
        assert status["events_by_kind"] == {"smoke.alarm": 3}
        [street] = status["streets"]
        assert (street["name"], street["communities"], street["grids"]) == ("小河街道", 2, 3)
        assert (street["devices"], street["events"]) == (4, 3)

        page = client.get("/")
        assert "小河街道" in page.text
        assert "烟感报警" in page.text
        # works offline: every referenced asset is served by cityeye itself
        refs = re.findall(r'(?:href|src)="([^"]+)"', page.text)
        assert refs
        assert all(r.startswith("/") and not r.startswith("//") for r in refs), refs
        for ref in refs:
            assert client.get(ref).status_code == 200, ref
    finally:
        store.close()
