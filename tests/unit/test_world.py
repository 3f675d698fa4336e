"""World files: every problem named with its place; a valid file becomes a World."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from cityeye.domain import AreaLevel, PartyKind
from cityeye.sourcefile import parse_text
from cityeye.world import GridLocator, WorldError, build_world, dump_world_file, load_world

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def problems_of(text: str) -> list[str]:
    with pytest.raises(WorldError) as info:
        build_world(parse_text(text))
    return [p.render("w.yaml") for p in info.value.problems]


def test_small_world_loads_with_hierarchy_and_extras() -> None:
    world = load_world(FIXTURES / "world_small.yaml")
    assert world.district.name == "拱墅区"
    assert [a.code for a in world.ancestors("G0002")] == [
        "G0002",
        "330105001001",
        "330105001",
        "330105",
    ]
    assert world.enclosing("G0003", AreaLevel.STREET).name == "小河街道"  # type: ignore[union-attr]
    assert [c.code for c in world.children("330105001")] == ["330105001001", "330105001002"]
    assert world.parties["P-PM1"].extra == {"phone": "0571-0000000"}
    assert world.parties["P-PM1"].non_government
    assert not world.parties["P-GW1"].non_government
    assert world.subjects["S1"].tags == ("elderly_alone",)


def test_three_planted_errors_are_all_named_with_lines() -> None:
    with pytest.raises(WorldError) as info:
        load_world(FIXTURES / "world_three_errors.yaml")
    found = [(p.line, p.path) for p in info.value.problems]
    assert found == [
        (6, "areas[1].level"),
        (7, "areas[2].parent"),
        (11, "devices[0].subject"),
    ]
    messages = " | ".join(p.message for p in info.value.problems)
    assert "'neighbourhood'" in messages
    assert "unknown area '330105009009'" in messages
    assert "unknown subject 'S404'" in messages


def test_parent_must_be_one_level_up() -> None:
    text = """
district: {code: "1", name: D}
areas:
  - {code: S, name: s, level: street, parent: "1"}
  - {code: G, name: g, level: grid, parent: S}
"""
    [problem] = problems_of(text)
    assert "a grid's parent must be a community, but 'S' is a street" in problem


def test_misspelt_section_and_duplicates_and_bad_party_kind() -> None:
    text = """
district: {code: "1", name: D}
device:
  - {id: D1, kind: door_sensor}
areas:
  - {code: S, name: s, level: street, parent: "1"}
  - {code: S, name: s2, level: street, parent: "1"}
parties:
  - {id: P, name: p, kind: police, areas: [S]}
"""
    found = problems_of(text)
    assert any("w.yaml:3: device: unknown section" in p for p in found)
    assert any("w.yaml:7: areas[1].code: 'S' is already used by areas[0]" in p for p in found)
    assert any("parties[0].kind" in p and "'police'" in p for p in found)


def test_invalid_boundary_is_explained() -> None:
    bowtie = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]
    text = yaml.safe_dump(
        {
            "district": {"code": "1", "name": "D"},
            "areas": [
                {"code": "S", "name": "s", "level": "street", "parent": "1"},
                {"code": "C", "name": "c", "level": "community", "parent": "S"},
                {
                    "code": "G",
                    "name": "g",
                    "level": "grid",
                    "parent": "C",
                    "boundary": {"type": "Polygon", "coordinates": bowtie},
                },
            ],
        }
    )
    [problem] = problems_of(text)
    assert "areas[2].boundary: is not a valid polygon: Self-intersection" in problem


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    """An alias bomb (billion laughs) must not expand; the file is refused."""
    path = tmp_path / "bomb.yaml"
    path.write_text("district: &d {code: '1', name: D}\nareas: [*d, *d]\n", encoding="utf-8")
    with pytest.raises(WorldError) as info:
        load_world(path)
    assert [p.path for p in info.value.problems] == ["areas[0]", "areas[1]"]
    assert all("aliases" in p.message for p in info.value.problems)


def test_duplicate_keys_are_reported() -> None:
    found = problems_of("district: {code: '1', name: D}\ndistrict: {code: '2', name: E}\n")
    assert any("district: appears twice" in p for p in found)


def test_json_world_is_accepted(tmp_path: Path) -> None:
    data = yaml.safe_load((FIXTURES / "world_small.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "world.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert len(load_world(path).devices) == 4


def test_dump_round_trip(tmp_path: Path) -> None:
    data = yaml.safe_load((FIXTURES / "world_small.yaml").read_text(encoding="utf-8"))
    path = tmp_path / "again.yaml"
    path.write_text(dump_world_file(data), encoding="utf-8")
    assert load_world(path) == load_world(FIXTURES / "world_small.yaml")


def test_point_finds_its_grid() -> None:
    locate = GridLocator(load_world(FIXTURES / "world_small.yaml"))
    assert len(locate) == 3
    assert locate(30.305, 120.105) == "G0001"
    assert locate(30.305, 120.115) == "G0002"
    assert locate(30.315, 120.11) == "G0003"
    assert locate(30.305, 120.11) == "G0001"  # on the shared border: smallest code
    assert locate(31.0, 121.0) is None


def test_a_point_in_a_hairline_gap_goes_to_the_grid_beside_it() -> None:
    """Real boundaries rounded to 1e-6° leave hairlines; a pin there (0.05 m from two
    grids) still finds one, but a pin 10 m outside the district finds none."""
    world = load_world(FIXTURES / "world_small.yaml")
    g1 = world.areas["G0001"]
    assert g1.boundary is not None
    ring = [[120.10, 30.30], [120.1099995, 30.30], [120.1099995, 30.31], [120.10, 30.31]]
    g1.boundary["coordinates"] = [[*ring, ring[0]]]  # G0001 now stops 0.05 m short
    locate = GridLocator(world)
    assert locate(30.305, 120.1099998) == "G0001"
    assert locate(30.305, 120.0999) is None


def test_party_kinds_split_government_and_social() -> None:
    social = {k for k in PartyKind if k.non_government}
    assert social == {
        PartyKind.PROPERTY,
        PartyKind.OWNERS_COMMITTEE,
        PartyKind.VOLUNTEER,
        PartyKind.ENTERPRISE,
        PartyKind.SOCIAL_ORG,
    }


def test_world_file_routing_errors_are_named() -> None:
    text = """
