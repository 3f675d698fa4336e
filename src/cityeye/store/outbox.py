"""The notification outbox in the database (the design: :mod:`cityeye.cases.outbox`).

:func:`add_notices` addresses a case change's notices to people and writes one row per
recipient and channel *inside the transaction that stores the change*
(:meth:`cityeye.store.Store.save_cases`), so a notification exists exactly when its
case change does. The desk reads its own rows (:func:`desk_items`); the sender
(:class:`cityeye.notifiers.OutboxSender`) claims due webhook and SMS rows
(:func:`claim_due`) and records how each attempt went.

:data:`BELL` rings when this process has committed rows, so a desk's live stream in
the same process hears of a dispatch at once instead of at its next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cityeye.cases.outbox import Channel, Channels, Notice
from cityeye.domain import World
from cityeye.domain.users import UserRole
from cityeye.store import tables as t

if TYPE_CHECKING:
    from cityeye.store.repo import Store

PENDING, SENT, FAILED = "pending", "sent", "failed"
#: The longest error text kept on a row.
ERROR_CHARS = 500


class Bell:
    """Wakes whoever waits for new rows in this process: async streams
    (:meth:`wait`) and threads (:meth:`wait_blocking`). Waiters pass the
    :attr:`generation` they saw before looking at the table, so a ring between their
    look and their wait is not missed."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._gen = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def generation(self) -> int:
        return self._gen

    def ring(self) -> None:
        with self._cond:
            self._gen += 1
            self._cond.notify_all()
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                loop.call_soon_threadsafe(event.set)

    def wait_blocking(self, generation: int, timeout_s: float) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._gen != generation, timeout_s)

    async def wait(self, generation: int, timeout_s: float) -> None:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._cond:
            if self._gen != generation:
                return
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(entry[1].wait(), timeout_s)
        except TimeoutError:
            pass
        finally:
            with self._cond:
                self._waiters.discard(entry)


#: Rung after rows are committed in this process.
BELL = Bell()
#: Rung after alert changes are committed in this process: the live alert stream
#: answers at once instead of at its next look (it looked once a second: up to 1 s
#: of an SOS's way to a dispatcher's screen, bench/RESULTS.md "live").
ALERT_BELL = Bell()


@dataclass(frozen=True, slots=True)
class _Staff:
    id: str
    role: UserRole
    party: str | None
    areas: frozenset[str]
    phone: str | None


def add_notices(
    conn: Connection,
    notices: Sequence[Notice],
    world: World,
    channels: Channels,
    now: datetime,
) -> int:
    """Address ``notices`` and insert their rows (in the caller's transaction); a row
    whose key is already stored is left as it is. Returns how many rows were offered."""
    if not notices:
        return 0
    c = t.users.c
    staff = [
        _Staff(r.id, UserRole(r.role), r.party_id, frozenset(r.areas or ()), r.phone)
        for r in conn.execute(
            select(c.id, c.role, c.party_id, c.areas, c.phone).where(
                c.disabled_at.is_(None),
                # leaders: a routine notice may be written for one (a published result)
                c.role.in_(
                    [
                        role.value
                        for role in (UserRole.HANDLER, UserRole.DISPATCHER, UserRole.LEADER)
                    ]
                ),
            )
        )
    ]
    reports = sorted({n.report for n in notices if n.report})
    followers: dict[str, str] = {}
    if reports:
        f = t.report_follows.c
        followers = {
            r.report_id: r.user_id
            for r in conn.execute(
                select(f.report_id, f.user_id).where(
                    f.report_id.in_(reports), f.user_id.is_not(None)
                )
            )
        }
    rows: list[dict[str, Any]] = []
    phones = {person.id: person.phone for person in staff}
    for notice in notices:
        around = {a.code for a in world.ancestors(notice.area)} if notice.area else set()
        people: dict[str, str | None] = {}  # user → phone, each once
        if notice.user is not None:  # written for one reader (a daily reminder)
            people[notice.user] = phones.get(notice.user)
        for person in staff if notice.user is None and not notice.robot_only else ():
            handler = (
                person.role == UserRole.HANDLER
                and notice.party is not None
                and person.party == notice.party
                and (not person.areas or bool(person.areas & around))
            )
            dispatcher = (
                person.role == UserRole.DISPATCHER
                and notice.dispatchers
                and bool(person.areas & around)
            )
            if handler or dispatcher:
                people[person.id] = person.phone
        if notice.report is not None and notice.report in followers:
            people[followers[notice.report]] = None  # residents: the portal only
        for user_id, phone in people.items():
            rows.append(_row(notice, Channel.DESK, now, user_id=user_id))
            if channels.sms and phone:
                rows.append(_row(notice, Channel.SMS, now, user_id=user_id))
        if notice.party is not None and notice.party in channels.webhook_parties:
            rows.append(_row(notice, Channel.WEBHOOK, now, party_id=notice.party))
    if not rows:
        return 0
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(t.notifications).on_conflict_do_nothing(index_elements=["key"])
    conn.execute(stmt, rows)
    return len(rows)


def tell(store: Store, notices: Sequence[Notice], world: World, now: datetime) -> int:
    """Write ``notices`` that belong to no case change (the routine's) in a transaction
    of their own, on the channels set on ``store``; rings :data:`BELL` when any row
    was offered. Returns how many rows were offered (a repeat offers them again and
    stores nothing: the keys)."""
    with store.engine.begin() as conn:
        offered = add_notices(conn, notices, world, store.channels, now)
    if offered:
        BELL.ring()
    return offered


