"""Scale-out on NATS JetStream: ingest on one side, partitioned workers on the other.

One machine runs everything in one process (:class:`~cityeye.pipeline.LivePipeline`).
A district that outgrows it puts a JetStream stream between ingest and analysis:

* **Ingest** (``cityeye serve --bus nats://…``) stores each event in the database first
  (the client's acknowledgement still means "durable"), then publishes it from the
  events table as from an outbox: every event after the last published sequence, to
  the partitions that own it, up to 500 events a message (one publish per event would
  make the client library the bottleneck), each message with
  ``Nats-Msg-Id = <first seq>-<last seq>/<partition>`` so a re-publish after a crash is
  dropped by the stream (and the workers' engines drop an event they have seen). The
  outbox mark moves only after the stream's PubAck, so an event committed just before a
  crash is published by the next heartbeat or the next start — also events other tools
  wrote to the table.
* **Partitions.** An event goes to the partition of each (scenario, key) pair it
  touches (``crc32("scenario|key") mod N``, see :meth:`Engine.route_keys`), so a key's
  memory — counts, timers, its open alert and case — lives in exactly one worker.
  Events no scenario keys are stored and counted but need no worker.
* **Workers** (``cityeye worker --partition p --partitions N``) each own one subject of
  a work-queue stream through a durable pull consumer. A worker feeds what it receives
  to the same :class:`~cityeye.analysis.Analysis` as the single process (restricted to
  its keys), stores alerts and cases, snapshots itself with the stream sequence it has
  reached, and acknowledges messages only after that snapshot is committed.
* **Crash.** A worker killed with SIGKILL restarts from its snapshot and has its
  consumer deliver again from the message after it, in stream order; messages at or
  below the snapshot's sequence are acknowledged and skipped. Wall-clock moves are
  kept as clock marks after the message they followed and re-applied there, so the
  re-fed messages give the same alerts and the same case ids: nothing lost, nothing
  twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from cityeye.analysis import Analysis
from cityeye.domain import Event, FieldError, World, parse_event
from cityeye.ingest.batch import dead_letter
from cityeye.pipeline import ClockMarks, Intake
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


class Partitioner:
    """Which partitions an event goes to (a stateless engine: rules only)."""

    def __init__(self, scenarios: Sequence[LoadedScenario], world: World, partitions: int):
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        self.partitions = partitions
        self.engine = Engine(scenarios, world)

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
                return [partition_of(scenario, key, n)]
            return [zlib.crc32(event.ref.encode()) % n]  # refused there
        return sorted({partition_of(s, k, n) for s, k in self.engine.route_keys(event, area)})


def pack(items: list[tuple[int, bytes]]) -> list[tuple[bytes, str]]:
    """One partition's events (``(event seq, encoded item)``, in order) as messages of
    up to :data:`MESSAGE_EVENTS` events and :data:`MESSAGE_BYTES`, each with its
    message id ``<first seq>-<last seq>``: a publish per event would make the client
    library, not the stream, the bottleneck."""
    out: list[tuple[bytes, str]] = []
    chunk: list[tuple[int, bytes]] = []
    size = 0

    def flush() -> None:
        body = b"[" + b",".join(item for _, item in chunk) + b"]"
        out.append((body, f"{chunk[0][0]}-{chunk[-1][0]}"))

    for seq, item in items:
        if chunk and (len(chunk) >= MESSAGE_EVENTS or size + len(item) > MESSAGE_BYTES):
            flush()
            chunk, size = [], 0
        chunk.append((seq, item))
        size += len(item) + 1
    if chunk:
        flush()
    return out


def encode(seq: int, event: Event, area: str | None) -> bytes:
    """One event of a message; an event too big to travel goes by reference (the
    worker reads it from the events table by its sequence number)."""
    item = orjson.dumps({"seq": seq, "area": area, "event": event.to_json()})
    return item if len(item) <= MESSAGE_BYTES else orjson.dumps({"seq": seq, "ref": True})


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


async def ensure_stream(js: Any, names: Names, partitions: int) -> None:
    """Create the work-queue stream, or check the one there is was made for the same
    number of partitions (two counts would split keys between workers)."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig
    from nats.js.errors import NotFoundError

    description = f"cityeye events; partitions={partitions}"
    try:
        info = await js.stream_info(names.stream)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=names.stream,
                description=description,
                subjects=[names.subject("*")],
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_S,
            )
        )
        return
    if info.config.description != description:
        raise BusError(
            f"stream {names.stream} says {info.config.description!r}; this process was started "
            f"with {partitions} partitions (use the same --partitions everywhere)"
        )


class BusError(RuntimeError):
    """The bus is unreachable or set up differently."""


async def _connect(url: str, name: str) -> Any:
    import nats

    try:
        return await nats.connect(
            url, name=name, connect_timeout=5, max_reconnect_attempts=-1, allow_reconnect=True
        )
    except Exception as exc:  # nats raises several kinds; one clear message
        raise BusError(f"cannot reach NATS at {url}: {exc}") from None


