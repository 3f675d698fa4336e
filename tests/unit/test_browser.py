"""Pages in a real browser: playwright-core (tests/browser) driving Debian's Chromium,
against a real ``cityeye serve``. Without node, the npm packages or Chromium a laptop
run skips with what to install; under ``CI=true`` (``.ci/run`` installs them) it fails."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from cityeye.cases.lifecycle import Role, moves
from cityeye.domain import CaseState
from cityeye.store import Store
from serving import keep_screenshots, run_in_browser, wait_until

PASSWORD = "handler-pass-123"


def test_a_handler_signs_in_on_a_phone_and_accepts_a_case(tmp_path: Path) -> None:
    """The server replays 23 November 2026 at 60× from noon (``serve --replay``), days
    away from the browser's own clock: the desk counts the case's deadline down from
    the server's time, as the engine and the deadlines do."""
    events = [
        {
            "id": "r1",
            "kind": "report.citizen",
            "ts": "2026-11-23T08:00:00+08:00",
            "source": "app",
            "area": "G0001",
            "attrs": {"category": "road", "text": "路面坑洼"},
        },
        # later in the day: the replay is still playing while the test runs
        {
            "id": "t1",
            "kind": "door.open",
            "ts": "2026-11-23T20:00:00+08:00",
            "source": "gw",
            "device_id": "D1",
        },
    ]
    day = tmp_path / "day.jsonl"
    day.write_text("".join(json.dumps(e) + "\n" for e in events))

    def wait_for_the_case(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            login = http.post(
                "/api/v1/auth/login", json={"username": "zhang", "password": PASSWORD}
            )
            auth = {"Authorization": f"Bearer {login.json()['token']}"}
            wait_until(
                lambda: http.get("/api/v1/cases", headers=auth).json()["total"] == 1,
                "the replayed report becomes a case",
                deadline_s=30,
            )

    shot = tmp_path / "shots" / "desk.png"
    report, db = run_in_browser(
        tmp_path,
        "desk.mjs",
        users={"zhang": ("--role", "handler", "--party", "P-GW1", "--name", "张网格员")},
        password=PASSWORD,
        serve=("--replay", str(day), "--speed", "60", "--replay-from", "2026-11-23T12:00:00+08:00"),
        before=wait_for_the_case,
        env={"USERNAME": "zhang", "SHOT": str(shot)},
    )
    # reported at 08:00, 24 h to handle (medium): about 20 h left at the server's noon;
    # by the browser's clock (not 23 November) it would be something else entirely
    assert report["mode"] == "replay"
    assert report["due"] in ("剩 20小时", "剩 19小时"), report
    assert report["browserDue"] not in ("20h", "19h")
    assert report["errors"] == []
    assert report["external"] == []  # nothing from another host: works offline
    assert report["cases"] == 1
    assert report["accepted"]
    # the buttons are the lifecycle's moves for a handler, and nothing else (issue 16:
    # the desk's own table once offered "return" on an accepted case, a 422 on a tap)
    first = CaseState(report["state"])  # dispatched, or escalated if the replay ran past
    handler = [[m.value for m in moves(s, Role.HANDLER)] for s in (first, CaseState.ACCEPTED)]
    assert [report["buttons"], report["buttonsAccepted"]] == handler
    # names from GET /api/v1/meta, never a raw value; times on the district's clock
    # (the report came at 08:00 in Hangzhou), whatever the browser's timezone
    assert report["who"] == "张网格员（处置人员）"
    assert report["timeline"][0]["time"] == "2026/11/23 08:00:00", report["timeline"]
    opened = report["timeline"][0]["line"]
    assert opened.startswith("立案 · 系统 · 居民上报，已立案"), report["timeline"]
    assert report["timeline"][1]["line"].startswith("派遣 · 系统 · 派给 ")
    for line in report["timeline"]:  # each line named in Chinese, no English in Chinese mode
        assert re.match(r"[\u4e00-\u9fff]+ · ", line["line"]), line
        assert not re.search(r"[A-Za-z]{3,}", line["line"]), line
    assert shot.stat().st_size > 10_000
    keep_screenshots(tmp_path, "desk.png")
    store = Store.open(db)
    [case] = store.load_cases()
    assert case.state.value == "accepted"
    assert case.timeline[-1].actor == "P-GW1"
    store.close()


def test_after_a_replay_the_pages_keep_the_servers_clock(tmp_path: Path) -> None:
    """A demo replay of 23 November 2026 (Hangzhou) whose file is done: the server runs
    on in real time from the day's noon. In a browser set to New York, the cockpit's
    badge says the replay has ended and shows the server's time in Shanghai, its period
    ends on the server's day, and the portal dates a report as the district reads it."""
    day = tmp_path / "day.jsonl"
    report_event = {
        "id": "r1",
        "kind": "report.citizen",
        "ts": "2026-11-23T08:00:00+08:00",
        "source": "app",
        "area": "G0001",
        "attrs": {"category": "road", "text": "路面坑洼"},
    }
    day.write_text(json.dumps(report_event) + "\n")
    report, _ = run_in_browser(
        tmp_path,
        "clock.mjs",
        users={"boss": ("--role", "leader", "--area", "330105", "--name", "区领导")},
        password=PASSWORD,
        serve=("--replay", str(day), "--replay-from", "2026-11-23T12:00:00+08:00"),
        env={"USERNAME": "boss"},
    )
    assert report["errors"] == []
    badge, period = str(report["badge"]), str(report["period"])
    assert badge.startswith("回放已结束 · 实时 12:0"), badge  # not New York's 23:0x
    assert period.endswith("2026-11-23"), period
    assert "倍速" not in period  # real time now: no replay speed to show
    assert str(report["tracking"]).startswith("311-20261123-")
    assert str(report["reported"]).startswith("2026/11/23 12:0"), report["reported"]


def close_the_case_in(base: str, grid: str) -> None:
    """An admin takes the case of ``grid`` through the whole loop over HTTP."""
    with httpx.Client(base_url=base, timeout=10) as http:
        login = http.post("/api/v1/auth/login", json={"username": "root", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}

        def cases() -> list[dict[str, Any]]:
            found = http.get("/api/v1/cases", params={"area": grid}, headers=auth)
            items: list[dict[str, Any]] = found.json()["items"]
            return items

        # the answer to the POST means stored; with the engine in a process of its own
        # (serve's default) the case is opened moments later
        wait_until(cases, f"the case of {grid}")
        [case] = cases()
        for action in ("accept", "arrive", "handle", "verify", "close"):
            seen = http.get(f"/api/v1/cases/{case['id']}", headers=auth).headers["etag"]
            moved = http.post(
                f"/api/v1/cases/{case['id']}/actions",
                json={"action": action, "note": "已处理"},
                headers=auth | {"If-Match": seen},
            )
            assert moved.status_code == 200, moved.text
        assert moved.json()["state"] == "closed"


def test_a_leader_watches_the_cockpit_on_a_big_screen(tmp_path: Path) -> None:
    """The cockpit at 1920×1080: boundaries, KPI tiles with numbers, a drill into the
    street, an alert posted over HTTP arriving in the live stream without a reload,
    English remembered, a tile opening its cases, and nothing from another host."""
    now = datetime.now(UTC).replace(microsecond=0)

    def ts(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).isoformat()

    reports = [("G0001", "路面坑洼"), ("G0002", "垃圾满溢"), ("G0003", "路灯不亮")]
    before = [
        {
            "id": f"r{i}",
            "kind": "report.citizen",
            "ts": ts(-60 + i),
            "source": "app",
            "area": grid,
            "attrs": {"category": "road", "text": text},
        }
        for i, (grid, text) in enumerate(reports)
    ] + [{"id": "t0", "kind": "door.open", "ts": ts(-30), "source": "gw", "device_id": "D1"}]
    # while the page watches: a smoke alarm, and a later event past the 10 min lateness hold
    live = [
        {"id": "s1", "kind": "smoke.alarm", "ts": ts(-20), "source": "gw", "device_id": "D2"},
        {"id": "t1", "kind": "door.open", "ts": ts(0), "source": "gw", "device_id": "D1"},
    ]

    def post_and_close(base: str) -> None:
        r = httpx.post(f"{base}/api/v1/events", json=before, timeout=10)
        assert r.json()["accepted"] == len(before)
        close_the_case_in(base, "G0001")  # one handled, so the rates have something

    shot = tmp_path / "shots" / "cockpit.png"
    report, _ = run_in_browser(
        tmp_path,
        "cockpit.mjs",
        users={
            "boss": ("--role", "leader", "--area", "330105", "--name", "区领导"),
            "root": ("--role", "admin"),
        },
        password=PASSWORD,
        serve=("--clock", "events", "--open-ingest"),
        before=post_and_close,
        env={"USERNAME": "boss", "SHOT": str(shot), "LIVE_EVENTS": json.dumps(live)},
    )
    assert report["errors"] == []
    assert report["external"] == []  # nothing from another host: works offline
    assert report["boundaries"] == 3  # the street, drawn as its three grids
    assert report["tiles"]["opened"] == "3"
    assert report["tiles"]["open"] == "2"
    assert report["tiles"]["handling_rate"].endswith("%")  # closed / due, as a rate
    assert report["tiles"]["false_alarm_rate"] == "0.0%"
    assert report["street"] == "小河街道"
    assert report["crumbs"] == ["拱墅区", "小河街道"]
    assert report["communities"] == ["长征桥社区", "小河社区"]
    assert report["posted"] == len(live)
    assert [a["scenario"] for a in report["live"]] == ["fire.smoke"]
    assert "烟感" in report["live"][0]["text"]
    assert report["liveReloads"] == 0  # arrived through the stream, not a reload
    # the badge: live (the wall clock, no replay) and the server's time in the district's
    # timezone (Shanghai), whatever the browser's
    shanghai = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    shown = {f"实时 {t:%H:%M}" for t in (shanghai, shanghai - timedelta(minutes=1))}
    assert report["badge"] in shown, report["badge"]
    assert report["markers"] >= 1
    # the markers' legend names the severities (a cluster of several is coloured by its worst)
    assert report["alertLegend"].replace("\n", "") == "预警：紧急高中低", report["alertLegend"]
    assert report["english"] == {
        "tile": "Handling rate",
        "stream": "Live alerts",
        "lang": "en",
        "participation": "Suggestions in the period",
    }
    # 社情民意与议事: no suggestions nor topics yet, every figure a number
    assert report["participation"] == {
        "suggestions_total": "0",
        "groups": "0",
        "topics_raised": "0",
        "topics_resolved": "0",
        "actions": "0",
        "actions_completed": "0",
        "groups_list": ["暂无建议"],
    }
    assert report["remembered"] == "Handling rate"
    # the address holds the street drilled to: a reload (or a shared link) opens it
    assert report["url"].endswith("/cockpit?area=330105001&period=7d"), report["url"]
    assert report["reloadedAt"] == "小河街道", report
    assert report["cases"] == 4  # behind "new cases": the three reports and the smoke alarm
    # a row opens its case: the card's title is the case's heading (a device's place,
    # not its key, where the list still shows the title)
    first = report["caseTitles"][0].split(" · ")[0]
    assert report["detail"].startswith(first + " · "), report["detail"]
    # the names are the enums' own (GET /api/v1/meta), in the page's language
    assert set(report["caseStates"]) <= {s.en for s in CaseState}, report  # in English now
    assert report["timeline"][0].startswith("Opened · "), report  # the case card: names,
    assert not any("system" in line or "/" in line for line in report["timeline"]), report
    assert report["who"] == "区领导 (leader)"
    assert report["whoZh"] == "区领导 (领导)"
    assert report["tableTitle"] in ("下级区域 · 街道", "下级区域 · 社区"), report["tableTitle"]
    # at 长征桥社区 the live alerts are its own (G0001, G0002), never 小河社区's (G0003)
    assert report["communityStream"], report
    assert set(report["communityStream"]) <= {"330105001001", "G0001", "G0002"}, report
    scrolled, screen = report["phoneWidth"]
    assert scrolled <= screen, report["phoneWidth"]  # a phone shows it without side-scrolling
    assert report["tableHead"][-1] == "误报撤销"
    assert shot.stat().st_size > 30_000
    keep_screenshots(tmp_path, "cockpit.png")
