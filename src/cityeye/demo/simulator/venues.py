"""Venues' crowd counters: health-product sales venues by day, sensitive venues at night.

The two venue scenarios are about a crowd's shape (a rise, a peak, a fall; the share of
elderly people), so their planted patterns are scripted count by count, and the routine
counts around them are kept below the thresholds.
"""

from __future__ import annotations

import random
from collections import defaultdict

from cityeye.demo.simulator.stream import Stream


def crowds(sim: Stream) -> None:
    """Crowd counters every 10 min: sales venues while open (08:30–19:30),
    sensitive venues around the clock with their own evening shape."""
    plan = sim.plan
    scripted: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    scripts: dict[str, tuple[list[int], tuple[float, float]]] = {
        # health_products.gathering
        "crowd": ([12, 18, 24, 31, 36, 38, 33, 27, 21, 14, 8, 5], (0.70, 0.85)),
        "young": ([22, 25, 26, 24, 21], (0.40, 0.50)),
        "small": ([18, 19, 19, 18], (0.80, 0.80)),
        # venue.night_crowd
        "small_hours": ([26, 31, 35, 38, 45, 42, 36, 31, 24, 17, 12, 9], (0.0, 0.06)),
        "late_evening": ([26, 31, 35, 38, 33, 22, 13, 8], (0.0, 0.06)),
        "evening": ([28, 35, 40, 42, 38, 33, 24], (0.0, 0.05)),
        "29": ([27, 29, 29, 28, 24], (0.0, 0.05)),
    }
    for p in plan.plants:
        if p.scenario not in ("health_products.gathering", "venue.night_crowd"):
            continue
        counts, (lo_r, hi_r) = scripts[plan.variants[(p.scenario, p.key)]]
        rng = sim.rng(f"crowd-script/{p.key}/{p.at}")
        t0 = int(p.at.timestamp())
        scripted[plan.counter_of(p.key)] += [
            (t0 + i * 600, c, round(rng.uniform(lo_r, hi_r), 2)) for i, c in enumerate(counts)
        ]
    for counter in plan.by_kind.get("crowd_counter", []):
        venue = sim.world.venues.get(counter.venue or "")
        if venue is None:
            continue
        rng = sim.rng(f"crowd/{counter.id}")
        vtype = str(venue.extra.get("type", ""))
        script = sorted(scripted.get(counter.id, []))
        spans = [(script[0][0] - 300, script[-1][0] + 300)] if script else []
        t = sim.start + rng.randint(0, 599)
        while t < sim.end:
            if any(a <= t <= b for a, b in spans):
                t += 600
                continue
            h = sim.hour_of(t)
            if "sales_venue" in venue.tags:
                if 8.5 <= h < 19.5:
                    count = min(17, max(0, round(rng.gauss(5, 3) + 4 * (9 <= h < 11))))
                    ratio = round(rng.uniform(0.35, 0.9), 2)
                    if count >= 17:
                        ratio = min(ratio, 0.55)
                    sim.emit(
                        t,
                        "crowd.count",
                        {"count": count, "elderly_ratio": ratio},
                        device=counter,
                    )
            elif "sensitive" in venue.tags:
                count = _night_count(rng, vtype, h)
                sim.emit(
                    t,
                    "crowd.count",
                    {"count": count, "elderly_ratio": round(rng.uniform(0, 0.08), 2)},
                    device=counter,
                )
            t += 600
        for ts, count, ratio in script:
            sim.emit(
                ts,
                "crowd.count",
                {"count": count, "elderly_ratio": ratio},
                device=counter,
                planted=True,
            )


def _night_count(rng: random.Random, vtype: str, h: float) -> int:
    """A sensitive venue's routine count at hour ``h``: always below the night threshold."""
    evening = h >= 19 or h < 2
    if vtype == "网吧":
        mean = 15 if 10 <= h < 22 else 9
    elif evening:
        mean = 16
    else:
        mean = 2
    return min(26, max(0, round(rng.gauss(mean, 4))))
