"""Issue 18's first "done when": at community level no panel of the cockpit shows
another community's data, and the period chosen drives every panel and stays in the
address (tests/browser/cockpit_period.mjs in a real Chromium).

A replay on the server's own clock (20 November 2026, noon in Hangzhou) holds two
months that differ community by community: in October 长征桥社区 has three reports and
小河社区 one; in November 长征桥 has a report and a smoke alarm, 小河社区 three reports,
and residents make one suggestion about 长征桥 and two about 小河社区."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from serving import keep_screenshots, run_in_browser, wait_until

PASSWORD = "leader-pass-123"
CHANGZHENG, XIAOHE_C = "长征桥社区", "小河社区"
#: (grid, local time) of each resident's report; D2 (in G0002) raises the smoke alarm
REPORTS = [
    ("G0001", "2026-10-10T09:00:00+08:00"),
    ("G0001", "2026-10-10T09:10:00+08:00"),
    ("G0001", "2026-10-10T09:20:00+08:00"),
    ("G0003", "2026-10-10T09:30:00+08:00"),
    ("G0001", "2026-11-20T09:00:00+08:00"),
    ("G0003", "2026-11-20T09:10:00+08:00"),
    ("G0003", "2026-11-20T09:20:00+08:00"),
    ("G0003", "2026-11-20T09:30:00+08:00"),
]
SMOKE = {
    "id": "s1",
    "kind": "smoke.alarm",
    "ts": "2026-11-20T09:40:00+08:00",
    "source": "gw",
    "device_id": "D2",
}


def replay_file(
    tmp_path: Path,
    reports: list[tuple[str, str]] = REPORTS,
    extra: tuple[dict[str, Any], ...] = (SMOKE,),
) -> Path:
    """A replay of residents' road reports, one per (grid, local time), and ``extra``."""
    events: list[dict[str, Any]] = [
        {
            "id": f"r{i}",
            "kind": "report.citizen",
            "ts": ts,
            "source": "app",
            "area": grid,
            "attrs": {"category": "road", "text": f"路面坑洼 {i}"},
        }
        for i, (grid, ts) in enumerate(reports)
    ]
    events += extra
    path = tmp_path / "two_months.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
    return path


def seed(base: str) -> None:
    """Wait for the replay's cases, then the residents' suggestions (made on the
    replay's clock: 20 November)."""
    with httpx.Client(base_url=base, timeout=10) as http:
        login = http.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        http.cookies.clear()  # the bearer, and residents' suggestions without a session

        def cases() -> bool:
            found = http.get("/api/v1/cases", params={"per_page": 1}, headers=auth)
            return bool(found.json()["total"] == len(REPORTS) + 1)

        wait_until(cases, "the replay's cases", deadline_s=30)
        for text, grid in (
            ("长征桥路口的垃圾桶满了没人清理", "G0001"),
            ("小区地下车库停车位太少", "G0003"),
            ("晚上回来车库没有停车位", "G0003"),
        ):
            made = http.post("/api/v1/participation/suggestions", json={"text": text, "area": grid})
            assert made.status_code == 201, made.text


