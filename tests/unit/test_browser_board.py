"""The contest board (数字治理赛晾晒台, tests/browser/board.mjs in a real Chromium):
the public view on a phone lists streets and communities with ranks, scores and
colours, in Chinese without an English word and in English, with no person's name and
nothing from another host; a district leader reaches it from the cockpit's header on a
wall screen and opens a row to its points.

Two streets (tests/fixtures/world_small.yaml with 大关街道 added) and a replay on the
server's clock (20 November 2026): in October 长征桥社区 has two reports and 大关社区
one, all still open — overdue, so each unit's 处置率 is 0 and it is red. Nothing else
is counted (full points, the packaged rules' ``if_empty``): 60 less half a point per
overdue case — 大关 59.5, 小河 / 长征桥 59."""

from __future__ import annotations

import json
from pathlib import Path

from test_browser_cockpit_period import replay_file
from test_cockpit_api import two_streets

from serving import keep_screenshots, run_in_browser

PASSWORD = "leader-pass-123"
REPORTS = [
    ("G0001", "2026-10-10T09:00:00+08:00"),
    ("G0001", "2026-10-10T09:10:00+08:00"),
    ("G0101", "2026-10-11T09:00:00+08:00"),
]


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
    keep_screenshots(tmp_path, "board-phone.png", "board-1920.png")
