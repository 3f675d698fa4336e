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

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from cityeye.accounts import AuthError, check_password, find_user
from cityeye.api.deps import Svc
from cityeye.api.limits import client_key
from cityeye.api.presenters import token_json, user_json
from cityeye.domain import FieldError
from cityeye.domain.tokens import hash_secret, new_token, secret_matches, split_token
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


async def current_user(request: Request, svc: Svc) -> User:
    """The signed-in user, or 401 (403 on a missing CSRF value): the dependency of every
    endpoint that needs an account, ``user: CurrentUser``."""
    # an AuthError is a 401 (cityeye.api.app)
    bearer = _bearer(request)
    if bearer is not None:
        return user_for_token(svc.store, bearer)
    session = request.cookies.get(SESSION_COOKIE)
    if not session:
        raise AuthError("sign in first (POST /api/v1/auth/login) or send a bearer token")
    user = user_for_token(svc.store, session)
    if request.method in _UNSAFE:
        sent = await _csrf_value(request)
        if sent is None or not hmac.compare_digest(sent, csrf_for(session)):
            raise HTTPException(403, "CSRF check failed: send the X-CSRF-Token header")
    return user


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


async def maybe_user(request: Request, svc: Svc) -> User | None:
    """For pages that need no account (the resident portal): whoever is signed in, or
    ``None``. A bearer token must be valid (401); a stale session cookie is nobody (a
    resident who signed out long ago can still report); a valid session must come with
    its CSRF value on a change (403)."""
    if request.headers.get("authorization") is None and not request.cookies.get(SESSION_COOKIE):
        return None
    try:
        return await current_user(request, svc)
    except AuthError:
        if request.headers.get("authorization") is None:
            return None
        raise


#: An endpoint's parameter ``user: CurrentUser`` is the signed-in user (else 401).
CurrentUser = Annotated[User, Depends(current_user)]
#: ``user: MaybeUser``: the signed-in user or ``None`` (pages open to everyone).
MaybeUser = Annotated[User | None, Depends(maybe_user)]


class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class TokenRequest(BaseModel):
    days: int = Field(default=365, ge=1, le=365)


def _presented(request: Request) -> str | None:
    """The id of the token this request signed in with (bearer, else session)."""
    try:
        value = _bearer(request)
    except AuthError:
        return None
    parts = split_token(value or request.cookies.get(SESSION_COOKIE, ""), PREFIX)
    return parts[0] if parts is not None else None


router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login")
def login(body: Login, request: Request, response: Response, svc: Svc) -> dict[str, Any]:
    """Sign in: a session cookie for pages, and the same token as a bearer, and the
    browser becomes a known device of the user (``cityeye_device``). Failures make
    the next try from the same address wait longer and longer (429 with
    Retry-After): per username and address, then per username from anywhere and
    per address; a known device of the user is paced only by its own failures, so
    nobody elsewhere can lock its owner out."""
    store, guard = svc.store, svc.sign_ins
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
        # (no WWW-Authenticate)
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
            path=router.prefix,
        )
    return {"user": user_json(user, svc.world), "token": token, "csrf_token": csrf}


@router.post("/logout")
def logout(request: Request, response: Response, user: CurrentUser, svc: Svc) -> dict[str, str]:
    """Sign out: the session (or the bearer token used) stops working now."""
    value = _bearer(request) or request.cookies.get(SESSION_COOKIE, "")
    parts = split_token(value, PREFIX)
    if parts is not None:
        db.revoke_token(svc.store, parts[0], datetime.now(UTC))
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"signed_out": user.username}


@router.get("/me")
def me(user: CurrentUser, svc: Svc) -> dict[str, Any]:
    return user_json(user, svc.world)


@router.post("/tokens", name="new_token")
def create_token(body: TokenRequest, user: CurrentUser, svc: Svc) -> dict[str, str]:
    """A personal API token (shown once), e.g. for a script or another system. It
    outlives a logout; a password change, ``cityeye user revoke`` or ``DELETE
    /api/v1/auth/tokens/{id}`` ends it."""
    return {"token": issue_token(svc.store, user, KIND_API, timedelta(days=body.days))}


@router.get("/tokens")
def list_tokens(
    request: Request,
    user: CurrentUser,
    svc: Svc,
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
            whose = find_user(svc.store, username)
        except FieldError:
            raise HTTPException(404, f"no user {username!r}") from None
    current = _presented(request)
    return [token_json(t, current) for t in db.tokens_of(svc.store, whose.id, datetime.now(UTC))]


@router.delete("/tokens/{token_id}")
def revoke(
    token_id: Annotated[str, Path(max_length=32)],
    user: CurrentUser,
    svc: Svc,
) -> dict[str, str]:
    """Revoke one of the caller's tokens (a session elsewhere, a script's token, a
    known device); an admin may revoke anyone's. It stops working at once."""
    found = db.token_with_hash(svc.store, token_id)
    if found is None or (found[0].user_id != user.id and user.role != UserRole.ADMIN):
        raise HTTPException(404, "no such token of yours")
    db.revoke_token(svc.store, token_id, datetime.now(UTC))
    return {"revoked": token_id}
