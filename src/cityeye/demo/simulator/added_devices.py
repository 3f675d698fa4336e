"""Locator watches, outfall sensors and charging ports: the devices the demo district
gained for scenarios the seeds name (:mod:`cityeye.demo.added_devices`), their
ordinary day and their planted patterns.

* ``elderly.wandering`` — a wearer's watch reports a position hourly, near home; the
  positive is outside the fence from 14:05 and home at 15:15 (high at 14:20, critical
  at 15:05, resolved on the way home); the near miss is out for ten minutes only.
* ``water.sewage_discharge`` — an outfall reads every 30 min, well within the limits;
  the positive discharges from 03:00 to 05:00 (COD 120, ammonia 6: the readings at
  03:00 and 03:30 alert; clean again from 05:00, resolved at 06:00); the near miss is
  one reading over at 10:00.
* ``ebike.port_overheat`` — ports charge in the evening, reading 28–42 °C every 30
  min; the positive reaches 62 °C at 21:40 (high) and 71 °C (not yet the 80 °C of
  critical), is cut off and cools (resolved at 22:15); the near miss peaks at 58 °C.
* ``ebike.charging_overstay`` — the positive starts at 06:00 and never reports a stop
  (alert after 14:00); the near miss stops at 13:50, 10 min short of 8 h.

Every number here is ours. Kept apart from the other channels, on devices of their own
with random streams of their own, so that the rest of the stream is what it was: the
same events, ids and arrival order, these only added among them.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from cityeye.demo.simulator.clock import HOUR, MINUTE
from cityeye.demo.simulator.stream import Stream
from cityeye.domain import Device

if TYPE_CHECKING:
    from cityeye.demo.simulator.plan import Plan

#: Metres of latitude a degree (the demo's fences are a few hundred metres to 1 km).
M_PER_DEG = 111_195.0
#: How far from home the wandering wearer walks (the fence is 1 km).
AWAY_M = 2000
WANDER, SEWAGE, HEAT, OVERSTAY = (
    "elderly.wandering",
    "water.sewage_discharge",
    "ebike.port_overheat",
    "ebike.charging_overstay",
)


def choose(plan: Plan) -> None:
    """Plant the patterns on the run's first day (called by the plan, after its own
    choices, from a random stream of its own)."""
    rng = random.Random(f"{plan.seed}/plan/added")
    wearers = sorted(d.subject for d in plan.by_kind.get("wearable_locator", []) if d.subject)
    outfalls = plan.ids("water_quality_sensor")
    ports = plan.ids("charging_port")
    if len(wearers) >= 2:
        out, short = rng.sample(wearers, 2)
        plan.plant(WANDER, "positive", out, plan.at("14:00"), "walks 2 km away, home at 15:15")
        plan.plant(WANDER, "near_miss", short, plan.at("14:00"), "out for ten minutes")
    if len(outfalls) >= 2:
        dirty, spike = rng.sample(outfalls, 2)
        plan.plant(SEWAGE, "positive", dirty, plan.at("03:00"), "discharging 03:00-05:00")
        plan.plant(SEWAGE, "near_miss", spike, plan.at("10:00"), "one reading over")
    if len(ports) >= 4:
        hot, warm, left, taken_off = rng.sample(ports, 4)
        plan.plant(HEAT, "positive", hot, plan.at("21:00"), "71 °C, then cut off")
        plan.plant(HEAT, "near_miss", warm, plan.at("21:00"), "peaks at 58 °C")
        plan.plant(OVERSTAY, "positive", left, plan.at("06:00"), "charging from 06:00, no stop")
        plan.plant(OVERSTAY, "near_miss", taken_off, plan.at("06:00"), "stopped at 13:50")


def added(sim: Stream) -> None:
    """Every added device's day, then the planted patterns."""
    plan = sim.plan
    planted = {
        key
        for scenario in (WANDER, SEWAGE, HEAT, OVERSTAY)
        for role in ("positive", "near_miss")
        for key in plan.get(scenario, role)
    }
    for watch in plan.by_kind.get("wearable_locator", []):
        if watch.subject in planted or watch.lat is None or watch.lon is None:
            continue
        rng = sim.rng(f"watch/{watch.id}")
        for day in sim.days(sim.start):
            for hour in range(24):
                t = day + hour * HOUR + rng.randrange(0, 20 * MINUTE)
                _position(sim, watch, t, rng.uniform(-80, 80))
    for outfall in plan.by_kind.get("water_quality_sensor", []):
        if outfall.id in planted:
            continue
        rng = sim.rng(f"outfall/{outfall.id}")
        for day in sim.days(sim.start):
            for step in range(48):
                _reading(sim, outfall, day + step * 30 * MINUTE, rng)
    for port in plan.by_kind.get("charging_port", []):
        if port.id in planted:
            continue
        rng = sim.rng(f"port/{port.id}")
        for day in sim.days(sim.start):
            if rng.random() < 0.6:
                start = day + round(rng.uniform(18, 23) * HOUR)
                _session(sim, port, start, round(rng.uniform(2, 6) * HOUR), rng)
    _planted(sim)