def test_every_panel_follows_the_community_and_the_period(tmp_path: Path) -> None:
    shot = tmp_path / "shots" / "cockpit-community.png"
    report, _ = run_in_browser(
        tmp_path,
        "cockpit_period.mjs",
        users={
            "boss": ("--role", "leader", "--area", "330105", "--name", "区领导"),
            "root": ("--role", "admin"),
        },
        password=PASSWORD,
        serve=(
            "--replay",
            str(replay_file(tmp_path)),
            "--replay-from",
            "2026-11-20T12:00:00+08:00",
        ),
        before=seed,
        env={
            "USERNAME": "boss",
            "SHOT": str(shot),
            "STREET": "小河街道",
            "COMMUNITY": CHANGZHENG,
            "SIBLING": XIAOHE_C,
        },
    )
    assert report["errors"] == [], report["errors"]
    assert report["external"] == []
    # the default period: the data's own month, to the server's today
    assert str(report["opening"]["period"]).startswith("2026-11-01 — 2026-11-20"), report["opening"]

    here, sibling = report["truth"]["here"], report["truth"]["sibling"]
    # the data differ between the two communities, so a panel showing the other's is caught
    assert (here["cases"], sibling["cases"]) == (2, 3)
    assert (here["suggestions"], sibling["suggestions"]) == (1, 2)
    seen = report["community"]
    assert seen["crumb"] == CHANGZHENG
    assert seen["url"] == f"/cockpit?area={report['code']}"
    assert seen["tiles"]["opened"] == "2"
    # 在办 / 超期 are the backlog: November's two and October's three reports, still open
    # and past their deadlines — last month's overdue cases do not vanish from this month
    assert seen["tiles"]["open"] == "5"
    assert seen["tiles"]["overdue"] == "4"  # October's three and one of November's two
    assert seen["rows"] == ["长征桥社区第1网格", "长征桥社区第2网格"]  # its own grids only
    assert seen["trend"]["opened"] == here["cases"]
    # today (the replay's 20 November) has cases but nothing closed yet: no rate point,
    # not a 0 % that drags the line down
    assert seen["trend"]["labels"][-1] == "11-20"
    assert seen["trend"]["rate"][-1] is None
    assert seen["scenario"]["opened"] == here["scenarioCases"] == 2
    assert len(seen["scenario"]["labels"]) == here["scenarios"] == 2  # a report, a smoke alarm
    assert seen["module"]["opened"] == 2
    assert seen["scenarioTitle"] == "分场景 · 长征桥社区"
    assert seen["moduleTitle"] == "分模块 · 长征桥社区"
    assert seen["participation"]["suggestions_total"] == "1"
    assert seen["groups"] == 1
    assert seen["shapes"] == 2  # the map: the community's two grids
    assert seen["streamTitle"] == "实时预警"  # the period holds today: live
    assert seen["streamAreas"]
    assert set(seen["streamAreas"]) <= {"G0001", "G0002"}, seen["streamAreas"]
    assert len(seen["streamAreas"]) == 2  # this month's two: not October's reports
    assert seen["streamTimes"] == sorted(seen["streamTimes"], reverse=True)  # newest first
    assert "G0003" in sibling["alertAreas"]  # 小河社区 has alerts the stream did not show
    # the table's last column (误报撤销) is inside its panel, not cut off
    assert seen["head"][-1] == {"text": "误报撤销", "inside": True}, seen["head"]
    # and on a 1280×720 screen: the whole table's head inside, the breadcrumb beside the
    # period picker still shown in full
    small = report["small"]
    assert all(h["inside"] for h in small["head"]), small["head"]
    assert seen["crumbShown"]
    assert small["crumbShown"]

    # 上月: every panel changes, the address holds area and period
    before = report["lastTruth"]["here"]
    assert (before["cases"], report["lastTruth"]["sibling"]["cases"]) == (3, 1)
    last = report["lastMonth"]
    assert last["url"] == f"/cockpit?area={report['code']}&period=last_month"
    assert (last["first"], last["last"], last["kind"]) == ("2026-10-01", "2026-10-31", "last_month")
    assert last["tiles"]["opened"] == "3"
    assert last["trend"]["opened"] == 3
    assert last["scenario"]["opened"] == 3
    assert last["module"]["opened"] == 3
    assert last["participation"]["suggestions_total"] == "0"
    assert last["streamTitle"] == "时段内预警"  # not live: the period's alerts, and it says so
    assert "非实时" in (last["streamNote"] or "")
    assert set(last["streamAreas"]) == {"G0001"}
    assert last["streamTimes"] == ["10/10 09:20", "10/10 09:10", "10/10 09:00"]
    # one of them opens the cases of its scenario there opened in the period, not today's
    assert "2026-10-01—2026-10-31" in report["lastCases"]["filter"], report["lastCases"]
    assert report["lastCases"]["count"] == 3
    # the trend's rate: a point only where something was due — 0 % on 11 October, when
    # the three reports' deadlines passed unhandled, and no point on the empty days
    assert last["trend"]["labels"][:2] == ["10-10", "10-11"]
    assert last["trend"]["rate"][1] == 0
    assert [r for i, r in enumerate(last["trend"]["rate"]) if i != 1] == [None] * 21

    # a reload opens the same view
    again = report["reloaded"]
    for key in ("url", "crumb", "period", "kind", "tiles", "rows", "participation", "streamTitle"):
        assert again[key] == last[key], key
    # back: the community this month again
    assert report["back"]["url"] == seen["url"]
    assert report["back"]["tiles"]["opened"] == "2"

    # a range in the address (a shared link): 小河社区 from October to today
    ranged = report["range"]
    assert ranged["truth"]["cases"] == 4
    assert ranged["view"]["crumb"] == XIAOHE_C
    assert ranged["view"]["kind"] == "range"
    assert ranged["view"]["tiles"]["opened"] == "4"

    # a bad link: a visible notice, the defaults, never a blank page
    bad = report["bad"]
    assert "链接中的区域" in (bad["notice"] or ""), bad
    assert bad["crumb"] == "拱墅区"
    assert bad["tiles"]["opened"].isdigit()
    assert shot.stat().st_size > 30_000
    keep_screenshots(tmp_path, "cockpit-community.png")
