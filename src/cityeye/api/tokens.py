"""Ingest tokens: who may send events, and for which device or source.

A token reads ``ce_<id>_<secret>``. The id is public (it names the token in logs and in
``cityeye token list``); the secret is 32 random bytes shown once, when the token is
made, and stored only as its SHA-256. Because the secret is random and long, a fast
hash is as safe as a slow one and costs microseconds per request (argon2 is for the
passwords people choose, issue 6). Comparison is constant-time.

A token bound to a device may only send events of that device (a stolen meter's token
cannot forge a smoke alarm); one bound to a source only events of that source; one bound
to neither is a gateway's or an integration's and may send any.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cityeye.domain import Event, FieldError
from cityeye.store import ApiToken, Store

PREFIX = "ce_"
#: How stale "last used" may get before a request writes it again.
TOUCH_EVERY_S = 60


class TokenError(Exception):
    """The request's credentials are missing or wrong (HTTP 401)."""


@dataclass(frozen=True, slots=True)
class Issued:
    token: ApiToken
    secret: str  # the whole ``ce_<id>_<secret>`` string, shown once


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(
    store: Store, *, label: str, device_id: str | None = None, source: str | None = None
) -> Issued:
    """Make a token; the returned secret is the only copy there will ever be."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    store.add_api_token(
        token_id, _hash(secret), label=label, at=now, device_id=device_id, source=source
    )
    found = store.api_token_hash(token_id)
    assert found is not None
    return Issued(found[0], f"{PREFIX}{token_id}_{secret}")


def verify(store: Store, authorization: str | None) -> ApiToken:
    """The token a ``Bearer`` header names, if it is valid and not revoked."""
    if not authorization:
        raise TokenError("send 'Authorization: Bearer ce_…' (make one with `cityeye token add`)")
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(PREFIX):
        raise TokenError("Authorization must be 'Bearer ce_<id>_<secret>'")
    token_id, sep, secret = value[len(PREFIX) :].partition("_")
    if not sep or not token_id or not secret or len(value) > 200:
        raise TokenError("malformed token")
    found = store.api_token_hash(token_id)
    # hash even for unknown ids, so timing does not tell which ids exist
    digest = _hash(secret)
    if found is None or not hmac.compare_digest(digest, found[1]):
        raise TokenError("unknown token or wrong secret")
    token = found[0]
    if token.revoked_at is not None:
        raise TokenError(f"token {token.id} was revoked at {token.revoked_at.isoformat()}")
    now = datetime.now(UTC)
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > TOUCH_EVERY_S:
        store.touch_api_token(token.id, now)  # "last used", not a write per request
    return token


def check_event(token: ApiToken, event: Event) -> None:
    """Refuse an event the token may not send, naming the field."""
    if token.device_id is not None and event.device_id != token.device_id:
        raise FieldError(
            "device_id",
            f"token {token.id} sends for device {token.device_id} only, not {event.device_id}",
        )
    if token.source is not None and event.source != token.source:
        raise FieldError(
            "source", f"token {token.id} sends for source {token.source} only, not {event.source}"
        )
