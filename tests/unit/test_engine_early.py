"""Decide on arrival, correct on the clock (SCENARIOS.md, "Engine semantics every
scenario shares"): what no earlier-stamped event could undo is an alert when its last
event arrives, not when the 10-minute lateness hold has passed; the clock keeps the
final word, and the final alerts are those of evaluating in time order."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_properties import (
    LATENESS_MIN,
    SCENARIOS,
    WORLD,
    build,
    event_spec,
    key,
    streams,
)

from cityeye.domain import Device, Event, Severity, Subject
from cityeye.scenarios import Engine, load_catalogue
from cityeye.scenarios.engine import AlertChange
from kit import at, ev, small_world

LATE_S = LATENESS_MIN * 60
#: Denser than the engine's other properties (an hour, not 36): arrivals out of order
#: meet each other's windows, merge gaps and resolves.
dense = st.lists(
    st.tuples(st.floats(0, 60, allow_nan=False), event_spec),
    min_size=1,
    max_size=120,
)
either = st.one_of(streams, dense)
CATALOGUE = load_catalogue()


def engine(*, early: bool = True, scenarios: Any = None, world: Any = None) -> Engine:
    return Engine(scenarios or SCENARIOS, world or WORLD, lateness_s=LATE_S, early=early)


def only(*ids: str) -> list[Any]:
    return [s for s in CATALOGUE if s.id in ids]


# ---------------------------------------------------------------- on arrival
def test_an_sos_is_an_alert_when_it_arrives_not_ten_minutes_later() -> None:
    world = small_world(subjects=[Subject("P1", "G1", ("elderly_alone",))])
    live = engine(scenarios=only("elderly.sos"), world=world)
    held = engine(scenarios=only("elderly.sos"), world=world, early=False)
    for e in (live, held):
        e.feed(ev("button.sos", 0, subject="P1", event_id="sos1"))
    assert [(a.scenario, a.key, a.severity, a.opened_at) for a in live.alerts] == [
        ("elderly.sos", "P1", Severity.CRITICAL, at(0))
    ]
    assert held.alerts == []  # the old behaviour: waiting out the lateness


def test_a_second_detector_verifies_a_smoke_alarm_on_arrival() -> None:
    live = engine()
    live.feed(ev("smoke.alarm", 1.0, device="SD0", event_id="s1"))
    assert [a.severity for a in live.alerts] == [Severity.HIGH]
    live.feed(ev("smoke.alarm", 1.5, device="SD2", event_id="s2"))  # same building B0
    (alert,) = live.alerts
    assert alert.severity == Severity.CRITICAL
    assert set(alert.event_ids) == {"s1", "s2"}
    assert alert.opened_at == at(1.0)


def test_the_fifth_denial_opens_the_alert_in_whatever_order_they_come() -> None:
    live = engine()
    minutes = [4.0, 1.0, 3.0, 0.5, 2.0]  # the one stamped last comes first
    for i, m in enumerate(minutes):
        live.feed(ev("access.denied", m, device="AG0", event_id=f"d{i}"))
        assert bool(live.alerts) == (i == 4)
    (alert,) = live.alerts
    assert alert.opened_at == at(4.0)  # where the in-order pass will fire


def test_what_a_late_event_could_still_change_waits_for_the_clock() -> None:
    """Held for ≥ 3 min: a door.closed stamped in between may still come."""
    world = small_world(devices=[Device("DR0", "door_sensor", "G1")])
    live = engine(scenarios=only("access.held_open"), world=world)
    live.feed(ev("door.held_open", 0, device="DR0"))
    live.feed(ev("door.held_open", 5, device="DR0"))
    assert live.alerts == []
    live.advance_to(at(3 + LATENESS_MIN))
    assert [a.scenario for a in live.alerts] == ["access.held_open"]


def test_an_earlier_event_moves_the_open_alert_in_place() -> None:
    live = engine()
    changes: list[AlertChange] = []
    live.on_alert = changes.append
    live.feed(ev("bin.fill", 3, device="BN0", level=95, event_id="b3"))
    (alert,) = live.alerts
    first_id = alert.id
    live.feed(ev("bin.fill", 1, device="BN0", level=97, event_id="b1"))
    assert [a.id for a in live.alerts] == [first_id]
    assert alert.opened_at == at(1)
    assert alert.count == 2
    assert set(alert.event_ids) == {"b1", "b3"}
    live.finish()
    assert [a.id for a in live.alerts] == [first_id]
    assert (alert.opened_at, alert.count, alert.event_ids) == (at(1), 2, ["b1", "b3"])
    assert next(c.kind for c in changes) == "opened"
    assert all(c.kind == "updated" for c in changes[1:])


def test_a_resolve_in_between_splits_what_arrival_joined() -> None:
    """95 at 3 arrives first; then 97 at 1 and 40 at 2: in time order, 1 opens, 2
    resolves, 3 opens anew — arrival showed one alert, the clock makes it two."""
    live = engine()
    for m, level, i in ((3, 95, "c"), (1, 97, "a"), (2, 40, "b")):
        live.feed(ev("bin.fill", m, device="BN0", level=level, event_id=i))
    assert len(live.alerts) == 1
    live.finish()
    reference = engine(early=False)
    for m, level, i in ((1, 97, "a"), (2, 40, "b"), (3, 95, "c")):
        reference.feed(ev("bin.fill", m, device="BN0", level=level, event_id=i))
    reference.finish()
    assert sorted(map(key, live.alerts)) == sorted(map(key, reference.alerts))


def test_a_handled_case_takes_in_what_it_showed() -> None:
    """The handler closed the case of an SOS decided on arrival: when the clock reaches
    the press, it does not open a second alert."""
    world = small_world(subjects=[Subject("P1", "G1", ("elderly_alone",))])
    live = engine(scenarios=only("elderly.sos"), world=world)
    live.feed(ev("button.sos", 0, subject="P1", event_id="sos1"))
    closed = live.resolve_alert("elderly.sos", "P1", at(2))
    assert closed is not None
    assert closed.resolved_at == at(2)
    live.finish()
    live.advance_to(at(60))
    assert len(live.alerts) == 1


# ---------------------------------------------------------------- raise_late
def test_a_late_report_still_opens_an_alert_reported_at_its_own_time() -> None:
    world = small_world()
    live = engine(scenarios=only("citizen.report"), world=world)
    live.advance_to(at(24 * 60))  # the service has run a day
    late = ev("report.hotline", 10, area="G1", category="road", text="路灯坏了")
    live.feed(late)
    (alert,) = live.alerts
    assert alert.opened_at == at(24 * 60)  # deadlines start on arrival
    assert alert.reported_at == at(10)
    assert alert.to_json()["reported_at"] == at(10).astimezone(UTC).isoformat()


def test_without_raise_late_a_late_event_opens_nothing() -> None:
    live = engine()
    live.advance_to(at(120))
    live.feed(ev("bin.fill", 5, device="BN0", level=99))
    assert live.alerts == []
    assert live.late == 1


def test_raise_late_needs_a_threshold(tmp_path: Any) -> None:
    from cityeye.scenarios import load_scenarios

    bad = tmp_path / "late.yaml"
    bad.write_text(
        """module: public_security
