"""Secrets handed out as ``<prefix><id>_<secret>`` and stored only as a hash: the
ingest tokens (:mod:`cityeye.api.tokens`), the people's tokens (:mod:`cityeye.api.auth`),
the portal's follow keys and the survey's one-time links (:mod:`cityeye.survey`).

The secret is random and long, so a fast hash (SHA-256) is as safe as a slow one and
costs microseconds per request (argon2 is for the passwords people choose); the check
is constant-time. Here, below every layer that hands one out, so that each uses the one
way (it lived in ``api/tokens.py`` until the survey, a service below the API, needed it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


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
