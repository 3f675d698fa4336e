"""``/api/v1/clock``: what time it is for the service — the wall clock, or the
simulated time of a replayed day (``cityeye serve --replay``).

The cockpit, the desk and the portal show "now" and "today" from here rather than from
the browser (``static/common.js`` keeps the offset), so a demo's screens agree with the
engine and the case deadlines, and a browser whose own clock is wrong still counts down
right. Reading it is public (it tells only the time); changing a replay's speed is for
admins.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.presenters import clock_json
from cityeye.domain.users import UserRole
from cityeye.live.clock import MAX_SPEED, ReplayClock


class Speed(BaseModel):
    speed: float = Field(ge=0, le=MAX_SPEED, description="simulated seconds per second; 0 pauses")


router = APIRouter(prefix="/api/v1", tags=["clock"])


@router.get("/clock")
def get_clock(svc: Svc) -> dict[str, Any]:
    """The service's time: ``now`` (ISO 8601), ``day`` (the district's local day),
    ``speed`` (simulated seconds per second of a replayed day; ``null`` for the
    wall clock), ``mode`` (``live``: the wall clock; ``replay``: a simulated day
    playing; ``replay_ended``: its file done, the clock running on in real time)
    and ``timezone`` (the district's, IANA: the pages show times in it)."""
    return clock_json(svc.clock, svc.world.timezone)


@router.post("/clock")
def set_clock(body: Speed, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Change a replayed day's speed (admins; 0 pauses). 409 on the wall clock and
    once the replay has ended (real time from then on)."""
    if user.role != UserRole.ADMIN:
        raise HTTPException(403, "only an admin changes the clock")
    clock = svc.clock
    if not isinstance(clock, ReplayClock):
        raise HTTPException(409, "speed: the wall clock runs at one speed (serve --replay)")
    if clock.ended:
        raise HTTPException(409, "speed: the replay has ended; the clock runs in real time")
    clock.set_speed(body.speed)
    return clock_json(svc.clock, svc.world.timezone)
