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


def hash_secret(secret: str) -> str:
    """What is stored of a token's secret (random and long: a fast hash is enough)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(prefix: str, id_bytes: int) -> tuple[str, str, str]:
    """A fresh token: its public id, its secret, and the whole string to hand out
    (``<prefix><id>_<secret>``), shown once."""
    token_id, secret = secrets.token_hex(id_bytes), secrets.token_urlsafe(32)
    return token_id, secret, f"{prefix}{token_id}_{secret}"


def split_token(value: str, prefix: str) -> tuple[str, str] | None:
    """``<prefix><id>_<secret>`` → (id, secret); ``None`` when it is not one. The id
    is hex, so the first ``_`` ends it; the secret may hold ``_`` itself."""
    if not value.startswith(prefix) or len(value) > 200:
        return None
    token_id, sep, secret = value[len(prefix) :].partition("_")
    return (token_id, secret) if sep and token_id and secret else None


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    """Constant-time check; the secret is hashed even when there is nothing to check
    it against (an unknown id), so the answer's timing does not say which ids exist."""
    digest = hash_secret(secret)
    return stored_hash is not None and hmac.compare_digest(digest, stored_hash)


def issue(
    store: Store, *, label: str, device_id: str | None = None, source: str | None = None
) -> Issued:
    """Make a token; the returned secret is the only copy there will ever be."""
    token_id, secret, whole = new_token(PREFIX, 6)
    now = datetime.now(UTC)
    store.add_api_token(
        token_id, hash_secret(secret), label=label, at=now, device_id=device_id, source=source
    )
    found = store.api_token_hash(token_id)
    assert found is not None
    return Issued(found[0], whole)


def verify(store: Store, authorization: str | None) -> ApiToken:
    """The token a ``Bearer`` header names, if it is valid and not revoked."""
    if not authorization:
        raise TokenError("send 'Authorization: Bearer ce_…' (make one with `cityeye token add`)")
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value.startswith(PREFIX):
        raise TokenError("Authorization must be 'Bearer ce_<id>_<secret>'")
    parts = split_token(value, PREFIX)
    if parts is None:
        raise TokenError("malformed token")
    token_id, secret = parts
    found = store.api_token_hash(token_id)
    if not secret_matches(secret, found[1] if found else None):
        raise TokenError("unknown token or wrong secret")
    assert found is not None
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
