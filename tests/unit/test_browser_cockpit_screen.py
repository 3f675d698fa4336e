"""The cockpit on screens from 1280×720 to 3840×2160 (issue 18, items 3 and 4), in a
real browser against a real ``cityeye serve``: no two texts of the tiles and headings
overlap and no label is cut at any of the three sizes, in Chinese and in English; the
charts' labels are 16 px or more at 1920 and every bar of the scenario chart keeps its
name; the map's layers draw what ``GET /api/v1/map/layers`` sends; a new critical alert
raises the flashing banner; ``?kiosk=1`` hides the controls and tours the streets.

The district is tests/fixtures/world_small.yaml with devices enough for a dozen
scenarios, so that the scenario chart has more names than a 1280×720 screen can hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from serving import FIXTURES, keep_screenshots, run_in_browser

PASSWORD = "leader-pass-123"

#: Devices added to the small world: one per scenario the events below raise.
DEVICES = [
    {"id": "BIN1", "kind": "bin_sensor", "area": "G0001", "lat": 30.304, "lon": 120.104},
    {"id": "CAM1", "kind": "camera", "area": "G0001", "lat": 30.306, "lon": 120.107},
    {"id": "CAM2", "kind": "camera", "area": "G0003", "lat": 30.315, "lon": 120.115},
    {"id": "MH1", "kind": "manhole_sensor", "area": "G0002", "lat": 30.303, "lon": 120.113},
    {"id": "WL1", "kind": "water_level_sensor", "area": "G0003", "lat": 30.312, "lon": 120.103},
    {"id": "EL1", "kind": "elevator_monitor", "area": "G0002", "building": "B2"},
    {"id": "EL2", "kind": "elevator_monitor", "area": "G0003", "building": "B3"},
    {"id": "TL1", "kind": "tilt_sensor", "area": "G0001", "building": "B1"},
    {"id": "GD1", "kind": "gas_detector", "area": "G0002", "venue": "V1"},
    {"id": "PM1", "kind": "power_meter", "area": "G0003", "venue": "V2", "rated_a": 20},
]
#: (device, kind, attrs): each raises an alert, and a case, of its own scenario.
RAISES = [
    ("BIN1", "bin.fill", {"level": 96}),
    ("CAM1", "camera.detection", {"label": "muck_truck_uncovered", "score": 0.9}),
    ("CAM1", "camera.detection", {"label": "exposed_garbage", "score": 0.9}),
    ("CAM2", "camera.detection", {"label": "billboard_damaged", "score": 0.9}),
    ("CAM2", "camera.detection", {"label": "fire_lane_blocked", "score": 0.9}),
    ("MH1", "manhole.displaced", {}),
    ("WL1", "water.level", {"cm": 22}),
    ("EL1", "elevator.fault", {"code": "door"}),  # an e-bike block is counted, no case
    ("TL1", "structure.tilt", {"degrees": 1.5}),
    ("GD1", "gas.alarm", {}),
    ("PM1", "meter.reading", {"current_a": 30}),
    ("D2", "smoke.alarm", {}),
    ("D1", "door.open", {}),
    ("D4", "parking.occupied", {}),
]


#: The district's other streets (no communities of their own here): ten rows in the
#: table, which then scrolls, and its scroll bar takes a little of its width.
STREETS = [
    "上塘街道",
    "祥符街道",
    "半山街道",
    "康桥街道",
    "米市巷街道",
    "湖墅街道",
    "拱宸桥街道",
    "和睦街道",
    "大关街道",
]


def world(tmp_path: Path) -> Path:
    doc = yaml.safe_load((FIXTURES / "world_small.yaml").read_text("utf-8"))
    doc["areas"] += [
        {"code": f"3301050{i + 2:02d}", "name": name, "level": "street", "parent": "330105"}
        for i, name in enumerate(STREETS)
    ]
    doc["devices"] += DEVICES
    doc["subjects"].append(
        {"id": "S2", "tags": ["elderly_alone"], "area": "G0003", "name": "李阿婆"}
    )
    path = tmp_path / "world.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), "utf-8")
    return path


def test_the_cockpit_fits_every_screen_and_cues_a_critical_alert(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)

    def ts(minutes: int) -> str:
        return (now + timedelta(minutes=minutes)).isoformat()

    # three weeks back first (event time moves on from it): the trend has 21 days,
    # more than can each carry a label
    before = [
        {"id": "old", "kind": "report.citizen", "ts": ts(-21 * 24 * 60), "source": "app",
         "area": "G0002", "attrs": {"category": "road", "text": "井盖松动"}},
    ] + [
        {"id": f"e{i}", "kind": kind, "ts": ts(-90 + i), "source": "gw", "device_id": device,
         "attrs": attrs}
        for i, (device, kind, attrs) in enumerate(RAISES)
    ] + [
        {"id": f"r{i}", "kind": "report.citizen", "ts": ts(-60 + i), "source": "app",
         "area": grid, "attrs": {"category": "road", "text": text}}
        for i, (grid, text) in enumerate([("G0001", "路面坑洼"), ("G0003", "路灯不亮")])
    ]  # fmt: skip
    # while the page watches: people trapped in a lift, a critical alert
    live = [
        {"id": "x1", "kind": "elevator.trapped", "ts": ts(-5), "source": "gw",
         "device_id": "EL2", "attrs": {"persons": 2}},
    ]  # fmt: skip

    def post(base: str) -> None:
        r = httpx.post(f"{base}/api/v1/events", json=before, timeout=10)
        assert r.json()["accepted"] == len(before), r.text

    report, _ = run_in_browser(
        tmp_path,
        "cockpit_screen.mjs",
        users={"boss": ("--role", "leader", "--area", "330105", "--name", "区领导")},
        password=PASSWORD,
        serve=("--clock", "events", "--open-ingest"),
        before=post,
        env={"USERNAME": "boss", "LIVE_EVENTS": json.dumps(live)},
        world=world(tmp_path),
    )
    assert report["errors"] == [], report["errors"]
    assert report["external"] == []  # nothing from another host: works offline
    sizes: dict[str, Any] = report["sizes"]  # type: ignore[assignment]
    assert set(sizes) == {"1280x720", "1920x1080", "3840x2160", "1280x720 en"}
    for size, seen in sizes.items():
        assert seen["overlaps"] == [], (size, seen["overlaps"])
        assert seen["cut"] == [], (size, seen["cut"])
        # the table keeps its eight columns inside its panel, in either language
        assert seen["columns"] == 8, (size, seen)
        assert seen["tableFits"], (size, seen)
        # every bar of the scenario chart has its name shown, and there are several
        scenario = seen["scenarioChart"]
        assert scenario["bars"] >= 3, (size, scenario)
        assert scenario["labels"] == scenario["bars"], (size, scenario)
        assert scenario["bars"] * scenario["fontSize"] * 1.3 <= scenario["plotHeight"], scenario
        assert seen["chartsContainLabels"], (size, seen)
    # the text grows with the screen: 16 px at 1920, twice that at 3840
    assert round(sizes["1920x1080"]["rem"]) == 16
    assert round(sizes["3840x2160"]["rem"]) == 32
    assert min(sizes["1920x1080"]["chartFonts"]) >= 16, sizes["1920x1080"]["chartFonts"]
    assert min(sizes["1920x1080"]["textFonts"]) >= 16, sizes["1920x1080"]["textFonts"]
    assert min(sizes["3840x2160"]["chartFonts"]) >= 32
    # all twelve scenarios, each named, from 1280 to 3840 (issue 18: 3 of 12 at 1280)
    assert report["scenarios"] == 12
    for seen in sizes.values():
        assert seen["scenarioChart"]["bars"] == 12, seen["scenarioChart"]
        assert seen["scenarioChart"]["title"] == ""  # no "前 N 项": none left out
    # English dates nobody misreads: "2 Dec 08:00", never "02/12"
    for shown in report["englishTimes"]:
        assert not any(c == "/" for c in shown), report["englishTimes"]
    assert report["englishTimes"], report
    # the layers: what the API sends is what the map draws, and the legend says how many
    layers: dict[str, Any] = report["layers"]  # type: ignore[assignment]
    assert layers["api"]["devices"] >= 8
    assert layers["drawn"]["devices"] == layers["api"]["devices"]
    assert layers["drawn"]["cameras"] == layers["api"]["cameras"] == 2
    assert layers["drawn"]["venues"] == layers["api"]["venues"] == 2
    # one resident in each of two communities (the API's counts), and on the district's
    # map one bubble for their street: a count, never a name
    assert layers["api"]["elderly"] == 2
    assert layers["drawn"]["elderly"] == 1
    assert layers["bubbles"] == ["2"]
    assert "王阿姨" not in layers["mapText"]
    assert "李阿婆" not in layers["mapText"]
    assert layers["alarming"] >= 1  # the manhole, the gas detector …
    assert layers["remembered"] == {"devices": True, "cameras": True}
    assert layers["labels"] == ["小河街道"]
    # a new critical alert: the banner names it in Chinese, the tone was played (the
    # page had been clicked, so the browser allowed it)
    cue: dict[str, Any] = report["cue"]  # type: ignore[assignment]
    assert cue["hidden"] is False
    assert "电梯困人" in cue["text"], cue
    assert cue["sound"] == "played", cue
    assert cue["soundBefore"] == "点一下页面以启用提示音"
    # kiosk: no controls, the tour moves on by itself, a click pauses it
    kiosk: dict[str, Any] = report["kiosk"]  # type: ignore[assignment]
    assert kiosk["langHidden"]
    assert kiosk["moved"] == "小河街道"
    assert kiosk["paused"].startswith("轮播已暂停")
    assert kiosk["badge"] == "轮播 · 每 5 秒"
    keep_screenshots(tmp_path, "cockpit-1280.png", "cockpit-3840.png")
