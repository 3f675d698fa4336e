"""Places, not coordinates (issue 17): the world file's buildings, and the index that
names a point ("长征桥社区 · 长征桥新村3幢") and finds places by name."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape

from cityeye.cases.book import CaseBook
from cityeye.domain import Alert, Severity, World
from cityeye.sourcefile import parse_text
from cityeye.store import Store
from cityeye.world import WorldError, build_world, load_world
from cityeye.world.places import NEAR_M, PlaceKind, Places, distance_m, fold

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
WORLD = load_world(FIXTURES / "world_places.yaml")
PLACES = Places(WORLD)

HEAD = """
district: {code: "1", name: D}
areas:
  - {code: S, name: s, level: street, parent: "1"}
  - {code: C, name: c, level: community, parent: S}
  - code: G
    name: g
    level: grid
    parent: C
    boundary:
      type: Polygon
      coordinates: [[[120.0, 30.0], [120.01, 30.0], [120.01, 30.01], [120.0, 30.01], [120.0, 30.0]]]
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(WorldError) as info:
        build_world(parse_text(text))
    return [p.render("w.yaml") for p in info.value.problems]


# ------------------------------------------------------------------ the world file
def test_buildings_and_venue_addresses_load() -> None:
    b1 = WORLD.buildings["B1"]
    assert (b1.name, b1.area, b1.tags) == ("长征桥新村3幢", "G0001", ("residential",))
    assert b1.address == "长征桥路 12 号长征桥新村 3 幢"
    assert (b1.lat, b1.lon) == (30.305, 120.105)
    assert WORLD.buildings["B4"].extra == {"floors": 2}  # extra fields are kept
    assert WORLD.venues["V1"].address == "长征桥路 88 号"
    assert WORLD.venues["V2"].address is None


def test_a_world_file_without_buildings_loads_as_before() -> None:
    world = load_world(FIXTURES / "world_small.yaml")
    assert world.buildings == {}
    assert world.devices["D1"].building == "B1"  # an id, as before: nothing to check it by


def test_building_problems_are_named_with_their_lines() -> None:
    text = (
        HEAD
        + """buildings:
  - {id: B1, name: 一幢, area: G, lat: 30.005, lon: 120.005}
  - {id: B1, name: 二幢, area: G}
  - {id: B3, area: G}
  - {id: B4, name: 四幢, area: NOPE}
  - {id: B5, name: 五幢, area: G, lat: 30.005}
  - {id: B6, name: 六幢, area: G, lat: 30.5, lon: 120.005}
devices:
  - {id: D1, kind: smoke_detector, building: B1}
  - {id: D2, kind: smoke_detector, building: B404}
"""
    )
    found = problems_of(text)
    assert found == [
        "w.yaml:15: buildings[1].id: 'B1' is already used by buildings[0]",
        "w.yaml:16: buildings[2].name: Field required",
        "w.yaml:17: buildings[3].area: unknown area 'NOPE'",
        "w.yaml:18: buildings[4]: lat and lon must be given together",
        "w.yaml:19: buildings[5].lat: the point (30.5, 120.005) lies outside its area 'G'",
        "w.yaml:22: devices[1].building: unknown building 'B404'",
    ]


def test_unknown_section_message_lists_buildings() -> None:
    [problem] = problems_of(HEAD + "building:\n  - {id: B1, name: x, area: G}\n")
    assert "unknown section" in problem
    assert "buildings" in problem


