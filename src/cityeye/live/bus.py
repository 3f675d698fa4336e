"""Scale-out on NATS JetStream: ingest on one side, partitioned workers on the other.

One machine runs everything in one process (:class:`~cityeye.live.pipeline.LivePipeline`).
A district that outgrows it puts a JetStream stream between ingest and analysis:

* **Ingest** (``cityeye serve --bus nats://…``) stores each event in the database first
  (the client's acknowledgement still means "durable"), then publishes it from the
  events table as from an outbox: every event after the last published sequence, to
  the partitions that own it, up to 500 events a message (one publish per event would
  make the client library the bottleneck). A message's id names this installation
  (a random value made once and kept with the data, :meth:`Store.installation_id`),
  the partition, the sequence range and a digest of the events' (source, id): the
  stream drops a repeated id, so "duplicate" means *these same events* (a re-publish
  after a crash), never another database's events that happen to have the same
  sequence numbers. The outbox mark moves only after the stream's PubAck for every
  message, so an event committed just before a crash is published by the next
  heartbeat or the next start — also events other tools wrote to the table.
* **NATS away.** Ingest does not need NATS to take events: a start without it serves
  at once, events wait in the outbox and are published when NATS answers; the
  connection is retried every :data:`RETRY_S` seconds with one line each time.
  Workers wait for NATS the same way.
* **One stream, one installation.** The stream's description names the installation
  that uses it. Another installation (a recreated database, or two installations on
  one namespace) takes an empty stream over, saying so, and is refused while the
  stream still holds messages; a worker refuses a message of another installation.
* **Partitions.** An event goes to the partition of each (scenario, key) pair it
  touches (``crc32("scenario|key") mod N``, see :meth:`Engine.route_keys`), so a key's
  memory — counts, timers, its open alert and case — lives in exactly one worker.
  Events no scenario keys are stored and counted but need no worker.
* **Workers** (``cityeye worker --partition p --partitions N``) each own one subject of
  a work-queue stream through a durable pull consumer. A worker feeds what it receives
  to the same :class:`~cityeye.analysis.Analysis` as the single process (restricted to
  its keys), stores alerts and cases, snapshots itself with the stream sequence it has
  reached, and acknowledges messages only after that snapshot is committed.
* **One clock.** One process classifies an event as late, and fires its timers, by
  the largest event time of *everything* fed before it; a worker sees only its
  partition. So ingest keeps the stream's watermark (:class:`StreamClock`): every
  item carries the watermark before it, the last message of each partition in a
  batch carries the watermark after the batch (:data:`WATERMARK`; a partition with
  no events in it gets a message with the watermark alone), and an event that could
  start a scenario's service (registered keys' absence timers) goes to every
  partition. A worker moves its clock to each (:meth:`Analysis.catch_up`) and so
  raises exactly the alerts one process raises, in any arrival order.
* **Crash.** A worker killed with SIGKILL restarts from its snapshot and has its
  consumer deliver again from the message after it, in stream order; messages at or
  below the snapshot's sequence are acknowledged and skipped. Wall-clock moves are
  kept as clock marks after the message they followed and re-applied there, so the
  re-fed messages give the same alerts and the same case ids: nothing lost, nothing
  twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from cityeye.analysis import Analysis, is_immediate
from cityeye.domain import Event, FieldError, World, parse_event
from cityeye.errors import ServiceError
from cityeye.ingest.batch import dead_letter
from cityeye.live.pipeline import ClockMarks, Pipeline
from cityeye.nats_client import (
    CONNECT_TIMEOUT_S,
    CONNECT_WAIT_S,
    RETRY_S,
    AsyncLoop,
    connect,
    reason,
)
from cityeye.nats_client import BusError as BusError  # part of this module's API
from cityeye.nats_client import shown as shown
from cityeye.scenarios import Engine, LoadedScenario
from cityeye.store import Store
from cityeye.world import GridLocator

#: Names on the NATS server: stream ``<NS>_EVENTS``, subjects ``<ns>.events.<p>``, so
#: two installations (or a test run) can share one server under other namespaces.
NAMESPACE_ENV = "CITYEYE_BUS_NAMESPACE"
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
#: The outbox mark: the last event sequence published (an ``engine_state`` row).
OUTBOX = "bus-published"
#: How many events one outbox pass publishes before it moves the mark.
PUBLISH_CHUNK = 5000
#: At most this many events, and this many bytes, in one message.
MESSAGE_EVENTS = 500
MESSAGE_BYTES = 256 * 1024
#: The stream drops a message id it saw within this window (seconds).
DUPLICATE_WINDOW_S = 120
_CASE_PARTITION = re.compile(r"^C(\d+)-")
#: The header naming the installation that published a message.
ORIGIN = "Cityeye-Installation"
#: The header carrying the stream's watermark after a message: the largest event time
#: of everything ingest published up to the end of that message's batch (ISO-8601).
WATERMARK = "Cityeye-Watermark"
#: The header carrying the lateness (seconds) ingest judged the stream with: the
#: workers' ``--lateness`` must be the same for them to raise what one process raises.
LATENESS = "Cityeye-Lateness"
_DESCRIPTION = re.compile(r"partitions=(\d+)(?:; installation=([0-9a-z]+))?")

#: Seconds a publish may wait for the stream's acknowledgement.
PUBLISH_TIMEOUT_S = 10.0
T = TypeVar("T")
log = logging.getLogger("cityeye.bus")


@dataclass(frozen=True, slots=True)
class Names:
    """Where the stream and subjects are (``CITYEYE_BUS_NAMESPACE``, default cityeye)."""

    namespace: str = "cityeye"

    @classmethod
    def from_env(cls) -> Names:
        ns = os.environ.get(NAMESPACE_ENV, "cityeye")
        if not _NAMESPACE.match(ns):
            raise BusError(f"{NAMESPACE_ENV}={ns!r}: lower-case letters, digits, - and _")
        return cls(ns)

    @property
    def stream(self) -> str:
        return f"{self.namespace.upper().replace('-', '_')}_EVENTS"

    def subject(self, partition: int | str) -> str:
        return f"{self.namespace}.events.{partition}"


# ---------------------------------------------------------------------- partitions
def partition_of(scenario: str, key: str, partitions: int) -> int:
    """The partition that keeps (scenario, key): stable across processes and
    restarts (``hash()`` is salted per process, crc32 is not)."""
    return zlib.crc32(f"{scenario}|{key}".encode()) % partitions


def owner(partition: int, partitions: int) -> Callable[[str, str], bool]:
    """``owns(scenario, key)`` for one partition's engine."""
    return lambda scenario, key: partition_of(scenario, key, partitions) == partition


