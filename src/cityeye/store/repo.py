"""Repositories: the only place that turns domain objects into rows and back.

Everything above the store (replay, ingest, the engine's adapters, the web) talks to a
:class:`Store`; no SQL appears outside this package.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cityeye.cases.aggregate import (
    DIMENSIONS,
    Key,
    alert_counts,
    case_counts,
    difference,
    periods,
    summarise,
)
from cityeye.cases.outbox import Channels, Notice, notices
from cityeye.cases.sla import DEFAULT_SLA, Stage
from cityeye.domain import (
    EVENT_KINDS,
    Alert,
    Area,
    AreaLevel,
    Case,
    CaseOrigin,
    CaseState,
    Device,
    Event,
    FieldError,
    HandlerRole,
    Party,
    PartyKind,
    RoutingRule,
    ScenarioSpec,
    Severity,
    Subject,
    TimelineEntry,
    Venue,
    World,
    is_known_kind,
    parse_event,
)
from cityeye.domain.dates import DEFAULT_TIMEZONE
from cityeye.native import compiled
from cityeye.store import tables as t
from cityeye.store.db import DEFAULT_URL, make_engine, migrate
from cityeye.store.outbox import ALERT_BELL, BELL, add_notices
from cityeye.store.types import sqlite_time


def alert_from_row(r: Any) -> Alert:
    """An ``alerts`` row as the domain's Alert."""
    return Alert(
        r["id"],
        r["scenario"],
        r["key"],
        Severity(r["severity"]),
        r["opened_at"],
        r["resolved_at"],
        r["count"],
        list(r["event_ids"]),
        r["area_code"],
    )


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


def _plain(value: Any) -> Any:
    """orjson fallback for the few non-JSON values in a spec (tuples are lists already)."""
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


_AREA_DIMS = frozenset(level.value for level in AreaLevel)

#: Rows per INSERT statement; keeps SQLite under its bound-parameter limit.
CHUNK = 500


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