# ---------------------------------------------------------------------- ingest side
class _Loop:
    """An asyncio loop on a thread of its own, for a synchronous caller."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        """Cancel what the client left running (its reader, pinger, flusher), then
        stop and close the loop: nothing is left to be collected half-done."""

        async def cancel_rest() -> None:
            me = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not me]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_rest(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


class BusPipeline(Intake):
    """Ingest for ``serve --bus``: store, then publish from the events table."""

    def __init__(
        self,
        store: Store,
        url: str,
        *,
        partitions: int,
        world: World | None = None,
        scenarios: Sequence[LoadedScenario],
    ) -> None:
        self.store = store
        self.world = world or store.load_world() or World.empty()
        self.locate = GridLocator(self.world)
        self.scenarios = list(scenarios)
        self.partitioner = Partitioner(self.scenarios, self.world, partitions)
        self.url = url
        self.names = Names.from_env()
        self._lock = threading.Lock()
        self._loop = _Loop("cityeye-bus")
        try:
            self._nc = self._loop.run(_connect(url, "cityeye-ingest"))
            self._js = self._nc.jetstream()
            self._loop.run(ensure_stream(self._js, self.names, partitions))
        except BaseException:
            self._loop.stop()
            raise
        saved = store.load_engine_state(OUTBOX)
        self._mark = saved[1] if saved is not None else 0
        # is_late needs only a clock: the partitioner's rules-only engine keeps one
        # (route_keys reads no state), instead of compiling every scenario twice
        self._lateness = self.partitioner.engine
        self.last_error: str | None = None
        self.published = self.publish_pending()

    def _stored(
        self, events: Sequence[Event], areas: Sequence[str | None], fresh: Sequence[bool]
    ) -> None:
        known = {}
        for event, new in zip(events, fresh, strict=True):
            if new:
                self._lateness.advance_to(event.ts)
                known[(event.source, event.id)] = event
        # acknowledged once committed, as without a bus: what cannot be published now
        # stays in the outbox for the next heartbeat
        self._try_publish(known)

    def _try_publish(self, known: dict[tuple[str, str], Event] | None = None) -> None:
        try:
            self._publish_pending(known)
        except Exception as exc:  # NATS down or slow: the outbox keeps the events
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("publishing to %s failed (%s); retried on the next tick", self.url, exc)
        else:
            self.last_error = None

    def is_late(self, event: Event) -> bool:
        return self._lateness.is_late(event)

    def publish_pending(self) -> int:
        """Publish every stored event after the outbox mark; returns how many."""
        with self._lock:
            return self._publish_pending()

    def _publish_pending(self, known: dict[tuple[str, str], Event] | None = None) -> int:
        done = 0
        while True:
            batch = self.store.events_after(self._mark, limit=PUBLISH_CHUNK, known=known)
            if not batch:
                return done
            parts: dict[int, list[tuple[int, bytes]]] = {}
            for seq, event, area in batch:
                owners = self.partitioner.of(event, area)
                if owners:
                    item = encode(seq, event, area)
                    for p in owners:
                        parts.setdefault(p, []).append((seq, item))
            messages = [
                (self.names.subject(p), body, f"{ident}/{p}")
                for p, items in sorted(parts.items())
                for body, ident in pack(items)
            ]
            self._loop.run(self._publish(messages), timeout=PUBLISH_TIMEOUT_S + 5)
            self._mark = batch[-1][0]
            self.store.save_engine_state(OUTBOX, b"", self._mark, datetime.now(UTC))
            done += len(batch)

    async def _publish(self, messages: list[tuple[str, bytes, str]]) -> None:
        """All at once; returns when the stream has acknowledged every one."""
        js = self._js
        await asyncio.gather(
            *(
                js.publish(s, data, timeout=PUBLISH_TIMEOUT_S, headers={"Nats-Msg-Id": mid})
                for s, data, mid in messages
            )
        )

    def heartbeat(self) -> None:
        """Publish what a failed publish or another writer left behind (event time is
        the workers' business)."""
        with self._lock:
            self._try_publish()

    def close(self) -> None:
        try:
            self._loop.run(self._nc.close(), timeout=10)  # every publish was acknowledged
        finally:
            self._loop.stop()


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
        self.store, self.url = store, url
        self.partition, self.partitions = partition, partitions
        self.name = f"worker-{partition}-of-{partitions}"
        self.names = Names.from_env()
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
        )
        self.stats = WorkerStats()
        self.seq = 0
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
    def take(self, seq: int, data: bytes) -> int:
        """One message, in stream order; returns how many events it held."""
        self.stats.received += 1
        if seq <= self.seq:
            self.stats.skipped += 1
            return 0
        ref = f"{self.subject} seq {seq}"
        letters = []
        try:
            items = unpack(data)
        except FieldError as exc:
            items = []
            letters.append(dead_letter(datetime.now(UTC), "bus", ref, exc.field, exc.reason, data))
        for n, item in enumerate(items):
            try:
                event, area = decode(item, self.store)
            except FieldError as exc:
                raw = orjson.dumps(item)
                at = datetime.now(UTC)
                letters.append(dead_letter(at, "bus", f"{ref} #{n}", exc.field, exc.reason, raw))
                continue
            self.analysis.feed(event, area)
            self.stats.processed += 1
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

    # ------------------------------------------------------------------ the loop
    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Consume until ``stop`` is set; then snapshot, acknowledge and return."""
        from nats.errors import TimeoutError as FetchTimeout
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        nc = await _connect(self.url, f"cityeye-{self.name}")
        try:
            js = nc.jetstream()
            await ensure_stream(js, self.names, self.partitions)
            stream = self.names.stream
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
                    max_ack_pending=4 * self.snapshot_every + 4 * self.fetch,  # messages <= events
                ),
            )
            sub = await js.pull_subscribe_bind(self.durable, stream)
            held: list[Any] = []
            events_since = 0
            last_snapshot = time.monotonic()
            while not stop.is_set():
                try:
                    msgs = await sub.fetch(self.fetch, timeout=0.5)
                except (FetchTimeout, TimeoutError):  # nats raises either
                    msgs = []
                for msg in msgs:
                    events_since += self.take(msg.metadata.sequence.stream, msg.data)
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
            await nc.flush()  # the acknowledgements are out before we go
        finally:
            await nc.close()
        return self.stats
