"""The status snapshot: what is loaded and what has arrived, per street.

One function feeds both the status page and ``GET /api/v1/status``, so the page and
the API can never disagree.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from cityeye.domain import AreaLevel, World
from cityeye.store import Store


def street_rows(world: World, events_by_street: dict[str, int]) -> list[dict[str, Any]]:
    """One row per street: communities, grids, devices, events."""
    communities: Counter[str] = Counter()
    grids: Counter[str] = Counter()
    devices: Counter[str] = Counter()
    for area in world.areas.values():
        if area.level in (AreaLevel.COMMUNITY, AreaLevel.GRID):
            street = world.enclosing(area.code, AreaLevel.STREET)
            if street is not None:
                (communities if area.level == AreaLevel.COMMUNITY else grids)[street.code] += 1
    for device in world.devices.values():
        if device.area is not None:
            street = world.enclosing(device.area, AreaLevel.STREET)
            if street is not None:
                devices[street.code] += 1
    return [
        {
            "code": s.code,
            "name": s.name,
            "name_en": s.extra.get("name_en"),
            "communities": communities[s.code],
            "grids": grids[s.code],
            "devices": devices[s.code],
            "events": events_by_street.get(s.code, 0),
        }
        for s in world.at_level(AreaLevel.STREET)
    ]


def status_snapshot(store: Store) -> dict[str, Any]:
    """Everything the status page shows, as plain JSON-able data."""
    world = store.load_world()
    by_kind = store.event_counts_by_kind()
    snapshot: dict[str, Any] = {
        "district": None,
        "streets": [],
        "totals": {
            "events": sum(by_kind.values()),
            "dead_letters": len(store.dead_letters(limit=100_000)),
        },
        "events_by_kind": by_kind,
        "alerts_by_scenario": store.alert_counts(),
    }
    if world is not None:
        snapshot["district"] = {
            "code": world.district.code,
            "name": world.district.name,
            "name_en": world.district.extra.get("name_en"),
            "timezone": world.timezone,
        }
        snapshot["streets"] = street_rows(
            world, store.event_counts_by_area(world, AreaLevel.STREET)
        )
        snapshot["totals"] |= {
            "streets": len(world.at_level(AreaLevel.STREET)),
            "communities": len(world.at_level(AreaLevel.COMMUNITY)),
            "grids": len(world.at_level(AreaLevel.GRID)),
            "parties": len(world.parties),
            "devices": len(world.devices),
            "subjects": len(world.subjects),
            "venues": len(world.venues),
        }
    return snapshot