def case_prefix(partition: int) -> str:
    """Case ids of a partition's book: ``C3-000001``."""
    return f"C{partition}-"


#: The most recent event ids a worker's engine remembers (at most twice this many).
WORKER_DEDUP = 100_000


@dataclass(slots=True)
class StreamClock:
    """What ingest knows of event time over everything it has published, in stream
    (outbox) order — what a worker cannot see from its own partition.

    ``high`` is the watermark: the largest event time fed so far, which is the clock
    one process fed the same stream would have (late means older than ``high`` minus
    the lateness; timers fire as ``high`` passes them). ``starts``: per scenario whose
    first event starts its service (registered keys' absence timers, see
    :meth:`Engine.feed`), the earliest event time, among events not late, that could
    have started it. Kept with the outbox mark, so a restart goes on from both."""

    high: datetime | None = None
    starts: dict[str, float] = field(default_factory=dict)

    def copy(self) -> StreamClock:
        return StreamClock(self.high, dict(self.starts))

    def dumps(self) -> bytes:
        high = None if self.high is None else self.high.isoformat()
        return orjson.dumps({"high": high, "starts": self.starts})

    @classmethod
    def loads(cls, data: bytes) -> StreamClock:
        """From :meth:`dumps`; an outbox mark of an older version (no data) starts
        afresh: the watermark is taken up again from the next event published."""
        if not data:
            return cls()
        state = orjson.loads(data)
        high = state.get("high")
        return cls(
            datetime.fromisoformat(high) if isinstance(high, str) else None,
            {str(k): float(v) for k, v in (state.get("starts") or {}).items()},
        )


#: One message of a publish: (partition, body, ident for :func:`message_id`, the
#: watermark after it or None).
Outgoing = tuple[int, bytes, str, datetime | None]