district: {code: "1", name: D}
areas:
  - {code: S, name: s, level: street, parent: "1"}
parties:
  - {id: P, name: p, kind: property, areas: [S]}
routing:
  - {scenarios: [fire.smoke], area: S}
  - {scenarios: [fire.smoke], party: NOPE, area: X}
  - {scenarios: ["Fire Smoke"], kind: property, co_handler: [community]}
"""
    found = problems_of(text)
    assert any("w.yaml:8: routing[0]: give kind" in p for p in found), found
    assert any("routing[1].party: unknown party 'NOPE'" in p for p in found), found
    assert any("routing[1].area: unknown area 'X'" in p for p in found), found
    assert any("routing[2].scenarios" in p for p in found), found
    assert any("routing[2].co_handler" in p for p in found), found


def test_sla_section_is_read_in_seconds_and_checked() -> None:
    assert load_world(FIXTURES / "world_small.yaml").sla == {"low": {"handle": 3 * 86400}}
    text = """
district: {code: "1", name: D}
sla:
  critical: {accept: 2m, handle: 30m}
  urgent: {handle: 1h}
  high: {respond: 10m, handle: soon}
"""
    found = problems_of(text)
    assert any("sla.urgent" in p for p in found), found
    assert any("sla.high.respond" in p for p in found), found
    assert any("sla.high.handle" in p and "not a duration" in p for p in found), found
    good = build_world(parse_text('district: {code: "1", name: D}\nsla: {critical: {handle: 30m}}'))
    assert good.sla == {"critical": {"handle": 1800}}


# ---------------------------------------------------------------- owner households
def test_households_load_with_exact_areas() -> None:
    world = load_world(FIXTURES / "world_estate.yaml")
    h2 = world.households["H2"]
    assert [(u.building, u.room) for u in h2.units] == [("B1", "102"), ("B2", "101")]
    assert h2.area_in(frozenset({"B1", "B2"})) == 150
    assert h2.area_in(frozenset({"B2"})) == 60
    assert world.households["H7"].units[0].area_m2 == Fraction(177, 2)


def test_household_errors_are_named_with_lines() -> None:
    text = """
district: {code: "1", name: D}
areas:
  - {code: S, name: s, level: street, parent: "1"}
buildings:
  - {id: B1, name: 一幢, area: S}
households:
  - {id: H1, units: [{building: B1, room: "101", area_m2: 80}]}
  - {id: H2, units: [{building: B9, room: "101", area_m2: 80}]}
  - {id: H3, units: [{building: B1, room: "101", area_m2: 70}]}
  - {id: H4, units: [{building: B1, room: "102", area_m2: 70.125}]}
  - {id: H5, units: [{building: B1, room: "103", area: 70}]}
  - {id: H6, units: []}
"""
    found = problems_of(text)
    assert "w.yaml:9: households[1].units[0].building: unknown building 'B9'" in found
    assert "w.yaml:10: households[2].units[0].room: B1 101 is already owned by household 'H1'" in (
        found
    )
    two = "w.yaml:11: households[3].units[0].area_m2: at most two"
    assert any(p.startswith(two) for p in found)
    assert any(p.startswith("w.yaml:12: households[4].units[0]") for p in found)
    assert any(p.startswith("w.yaml:13: households[5].units") for p in found)
