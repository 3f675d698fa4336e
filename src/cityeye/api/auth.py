"""Signing in: users with argon2 passwords, sessions for pages, bearer tokens for the API.

* **Passwords** are kept only as argon2id hashes, checked in constant time
  (:mod:`cityeye.accounts`, where accounts are made and checked: this module is their
  HTTP side).
* **Sessions** (pages): ``POST /api/v1/auth/login`` sets ``cityeye_session`` — HttpOnly,
  SameSite=Lax, Secure over HTTPS, 12 hours — and a readable ``cityeye_csrf`` cookie.
  A request that changes something with the session cookie must echo the CSRF value
  in ``X-CSRF-Token`` (or a ``csrf_token`` form field): another site can make the
  browser send the cookie, but cannot read the value.
* **Bearer tokens** (API): ``Authorization: Bearer cu_<id>_<secret>``, the login's
  ``token`` or a personal token from ``POST /api/v1/auth/tokens``; no CSRF needed
  (browsers never add it on their own).
* **Known devices**: a successful sign-in also gives the browser ``cityeye_device``, a
  long-lived random token bound to the user (HttpOnly, sent only to
  ``/api/v1/auth``). It signs nobody in; it only lets that user's sign-ins from that
  browser be paced on their own, so someone guessing elsewhere cannot lock the owner
  out (:class:`SignInGuard`).
* **Revoking**: every request looks its token and user up again, so a revoked token
  or a disabled user stops working at once, open sessions included. Logout revokes
  the token it was called with; a password change or reset, ``cityeye user revoke``
  and ``cityeye user disable`` revoke every token of the user; a person lists and
  revokes their own tokens (``GET``/``DELETE /api/v1/auth/tokens``), an admin anyone's.

Tokens are random; only their SHA-256 is stored (:mod:`cityeye.store.users`).
"""

# no `from __future__ import annotations`: FastAPI must evaluate the endpoints'
# Annotated[..., Depends(current_user)] where current_user is a local of router()

import hashlib
import hmac
import ipaddress
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from cityeye.accounts import AuthError, check_password, find_user
from cityeye.api.tokens import hash_secret, new_token, secret_matches, split_token
from cityeye.domain import FieldError
from cityeye.domain.users import User, UserRole
from cityeye.store import Store
from cityeye.store import users as db

PREFIX = "cu_"
SESSION_COOKIE = "cityeye_session"
CSRF_COOKIE = "cityeye_csrf"
CSRF_HEADER = "x-csrf-token"
DEVICE_COOKIE = "cityeye_device"
SESSION_TTL = timedelta(hours=12)
API_TOKEN_TTL = timedelta(days=365)
DEVICE_TTL = timedelta(days=365)
#: The kinds of user token; a ``device`` token is never a credential.
KIND_SESSION, KIND_API, KIND_DEVICE = "session", "api", "device"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


#: The most names or addresses a throttle remembers (a flood of made-up ones must not
#: grow memory without end).
MAX_KEYS = 100_000


class Throttle:
    """Uses per key (such as a client address): after ``limit`` within ``window``,
    further ones are refused (429) until the oldest ages out — the portal's anonymous
    reports, photos and suggestions per address. (Sign-ins are paced by
    :class:`SignInGuard`, which no one else's failures can lock.) In memory: one
    process's view, reset by a restart."""

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


@dataclass(frozen=True, slots=True)
class Pace:
    """How sign-in failures counted under one key slow the next try: the first
    ``free`` cost nothing, then each waits ``base_s`` doubled per failure, up to
    ``cap_s``."""

    free: int
    base_s: float
    cap_s: float

    def delay(self, failures: int) -> float:
        if failures < self.free:
            return 0.0
        return min(self.cap_s, self.base_s * 2.0 ** min(failures - self.free, 40))


#: Per (username, address) and per known device: five free, then 2 s, 4 s, … 15 min.
PAIR = Pace(5, 2.0, 900.0)
#: Per username from anywhere but its known devices: higher and slower, so that many
#: addresses together are paced too (about 100 tries a day once reached).
USERNAME_CEILING = Pace(30, 10.0, 900.0)
#: Per address over every username (one address trying many names).
ADDRESS_CEILING = Pace(20, 2.0, 900.0)


