"""``/api/v1/residents``: a community's staff verify the homes of residents (居民核验).

Only a resident whose home is verified votes on the community's topics (红茶议事会) and
is counted as eligible (:mod:`cityeye.participation.votes`). Verification happens where
it always has, at the community's counter with proof of address; this is the staff's
screen for it, instead of the command line (issue 17). The rules are
:mod:`cityeye.accounts`'s: a community's dispatchers and admins verify, only into their
own areas, only residents (never a staff account), and a home verified by another
community is withdrawn there first.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from cityeye.accounts import register_resident, residents_of, verify_resident, withdraw_resident
from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.presenters import resident_json

router = APIRouter(prefix="/api/v1/residents", tags=["residents"])

Username = Annotated[str, Path(max_length=64)]


class NewResident(BaseModel):
    username: str = Field(max_length=64, description="what they sign in with")
    display_name: str = Field(default="", max_length=64)
    area: str = Field(max_length=128, description="their home: a community or a grid")


class Home(BaseModel):
    area: str = Field(max_length=128, description="a community or a grid")


@router.get("")
def list_residents(
    user: CurrentUser,
    svc: Svc,
    area: Annotated[str | None, Query(max_length=128, description="and the areas below")] = None,
) -> list[dict[str, Any]]:
    """The verified residents of the caller's areas (below ``area`` if given)."""
    world = svc.world
    return [resident_json(r, world) for r in residents_of(svc.store, world, user, area)]


@router.post("", status_code=201)
async def register(body: NewResident, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """An account for a resident at the counter, home verified; ``password`` is their
    initial password, shown this once (hashing it takes a moment: off the event loop)."""
    made, password = await run_in_threadpool(
        register_resident,
        svc.store,
        svc.world,
        user,
        username=body.username,
        display_name=body.display_name,
        area=body.area,
    )
    return {"resident": resident_json(made, svc.world), "password": password}


@router.put("/{username}/home")
def verify(username: Username, body: Home, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """Verify (or move) an existing resident's home into one of the caller's areas."""
    return resident_json(
        verify_resident(svc.store, svc.world, user, username, body.area), svc.world
    )


@router.delete("/{username}/home")
def withdraw(username: Username, user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """The resident moved away: their home is no longer verified here."""
    return resident_json(withdraw_resident(svc.store, svc.world, user, username), svc.world)
