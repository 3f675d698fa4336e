"""The routine's runs (``routine_runs``): each job runs once per period.

A run is *claimed* by inserting its row; the one process whose insert succeeds runs it
(``cityeye assess`` from cron and the scheduler of ``cityeye serve`` may both ask, on
SQLite or PostgreSQL). A run whose row exists unfinished for longer than ``stale`` is
taken to have died (a killed process) and may be claimed again: its notifications are
keyed (:mod:`cityeye.store.outbox`), so running it twice tells nobody twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from cityeye.store import tables as t
from cityeye.store.repo import Store


@dataclass(frozen=True, slots=True)
class Run:
    job: str
    period: str
    started_at: datetime
    finished_at: datetime | None
    summary: dict[str, Any] | None


def claim_run(store: Store, job: str, period: str, now: datetime, stale: timedelta) -> bool:
    """Whether this caller should run ``job`` for ``period`` now: True once (the
    caller then :func:`finish_run` s it), False while another run is under way or when
    it is done."""
    r = t.routine_runs.c
    try:
        with store.engine.begin() as conn:
            conn.execute(
                t.routine_runs.insert().values(
                    job=job, period=period, started_at=now, finished_at=None, summary=None
                )
            )
        return True
    except IntegrityError:
        pass
    with store.engine.begin() as conn:  # an unfinished run started long ago: it died
        taken = conn.execute(
            update(t.routine_runs)
            .where(
                r.job == job,
                r.period == period,
                r.finished_at.is_(None),
                r.started_at < now - stale,
            )
            .values(started_at=now)
        )
    return bool(taken.rowcount == 1)


def finish_run(store: Store, job: str, period: str, now: datetime, summary: dict[str, Any]) -> None:
    r = t.routine_runs.c
    with store.engine.begin() as conn:
        conn.execute(
            update(t.routine_runs)
            .where(r.job == job, r.period == period)
            .values(finished_at=now, summary=summary)
        )


def release_run(store: Store, job: str, period: str) -> None:
    """Give a claimed run back unfinished (it failed): the next ask runs it again."""
    r = t.routine_runs.c
    with store.engine.begin() as conn:
        conn.execute(
            delete(t.routine_runs).where(r.job == job, r.period == period, r.finished_at.is_(None))
        )


def runs(store: Store, job: str | None = None, limit: int = 100) -> list[Run]:
    """The newest runs first (of one job)."""
    r = t.routine_runs.c
    query = select(t.routine_runs).order_by(r.started_at.desc()).limit(limit)
    if job is not None:
        query = query.where(r.job == job)
    with store.engine.connect() as conn:
        return [
            Run(row.job, row.period, row.started_at, row.finished_at, row.summary)
            for row in conn.execute(query)
        ]
