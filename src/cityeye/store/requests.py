"""Residents' reports as service requests (Open311): the stored ``report.citizen`` and
``report.hotline`` events, filtered, and the case each one became.

A report becomes a case of the ``citizen.report`` scenario, which keys by event: the
case's key is ``<source>/<event id>`` (:attr:`Event.ref`). These queries find
both sides without the engine.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, insert, or_, select

from cityeye.domain import REPORT_KINDS, Case, Event, parse_event
from cityeye.domain.scenario import REPORT_SCENARIO
from cityeye.store import tables as t
from cityeye.store.base import CHUNK
from cityeye.store.repo import Store


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A stored report event and when it arrived."""

    event: Event
    received_at: datetime
    area: str | None


def _latest_state(scenario: str) -> Any:
    """The state of the newest case of ``(scenario, source/event id)``, per event row."""
    c, e = t.cases.c, t.events.c
    return (
        select(c.state)
        .where(c.scenario == scenario, c.key == e.source + "/" + e.event_id)
        .order_by(c.opened_at.desc(), c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def report_events(
    store: Store,
    *,
    ids: Sequence[str] | None = None,
    categories: Collection[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    case_states: Collection[str] | None = None,
    without_case: bool = False,
    scenario: str = REPORT_SCENARIO,
    limit: int | None = 1000,
) -> list[StoredReport]:
    """Report events, newest first (event time, then arrival).

    ``ids``: only these event ids (of any source). ``categories``: only these
    ``attrs.category`` values. ``start`` / ``end``: event time, both ends included.
    ``case_states`` / ``without_case``: only reports whose newest ``scenario`` case is
    in one of ``case_states``, or (``without_case``) that have no case yet, or either
    when both are given; neither given means any.
    """
    e = t.events.c
    query = select(e.seq, e.ts, e.raw, e.received_at, e.area_code).where(e.kind.in_(REPORT_KINDS))
    if categories is not None:
        if not categories:
            return []
        query = query.where(e.attrs["category"].as_string().in_(sorted(categories)))
    if start is not None:
        query = query.where(e.ts >= start)
    if end is not None:
        query = query.where(e.ts <= end)
    if case_states is not None or without_case:
        state = _latest_state(scenario)
        wanted = []
        if case_states:
            wanted.append(state.in_(sorted(case_states)))
        if without_case:
            wanted.append(state.is_(None))
        if not wanted:
            return []
        query = query.where(or_(*wanted))
    query = query.order_by(e.ts.desc(), e.seq.desc())
    if limit is not None:
        query = query.limit(limit)
    with store.engine.connect() as conn:
        if ids is None:
            rows = list(conn.execute(query).all())
        else:
            unique = list(dict.fromkeys(ids))
            rows = []
            for begin in range(0, len(unique), CHUNK):
                chunk = unique[begin : begin + CHUNK]
                rows += conn.execute(query.where(e.event_id.in_(chunk))).all()
            rows.sort(key=lambda r: (r.ts, r.seq), reverse=True)
            rows = rows[:limit] if limit is not None else rows
    return [
        StoredReport(parse_event(orjson.loads(r.raw)), r.received_at, r.area_code) for r in rows
    ]


def cases_by_key(
    store: Store, keys: Sequence[str], scenario: str = REPORT_SCENARIO
) -> dict[str, Case]:
    """The newest case of ``(scenario, key)`` for each of ``keys`` (:attr:`Event.ref`)
    that has one, with its handlers and timeline."""
    c = t.cases.c
    newest: dict[str, tuple[datetime, str]] = {}
    unique = list(dict.fromkeys(keys))
    with store.engine.connect() as conn:
        for begin in range(0, len(unique), CHUNK):
            chunk = unique[begin : begin + CHUNK]
            rows = conn.execute(
                select(c.id, c.key, c.opened_at).where(c.scenario == scenario, c.key.in_(chunk))
            ).all()
            for r in rows:
                seen = newest.get(r.key)
                if seen is None or (r.opened_at, r.id) > seen:
                    newest[r.key] = (r.opened_at, r.id)
    if not newest:
        return {}
    by_id = {case.id: case for case in store.load_cases(sorted(i for _, i in newest.values()))}
    return {key: by_id[case_id] for key, (_, case_id) in newest.items() if case_id in by_id}


def case_for(store: Store, key: str, scenario: str = REPORT_SCENARIO) -> Case | None:
    """The newest case of ``(scenario, key)``, if there is one."""
    return cases_by_key(store, [key], scenario).get(key)


# ---------------------------------------------------------------------- following
@dataclass(frozen=True, slots=True)
class Follow:
    """Who may follow a report and rate its result (see ``report_follows``)."""

    report_id: str
    key_hash: str
    user_id: str | None
    created_at: datetime


def add_follow(store: Store, follow: Follow) -> None:
    """Keep the follow key's hash of a new report (before its event is stored, so
    an accepted report always has one)."""
    with store.engine.begin() as conn:
        conn.execute(
            insert(t.report_follows).values(
                report_id=follow.report_id,
                key_hash=follow.key_hash,
                user_id=follow.user_id,
                created_at=follow.created_at,
            )
        )


def drop_follow(store: Store, report_id: str) -> None:
    """Forget the follow of a report that was not stored after all."""
    with store.engine.begin() as conn:
        conn.execute(delete(t.report_follows).where(t.report_follows.c.report_id == report_id))


def _one_follow(store: Store, condition: Any) -> Follow | None:
    with store.engine.connect() as conn:
        r = conn.execute(select(t.report_follows).where(condition)).first()
    return None if r is None else Follow(r.report_id, r.key_hash, r.user_id, r.created_at)


def get_follow(store: Store, report_id: str) -> Follow | None:
    return _one_follow(store, t.report_follows.c.report_id == report_id)


def follow_with_key(store: Store, key_hash: str) -> Follow | None:
    """The report a follow key belongs to (a phone re-sending a report it made)."""
    return _one_follow(store, t.report_follows.c.key_hash == key_hash)


def followed_by(store: Store, user_id: str, limit: int = 200) -> list[str]:
    """The reports a signed-in resident made, newest first."""
    f = t.report_follows.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(f.report_id)
            .where(f.user_id == user_id)
            .order_by(f.created_at.desc(), f.report_id)
            .limit(limit)
        ).all()
    return [r.report_id for r in rows]
