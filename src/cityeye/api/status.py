"""The status snapshot: what is loaded and what has arrived, per street.

One function feeds both the status page and ``GET /api/v1/status``, so the page and
the API can never disagree.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from cityeye.domain import AreaLevel, World
from cityeye.store import Store
from cityeye.store.outbox import outbox_counts


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
            "dead_letters": store.dead_letter_count(),
        },
        "events_by_kind": by_kind,
        "alerts_by_scenario": store.alert_counts(),
        # webhook and SMS notifications still to send, and given up on (kept)
        "notifications": outbox_counts(store),
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


#: How long a computed status is answered again (seconds). The page is public: a
#: crowd refreshing it costs one computation per interval, not one per request.
STATUS_TTL_S = 1.5


class CachedStatus:
    """:func:`status_snapshot` of ``store``, computed at most once per ``ttl_s``: the
    first caller after it goes stale computes it, callers arriving meanwhile wait for
    that answer instead of each querying the database again."""

    def __init__(
        self,
        store: Store,
        ttl_s: float = STATUS_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._at = 0.0

    def get(self) -> dict[str, Any]:
        with self._lock:
            if self._value is None or self.clock() - self._at >= self.ttl_s:
                self._value = status_snapshot(self.store)
                self._at = self.clock()
            return self._value
