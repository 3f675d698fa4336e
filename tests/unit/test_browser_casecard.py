"""A case's detail for a leader, in a real browser (issue 18, item 2):
tests/browser/cockpit_case.mjs drives the cockpit and the desk; this sets the district
up (a resident's report with a photo, a grid worker's progress note with another) and
checks what the pages showed and what the database holds afterwards.

The district is tests/fixtures/world_small.yaml: a road report in 长征桥社区第1网格 goes
to the grid worker party P-GW1 by the district's rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from cityeye.store import Store
from kit import photo
from serving import keep_screenshots, run_in_browser, wait_until

PASSWORD = "casecard-pass-12"
PEOPLE = {
    "boss": ("--role", "leader", "--area", "330105001", "--name", "王书记"),
    "zhang": ("--role", "handler", "--party", "P-GW1", "--name", "张网格员"),
}
NOTE = "请今天下班前修好，居民已反映多次"


def test_a_leader_reads_a_case_in_chinese_and_supervises_it(tmp_path: Path) -> None:
    env = {"LEADER": "boss", "HANDLER": "zhang", "NOTE": NOTE}
    opened: list[datetime] = []

    def report_and_progress(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            ref = http.post(
                "/api/v1/portal/photos",
                content=photo(colour=(150, 110, 70)),
                headers={"content-type": "image/png"},
            )
            assert ref.status_code == 201, ref.text
            made = http.post(
                "/api/v1/portal/reports",
                json={
                    "category": "road",
                    "text": "路面坑洼，电动车容易摔",
                    "lat": 30.305,
                    "lon": 120.105,
                    "address": "长征桥新村 3 幢南门",
                    "photos": [ref.json()["ref"]],
                },
            )
            assert made.status_code == 201, made.text
            token = http.post(
                "/api/v1/auth/login", json={"username": "zhang", "password": PASSWORD}
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            wait_until(
                lambda: http.get("/api/v1/cases", headers=auth).json()["total"] == 1,
                "the report becomes the grid worker's case",
                deadline_s=30,
            )
            case = http.get("/api/v1/cases", headers=auth).json()["items"][0]
            env["CASE"] = case["id"]
            opened.append(datetime.fromisoformat(case["opened_at"]))
            mine = http.post(
                "/api/v1/attachments",
                content=photo(colour=(90, 160, 90)),
                headers=auth | {"content-type": "image/png"},
            )
            assert mine.status_code == 201, mine.text
            seen = http.get(f"/api/v1/cases/{case['id']}", headers=auth).headers["etag"]
            noted = http.post(
                f"/api/v1/cases/{case['id']}/actions",
                json={
                    "action": "progress",
                    "note": "已到现场，围挡",
                    "photos": [mine.json()["ref"]],
                },
                headers=auth | {"If-Match": seen},
            )
            assert noted.status_code == 200, noted.text

    report, db = run_in_browser(
        tmp_path,
        "cockpit_case.mjs",
        users=PEOPLE,
        password=PASSWORD,
        serve=("--lateness", "0s"),
        before=report_and_progress,
        env=env,
    )
    assert report["errors"] == []
    assert report["external"] == []  # nothing from another host: works offline
    assert report["axe"] == {"card": [], "card (en)": []}  # no serious WCAG finding
    # the title in people's words, the resident's photo and the grid worker's
    # (the scenario's name, then what the resident wrote; the place is beside the map)
    assert report["title"] == "社情民意·随手拍与热线 · 路面坑洼，电动车容易摔", report["title"]
    photos = report["photos"]
    assert photos[0] == "居民上报", photos
    assert photos[1].startswith("张网格员 · "), photos
    assert report["mapShapes"] >= 1  # the grid's outline and the pin
    assert report["left"].startswith("剩 "), report["left"]
    assert report["counts"] == "督办 0 次催办 0 次", report["counts"]
    # a timeline with names, in the district's time (the browser is in New York)
    opened_local = opened[0].astimezone(ZoneInfo("Asia/Shanghai"))
    assert report["timeline"][0].startswith(
        f"{opened_local.year}/{opened_local.month}/{opened_local.day} "
    ), report["timeline"]
    lines = " ".join(report["timeline"])
    assert "派遣" in lines
    assert "张网格员" in lines
    assert "已到现场，围挡" in lines
    # nothing raw on the Chinese card: no codes, no enum values, no alert ids
    detail = str(report["detail"])
    for raw in ("P-GW1", "G0001", "system", "citizen.report", "portal/", "reported", "medium"):
        assert raw not in detail, (raw, detail)
    assert re.findall(r"[A-Za-z_]{4,}", detail) == [], detail
    # the 督办: recorded under the leader's name, counted, shown in red
    assert report["banner"].startswith("督办 · 王书记 · "), report["banner"]
    assert NOTE in report["banner"]
    assert report["countsAfter"] == "督办 1 次催办 0 次"
    assert report["lastLine"].endswith(f"督办 · 王书记 · {NOTE}"), report["lastLine"]
    assert "已督办" in report["status"]
    assert report["english"]["headings"][-1] == "Supervise / urge"
    assert report["english"]["supervise"] == "Supervise"
    assert report["english"]["left"].endswith(" left"), report["english"]
    assert report["english"]["status"] == "Supervised: the handlers are told."
    # the grid worker's desk: the marker in the queue, the red banner on the case
    assert report["marker"] == "督办 1"
    assert report["deskBanner"].startswith("领导督办 · 王书记 · "), report["deskBanner"]
    assert NOTE in report["deskBanner"]
    store = Store.open(db)
    try:
        case = store.get_case(str(env["CASE"]))
        assert case is not None
        assert [e.actor for e in case.timeline if e.action == "supervise"] == ["boss"]
        day = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
        assert store.kpi_summary("community", "330105001001", day, day)["supervisions"] == 1
    finally:
        store.close()
    keep_screenshots(tmp_path, "cockpit-case.png", "desk-supervised.png")
