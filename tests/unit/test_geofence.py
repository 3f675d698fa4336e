"""Geo-fences (独居老人走失, 001:78653 "实时定位"): a subject's ``fence`` in the world
file, checked with the field at fault, kept through the store, and read by the
``{fence: outside}`` condition that ``elderly.wandering`` fires on.

The scenario's thresholds (15 min outside, critical at 60, edge inclusive) are held in
tests/unit/test_catalogue_rest.py with the rest of the catalogue; this file holds what
the fence itself must do."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityeye.domain import Device, Event, FieldError, Subject
from cityeye.scenarios import Engine, load_catalogue
from cityeye.scenarios.conditions import WorldValues, compile_condition
from cityeye.scenarios.geofence import EARTH_RADIUS_M, circle, polygon
from cityeye.sourcefile import parse_text
from cityeye.store import Store
from cityeye.world import WorldError, build_world
from kit import T0, ev, small_world

PER_M = 180 / (3.141592653589793 * EARTH_RADIUS_M)
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [[120.2, 30.3], [120.21, 30.3], [120.21, 30.31], [120.2, 30.31], [120.2, 30.3]]
    ],
}


def world_text(*fences: Any) -> str:
    return yaml.safe_dump(
        {
            "district": {"code": "330105", "name": "拱墅区"},
            "subjects": [
                {"id": f"E{i}", "tags": ["elderly_alone"], "fence": fence}
                for i, fence in enumerate(fences, 1)
            ],
            "devices": [{"id": "WB1", "kind": "wearable_locator", "subject": "E1"}],
        },
        allow_unicode=True,
    )


def problems_of(*fences: Any) -> list[str]:
    with pytest.raises(WorldError) as info:
        build_world(parse_text(world_text(*fences)))
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def at(lat: float, lon: float, *, device: str | None = "WB1", subject: str | None = None) -> Event:
    event = ev("wearable.position", 0, device=device, subject=subject)
    return replace(event, lat=lat, lon=lon)


# ----------------------------------------------------------------------------- world file
def test_a_fence_in_the_world_file_is_read_as_written() -> None:
    circle_ = {"lat": 30.3, "lon": 120.1, "radius_m": 500}
    world = build_world(parse_text(world_text(circle_, SQUARE)))
    assert world.subjects["E1"].fence == circle_
    assert world.subjects["E2"].fence == SQUARE
    assert world.subjects["E1"].extra == {}  # a declared field, not an extra


@pytest.mark.parametrize(
    ("fence", "problem"),
    [
        (
            {"lat": 30.3, "lon": 120.1, "radius_m": 0},
            "subjects[0].fence.radius_m: must be more than 0 and at most 50000 metres, got 0",
        ),
        (
            {"lat": 30.3, "lon": 120.1, "radius_m": 60_000},
            "subjects[0].fence.radius_m: must be more than 0 and at most 50000 metres, got 60000",
        ),
        (
            {"lat": 91, "lon": 120.1, "radius_m": 5},
            "subjects[0].fence.lat: must be from -90 to 90, got 91",
        ),
        (
            {"lat": 30.3, "lon": 120.1, "radius": 5},
            "subjects[0].fence.radius: unknown field; a circle is {lat, lon, radius_m}",
        ),
        (
            {"lon": 120.1, "radius_m": 5},
            "subjects[0].fence.lat: is required (a circle is {lat, lon, radius_m})",
        ),
        (
            {"lat": "north", "lon": 120.1, "radius_m": 5},
            "subjects[0].fence.lat: must be a number, got 'north'",
        ),
        (
            {"type": "Point", "coordinates": [120.1, 30.3]},
            "subjects[0].fence: a polygon fence is a GeoJSON Polygon, got type 'Point'",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "subjects[0].fence: is not a valid polygon: Self-intersection[0.5 0.5]",
        ),
    ],
)
def test_a_bad_fence_is_named_with_its_field_and_reason(fence: Any, problem: str) -> None:
    assert problems_of(fence) == [problem]


def test_the_store_keeps_a_subjects_fence(tmp_path: Path) -> None:
    world = build_world(parse_text(world_text({"lat": 30.3, "lon": 120.1, "radius_m": 500})))
    store = Store.open(f"sqlite:///{tmp_path / 'cityeye.db'}")
    try:
        store.save_world(world)
        loaded = store.load_world()
    finally:
        store.close()
    assert loaded is not None
    assert loaded.subjects["E1"] == world.subjects["E1"]
    assert loaded.subjects["E1"].fence == {"lat": 30.3, "lon": 120.1, "radius_m": 500}


# ----------------------------------------------------------------------------- geometry
def test_a_circle_includes_its_edge_and_nothing_beyond() -> None:
    contains = circle(30.3, 120.1, 500)
    assert contains(30.3, 120.1)
    assert contains(30.3 + 499.99 * PER_M, 120.1)
    assert not contains(30.3 + 500.01 * PER_M, 120.1)
    assert not contains(30.3 - 500.01 * PER_M, 120.1)

    # east-west: a degree of longitude is shorter by cos(latitude) (0.86 here), so
    # 499 m east is inside, where a test in plain degrees would put it 578 m out
    def east(metres: float) -> float:
        return 120.1 + metres * PER_M / math.cos(math.radians(30.3))

    assert contains(30.3, east(499))
    assert not contains(30.3, east(501))


def test_a_polygon_includes_its_edge() -> None:
    contains = polygon(SQUARE)
    assert contains(30.305, 120.205)
    assert contains(30.3, 120.205)  # on the southern edge
    assert contains(30.31, 120.21)  # a corner
    assert not contains(30.2999, 120.205)
    assert not contains(30.305, 120.2101)


# ----------------------------------------------------------------------------- condition
WORLD = small_world(
    subjects=[
        Subject("E1", "G1", fence={"lat": 30.3, "lon": 120.1, "radius_m": 500}),
        Subject("E2", "G1"),  # no fence
    ]
)


def test_the_condition_reads_the_fence_of_the_events_subject() -> None:
    world = small_world(
        devices=[Device("WB1", "wearable_locator", "G1", subject="E1")],
        subjects=list(WORLD.subjects.values()),
    )
    outside = compile_condition({"fence": "outside"}, "when", WorldValues("330105", world=world))
    inside = compile_condition({"fence": "inside"}, "when", WorldValues("330105", world=world))
    far = 30.3 + 2000 * PER_M
    assert outside(at(far, 120.1), 0)  # the device's subject
    assert outside(at(far, 120.1, device=None, subject="E1"), 0)  # the event's own
    assert (inside(at(30.3, 120.1), 0), outside(at(30.3, 120.1), 0)) == (True, False)
    # no fence, no position, or no subject: neither inside nor outside
    for event in (
        at(far, 120.1, device=None, subject="E2"),
        at(far, 120.1, device=None),
        ev("wearable.position", 0, device="WB1"),
    ):
        assert (outside(event, 0), inside(event, 0)) == (False, False)


def test_a_misspelt_side_is_named() -> None:
    with pytest.raises(FieldError) as info:
        compile_condition({"fence": "outsde"}, "trigger.when", WorldValues("330105", world=WORLD))
    assert (info.value.field, info.value.reason) == (
        "trigger.when.fence",
        "fence takes inside or outside, got 'outsde'",
    )


def test_a_scenario_file_with_a_bad_side_fails_validation(tmp_path: Path) -> None:
    from cityeye.scenarios import load_scenarios

    path = tmp_path / "fence.yaml"
    path.write_text(
        """module: livelihood
