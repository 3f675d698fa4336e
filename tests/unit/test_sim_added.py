"""The simulated day of the demo's added devices (locator watches, outfalls, charging
ports): the engine fires on exactly the planted positives of their scenarios, at the
planted times, and never on a near miss or an ordinary day; the rest of the stream is
what it was before they came (:mod:`cityeye.demo.simulator.added_devices`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cityeye.demo import build_demo_world
from cityeye.demo.simulator import CHANNELS, planted, simulate
from cityeye.domain import World, parse_event
from cityeye.scenarios import Engine, load_catalogue
from cityeye.sourcefile import SourceDoc
from cityeye.world import build_world

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 10, 1, tzinfo=TZ)
SEED = 2021
WANDER, SEWAGE, HEAT, OVERSTAY = ADDED = (
    "elderly.wandering",
    "water.sewage_discharge",
    "ebike.port_overheat",
    "ebike.charging_overstay",
)
KINDS = {
    "wearable.position",
    "water.quality",
    "charging.started",
    "charging.stopped",
    "charging.temperature",
}


@cache
def world() -> World:
    return build_world(SourceDoc(data=build_demo_world(SEED)))


@cache
def stream() -> tuple[dict[str, Any], ...]:
    return tuple(simulate(world(), start=START, hours=24, seed=SEED))


def local(hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return START + timedelta(hours=int(hours), minutes=int(minutes))


def test_the_added_scenarios_fire_on_the_planted_positives_and_nothing_else() -> None:
    scenarios = [s for s in load_catalogue() if s.id in ADDED]
    engine = Engine(scenarios, world())
    for obj in stream():
        engine.feed(parse_event(obj))
    engine.finish()
    got = {(a.scenario, a.key, a.severity.value, a.opened_at, a.resolved_at) for a in engine.alerts}
    plants = planted(world(), start=START, hours=24, seed=SEED)
    positive = {p.scenario: p.key for p in plants if p.scenario in ADDED and p.role == "positive"}
    assert len({p.scenario for p in plants if p.scenario in ADDED and p.role == "near_miss"}) == 4
    p = positive
    assert got == {
        (WANDER, p[WANDER], "critical", local("14:20"), local("15:15")),
        (SEWAGE, p[SEWAGE], "medium", local("03:30"), local("06:00")),
        (HEAT, p[HEAT], "high", local("21:40"), local("22:15")),
        (OVERSTAY, p[OVERSTAY], "low", local("14:00"), None),
    }


def test_every_added_device_has_an_ordinary_day() -> None:
    heard = {obj.get("device_id") for obj in stream() if obj["kind"] in KINDS}
    kinds = ("wearable_locator", "water_quality_sensor", "charging_port")
    added = {d.id for d in world().devices.values() if d.kind in kinds}
    # the watches and outfalls report all day; ports only when charging (60 % of evenings)
    silent = added - heard
    assert all(world().devices[d].kind == "charging_port" for d in silent)
    assert len(silent) < 0.6 * sum(1 for d in added if d.startswith("CP-"))


def test_the_rest_of_the_stream_is_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same events, same ids, same arrival order, the added ones only slotted in."""
    import cityeye.demo.simulator as sim
    from cityeye.demo.simulator import added_devices as channel

    monkeypatch.setattr(sim, "CHANNELS", tuple(c for c in CHANNELS if c is not channel.added))
    monkeypatch.setattr(channel, "choose", lambda plan: None)
    before = list(sim.simulate(world(), start=START, hours=24, seed=SEED))
    assert [obj for obj in stream() if obj["kind"] not in KINDS] == before