def _row(
    notice: Notice,
    channel: Channel,
    now: datetime,
    *,
    user_id: str | None = None,
    party_id: str | None = None,
) -> dict[str, Any]:
    who = f"u:{user_id}" if user_id is not None else f"p:{party_id}"
    desk = channel == Channel.DESK  # delivered by being written: the desk reads it
    return {
        "key": f"{notice.key}|{channel.value}|{who}",
        "created_at": now,
        "case_id": notice.case_id,
        "kind": notice.kind.value,
        "channel": channel.value,
        "user_id": user_id,
        "party_id": party_id,
        "payload": notice.payload(),
        "state": SENT if desk else PENDING,
        "attempts": 0,
        "next_try_at": None,  # due at once
        "sent_at": now if desk else None,
        "last_error": None,
    }


# ---------------------------------------------------------------------- the desk
def desk_item(r: Any) -> dict[str, Any]:
    """One row as the desk's API shows it."""
    p = r.payload
    return {
        "seq": int(r.seq),
        "case_id": r.case_id,
        "kind": r.kind,
        "title": p["title"],
        "text": p["text"],
        "severity": p["severity"],
        "area": p.get("area"),
        "at": p["at"],
        "url": p["url"],
    }


def desk_items(
    store: Store, user_id: str, after: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The user's own desk notifications, oldest first: those after ``after``, or
    without it the newest ``limit``."""
    n = t.notifications.c
    mine = (n.user_id == user_id) & (n.channel == Channel.DESK.value)
    query = select(n.seq, n.case_id, n.kind, n.payload).where(mine)
    if after is not None:
        query = query.where(n.seq > after).order_by(n.seq).limit(limit)
    else:
        query = query.order_by(n.seq.desc()).limit(limit)
    with store.engine.connect() as conn:
        rows = [desk_item(r) for r in conn.execute(query)]
    return rows if after is not None else rows[::-1]


def last_desk_seq(store: Store, user_id: str) -> int:
    """The seq of the user's newest desk notification (0: none yet)."""
    n = t.notifications.c
    with store.engine.connect() as conn:
        seq = conn.execute(
            select(func.max(n.seq)).where(n.user_id == user_id, n.channel == Channel.DESK.value)
        ).scalar()
    return int(seq or 0)


# ---------------------------------------------------------------------- the sender
@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A webhook or SMS row claimed for one attempt (``attempts`` counts it)."""

    seq: int
    case_id: str | None
    kind: str
    channel: str
    user_id: str | None
    party_id: str | None
    payload: dict[str, Any]
    attempts: int


def claim_due(store: Store, now: datetime, limit: int, lease: timedelta) -> list[OutboxRow]:
    """Pending rows due by ``now``, oldest first, each claimed for one attempt: its
    attempt is counted and it is put off by ``lease``, so another sender leaves it
    alone and a sender that dies mid-send has it tried again after the lease."""
    n = t.notifications.c
    due = (
        select(t.notifications)
        .where(n.state == PENDING, (n.next_try_at.is_(None)) | (n.next_try_at <= now))
        .order_by(n.seq)
        .limit(limit)
    )
    out: list[OutboxRow] = []
    with store.engine.begin() as conn:
        for r in conn.execute(due).all():
            claimed = conn.execute(
                update(t.notifications)
                .where(n.seq == r.seq, n.state == PENDING, n.attempts == r.attempts)
                .values(attempts=r.attempts + 1, next_try_at=now + lease)
            )
            if claimed.rowcount == 1:
                out.append(
                    OutboxRow(
                        int(r.seq),
                        r.case_id,
                        r.kind,
                        r.channel,
                        r.user_id,
                        r.party_id,
                        dict(r.payload),
                        r.attempts + 1,
                    )
                )
    return out


def mark_sent(store: Store, seq: int, at: datetime) -> None:
    _set(store, seq, state=SENT, sent_at=at, next_try_at=None)


def mark_retry(store: Store, seq: int, at: datetime, error: str) -> None:
    """Leave the row pending, to be tried again at ``at``."""
    _set(store, seq, next_try_at=at, last_error=error[:ERROR_CHARS])


def mark_failed(store: Store, seq: int, error: str) -> None:
    """Give up on the row; it is kept with its last error for inspection."""
    _set(store, seq, state=FAILED, next_try_at=None, last_error=error[:ERROR_CHARS])


def _set(store: Store, seq: int, **values: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(t.notifications).where(t.notifications.c.seq == seq).values(**values))


def outbox_counts(store: Store) -> dict[str, int]:
    """Webhook and SMS rows still to send and given up on (``/api/v1/status``)."""
    n = t.notifications.c
    counts = {PENDING: 0, FAILED: 0}
    with store.engine.connect() as conn:
        for state, count in conn.execute(
            select(n.state, func.count()).where(n.state.in_(list(counts))).group_by(n.state)
        ):
            counts[state] = int(count)
    return counts


def notification_rows(store: Store, case_id: str | None = None) -> list[dict[str, Any]]:
    """Every row (of one case), oldest first: for tests and inspection."""
    n = t.notifications.c
    query = select(t.notifications).order_by(n.seq)
    if case_id is not None:
        query = query.where(n.case_id == case_id)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