scenarios:
  - id: my.forced
    name: {zh: 测试, en: test}
    reads: [access.denied]
    key: device
    trigger: {type: count, count: 3, window: 5m}
    severity: low
    resolve: {type: case}
    route: grid_worker
    raise_late: true
""",
        encoding="utf-8",
    )
    (problem,) = load_scenarios([bad]).render_problems()
    assert "raise_late: needs a threshold trigger, not count" in problem


# ---------------------------------------------------------------- properties
def arrival_order(events: list[Event], seed: int) -> list[Event]:
    rng = random.Random(seed)
    return sorted(events, key=lambda e: e.ts.timestamp() + rng.uniform(0, LATE_S - 1))


def final(events: list[Event], *, early: bool) -> list[tuple[Any, ...]]:
    e = engine(early=early)
    for event in events:
        e.feed(event)
    e.finish()
    return sorted(key(a) for a in e.alerts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=either, seed=st.integers(0, 2**32 - 1))
def test_deciding_on_arrival_ends_with_the_in_order_alerts(
    stream: list[tuple[float, tuple[str, str, dict[str, Any]]]], seed: int
) -> None:
    """Any arrival order within the lateness: same final alerts — ids included — as
    evaluating the events in time order without deciding early."""
    events = build(stream)
    assert final(arrival_order(events, seed), early=True) == final(events, early=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=either, seed=st.integers(0, 2**32 - 1))
def test_every_early_decision_is_the_in_order_one_once_the_clock_passes(
    stream: list[tuple[float, tuple[str, str, dict[str, Any]]]], seed: int
) -> None:
    """Side by side with an engine that waits for the clock, fed the same arrivals:
    whatever the waiting engine has decided, the early one shows the same (same id,
    times, severity at least), only ever with more of what is to come."""
    events = arrival_order(build(stream), seed)
    live, held = engine(early=True), engine(early=False)
    for event in events:
        live.feed(event)
        held.feed(event)
        assert held.clock == live.clock
        seen = {a.id: a for a in live.alerts}
        for done in held.alerts:
            a = seen[done.id]
            assert (a.opened_at, a.resolved_at) == (done.opened_at, done.resolved_at), a.id
            assert a.severity.rank >= done.severity.rank
            if a.resolved_at is None:
                assert set(done.event_ids) <= set(a.event_ids)
                assert a.count >= done.count
    live.finish()
    held.finish()
    assert sorted(map(key, live.alerts)) == sorted(map(key, held.alerts))


def test_an_alert_decided_on_arrival_survives_a_snapshot() -> None:
    live = engine()
    live.feed(ev("bin.fill", 3, device="BN0", level=95, event_id="x3"))
    restored = engine()
    restored.restore(live.snapshot())
    restored.feed(ev("bin.fill", 1, device="BN0", level=95, event_id="x1"))
    restored.finish()
    (alert,) = restored.alerts
    assert (alert.opened_at, alert.event_ids) == (at(1), ["x1", "x3"])


# ---------------------------------------------------------------- lateness per scenario
def with_lateness(scenario_id: str, seconds: float) -> list[Any]:
    """The test catalogue with one scenario waiting ``seconds`` for late events."""
    out = []
    for s in SCENARIOS:
        if s.id == scenario_id:
            s = dataclasses.replace(s, config=s.config.model_copy(update={"lateness": seconds}))
        out.append(s)
    return out


def test_a_scenario_with_its_own_lateness_decides_on_its_own_clock() -> None:
    """A door held open for 3 min is judged 1 min after the fact, not 10."""
    world = small_world(devices=[Device("DR0", "door_sensor", "G1"), *WORLD.devices.values()])
    quick = Engine(with_lateness("access.held_open", 60), world, lateness_s=LATE_S, early=True)
    assert [lane.lateness for lane in quick.lanes] == [LATE_S, 60]
    quick.feed(ev("door.held_open", 0, device="DR0"))
    quick.advance_to(at(3.9))
    assert quick.alerts == []
    quick.advance_to(at(4.0))
    assert [a.scenario for a in quick.alerts] == ["access.held_open"]
    # a door.closed 2 min old is late for it (and for nothing else, nothing else reads it)
    assert quick.is_late(ev("door.closed", 2, device="DR0"))
    assert not quick.is_late(ev("bin.fill", 2, device="BN0", level=1))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=either, seed=st.integers(0, 2**32 - 1), own=st.sampled_from([60.0, 180.0]))
def test_lanes_keep_the_in_order_alerts(
    stream: list[tuple[float, tuple[str, str, dict[str, Any]]]], seed: int, own: float
) -> None:
    """Two scenarios on shorter clocks of their own: any arrival order within the
    shortest lateness, with a snapshot and restore halfway, ends with the alerts of
    feeding the events in time order."""
    scenarios = with_lateness("access.forced", own)
    scenarios = [
        dataclasses.replace(s, config=s.config.model_copy(update={"lateness": own}))
        if s.id == "parking.filial_overstay"
        else s
        for s in scenarios
    ]
    events = build(stream)
    rng = random.Random(seed)
    arrival = sorted(events, key=lambda e: e.ts.timestamp() + rng.uniform(0, own - 1))

    def run(feed: list[Event], early: bool) -> list[tuple[Any, ...]]:
        e = Engine(scenarios, WORLD, lateness_s=LATE_S, early=early)
        for i, event in enumerate(feed):
            if early and i == len(feed) // 2:  # and a restart halfway
                data, e = e.snapshot(), Engine(scenarios, WORLD, lateness_s=LATE_S, early=True)
                e.restore(data)
            e.feed(event)
        e.finish()
        return sorted(map(key, e.alerts))

    assert run(arrival, True) == run(events, False)
