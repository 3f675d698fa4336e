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
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from cityeye.domain import FieldError, World
from cityeye.domain.users import User, UserRole
from cityeye.errors import AuthError as AuthError  # where callers have always found it
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
