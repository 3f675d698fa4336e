"""The cockpit's 响应标准 figures (issue 19 item 4) in a real Chromium
(tests/browser/standards.mjs): the hand-made November of test_standards.py, stored
while the server runs, read on the district and on 大关街道, in Chinese and English.

The server runs on the wall clock, long after November, so every step a case has not
reached is missed by now (none pending): district-wide 1 分钟响应率 is 5 of 8 (x1, x2,
x4, d1, d3 met; x3, x5, d2 missed), 5 分钟到达率 4 of 8, 现场处结率 5 of 6; in 大关街道
5 分钟到达率 is 1 of 3."""

from __future__ import annotations

from pathlib import Path

from test_cockpit_api import two_streets
from test_standards import month

from cityeye.store import Store
from serving import keep_screenshots, run_in_browser

PASSWORD = "leader-pass-123"


def test_the_cockpit_shows_the_standards_of_the_area_on_screen(tmp_path: Path) -> None:
    db = tmp_path / "browser.db"

    def seed(_base: str) -> None:
        store = Store.open(f"sqlite:///{db}")
        try:
            store.save_cases(month())
        finally:
            store.close()

    shot = tmp_path / "shots" / "cockpit-standards.png"
    report, _ = run_in_browser(
        tmp_path,
        "standards.mjs",
        users={"root": ("--role", "admin")},
        password=PASSWORD,
        before=seed,
        world=two_streets(tmp_path),
        env={"USERNAME": "root", "SHOT": str(shot), "STREET": "大关街道"},
    )
    assert report["errors"] == [], report["errors"]
    assert report["external"] == []
    assert report["period"] == ["2026-11-01", "2026-11-30"]  # the data's own month
    district = report["district"]
    assert district["title"] == "响应标准"
    shown = {f["step"]: (f["label"], f["value"]) for f in district["figs"]}
    assert shown == {
        "take_call": ("1 分钟响应率", "62.5%"),
        "set_out": ("3 分钟出动率", "100.0%"),
        "start": ("5 分钟到达率", "50.0%"),
        "on_site": ("现场处结率", "83.3%"),
    }
    hover = {f["step"]: f["hover"] for f in district["figs"]}
    assert "达标 5 / 应计 8" in hover["take_call"]
    assert district["inside"]
    assert district["shown"] == 4  # in Chinese at 1920 every figure fits
    assert district["lastInside"]
    street = {f["step"]: f["value"] for f in report["street"]["figs"]}
    assert street == {
        "take_call": "66.7%",
        "set_out": "100.0%",
        "start": "33.3%",
        "on_site": "100.0%",
    }
    english = report["english"]
    assert english["title"] == "Response standards"
    assert english["figs"][0]["label"] == "1-min response rate"
    assert "met 2 of 3" in english["figs"][0]["hover"]
    assert english["inside"]
    assert english["lastInside"]  # 详情 is still on the strip
    assert english["shown"] >= 1
    assert english["headingHover"].count("\n") == 3  # all four rates, shown or not
    assert "5-min arrival rate" not in english["headingHover"]  # the steps' names
    assert "Start handling in 5 min: met 1 of 3 = 33.3%" in english["headingHover"]
    small = report["small"]
    assert small["inside"]
    assert small["lastInside"]
    assert small["shown"] <= english["shown"]
    keep_screenshots(tmp_path, "cockpit-standards.png")
