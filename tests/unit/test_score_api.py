"""Why a unit is red, on the case (issue 20): a colour code's case carries its score
card — each event with the points it took — for whoever may see the case, and for
nobody across the area boundary.

The district is tests/fixtures/world_small.yaml with one fire-safety unit added in
长征桥社区 (grid G0001); a dispatcher of 长征桥 and one of 小河 look at its case."""

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
from kit import at

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PASSWORD = "correct horse battery"
USERS = {
    "cz_dispatch": {"role": "dispatcher", "areas": ("330105001001",)},  # 长征桥
    "xh_dispatch": {"role": "dispatcher", "areas": ("330105001002",)},  # 小河
}
UNIT = "  - {id: FU9, tags: [fire_safety_unit], area: G0001, name: 某餐馆}\n"
YELLOW = "  - {id: FU8, tags: [fire_safety_unit], area: G0001, name: 某茶室}\n"


def inspection(i: int, minute: float, result: str, hazards: int = 0, venue: str = "FU9") -> bytes:
    return orjson.dumps(
        {
            "id": f"x{i}",
            "kind": "inspection.result",
            "ts": at(minute).isoformat(),
            "source": "xf-platform",
            "attrs": {
                "venue": venue,
                "scheme": "fire_safety",
                "result": result,
                "hazards": hazards,
            },
        }
    )


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    text = (FIXTURES / "world_small.yaml").read_text(encoding="utf-8")
    world_file = tmp_path / "world.yaml"
    world_file.write_text(
        text.replace("venues:\n", "venues:\n" + UNIT + YELLOW, 1), encoding="utf-8"
    )
    store = Store.open(f"sqlite:///{tmp_path / 'desk.db'}")
    world = load_world(world_file)
    store.save_world(world)
    for name, spec in USERS.items():
        create_user(store, world, username=name, password=PASSWORD, **spec)  # type: ignore[arg-type]
    pipeline = LivePipeline(store, lateness_s=0)
    # FU9: 100 − 3×10 = 70 (yellow), + 5 = 75, − 2×10 = 55 (red); FU8: 80 (yellow)
    pipeline.ingest_raw(
        [
            inspection(1, 0, "fail", 3),
            inspection(2, 60, "pass"),
            inspection(3, 120, "fail", 2),
            inspection(4, 130, "fail", 2, venue="FU8"),
        ],
        "test",
    )
    # yellow is recorded, not dispatched: FU8's alert has no case; FU9's opened at red
    assert {a.key for a in store.alerts() if a.scenario == "fire.unit_colour"} == {"FU8", "FU9"}
    [case] = [c for c in store.load_cases() if c.scenario == "fire.unit_colour"]
    assert case.key == "FU9"
    with TestClient(create_app(store, pipeline, wall_clock=False)) as client:
        yield client, case.id
    store.close()


def detail(client: TestClient, who: str, case_id: str) -> Any:
    r = client.post("/api/v1/auth/login", json={"username": who, "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    return client.get(f"/api/v1/cases/{case_id}", headers=headers)


def test_the_case_says_which_events_made_the_unit_red(desk: tuple[TestClient, str]) -> None:
    client, case_id = desk
    r = detail(client, "cz_dispatch", case_id)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["area"]["code"] == "G0001"  # the unit's area, though no event named one
    score = body["why"]["score"]
    assert (score["base"], score["score"], score["colour"], score["colour_zh"]) == (
        100,
        55,
        "red",
        "红码",
    )
    assert (score["red_below"], score["green_above"]) == (60, 80)
    assert [(t["event_id"], t["label_zh"], t["points"]) for t in score["terms"]] == [
        ("x1", "消防检查不合格（每处隐患）", -30),
        ("x2", "消防检查合格", 5),
        ("x3", "消防检查不合格（每处隐患）", -20),
    ]


def test_another_streets_dispatcher_does_not_see_it(desk: tuple[TestClient, str]) -> None:
    client, case_id = desk
    assert detail(client, "xh_dispatch", case_id).status_code == 404
