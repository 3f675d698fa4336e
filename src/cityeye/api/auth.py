"""Signing in: users with argon2 passwords, sessions for pages, bearer tokens for the API.

* **Passwords** are kept only as argon2id hashes (``argon2-cffi``'s defaults), checked in
  constant time; an unknown username costs the same hash as a known one, so the
  answer's timing does not say which usernames exist.
* **Sessions** (pages): ``POST /api/v1/auth/login`` sets ``cityeye_session`` — HttpOnly,
  SameSite=Lax, Secure over HTTPS, 12 hours — and a readable ``cityeye_csrf`` cookie.
  A request that changes something with the session cookie must echo the CSRF value
  in ``X-CSRF-Token`` (or a ``csrf_token`` form field): another site can make the
  browser send the cookie, but cannot read the value.
* **Bearer tokens** (API): ``Authorization: Bearer cu_<id>_<secret>``, the login's
  ``token`` or a personal token from ``POST /api/v1/auth/tokens``; no CSRF needed
  (browsers never add it on their own).

Tokens are random; only their SHA-256 is stored (:mod:`cityeye.store.users`).
"""

# no `from __future__ import annotations`: FastAPI must evaluate the endpoints'
# Annotated[..., Depends(current_user)] where current_user is a local of router()

import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field

from cityeye.api.tokens import hash_secret, new_token, secret_matches, split_token
from cityeye.domain import FieldError, World
from cityeye.domain.users import User, UserRole
from cityeye.store import Store
from cityeye.store import users as db

PREFIX = "cu_"
SESSION_COOKIE = "cityeye_session"
CSRF_COOKIE = "cityeye_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_TTL = timedelta(hours=12)
API_TOKEN_TTL = timedelta(days=365)
MIN_PASSWORD = 10
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
_hasher = PasswordHasher()
#: Verified against when the username is unknown (same cost as a real check).
_DUMMY_HASH = _hasher.hash("cityeye-no-such-user")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuthError(Exception):
    """Not signed in, or the credentials are wrong (401)."""


#: The most names or addresses a throttle remembers (a flood of made-up ones must not
#: grow memory without end).
MAX_KEYS = 100_000


