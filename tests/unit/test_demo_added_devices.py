"""The demo district's watches, outfall sensors and charging ports (issue 20): where the
seeds put them, each watch's wearer fenced around home, and nothing else of the demo
district changed by their coming."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cityeye.demo import build_demo_world
from cityeye.demo.added_devices import FENCE_RADIUS_M, N_OUTFALLS, N_PORTS
from cityeye.domain import World
from cityeye.scenarios.geofence import circle
from cityeye.sourcefile import SourceDoc
from cityeye.world import build_world

ADDED = ("wearable_locator", "water_quality_sensor", "charging_port")


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return build_demo_world(2021)


@pytest.fixture(scope="module")
def world(data: dict[str, Any]) -> World:
    return build_world(SourceDoc(data=data))


def street_of(world: World, area: str | None) -> str:
    return next(a.name for a in world.ancestors(area or "") if a.level == "street")


def test_each_watch_fences_its_wearer_around_home(world: World) -> None:
    watches = [d for d in world.devices.values() if d.kind == "wearable_locator"]
    elderly = [s for s in world.subjects.values() if "elderly_alone" in s.tags]
    assert len(watches) == round(len(elderly) / 3)
    assert len({w.subject for w in watches}) == len(watches)  # one watch a person
    for watch in watches:
        assert watch.subject is not None
        subject = world.subjects[watch.subject]
        assert subject.fence is not None
        assert subject.fence["radius_m"] == FENCE_RADIUS_M
        [door] = [
            d for d in world.devices.values() if d.kind == "door_sensor" and d.subject == subject.id
        ]
        assert door.lat is not None
        assert door.lon is not None
        assert circle(**subject.fence)(door.lat, door.lon)  # home is inside
    fenced = {s.id for s in world.subjects.values() if s.fence}
    assert fenced == {w.subject for w in watches}


def test_outfalls_are_in_hushu_and_ports_in_xiaohe(world: World) -> None:
    kinds = Counter(d.kind for d in world.devices.values())
    assert (kinds["water_quality_sensor"], kinds["charging_port"]) == (N_OUTFALLS, N_PORTS)
    for device in world.devices.values():
        if device.kind == "water_quality_sensor":
            assert street_of(world, device.area) == "湖墅街道"  # 000:334
        if device.kind == "charging_port":
            assert street_of(world, device.area) == "小河街道"  # 004:17
            assert device.building is not None


def test_the_rest_of_the_district_is_as_it_was(
    data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Added last from a stream of their own: the district built without them is the
    same, device for device, save the wearers' fences."""
    monkeypatch.setattr("cityeye.demo.district.add_devices", lambda *_: None)
    before = build_demo_world(2021)
    assert [d for d in data["devices"] if d["kind"] not in ADDED] == before["devices"]
    unfenced = [{k: v for k, v in s.items() if k != "fence"} for s in data["subjects"]]
    assert unfenced == before["subjects"]
    assert {k: v for k, v in data.items() if k not in ("devices", "subjects")} == {
        k: v for k, v in before.items() if k not in ("devices", "subjects")
    }
