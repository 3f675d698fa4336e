"""People's accounts: checked, created, with argon2id password hashes; disabled,
enabled, reset (the demo's logins are made in :mod:`cityeye.demo.users`).

Below the HTTP layer (the command line, the demo seeding and :mod:`cityeye.api.auth`
all use it), so it knows nothing of cookies, tokens in headers or status codes. The
hashes are argon2id (``argon2-cffi``'s defaults), checked in constant time; an unknown
username costs the same hash as a known one, so the answer's timing does not say which
usernames exist. Only hashes are stored (:mod:`cityeye.store.users`)."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cityeye.domain import AreaLevel, FieldError, World
from cityeye.domain.users import User, UserRole, below, scope_of
from cityeye.errors import AuthError as AuthError  # where callers have always found it
from cityeye.errors import ConflictError, NotFoundError, RefusedError
from cityeye.store import Store
from cityeye.store import users as db

MIN_PASSWORD = 10
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
_hasher = PasswordHasher()
#: Verified against when the username is unknown (same cost as a real check).
_DUMMY_HASH = _hasher.hash("cityeye-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    store: Store,
    world: World,
    *,
    username: str,
    password: str,
    role: UserRole | str,
    display_name: str | None = None,
    party_id: str | None = None,
    areas: tuple[str, ...] = (),
) -> User:
    """Check and store a user; ``FieldError`` names what is wrong."""
    if not USERNAME.match(username):
        raise FieldError("username", "2–64 letters, digits, and _ . @ - (not first)")
    if len(password) < MIN_PASSWORD:
        raise FieldError("password", f"at least {MIN_PASSWORD} characters")
    try:
        role = UserRole(role)
    except ValueError:
        raise FieldError("role", f"one of {', '.join(r.value for r in UserRole)}") from None
    if role == UserRole.HANDLER:
        if party_id is None or party_id not in world.parties:
            raise FieldError("party", f"a handler needs a party of the district, not {party_id!r}")
    elif party_id is not None and party_id not in world.parties:
        raise FieldError("party", f"no party {party_id!r}")
    unknown = [a for a in areas if a not in world.areas]
    if unknown:
        raise FieldError("areas", f"not areas of the district: {', '.join(unknown)}")
    if role in (UserRole.DISPATCHER, UserRole.LEADER) and not areas:
        raise FieldError("areas", f"a {role.value} needs the areas of their post")
    user = User(
        id=secrets.token_hex(8),
        username=username,
        display_name=display_name or username,
        role=role,
        party_id=party_id,
        areas=tuple(areas),
        created_at=datetime.now(UTC),
    )
    try:
        db.add_user(store, user, hash_password(password))
    except db.UserExists as exc:
        raise FieldError("username", str(exc)) from None
    return user


def check_password(store: Store, username: str, password: str) -> User:
    """The user, if the password is theirs and they are active; else ``AuthError``."""
    found = db.user_with_hash(store, username)
    stored = found[1] if found is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AuthError("wrong username or password") from None
    if found is None:
        raise AuthError("wrong username or password")
    user = found[0]
    if not user.active:
        raise AuthError("this account is disabled")
    if _hasher.check_needs_rehash(stored):  # stronger defaults since it was set
        db.set_password_hash(store, user.id, hash_password(password))
    return user


def find_user(store: Store, username: str) -> User:
    """The user called ``username``; ``FieldError`` if there is none."""
    found = db.user_with_hash(store, username)
    if found is None:
        raise FieldError("username", f"no user {username!r}")
    return found[0]


def change_password(store: Store, username: str, password: str) -> int:
    """A new password (a change or a reset): every session, API token and known
    device of the user is revoked with it. Returns how many tokens were revoked."""
    if len(password) < MIN_PASSWORD:
        raise FieldError("password", f"at least {MIN_PASSWORD} characters")
    user = find_user(store, username)
    return db.set_password_hash(
        store, user.id, hash_password(password), revoke_at=datetime.now(UTC)
    )


def disable_user(store: Store, username: str) -> int:
    """The user can no longer sign in, and every token of theirs stops working now
    (sessions already open included). Returns how many tokens were revoked."""
    user = find_user(store, username)
    return db.set_disabled(store, user.id, user.disabled_at or datetime.now(UTC))


def enable_user(store: Store, username: str) -> None:
    """The user may sign in again (what was revoked stays revoked)."""
    db.set_disabled(store, find_user(store, username).id, None)


def revoke_user(store: Store, username: str) -> int:
    """Revoke every session, API token and known device of the user, keeping the
    account (they sign in again). Returns how many tokens were revoked."""
    return db.revoke_user_tokens(store, find_user(store, username).id, datetime.now(UTC))


# ---------------------------------------------------------------------- residents
#: A resident's home is verified down to a community or one of its grids: where they
#: may vote (红茶议事会) and be counted as eligible. Our choice: the street is too wide
#: for a community's ballot, a building is not an area of the world file.
HOME_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.GRID)
#: Staff who verify residents: the community's dispatchers, and admins.
VERIFIERS = (UserRole.DISPATCHER, UserRole.ADMIN)


def _may_verify(staff: User) -> None:
    if staff.role not in VERIFIERS:
        raise RefusedError("role: only a community's dispatchers and admins verify residents")


def _home_for(staff: User, world: World, area: str) -> str:
    """``area`` if it can be a home and lies in ``staff``'s areas; the refusal otherwise."""
    found = world.areas.get(area)
    if found is None:
        raise FieldError("area", f"no area {area!r}")
    if found.level not in HOME_LEVELS:
        raise FieldError("area", "a home is a community or a grid")
    allowed = scope_of(staff, world).areas
    if allowed is not None and area not in allowed:  # as everywhere: not yours, not there
        raise NotFoundError(f"area: no area {area!r} for you")
    return area


