"""Device and integration API tokens (only their hashes).

Part of :class:`cityeye.store.Store` (one module per data type; issue 16)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from cityeye.store import tables as t
from cityeye.store.base import Repo


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An ingest token's public part; the secret is never stored, only its hash."""

    id: str
    device_id: str | None
    source: str | None
    label: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    area: str | None = None  # its events must fall in this area or below it


class ApiTokenRepo(Repo):
    """Device and integration API tokens (only their hashes)."""

    # ----------------------------------------------------------------- api tokens
    def add_api_token(
        self,
        token_id: str,
        secret_hash: str,
        *,
        label: str,
        at: datetime,
        device_id: str | None = None,
        source: str | None = None,
        area: str | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(t.api_tokens).values(
                    id=token_id,
                    secret_hash=secret_hash,
                    device_id=device_id,
                    source=source,
                    label=label,
                    created_at=at,
                    area_code=area,
                )
            )

    def api_token_hash(self, token_id: str) -> tuple[ApiToken, str] | None:
        """The token and its secret's hash, or ``None`` if unknown."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)).first()
        return None if row is None else (self._token(row), row.secret_hash)

    def api_tokens(self) -> list[ApiToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.api_tokens).order_by(t.api_tokens.c.created_at))
            return [self._token(r) for r in rows]

    def revoke_api_token(self, token_id: str, at: datetime) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t.api_tokens)
                .where(t.api_tokens.c.id == token_id, t.api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return bool(done.rowcount)

    def touch_api_token(self, token_id: str, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(last_used_at=at)
            )

    @staticmethod
    def _token(r: Any) -> ApiToken:
        return ApiToken(
            r.id,
            r.device_id,
            r.source,
            r.label,
            r.created_at,
            r.revoked_at,
            r.last_used_at,
            r.area_code,
        )
