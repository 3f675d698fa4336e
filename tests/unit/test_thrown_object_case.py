"""高空抛物 (001:75993) from a façade camera to the case a person reads: the alert is
per building and floor, and the case's heading names the building and the floor — not
the building's id (tests/unit/test_catalogue_rest.py holds the scenario's edges)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from cityeye.api.presenters import case_heading
from cityeye.cases import CaseBook
from cityeye.domain import Device, PartyKind
from cityeye.scenarios import Engine, load_catalogue
from cityeye.world import load_world
from kit import at, ev

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SID = "security.thrown_object"


def test_a_throw_seen_by_a_facade_camera_becomes_a_case_headed_by_building_and_floor() -> None:
    world = load_world(FIXTURES / "world_places.yaml")  # B1 is 长征桥新村3幢
    camera = Device("FC1", "camera", "G0001", building="B1")
    world = replace(world, devices=world.devices | {camera.id: camera})
    [scenario] = [s for s in load_catalogue() if s.id == SID]
    engine = Engine([scenario], world)
    for minute, floor in ((0, 12), (2, 12), (5, None)):
        attrs = {"floor": floor, "window": f"{floor}-03"} if floor else {}
        engine.feed(ev("camera.detection", minute, device="FC1", label="thrown_object", **attrs))
    engine.finish()
    assert [(a.key, a.count) for a in engine.alerts] == [("B1/12", 2), ("B1", 1)]

    book = CaseBook(world, {SID: PartyKind.COMMUNITY}, names={SID: "治安管理·高空抛物"})
    cases = [book.on_alert("opened", alert, at(10)) for alert in engine.alerts]
    headings = [case_heading(c, world) for c in cases if c is not None]
    assert headings == [
        "治安管理·高空抛物 · 长征桥新村3幢（12）",
        "治安管理·高空抛物 · 长征桥新村3幢",
    ]