class Partitioner:
    """Which partitions an event goes to (a stateless engine: rules only), and the
    messages of one outbox pass, stamped with the stream's watermark."""

    def __init__(
        self,
        scenarios: Sequence[LoadedScenario],
        world: World,
        partitions: int,
        *,
        lateness_s: float = 600,
    ):
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        self.partitions = partitions
        self.engine = Engine(scenarios, world, lateness_s=lateness_s)
        self.lateness = float(lateness_s)
        #: Scenarios whose keys carry a part (``split_by``): ``key/part`` is kept where
        #: ``key`` is (:meth:`Engine.route_keys`).
        self._split = frozenset(r.id for r in self.engine.rules if r.split_by is not None)

    def of(self, event: Event, area: str | None) -> list[int]:
        n = self.partitions
        if event.kind == "case.action":
            # a move on a case goes where the case lives
            case = event.attrs.get("case")
            if isinstance(case, str):
                found = _CASE_PARTITION.match(case)
                if found is not None and int(found.group(1)) < n:
                    return [int(found.group(1))]
                return [zlib.crc32(case.encode()) % n]
            scenario, key = event.attrs.get("scenario"), event.attrs.get("key")
            if isinstance(scenario, str) and isinstance(key, str):
                if scenario in self._split:  # "ENT-024/revenue" lives with ENT-024
                    key = key.rsplit("/", 1)[0]
                return [partition_of(scenario, key, n)]
            return [zlib.crc32(event.ref.encode()) % n]  # refused there
        return sorted({partition_of(s, k, n) for s, k in self.engine.route_keys(event, area)})

    def messages(
        self, batch: Sequence[tuple[int, Event, str | None]], clock: StreamClock
    ) -> tuple[list[Outgoing], StreamClock]:
        """One outbox pass (events in stream order) as messages, and the clock after it
        (``clock`` itself is left as it is: the caller keeps the new one only once
        every message is acknowledged, a failed publish is planned again from the old).

        Each item carries the watermark before its event, so a worker judges it late
        exactly as one process would; the last message of each partition carries the
        watermark after the whole pass, and a partition without events in it, when
        the watermark moved, gets a message with the watermark alone: its timers fire
        when one process's would. An event that could be the first to start a
        scenario's service goes to every partition (where no key of the partition is
        touched, it only starts the service)."""
        clock = clock.copy()
        before = clock.high
        parts: dict[int, list[Item]] = {}
        for seq, event, area in batch:
            high = clock.high
            owners = set(self.of(event, area))
            if not is_immediate(event):  # what the engine is fed
                t = event.ts.timestamp()
                if high is None or t >= high.timestamp() - self.lateness:  # not late
                    if self._starts(event, t, clock):
                        owners = set(range(self.partitions))
                    if high is None or t > high.timestamp():
                        clock.high = event.ts
            if owners:
                entry = item(seq, event, area, high)
                for p in owners:
                    parts.setdefault(p, []).append(entry)
        out: list[Outgoing] = []
        for p in range(self.partitions):
            packed = pack(parts.get(p, []))
            out.extend(
                (p, body, ident, clock.high if n == len(packed) - 1 else None)
                for n, (body, ident) in enumerate(packed)
            )
            if not packed and batch and clock.high is not None and clock.high != before:
                out.append((p, b"[]", f"{batch[0][0]}-{batch[-1][0]}:watermark", clock.high))
        return out, clock

    def _starts(self, event: Event, t: float, clock: StreamClock) -> bool:
        """Whether ``event`` (not late) is the earliest so far that would start the
        service of a scenario with registered keys: the first event a scenario reads
        (and its ``when`` accepts) arms the absence timers of every registered key,
        in each partition for its own keys — so each must see that event."""
        first = False
        engine = self.engine
        for rule in engine.by_kind.get(event.kind, ()):
            if not rule.registered or rule.eligible is None:
                continue
            if rule.when is not None and not rule.when(
                event, engine.local(t) if rule.uses_time else 0
            ):
                continue
            known = clock.starts.get(rule.id)
            if known is None or t < known:
                clock.starts[rule.id] = t
                first = True
        return first


#: One event of a partition's outbox pass: (event seq, (source, id), encoded item).
Item = tuple[int, tuple[str, str], bytes]


def item(seq: int, event: Event, area: str | None, high: datetime | None = None) -> Item:
    """``high``: the stream's watermark before this event (:class:`StreamClock`)."""
    return seq, (event.source, event.id), encode(seq, event, area, high)


def pack(items: Sequence[Item]) -> list[tuple[bytes, str]]:
    """One partition's events (in order) as messages of up to :data:`MESSAGE_EVENTS`
    events and :data:`MESSAGE_BYTES` (a publish per event would make the client
    library, not the stream, the bottleneck), each with what its message id says
    about the events: ``<first seq>-<last seq>:<digest>``, the digest over every
    event's (source, id) — two messages with the same ident hold the same events
    at the same places of the same table (see :func:`message_id`)."""
    out: list[tuple[bytes, str]] = []
    chunk: list[Item] = []
    size = 0

    def flush() -> None:
        body = b"[" + b",".join(data for _, _, data in chunk) + b"]"
        digest = hashlib.blake2b(digest_size=12)
        for _, (source, ident), _ in chunk:
            digest.update(f"{len(source)}:{source}{len(ident)}:{ident};".encode())
        out.append((body, f"{chunk[0][0]}-{chunk[-1][0]}:{digest.hexdigest()}"))

    for entry in items:
        data = entry[2]
        if chunk and (len(chunk) >= MESSAGE_EVENTS or size + len(data) > MESSAGE_BYTES):
            flush()
            chunk, size = [], 0
        chunk.append(entry)
        size += len(data) + 1
    if chunk:
        flush()
    return out


def message_id(installation: str, partition: int, ident: str) -> str:
    """``Nats-Msg-Id``: ``<installation>:<partition>:<first>-<last>:<digest>``. The
    stream answers "duplicate" for an id it holds from the last
    :data:`DUPLICATE_WINDOW_S` seconds; with this id that can only be a re-publish of
    the same events by the same installation, so taking it as delivered loses
    nothing. (Ids of sequence numbers alone repeated after a database was recreated,
    and the stream dropped every new event as a "duplicate": issue 14, finding 8.)"""
    return f"{installation}:{partition}:{ident}"


def message_headers(
    installation: str, lateness_s: float, partition: int, ident: str, high: datetime | None
) -> dict[str, str]:
    """A message's headers: its id (:func:`message_id`), the installation that
    published it, the lateness the watermark was judged with and, on the last message
    of a partition in a pass, the watermark after the pass."""
    headers = {
        "Nats-Msg-Id": message_id(installation, partition, ident),
        ORIGIN: installation,
        LATENESS: f"{lateness_s:g}",
    }
    if high is not None:
        headers[WATERMARK] = high.isoformat()
    return headers


