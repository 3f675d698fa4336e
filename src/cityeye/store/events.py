"""Events: stored exactly once, durable before acknowledged, read back in order.

Part of :class:`cityeye.store.Store` (one module per data type; issue 16)."""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects import postgresql

from cityeye.domain import (
    EVENT_KINDS,
    AreaLevel,
    Event,
    World,
    is_known_kind,
    parse_event,
)
from cityeye.native import compiled
from cityeye.store import tables as t
from cityeye.store.base import CHUNK, Repo, insert_stmt
from cityeye.store.types import sqlite_time


def stored_event(raw: str | bytes) -> Event:
    """An event as :meth:`Store.add_events` stored it (``raw``: its
    :meth:`Event.to_json`, checked by :func:`parse_event` before it was stored), built
    without checking every field again: the analysis reads each event back once
    (``serve --analysis process``, a restart), and the checks were a third of its
    time. A row of another shape is parsed and checked in full."""
    obj = orjson.loads(raw)
    try:
        return Event(
            obj["id"],
            obj["kind"],
            datetime.fromisoformat(obj["ts"]),
            obj["source"],
            obj.get("device_id"),
            obj.get("subject"),
            obj.get("area"),
            obj.get("lat"),
            obj.get("lon"),
            obj["attrs"],
        )
    except (KeyError, TypeError, ValueError):
        return parse_event(obj)


@dataclass(frozen=True, slots=True)
class EventRows:
    """Events made into rows for one dialect (:meth:`Store.prepare_events`): their
    ``(source, id)`` keys and rows, one per event, in order."""

    keys: list[tuple[str, str]]
    rows: list[Any]
    #: (kind, area or ``''``) per event, what ``event_counts`` counts
    counted: list[tuple[str, str]]


class _All:
    """Every pair: what :func:`_insert_events_sqlite` answers when no row of the batch
    was a duplicate, instead of a set of them all."""

    def __contains__(self, pair: object) -> bool:
        return True


ALL = _All()


def _event_row(ev: Event, area: str | None, received_at: datetime) -> dict[str, Any]:
    """An ``events`` row (for the SQLAlchemy insert; SQLite builds tuples itself)."""
    return {
        "source": ev.source,
        "event_id": ev.id,
        "kind": ev.kind,
        "ts": ev.ts,
        "received_at": received_at,
        "device_id": ev.device_id,
        "subject": ev.subject,
        "area_code": area,
        "lat": ev.lat,
        "lon": ev.lon,
        "attrs": ev.attrs,
        "known_kind": is_known_kind(ev.kind),
        "late": False,
        "raw": orjson.dumps(ev.to_json()).decode(),
    }


def sqlite_rows(
    events: list[Event], areas: Sequence[str | None], received: str, known_kinds: Container[str]
) -> list[tuple[Any, ...]]:
    """The ``events`` rows for SQLite's driver, in column order (``received``: the
    batch's arrival, already in :func:`sqlite_time`'s text). The reference for the
    compiled ``cityeye.ingest._fast.sqlite_rows`` (:mod:`cityeye.native`)."""
    dumps = orjson.dumps
    return [
        (
            ev.source,
            ev.id,
            ev.kind,
            sqlite_time(ev.ts),
            received,
            ev.device_id,
            ev.subject,
            area,
            ev.lat,
            ev.lon,
            dumps(ev.attrs).decode() if ev.attrs else "{}",  # most readings have none
            ev.kind in known_kinds,
            False,
            dumps(ev.to_json()).decode(),
        )
        for ev, area in zip(events, areas, strict=True)
    ]


#: The compiled twin of :func:`sqlite_rows`, when built and chosen.
_fast = compiled("ingest._fast")


#: Rows per multi-row INSERT on SQLite: 14 parameters a row stays under its limit of
#: 32,766 variables with room to spare.
SQLITE_ROWS = 500


@functools.cache
def _sqlite_insert_sql(rows: int) -> str:
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * rows)
    return (
        "INSERT INTO events (source, event_id, kind, ts, received_at, device_id, subject,"
        f" area_code, lat, lon, attrs, known_kind, late, raw) VALUES {values}"
        " ON CONFLICT (source, event_id) DO NOTHING"
    )