def _insert(conn: Connection, table: Table) -> Any:
    """INSERT for the connection's dialect, so ON CONFLICT works on both databases."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    return module.insert(table)


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
            _insert(conn, t.events)
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


class Store:
    """Persistent state of one cityeye installation."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._world: World | None = None  # for the KPI counters' areas and time zone
        #: The channels besides the desk that case notifications go out on (``cityeye
        #: serve --notify``); see :mod:`cityeye.cases.outbox`.
        self.channels = Channels()

    @classmethod
    def open(cls, url: str = DEFAULT_URL, *, durable: bool = True) -> Store:
        """Connect and bring the schema to the newest migration. ``durable=False`` only
        for scratch databases that can be rebuilt from their input (replay output)."""
        engine = make_engine(url, durable=durable)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    # ----------------------------------------------------------------- world
    def save_world(self, world: World) -> None:
        """Replace the stored world with ``world`` in one transaction.

        Events, alerts and cases are kept: they reference areas and parties by code,
        and history must survive a re-organised district.
        """
        with self.engine.begin() as conn:
            for table in (
                t.routing_rules,
                t.party_areas,
                t.parties,
                t.devices,
                t.subjects,
                t.venues,
            ):
                conn.execute(delete(table))
            # children first: areas reference their parent
            ordered = sorted(world.areas.values(), key=lambda a: -a.level.rank)
            for area in ordered:
                conn.execute(delete(t.areas).where(t.areas.c.code == area.code))
            conn.execute(delete(t.areas))
            by_rank = sorted(world.areas.values(), key=lambda a: (a.level.rank, a.code))
            self._insert_rows(
                conn,
                t.areas,
                [
                    {
                        "code": a.code,
                        "name": a.name,
                        "level": a.level.value,
                        "parent_code": a.parent,
                        "boundary": a.boundary,
                        "extra": a.extra,
                    }
                    for a in by_rank
                ],
            )
            self._insert_rows(
                conn,
                t.parties,
                [
                    {
                        "id": p.id,
                        "name": p.name,
                        "kind": p.kind.value,
                        "non_government": p.non_government,
                        "extra": p.extra,
                    }
                    for p in world.parties.values()
                ],
            )
            self._insert_rows(
                conn,
                t.party_areas,
                [
                    {"party_id": p.id, "area_code": code}
                    for p in world.parties.values()
                    for code in dict.fromkeys(p.areas)
                ],
            )
            self._insert_rows(
                conn,
                t.subjects,
                [
                    {
                        "id": s.id,
                        "area_code": s.area,
                        "name": s.name,
                        "tags": list(s.tags),
                        "extra": s.extra,
                    }
                    for s in world.subjects.values()
                ],
            )
            self._insert_rows(
                conn,
                t.venues,
                [
                    {
                        "id": v.id,
                        "area_code": v.area,
                        "name": v.name,
                        "tags": list(v.tags),
                        "lat": v.lat,
                        "lon": v.lon,
                        "extra": v.extra,
                    }
                    for v in world.venues.values()
                ],
            )
            self._insert_rows(
                conn,
                t.devices,
                [
                    {
                        "id": d.id,
                        "kind": d.kind,
                        "area_code": d.area,
                        "subject_id": d.subject,
                        "building": d.building,
                        "venue_id": d.venue,
                        "tags": list(d.tags),
                        "lat": d.lat,
                        "lon": d.lon,
                        "extra": d.extra,
                    }
                    for d in world.devices.values()
                ],
            )
            self._insert_rows(
                conn,
                t.routing_rules,
                [
                    {
                        "position": i,
                        "scenarios": list(r.scenarios),
                        "kind": r.kind.value if r.kind else None,
                        "party_id": r.party,
                        "area_code": r.area,
                        "co_handlers": [k.value for k in r.co_handlers],
                    }
                    for i, r in enumerate(world.routing)
                ],
            )
            self._set_meta(conn, "timezone", world.timezone)
            self._set_meta(conn, "sla", world.sla)
        self._world = world

    def load_world(self) -> World | None:
        """The stored world, or ``None`` before one was loaded."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.areas)).mappings().all()
            root = next((r for r in rows if r["level"] == AreaLevel.DISTRICT.value), None)
            if root is None:
                return None
            area_map = {
                r["code"]: Area(
                    r["code"],
                    r["name"],
                    AreaLevel(r["level"]),
                    r["parent_code"],
                    r["boundary"],
                    r["extra"],
                )
                for r in rows
            }
            served: dict[str, list[str]] = {}
            for row in conn.execute(
                select(t.party_areas).order_by(t.party_areas.c.party_id, t.party_areas.c.area_code)
            ):
                served.setdefault(row.party_id, []).append(row.area_code)
            parties = {
                r["id"]: Party(
                    r["id"],
                    r["name"],
                    PartyKind(r["kind"]),
                    tuple(served.get(r["id"], ())),
                    r["extra"],
                )
                for r in conn.execute(select(t.parties)).mappings()
            }
            subjects = {
                r["id"]: Subject(r["id"], r["area_code"], tuple(r["tags"]), r["name"], r["extra"])
                for r in conn.execute(select(t.subjects)).mappings()
            }
            venues = {
                r["id"]: Venue(
                    r["id"],
                    r["area_code"],
                    tuple(r["tags"]),
                    r["name"],
                    r["lat"],
                    r["lon"],
                    r["extra"],
                )
                for r in conn.execute(select(t.venues)).mappings()
            }
            devices = {
                r["id"]: Device(
                    r["id"],
                    r["kind"],
                    r["area_code"],
                    r["subject_id"],
                    r["building"],
                    r["venue_id"],
                    tuple(r["tags"]),
                    r["lat"],
                    r["lon"],
                    r["extra"],
                )
                for r in conn.execute(select(t.devices)).mappings()
            }
            routing = tuple(
                RoutingRule(
                    tuple(r["scenarios"]),
                    PartyKind(r["kind"]) if r["kind"] else None,
                    r["party_id"],
                    r["area_code"],
                    tuple(PartyKind(k) for k in r["co_handlers"]),
                )
                for r in conn.execute(
                    select(t.routing_rules).order_by(t.routing_rules.c.position)
                ).mappings()
            )
            timezone = self._get_meta(conn, "timezone") or DEFAULT_TIMEZONE
            sla = self._get_meta(conn, "sla") or {}
        return World(
            district=area_map[root["code"]],
            timezone=str(timezone),
            areas=area_map,
            parties=parties,
            devices=devices,
            subjects=subjects,
            venues=venues,
            routing=routing,
            sla=sla,
        )

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

    def save_alerts(self, alerts: Iterable[Alert]) -> None:
        """Insert or replace many alerts in one transaction; an alert seen for the first
        time is added to the KPI counters (the false-alarm rate's denominator)."""
        alerts = list(alerts)
        world = self._kpi_world()
        with self.engine.begin() as conn:
            stored = self._alert_marks(conn, [a.id for a in alerts])
            counts: Counter[Key] = Counter()
            changed = []
            for alert in alerts:
                mark = (alert.severity.value, alert.opened_at, alert.resolved_at, alert.count)
                if alert.id not in stored:
                    counts.update(alert_counts(alert, world))
                elif stored[alert.id] == mark:
                    continue  # a re-feed after a restart: nothing new to store or stream
                stored[alert.id] = mark
                self._upsert_alert(conn, alert)
                changed.append(alert)
            self._add_counts(conn, counts)
            if changed:
                now = datetime.now(UTC)
                conn.execute(
                    insert(t.alert_changes), [{"alert_id": a.id, "at": now} for a in changed]
                )
                # the stream reads the last minutes; a day is plenty to keep
                conn.execute(
                    delete(t.alert_changes).where(t.alert_changes.c.at < now - timedelta(days=1))
                )
        if changed:
            ALERT_BELL.ring()  # after the commit: an alert stream in this process reads now

    @staticmethod
    def _alert_marks(
        conn: Connection, ids: Sequence[str]
    ) -> dict[str, tuple[str, datetime, datetime | None, int]]:
        """What tells a stored alert's version: severity, opening, resolution and
        count (an alert only ever changes in these — its opening when the clock
        corrects one decided on arrival — and its events grow with its count)."""
        a = t.alerts.c
        marks: dict[str, tuple[str, datetime, datetime | None, int]] = {}
        for start in range(0, len(ids), CHUNK):
            rows = conn.execute(
                select(a.id, a.severity, a.opened_at, a.resolved_at, a.count).where(
                    a.id.in_(ids[start : start + CHUNK])
                )
            )
            marks.update({r.id: (r.severity, r.opened_at, r.resolved_at, r.count) for r in rows})
        return marks

    def alert_changes_after(self, seq: int, limit: int = 500) -> list[tuple[int, Alert]]:
        """Alerts stored after change ``seq``, in order, each as it is now (an alert
        changed twice since comes once, at its last change)."""
        ch, a = t.alert_changes.c, t.alerts.c
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    select(ch.seq, t.alerts)
                    .join(t.alerts, a.id == ch.alert_id)
                    .where(ch.seq > seq)
                    .order_by(ch.seq)
                    .limit(limit)
                )
                .mappings()
                .all()
            )
        latest = {r["id"]: (int(r["seq"]), alert_from_row(r)) for r in rows}
        return sorted(latest.values(), key=lambda pair: pair[0])

    def last_alert_change(self) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(select(func.max(t.alert_changes.c.seq))).scalar_one()
        return int(found or 0)

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

    # ----------------------------------------------------------------- clock marks
    def add_clock_mark(self, name: str, after_seq: int, at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(t.clock_marks).values(name=name, after_seq=after_seq, at=at))

    def clock_marks(self, name: str, after_seq: int) -> list[tuple[int, datetime]]:
        """Marks of ``name`` taken after event ``after_seq`` or later, in order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.clock_marks.c.after_seq, t.clock_marks.c.at)
                .where(t.clock_marks.c.name == name, t.clock_marks.c.after_seq >= after_seq)
                .order_by(t.clock_marks.c.seq)
            )
            return [(int(r.after_seq), r.at) for r in rows]

    # ----------------------------------------------------------------- meta
    def set_meta(self, key: str, value: Any) -> None:
        """Keep one JSON value under ``key`` (one small transaction): how a process
        tells another what it is doing (the analysis process's ``live`` status)."""
        with self.engine.begin() as conn:
            self._set_meta(conn, key, value)

    def get_meta(self, key: str) -> Any:
        """The value :meth:`set_meta` kept (``None``: none)."""
        with self.engine.connect() as conn:
            return self._get_meta(conn, key)

    # ----------------------------------------------------------------- installation
    def installation_id(self) -> str:
        """This installation's random id, made on first use and kept with the data
        (the ``meta`` row ``installation``): a recreated database is another
        installation, a restored one the same. The bus names its messages with it."""
        import secrets

        from sqlalchemy.exc import IntegrityError

        with self.engine.connect() as conn:
            found = self._get_meta(conn, "installation")
        if isinstance(found, str):
            return found
        try:  # two processes starting on a new database: the first insert wins
            with self.engine.begin() as conn:
                conn.execute(insert(t.meta).values(key="installation", value=secrets.token_hex(8)))
        except IntegrityError:
            pass
        with self.engine.connect() as conn:
            return str(self._get_meta(conn, "installation"))

    # ----------------------------------------------------------------- engine state
    def save_engine_state(self, name: str, data: bytes, last_seq: int, at: datetime) -> None:
        """Keep the engine's snapshot and the last event sequence it had seen; the clock
        marks from before it are no longer needed for a restart."""
        with self.engine.begin() as conn:
            conn.execute(delete(t.engine_state).where(t.engine_state.c.name == name))
            conn.execute(
                delete(t.clock_marks).where(
                    t.clock_marks.c.name == name, t.clock_marks.c.after_seq < last_seq
                )
            )
            conn.execute(
                insert(t.engine_state).values(name=name, data=data, last_seq=last_seq, taken_at=at)
            )

    def load_engine_state(self, name: str) -> tuple[bytes, int] | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.engine_state.c.data, t.engine_state.c.last_seq).where(
                    t.engine_state.c.name == name
                )
            ).first()
        return None if row is None else (bytes(row.data), int(row.last_seq))

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

    def alert_counts(self) -> dict[str, dict[str, int]]:
        """Per scenario: all alerts and those still open."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    t.alerts.c.scenario,
                    func.count(),
                    func.count(t.alerts.c.id).filter(t.alerts.c.resolved_at.is_(None)),
                ).group_by(t.alerts.c.scenario)
            ).all()
        return {s: {"total": int(n), "open": int(o)} for s, n, o in sorted(rows)}

    def alerts(self, *, open_only: bool = False, limit: int | None = 1000) -> list[Alert]:
        """Newest first (all of them with ``limit=None``)."""
        query = select(t.alerts).order_by(t.alerts.c.opened_at.desc(), t.alerts.c.id).limit(limit)
        if open_only:
            query = query.where(t.alerts.c.resolved_at.is_(None))
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [alert_from_row(r) for r in rows]

    # ----------------------------------------------------------------- scenarios
    def save_scenarios(self, specs: Iterable[ScenarioSpec], at: datetime) -> None:
        """Record the scenarios in use (replacing what was there), so pages and
        reports can name them and say what they were at the time."""
        rows = [
            {
                "id": spec.id,
                "module": spec.module.value,
                "name_zh": spec.name_zh,
                "name_en": spec.name_en,
                "spec": orjson.loads(orjson.dumps(spec, default=_plain)),
                "enabled": True,
                "updated_at": at,
            }
            for spec in specs
        ]
        with self.engine.begin() as conn:
            conn.execute(delete(t.scenarios))
            self._insert_rows(conn, t.scenarios, rows)

    def scenario_names(self) -> dict[str, str]:
        """Scenario id → Chinese name."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.scenarios.c.id, t.scenarios.c.name_zh)).all()
        return {r.id: r.name_zh for r in rows}

    # ----------------------------------------------------------------- alerts
    def save_alert(self, alert: Alert) -> None:
        """Insert or replace an alert (its count and events grow while it is open)."""
        with self.engine.begin() as conn:
            self._upsert_alert(conn, alert)

    @staticmethod
    def _upsert_alert(conn: Connection, alert: Alert) -> None:
        values = {
            "id": alert.id,
            "scenario": alert.scenario,
            "key": alert.key,
            "severity": alert.severity.value,
            "opened_at": alert.opened_at,
            "resolved_at": alert.resolved_at,
            "count": alert.count,
            "event_ids": list(alert.event_ids),
            "area_code": alert.area,
        }
        stmt = _insert(conn, t.alerts).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"], set_={k: v for k, v in values.items() if k != "id"}
        )
        conn.execute(stmt)

    def get_alert(self, alert_id: str) -> Alert | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.alerts).where(t.alerts.c.id == alert_id)).mappings().first()
        return None if r is None else alert_from_row(r)

    # ----------------------------------------------------------------- cases
    def save_cases(
        self,
        cases: Iterable[Case],
        *,
        alert_ids: Mapping[str, str] | None = None,
        sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA,
    ) -> None:
        """Insert new cases and bring stored ones up to date — row, handlers, the
        timeline lines not stored yet — and add the difference each makes to the KPI
        counters, all in one transaction. A case's timeline only ever grows: one that
        would drop stored lines is refused with ``ValueError``.

        The notifications the change makes (dispatched, critical, …; see
        :mod:`cityeye.cases.outbox`) are written to the outbox in the same
        transaction."""
        cases = list(cases)
        alert_ids = alert_ids or {}
        world = self._kpi_world()
        with self.engine.begin() as conn:
            known = self._existing(conn, t.cases.c.id, [c.id for c in cases])
            old = {c.id: c for c in self._load_cases(conn, sorted(known))} if known else {}
            counts: Counter[Key] = Counter()
            new_rows, handlers, lines = [], [], []
            told: list[Notice] = []
            for case in cases:
                before = old.get(case.id)
                stored = len(before.timeline) if before else 0
                if before is not None and case.timeline[:stored] != before.timeline:
                    raise ValueError(f"case {case.id}: the stored timeline cannot be rewritten")
                area = world.areas.get(case.area) if case.area else None
                told += notices(
                    case, stored, before.severity if before else None, area.name if area else None
                )
                row = self._case_row(case)
                if before is None:
                    row["alert_id"] = alert_ids.get(case.id)
                    new_rows.append(row)
                    counts.update(case_counts(case, world, sla))
                else:
                    conn.execute(update(t.cases).where(t.cases.c.id == case.id).values(**row))
                    conn.execute(
                        delete(t.case_handlers).where(t.case_handlers.c.case_id == case.id)
                    )
                    delta = difference(
                        case_counts(case, world, sla), case_counts(before, world, sla)
                    )
                    counts.update(delta)
                handlers += self._handler_rows(case)
                lines += [self._timeline_row(case.id, e) for e in case.timeline[stored:]]
            self._insert_rows(conn, t.cases, new_rows)
            self._insert_rows(conn, t.case_handlers, handlers)
            self._insert_rows(conn, t.case_timeline, lines)
            self._add_counts(conn, counts)
            rung = add_notices(conn, told, world, self.channels, datetime.now(UTC))
        if rung:
            BELL.ring()  # after the commit: a desk's stream in this process reads them now

    @staticmethod
    def _case_row(case: Case) -> dict[str, Any]:
        return {
            "id": case.id,
            "origin": case.origin.value,
            "state": case.state.value,
            "severity": case.severity.value,
            "title": case.title,
            "scenario": case.scenario,
            "key": case.key,
            "area_code": case.area,
            "lead_party": case.lead,
            "reporter": case.reporter,
            "opened_at": case.opened_at,
            "closed_at": case.closed_at,
            "rating": case.rating,
            "due_at": case.due_at,
            "version": case.version,
        }

    @staticmethod
    def _handler_rows(case: Case) -> list[dict[str, Any]]:
        handlers = [(case.lead, HandlerRole.LEAD)] if case.lead else []
        handlers += [(p, HandlerRole.CO) for p in dict.fromkeys(case.co_handlers) if p != case.lead]
        return [
            {"case_id": case.id, "party_id": p, "role": role.value, "assigned_at": case.opened_at}
            for p, role in handlers
        ]

    # ----------------------------------------------------------------- KPIs
    def _kpi_world(self) -> World:
        if self._world is None:
            self._world = self.load_world() or World.empty()
        return self._world

    def _add_counts(self, conn: Connection, counts: Mapping[Key, int]) -> None:
        """Add to the counters. Rows go in key order, so writers that touch the same
        counters at once (workers of a bus) lock them in the same order: they wait
        for each other instead of deadlocking."""
        rows = [
            {"dim": d, "value": v, "period": p, "metric": m, "n": n}
            for (d, v, p, m), n in sorted(counts.items())
            if n
        ]
        if not rows:
            return
        stmt = _insert(conn, t.kpi_counts)
        stmt = stmt.on_conflict_do_update(
            index_elements=["dim", "period", "value", "metric"],
            set_={"n": t.kpi_counts.c.n + stmt.excluded.n},
        )
        for start in range(0, len(rows), CHUNK):
            conn.execute(stmt, rows[start : start + CHUNK])

    def rebuild_kpis(self, sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA) -> int:
        """Recount every KPI counter from the stored cases and alerts (after the areas
        were re-organised, say). Returns the number of counter rows."""
        counts = self.recount_kpis(sla)
        with self.engine.begin() as conn:
            conn.execute(delete(t.kpi_counts))
            self._add_counts(conn, counts)
        return sum(1 for n in counts.values() if n)

    def recount_kpis(
        self, sla: Mapping[Severity, Mapping[Stage, int]] = DEFAULT_SLA
    ) -> Counter[Key]:
        """What every KPI counter should hold, counted afresh from the stored cases and
        alerts (:meth:`rebuild_kpis` writes it; ``cityeye check`` compares it)."""
        world = self._kpi_world()
        counts: Counter[Key] = Counter()
        for case in self.load_cases():
            counts.update(case_counts(case, world, sla))
        for alert in self.alerts(limit=None):
            counts.update(alert_counts(alert, world))
        return counts

    def kpi_counters(self) -> dict[Key, int]:
        """The KPI counters as stored (non-zero ones)."""
        c = t.kpi_counts.c
        with self.engine.connect() as conn:
            rows = conn.execute(select(c.dim, c.value, c.period, c.metric, c.n).where(c.n != 0))
            return {(r.dim, r.value, r.period, r.metric): int(r.n) for r in rows}

    def kpi_summary(self, dim: str, value: str, first: date, last: date) -> dict[str, Any]:
        """The KPIs of one area / scenario / party (``dim``, ``value``; ``"all"``, ``""``
        for everything) over the local days ``first..last``, from the counters."""
        rows = self._kpi_rows(dim, first, last, values=[value], by="dim")
        return summarise((metric, n) for _, metric, n in rows)

    def kpi_breakdown(
        self,
        dim: str,
        first: date,
        last: date,
        *,
        within: str | None = None,
        times: bool = False,
    ) -> dict[str, dict[str, Any]]:
        """The KPIs of every value of ``dim`` (each street, each scenario, ...) over
        ``first..last``; for an area level, ``within`` keeps the areas inside one area
        (the communities of a street: drill-down). Stage times only with ``times``:
        their histograms are nine rows in ten, and a table of 540 grids shows rates."""
        values = None
        if within is not None and dim in _AREA_DIMS:
            world = self._kpi_world()
            values = [
                a.code for a in world.at_level(AreaLevel(dim)) if world.within(a.code, within)
            ]
        grouped: dict[str, list[tuple[str, int]]] = {}
        found = self._kpi_rows(dim, first, last, values=values, by="value", times=times)
        for value, metric, n in found:
            grouped.setdefault(value, []).append((metric, n))
        return {value: summarise(rows, times=times) for value, rows in sorted(grouped.items())}

    def kpi_trend(self, dim: str, value: str, first: date, last: date) -> dict[str, dict[str, Any]]:
        """The KPIs of one value day by day (the cockpit's trend line)."""
        days = [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]
        grouped: dict[str, list[tuple[str, int]]] = {}
        for period, metric, n in self._kpi_rows(dim, first, last, values=[value], days=days):
            grouped.setdefault(period, []).append((metric, n))
        return {day: summarise(grouped.get(day, [])) for day in days}

    def _kpi_rows(
        self,
        dim: str,
        first: date,
        last: date,
        *,
        values: Sequence[str] | None = None,
        by: str = "period",
        days: Sequence[str] | None = None,
        times: bool = True,
    ) -> list[tuple[str, str, int]]:
        if dim not in DIMENSIONS:
            raise FieldError("dim", f"{dim!r} is not one of {', '.join(DIMENSIONS)}")
        if last < first:
            raise FieldError("last", f"{last} is before {first}")
        c = t.kpi_counts.c
        group = {"dim": c.dim, "value": c.value, "period": c.period}[by]
        query = (
            select(group, c.metric, func.sum(c.n))
            .where(c.dim == dim, c.period.in_(days if days is not None else periods(first, last)))
            .group_by(group, c.metric)
        )
        if values is not None:
            query = query.where(c.value.in_(values))
        if not times:
            query = query.where(c.metric < "t.")  # counters sort before "t.<stage>.<bin>"
        with self.engine.connect() as conn:
            return [(str(g), str(m), int(n)) for g, m, n in conn.execute(query)]

    def get_case(self, case_id: str) -> Case | None:
        found = self.load_cases([case_id])
        return found[0] if found else None

    def load_cases(self, ids: Sequence[str] | None = None) -> list[Case]:
        """Cases with their handlers and timelines (all, or those ``ids``), in id
        order; three queries per chunk of ids whatever the number of cases."""
        with self.engine.connect() as conn:
            if ids is None:
                return self._load_cases(conn, None)
            out: list[Case] = []
            for start in range(0, len(ids), CHUNK):
                out += self._load_cases(conn, ids[start : start + CHUNK])
            return sorted(out, key=lambda c: c.id)

    def _load_cases(self, conn: Connection, ids: Sequence[str] | None) -> list[Case]:
        cases_q = select(t.cases).order_by(t.cases.c.id)
        handlers_q = select(t.case_handlers).order_by(
            t.case_handlers.c.assigned_at, t.case_handlers.c.party_id
        )
        timeline_q = select(t.case_timeline).order_by(t.case_timeline.c.seq)
        if ids is not None:
            cases_q = cases_q.where(t.cases.c.id.in_(ids))
            handlers_q = handlers_q.where(t.case_handlers.c.case_id.in_(ids))
            timeline_q = timeline_q.where(t.case_timeline.c.case_id.in_(ids))
        co: dict[str, list[str]] = {}
        timelines: dict[str, list[TimelineEntry]] = {}
        rows = conn.execute(cases_q).mappings().all()
        for h in conn.execute(handlers_q).mappings():
            if h["role"] == HandlerRole.CO.value:
                co.setdefault(h["case_id"], []).append(h["party_id"])
        for e in conn.execute(timeline_q).mappings():
            timelines.setdefault(e["case_id"], []).append(
                TimelineEntry(
                    e["at"],
                    e["actor"],
                    e["action"],
                    CaseState(e["from_state"]) if e["from_state"] else None,
                    CaseState(e["to_state"]) if e["to_state"] else None,
                    e["note"],
                    tuple(e["attachments"]),
                )
            )
        return [
            Case(
                id=r["id"],
                origin=CaseOrigin(r["origin"]),
                state=CaseState(r["state"]),
                severity=Severity(r["severity"]),
                opened_at=r["opened_at"],
                title=r["title"],
                scenario=r["scenario"],
                key=r["key"],
                area=r["area_code"],
                lead=r["lead_party"],
                co_handlers=co.get(r["id"], []),
                reporter=r["reporter"],
                closed_at=r["closed_at"],
                rating=r["rating"],
                due_at=r["due_at"],
                timeline=timelines.get(r["id"], []),
            )
            for r in rows
        ]

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _timeline_row(case_id: str, entry: TimelineEntry) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "from_state": entry.from_state.value if entry.from_state else None,
            "to_state": entry.to_state.value if entry.to_state else None,
            "note": entry.note,
            "attachments": list(entry.attachments),
        }

    @staticmethod
    def _existing(conn: Connection, column: Any, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` are already stored in ``column``'s table."""
        found: set[str] = set()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            found.update(conn.execute(select(column).where(column.in_(chunk))).scalars())
        return found

    @staticmethod
    def _insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if chunk:
                conn.execute(insert(table), chunk)

    @staticmethod
    def _set_meta(conn: Connection, key: str, value: Any) -> None:
        conn.execute(delete(t.meta).where(t.meta.c.key == key))
        conn.execute(insert(t.meta).values(key=key, value=value))

    @staticmethod
    def _get_meta(conn: Connection, key: str) -> Any:
        row = conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).first()
        return None if row is None else row.value
