"""The contest board (数字治理赛晾晒台, tests/browser/board.mjs in a real Chromium):
the public view on a phone lists streets and communities with ranks, scores and
colours, in Chinese without an English word and in English, with no person's name and
nothing from another host; a district leader reaches it from the cockpit's header on a
wall screen and opens a row to its points.

Two streets (tests/fixtures/world_small.yaml with 大关街道 added) and a replay on the
server's clock (20 November 2026): in October 长征桥社区 has two reports and 大关社区
one, all still open — overdue, so each unit's 处置率 is 0 and it is red. Nothing else
is counted (full points, the packaged rules' ``if_empty``): 60 less half a point per
overdue case — 大关 59.5, 小河 / 长征桥 59. October's result is published (月考核) before
the pages open, at 09:00 on 1 November."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from test_browser_cockpit_period import replay_file
from test_cockpit_api import two_streets

from cityeye.assessment import default_rules, parse_period
from cityeye.routine.results import publish_round
from cityeye.store import Store
from serving import keep_screenshots, run_in_browser

PASSWORD = "leader-pass-123"
REPORTS = [
    ("G0001", "2026-10-10T09:00:00+08:00"),
    ("G0001", "2026-10-10T09:10:00+08:00"),
    ("G0101", "2026-10-11T09:00:00+08:00"),
]


def publish_october(tmp_path: Path) -> Callable[[str], None]:
    """Once the replay has October's cases in (the public board ranks a street), publish
    October's result into the server's database, as the scheduler would."""

    def before(base: str) -> None:
        deadline = time.monotonic() + 60
        while True:  # the replay's start is the server's own; wait for what it stored
            rows = httpx.get(f"{base}/api/v1/public/board", params={"period": "2026-10"})
            if any(r["rank"] is not None for r in rows.json()["rows"]):
                break
            assert time.monotonic() < deadline, "the replay stored no October case"
            time.sleep(0.2)
        store = Store.open(f"sqlite:///{tmp_path / 'browser.db'}")
        try:
            world = store.load_world()
            assert world is not None
            when = datetime.fromisoformat("2026-11-01T09:00:00+08:00")
            publish_round(store, world, default_rules(), parse_period("2026-10"), when)
        finally:
            store.close()

    return before


def test_public_and_staff_boards_in_a_browser(tmp_path: Path) -> None:
    report, _ = run_in_browser(
        tmp_path,
        "board.mjs",
        users={"boss": ("--role", "leader", "--area", "330105", "--name", "区领导")},
        password=PASSWORD,
        world=two_streets(tmp_path),
        serve=(
            "--replay",
            str(replay_file(tmp_path, REPORTS, ())),
            "--replay-from",
            "2026-11-20T12:00:00+08:00",
        ),
        env={"USERNAME": "boss"},
        before=publish_october(tmp_path),
    )
    assert report["errors"] == [], report["errors"]
    assert report["external"] == []
    streets = report["publicStreets"]
    assert "公众版" in streets["view"]
    assert "2026 年 10 月" in streets["view"]  # the data's own month
    assert streets["signin"]
    assert [(r["name"], r["score"]) for r in streets["rows"]] == [
        ("大关街道", "59.5"),
        ("小河街道", "59"),
    ]
    assert all(r["status"] == "未达标" for r in streets["rows"])
    assert "处置率 ≥ 90%" in streets["rules"]
    assert streets["tabs"] == ["街道", "社区"]  # no parties in public
    assert streets["overflow"] <= 0  # fits a 390 px phone
    assert streets["latin"] == []  # no English word on the Chinese page
    communities = report["publicCommunities"]
    # 小河社区 had no case in October: listed, not ranked
    assert [(r["rank"], r["name"]) for r in communities["rows"]] == [
        ("1", "大关社区"),
        ("2", "长征桥社区"),
        ("—", "小河社区"),
    ]
    assert communities["chartBars"] == 2
    # the trend: six months to October, the ranked units' lines, October's point only
    trend = communities["trend"]
    assert trend["rounds"][0] == "2026 年 5 月"
    assert trend["rounds"][-1] == "2026 年 10 月"
    assert [name for name, _ in trend["lines"]] == ["大关社区", "长征桥社区"]
    assert trend["lines"][0][1] == [None] * 5 + [59.5]
    for person in ("张网格员", "李网格员", "区领导"):
        for view in ("publicStreets", "publicCommunities", "publicEnglish", "signedOut"):
            assert person not in json.dumps(report[view], ensure_ascii=False), (person, view)
    english = report["publicEnglish"]
    assert "public view" in english["view"]
    assert english["tabs"] == ["Street", "Community"]
    assert report["cockpitLink"] == "晾晒台"  # the cockpit's header links the board
    staff = report["staff"]
    assert "工作人员版" in staff["view"]
    assert not staff["signin"]
    assert staff["who"] == "区领导"  # their own name, in the staff view only
    assert streets["who"] is None
    # 退出: back to the public board
    assert "公众版" in report["signedOut"]["view"]
    assert len(staff["rows"]) == 3
    assert "处置率" in report["detail"]
    assert "目标" in report["detail"]
    # 月考核: the published result says when, to everyone; its files are for staff
    assert streets["published"] == "已发布 2026-11-01 09:00"
    assert streets["files"] == []
    assert english["published"] == "Published 2026-11-01 09:00"
    mine = report["staffStreets"]
    assert mine["published"] == "已发布 2026-11-01 09:00"
    assert [kind for kind, _ in mine["files"]] == ["result-pdf", "result-xlsx", "week", "month"]
    assert mine["files"][2][1] == "2026 年第 44 周周通报"  # the round's last week
    assert mine["files"][3][1] == "2026 年 10 月月报"
    assert report["staffPhone"]["files"] == mine["files"]
    assert report["staffPhone"]["overflow"] <= 0  # the files wrap on a phone
    files = report["downloads"]
    assert files["result-pdf"]["name"] == "考核结果-2026-10-street.pdf"
    assert files["result-xlsx"]["name"] == "考核结果-2026-10-street.xlsx"
    assert files["week"]["name"] == "周通报-拱墅区-2026-W44.pdf"
    assert files["month"]["name"] == "月报-拱墅区-2026-10.pdf"
    for kind in ("result-pdf", "week", "month"):
        assert Path(files[kind]["path"]).read_bytes().startswith(b"%PDF"), kind
    keep_screenshots(tmp_path, "board-phone.png", "board-1920.png", "board-phone-staff.png")
