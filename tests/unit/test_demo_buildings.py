"""The demo district's named buildings (issue 17): every building a device names has a
name, an address and a point in its grid; the section comes from a random stream of
its own, so nothing else in the demo world changes."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from cityeye.demo import build_demo_world, district
from cityeye.domain import AreaLevel, World
from cityeye.sourcefile import SourceDoc
from cityeye.world import GridLocator, build_world
from cityeye.world.places import Places


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return build_demo_world(2021)


@pytest.fixture(scope="module")
def world(data: dict[str, Any]) -> World:
    return build_world(SourceDoc(data=data))


def test_the_buildings_come_from_their_own_random_stream(
    data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the section the world is the very same: it draws nothing from the
    district's random numbers (so `cityeye simulate` makes the same day of it)."""
    assert build_demo_world(2021)["buildings"] == data["buildings"]  # same seed, same list
    monkeypatch.setattr(district, "demo_buildings", lambda *_: [])
    without = build_demo_world(2021)
    assert without.pop("buildings") == []
    assert list(data)[: len(without)] == list(without)  # the same sections, in order
    assert {k: data[k] for k in without} == without
    assert data["buildings"]


def test_every_building_a_device_names_is_a_named_building_in_its_grid(world: World) -> None:
    named = {d.building for d in world.devices.values() if d.building}
    assert named <= set(world.buildings)
    locate = GridLocator(world)
    for b in world.buildings.values():
        assert b.lat is not None
        assert b.lon is not None
        assert locate(b.lat, b.lon) == b.area, b.id
        assert b.name
        assert b.address


def test_compounds_and_their_buildings_read_like_addresses(world: World) -> None:
    residential = [b for b in world.buildings.values() if "residential" in b.tags]
    assert len(residential) > 3000
    for b in residential:
        compound = b.extra["compound"]
        assert re.fullmatch(re.escape(compound) + r"\d+幢", b.name or ""), b
        # 石祥路87号善贤人家1幢: a road of the demo's, a house number, the building
        assert re.fullmatch(r"\w+?[路街]\d+号" + re.escape(b.name or ""), b.address or ""), b
        # a seed's estate says where it comes from; everything else says it is made up
        assert ("estate_source" in b.extra) != bool(b.extra.get("generated")), b
    seed_estates = {b.extra["compound"] for b in residential if "estate_source" in b.extra}
    assert {"善贤人家", "七古登公寓", "庆隆苑"} <= seed_estates
    # a compound is one grid's, so no two buildings of the district share a name
    assert len({b.name for b in residential}) == len(residential)


def test_every_community_has_its_centre_and_some_schools_and_markets(world: World) -> None:
    places = [b for b in world.buildings.values() if "residential" not in b.tags]
    tags = Counter(t for b in places for t in b.tags)
    communities = world.at_level(AreaLevel.COMMUNITY)
    assert tags["community_centre"] == len(communities)
    assert tags["school"] > 10
    assert tags["market"] > 10
    for b in places:
        assert b.extra["generated"] is True
        community = world.enclosing(b.area or "", AreaLevel.COMMUNITY)
        assert community is not None
        if "community_centre" in b.tags:
            assert b.name == f"{community.name}党群服务中心"


def test_a_pin_on_a_demo_building_is_named_by_its_community_and_the_building(
    world: World,
) -> None:
    places = Places(world)
    for b in list(world.buildings.values())[::97]:
        assert b.lat is not None
        assert b.lon is not None
        where = places.reverse(b.lat, b.lon)
        assert where.nearest is not None
        assert where.nearest.distance_m == 0
        community = world.enclosing(b.area or "", AreaLevel.COMMUNITY)
        assert community is not None
        assert where.label == f"{community.name} · {where.nearest.place.name}"
    # and by name: a seed's estate and its buildings, first the exact name
    found = [p.name for p in places.search("善贤人家", 3)]
    assert found == ["善贤人家1幢", "善贤人家2幢", "善贤人家3幢"]