def test_buildings_survive_the_database(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        store.save_world(WORLD)
        assert store.load_world() == WORLD
        store.save_world(WORLD)  # replacing is idempotent
        assert store.load_world() == WORLD
    finally:
        store.close()


# ------------------------------------------------------------------------ reverse
def test_a_pin_by_a_building_is_named_by_community_and_building() -> None:
    where = PLACES.reverse(30.3051, 120.1052)
    assert where.inside
    assert where.grid is not None
    assert where.grid.code == "G0001"
    assert (where.community.name, where.street.name) == ("长征桥社区", "小河街道")  # type: ignore[union-attr]
    assert where.nearest is not None
    assert where.nearest.place.id == "B1"
    assert 10 < where.nearest.distance_m < 30
    assert where.label == "长征桥社区 · 长征桥新村3幢"


def test_with_nothing_near_the_pin_is_named_by_street_and_grid() -> None:
    where = PLACES.reverse(30.3010, 120.1190)  # G0002's far corner, > 200 m from V1
    assert where.nearest is None
    assert where.label == "小河街道 · 长征桥社区第2网格"


def test_a_venue_names_a_pin_too_but_never_a_private_one() -> None:
    assert PLACES.reverse(30.3056, 120.1154).label == "长征桥社区 · 康乐保健品体验店"
    near_v3 = PLACES.reverse(30.3160, 120.1050)  # the 警务室 is tagged private
    assert near_v3.nearest is None
    assert near_v3.label == "小河街道 · 小河社区第1网格"


def test_an_area_without_a_boundary_is_found_where_its_grids_are() -> None:
    [community] = PLACES.search("小河社区", 1)  # only its grid has a boundary
    assert community.lat is not None
    assert community.lon is not None
    where = PLACES.reverse(community.lat, community.lon)
    assert where.community is not None
    assert where.community.code == community.id


def test_an_areas_point_is_inside_one_of_its_grids_not_on_a_border() -> None:
    """Where search moves the pin for a street or community: the middle of its largest
    grid (the middle of 长征桥社区 would be the line between its two grids)."""
    grids = {a.code: shape(a.boundary) for a in WORLD.areas.values() if a.boundary}
    for place in PLACES.search("社区", 20) + PLACES.search("街道", 20):
        assert place.lat is not None
        assert place.lon is not None
        point = Point(place.lon, place.lat)
        [inside] = [code for code, geom in grids.items() if geom.intersects(point)]
        assert WORLD.within(inside, place.id)
        assert grids[inside].contains(point)  # not on its edge
    [community] = PLACES.search("长征桥社区", 1)
    assert PLACES.reverse(community.lat, community.lon).label == "长征桥社区 · 长征桥新村3幢"  # type: ignore[arg-type]


def test_outside_the_district_there_is_no_place() -> None:
    where = PLACES.reverse(31.2304, 121.4737)  # Shanghai
    assert not where.inside
    assert (where.grid, where.community, where.street, where.nearest) == (None,) * 4
    assert where.label is None


def test_the_radius_is_kept() -> None:
    b3 = WORLD.buildings["B3"]
    assert b3.lat is not None
    assert b3.lon is not None
    # straight north of the school: 190 m finds it, 210 m does not
    step = 1 / 111_195  # degrees of latitude a metre
    assert PLACES.reverse(b3.lat + 190 * step, b3.lon).nearest is not None
    assert PLACES.reverse(b3.lat + 210 * step, b3.lon).nearest is None
    assert NEAR_M == 200


def test_distance_is_in_metres() -> None:
    # one minute of latitude is a nautical mile, give or take the Earth's shape
    assert distance_m(30.0, 120.0, 30.0 + 1 / 60, 120.0) == pytest.approx(1853, abs=3)
    assert distance_m(30.0, 120.0, 30.0, 120.0) == 0


def _grid_world(buildings: list[tuple[float, float]]) -> World:
    """One 1.1 km × 1 km grid with buildings at the given points."""
    lines = [
        f"  - {{id: B{i}, name: 楼{i}, area: G, lat: {lat}, lon: {lon}}}"
        for i, (lat, lon) in enumerate(buildings)
    ]
    return build_world(parse_text(HEAD + "buildings:\n" + "\n".join(lines) + "\n"))


inside = st.tuples(
    st.floats(30.0001, 30.0099, allow_nan=False), st.floats(120.0001, 120.0099, allow_nan=False)
)


@settings(max_examples=60, deadline=None)
@given(points=st.lists(inside, min_size=1, max_size=25, unique=True), pick=st.integers(0))
def test_a_buildings_own_point_names_that_building(
    points: list[tuple[float, float]], pick: int
) -> None:
    """Wherever the buildings stand, the pin on one of them names it (or one standing
    on the very same spot), and the nearest is never farther than the bucketed search
    says: the brute-force nearest agrees."""
    places = Places(_grid_world(points))
    lat, lon = points[pick % len(points)]
    where = places.reverse(lat, lon)
    assert where.nearest is not None
    assert where.nearest.distance_m == 0
    assert (where.nearest.place.lat, where.nearest.place.lon) == (lat, lon)
    assert where.label == f"c · {where.nearest.place.name}"


@settings(max_examples=60, deadline=None)
@given(points=st.lists(inside, min_size=1, max_size=25), pin=inside)
def test_the_bucketed_nearest_is_the_true_nearest(
    points: list[tuple[float, float]], pin: tuple[float, float]
) -> None:
    places = Places(_grid_world(points))
    found = places.nearest(*pin)
    truth = min(distance_m(*pin, lat, lon) for lat, lon in points)
    if truth <= NEAR_M:
        assert found is not None
        assert found.distance_m == pytest.approx(truth)
    else:
        assert found is None


# ------------------------------------------------------------------------- search
def names(text: str, limit: int = 8) -> list[str]:
    return [p.name for p in PLACES.search(text, limit)]


def test_search_ranks_the_exact_name_then_prefixes_then_the_rest() -> None:
    assert names("长征桥社区") == ["长征桥社区", "长征桥社区第1网格", "长征桥社区第2网格"]
    # prefixes: the community first, then the compound (once: its first 幢), then
    # grids; then a place on 长征桥路 by its address
    assert names("长征桥") == [
        "长征桥社区",
        "长征桥新村3幢",
        "长征桥社区第1网格",
        "长征桥社区第2网格",
        "康乐保健品体验店",
    ]
    # the compound named whole: each of its 幢, 3 before 12
    assert names("长征桥新村") == ["长征桥新村3幢", "长征桥新村12幢"]
    assert names("小学") == ["小河路小学"]


def test_search_reads_addresses_and_the_ways_people_write() -> None:
    assert names("长征桥路 88") == ["康乐保健品体验店"]  # by its address
    assert names("长征桥新村３号楼") == ["长征桥新村3幢"]  # full-width 3, 号楼 for 幢
    assert names("长征桥新村 12栋") == ["长征桥新村12幢"]
    assert names("新村 3幢") == ["长征桥新村3幢"]  # every word, somewhere
    assert names("   ") == []
    assert names("长征桥", limit=2) == ["长征桥社区", "长征桥新村3幢"]
    assert names("长征桥新村", limit=1) == ["长征桥新村3幢"]


def test_search_finds_no_person_no_device_and_nothing_private() -> None:
    for text in ("王阿姨", "S1", "D1", "door_sensor", "警务室", "elderly"):
        assert names(text) == [], text
    kinds = {p.kind for p in PLACES.search("小河", 20)}
    assert kinds <= set(PlaceKind)


def test_fold_is_what_search_compares() -> None:
    assert fold(" 长征桥 新村·３号楼 ") == "长征桥新村3幢"
    assert fold("ABC") == "abc"


def test_a_case_about_a_building_is_titled_by_its_name() -> None:
    """Smoke in B2 opened a case titled "… · B2": now it reads 长征桥新村12幢."""
    at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    book = CaseBook(WORLD, {}, names={"fire.smoke": "烟感报警"})
    alert = Alert("A1", "fire.smoke", "B2", Severity.CRITICAL, at, area="G0001")
    case = book.on_alert("opened", alert, at)
    assert case is not None
    assert case.title == "烟感报警 · 长征桥新村12幢"
