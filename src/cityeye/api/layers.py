"""``GET /api/v1/map/layers``: what the cockpit's map draws over the boundaries —
devices and cameras by state, the registered elderly living alone counted per
community, venues, and the grids with their grid workers (issue 18, item 3).

The same credential rules as ``/api/v1/devices``: everything is bound by the user's
area scope (:func:`cityeye.domain.users.scope_of`), and ``area`` outside it is a 404.
The map hangs on a big screen in a meeting room, so nothing on it points at a
person's home: the elderly are only counted per community (never a name, an age, a
building or an address), and a device tied to a person (a door sensor in an old
lady's flat) is never a point — it is counted with the elderly of its community.

A device's state is what the store knows, since no world carries heartbeats:
``alarming`` when an open alert is keyed by it (or by the venue, subject or building
it belongs to), else ``online`` when it sent an event in the last
:data:`HEARD_WITHIN` by the server's clock, else ``quiet``. Quiet is not "offline": a
smoke detector speaks only when it smells smoke.
"""

from __future__ import annotations

import time
import weakref
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.district import area_in_scope
from cityeye.api.presenters import (
    map_device_json,
    map_elderly_json,
    map_grid_json,
    map_venue_json,
)
from cityeye.domain import AreaLevel, Device, Party, PartyKind, World
from cityeye.domain.dates import iso_utc
from cityeye.domain.users import scope_of
from cityeye.store import Store
from cityeye.store.case_queries import find_alerts

#: A device that sent an event within this long before the server's "now" is online.
HEARD_WITHIN = timedelta(hours=24)
#: Device kinds drawn on the cameras layer rather than the devices layer.
CAMERA_KINDS = frozenset({"camera", "kitchen_camera"})
#: The subject tag of a registered elderly person living alone.
ELDERLY = "elderly_alone"
#: The venue tags the map knows, in the order a venue on several lists is drawn
#: under; a venue with none of them is ``other``. ``private`` venues are never drawn.
VENUE_KINDS = ("sales_venue", "sensitive", "restaurant")
PRIVATE = "private"
#: The most open alerts one map asks about (a district's busiest morning is hundreds).
MAX_ALERTS = 5000

#: How long one answer of "which devices were heard" serves every map (real seconds):
#: it reads a day of events, which on a busy district is not a per-request query.
HEARD_TTL_S = 60.0

router = APIRouter(prefix="/api/v1", tags=["district"])
#: store → (monotonic time of the answer, the answer): shared by everyone's maps.
_heard: weakref.WeakKeyDictionary[Store, tuple[float, dict[str, datetime]]] = (
    weakref.WeakKeyDictionary()
)


def heard(store: Store, now: datetime) -> dict[str, datetime]:
    """Every device's latest event in the :data:`HEARD_WITHIN` before ``now``, at
    most :data:`HEARD_TTL_S` old (every open cockpit asks each minute and on each
    drill; this answers them all with one read of the events)."""
    cached = _heard.get(store)
    if cached is not None and time.monotonic() - cached[0] < HEARD_TTL_S:
        return cached[1]
    found = store.devices_heard_since(now - HEARD_WITHIN, now)
    _heard[store] = (time.monotonic(), found)
    return found


def _personal(world: World, device: Device) -> bool:
    """Whether the device is tied to a person or household (its subject is not an
    enterprise): then where it is says where that person lives."""
    if device.subject is None:
        return False
    subject = world.subjects.get(device.subject)
    return subject is None or "enterprise" not in subject.tags


def _alarming(world: World, keys: set[str]) -> set[str]:
    """The devices an open alert's key names: the device itself (or, for a split key
    such as ``CM-000018/浙A12345``, its first part), or the venue, subject or
    building the device belongs to."""
    keys = keys | {k.split("/", 1)[0] for k in keys}
    return {
        d.id
        for d in world.devices.values()
        if d.id in keys
        or (d.venue is not None and d.venue in keys)
        or (d.subject is not None and d.subject in keys)
        or (d.building is not None and d.building in keys)
    }


@router.get("/map/layers")
def map_layers(
    user: CurrentUser,
    svc: Svc,
    area: Annotated[str | None, Query(max_length=128, description="inside this area")] = None,
) -> dict[str, Any]:
    """The cockpit map's layers inside ``area`` (default: all the user's areas):
    ``devices`` and ``cameras`` (points with a state), ``elderly`` (a count per
    community), ``venues`` and ``grids`` (with their grid workers' names). A device or
    venue without a point of its own has ``lat``/``lon`` null: the map places it near
    the middle of its area, as it does alerts."""
    world = svc.world
    scope = scope_of(user, world)
    wanted = area_in_scope(world, user, area)

    def shown(code: str | None) -> bool:
        return (
            code is not None
            and (scope.areas is None or code in scope.areas)
            and (wanted is None or code in wanted)
        )

    now = svc.clock.now()
    open_alerts, _ = find_alerts(svc.store, scope, open_only=True, areas=wanted, limit=MAX_ALERTS)
    alarming = _alarming(world, {a.key for a in open_alerts})
    devices = [d for d in sorted(world.devices.values(), key=lambda d: d.id) if shown(d.area)]
    recent = heard(svc.store, now)

    def state(device: Device) -> str:
        if device.id in alarming:
            return "alarming"
        return "online" if device.id in recent else "quiet"

    points = [d for d in devices if not _personal(world, d)]
    elderly_by_community: dict[str, set[str]] = defaultdict(set)
    for subject in world.subjects.values():
        if ELDERLY in subject.tags and shown(subject.area) and subject.area is not None:
            community = world.enclosing(subject.area, AreaLevel.COMMUNITY)
            if community is not None:
                elderly_by_community[community.code].add(subject.id)
    community_of = {s: code for code, people in elderly_by_community.items() for s in people}
    home_devices: dict[str, Counter[str]] = defaultdict(Counter)
    for d in devices:
        if d.subject in community_of:
            home_devices[community_of[d.subject]][state(d)] += 1
    venues = []
    for venue in sorted(world.venues.values(), key=lambda v: v.id):
        if shown(venue.area) and PRIVATE not in venue.tags:
            kind = next((k for k in VENUE_KINDS if k in venue.tags), "other")
            venues.append(map_venue_json(venue, kind))
    workers: dict[str, list[Party]] = defaultdict(list)
    for party in sorted(world.parties.values(), key=lambda p: p.id):
        if party.kind == PartyKind.GRID_WORKER:
            for code in party.areas:
                workers[code].append(party)
    grids = [
        map_grid_json(a, workers[a.code])
        for a in world.at_level(AreaLevel.GRID)
        if shown(a.code) and workers.get(a.code)
    ]
    return {
        "area": area,
        "as_of": iso_utc(now),
        "heard_within_h": HEARD_WITHIN.total_seconds() / 3600,
        "devices": [map_device_json(d, state(d)) for d in points if d.kind not in CAMERA_KINDS],
        "cameras": [map_device_json(d, state(d)) for d in points if d.kind in CAMERA_KINDS],
        "elderly": [
            map_elderly_json(world.areas[code], len(people), home_devices[code])
            for code, people in sorted(elderly_by_community.items())
        ],
        "venues": venues,
        "grids": grids,
    }
