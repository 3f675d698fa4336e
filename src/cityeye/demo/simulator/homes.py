"""Homes of elderly people living alone (独居老人): door, motion, water meter, SOS button.

Their day is one rhythm across four devices (up, about, meals, outings, asleep), and
``elderly.inactive`` is about the *absence* of it, so this is the one channel that
writes history from before the run: each subject's evening before, their last sign of
life.
"""

from __future__ import annotations

from collections import defaultdict

from cityeye.demo.simulator.clock import HOUR
from cityeye.demo.simulator.stream import Stream
from cityeye.domain import Device

#: The sensor each kind of sign of life comes from.
SENSOR = {
    "motion.detected": "motion_sensor",
    "water.flow": "water_meter",
    "door.open": "door_sensor",
}


def elderly(sim: Stream) -> None:
    """Daily rhythm of elderly people living alone: up at 06:00–07:30, moving about
    until 21:00–22:30, water at meals, a few outings; the odd night-time trip."""
    plan = sim.plan
    inactive = set(plan.get("elderly.inactive", "positive"))
    silent = set(plan.get("elderly.inactive", "silent"))
    near = set(plan.get("elderly.inactive", "near_miss"))
    devices: dict[str, dict[str, Device]] = defaultdict(dict)
    for d in sim.world.devices.values():
        if d.subject is not None and d.kind in (
            "door_sensor",
            "motion_sensor",
            "water_meter",
            "sos_button",
        ):
            devices[d.subject][d.kind] = d
    lo = sim.start - 6 * HOUR  # the evening before: each subject's last sign of life
    for sid in sorted(devices):
        subject = sim.world.subjects.get(sid)
        if subject is None or "elderly_alone" not in subject.tags or sid in silent:
            continue
        devs = devices[sid]
        rng = sim.rng(f"elder/{sid}")
        events: list[tuple[int, str]] = []
        for day in sim.days(lo):
            wake = day + round(rng.uniform(6.0, 7.5) * HOUR)
            sleep = day + round(rng.uniform(21.0, 22.5) * HOUR)
            t = wake
            while t < sleep:
                events.append((t, "motion.detected"))
                t += 60 + round(rng.expovariate(1 / 840))
            for _ in range(rng.choice((0, 0, 1, 2))):
                events.append((day + round(rng.uniform(1, 5) * HOUR), "motion.detected"))
            events.append((wake + rng.randint(300, 1800), "water.flow"))
            for meal in (11.0, 17.0):
                events.append((day + round((meal + rng.uniform(0, 1.5)) * HOUR), "water.flow"))
            for _ in range(rng.randint(0, 3)):
                events.append((rng.randint(wake, sleep), "water.flow"))
            for _ in range(rng.randint(1, 3)):
                out = rng.randint(wake + 1800, max(wake + 1801, sleep - 3 * HOUR))
                events.append((out, "door.open"))
                events.append((out + rng.randint(1800, 9000), "door.open"))
        planted = sid in inactive or sid in near
        if sid in inactive:
            last = sim.start - round(3.5 * HOUR)
            events = [(t, k) for t, k in events if t < last - 600]
            events += [(last - 600, "door.open"), (last, "motion.detected")]
        if sid in near:
            last = sim.start - round(2.5 * HOUR)
            back = last + 20 * HOUR
            events = [(t, k) for t, k in events if t < last - 300 or t > back + 300]
            events += [
                (last, "motion.detected"),
                (back, "door.open"),
                (back + 120, "motion.detected"),
            ]
        for t, kind in sorted(events):
            if t < lo:
                continue
            device = devs.get(SENSOR[kind])
            if device is None:  # a home with part of the kit reports what it has
                continue
            if kind == "motion.detected":
                sim.emit(t, kind, device=device, backfill=True, planted=planted)
            elif kind == "water.flow":
                litres = round(rng.uniform(2, 25), 1)
                sim.emit(t, kind, {"litres": litres}, device=device, backfill=True, planted=planted)
            else:
                method = rng.choice(("inside", "key", "card"))
                sim.emit(t, kind, {"method": method}, device=device, backfill=True, planted=planted)
    for sid in plan.get("elderly.sos", "positive"):
        button = devices[sid]["sos_button"]
        sec = plan.when("elderly.sos", sid)
        sim.emit(sec, "button.sos", {"press": "single"}, device=button, planted=True)
        if sid == plan.get("elderly.sos", "positive")[-1]:
            sim.emit(sec + 25, "button.sos", {"press": "repeat"}, device=button, planted=True)
