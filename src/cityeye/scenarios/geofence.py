"""Geo-fences: the condition ``{fence: outside}`` / ``{fence: inside}``.

A wearable (an elderly person's locator watch, 001:78653 "实时定位") sends positions;
whether a position is inside the person's own fence is a question about that person,
not a number in the event, so the fence comes from the world: each subject may carry
``fence:`` — a circle (``{lat, lon, radius_m}``) or a GeoJSON ``Polygon`` — and the
condition looks up the fence of the event's subject (the event's own ``subject``, else
its device's). Everything is compiled once when the scenario is built: a circle is a
centre and a radius in metres (an equirectangular distance, exact to well under a
metre at a few kilometres), a polygon a prepared shapely geometry.

A position on the fence's edge is *inside* (a person at the gate has not left). An
event without a position, or for a subject without a fence, matches neither ``inside``
nor ``outside`` — as a missing field never matches (``conditions``): a watch that sends
only its battery level neither raises nor resolves the alert.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from cityeye.domain import Event, FieldError, World

#: Mean radius of the Earth in metres (IUGG), for distances of a few kilometres.
EARTH_RADIUS_M = 6_371_008.8
#: The values the condition takes.
SIDES = ("inside", "outside")

#: Whether a point (lat, lon) lies inside a fence (its edge included).
Contains = Callable[[float, float], bool]


def circle(lat: float, lon: float, radius_m: float) -> Contains:
    """A circle of ``radius_m`` around (lat, lon); its edge counts as inside."""
    cos_lat = math.cos(math.radians(lat))
    per_deg = math.pi * EARTH_RADIUS_M / 180

    def contains(plat: float, plon: float) -> bool:
        dy = (plat - lat) * per_deg
        dx = (plon - lon) * per_deg * cos_lat
        return dx * dx + dy * dy <= radius_m * radius_m

    return contains


def polygon(geojson: Mapping[str, Any]) -> Contains:
    """A GeoJSON Polygon (``[lon, lat]`` pairs); its edge counts as inside."""
    from shapely import prepared
    from shapely.geometry import Point, shape

    geom = prepared.prep(shape(dict(geojson)))
    return lambda plat, plon: bool(geom.covers(Point(plon, plat)))


def fence_of(raw: Mapping[str, Any]) -> Contains:
    """The containment test of one fence as a world file gives it (already validated
    by ``cityeye.world``: a circle or a Polygon)."""
    if raw.get("type") == "Polygon":
        return polygon(raw)
    return circle(float(raw["lat"]), float(raw["lon"]), float(raw["radius_m"]))


def fence_condition(side: Any, where: str, world: World | None) -> Callable[[Event, int], bool]:
    """The predicate of ``{fence: inside}`` or ``{fence: outside}`` for ``world``'s
    subjects (``None``, when a file is only validated: nobody has a fence)."""
    if side not in SIDES:
        raise FieldError(where, f"fence takes inside or outside, got {side!r}")
    if world is None:
        return lambda _ev, _t: False
    fences = {s.id: fence_of(s.fence) for s in world.subjects.values() if s.fence}
    subject_of = world.event_subject
    want_inside = side == "inside"

    def test(ev: Event, _t: int) -> bool:
        lat, lon = ev.lat, ev.lon
        if lat is None or lon is None:
            return False
        subject = subject_of(ev)
        contains = fences.get(subject) if subject is not None else None
        return contains is not None and contains(lat, lon) == want_inside

    return test
