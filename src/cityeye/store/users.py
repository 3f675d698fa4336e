"""Users and their tokens (sessions and personal API tokens) in the database.

Only hashes are stored: argon2 for passwords (made in :mod:`cityeye.api.auth`), SHA-256
for token secrets (random, so a fast hash is enough)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from cityeye.domain.users import User, UserRole
from cityeye.errors import ConflictError
from cityeye.store import tables as t
from cityeye.store.repo import Store


class UserExists(ConflictError, ValueError):
    """The username is taken."""


@dataclass(frozen=True, slots=True)
class UserToken:
    id: str
    user_id: str
    kind: str  # "session" (browser cookie) or "api" (bearer)
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


def _user(r: Any) -> User:
    return User(
        r.id,
        r.username,
        r.display_name,
        UserRole(r.role),
        r.party_id,
        tuple(r.areas or ()),
        r.created_at,
        r.disabled_at,
    )


def add_user(store: Store, user: User, password_hash: str) -> None:
    try:
        with store.engine.begin() as conn:
            conn.execute(
                insert(t.users).values(
                    id=user.id,
                    username=user.username,
                    display_name=user.display_name,
                    password_hash=password_hash,
                    role=user.role.value,
                    party_id=user.party_id,
                    areas=list(user.areas),
                    created_at=user.created_at,
                )
            )
    except IntegrityError:
        raise UserExists(f"username {user.username!r} is taken") from None


def user_with_hash(store: Store, username: str) -> tuple[User, str] | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.users).where(t.users.c.username == username)).first()
    return None if r is None else (_user(r), r.password_hash)


def get_user(store: Store, user_id: str) -> User | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.users).where(t.users.c.id == user_id)).first()
    return None if r is None else _user(r)


def names_on(conn: Connection, usernames: Collection[str]) -> dict[str, str]:
    """username → display name of those of ``usernames`` that are accounts, on an open
    connection (the case book's notices read them inside their own transaction)."""
    if not usernames:
        return {}
    u = t.users.c
    found = conn.execute(
        select(u.username, u.display_name).where(u.username.in_(sorted(usernames)))
    )
    return {r.username: r.display_name for r in found}


def display_names(store: Store, usernames: Collection[str]) -> dict[str, str]:
    """username → display name: how a timeline's people are named (the case card, the
    reports), one query for all of them."""
    with store.engine.connect() as conn:
        return names_on(conn, usernames)


def list_users(store: Store) -> list[User]:
    with store.engine.connect() as conn:
        return [_user(r) for r in conn.execute(select(t.users).order_by(t.users.c.username))]


def set_password_hash(
    store: Store, user_id: str, password_hash: str, *, revoke_at: datetime | None = None
) -> int:
    """A new hash; with ``revoke_at`` (a password change or reset, not a rehash), every
    session, API token and known device of the user is revoked in the same
    transaction. Returns how many tokens were revoked."""
    with store.engine.begin() as conn:
        conn.execute(
            update(t.users).where(t.users.c.id == user_id).values(password_hash=password_hash)
        )
        return _revoke_all(conn, user_id, revoke_at) if revoke_at is not None else 0


def set_areas(store: Store, user_id: str, areas: tuple[str, ...]) -> None:
    """The user's areas: a resident's verified home (empty: not verified)."""
    with store.engine.begin() as conn:
        conn.execute(update(t.users).where(t.users.c.id == user_id).values(areas=list(areas)))


def set_disabled(store: Store, user_id: str, at: datetime | None) -> int:
    """Disable the user at ``at`` and revoke all their tokens at once (one
    transaction), or enable them again (``None``; their tokens stay revoked).
    Returns how many tokens were revoked."""
    with store.engine.begin() as conn:
        conn.execute(update(t.users).where(t.users.c.id == user_id).values(disabled_at=at))
        return _revoke_all(conn, user_id, at) if at is not None else 0


def revoke_user_tokens(store: Store, user_id: str, at: datetime) -> int:
    """Revoke every session, API token and known device of the user; how many."""
    with store.engine.begin() as conn:
        return _revoke_all(conn, user_id, at)


def _revoke_all(conn: Connection, user_id: str, at: datetime) -> int:
    done = conn.execute(
        update(t.user_tokens)
        .where(t.user_tokens.c.user_id == user_id, t.user_tokens.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )
    return int(done.rowcount or 0)


def add_token(
    store: Store,
    token_id: str,
    user_id: str,
    secret_hash: str,
    kind: str,
    at: datetime,
    expires_at: datetime | None,
) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.user_tokens).values(
                id=token_id,
                user_id=user_id,
                secret_hash=secret_hash,
                kind=kind,
                created_at=at,
                expires_at=expires_at,
            )
        )


def _token(r: Any) -> UserToken:
    return UserToken(r.id, r.user_id, r.kind, r.created_at, r.expires_at, r.revoked_at)


def tokens_of(store: Store, user_id: str, at: datetime) -> list[UserToken]:
    """The user's tokens still good at ``at`` (not revoked, not expired), newest first."""
    c = t.user_tokens.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(t.user_tokens)
            .where(
                c.user_id == user_id,
                c.revoked_at.is_(None),
                or_(c.expires_at.is_(None), c.expires_at > at),
            )
            .order_by(c.created_at.desc(), c.id)
        )
        return [_token(r) for r in rows]


def token_with_hash(store: Store, token_id: str) -> tuple[UserToken, str] | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.user_tokens).where(t.user_tokens.c.id == token_id)).first()
    if r is None:
        return None
    return _token(r), r.secret_hash


def revoke_token(store: Store, token_id: str, at: datetime) -> bool:
    with store.engine.begin() as conn:
        done = conn.execute(
            update(t.user_tokens)
            .where(t.user_tokens.c.id == token_id, t.user_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
    return bool(done.rowcount)


def set_phone(store: Store, user_id: str, phone: str | None) -> None:
    """Where SMS notifications reach the user (``None``: nowhere)."""
    with store.engine.begin() as conn:
        conn.execute(update(t.users).where(t.users.c.id == user_id).values(phone=phone))


def phone_of(store: Store, user_id: str) -> str | None:
    """The user's phone for SMS, if they have one and are not disabled."""
    c = t.users.c
    with store.engine.connect() as conn:
        return conn.execute(
            select(c.phone).where(c.id == user_id, c.disabled_at.is_(None))
        ).scalar()
