"""AI cameras (``camera-ai``): street cameras and 明厨亮灶 kitchen cameras.

Both report a labelled detection with a score through one collector; a street camera
also reports its scene clear again (``camera.cleared``) for a state that ends, so the
labels, that rule and the detection's shape live together here.
"""

from __future__ import annotations

import random
from typing import Any

from cityeye.demo.simulator.clock import HOUR
from cityeye.demo.simulator.stream import Stream

#: Camera labels for a state that ends (a car parked, a stall set up, a lane blocked):
#: the camera reports ``camera.cleared`` when it is over.
_CLEARED_LABELS = frozenset({"illegal_parking", "fire_lane_blocked", "street_vending"})


def cameras(sim: Stream) -> None:
    """Street cameras by day (and garbage dumping at the drop-off points), the planted
    dumping outside the windows, then kitchen cameras and the planted rodent."""
    plan = sim.plan
    labels = (
        ("street_vending", 30),
        ("illegal_parking", 35),
        ("exposed_garbage", 15),
        ("muck_truck_uncovered", 10),
        ("fire_lane_blocked", 5),
        ("billboard_damaged", 5),
    )
    names = [name for name, _ in labels]
    weights = [wt for _, wt in labels]
    special = set(plan.get("garbage.dumping", "positive")) | set(
        plan.get("garbage.dumping", "near_miss")
    )
    for cam in plan.by_kind.get("camera", []):
        rng = sim.rng(f"cam/{cam.id}")
        for day in sim.days(sim.start):
            for _ in range(rng.randint(0, 6)):
                t = day + round(rng.uniform(6.5, 23.5) * HOUR)
                label = rng.choices(names, weights)[0]
                sim.emit(t, "camera.detection", _det(rng, label), device=cam)
                if label in _CLEARED_LABELS and rng.random() < 0.9:
                    # the AI box reports the scene clear again: most parked cars and
                    # stalls leave within minutes, some stay long enough to alert
                    stay = rng.uniform(2, 9) if rng.random() < 0.75 else rng.uniform(12, 60)
                    gone = t + round(stay * 60)
                    sim.emit(gone, "camera.cleared", {"label": label}, device=cam)
            if "garbage_point" in cam.tags and cam.id not in special:
                for _ in range(rng.randint(0, 2)):
                    window = rng.choice((7.2, 18.2))
                    t = day + round((window + rng.uniform(0, 1.6)) * HOUR)
                    sim.emit(t, "camera.detection", _det(rng, "garbage_dumping"), device=cam)
    for p in plan.plants:
        if p.scenario == "garbage.dumping":
            rng = sim.rng(f"dump/{p.key}/{p.at}")
            sim.emit(
                int(p.at.timestamp()),
                "camera.detection",
                _det(rng, "garbage_dumping"),
                device=sim.world.devices[p.key],
                planted=True,
            )
    kitchen_labels, kitchen_weights = ("no_hat", "no_mask"), (50, 40)
    for cam in plan.by_kind.get("kitchen_camera", []):
        rng = sim.rng(f"kitchen/{cam.id}")
        for day in sim.days(sim.start):
            for _ in range(rng.randint(0, 3)):
                t = day + round(rng.choice((9.5, 16.0)) * HOUR + rng.uniform(0, 3.5) * HOUR)
                label = rng.choices(kitchen_labels, kitchen_weights)[0]
                sim.emit(t, "camera.detection", _det(rng, label), device=cam)
    for did in plan.get("kitchen.violation", "positive"):
        rng = sim.rng(f"rodent/{did}")
        sim.emit(
            plan.when("kitchen.violation", did),
            "camera.detection",
            _det(rng, "rodent"),
            device=sim.world.devices[did],
            planted=True,
        )


def _det(rng: random.Random, label: str) -> dict[str, Any]:
    """A detection's attributes: the label and the AI box's score."""
    return {"label": label, "score": round(rng.uniform(0.62, 0.98), 2)}
