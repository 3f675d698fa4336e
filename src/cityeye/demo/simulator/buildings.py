"""Residential buildings and estates: elevators, smoke and temperature, power, gates.

The devices an estate's property management answers for. They carry the scenarios
where false alarms matter most (smoke alarms by the thousand for a handful of fires,
bursts of expired cards at a gate), so each device's routine traffic and its planted
pattern are written side by side, in one function per kind of device.
"""

from __future__ import annotations

import math
import random
import zlib
from collections import defaultdict
from typing import Any

from cityeye.demo.simulator.clock import HOUR, MINUTE
from cityeye.demo.simulator.plan import rated_current
from cityeye.demo.simulator.stream import Stream
from cityeye.domain import Device


def elevators(sim: Stream) -> None:
    """E-bikes taken into lifts (a few a day, a planted run of four) and one trapping."""
    plan = sim.plan
    ebike = set(plan.get("elevator.ebike", "positive"))
    for lift in plan.by_kind.get("elevator_monitor", []):
        rng = sim.rng(f"lift/{lift.id}")
        for day in sim.days(sim.start):
            for _ in range(sum(rng.random() < 0.2 for _ in range(3))):
                t = day + round(rng.uniform(7, 22.5) * HOUR)
                if lift.id in ebike and abs(t - plan.when("elevator.ebike", lift.id)) < 3 * HOUR:
                    continue
                sim.emit(t, "elevator.ebike_detected", _ebike(rng), device=lift)
        if lift.id in ebike:
            for minutes in (0, 7, 16, 41):
                sim.emit(
                    plan.when("elevator.ebike", lift.id) + minutes * MINUTE + rng.randint(0, 50),
                    "elevator.ebike_detected",
                    _ebike(rng),
                    device=lift,
                    planted=True,
                )
    for did in plan.get("elevator.trapped", "positive"):
        sim.emit(
            plan.when("elevator.trapped", did),
            "elevator.trapped",
            {"persons": 2},
            device=sim.world.devices[did],
            planted=True,
        )


def _ebike(rng: random.Random) -> dict[str, Any]:
    """An e-bike detection's attributes (the monitor's confidence)."""
    return {"confidence": round(rng.uniform(0.82, 0.99), 2), "blocked": True}


def smoke(sim: Stream) -> None:
    """Smoke alarms per building and temperature readings every 10 min. False
    alarms dominate (seed 000: 3,000+ warnings, 6 real fires)."""
    plan = sim.plan
    detectors: dict[str, list[Device]] = defaultdict(list)
    for d in plan.by_kind.get("smoke_detector", []):
        detectors[d.building or d.id].append(d)
    sensors: dict[str, list[Device]] = defaultdict(list)
    for d in plan.by_kind.get("temperature_sensor", []):
        sensors[d.building or d.id].append(d)
    hot: dict[str, list[tuple[int, float]]] = defaultdict(list)  # device → readings

    def alarm(b: str, index: int, t: int, planted: bool = True) -> None:
        sim.emit(t, "smoke.alarm", {"building": b}, device=detectors[b][index], planted=planted)

    pos = plan.get("fire.smoke", "positive")
    near = plan.get("fire.smoke", "near_miss")
    for p in plan.plants:
        if p.scenario != "fire.smoke":
            continue
        b, t = p.key, int(p.at.timestamp())
        if p.device:  # a nuisance alarm: its own detector (plan.Plan._nuisance)
            sim.emit(t, "smoke.alarm", {"building": b}, device=sim.world.devices[p.device])
            continue
        variant = plan.variants[(p.scenario, b)]
        alarm(b, 0, t)
        if variant == "second":
            alarm(b, 1, t + 70)
        elif variant == "second_late":
            alarm(b, 1, t + 150)
        elif variant == "hot":
            hot_id = sensors[b][0].id
            hot[hot_id] += [(t + 70, 61.5)]
            hot[hot_id] += [(t + 600 * k, 66.0 - 6 * k) for k in range(1, 4)]
        elif variant == "warm":
            hot[sensors[b][0].id] += [(t + 60, 56.0)]
    special = set(pos) | set(near)
    for b in sorted(sensors):
        for sensor in sensors[b]:
            rng = sim.rng(f"temp/{sensor.id}")
            extra = sorted(hot.get(sensor.id, []))
            fire = [t for t, c in extra if c >= 57]
            fire_from = fire[0] if fire else None
            t = sim.start + rng.randint(0, 599)
            while t < sim.end:
                h = sim.hour_of(t)
                c = 22 + 4 * math.sin((h - 9) / 24 * 2 * math.pi) + rng.uniform(-0.8, 0.8)
                if fire_from is not None and fire_from <= t < fire_from + 35 * MINUTE:
                    t += 600
                    continue  # the fire's readings replace the routine ones
                sim.emit(
                    t,
                    "temperature.reading",
                    {"celsius": round(c, 1), "building": b},
                    device=sensor,
                    planted=b in special,
                )
                t += 600
            for t_hot, c in extra:
                sim.emit(
                    t_hot,
                    "temperature.reading",
                    {"celsius": c, "building": b},
                    device=sensor,
                    planted=True,
                )


