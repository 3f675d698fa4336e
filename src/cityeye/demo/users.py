"""The demo's logins: one user per role for a demo district (``cityeye user demo``)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from cityeye.accounts import create_user, hash_password
from cityeye.domain import World
from cityeye.domain.users import User, UserRole
from cityeye.store import Store
from cityeye.store import users as db


def demo_users(store: Store, world: World) -> list[tuple[User, str]]:
    """One user per role for a demo district, each with a fresh random password
    (returned: shown once). Run again, it gives the same users new passwords."""
    from cityeye.domain import AreaLevel, PartyKind

    district = world.at_level(AreaLevel.DISTRICT)
    streets = world.at_level(AreaLevel.STREET)
    handler_party = next(
        (
            p
            for p in sorted(world.parties.values(), key=lambda p: p.id)
            if p.kind == PartyKind.GRID_WORKER
        ),
        None,
    )
    top = tuple(a.code for a in district[:1]) or tuple(a.code for a in streets)
    wanted: list[dict[str, Any]] = [
        {"username": "admin", "role": UserRole.ADMIN, "display_name": "管理员"},
        {
            "username": "dispatcher",
            "role": UserRole.DISPATCHER,
            "display_name": f"{streets[0].name}调度员" if streets else "调度员",
            "areas": (streets[0].code,) if streets else top,
        },
        {"username": "leader", "role": UserRole.LEADER, "display_name": "区领导", "areas": top},
        {"username": "resident", "role": UserRole.RESIDENT, "display_name": "居民"},
    ]
    if handler_party is not None:
        wanted.insert(
            2,
            {
                "username": "handler",
                "role": UserRole.HANDLER,
                "display_name": handler_party.name,
                "party_id": handler_party.id,
            },
        )
    out = []
    for spec in wanted:
        password = secrets.token_urlsafe(9)
        found = db.user_with_hash(store, spec["username"])
        if found is not None:  # a reset: the old password's sessions and tokens end
            db.set_password_hash(
                store, found[0].id, hash_password(password), revoke_at=datetime.now(UTC)
            )
            out.append((found[0], password))
        else:
            out.append((create_user(store, world, password=password, **spec), password))
    return out