scenarios:
  - id: my.fence
    name: {zh: 走失, en: Wandering}
    reads: [wearable.position]
    key: subject
    trigger: {type: threshold, when: {fence: away}}
    severity: high
    resolve: {type: case}
    route: grid_worker
""",
        encoding="utf-8",
    )
    result = load_scenarios([path])
    assert result.render_problems() == [
        f"{path}:7: scenarios[0].trigger.when.fence: fence takes inside or outside, got 'away'"
    ]


def test_wandering_off_raises_then_coming_home_resolves_with_a_world_from_a_file() -> None:
    """End to end: the world file's fence, the catalogue's scenario, the engine."""
    world = build_world(parse_text(world_text({"lat": 30.3, "lon": 120.1, "radius_m": 500})))
    [scenario] = [s for s in load_catalogue() if s.id == "elderly.wandering"]
    engine = Engine([scenario], world)
    far = 30.3 + 1000 * PER_M
    for minute, lat in ((0, 30.3), (5, far), (30, far), (40, 30.3)):
        engine.feed(replace(ev("wearable.position", minute, device="WB1"), lat=lat, lon=120.1))
    engine.finish()
    [alert] = engine.alerts
    assert (alert.key, alert.severity.value) == ("E1", "high")
    assert (alert.opened_at - T0).total_seconds() == 20 * 60
    assert alert.resolved_at is not None
    assert (alert.resolved_at - T0).total_seconds() == 40 * 60


# ----------------------------------------------------------------------------- order
FENCED = small_world(
    devices=[
        Device("WB1", "wearable_locator", "G1", subject="E1"),
        Device("WB2", "wearable_locator", "G1", subject="E2"),
    ],
    subjects=[
        Subject("E1", "G1", fence={"lat": 30.3, "lon": 120.1, "radius_m": 500}),
        Subject("E2", "G1", fence={"lat": 30.3, "lon": 120.1, "radius_m": 500}),
    ],
)
LATENESS_MIN = 10
#: (minute, watch, metres north of home: inside the fence up to 500)
positions = st.lists(
    st.tuples(
        st.floats(0, 6 * 60, allow_nan=False),
        st.sampled_from(["WB1", "WB2"]),
        st.sampled_from([0, 499, 500, 501, 3000]),
    ),
    min_size=1,
    max_size=80,
)


def wandering_alerts(events: list[Event], snapshot_at: int | None = None) -> list[Any]:
    [scenario] = [s for s in load_catalogue() if s.id == "elderly.wandering"]
    engine = Engine([scenario], FENCED, lateness_s=LATENESS_MIN * 60)
    for i, event in enumerate(events):
        if i == snapshot_at:
            data = engine.snapshot()
            engine = Engine([scenario], FENCED, lateness_s=LATENESS_MIN * 60)
            engine.restore(data)
        engine.feed(event)
    engine.finish()
    return sorted(
        (a.id, a.severity, a.opened_at, a.resolved_at, a.count, tuple(a.event_ids))
        for a in engine.alerts
    )


def walk(stream: list[tuple[float, str, int]]) -> list[Event]:
    return [
        replace(
            ev("wearable.position", round(minute, 2), device=watch, event_id=f"p{i}"),
            lat=30.3 + north * PER_M,
            lon=120.1,
        )
        for i, (minute, watch, north) in enumerate(sorted(stream, key=lambda x: x[0]))
    ]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=positions, seed=st.integers(0, 2**32 - 1), cut=st.floats(0, 1))
def test_positions_in_any_order_within_the_lateness_give_the_same_alerts(
    stream: list[tuple[float, str, int]], seed: int, cut: float
) -> None:
    """The fence is a pure test of one event against the world, so the wandering
    scenario keeps the engine's promise: arrival order within the lateness, or a
    snapshot and restore part-way, changes no alert."""
    events = walk(stream)
    rng = random.Random(seed)
    arrival = sorted(events, key=lambda e: e.ts.timestamp() + rng.uniform(0, LATENESS_MIN * 60 - 1))
    in_order = wandering_alerts(events)
    assert wandering_alerts(arrival) == in_order
    assert wandering_alerts(events, snapshot_at=int(cut * len(events))) == in_order
