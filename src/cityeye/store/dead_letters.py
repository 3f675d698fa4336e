"""Dead letters: every refused input kept with its reason and exact bytes.

Part of :class:`cityeye.store.Store` (one module per data type; issue 16)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from cityeye.store import tables as t
from cityeye.store.base import Repo


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Input that could not be accepted, kept with the reason and the raw bytes."""

    received_at: datetime
    channel: str
    ref: str | None
    field: str
    reason: str
    raw: str
    #: The bytes exactly as received (``raw`` is a shortened readable copy).
    payload: bytes | None = None


class DeadLetterRepo(Repo):
    """Dead letters: every refused input kept with its reason and exact bytes."""

    # ----------------------------------------------------------------- dead letters
    def add_dead_letters(self, letters: Iterable[DeadLetter]) -> int:
        rows = [
            {
                "received_at": d.received_at,
                "channel": d.channel,
                "ref": d.ref,
                "field": d.field,
                "reason": d.reason,
                "raw": d.raw,
                "payload": d.payload,
            }
            for d in letters
        ]
        if rows:
            with self.engine.begin() as conn:
                self._insert_rows(conn, t.dead_letters, rows)
        return len(rows)

    def dead_letter_count(self) -> int:
        """How many dead letters there are, counted by the database (the status page
        needs only the number, not up to a megabyte of raw bytes per letter)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.dead_letters)).scalar_one())

    def dead_letters(self, limit: int = 1000) -> list[DeadLetter]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.dead_letters).order_by(t.dead_letters.c.seq).limit(limit)
            ).mappings()
            return [
                DeadLetter(
                    r["received_at"],
                    r["channel"],
                    r["ref"],
                    r["field"],
                    r["reason"],
                    r["raw"],
                    bytes(r["payload"]) if r["payload"] is not None else None,
                )
                for r in rows
            ]
