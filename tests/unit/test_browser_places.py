"""Places on the portal in a real browser (issue 17): on a 390×844 phone a resident
drops a pin and reads "长征桥社区 · 长征桥新村3幢" before sending, and the report
carries it; a school is found by name; a pin outside the district is refused in words
that name no field. tests/browser/places.mjs drives the page; this checks what it saw
and what the database holds."""

from __future__ import annotations

import re
from pathlib import Path

from cityeye.store import Store
from cityeye.store.requests import report_events
from serving import FIXTURES, keep_screenshots, run_in_browser


def test_a_resident_sees_where_the_pin_is_before_sending(tmp_path: Path) -> None:
    report, db = run_in_browser(
        tmp_path,
        "places.mjs",
        users={},
        password="unused-password-1",
        serve=("--lateness", "0s"),
        env={},
        world=FIXTURES / "world_places.yaml",
    )
    assert report["errors"] == []
    assert report["external"] == []  # works with the network off
    assert report["steps"] == [
        "pin named",
        "sent",
        "found by name",
        "outside refused",
        "big screens",
    ]
    # the middle of 长征桥社区's first grid is where 长征桥新村3幢 stands
    assert report["pinLabel"] == "已选位置 长征桥社区 · 长征桥新村3幢"
    assert report["address"] == "长征桥社区 · 长征桥新村3幢"  # sent with the report
    assert report["afterSend"] == "未选位置"
    # found by name: the result names what it is in Chinese, never an enum value or id
    [school] = report["results"]
    assert school == "小河路小学楼宇 · 小河路 200 号"
    assert report["searchLabel"] == "已选位置 小河社区 · 小河路小学"
    assert report["searchAddress"] == "小河社区 · 小河路小学"
    assert report["ownAddress"] == "小河路小学东门"  # the resident's own words are kept
    outside = str(report["outside"])
    assert outside.startswith("这个位置不在拱墅区内")
    assert not re.search(r"\blat\b|\blon\b|\bfield\b", outside)
    assert str(report["outsideSend"]).startswith("请在地图上选位置或填写地址")
    # one language at a time: in English the same pin reads in English, the names stay
    assert report["pin1920"] == "Pin: 长征桥社区 · 长征桥新村3幢"
    assert report["pin3840"] == "已选位置 长征桥社区 · 长征桥新村3幢"
    keep_screenshots(tmp_path, "portal-place.png")
    for shot in ("portal-place", "portal-search", "portal-outside"):
        assert (tmp_path / "shots" / f"{shot}.png").stat().st_size > 10_000
    store = Store.open(db)
    try:
        [sent] = report_events(store, ids=[str(report["tracking"])], limit=1)
    finally:
        store.close()
    assert sent.event.attrs["address"] == "长征桥社区 · 长征桥新村3幢"
    assert sent.area == "G0001"  # the grid the pin is in