def encode(seq: int, event: Event, area: str | None, high: datetime | None = None) -> bytes:
    """One event of a message, with the watermark before it (``high``, when known);
    an event too big to travel goes by reference (the worker reads it from the events
    table by its sequence number)."""
    mark = {} if high is None else {"high": high.isoformat()}
    item = orjson.dumps({"seq": seq, "area": area, "event": event.to_json(), **mark})
    if len(item) <= MESSAGE_BYTES:
        return item
    return orjson.dumps({"seq": seq, "ref": True, **mark})


def unpack(data: bytes) -> list[Any]:
    """A message's items; ``FieldError`` when it is not a list of objects."""
    try:
        items = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FieldError("message", f"not JSON: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise FieldError("message", "not a list of event objects")
    return items


def decode(item: dict[str, Any], store: Store) -> tuple[Event, str | None]:
    """One item's event and area; ``FieldError`` names what is wrong."""
    seq = item.get("seq")
    if item.get("ref") is True:
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise FieldError("seq", "a reference needs the event's sequence number")
        found = store.events_after(seq - 1, limit=1)
        if not found or found[0][0] != seq:
            raise FieldError("seq", f"no stored event {seq}")
        return found[0][1], found[0][2]
    if not isinstance(item.get("event"), dict):
        raise FieldError("event", "no event object")
    area = item.get("area")
    return parse_event(item["event"]), area if isinstance(area, str) else None


def watermark(value: object, field: str = "high") -> datetime | None:
    """An item's ``high`` or a message's :data:`WATERMARK`: ``None`` when absent (a
    message of an earlier version), ``FieldError`` when it is not an ISO-8601 time
    with an offset."""
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        found = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(field, f"not an ISO-8601 time: {value!r}") from None
    if found.tzinfo is None:
        raise FieldError(field, f"no UTC offset: {value!r}")
    return found


def describe(partitions: int, installation: str) -> str:
    """The stream's description: what every process checks before using it."""
    return f"cityeye events; partitions={partitions}; installation={installation}"


async def ensure_stream(js: Any, names: Names, partitions: int, installation: str) -> int:
    """Create the work-queue stream, or check the one there is: made for the same
    number of partitions (two counts would split keys between workers) and used by
    this installation. An *empty* stream of another installation (the database was
    recreated, or another installation used this namespace before) is taken over,
    saying so; one still holding messages is refused — its events belong to another
    database. Returns the stream's last sequence."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    description = describe(partitions, installation)
    try:
        info = await js.stream_info(names.stream)
    except NotFoundError:
        info = await js.add_stream(
            StreamConfig(
                name=names.stream,
                description=description,
                subjects=[names.subject("*")],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_S,
            )
        )
        return int(info.state.last_seq)
    said = info.config.description or ""
    found = _DESCRIPTION.search(said)
    if found is None or int(found.group(1)) != partitions:
        raise BusError(
            f"stream {names.stream} says {said!r}; this process was started "
            f"with {partitions} partitions (use the same --partitions everywhere)"
        )
    owner = found.group(2)
    if owner == installation:
        return int(info.state.last_seq)
    held = int(info.state.messages)
    if owner is not None and held:
        raise BusError(
            f"stream {names.stream} holds {held} message(s) of installation {owner}, and this "
            f"database is installation {installation}: two installations on one namespace, "
            "or a database recreated while the old one's events were still queued. Give each "
            f"installation its own {NAMESPACE_ENV}; or let the old installation's workers "
            f"drain the stream, or delete it (nats stream rm {names.stream}), and start again "
            "(docs/scale-out.md)"
        )
    info.config.description = description
    await js.update_stream(info.config)
    log.warning(
        "stream %s was %s; it is empty, and installation %s uses it from now on",
        names.stream,
        f"used by installation {owner} (a recreated database?)"
        if owner is not None
        else "made before installations were named",
        installation,
    )
    return int(info.state.last_seq)


class _Away(ServiceError, RuntimeError):
    """NATS is not connected now: events stay in the outbox."""


# ---------------------------------------------------------------------- ingest side
class BusPipeline(Pipeline):
    """Ingest for ``serve --bus``: store, then publish from the events table.

    NATS need not be there: the constructor waits up to ``wait_s`` for it and then
    goes on without it (the events wait in the outbox); the connection is tried
    again every :data:`RETRY_S` seconds in the background, and the next heartbeat
    after it succeeds publishes the backlog. A stream set up differently (another
    partition count, another installation's messages) raises :class:`BusError` —
    at once when NATS answers within ``wait_s``, otherwise logged, and nothing is
    published until a restart with the right settings."""

    def __init__(
        self,
        store: Store,
        url: str,
        *,
        partitions: int,
        world: World | None = None,
        scenarios: Sequence[LoadedScenario],
        wait_s: float = CONNECT_WAIT_S,
        lateness_s: float = 600,
    ) -> None:
        """``lateness_s``: the workers' ``--lateness``; the watermark judges which
        events are late with it (and marks them so in the events table)."""
        self.store = store
        self.world = world or store.load_world() or World.empty()
        self.locate = GridLocator(self.world)
        self.scenarios = list(scenarios)
        self.partitioner = Partitioner(
            self.scenarios, self.world, partitions, lateness_s=lateness_s
        )
        self.url = url
        self.where = shown(url)
        self.names = Names.from_env()
        #: This database's installation: in every message id and header.
        self.installation = store.installation_id()
        self._lock = threading.Lock()
        saved = store.load_engine_state(OUTBOX)
        self._mark = saved[1] if saved is not None else 0
        #: The stream's watermark as of the mark (kept with it).
        self._clock = StreamClock.loads(saved[0]) if saved is not None else StreamClock()
        # is_late needs only a clock: the partitioner's rules-only engine keeps one
        # (route_keys reads no state), instead of compiling every scenario twice
        self._lateness = self.partitioner.engine
        self.last_error: str | None = None
        #: Messages the stream answered "duplicate" for (a re-publish of the same events).
        self.duplicates = 0
        self.published = 0
        # after a failed publish, ingest leaves publishing to the heartbeat for a while:
        # a client's post should not wait out a publish timeout each time
        self._quiet_until = 0.0
        self._nc: Any = None
        self._js: Any = None
        self._setup_error: BusError | None = None
        self._started = False  # from here on, the callback says what the setup found
        self._loop = AsyncLoop("cityeye-bus")
        tried = threading.Event()
        self._setup = self._loop.submit(self._connect(tried))
        self._setup.add_done_callback(self._set_up)
        self._setup.add_done_callback(lambda _: tried.set())
        tried.wait(wait_s)
        self._started = True
        if self._setup.done():
            try:
                self._setup.result()
            except BaseException:
                self._loop.stop()
                raise
            with self._lock:  # what the last run left; a failure is the heartbeat's
                try:
                    self.published = self._publish_pending()
                except Exception as exc:
                    self._publish_failed(exc)
        else:
            self.last_error = self.last_error or f"NATS at {self.where} unreachable"
            log.warning(
                "NATS at %s does not answer: going on without it; events are stored and wait "
                "in the outbox, published once it answers (tried every %s s)",
                self.where,
                RETRY_S,
            )

    async def _connect(self, tried: threading.Event) -> None:
        """Connect (for as long as it takes) and check the stream (again every
        :data:`RETRY_S` seconds while NATS fails to answer that)."""

        def failed(exc: BaseException) -> None:
            tried.set()
            self.last_error = f"NATS at {self.where}: {reason(exc)}"
            log.warning(
                "NATS at %s: %s; events wait in the outbox, trying again in %s s",
                self.where,
                reason(exc),
                RETRY_S,
            )

        nc = await connect(self.url, "cityeye-ingest", failed)
        self._nc = nc
        js = nc.jetstream()
        while True:
            try:
                await ensure_stream(js, self.names, self.partitioner.partitions, self.installation)
                break
            except BusError:
                raise
            except Exception as exc:  # JetStream not (yet) there, a timeout: try again
                failed(exc)
                await asyncio.sleep(RETRY_S)
        self._js = js

    def _set_up(self, done: concurrent.futures.Future[None]) -> None:
        if done.cancelled():
            return
        exc = done.exception()
        if exc is not None:
            self._setup_error = exc if isinstance(exc, BusError) else BusError(reason(exc))
            self.last_error = str(self._setup_error)
            if self._started:  # else the constructor raises it
                log.error("not publishing (events stay in the outbox): %s", self._setup_error)
        elif self._started:
            log.info(
                "publishing to stream %s on %s as installation %s",
                self.names.stream,
                self.where,
                self.installation,
            )

    @property
    def connected(self) -> bool:
        """Whether a publish can be tried now."""
        return self._js is not None and bool(self._nc.is_connected)

    def _stored(
        self, events: Sequence[Event], areas: Sequence[str | None], fresh: Sequence[bool]
    ) -> None:
        known, late = {}, []
        for event, new in zip(events, fresh, strict=True):
            if new:
                known[(event.source, event.id)] = event
                if is_immediate(event):  # never fed to the engine: not late, no clock
                    continue
                if self._lateness.is_late(event):  # as replay and the live service do
                    late.append((event.source, event.id))
                self._lateness.advance_to(event.ts)
        if late:
            self.store.mark_late(late)
        # acknowledged once committed, as without a bus: what cannot be published now
        # stays in the outbox for the next heartbeat
        self._try_publish(known)

    def _try_publish(self, known: dict[tuple[str, str], Event] | None = None) -> None:
        """Publish the outbox, or leave it for the next try. ``known``: called from
        ingest, which does not try again within :data:`RETRY_S` of a failed publish."""
        if known is not None and time.monotonic() < self._quiet_until:
            return
        try:
            self._publish_pending(known)
        except Exception as exc:
            self._publish_failed(exc)
        else:
            self.last_error = None

    def _publish_failed(self, exc: Exception) -> None:
        if isinstance(exc, _Away):  # the connection says so itself, once per attempt
            self.last_error = str(exc)
            return
        # NATS slow or gone mid-publish: the outbox keeps the events
        self.last_error = reason(exc)
        self._quiet_until = time.monotonic() + RETRY_S
        log.warning("publishing to %s failed (%s); retried on the next tick", self.where, exc)

    def is_late(self, event: Event) -> bool:
        return self._lateness.is_late(event)

    def publish_pending(self) -> int:
        """Publish every stored event after the outbox mark; returns how many (0 while
        NATS is away)."""
        with self._lock:
            try:
                return self._publish_pending()
            except _Away as exc:
                self.last_error = str(exc)
                return 0

    def _publish_pending(self, known: dict[tuple[str, str], Event] | None = None) -> int:
        done = 0
        while True:
            if not self.connected:
                why = self._setup_error or f"NATS at {self.where} unreachable"
                raise _Away(f"{why}; the events after {self._mark} wait in the outbox")
            batch = self.store.events_after(self._mark, limit=PUBLISH_CHUNK, known=known)
            if not batch:
                return done
            planned, clock = self.partitioner.messages(batch, self._clock)
            lateness = self.partitioner.lateness
            messages: dict[str, list[tuple[bytes, dict[str, str]]]] = {}
            for p, body, ident, high in planned:
                headers = message_headers(self.installation, lateness, p, ident, high)
                messages.setdefault(self.names.subject(p), []).append((body, headers))
            longest = max((len(todo) for todo in messages.values()), default=0)
            self.duplicates += self._loop.run(
                self._publish(messages), timeout=PUBLISH_TIMEOUT_S * longest + 5
            )
            # every message of the batch has its PubAck: only now does the mark move
            self._mark, self._clock = batch[-1][0], clock
            self.store.save_engine_state(OUTBOX, clock.dumps(), self._mark, datetime.now(UTC))
            done += len(batch)

    async def _publish(self, messages: dict[str, list[tuple[bytes, dict[str, str]]]]) -> int:
        """Every subject at once, each subject's messages one after the other (a worker
        must get them in this order: the watermark of a message may not overtake the
        events before it); returns when the stream has acknowledged every one, with
        how many it answered "duplicate" for. A duplicate is taken as delivered: its
        id names this installation and exactly these events (:func:`message_id`), so
        the stream holds them already (a re-publish after a crash)."""
        js, stream = self._js, self.names.stream

        async def in_order(subject: str, todo: list[tuple[bytes, dict[str, str]]]) -> int:
            duplicates = 0
            for data, headers in todo:
                ack = await js.publish(
                    subject, data, timeout=PUBLISH_TIMEOUT_S, stream=stream, headers=headers
                )
                if ack.stream != stream:
                    mid = headers["Nats-Msg-Id"]
                    raise BusError(f"message {mid} went to {ack.stream}, not {stream}")
                duplicates += bool(ack.duplicate)
            return duplicates

        counts = await asyncio.gather(*(in_order(s, todo) for s, todo in messages.items()))
        return sum(counts)

    def live_status(self) -> dict[str, object]:
        """For ``GET /api/v1/status`` (public: no addresses, no reasons — those are in
        the log): whether NATS is there, and how many stored events wait for it."""
        return {
            "bus_connected": self.connected,
            "bus_waiting": max(0, self.store.last_event_seq() - self._mark),
        }

    def heartbeat(self) -> None:
        """Publish what a failed publish, NATS away or another writer left behind
        (event time is the workers' business)."""
        with self._lock:
            self._try_publish()

    def close(self) -> None:
        if not self.connected:
            waiting = 0
            with contextlib.suppress(Exception):  # the database may be away too
                waiting = self.store.last_event_seq() - self._mark
            if waiting > 0:
                log.warning(
                    "%d stored event(s) wait in the outbox for NATS at %s; the next "
                    "`cityeye serve --bus` publishes them",
                    waiting,
                    self.where,
                )
        try:
            if self._nc is not None and not self._nc.is_closed:
                # every publish was acknowledged; a client still reconnecting just stops
                self._loop.run(self._nc.close(), timeout=10)
        finally:
            self._loop.stop()  # also ends a first connection still being tried


# ---------------------------------------------------------------------- worker side
@dataclass(slots=True)
class WorkerStats:
    received: int = 0
    processed: int = 0
    skipped: int = 0  # at or below the snapshot: already in it
    rejected: int = 0
    snapshots: int = 0
    last_seq: int = 0
    restored_from: int = 0
    started: float = field(default_factory=time.monotonic)


class Worker:
    """One partition's analysis, fed from its JetStream subject."""

    def __init__(
        self,
        store: Store,
        url: str,
        *,
        partition: int,
        partitions: int,
        scenarios: Sequence[LoadedScenario],
        world: World | None = None,
        lateness_s: float = 600,
        wall_clock: bool = True,
        tick_s: float = 5.0,
        snapshot_every: int = 20_000,
        snapshot_s: float = 10.0,
        fetch: int = 50,
    ) -> None:
        if not 0 <= partition < partitions:
            raise ValueError(f"partition {partition} is not in 0..{partitions - 1}")
        self.store, self.url, self.where = store, url, shown(url)
        self.partition, self.partitions = partition, partitions
        self.name = f"worker-{partition}-of-{partitions}"
        self.names = Names.from_env()
        self.installation = store.installation_id()
        self.durable = f"cityeye-{self.name}"
        self.subject = self.names.subject(partition)
        self.world = world or store.load_world() or World.empty()
        self.wall_clock, self.tick_s = wall_clock, tick_s
        self._ticked = 0.0
        self.snapshot_every, self.snapshot_s, self.fetch = snapshot_every, snapshot_s, fetch
        self.analysis = Analysis(
            list(scenarios),
            self.world,
            lateness_s=lateness_s,
            case_prefix=case_prefix(partition),
            owns=owner(partition, partitions),
            # a bounded filter: messages come again only close together (a publish
            # retried, a redelivery after a crash from the snapshot on), and
            # JetStream refuses a repeated message id within its window anyway
            dedup_max=WORKER_DEDUP,
            early=True,  # as one process does: decide on arrival
        )
        self.stats = WorkerStats()
        self.seq = 0
        self._lateness_said: str | None = None  # the last LATENESS header seen
        saved = store.load_engine_state(self.name)
        if saved is not None:
            try:
                self.analysis.restore(saved[0])
            except ValueError as exc:
                raise BusError(
                    f"the snapshot of {self.name} does not fit ({exc}); the scenarios or "
                    "the version changed. Stop every process, delete the stream and the "
                    "workers' engine_state rows, and start again (docs/scale-out.md)"
                ) from None
            self.seq = saved[1]
        self.stats.restored_from = self.seq
        # wall-clock moves the last run made after its snapshot, by the message they
        # followed: re-applied there so the re-fed messages meet the same clock
        self.marks = ClockMarks(store, self.name, self.analysis, self.seq)

    # ------------------------------------------------------------------ processing
    def take(self, seq: int, data: bytes, headers: dict[str, str] | None = None) -> int:
        """One message, in stream order; returns how many events it held. Before each
        event the clock moves to the stream's watermark before it, and after the
        message to the watermark its header carries (:meth:`Partitioner.messages`):
        the partition keeps the clock of one process fed the whole stream."""
        self.stats.received += 1
        if seq <= self.seq:
            self.stats.skipped += 1
            return 0
        ref = f"{self.subject} seq {seq}"
        letters = []
        self._check_lateness(headers)
        try:
            items = unpack(data)
        except FieldError as exc:
            items = []
            letters.append(dead_letter(datetime.now(UTC), "bus", ref, exc.field, exc.reason, data))
        for n, item in enumerate(items):
            try:
                event, area = decode(item, self.store)
                high = watermark(item.get("high"))
            except FieldError as exc:
                raw = orjson.dumps(item)
                at = datetime.now(UTC)
                letters.append(dead_letter(at, "bus", f"{ref} #{n}", exc.field, exc.reason, raw))
                continue
            if high is not None:
                self.analysis.catch_up(high)
            self.analysis.feed(event, area)
            self.stats.processed += 1
        try:
            after = watermark((headers or {}).get(WATERMARK), WATERMARK)
        except FieldError as exc:  # the events are taken; only the clock stays
            raw = str((headers or {}).get(WATERMARK)).encode()
            letters.append(dead_letter(datetime.now(UTC), "bus", ref, exc.field, exc.reason, raw))
        else:
            if after is not None:
                self.analysis.catch_up(after)
        if letters:
            self.stats.rejected += len(letters)
            self.store.add_dead_letters(letters)
        self.seq = seq
        self.marks.replay(seq)
        return len(items)

    def after_batch(self, now: datetime | None = None) -> None:
        """Release what the clock has passed, let the wall clock move it on every
        ``tick_s`` (never while marks of the last run are still ahead: they fix where
        it moved), store. ``now`` forces a tick at that time."""
        self.analysis.flush()
        due = self.wall_clock and time.monotonic() - self._ticked >= self.tick_s
        if (now is not None or due) and not self.marks.pending:
            self._ticked = time.monotonic()
            self.marks.tick(self.seq, now or datetime.now(UTC))
        self.analysis.save(self.store)

    def snapshot(self) -> None:
        self.analysis.save(self.store)
        self.store.save_engine_state(
            self.name, self.analysis.snapshot(), self.seq, datetime.now(UTC)
        )
        self.stats.snapshots += 1
        self.stats.last_seq = self.seq

    def _check_lateness(self, headers: dict[str, str] | None) -> None:
        """Say once when ingest judges lateness otherwise than this worker: the
        watermark then sends events the engine treats differently from one process
        (``serve --bus`` and every worker need the same ``--lateness``)."""
        said = (headers or {}).get(LATENESS)
        if said is None or self._lateness_said == said:
            return
        self._lateness_said = said
        with contextlib.suppress(ValueError):
            if float(said) == self.analysis.engine.lateness:
                return
        log.warning(
            "%s: ingest judges lateness as %s s and this worker as %g s; start `cityeye "
            "serve --bus` and every worker with the same --lateness, or the workers may "
            "not raise what one process raises",
            self.name,
            said,
            self.analysis.engine.lateness,
        )

    def check_origin(self, headers: dict[str, str] | None, seq: int) -> None:
        """Refuse a message another installation published: its events are in another
        database (messages of a version before installations carry no header)."""
        origin = (headers or {}).get(ORIGIN)
        if origin is not None and origin != self.installation:
            raise BusError(
                f"message {seq} on {self.subject} was published by installation {origin}, "
                f"and this database is installation {self.installation}: two installations "
                f"share stream {self.names.stream} (give each its own {NAMESPACE_ENV}), or "
                "this database was recreated while the old one's events were queued (let the "
                "old installation's workers drain the stream, or delete it). Nothing of that "
                "message was taken"
            )

    # ------------------------------------------------------------------ the loop
    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Consume until ``stop`` is set; then snapshot, acknowledge and return. While
        NATS is away the worker waits for it, saying so once per attempt."""
        nc = await self._reach(stop)
        if nc is None:  # stopped before NATS answered: nothing was taken
            return self.stats
        try:
            sub = await self._subscribe(nc, stop)
            if sub is not None:
                await self._consume(nc, sub, stop)
        finally:
            await nc.close()
        return self.stats

    def _failed(self, exc: BaseException) -> None:
        log.warning(
            "%s: NATS at %s: %s; waiting, trying again in %s s",
            self.name,
            self.where,
            reason(exc),
            RETRY_S,
        )

    async def _reach(self, stop: asyncio.Event) -> Any | None:
        """A connected client, or None when ``stop`` came first."""
        link = asyncio.ensure_future(connect(self.url, f"cityeye-{self.name}", self._failed))
        halt = asyncio.ensure_future(stop.wait())
        await asyncio.wait({link, halt}, return_when=asyncio.FIRST_COMPLETED)
        halt.cancel()
        if link.done():
            return link.result()
        link.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await link
        return None

    async def _subscribe(self, nc: Any, stop: asyncio.Event) -> Any | None:
        """The stream checked and this partition's consumer made afresh, starting right
        after the snapshot; tried again while NATS does not answer. None: stopped."""
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        js = nc.jetstream()
        stream = self.names.stream
        while not stop.is_set():
            try:
                last = await ensure_stream(js, self.names, self.partitions, self.installation)
                if self.seq > last:
                    raise BusError(
                        f"the snapshot of {self.name} is at stream message {self.seq}, but "
                        f"stream {stream} ends at {last}: the stream was deleted and made "
                        "again, so its numbers no longer match the snapshot. Stop every "
                        "process, delete the workers' engine_state rows and start again "
                        "(docs/scale-out.md)"
                    )
                # start right after the snapshot, in stream order: a consumer left from a
                # killed run would hand its unacknowledged messages back only after their
                # ack wait, behind newer ones. A work queue only delivers all it holds, so
                # what the snapshot already has is purged first.
                with contextlib.suppress(NotFoundError):
                    await js.delete_consumer(stream, self.durable)
                if self.seq:
                    await js.purge_stream(stream, subject=self.subject, seq=self.seq + 1)
                await js.add_consumer(
                    stream,
                    ConsumerConfig(
                        durable_name=self.durable,
                        filter_subject=self.subject,
                        ack_policy=AckPolicy.EXPLICIT,
                        deliver_policy=DeliverPolicy.ALL,  # from the first left: seq + 1
                        ack_wait=120,
                        max_deliver=-1,
                        max_ack_pending=4 * self.snapshot_every + 4 * self.fetch,
                    ),
                )
                return await js.pull_subscribe_bind(self.durable, stream)
            except BusError:
                raise
            except Exception as exc:  # NATS gone again, JetStream not ready: wait
                self._failed(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_S)
        return None

    async def _consume(self, nc: Any, sub: Any, stop: asyncio.Event) -> None:
        from nats.errors import TimeoutError as FetchTimeout

        held: list[Any] = []
        events_since = 0
        last_snapshot = time.monotonic()
        while not stop.is_set():
            try:
                msgs = await sub.fetch(self.fetch, timeout=0.5)
            except (FetchTimeout, TimeoutError):  # nats raises either
                msgs = []
            except Exception as exc:  # NATS away: the client reconnects meanwhile
                self._failed(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_S)
                msgs = []
            for msg in msgs:
                seq = msg.metadata.sequence.stream
                self.check_origin(msg.headers, seq)
                events_since += self.take(seq, msg.data, msg.headers)
                held.append(msg)
            self.after_batch()
            due = time.monotonic() - last_snapshot >= self.snapshot_s
            if held and (events_since >= self.snapshot_every or due):
                self.snapshot()
                for msg in held:  # only now: the snapshot holds them
                    await msg.ack()
                held, events_since = [], 0
                last_snapshot = time.monotonic()
        self.snapshot()
        for msg in held:
            await msg.ack()
        try:
            await nc.flush(timeout=CONNECT_TIMEOUT_S)  # the acknowledgements are out before we go
        except Exception as exc:  # redelivered after their ack wait and skipped then
            log.warning("%s: acknowledgements not confirmed (%s)", self.name, reason(exc))
