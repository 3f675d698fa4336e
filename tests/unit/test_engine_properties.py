"""Engine-wide properties: order independence within the lateness, snapshots that lose
nothing, bounded timers, duplicates, and scenario files that say what is wrong."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cityeye.cli import app
from cityeye.domain import Alert, Device, Event, Module, Subject, Venue
from cityeye.scenarios import Engine, LoadedScenario, load_catalogue, load_scenarios
from cityeye.scenarios.spec import ScenarioConfig
from kit import ev, small_world

LATENESS_MIN = 10
WORLD = small_world(
    devices=[
        *(Device(f"AG{i}", "access_gate", "G1") for i in range(3)),
        *(Device(f"BN{i}", "bin_sensor", "G1") for i in range(3)),
        *(Device(f"EL{i}", "elevator_monitor", "G1") for i in range(2)),
        *(Device(f"SD{i}", "smoke_detector", "G1", building=f"B{i % 2}") for i in range(4)),
        *(Device(f"DS{i}", "door_sensor", "G1", subject=f"S{i}") for i in range(3)),
        Device("PM0", "power_meter", "G1"),
        Device("PK0", "parking_sensor", "G1", tags=("filial",)),
    ],
    subjects=[Subject(f"S{i}", "G1", ("elderly_alone",)) for i in range(3)],
    venues=[Venue(f"U{i}", "G1", ("unit",)) for i in range(2)],
)
#: A colour code whose terms leave the window within the stream (issue 20): the
#: score at a time must not depend on the arrival order within the lateness.
SCORE = ScenarioConfig.model_validate(
    {
        "id": "test.score",
        "name": {"zh": "测试评分", "en": "test score"},
        "reads": ["test.points", "test.state"],
        "key": "venue",
        "tags": ["unit"],
        "score": {
            "base": 100,
            "window": "2h",
            "red_below": 60,
            "green_above": 80,
            "terms": [
                {
                    "label": {"zh": "分", "en": "points"},
                    "when": {"kind": "test.points"},
                    "points": 1,
                    "per": "attrs.points",
                },
                {
                    "label": {"zh": "状态", "en": "state"},
                    "when": {"kind": "test.state"},
                    "points": 1,
                    "per": "attrs.points",
                    "state": "s",
                },
            ],
        },
        "trigger": {"type": "score", "colour": ["yellow", "red"]},
        "severity": "low",
        "upgrade": [{"severity": "high", "trigger": {"type": "score", "colour": "red"}}],
        "resolve": {"type": "score", "colour": "green"},
        "route": "government",
    }
)
SCENARIOS = [
    s
    for s in load_catalogue()
    if s.id
    in {
        "access.forced",
        "garbage.overflow",
        "elevator.ebike",
        "fire.smoke",
        "power.overload",
        "elderly.inactive",
        "parking.filial_overstay",
        "access.held_open",
    }
] + [LoadedScenario(SCORE, Module.EMERGENCY, "test", None)]

# one random event: (minute, kind, device, attrs)
event_spec = st.one_of(
    st.tuples(st.just("access.denied"), st.sampled_from(["AG0", "AG1", "AG2"]), st.just({})),
    st.tuples(
        st.just("bin.fill"),
        st.sampled_from(["BN0", "BN1"]),
        st.integers(0, 100).map(lambda v: {"level": v}),
    ),
    st.tuples(st.just("elevator.ebike_detected"), st.sampled_from(["EL0", "EL1"]), st.just({})),
    st.tuples(st.just("smoke.alarm"), st.sampled_from(["SD0", "SD1", "SD2"]), st.just({})),
    st.tuples(
        st.just("meter.reading"),
        st.just("PM0"),
        st.integers(10, 40).map(lambda a: {"current_a": a, "rated_a": 20, "leakage_ma": 5}),
    ),
    st.tuples(st.just("door.open"), st.sampled_from(["DS0", "DS1"]), st.just({})),
    st.tuples(st.sampled_from(["parking.occupied", "parking.freed"]), st.just("PK0"), st.just({})),
    st.tuples(
        st.sampled_from(["test.points", "test.state"]),
        st.just(""),
        st.fixed_dictionaries(
            {
                "venue": st.sampled_from(["U0", "U1"]),
                "points": st.sampled_from([-25, -15.5, -10, -0.01, 5, 20.25]),
            }
        ),
    ),
)
streams = st.lists(
    st.tuples(st.floats(0, 36 * 60, allow_nan=False), event_spec), min_size=1, max_size=120
)


def build(stream: list[tuple[float, tuple[str, str, dict[str, Any]]]]) -> list[Event]:
    events = []
    for i, (minute, (kind, device, attrs)) in enumerate(sorted(stream, key=lambda x: x[0])):
        events.append(ev(kind, round(minute, 2), device=device or None, event_id=f"x{i}", **attrs))
    return events


def alerts_of(events: list[Event], snapshot_at: int | None = None) -> list[tuple[Any, ...]]:
    engine = Engine(SCENARIOS, WORLD, lateness_s=LATENESS_MIN * 60)
    for i, event in enumerate(events):
        if snapshot_at is not None and i == snapshot_at:
            data = engine.snapshot()
            engine = Engine(SCENARIOS, WORLD, lateness_s=LATENESS_MIN * 60)
            engine.restore(data)
        engine.feed(event)
    engine.finish()
    return sorted(key(a) for a in engine.alerts)


def key(a: Alert) -> tuple[Any, ...]:
    return (a.id, a.severity, a.opened_at, a.resolved_at, a.count, tuple(a.event_ids))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=streams, seed=st.integers(0, 2**32 - 1))
def test_shuffling_within_the_lateness_changes_no_alert(
    stream: list[tuple[float, tuple[str, str, dict[str, Any]]]], seed: int
) -> None:
    """Each event may arrive up to (not including) the lateness after its time; no
    arrival order that this allows changes any alert."""
    events = build(stream)
    rng = random.Random(seed)
    arrival = sorted(events, key=lambda e: e.ts.timestamp() + rng.uniform(0, LATENESS_MIN * 60 - 1))
    assert alerts_of(arrival) == alerts_of(events)


@settings(max_examples=60, deadline=None)
@given(stream=streams, cut=st.floats(0, 1))
def test_snapshot_and_restore_mid_stream_loses_nothing(
    stream: list[tuple[float, tuple[str, str, dict[str, Any]]]], cut: float
) -> None:
    events = build(stream)
    assert alerts_of(events, snapshot_at=int(cut * len(events))) == alerts_of(events)


def test_duplicate_deliveries_are_counted_and_ignored() -> None:
    engine = Engine(SCENARIOS, WORLD)
    first = ev("access.denied", 0, device="AG0", event_id="same")
    again = ev("access.denied", 0, device="AG0", event_id="same")
    assert engine.feed(first) is True
    assert engine.feed(again) is False
    assert engine.stats()["duplicates"] == 1


def test_a_sign_of_life_moves_a_deadline_without_adding_timers() -> None:
    """One heap entry per key however many events: timers stay bounded by keys."""
    subjects = [Subject(f"P{i}", "G1", ("elderly_alone",)) for i in range(200)]
    world = small_world(
        devices=[Device(f"D{i}", "door_sensor", "G1", subject=f"P{i}") for i in range(200)],
        subjects=subjects,
    )
    inactive = [s for s in load_catalogue() if s.id == "elderly.inactive"]
    engine = Engine(inactive, world)
    for minute in range(0, 600, 3):  # 200 rounds of 200 signs of life
        for i in range(200):
            engine.feed(ev("door.open", minute + i / 1000, device=f"D{i}"))
    stats = engine.stats()
    assert stats["keys"] == 200
    assert stats["timers"] <= 2 * 200


def test_scenario_file_errors_name_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text(
        """module: city_management