def _insert_events_sqlite(
    conn: Connection, rows: list[tuple[Any, ...]]
) -> set[tuple[str, str]] | _All:
    """SQLite: multi-row ``INSERT … ON CONFLICT DO NOTHING`` statements of
    :data:`SQLITE_ROWS` rows on the driver connection. When every row went in (the
    common case) that is all there is to know; when some were duplicates, the new ones
    are the newest ``rowcount`` rows by seq: this transaction holds SQLite's write lock
    from its first insert to its commit, so nobody else's rows can be among them.

    Why not ``executemany`` or ``RETURNING`` (issue 15): the driver lets go of the GIL
    around every step of a statement, so an insert stepped once per row (or per
    returned row) has to win the GIL back hundreds of times per batch — and in the live
    server, where other requests' threads are decoding, each time can cost a thread
    switch interval. One step per 500 rows holds the ingest lock for the insert's own
    time only."""
    added = 0
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), SQLITE_ROWS):
            chunk = rows[start : start + SQLITE_ROWS]
            cursor.execute(
                _sqlite_insert_sql(len(chunk)), list(itertools.chain.from_iterable(chunk))
            )
            added += cursor.rowcount
        if added == len(rows):
            return ALL
        cursor.execute("SELECT source, event_id FROM events ORDER BY seq DESC LIMIT ?", (added,))
        return set(cursor.fetchall())
    finally:
        cursor.close()


