"""Why a unit is red, in a real browser (issue 20): tests/browser/desk_score.mjs opens a
fire-safety unit's colour-code case on the desk and on the cockpit's case card; this
sets the district up and checks that both show the score card in Chinese — score,
colour, bands, and each event with the points it took — with no id, enum value or
English field name.

The district is tests/fixtures/world_small.yaml with one fire-safety unit, 某餐馆, in
长征桥社区第1网格; its inspections took it to 55 (red)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

from serving import FIXTURES, keep_screenshots, run_in_browser, wait_until

PASSWORD = "desk-score-pass-1"
PEOPLE = {
    "cz_disp": ("--role", "dispatcher", "--area", "330105001001", "--name", "王调度"),
    "boss": ("--role", "leader", "--area", "330105001", "--name", "王书记"),
}
UNIT = "  - {id: FU9, tags: [fire_safety_unit], area: G0001, name: 某餐馆}\n"


def test_a_dispatcher_reads_why_a_unit_is_red(tmp_path: Path) -> None:
    text = (FIXTURES / "world_small.yaml").read_text(encoding="utf-8")
    world = tmp_path / "world.yaml"
    world.write_text(text.replace("venues:\n", "venues:\n" + UNIT, 1), encoding="utf-8")
    env = {"DISPATCHER": "cz_disp", "LEADER": "boss"}
    now = datetime.now(UTC).replace(microsecond=0)

    def inspections(base: str) -> None:
        # 100 − 3×10 = 70 (yellow), + 5 = 75, − 2×10 = 55 (red); stamped now, so the
        # live clock takes them in time
        body = orjson.dumps(
            [
                {
                    "id": f"x{i}",
                    "kind": "inspection.result",
                    "ts": (now + timedelta(seconds=i)).isoformat(),
                    "source": "xf-platform",
                    "attrs": {"venue": "FU9", "scheme": "fire_safety", **attrs},
                }
                for i, attrs in enumerate(
                    [
                        {"result": "fail", "hazards": 3},
                        {"result": "pass", "hazards": 0},
                        {"result": "fail", "hazards": 2},
                    ],
                    start=1,
                )
            ]
        )
        with httpx.Client(base_url=base, timeout=10) as http:
            posted = http.post(
                "/api/v1/events", content=body, headers={"content-type": "application/json"}
            )
            assert posted.status_code in (200, 202), posted.text
            token = http.post(
                "/api/v1/auth/login", json={"username": "cz_disp", "password": PASSWORD}
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}

            def opened() -> bool:
                items = http.get("/api/v1/cases", headers=auth).json()["items"]
                found = [c for c in items if c.get("scenario") == "fire.unit_colour"]
                if found:
                    env["CASE"] = found[0]["id"]
                return bool(found) and "55" in str(
                    http.get(f"/api/v1/cases/{found[0]['id']}", headers=auth).json()["why"]
                )

            wait_until(opened, "the unit's case, at 55", deadline_s=30)

    report, _ = run_in_browser(
        tmp_path,
        "desk_score.mjs",
        users=PEOPLE,
        password=PASSWORD,
        env=env,
        world=world,
        serve=("--open-ingest", "--lateness", "0s"),
        before=inspections,
    )
    assert report["errors"] == []
    assert report["external"] == []
    score = str(report["score"])
    assert "得分 55（红码）" in score
    assert "低于 60 为红码，高于 80 为绿码" in score
    terms = [re.sub(r"^.* · ", "", str(t)) for t in report["terms"]]  # type: ignore[attr-defined]
    assert terms == [
        "消防检查不合格（每处隐患） -30",
        "消防检查合格 +5",
        "消防检查不合格（每处隐患） -20",
    ]
    why = str(report["why"])
    for raw in ("x1", "fire_safety", "inspection", "red", "label", "points", "FU9"):
        assert raw not in why, raw
    assert str(report["cardScore"]) == score  # the cockpit's case card, the same words
    keep_screenshots(tmp_path, "desk-score-390.png")
