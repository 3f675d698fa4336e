"""``/api/v1/clock``: what time it is for the service — the wall clock, or the
simulated time of a replayed day (``cityeye serve --replay``).

The cockpit, the desk and the portal show "now" and "today" from here rather than from
the browser (``static/common.js`` keeps the offset), so a demo's screens agree with the
engine and the case deadlines, and a browser whose own clock is wrong still counts down
right. Reading it is public (it tells only the time); changing a replay's speed is for
admins.
"""

# no `from __future__ import annotations`: FastAPI must evaluate the endpoints'
# Annotated[..., Depends(current_user)] where current_user is a local of router()

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from cityeye.api.auth import current_user_dependency
from cityeye.domain import World
from cityeye.domain.dates import DEFAULT_TIMEZONE, local_date
from cityeye.domain.users import User, UserRole
from cityeye.live.clock import MAX_SPEED, Clock, ReplayClock, clock_mode, clock_speed
from cityeye.store import Store


class Speed(BaseModel):
    speed: float = Field(ge=0, le=MAX_SPEED, description="simulated seconds per second; 0 pauses")


def router(store: Store, clock: Clock, world: World | None = None) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["clock"])
    current_user = current_user_dependency(store)

    zones: list[str] = []

    def timezone() -> str:
        if not zones:  # the district's, looked up once
            known = world or store.load_world()
            zones.append(known.timezone if known is not None else DEFAULT_TIMEZONE)
        return zones[0]

    def answer() -> dict[str, Any]:
        now = clock.now()
        return {
            "now": now.isoformat(),
            "day": local_date(now, timezone()).isoformat(),
            "speed": clock_speed(clock),
            "mode": clock_mode(clock),
            "timezone": timezone(),
        }

    @api.get("/clock")
    def get_clock() -> dict[str, Any]:
        """The service's time: ``now`` (ISO 8601), ``day`` (the district's local day),
        ``speed`` (simulated seconds per second of a replayed day; ``null`` for the
        wall clock), ``mode`` (``live``: the wall clock; ``replay``: a simulated day
        playing; ``replay_ended``: its file done, the clock running on in real time)
        and ``timezone`` (the district's, IANA: the pages show times in it)."""
        return answer()

    @api.post("/clock")
    def set_clock(body: Speed, user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
        """Change a replayed day's speed (admins; 0 pauses). 409 on the wall clock and
        once the replay has ended (real time from then on)."""
        if user.role != UserRole.ADMIN:
            raise HTTPException(403, "only an admin changes the clock")
        if not isinstance(clock, ReplayClock):
            raise HTTPException(409, "speed: the wall clock runs at one speed (serve --replay)")
        if clock.ended:
            raise HTTPException(409, "speed: the replay has ended; the clock runs in real time")
        clock.set_speed(body.speed)
        return answer()

    return api
