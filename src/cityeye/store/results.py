"""月考核 in the database: a contest round's published result, frozen.

A result is the board's JSON at the moment it was published (``assessment_results``,
migration 0015). Publishing is an insert that does nothing when the round, level and
area already have a row (ON CONFLICT DO NOTHING), so the scheduler may try again after
a crash, or two servers may try at once, and the first publication stands: the result
a district circulated is never overwritten by a later recomputation, even after a late
correction has changed the counters (the live board recomputes; this does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cityeye.domain.dates import iso_utc
from cityeye.store import tables as t
from cityeye.store.base import insert_stmt
from cityeye.store.repo import Store

#: The area of a district-wide result (the table's key cannot be NULL).
DISTRICT = ""


@dataclass(frozen=True, slots=True)
class Published:
    """One published result, without its board (the list of results)."""

    period: str
    level: str
    area: str
    published_at: datetime
    contest: str


def publish_result(
    store: Store,
    *,
    period: str,
    level: str,
    area: str,
    contest: str,
    board: dict[str, Any],
    now: datetime,
) -> bool:
    """Freeze ``board`` as the result of ``period`` for ``level`` in ``area``
    (:data:`DISTRICT`: the whole district); ``True`` when it was newly published,
    ``False`` when that round already had its result (which stays as it was)."""
    with store.engine.begin() as conn:
        stmt = (
            insert_stmt(conn, t.assessment_results)
            .values(
                period=period,
                level=level,
                area=area,
                published_at=now,
                contest=contest,
                board=board,
            )
            .on_conflict_do_nothing(index_elements=["period", "level", "area"])
            # a row comes back only when inserted (rowcount is not reliable here:
            # PostgreSQL's driver may answer -1)
            .returning(t.assessment_results.c.period)
        )
        return conn.execute(stmt).first() is not None


def find_results(store: Store) -> list[Published]:
    """Every published result, the newest round first (then by level and area)."""
    r = t.assessment_results.c
    query = select(r.period, r.level, r.area, r.published_at, r.contest).order_by(
        r.period.desc(), r.published_at.desc(), r.level, r.area
    )
    with store.engine.connect() as conn:
        return [Published(*row) for row in conn.execute(query)]


def get_result(
    store: Store, period: str, level: str, area: str = DISTRICT
) -> dict[str, Any] | None:
    """The frozen board of one published result, with ``published_at`` added (ISO 8601
    UTC, so the whole is what the API answers and the documents print), or ``None``
    when that round has not been published."""
    r = t.assessment_results.c
    query = select(r.board, r.published_at).where(
        r.period == period, r.level == level, r.area == area
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return {**row.board, "published_at": iso_utc(row.published_at)}
