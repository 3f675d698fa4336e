"""The desk as a work queue, in a real browser on a 390×844 phone (issue 17's "Done
when"): tests/browser/desk_work.mjs drives it; this sets the district up, checks what
the pages showed and what the database holds afterwards.

The district is tests/fixtures/world_small.yaml with one rule of ours added: 长征桥社区
sends residents' reports to a volunteer team, and has none signed up yet — so the rules
find nobody and the report waits in the dispatcher's queue, as the demo's did."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import httpx
import yaml
from PIL import Image, ImageDraw

from cityeye.domain import CaseState
from cityeye.store import Store
from serving import FIXTURES, keep_screenshots, run_in_browser, wait_until

PASSWORD = "desk-work-pass-1"
PEOPLE = {
    "cz_disp": ("--role", "dispatcher", "--area", "330105001001", "--name", "王调度"),
    "zhang": ("--role", "handler", "--party", "P-GW1", "--name", "张网格员"),
}
#: Inside each grid's square (world_small.yaml): 长征桥 第1网格, 第2网格, 小河 第1网格,
#: what the resident writes there and the address they give.
PINS = {
    "G0001": (30.305, 120.105, "路面坑洼，电动车容易摔", "长征桥新村 3 幢南门"),
    "G0002": (30.305, 120.115, "人行道地砖松动", "长征桥社区服务中心门口"),
    "G0003": (30.315, 120.11, "井盖缺失", "长征桥新村北面小河路"),
}


def picture(colour: tuple[int, int, int]) -> bytes:
    """A photo-sized image (the attachment store decodes every photo)."""
    image = Image.new("RGB", (480, 360), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((140, 120, 340, 260), fill=(60, 50, 40))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_a_dispatcher_finds_sends_and_closes_a_case_a_grid_worker_handles(
    tmp_path: Path,
) -> None:
    world = yaml.safe_load((FIXTURES / "world_small.yaml").read_text(encoding="utf-8"))
    world["routing"].append(
        {"scenarios": ["citizen.report"], "area": "330105001001", "kind": "volunteer"}
    )
    world_file = tmp_path / "world.yaml"
    world_file.write_text(yaml.safe_dump(world, allow_unicode=True), encoding="utf-8")
    env: dict[str, str] = {
        "DISPATCHER": "cz_disp",
        "HANDLER": "zhang",
        # part of the address the resident gave (issue 17: found by its address); 小河's
        # report names the same estate but is not this dispatcher's
        "PLACE": "长征桥新村",
        "FIXED_PNG": base64.b64encode(picture((90, 160, 90))).decode(),
    }

    def report_potholes(base: str) -> None:
        with httpx.Client(base_url=base, timeout=10) as http:
            tracking = {}
            for grid, (lat, lon, words, address) in PINS.items():
                ref = http.post(
                    "/api/v1/portal/photos",
                    content=picture((150, 110, 70)),
                    headers={"content-type": "image/png"},
                )
                assert ref.status_code == 201, ref.text
                made = http.post(
                    "/api/v1/portal/reports",
                    json={
                        "category": "road",
                        "text": words,
                        "lat": lat,
                        "lon": lon,
                        "address": address,
                        "photos": [ref.json()["ref"]],
                        "contact": "13812345678",
                    },
                )
                assert made.status_code == 201, made.text
                tracking[grid] = made.json()["tracking"]
            token = http.post(
                "/api/v1/auth/login", json={"username": "cz_disp", "password": PASSWORD}
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            wait_until(
                lambda: http.get("/api/v1/cases", headers=auth).json()["total"] == 2,
                "长征桥's two reports become cases (小河's is not theirs)",
                deadline_s=30,
            )
            cases = http.get("/api/v1/cases?area=G0001", headers=auth).json()["items"]
            env["CASE"] = cases[0]["id"]

    report, db = run_in_browser(
        tmp_path,
        "desk_work.mjs",
        users=PEOPLE,
        password=PASSWORD,
        serve=("--lateness", "0s"),
        world=world_file,
        before=report_potholes,
        env=env,
    )
    assert report["errors"] == []
    assert report["external"] == []  # nothing from another host: works offline
    # the dispatcher's queues, counted; the reports wait to be dispatched
    tabs = {t["key"]: t["text"] for t in report["dispatcherTabs"]}
    assert list(tabs) == ["to_dispatch", "to_verify", "working", "overdue", "closed"]
    assert tabs["to_dispatch"] == "待派遣2"
    # typing part of the place finds the one case there (小河's 第1网格 is not theirs)
    assert [c["id"] for c in report["found"]] == [env["CASE"]]
    assert report["listHiddenOnPhone"]
    # the picker: the case's own grid worker first, then 居委会 and the property company
    assert report["picker"][0]["value"] == "P-GW1"
    assert report["pickerFirstSelected"] == "P-GW1"
    assert [o["value"] for o in report["picker"][:3]] == ["P-GW1", "P-C1", "P-PM1"]
    assert "网格员" in report["pickerWhy"]
    assert report["backToList"]
    # the grid worker's own queue, the resident's photo, the map, the time left
    assert report["handlerTabs"][0]["key"] == "mine"
    assert report["residentPhotos"] >= 1
    assert report["mapShapes"] >= 1  # the grid's outline (and the pin)
    assert report["timeLeft"].startswith("剩 "), report["timeLeft"]
    # what a handler reads: no raw ids, no enum values, a masked phone
    for text in (report["handlerDetail"], report["dispatcherDetail"]):
        for raw in ("P-GW1", "G0001", "system", "medium", "dispatcher", "citizen.report"):
            assert raw not in text, (raw, text)
        assert "13812345678" not in text
        # and, in Chinese, no English word at all (innerText: the hidden language left out)
        assert re.findall(r"[A-Za-z_]{4,}", text) == [], text
    assert "138****5678" in report["dispatcherDetail"]
    assert "长征桥社区 › 长征桥社区第1网格" in report["handlerDetail"]
    assert report["timeline"][0].startswith("立案 · 系统 · 居民上报"), report["timeline"]
    assert "王调度" in report["timeline"][-1] or "指挥中心" in report["timeline"][-1]
    # the check shows the handler's photo and their words before the dispatcher decides
    assert report["checkPhotos"] >= 1
    assert "坑已填平" in report["checkText"]
    assert report["steps"][-1] == "shot desk-3840.png"
    assert report["desktop"]["sideBySide"], report["desktop"]
    keep_screenshots(
        tmp_path,
        "desk-queue-390.png",
        "desk-case-390.png",
        "desk-handler-390.png",
        "desk-verify-390.png",
        "desk-1920.png",
        "desk-3840.png",
    )
    store = Store.open(db)
    case = store.get_case(env["CASE"])
    store.close()
    assert case is not None
    assert case.state == CaseState.CLOSED
    assert case.lead == "P-GW1"
    notes = [e.note for e in case.timeline]
    assert "现场已复核，路面平整" in notes
    handled = next(e for e in case.timeline if e.to_state == CaseState.HANDLED)
    assert handled.attachments  # handled with a photo