def power(sim: Stream) -> None:
    """Meters report every 5 min at 25–90 % of rated current, shaped by the day."""
    plan = sim.plan
    roles = {
        p.key: plan.variants[(p.scenario, p.key)]
        for p in plan.plants
        if p.scenario == "power.overload"
    }
    for meter in plan.by_kind.get("power_meter", []):
        rng = sim.rng(f"meter/{meter.id}")
        rated = rated_current(meter)
        base = rng.uniform(0.2, 0.45)
        variant = roles.get(meter.id, "")
        planted = bool(variant)
        rated_attr = int(rated) if rated.is_integer() else rated
        spiked = False
        t0 = plan.when("power.overload", meter.id) if planted else 0
        t = sim.start + rng.randint(0, 299)
        while t < sim.end:
            h = sim.hour_of(t)
            shape = max(0.0, math.sin((h - 6) / 16 * math.pi)) if 6 <= h <= 22 else 0.0
            current = rated * min(0.9, base + 0.35 * shape + rng.uniform(-0.04, 0.04))
            leakage = round(rng.uniform(1.5, 12.0), 1)
            if variant == "overload" and t0 <= t < t0 + 25 * MINUTE:
                current = rated * rng.uniform(1.28, 1.45)
            elif variant == "exact" and t0 <= t < t0 + 30 * MINUTE:
                current = rated * 1.2  # exactly representable: see plan._exact_1_2
            elif variant == "spike" and not spiked and t >= t0:
                current, spiked = rated * 1.5, True
            elif variant == "leakage" and t0 <= t < t0 + 300:
                leakage = 36.5
            elif variant == "leakage_low" and t0 <= t < t0 + 300:
                leakage = 28.0
            attrs = {
                "current_a": round(current, 1),
                "rated_a": rated_attr,
                "leakage_ma": leakage,
            }
            sim.emit(t, "meter.reading", attrs, device=meter, planted=planted)
            t += 300


def access(sim: Stream) -> None:
    """Estate gates: ~100 openings a day with morning and evening peaks, each
    followed by ``door.closed``; a few held open briefly; rare denials."""
    plan = sim.plan
    forced = set(plan.get("access.forced", "positive"))
    bursts = set(plan.get("access.forced", "false_alarm"))
    spread = set(plan.get("access.forced", "near_miss"))
    held = set(plan.get("access.held_open", "positive"))
    short = set(plan.get("access.held_open", "near_miss"))
    no_denials = forced | bursts | spread
    chooser = sim.rng("gates/held")
    gates = plan.by_kind.get("access_gate", [])
    free = [g.id for g in gates if g.id not in held | short]
    normal_held: dict[str, list[int]] = defaultdict(list)
    for day in sim.days(sim.start):
        for _ in range(15):
            if free:
                gid = chooser.choice(free)
                normal_held[gid].append(day + round(chooser.uniform(8, 21) * HOUR))
    for gate in gates:
        rng = sim.rng(f"gate/{gate.id}")
        # held-open episodes: (open time, seconds until closed, planted)
        episodes = [(t, rng.randint(90, 150), False) for t in normal_held.get(gate.id, [])]
        if gate.id in held:
            episodes.append((plan.when("access.held_open", gate.id), 60 + 560, True))
        if gate.id in short:
            episodes.append((plan.when("access.held_open", gate.id), 60 + 100, True))
        busy = [(t - 90, t + d + 90) for t, d, _ in episodes]
        opens: list[int] = []
        for day in sim.days(sim.start):
            for _ in range(rng.randint(60, 140)):
                r = rng.random()
                if r < 0.3:
                    h = rng.gauss(7.8, 0.6)
                elif r < 0.6:
                    h = rng.gauss(18.3, 0.9)
                elif r < 0.98:
                    h = rng.uniform(6, 23)
                else:
                    h = rng.uniform(0, 6)
                t = day + round(min(max(h, 0.0), 23.99) * HOUR)
                if not any(a <= t <= b for a, b in busy):
                    opens.append(t)
        opens.sort()
        methods = ("card", "face", "qr", "password")
        for i, t in enumerate(opens):
            sim.emit(
                t,
                "door.open",
                {"method": rng.choices(methods, (40, 35, 20, 5))[0]},
                device=gate,
            )
            close = t + rng.randint(4, 15)
            if i + 1 == len(opens) or close < opens[i + 1]:
                sim.emit(close, "door.closed", device=gate)
        for t, d, planted in episodes:
            sim.emit(t, "door.open", {"method": "card"}, device=gate, planted=planted)
            sim.emit(t + 60, "door.held_open", {"seconds": 60}, device=gate, planted=planted)
            sim.emit(t + d, "door.closed", device=gate, planted=planted)
        if gate.id not in no_denials:
            denials: list[int] = []
            for day in sim.days(sim.start):
                for _ in range(sum(rng.random() < 0.25 for _ in range(8))):
                    denials.append(day + round(rng.uniform(6, 23) * HOUR))
            kept: list[int] = []
            for t in sorted(denials):  # never 4 within 10 min by chance
                if sum(1 for k in kept if t - k < 10 * MINUTE) < 3:
                    kept.append(t)
            for t in kept:
                reason = rng.choices(
                    ("unknown_card", "expired_card", "face_mismatch"), (30, 50, 20)
                )[0]
                sim.emit(t, "access.denied", {"reason": reason}, device=gate)
    for p in plan.plants:
        if p.scenario != "access.forced":
            continue
        gate_dev = sim.world.devices[p.key]
        t0 = int(p.at.timestamp())
        offsets: tuple[int, ...]
        if p.role == "positive":
            offsets, reason = (0, 40, 95, 150, 230, 320), "unknown_card"
        elif p.role == "near_miss":
            offsets, reason = (0, 180, 360, 540, 750), "face_mismatch"
        else:
            n = 3 + zlib.crc32(p.key.encode()) % 2
            offsets, reason = (0, 55, 130, 210)[:n], "expired_card"
        for off in offsets:
            sim.emit(t0 + off, "access.denied", {"reason": reason}, device=gate_dev, planted=True)
