"""Ingest tokens: who may send events, and for which device or source.

A token reads ``ce_<id>_<secret>``. The id is public (it names the token in logs and in
``cityeye token list``); the secret is 32 random bytes shown once, when the token is
made, and stored only as its SHA-256. Because the secret is random and long, a fast
hash is as safe as a slow one and costs microseconds per request (argon2 is for the
passwords people choose, issue 6). Comparison is constant-time. The shape and the
hashing are :mod:`cityeye.domain.tokens`, shared with people's tokens and survey links.

What a token may send (:func:`check_event`, issue 14), whoever holds it:

* **never a person's move** (:data:`~cityeye.domain.PEOPLE_KINDS`: a dispatch, a
  dismissal, a rating). People act signed in, through ``/api/v1/cases/{id}/actions``
  and the portal, where their role, party and area are checked; a desk integration
  does the same with a user token of a handler account (``POST /api/v1/auth/tokens``),
  held to that account's party and areas;
* **a device of the world speaks as the world knows it**: only the event kinds its
  device kind emits, and no ``area``, ``subject``, ``attrs.building`` or
  ``attrs.venue`` other than the world's (leave them out: the world fills them in);
* a token **bound to a device** sends for that device only, and the device must be in
  the loaded world (a stolen meter's token cannot forge a smoke alarm, nor an SOS);
* a token **bound to a source** sends events of that source only;
* a token **bound to an area** (``cityeye token add --area``) sends only events whose
  area, as the service resolves it, is that area or lies inside it;
* a token bound to none of these is a district gateway's and may send any other event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cityeye.domain import Event, FieldError, World
from cityeye.domain.tokens import hash_secret, new_token, secret_matches, split_token
from cityeye.domain.world import Locator
from cityeye.errors import AuthError
from cityeye.ingest.scope import check_device_claims, check_not_a_person
from cityeye.store import ApiToken, Store

PREFIX = "ce_"
#: How stale "last used" may get before a request writes it again.
TOUCH_EVERY_S = 60


class TokenError(AuthError):
    """The request's credentials are missing or wrong (an :class:`AuthError`: 401)."""


@dataclass(frozen=True, slots=True)
class Issued:
    token: ApiToken
    secret: str  # the whole ``ce_<id>_<secret>`` string, shown once


def issue(
    store: Store,
    *,
    label: str,
    device_id: str | None = None,
    source: str | None = None,
    area: str | None = None,
) -> Issued:
    """Make a token; the returned secret is the only copy there will ever be."""
    token_id, secret, whole = new_token(PREFIX, 6)
    now = datetime.now(UTC)
    store.add_api_token(
        token_id,
        hash_secret(secret),
        label=label,
        at=now,
        device_id=device_id,
        source=source,
        area=area,
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


def check_event(token: ApiToken, event: Event, world: World, locate: Locator | None = None) -> None:
    """Refuse an event ``token`` may not send, naming the field (see the module's
    docstring for the rules). ``world`` is the district the service runs;
    ``locate`` finds the grid of coordinates, as the service does when it stores."""
    check_not_a_person(event)
    if token.device_id is not None:
        if event.device_id != token.device_id:
            raise FieldError(
                "device_id",
                f"token {token.id} sends for device {token.device_id} only, not {event.device_id}",
            )
        if token.device_id not in world.devices:
            raise FieldError(
                "device_id",
                f"device {token.device_id} is not in the loaded world; load it "
                "(`cityeye world load`) before its token can send",
            )
    if token.source is not None and event.source != token.source:
        raise FieldError(
            "source", f"token {token.id} sends for source {token.source} only, not {event.source}"
        )
    device = world.devices.get(event.device_id) if event.device_id is not None else None
    if device is not None:
        check_device_claims(device, event, strict=token.device_id is not None)
    if token.area is not None:
        area = world.event_area(event, locate)
        if not world.within(area, token.area):
            raise FieldError(
                "area",
                f"token {token.id} sends for area {token.area} and below only; "
                + ("this event has no area" if area is None else f"this event is in {area}"),
            )