scenarios:
  - id: my.rule
    name: {zh: 测试, en: test}
    reads: [bin.fill]
    key: device
    trigger: {type: threshold, when: {attrs.level: {gte: ninety}}}
    severity: urgent
    resolve: {type: count, count: 0, window: 10m}
    route: grid_worker
  - id: my.other
    name: {zh: 测试2, en: test 2}
    reads: [bin.fill]
    key: device
    trigger: {type: duration, for: soon, confirm: readings}
    severity: low
    resolve: {type: case}
    route: police
""",
        encoding="utf-8",
    )
    result = load_scenarios([bad])
    rendered = result.render_problems()
    assert any(f"{bad}:8: scenarios[0].severity" in p and "'urgent'" in p for p in rendered)
    assert any(f"{bad}:9: scenarios[0].resolve.count" in p for p in rendered)
    assert any(f"{bad}:15: scenarios[1].trigger.for" in p and "'soon'" in p for p in rendered)
    assert any(f"{bad}:18: scenarios[1].route" in p for p in rendered)
    assert result.scenarios == []
    cli = CliRunner().invoke(app, ["scenarios", "validate", str(bad)])
    assert cli.exit_code == 1
    assert "problem(s)" in cli.output


def test_condition_errors_are_found_before_any_event(tmp_path: Path) -> None:
    bad = tmp_path / "cond.yaml"
    bad.write_text(
        """module: market
scenarios:
  - id: my.rule
    name: {zh: 测试, en: test}
    reads: [crowd.count]
    key: venue
    trigger:
      type: threshold
      when: {attrs.count: {gte: ninety}, time: {within: ["25:00-06:00"]}}
    severity: low
    resolve: {type: threshold, when: {colour: red}}
    route: government
""",
        encoding="utf-8",
    )
    rendered = load_scenarios([bad]).render_problems()
    assert any(
        "scenarios[0].trigger.when.attrs.count.gte: gte needs a number" in p for p in rendered
    )
    assert any("scenarios[0].resolve.when.colour: unknown field 'colour'" in p for p in rendered)


def test_builtin_catalogue_validates_and_lists() -> None:
    result = CliRunner().invoke(app, ["scenarios", "list"])
    assert result.exit_code == 0, result.output
    assert "elderly.inactive" in result.output
    assert f"{len(load_catalogue())} scenarios" in result.output


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=streams, seed=st.integers(0, 2**32 - 1), cut=st.floats(0, 1))
def test_packed_buffer_entries_change_no_alert(
    stream: list[tuple[float, tuple[str, str, dict[str, Any]]]], seed: int, cut: float
) -> None:
    """Held events packed as flat tuples (a large buffer, issue 14), mixed with plain
    ones, across a snapshot: the same alerts as held as objects."""
    import cityeye.scenarios.engine as engine_module

    events = build(stream)
    rng = random.Random(seed)
    arrival = sorted(events, key=lambda e: e.ts.timestamp() + rng.uniform(0, LATENESS_MIN * 60 - 1))
    plain = alerts_of(arrival)
    saved = engine_module.PACK_ABOVE
    engine_module.PACK_ABOVE = rng.randrange(0, 4)  # some entries plain, the rest packed
    try:
        packed = alerts_of(arrival, snapshot_at=int(cut * len(arrival)))
    finally:
        engine_module.PACK_ABOVE = saved
    assert packed == plain
