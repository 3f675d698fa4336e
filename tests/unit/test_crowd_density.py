"""Crowd density (issue 20): 湖滨九里 sets "每平方米 0.5人" as its warning value (seed 001,
lines 35562-35566). A venue's floor area comes from the world file (``area_m2``);
``security.crowding`` warns at ≥ 0.5 persons/m² and falls back to the capacity rule
(80 % for 10 min) when the area is not known."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from cityeye.domain import Alert, Device, Event, Severity, Venue
from cityeye.scenarios import Engine, load_catalogue
from cityeye.scenarios.spec import load_scenarios
from cityeye.sourcefile import parse_text
from cityeye.store import Store
from cityeye.world import WorldError, build_world
from kit import at, ev, small_world

WORLD = small_world(
    devices=[
        Device("CC1", "crowd_counter", "G1", venue="HB"),  # 湖滨: 2000 m²
        Device("CC2", "crowd_counter", "G1", venue="SQ"),  # a square of unknown area
    ],
    venues=[
        Venue("HB", "G1", ("public_space",), area_m2=2000.0),
        Venue("SQ", "G1", ("public_space",)),
    ],
)


def crowd(m: float, count: int, device: str = "CC1", **attrs: object) -> Event:
    return ev("crowd.count", m, device=device, count=count, **attrs)


def run(events: list[Event]) -> list[Alert]:
    engine = Engine([s for s in load_catalogue() if s.id == "security.crowding"], WORLD)
    for event in events:
        engine.feed(event)
    engine.finish()
    return engine.alerts


def minutes(t: datetime) -> float:
    return (t - at(0)).total_seconds() / 60


def seen(alerts: list[Alert]) -> list[tuple[str, Severity, float, float | None]]:
    """(venue, severity, opened, resolved) in minutes from the start."""
    return [
        (a.key, a.severity, minutes(a.opened_at), a.resolved_at and minutes(a.resolved_at))
        for a in alerts
    ]


def test_exactly_half_a_person_per_square_metre_warns_at_once() -> None:
    assert seen(run([crowd(0, 1000)])) == [("HB", Severity.MEDIUM, 0, None)]


def test_just_under_half_a_person_per_square_metre_does_not() -> None:
    assert run([crowd(0, 999), crowd(10, 999), crowd(30, 999)]) == []


def test_with_an_area_the_capacity_rule_does_not_apply() -> None:
    """80 % of a capacity the camera reports is not the density the seed warns at."""
    assert run([crowd(0, 900, capacity=1000), crowd(10, 900, capacity=1000)]) == []


def test_without_an_area_the_capacity_rule_still_warns() -> None:
    events = [crowd(0, 800, "CC2", capacity=1000), crowd(10, 800, "CC2", capacity=1000)]
    assert seen(run(events)) == [("SQ", Severity.MEDIUM, 10, None)]


def test_without_an_area_or_a_capacity_nothing_is_judged() -> None:
    assert run([crowd(0, 50_000, "CC2"), crowd(10, 50_000, "CC2")]) == []


def test_capacity_makes_it_high_and_under_0_4_per_m2_resolves() -> None:
    events = [crowd(0, 1000), crowd(5, 1500, capacity=1500), crowd(20, 800), crowd(30, 799)]
    assert seen(run(events)) == [("HB", Severity.HIGH, 0, 30)]


def test_0_4_per_m2_is_not_under_it_the_alert_stays_open() -> None:
    assert seen(run([crowd(0, 1000), crowd(20, 800)])) == [("HB", Severity.MEDIUM, 0, None)]


def test_the_venue_named_in_the_event_gives_the_area() -> None:
    """A counter that names its venue (``attrs.venue``) reads that venue's area."""
    assert seen(run([ev("crowd.count", 0, count=1000, venue="HB")])) == [
        ("HB", Severity.MEDIUM, 0, None)
    ]


# ------------------------------------------------------------------ the world file
WORLD_TEXT = """
district: {code: "1", name: D}
areas: [{code: S, name: s, level: street, parent: "1"}]
venues:
  - {id: HB, area: S, tags: [public_space], name: 湖滨步行街, area_m2: %s}
"""


def test_area_m2_is_read_from_the_world_file_and_kept_by_the_store(tmp_path: Path) -> None:
    world = build_world(parse_text(WORLD_TEXT % "12000"))
    assert world.venues["HB"].area_m2 == 12000.0
    assert world.venues["HB"].extra == {}
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    store.save_world(world)
    again = store.load_world()
    assert again is not None
    assert (again.venues["HB"].area_m2, again.venues["HB"].extra) == (12000.0, {})


@pytest.mark.parametrize("bad", ["0", "-5", "lots"])
def test_a_bad_area_names_the_field(bad: str) -> None:
    with pytest.raises(WorldError) as info:
        build_world(parse_text(WORLD_TEXT % bad))
    assert [p.path for p in info.value.problems] == ["venues[0].area_m2"]


def test_an_unknown_venue_field_in_a_condition_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "module: public_security\nscenarios:\n  - id: my.crowd\n"
        "    name: {zh: 测试, en: Test}\n    reads: [crowd.count]\n    key: venue\n"
        "    trigger: {type: threshold, when: {attrs.count: {gte: {ref: venue.size}}}}\n"
        "    severity: medium\n    resolve: {type: case}\n    route: government\n",
        encoding="utf-8",
    )
    problems = load_scenarios([path]).render_problems()
    assert len(problems) == 1
    assert "scenarios[0].trigger.when.attrs.count.gte.ref: unknown venue field" in problems[0]