def _planted(sim: Stream) -> None:
    plan, devices = sim.plan, sim.world.devices
    watch_of = {d.subject: d for d in plan.by_kind.get("wearable_locator", [])}
    for sid in plan.get(WANDER, "positive"):
        t0 = plan.when(WANDER, sid)
        for step, metres in enumerate([10, 1200, *[AWAY_M] * 12, 1100, 20]):
            _position(sim, watch_of[sid], t0 + step * 5 * MINUTE, metres, planted=True)
    for sid in plan.get(WANDER, "near_miss"):
        t0 = plan.when(WANDER, sid)
        for step, metres in enumerate([1200, 1300, 30]):
            _position(sim, watch_of[sid], t0 + step * 5 * MINUTE, metres, planted=True)
    for role, over, steps in (
        ("positive", range(4), range(-2, 8)),
        ("near_miss", (0,), range(-1, 3)),
    ):
        dirty = (
            {"cod_mg_l": 120.0, "nh3n_mg_l": 6.0}
            if role == "positive"
            else {"cod_mg_l": 55.0, "nh3n_mg_l": 1.1}
        )
        for did in plan.get(SEWAGE, role):
            t0, rng = plan.when(SEWAGE, did), sim.rng(f"outfall/{did}")
            for step in steps:  # clean readings around the dirty ones
                attrs = dirty if step in over else _clean(rng)
                sim.emit(
                    t0 + step * 30 * MINUTE,
                    "water.quality",
                    attrs,
                    device=devices[did],
                    planted=True,
                )
    curves = {  # (minutes after the start, °C); the positive is cut off at 51 min
        "positive": ((20, 50.0), (40, 62.0), (50, 71.0), (60, 44.0), (75, 36.0), (90, 30.0)),
        "near_miss": ((20, 45.0), (40, 58.0), (60, 50.0), (90, 40.0)),
    }
    for role, curve in curves.items():
        for did in plan.get(HEAT, role):
            t0, port = plan.when(HEAT, did), devices[did]
            sim.emit(t0, "charging.started", device=port, planted=True)
            for minutes, celsius in curve:
                at = t0 + minutes * MINUTE
                sim.emit(
                    at, "charging.temperature", {"celsius": celsius}, device=port, planted=True
                )
            reason, stop = ("overheat", 51) if role == "positive" else ("full", 120)
            sim.emit(
                t0 + stop * MINUTE,
                "charging.stopped",
                {"reason": reason},
                device=port,
                planted=True,
            )
    for did in plan.get(OVERSTAY, "positive"):
        sim.emit(plan.when(OVERSTAY, did), "charging.started", device=devices[did], planted=True)
    for did in plan.get(OVERSTAY, "near_miss"):
        t0, port = plan.when(OVERSTAY, did), devices[did]
        sim.emit(t0, "charging.started", device=port, planted=True)
        stop = t0 + 7 * HOUR + 50 * MINUTE
        sim.emit(stop, "charging.stopped", {"reason": "unplugged"}, device=port, planted=True)


def _position(sim: Stream, watch: Device, t: int, north_m: float, *, planted: bool = False) -> None:
    """The watch's position ``north_m`` metres north of its home (the device's point)."""
    assert watch.lat is not None
    assert watch.lon is not None
    lat = round(watch.lat + north_m / M_PER_DEG, 6)
    attrs = {"accuracy_m": 15}
    sim.emit(t, "wearable.position", attrs, device=watch, lat=lat, lon=watch.lon, planted=planted)


def _clean(rng: random.Random) -> dict[str, float]:
    """An outfall's reading on a normal day: well within both limits."""
    return {
        "cod_mg_l": round(max(5.0, rng.gauss(18, 4)), 1),
        "nh3n_mg_l": round(max(0.05, rng.gauss(0.6, 0.2)), 2),
    }


def _reading(sim: Stream, outfall: Device, t: int, rng: random.Random) -> None:
    sim.emit(t, "water.quality", _clean(rng), device=outfall)


def _session(sim: Stream, port: Device, start: int, length: int, rng: random.Random) -> None:
    """A charging session: started, a temperature every 30 min (28–42 °C), stopped."""
    sim.emit(start, "charging.started", device=port)
    for t in range(start + 30 * MINUTE, start + length, 30 * MINUTE):
        celsius = round(rng.uniform(28, 42), 1)
        sim.emit(t, "charging.temperature", {"celsius": celsius}, device=port)
    sim.emit(start + length, "charging.stopped", {"reason": "full"}, device=port)