class Throttle:
    """Failed sign-ins per username and per client address: after ``limit`` failures
    within ``window``, further tries are refused (429) until the oldest failure ages
    out. Guessing passwords then takes years instead of minutes; a success clears the
    username's count. In memory: one process's view, reset by a restart."""

    def __init__(
        self,
        limit: int = 5,
        window: timedelta = timedelta(minutes=15),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.clock = limit, window.total_seconds(), clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(key, ()) if now - t < self.window]
        if kept:
            self._failures[key] = kept
        else:
            self._failures.pop(key, None)
        return kept

    def _wait(self, keys: tuple[str, ...], now: float) -> float:
        waits = [
            recent[0] + self.window - now
            for key in keys
            if len(recent := self._recent(key, now)) >= self.limit
        ]
        return max(waits, default=0.0)

    def _add(self, keys: tuple[str, ...], now: float) -> None:
        for key in keys:
            self._failures.setdefault(key, []).append(now)
        if len(self._failures) > MAX_KEYS:  # a flood of names or addresses
            for key in list(self._failures):
                self._recent(key, now)  # forget the stale ones
            for key in list(self._failures)[: len(self._failures) - MAX_KEYS // 2]:
                del self._failures[key]  # still too many: the oldest go

    def wait_s(self, *keys: str) -> float:
        """Seconds until another try is allowed (0: now)."""
        now = self.clock()
        with self._lock:
            return self._wait(keys, now)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            self._add(keys, now)

    def take(self, *keys: str) -> float:
        """One use of ``keys`` where every use counts (a rate limit, such as the
        portal's anonymous reports per address): 0 and counted when all are under the
        limit, else the seconds to wait and nothing counted. Checked and counted under
        one lock, so requests that arrive together cannot all slip under it."""
        now = self.clock()
        with self._lock:
            wait = self._wait(keys, now)
            if wait <= 0:
                self._add(keys, now)
            return wait

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


# ---------------------------------------------------------------------- users
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
        if found is not None:
            db.set_password_hash(store, found[0].id, hash_password(password))
            out.append((found[0], password))
        else:
            out.append((create_user(store, world, password=password, **spec), password))
    return out


# ---------------------------------------------------------------------- tokens
def issue_token(store: Store, user: User, kind: str, ttl: timedelta) -> str:
    """A new token for ``user``; the returned string is the only copy."""
    token_id, secret, whole = new_token(PREFIX, 8)
    now = datetime.now(UTC)
    db.add_token(store, token_id, user.id, hash_secret(secret), kind, now, now + ttl)
    return whole


def user_for_token(store: Store, value: str) -> User:
    """The active user a token belongs to; ``AuthError`` if it is not good now."""
    if not value.startswith(PREFIX) or len(value) > 200:
        raise AuthError("not a cityeye user token")
    parts = split_token(value, PREFIX)
    token_id, secret = parts if parts is not None else ("", "")
    found = db.token_with_hash(store, token_id) if parts is not None else None
    if not secret_matches(secret, found[1] if found else None):
        raise AuthError("unknown token")
    assert found is not None
    token = found[0]
    now = datetime.now(UTC)
    if token.revoked_at is not None:
        raise AuthError("this token was revoked (signed out)")
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthError("this token has expired; sign in again")
    user = db.get_user(store, token.user_id)
    if user is None or not user.active:
        raise AuthError("this account is disabled")
    return user


def csrf_for(session: str) -> str:
    """The CSRF value that goes with a session: derived from its secret, so only who
    holds the session can know it, and nothing more needs storing."""
    return hmac.new(session.encode(), b"cityeye-csrf", hashlib.sha256).hexdigest()[:32]


# ---------------------------------------------------------------------- requests
def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        raise AuthError("Authorization must be 'Bearer cu_…'")
    return value.strip()


async def _csrf_value(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def current_user_dependency(store: Store) -> Callable[..., Any]:
    """A FastAPI dependency: the signed-in user, or 401 (403 on a missing CSRF value)."""

    async def current_user(request: Request) -> User:
        try:
            bearer = _bearer(request)
            if bearer is not None:
                return user_for_token(store, bearer)
            session = request.cookies.get(SESSION_COOKIE)
            if not session:
                raise AuthError("sign in first (POST /api/v1/auth/login) or send a bearer token")
            user = user_for_token(store, session)
        except AuthError as exc:
            raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None
        if request.method in _UNSAFE:
            sent = await _csrf_value(request)
            if sent is None or not hmac.compare_digest(sent, csrf_for(session)):
                raise HTTPException(403, "CSRF check failed: send the X-CSRF-Token header")
        return user

    return current_user


def optional_user_dependency(store: Store) -> Callable[..., Any]:
    """A FastAPI dependency for pages that need no account (the resident portal):
    whoever is signed in, or ``None``. A bearer token must be valid (401); a stale
    session cookie is nobody (a resident who signed out long ago can still report);
    a valid session must come with its CSRF value on a change (403)."""
    signed_in = current_user_dependency(store)

    async def maybe_user(request: Request) -> User | None:
        if request.headers.get("authorization") is None and not request.cookies.get(SESSION_COOKIE):
            return None
        try:
            user: User = await signed_in(request)
        except HTTPException as exc:
            if exc.status_code == 401 and request.headers.get("authorization") is None:
                return None
            raise
        return user

    return maybe_user


def client_key(request: Request) -> str:
    """Whom a per-address limit counts: the client's address (as uvicorn gives it,
    which behind a proxy is the forwarded one only with ``serve --forwarded-allow-ips``),
    and for IPv6 its /64, since one line gets a whole /64 to draw addresses from."""
    host = request.client.host if request.client else "?"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"ip:{host}"
    if address.version == 6:
        return f"ip:{ipaddress.ip_network(f'{host}/64', strict=False)}"
    return f"ip:{address}"


def take_or_refuse(throttle: Throttle, key: str, what: str) -> None:
    """Count one try of ``what`` from ``key`` before doing anything, or refuse it (429
    with Retry-After). A failed try counts too: a script sending junk is limited like
    one sending reports."""
    wait = throttle.take(key)
    if wait > 0:
        raise HTTPException(
            429,
            f"{what}: too many from this address; try again later",
            headers={"Retry-After": str(int(wait) + 1)},
        )


class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class TokenRequest(BaseModel):
    days: int = Field(default=365, ge=1, le=365)


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "party": user.party_id,
        "areas": list(user.areas),
    }


def router(store: Store, throttle: Throttle | None = None) -> APIRouter:
    api = APIRouter(prefix="/api/v1/auth", tags=["auth"])
    throttle = throttle or Throttle()
    current_user = current_user_dependency(store)

    @api.post("/login")
    def login(body: Login, request: Request, response: Response) -> dict[str, Any]:
        """Sign in: a session cookie for pages, and the same token as a bearer. Five
        failures for a username or from an address within 15 minutes pause sign-ins
        for it (429 with Retry-After)."""
        keys = (
            f"user:{body.username.lower()}",
            f"ip:{request.client.host if request.client else '?'}",
        )
        wait = throttle.wait_s(*keys)
        if wait > 0:
            raise HTTPException(
                429,
                "too many failed sign-ins; try again later",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        try:
            user = check_password(store, body.username, body.password)
        except AuthError as exc:
            throttle.failed(*keys)
            raise HTTPException(401, str(exc)) from None
        throttle.succeeded(keys[0])
        token = issue_token(store, user, "session", SESSION_TTL)
        secure = request.url.scheme == "https"
        max_age = int(SESSION_TTL.total_seconds())
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )
        csrf = csrf_for(token)
        response.set_cookie(
            CSRF_COOKIE, csrf, max_age=max_age, httponly=False, samesite="lax", secure=secure
        )
        return {"user": user_json(user), "token": token, "csrf_token": csrf}

    @api.post("/logout")
    def logout(
        request: Request, response: Response, user: Annotated[User, Depends(current_user)]
    ) -> dict[str, str]:
        """Sign out: the session (or the bearer token used) stops working now."""
        value = _bearer(request) or request.cookies.get(SESSION_COOKIE, "")
        parts = split_token(value, PREFIX)
        if parts is not None:
            db.revoke_token(store, parts[0], datetime.now(UTC))
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return {"signed_out": user.username}

    @api.get("/me")
    def me(user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
        return user_json(user)

    @api.post("/tokens")
    def new_token(
        body: TokenRequest, user: Annotated[User, Depends(current_user)]
    ) -> dict[str, str]:
        """A personal API token (shown once), e.g. for a script or another system."""
        return {"token": issue_token(store, user, "api", timedelta(days=body.days))}

    return api
