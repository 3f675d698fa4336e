"""Devices added to the demo district for scenarios the seeds name (issue 20): locator
watches for elderly people living alone (001:78651–78653 "实时定位"), water-quality
sensors at outfalls in 湖墅 (000:334 "智慧治水") and smart charging ports in 小河
(004:17 "充电口725个").

They are added after everything else, from a random stream of their own, so the rest of
the demo district — and the simulated stream, which plans by device kind — is exactly
what it was without them. How many, and where, is ours (``generated: true``): the seeds
give 725 ports in 小河 and 4,685 people with a locator in another street; the demo is at
the scale of the rest of the demo (80 lifts for the seeds' 799).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from shapely.geometry import shape

#: Share of the demo's elderly people living alone who wear a locator watch (ours).
WATCH_SHARE = 1 / 3
#: Each watch's fence: this far around the person's home (ours).
FENCE_RADIUS_M = 1000
#: Water-quality sensors at outfalls in 湖墅 (ours; 000:334 names the system, not a count).
N_OUTFALLS = 12
#: Smart charging ports in 小河 (ours: 004:17's 725 at the demo's scale, about a tenth).
N_PORTS = 72


def _grids_of(areas: list[dict[str, Any]], street_name: str) -> list[dict[str, Any]]:
    """The grids of the street named ``street_name``, in code order."""
    street = next(a["code"] for a in areas if a["level"] == "street" and a["name"] == street_name)
    communities = {a["code"] for a in areas if a["level"] == "community" and a["parent"] == street}
    return sorted(
        (a for a in areas if a["level"] == "grid" and a["parent"] in communities),
        key=lambda a: a["code"],
    )


def add_devices(world: dict[str, Any], seed: int, prefix: Mapping[str, str]) -> None:
    """Add the watches (and their wearers' fences), outfall sensors and charging ports
    to a demo world-file dict, in place."""
    rng = random.Random(f"{seed}/added-devices")
    devices: list[dict[str, Any]] = world["devices"]
    homes = {d["subject"]: d for d in devices if d["kind"] == "door_sensor" and d.get("subject")}
    seq: dict[str, int] = {}

    def add(kind: str, **fields: Any) -> None:
        seq[kind] = seq.get(kind, 0) + 1
        devices.append(
            {"id": f"{prefix[kind]}-{seq[kind]:06d}", "kind": kind, **fields, "generated": True}
        )

    elderly = sorted(
        (s for s in world["subjects"] if "elderly_alone" in s["tags"] and s["id"] in homes),
        key=lambda s: s["id"],
    )
    for subject in rng.sample(elderly, round(len(elderly) * WATCH_SHARE)):
        home = homes[subject["id"]]
        subject["fence"] = {"lat": home["lat"], "lon": home["lon"], "radius_m": FENCE_RADIUS_M}
        add(
            "wearable_locator",
            area=home["area"],
            subject=subject["id"],
            tags=[],
            lat=home["lat"],
            lon=home["lon"],
        )

    for grid in rng.choices(_grids_of(world["areas"], "湖墅街道"), k=N_OUTFALLS):
        point = shape(grid["boundary"]).representative_point()
        add(
            "water_quality_sensor",
            area=grid["code"],
            tags=["outfall"],
            lat=round(point.y, 6),
            lon=round(point.x, 6),
        )

    xiaohe = {g["code"] for g in _grids_of(world["areas"], "小河街道")}
    sites = sorted(
        {
            (d["area"], d["building"], d["lat"], d["lon"])
            for d in devices
            if d.get("building") and d["area"] in xiaohe
        }
    )
    for area, building, lat, lon in rng.choices(sites, k=N_PORTS):
        add("charging_port", area=area, building=building, tags=[], lat=lat, lon=lon)
