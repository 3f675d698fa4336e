"""Places (``/api/v1/places``): where a point is in words, and places by name — for
the resident portal's map, so a pin reads "长征桥社区 · 长征桥新村3幢" and a resident
can type a name instead of hunting for it on the map.

Public, like the portal: no account. Only public places answer — the world's buildings,
venues and areas (:mod:`cityeye.world.places`); never a subject (a person's home) or a
device. Each look-up counts against a per-address limit (``cityeye.api.limits``), so
the district's list of buildings cannot be read out by a script in one go. A point
outside the district is an answer, not an error: 200 with ``inside: false`` and a
message in both languages that a page can show as it is.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from cityeye.api.deps import Svc
from cityeye.api.limits import client_key, take_or_refuse
from cityeye.api.presenters import place_json, whereabouts_json
from cityeye.world.places import MAX_RESULTS

#: The longest search text (more is no longer a name).
MAX_QUERY = 50

router = APIRouter(prefix="/api/v1/places", tags=["places"])


@router.get("/reverse")
def reverse(
    lat: Annotated[float, Query(ge=-90, le=90, description="latitude, WGS 84")],
    lon: Annotated[float, Query(ge=-180, le=180, description="longitude, WGS 84")],
    request: Request,
    svc: Svc,
) -> dict[str, Any]:
    """Where a point is: the street, community and grid it falls in, the nearest named
    building or venue within ``radius_m``, and a ``label`` to show; outside the
    district ``inside: false`` with a ``message`` (``{"zh", "en"}``)."""
    take_or_refuse(svc.place_limits, client_key(request), "places")
    places = svc.places
    return whereabouts_json(places.reverse(lat, lon), svc.world, places.near_m)


@router.get("/search")
def search(
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY, description="part of a name")],
    request: Request,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 8,
) -> list[dict[str, Any]]:
    """Buildings, venues, streets, communities and grids whose name or address holds
    ``q``, best first (the exact name, then names beginning with it, then the rest);
    each with a point to move a map's pin to."""
    take_or_refuse(svc.place_limits, client_key(request), "places")
    return [place_json(p) for p in svc.places.search(q, limit)]
