"""Public space: garbage bins, parking spaces, and the sensors on the city's
infrastructure (water level, structure tilt, manhole covers, gas).

Devices of the streets and of the utilities rather than of one household or estate,
reporting through the IoT gateways: mostly periodic readings, whose planted patterns
are a rise over a threshold (a bin before the evening emptying, water after rain) or a
space held too long.
"""

from __future__ import annotations

import math
from collections import defaultdict

from cityeye.demo.simulator.clock import DAY, HOUR, MINUTE
from cityeye.demo.simulator.stream import Stream


def bins(sim: Stream) -> None:
    """Bins fill with the day's activity and are emptied at the 07:00–09:00 and
    18:00–20:00 drop-off windows (定时定点); they report every 15 min."""
    plan = sim.plan
    day0 = plan.day0
    over = set(plan.get("garbage.overflow", "positive"))
    near = set(plan.get("garbage.overflow", "near_miss"))
    for b in plan.by_kind.get("bin_sensor", []):
        rng = sim.rng(f"bin/{b.id}")
        empties: list[int] = []
        days = list(sim.days(sim.start - DAY))
        for day in [*days, days[-1] + DAY]:
            empties += [
                day + round(rng.uniform(7.2, 8.5) * HOUR),
                day + round(rng.uniform(19.2, 19.8) * HOUR),
            ]
        peaks: dict[int, float] = {}
        if b.id in over or b.id in near:
            # the day interval that ends with the first evening emptying after 18:00
            t18 = plan.when("garbage.overflow", b.id)
            k = next(i for i in range(0, len(empties) - 1, 2) if empties[i + 1] > t18)
            peaks[k] = 97.0 if b.id in over else 87.5
        t = sim.start + rng.randint(0, 899)
        k = 0
        while t < sim.end:
            while k + 1 < len(empties) and empties[k + 1] <= t:
                k += 1
            lo, hi = empties[k], empties[k + 1]
            if k not in peaks:
                peaks[k] = rng.uniform(35, 78)
            frac = (_activity(day0, t) - _activity(day0, lo)) / max(
                1.0, _activity(day0, hi) - _activity(day0, lo)
            )
            level = 2 + (peaks[k] - 2) * frac + rng.uniform(-1, 1)
            level = max(0, min(100, round(level)))
            if peaks[k] == 87.5:
                level = min(level, 88)  # the near miss never touches 90
            sim.emit(
                t, "bin.fill", {"level": level}, device=b, planted=b.id in over or b.id in near
            )
            t += 900


def _activity(day0: int, sec: int) -> float:
    """Cumulative activity-weighted seconds since the run's first midnight: a bin
    fills five times faster by day (07–22) than at night."""
    rel = sec - day0
    days, rest = divmod(rel, DAY)
    per_day = 7 * 0.2 + 15 * 1.0 + 2 * 0.2
    h = rest / HOUR
    part = min(h, 7) * 0.2 + max(0.0, min(h, 22) - 7) * 1.0 + max(0.0, h - 22) * 0.2
    return (days * per_day + part) * HOUR


def parking(sim: Stream) -> None:
    """孝心车位: visits of 20–100 min by day; other spaces hold commuters' cars
    for hours (not filial, so no warning)."""
    plan = sim.plan
    specials: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for p in plan.plants:
        if p.scenario != "parking.filial_overstay":
            continue
        t0 = int(p.at.timestamp())
        variant = plan.variants[(p.scenario, p.key)]
        if p.role == "near_miss":
            specials[p.key].append((t0, t0 + 115 * MINUTE))
        elif variant == "stays":
            specials[p.key].append((t0, None))  # still there when the run ends
        else:
            specials[p.key].append((t0, t0 + 200 * MINUTE))
    for space in plan.by_kind.get("parking_sensor", []):
        rng = sim.rng(f"park/{space.id}")
        visits: list[tuple[int, int | None]] = []
        planted = space.id in specials
        if planted:
            visits = specials[space.id]
            day = sim.plan.day0
            early = day + round(rng.uniform(7.5, 8.2) * HOUR)
            if all(early + 45 * MINUTE < v[0] for v in visits):
                visits = [(early, early + rng.randint(20, 40) * MINUTE), *visits]
        else:
            for day in sim.days(sim.start):
                if "filial" in space.tags:
                    t = day + round(rng.uniform(8, 10) * HOUR)
                    for _ in range(rng.randint(0, 3)):
                        stay = rng.randint(20, 100) * MINUTE
                        visits.append((t, t + stay))
                        t += stay + round(rng.uniform(0.5, 4) * HOUR)
                        if t > day + 21 * HOUR:
                            break
                else:
                    t = day + round(rng.uniform(7, 9.5) * HOUR)
                    visits.append((t, t + round(rng.uniform(6, 10) * HOUR)))
        for occupied, freed in visits:
            sim.emit(occupied, "parking.occupied", device=space, planted=planted)
            if freed is not None:
                sim.emit(freed, "parking.freed", device=space, planted=planted)


def infrastructure(sim: Stream) -> None:
    """The rest of the catalogue: waterlogging, building tilt, manholes, gas."""
    plan = sim.plan
    flood = set(plan.get("waterlogging", "positive"))
    for s in plan.by_kind.get("water_level_sensor", []):
        rng = sim.rng(f"wl/{s.id}")
        base = rng.uniform(2, 10)
        t = sim.start + rng.randint(0, 899)
        while t < sim.end:
            cm = base + rng.uniform(-0.8, 0.8)
            rain = (t - plan.when("waterlogging", s.id)) / HOUR if s.id in flood else -1
            if s.id in flood and 0 <= rain < 3:
                cm += 24 * math.sin(rain / 3 * math.pi)
            sim.emit(
                t,
                "water.level",
                {"cm": round(max(0.0, cm), 1)},
                device=s,
                planted=s.id in flood,
            )
            t += 900
    tilted = set(plan.get("structure.tilt", "positive"))
    for s in plan.by_kind.get("tilt_sensor", []):
        rng = sim.rng(f"tilt/{s.id}")
        base = rng.uniform(0.05, 0.3)
        t = sim.start + rng.randint(0, 3599)
        while t < sim.end:
            deg = base + rng.uniform(-0.01, 0.01)
            if s.id in tilted and t >= plan.when("structure.tilt", s.id):
                deg = rng.uniform(1.2, 1.4)
            sim.emit(
                t,
                "structure.tilt",
                {"degrees": round(deg, 2)},
                device=s,
                planted=s.id in tilted,
            )
            t += HOUR
    for p in plan.plants:
        t0 = int(p.at.timestamp())
        if p.scenario == "manhole.displaced":
            sim.emit(
                t0,
                "manhole.displaced",
                {"tilt_deg": 14},
                device=sim.world.devices[p.key],
                planted=True,
            )
        elif p.scenario == "gas.leak":
            sim.emit(t0, "gas.alarm", {"ppm": 1800}, device=sim.world.devices[p.key], planted=True)