def _insert_events_returning(conn: Connection, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """PostgreSQL: ``INSERT … ON CONFLICT DO NOTHING RETURNING`` the new rows' keys."""
    inserted: set[tuple[str, str]] = set()
    for start in range(0, len(rows), CHUNK):
        stmt = (
            insert_stmt(conn, t.events)
            .on_conflict_do_nothing(index_elements=["source", "event_id"])
            .returning(t.events.c.source, t.events.c.event_id)
        )
        result = conn.execute(stmt, rows[start : start + CHUNK])
        inserted.update((r.source, r.event_id) for r in result)
    return inserted


def _add_event_counts(conn: Connection, new: Counter[tuple[str, str]]) -> None:
    """Add the new events per (kind, area) to ``event_counts``, in the caller's
    transaction. One prepared single-row upsert run over the pairs: a multi-row
    statement built by SQLAlchemy at every commit took longer to compile than the
    events took to insert (issue 15)."""
    if not new:
        return
    pairs = [(kind, area, n) for (kind, area), n in sorted(new.items())]
    if conn.dialect.name == "sqlite":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(_SQLITE_COUNT, pairs)
        finally:
            cursor.close()
        return
    conn.execute(_COUNT_UPSERT, [{"kind": k, "area_code": a, "n": n} for k, a, n in pairs])


_MARK_LATE = (
    update(t.events)
    .where(t.events.c.source == bindparam("s"), t.events.c.event_id == bindparam("e"))
    .values(late=True)
)


_SQLITE_COUNT = (
    "INSERT INTO event_counts (kind, area_code, n) VALUES (?, ?, ?)"
    " ON CONFLICT (kind, area_code) DO UPDATE SET n = n + excluded.n"
)


_COUNT_INSERT = postgresql.insert(t.event_counts)


_COUNT_UPSERT = _COUNT_INSERT.on_conflict_do_update(
    index_elements=["kind", "area_code"], set_={"n": t.event_counts.c.n + _COUNT_INSERT.excluded.n}
)


class EventRepo(Repo):
    """Events: stored exactly once, durable before acknowledged, read back in order."""

    # ----------------------------------------------------------------- events
    def add_events(
        self, events: Sequence[Event], received_at: datetime, *, areas: Sequence[str | None] = ()
    ) -> list[bool]:
        """Store events idempotently on ``(source, id)``.

        Returns, per input event, ``True`` if it was new and ``False`` if it was a
        duplicate (already stored, or earlier in the same batch). The batch is one
        transaction: when this returns, every new event is durable. ``areas``, when
        given, is the resolved area of each event (from its device or coordinates).
        """
        return self.add_prepared([self.prepare_events(events, received_at, areas=areas)])[0]

    def prepare_events(
        self, events: Sequence[Event], received_at: datetime, *, areas: Sequence[str | None] = ()
    ) -> EventRows:
        """The rows :meth:`add_prepared` will insert, made before its transaction: the
        live path makes them in each request's own thread while another request's
        group commits (issue 15), instead of one after the other under the lock."""
        keys = [(ev.source, ev.id) for ev in events]
        where = areas if areas else [ev.area for ev in events]
        counted = [(ev.kind, area or "") for ev, area in zip(events, where, strict=True)]
        if self.engine.dialect.name != "sqlite":
            return EventRows(
                keys,
                [_event_row(ev, a, received_at) for ev, a in zip(events, where, strict=True)],
                counted,
            )
        received = sqlite_time(received_at)  # the batch's, formatted once
        build = sqlite_rows if _fast is None else _fast.sqlite_rows
        return EventRows(keys, build(list(events), where, received, EVENT_KINDS), counted)

    def add_prepared(self, batches: Sequence[EventRows]) -> list[list[bool]]:
        """Store prepared batches in one transaction (a group commit); per batch and
        event, whether it was new — as if the batches had been stored one after the
        other: an event earlier in the group makes a later copy a duplicate. The new
        events are added to ``event_counts`` in the same transaction."""
        first: dict[tuple[str, str], int] = {}
        keys = [key for batch in batches for key in batch.keys]
        # the common case, no event twice in the group, in bulk: the loop below cost
        # ~2 µs an event in the HTTP process (issue 15)
        once = len(set(keys)) == len(keys)
        if once:
            rows: list[Any] = [row for batch in batches for row in batch.rows]
            counted = [kind_area for batch in batches for kind_area in batch.counted]
        else:
            rows, counted, keys = [], [], []
            at = 0
            for batch in batches:
                for key, row, kind_area in zip(batch.keys, batch.rows, batch.counted, strict=True):
                    if first.setdefault(key, at) == at:
                        rows.append(row)
                        counted.append(kind_area)
                        keys.append(key)
                    at += 1
        if not rows:
            return [[] for _ in batches]
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                inserted = _insert_events_sqlite(conn, rows)
            else:
                inserted = _insert_events_returning(conn, rows)
            if isinstance(inserted, _All):
                new = Counter(counted)
            else:
                new = Counter(c for c, k in zip(counted, keys, strict=True) if k in inserted)
            _add_event_counts(conn, new)
        if once:
            if isinstance(inserted, _All):
                return [[True] * len(batch.keys) for batch in batches]
            return [[key in inserted for key in batch.keys] for batch in batches]
        out: list[list[bool]] = []
        at = 0
        for batch in batches:
            fresh = []
            for key in batch.keys:
                fresh.append(first[key] == at and key in inserted)
                at += 1
            out.append(fresh)
        return out

    def mark_late(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Flag events (by source and id) that arrived after the engine's clock had
        passed them: they are kept, but could not raise an alert."""
        params = [{"s": source, "e": event_id} for source, event_id in pairs]
        if not params:
            return 0
        # one statement run over every pair: built per pair, it cost the analysis
        # process half its time when a gateway's backlog arrived late (issue 15)
        with self.engine.begin() as conn:
            return conn.execute(_MARK_LATE, params).rowcount

    def event_count(self) -> int:
        """Events stored (from ``event_counts``, not by counting the events table)."""
        with self.engine.connect() as conn:
            found = conn.execute(select(func.sum(t.event_counts.c.n))).scalar_one()
        return int(found or 0)

    def event_counts_by_kind(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.event_counts.c.kind, func.sum(t.event_counts.c.n)).group_by(
                    t.event_counts.c.kind
                )
            ).all()
        return {kind: int(n) for kind, n in sorted(rows)}

    def event_counts_by_area(self, world: World, level: AreaLevel) -> dict[str, int]:
        """Events per area at ``level``, rolling grids up to their enclosing area."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.event_counts.c.area_code, func.sum(t.event_counts.c.n)).group_by(
                    t.event_counts.c.area_code
                )
            ).all()
        counts: Counter[str] = Counter()
        for code, n in rows:
            if not code:
                continue
            area = world.enclosing(code, level)
            if area is not None:
                counts[area.code] += int(n)
        return dict(counts)

    def detection_rows(
        self, kinds: Sequence[str], start: datetime, end: datetime
    ) -> list[tuple[str | None, str | None, str, int]]:
        """(device, area, kind, count) of the stored events of ``kinds`` with event time
        in ``[start, end)``: the tallies that are counted, not dispatched (the lift's
        e-bike blocks, :mod:`cityeye.domain.detections`). Read through the (kind, ts)
        index, so a month of one kind is one range scan, not a pass over all events."""
        e = t.events.c
        query = (
            select(e.device_id, e.area_code, e.kind, func.count())
            .where(e.kind.in_(list(kinds)), e.ts >= start, e.ts < end)
            .group_by(e.device_id, e.area_code, e.kind)
        )
        with self.engine.connect() as conn:
            return [(d, a, str(k), int(n)) for d, a, k, n in conn.execute(query)]

    def devices_heard_since(self, since: datetime, until: datetime) -> dict[str, datetime]:
        """Each device's latest event time in ``since..until`` (event time), for the
        devices that sent one: what the cockpit's map calls a device "online". The
        store keeps no device state of its own; this is all it knows. It reads the
        events of the window without an index on ``device_id`` (migration 0011 dropped
        it to keep inserts cheap), so it is for a map's refresh, not a hot path."""
        e = t.events.c
        query = (
            select(e.device_id, func.max(e.ts))
            .where(e.device_id.is_not(None), e.ts >= since, e.ts <= until)
            .group_by(e.device_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return dict(rows)

    def get_event(self, source: str, event_id: str) -> Event | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.events.c.raw).where(
                    t.events.c.source == source, t.events.c.event_id == event_id
                )
            ).first()
        if row is None:
            return None
        return parse_event(orjson.loads(row.raw))

    def events_among(
        self, ids: Collection[str], kinds: Iterable[str], since: datetime, until: datetime
    ) -> list[Event]:
        """The stored events of ``kinds`` stamped between ``since`` and ``until`` (both
        inclusive) whose id is one of ``ids``: an alert's events, found by what it
        holds (ids, not sources) through the (kind, ts) index rather than a scan."""
        wanted = list(dict.fromkeys(ids))
        kinds = list(kinds)
        if not wanted or not kinds:
            return []
        c = t.events.c
        out: list[Event] = []
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), CHUNK):
                rows = conn.execute(
                    select(c.raw).where(
                        c.kind.in_(kinds),
                        c.ts >= since,
                        c.ts <= until,
                        c.event_id.in_(wanted[start : start + CHUNK]),
                    )
                ).all()
                out += [stored_event(r.raw) for r in rows]
        return out

    def last_event_seq(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.coalesce(func.max(t.events.c.seq), 0))).scalar_one()
            )

    def events_after(
        self, seq: int, limit: int = 10_000, known: Mapping[tuple[str, str], Event] | None = None
    ) -> list[tuple[int, Event, str | None]]:
        """Stored events after ``seq`` in arrival order, with their resolved area.
        ``known``: events the caller holds already, by (source, id), taken as they are
        instead of parsed again from the stored JSON (the bus outbox, right after it
        stored them)."""
        known = known or {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    t.events.c.seq,
                    t.events.c.source,
                    t.events.c.event_id,
                    t.events.c.raw,
                    t.events.c.area_code,
                )
                .where(t.events.c.seq > seq)
                .order_by(t.events.c.seq)
                .limit(limit)
            ).all()
        return [
            (
                int(r.seq),
                known.get((r.source, r.event_id)) or stored_event(r.raw),
                r.area_code,
            )
            for r in rows
        ]