def _resident(store: Store, staff: User, world: World, username: str) -> User:
    """The resident ``username`` as ``staff`` may handle them: not found for anyone who
    is not a resident (staff accounts are not this screen's), refused for a resident
    whose verified home lies outside ``staff``'s areas."""
    found = db.user_with_hash(store, username)
    if found is None or found[0].role != UserRole.RESIDENT:
        raise NotFoundError(f"username: no resident {username!r}")
    resident = found[0]
    allowed = scope_of(staff, world).areas
    if resident.areas and allowed is not None and not set(resident.areas) <= allowed:
        raise RefusedError(
            "username: this resident's home is verified by another community; "
            "they must withdraw it there first"
        )
    return resident


def residents_of(store: Store, world: World, staff: User, area: str | None = None) -> list[User]:
    """The verified residents whose home is in ``staff``'s areas (below ``area`` if
    given), by display name."""
    _may_verify(staff)
    allowed = scope_of(staff, world).areas
    within = allowed
    if area is not None:
        if area not in world.areas:
            raise FieldError("area", f"no area {area!r}")
        if allowed is not None and area not in allowed:
            raise NotFoundError(f"area: no area {area!r} for you")
        within = below(world, [area])
    return sorted(
        (
            u
            for u in db.list_users(store)
            if u.role == UserRole.RESIDENT
            and u.areas
            and (within is None or set(u.areas) <= within)
        ),
        key=lambda u: (u.display_name, u.username),
    )


def register_resident(
    store: Store, world: World, staff: User, *, username: str, display_name: str, area: str
) -> tuple[User, str]:
    """An account for a resident who came to the community with proof of address, with
    their home verified at ``area``; the initial password is returned (shown once: they
    change it when they first sign in)."""
    _may_verify(staff)
    home = _home_for(staff, world, area)
    password = secrets.token_urlsafe(9)  # 12 characters, above MIN_PASSWORD
    user = create_user(
        store,
        world,
        username=username,
        password=password,
        role=UserRole.RESIDENT,
        display_name=display_name.strip() or username,
        areas=(home,),
    )
    return user, password


def verify_resident(store: Store, world: World, staff: User, username: str, area: str) -> User:
    """Verify (or move) an existing resident's home to ``area`` in ``staff``'s areas."""
    _may_verify(staff)
    resident = _resident(store, staff, world, username)
    home = _home_for(staff, world, area)
    db.set_areas(store, resident.id, (home,))
    return replace(resident, areas=(home,))


def withdraw_resident(store: Store, world: World, staff: User, username: str) -> User:
    """The resident's home is no longer verified (they moved away): they stop voting
    here and are not counted as eligible."""
    _may_verify(staff)
    resident = _resident(store, staff, world, username)
    if not resident.areas:
        raise ConflictError("username: this resident's home is not verified")
    db.set_areas(store, resident.id, ())
    return replace(resident, areas=())