@dataclass(frozen=True, slots=True)
class Gate:
    """One key a sign-in is paced by; ``own``: the key is the trying person's own
    (their address with the username, or their known device), cleared by a success;
    the shared ceilings only take back the try a success counted."""

    key: str
    pace: Pace
    own: bool


class SignInGuard:
    """Paces failed sign-ins without locking anyone out (and without a CAPTCHA).

    A try from an address counts under (username, address), under the username from
    anywhere and under the address; a try that brings a valid known-device cookie for
    that username counts only under that device. Each key's failures make the next try
    wait longer (:class:`Pace`), so guessing from one place slows to a crawl at once,
    from many places soon after, while the owner signing in from another address (or,
    during a distributed attack, from a known device) is not held up. Every try is
    counted before the password is checked, under one lock, so parallel guesses cannot
    slip past; a success clears the person's own keys and takes its try back from the
    shared ones. Failures are forgotten after ``forget`` without any. In memory: one
    process's view, reset by a restart."""

    def __init__(
        self,
        *,
        pair: Pace = PAIR,
        username: Pace = USERNAME_CEILING,
        address: Pace = ADDRESS_CEILING,
        device: Pace = PAIR,
        forget: timedelta = timedelta(days=1),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pair, self.username, self.address, self.device = pair, username, address, device
        self.forget, self.clock = forget.total_seconds(), clock
        self._failures: dict[str, tuple[int, float]] = {}  # key: (failures, last)
        self._lock = threading.Lock()

    def gates(self, username: str, address: str, device: str | None = None) -> tuple[Gate, ...]:
        """The keys a try for ``username`` from ``address`` (``client_key``) counts
        under, or, with a known ``device`` (its token id), only that device's."""
        if device is not None:
            return (Gate(f"device:{device}", self.device, True),)
        name = username.lower()
        return (
            Gate(f"pair:{name}|{address}", self.pair, True),
            Gate(f"user:{name}", self.username, False),
            Gate(f"addr:{address}", self.address, False),
        )

    def _count(self, key: str, now: float) -> tuple[int, float]:
        found = self._failures.get(key)
        if found is not None and now - found[1] >= self.forget:
            del self._failures[key]
            return 0, now
        return found or (0, now)

    def _wait(self, gates: Sequence[Gate], now: float) -> float:
        waits = [0.0]
        for gate in gates:
            n, last = self._count(gate.key, now)
            if n:
                waits.append(last + gate.pace.delay(n) - now)
        return max(waits)

    def wait_s(self, gates: Sequence[Gate]) -> float:
        """Seconds until the next try is allowed (0: now)."""
        now = self.clock()
        with self._lock:
            return self._wait(gates, now)

    def attempt(self, gates: Sequence[Gate]) -> float:
        """A try: 0, and it counts as a failure until :meth:`succeeded` says
        otherwise; or the seconds to wait, and nothing counted."""
        now = self.clock()
        with self._lock:
            wait = self._wait(gates, now)
            if wait > 0:
                return wait
            for gate in gates:
                n, _ = self._count(gate.key, now)
                self._failures.pop(gate.key, None)  # to the end: the newest
                self._failures[gate.key] = (n + 1, now)
            if len(self._failures) > MAX_KEYS:  # a flood of names or addresses
                for key in list(self._failures):
                    self._count(key, now)  # forget the stale ones
                for key in list(self._failures)[: len(self._failures) - MAX_KEYS // 2]:
                    del self._failures[key]  # still too many: the oldest go
            return 0.0

    def succeeded(self, gates: Sequence[Gate]) -> None:
        """The try was right: the person's own keys are cleared, the shared ones no
        longer count it."""
        with self._lock:
            for gate in gates:
                found = self._failures.get(gate.key)
                if found is None:
                    continue
                if gate.own or found[0] <= 1:
                    del self._failures[gate.key]
                else:
                    self._failures[gate.key] = (found[0] - 1, found[1])


# ---------------------------------------------------------------------- tokens
def issue_token(store: Store, user: User, kind: str, ttl: timedelta) -> str:
    """A new token for ``user``; the returned string is the only copy."""
    token_id, secret, whole = new_token(PREFIX, 8)
    now = datetime.now(UTC)
    db.add_token(store, token_id, user.id, hash_secret(secret), kind, now, now + ttl)
    return whole


def _matching(store: Store, value: str) -> db.UserToken:
    """The stored token ``value`` names, if its secret matches; ``AuthError``
    otherwise. The secret is hashed even for an unknown id, so the answer's timing
    does not say which ids exist."""
    if not value.startswith(PREFIX) or len(value) > 200:
        raise AuthError("not a cityeye user token")
    parts = split_token(value, PREFIX)
    token_id, secret = parts if parts is not None else ("", "")
    found = db.token_with_hash(store, token_id) if parts is not None else None
    if not secret_matches(secret, found[1] if found else None):
        raise AuthError("unknown token")
    assert found is not None
    return found[0]


def user_for_token(store: Store, value: str) -> User:
    """The active user a token belongs to; ``AuthError`` if it is not good now."""
    token = _matching(store, value)
    now = datetime.now(UTC)
    if token.kind == KIND_DEVICE:  # marks a known browser; signs nobody in
        raise AuthError("unknown token")
    if token.revoked_at is not None:
        raise AuthError("this token was revoked (signed out)")
    if token.expires_at is not None and token.expires_at <= now:
        raise AuthError("this token has expired; sign in again")
    user = db.get_user(store, token.user_id)
    if user is None or not user.active:
        raise AuthError("this account is disabled")
    return user


def known_device(store: Store, value: str | None, username: str) -> str | None:
    """The id of the known-device token ``value``, if it is good now and was given to
    ``username``; else ``None``."""
    if not value:
        return None
    try:
        token = _matching(store, value)
    except AuthError:
        return None
    if token.kind != KIND_DEVICE or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= datetime.now(UTC):
        return None
    owner = db.get_user(store, token.user_id)
    if owner is None or owner.username.lower() != username.lower():
        return None
    return token.id


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
        # a plain HTML form's csrf_token field; parsed here (Starlette's request.form()
        # needs python-multipart, and answered 500 without it); the body is already
        # within the app's body limit (cityeye.api.hardening)
        from urllib.parse import parse_qs

        try:
            fields = parse_qs((await request.body()).decode(), max_num_fields=200)
        except (UnicodeDecodeError, ValueError):
            return None
        values = fields.get("csrf_token")
        return values[0] if values else None
    return None


def current_user_dependency(store: Store) -> Callable[..., Any]:
    """A FastAPI dependency: the signed-in user, or 401 (403 on a missing CSRF value)."""

    async def current_user(request: Request) -> User:
        # an AuthError is a 401 (cityeye.api.app)
        bearer = _bearer(request)
        if bearer is not None:
            return user_for_token(store, bearer)
        session = request.cookies.get(SESSION_COOKIE)
        if not session:
            raise AuthError("sign in first (POST /api/v1/auth/login) or send a bearer token")
        user = user_for_token(store, session)
        if request.method in _UNSAFE:
            sent = await _csrf_value(request)
            if sent is None or not hmac.compare_digest(sent, csrf_for(session)):
                raise HTTPException(403, "CSRF check failed: send the X-CSRF-Token header")
        return user

    return current_user


def still_signed_in(store: Store, request: Request) -> bool:
    """Whether the credential ``request`` came with is still good: for a long answer,
    such as a server-sent event stream, whose dependency checked it only at the
    start (a revoked token or a disabled user ends it)."""
    try:
        value = _bearer(request) or request.cookies.get(SESSION_COOKIE)
        if not value:
            return False
        user_for_token(store, value)
    except AuthError:
        return False
    return True


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
        except AuthError:
            if request.headers.get("authorization") is None:
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


def token_json(token: db.UserToken, current: str | None = None) -> dict[str, Any]:
    """A token as its owner may see it: never the secret nor its hash."""
    return {
        "id": token.id,
        "kind": token.kind,
        "created_at": token.created_at.isoformat(),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "current": token.id == current,
    }


def _presented(request: Request) -> str | None:
    """The id of the token this request signed in with (bearer, else session)."""
    try:
        value = _bearer(request)
    except AuthError:
        return None
    parts = split_token(value or request.cookies.get(SESSION_COOKIE, ""), PREFIX)
    return parts[0] if parts is not None else None


def router(store: Store, guard: SignInGuard | None = None) -> APIRouter:
    api = APIRouter(prefix="/api/v1/auth", tags=["auth"])
    guard = guard or SignInGuard()
    current_user = current_user_dependency(store)

    @api.post("/login")
    def login(body: Login, request: Request, response: Response) -> dict[str, Any]:
        """Sign in: a session cookie for pages, and the same token as a bearer, and the
        browser becomes a known device of the user (``cityeye_device``). Failures make
        the next try from the same address wait longer and longer (429 with
        Retry-After): per username and address, then per username from anywhere and
        per address; a known device of the user is paced only by its own failures, so
        nobody elsewhere can lock its owner out."""
        device = known_device(store, request.cookies.get(DEVICE_COOKIE), body.username)
        gates = guard.gates(body.username, client_key(request), device)
        wait = guard.attempt(gates)
        if wait > 0:
            raise HTTPException(
                429,
                "too many failed sign-ins; try again later",
                headers={"Retry-After": str(int(wait) + 1)},
            )
        try:
            user = check_password(store, body.username, body.password)
        except AuthError as exc:
            # not the app's AuthError answer: a wrong password is no missing credential
            # (no WWW-Authenticate), and this router also serves alone (tests, pacing)
            raise HTTPException(401, str(exc)) from None
        guard.succeeded(gates)
        token = issue_token(store, user, KIND_SESSION, SESSION_TTL)
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
        if device is None:
            response.set_cookie(
                DEVICE_COOKIE,
                issue_token(store, user, KIND_DEVICE, DEVICE_TTL),
                max_age=int(DEVICE_TTL.total_seconds()),
                httponly=True,
                samesite="strict",
                secure=secure,
                path=api.prefix,
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
        """A personal API token (shown once), e.g. for a script or another system. It
        outlives a logout; a password change, ``cityeye user revoke`` or ``DELETE
        /api/v1/auth/tokens/{id}`` ends it."""
        return {"token": issue_token(store, user, KIND_API, timedelta(days=body.days))}

    @api.get("/tokens")
    def list_tokens(
        request: Request,
        user: Annotated[User, Depends(current_user)],
        username: Annotated[
            str | None, Query(alias="user", max_length=64, description="admins: whose")
        ] = None,
    ) -> list[dict[str, Any]]:
        """The caller's sessions, API tokens and known devices that still work, newest
        first (never a secret); ``current`` marks the one this request came with. An
        admin may ask for anyone's (``user``)."""
        whose = user
        if username is not None and username != user.username:
            if user.role != UserRole.ADMIN:
                raise HTTPException(403, "only an admin sees another user's tokens")
            try:
                whose = find_user(store, username)
            except FieldError:
                raise HTTPException(404, f"no user {username!r}") from None
        current = _presented(request)
        return [token_json(t, current) for t in db.tokens_of(store, whose.id, datetime.now(UTC))]

    @api.delete("/tokens/{token_id}")
    def revoke(
        token_id: Annotated[str, Path(max_length=32)],
        user: Annotated[User, Depends(current_user)],
    ) -> dict[str, str]:
        """Revoke one of the caller's tokens (a session elsewhere, a script's token, a
        known device); an admin may revoke anyone's. It stops working at once."""
        found = db.token_with_hash(store, token_id)
        if found is None or (found[0].user_id != user.id and user.role != UserRole.ADMIN):
            raise HTTPException(404, "no such token of yours")
        db.revoke_token(store, token_id, datetime.now(UTC))
        return {"revoked": token_id}

    return api
