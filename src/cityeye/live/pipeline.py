"""The live pipeline behind ``cityeye serve``: store, then analyse, then keep.

An event is acknowledged only after it is committed to the database; only then is it
fed to the same :class:`~cityeye.analysis.Analysis` (engine and case book) that replay
uses, and every alert it opens, grows or resolves and every case it opens or moves is
written back. Its memory is snapshotted into the database (with the sequence number of
the last event it had seen) every few seconds and on shutdown, so a restart restores
every timer and case deadline and re-feeds only the events stored after the snapshot:
nothing accepted is lost, nothing is counted twice, and the re-fed events give the
same alert and case ids as before.

The wall clock drives live time: :meth:`LivePipeline.tick` moves the engine's clock to
"now", so a person who falls silent raises ``elderly.inactive`` even though no event
arrives to say so.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from cityeye.analysis import SNAPSHOT_NAME, Analysis, CaseError
from cityeye.cases.notify import Notifier
from cityeye.domain import Event, World
from cityeye.errors import ServiceError
from cityeye.ingest.batch import EventCheck, ItemResult, decode_batch
from cityeye.scenarios import LoadedScenario, load_catalogue
from cityeye.store import Store
from cityeye.world import GridLocator

#: The engine's duplicate filter in the live service: the store refuses a repeated
#: (source, id) before the engine sees it, so the engine's own filter is only a
#: guard and remembers at most twice this many ids, whatever the traffic.
LIVE_DEDUP = 1_000
log = logging.getLogger("cityeye.pipeline")


class ClockMarks:
    """The wall clock's moves of one engine (``name``), kept in the database as marks
    after the input sequence number they followed (an event's seq, or a stream
    message's), so that a restart re-applies each at the same place: an event that was
    late before the crash is late again, and timer alerts fire with the same ids."""

    def __init__(self, store: Store, name: str, analysis: Analysis, after_seq: int) -> None:
        self.store, self.name, self.analysis = store, name, analysis
        self._pending: dict[int, list[datetime]] = {}
        for after, at in store.clock_marks(name, after_seq):
            self._pending.setdefault(after, []).append(at)
        self.replay(after_seq)

    @property
    def pending(self) -> bool:
        """Marks of the last run still ahead: the wall clock must wait for them."""
        return bool(self._pending)

    def replay(self, seq: int) -> None:
        """Re-apply the moves that followed input ``seq`` (call after feeding it)."""
        for at in self._pending.pop(seq, ()):
            self.analysis.advance_to(at)

    def tick(self, seq: int, at: datetime) -> None:
        """Move the clock to ``at`` after input ``seq``, keeping the mark."""
        if self.analysis.engine.clock_would_move(at):
            self.store.add_clock_mark(self.name, seq, at)
        self.analysis.advance_to(at)
        self.analysis.engine.forget_resolved()


class AnalysisGone(ServiceError, RuntimeError):
    """The analysis process ended before it said how it took a desk action (it is
    stored: applied after the restart)."""


async def wait_applied(
    pending: Future[CaseError | None], timeout_s: float
) -> tuple[bool, CaseError | None]:
    """Wait for what :meth:`Pipeline.expect` promised: (applied, refusal);
    ``(False, None)`` when the analysis did not answer in time, or its process ended
    meanwhile (:class:`AnalysisGone`)."""
    try:
        return True, await asyncio.wait_for(asyncio.wrap_future(pending), timeout_s)
    except (TimeoutError, AnalysisGone):
        return False, None


class Awaited:
    """The desk actions waiting to hear how the analysis took them: a future per event
    id (:meth:`Pipeline.expect`), resolved with the case book's refusal or ``None``.
    Thread-safe; one for each pipeline that answers (here, or the analysis process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, Future[CaseError | None]] = {}

    def expect(self, event_id: str) -> Future[CaseError | None]:
        found: Future[CaseError | None] = Future()
        with self._lock:
            self._waiting[event_id] = found
        return found

    def forget(self, event_id: str) -> None:
        with self._lock:
            self._waiting.pop(event_id, None)

    def __bool__(self) -> bool:
        return bool(self._waiting)

    def settle(self, event_id: str, refusal: CaseError | None) -> None:
        """Tell whoever waits for ``event_id`` (nobody: nothing happens)."""
        with self._lock:
            found = self._waiting.pop(event_id, None)
        if found is not None and not found.done():
            found.set_result(refusal)

    def fail_all(self, exc: BaseException) -> None:
        """Nobody will answer the ones waiting now: each gets ``exc``."""
        with self._lock:
            waiting, self._waiting = self._waiting, {}
        for found in waiting.values():
            if not found.done():
                found.set_exception(exc)


class Pipeline:
    """What every ingest channel (HTTP, MQTT, Open311, hotline import) hands events
    to: decode, store durably, then analyse here (:class:`LivePipeline`) or publish for
    the workers of a bus (:class:`cityeye.live.bus.BusPipeline`)."""

    store: Store
    world: World
    locate: GridLocator
    scenarios: list[LoadedScenario]

    def ingest_raw(
        self,
        items: Iterable[bytes],
        channel: str,
        *,
        ref: str | None = None,
        check: EventCheck | None = None,
    ) -> list[ItemResult]:
        """Decode, store and analyse a batch; bad items are dead-lettered with their
        reason and their exact bytes (:func:`~cityeye.ingest.batch.decode_batch`), and
        the rest go on."""
        results, good = decode_batch(self.store, items, channel, ref=ref, check=check)
        results += self.ingest([e for _, e in good], indexes=[i for i, _ in good])
        return sorted(results, key=lambda r: r.index)

    _lock: threading.Lock

    def ingest(self, events: Sequence[Event], indexes: Sequence[int] = ()) -> list[ItemResult]:
        """Store events (durable before this returns) and pass the new ones on."""
        if not events:
            return []
        areas = [self.world.event_area(e, self.locate) for e in events]
        rows = self.store.prepare_events(events, datetime.now(UTC), areas=areas)  # unlocked
        with self._lock:
            fresh = self.store.add_prepared([rows])[0]
            self._stored(events, areas, fresh)
        return results_for(events, fresh, indexes)

    def _stored(
        self, events: Sequence[Event], areas: Sequence[str | None], fresh: Sequence[bool]
    ) -> None:
        """What comes after the commit (under the lock): analyse, or publish."""
        raise NotImplementedError

    def is_late(self, event: Event) -> bool:
        """Whether ``event`` is too old to raise an alert if it arrived now."""
        raise NotImplementedError

    def expect(self, event_id: str) -> Future[CaseError | None] | None:
        """Before a desk action ``event_id`` is stored: a future that says how the
        analysis took it (the case book's refusal, or ``None``: applied), or ``None``
        when nobody here will say (a bus worker applies it later)."""
        return None

    def forget(self, event_id: str) -> None:
        """Nobody waits for ``event_id`` any more (:meth:`expect` timed out)."""

    def tick(self, now: datetime | None = None) -> None:
        """The heartbeat (every few seconds) when the wall clock drives event time."""
        self.heartbeat()

    def heartbeat(self) -> None:
        """The heartbeat when only events move event time (a replayed day)."""

    def live_status(self) -> dict[str, object]:
        """Figures of the running service for ``GET /api/v1/status`` (``live``)."""
        return {}

    def snapshot(self) -> None:
        """Keep what a restart needs (now and then, and at shutdown)."""

    def close(self) -> None:
        """Shutdown: after the last snapshot."""


def results_for(
    events: Sequence[Event], fresh: Sequence[bool], indexes: Sequence[int]
) -> list[ItemResult]:
    """Accepted or duplicate, per item, as the store answered."""
    return [
        ItemResult(indexes[i] if indexes else i, "accepted" if new else "duplicate", id=e.id)
        for i, (e, new) in enumerate(zip(events, fresh, strict=True))
    ]


class HeldSpans:
    """Which stored events the engine may still hold in its buffer: per batch fed,
    its first input sequence number and its newest event time. Once the engine's
    clock has passed a batch's newest event, nothing of it is held any more. The
    snapshot leaves the held events out and records where they start
    (:meth:`scan_from`); a restart reads them back from the events table."""

    def __init__(self) -> None:
        self._spans: deque[tuple[int, float]] = deque()

    def add(self, first_seq: int, newest_ts: float) -> None:
        self._spans.append((first_seq, newest_ts))

    def scan_from(self, clock: float | None, next_seq: int) -> int:
        """The first input that may still be held (``next_seq`` when none is)."""
        spans = self._spans
        while spans and clock is not None and spans[0][1] <= clock:
            spans.popleft()
        return spans[0][0] if spans else next_seq


@dataclass(slots=True)
class Resumed:
    snapshot_seq: int  # the last event in the snapshot (0: none)
    last_seq: int  # the last stored event fed
    fed: int  # events fed again after the snapshot
    marks: ClockMarks
    held: HeldSpans


def resume(
    store: Store, analysis: Analysis, name: str = SNAPSHOT_NAME, *, mark_late: bool = False
) -> Resumed:
    """Bring ``analysis`` to where the process that stored ``name`` was: its last
    snapshot (if it fits these scenarios), the events it still held given back from
    the events table, then every event stored after it fed again with the wall
    clock's moves where they happened. The restart and ``cityeye check`` both do
    exactly this. ``mark_late``: flag the late ones in the events table (a crash may
    have come before they were marked); otherwise nothing is written."""
    last_seq, scan_from, held = 0, None, HeldSpans()
    saved = store.load_engine_state(name)
    if saved is not None:
        data, seq = saved
        try:
            scan_from = analysis.restore(data)
            last_seq = seq
        except ValueError:
            # scenarios changed since, or an older snapshot: rebuild from every
            # stored event instead
            last_seq = 0
    if scan_from is not None and scan_from <= last_seq:
        newest, at = None, scan_from - 1
        while at < last_seq and (batch := store.events_after(at)):
            for seq, event, area in batch:
                if seq > last_seq:
                    break
                if analysis.engine.rebuffer(event, area):
                    newest = max(newest or event.ts, event.ts)
            at = batch[-1][0]
        if newest is not None:
            held.add(scan_from, newest.timestamp())
    # the wall clock's moves since the snapshot, each after the event it followed
    marks = ClockMarks(store, name, analysis, last_seq)
    snapshot_seq, fed = last_seq, 0
    while batch := store.events_after(last_seq):
        late, newest = [], None
        for seq, event, area in batch:
            if analysis.engine.is_late(event):
                late.append((event.source, event.id))
            analysis.feed(event, area)
            newest = max(newest or event.ts, event.ts)
            last_seq = seq
            fed += 1
            marks.replay(seq)
        assert newest is not None
        held.add(batch[0][0], newest.timestamp())
        if mark_late:
            store.mark_late(late)
    return Resumed(snapshot_seq, last_seq, fed, marks, held)


class LivePipeline(Pipeline):
    """One process: the engine and the case book run here, beside the API.
    Thread-safe: one lock serialises ingest, ticks and snapshots."""

    def __init__(
        self,
        store: Store,
        world: World | None = None,
        scenarios: Sequence[LoadedScenario] | None = None,
        *,
        lateness_s: float = 600,
        notifier: Notifier | None = None,
    ) -> None:
        self.store = store
        self.world = world or store.load_world() or World.empty()
        self.locate = GridLocator(self.world)
        self.scenarios = list(scenarios) if scenarios is not None else load_catalogue()
        self.analysis = Analysis(
            self.scenarios,
            self.world,
            lateness_s=lateness_s,
            notifier=notifier,
            dedup_max=LIVE_DEDUP,
            early=True,  # someone waits for the alert: decide on arrival
        )
        self.engine, self.book = self.analysis.engine, self.analysis.book
        self._lock = threading.Lock()
        self._snapshot_lock = threading.Lock()
        self._waiting = Awaited()
        self._last_seq = 0
        self._held = HeldSpans()
        self.write_failures = 0  # saves after a commit that failed (and were kept)
        self.snapshot_s: float | None = None  # the last snapshot: how long it held ingest
        self.snapshot_bytes: int | None = None
        store.save_scenarios([s.to_spec() for s in self.scenarios], datetime.now(UTC))
        self.restored_events = self._restore()

    # ------------------------------------------------------------------ recovery
    def _restore(self) -> int:
        """Load the last snapshot (if it fits these scenarios) and re-feed what came
        after it. Returns how many stored events were fed again."""
        resumed = resume(self.store, self.analysis, mark_late=True)
        self._last_seq, self.marks, self._held = resumed.last_seq, resumed.marks, resumed.held
        self.analysis.save(self.store)
        return resumed.fed

    # ------------------------------------------------------------------ input
    def _stored(
        self, events: Sequence[Event], areas: Sequence[str | None], fresh: Sequence[bool]
    ) -> None:
        first, self._last_seq = self._last_seq + 1, self.store.last_event_seq()
        late, newest = [], None
        for event, area, is_new in zip(events, areas, fresh, strict=True):
            if is_new:
                if self.engine.is_late(event):
                    late.append((event.source, event.id))
                self.analysis.feed(event, area)
                newest = max(newest or event.ts, event.ts)
        if newest is not None:
            self._held.add(first, newest.timestamp())
        self.analysis.flush()
        if late:  # as replay does: the events table says which arrived too late
            self._try(lambda: self.store.mark_late(late), "marking late events")
        self._save()
        if self._waiting:  # desk actions: applied above (immediate), say how
            for event in events:
                self._waiting.settle(event.id, self.analysis.recent_errors.get(event.id))

    def expect(self, event_id: str) -> Future[CaseError | None]:
        """Resolved when ``event_id`` has been stored and analysed here (a desk
        action is applied at once: ``immediate``)."""
        return self._waiting.expect(event_id)

    def forget(self, event_id: str) -> None:
        self._waiting.forget(event_id)

    def pull(self, limit: int = 10_000) -> list[Event]:
        """Feed the events stored after the last one fed, up to ``limit``, and save
        what they changed: the analysis process of ``serve --analysis process``
        (:mod:`cityeye.live.split`), where another process stores the events and the
        events table is the outbox between the two. Fed in seq order exactly as
        :func:`resume` re-feeds them, so a crash resumes from the snapshot's seq
        with nothing lost or doubled. Returns the events fed."""
        with self._lock:
            batch = self.store.events_after(self._last_seq, limit)
            if not batch:
                return []
            late, newest, fed = [], None, []
            engine, feed = self.engine, self.analysis.feed
            for _, event, area in batch:
                if engine.is_late(event):
                    late.append((event.source, event.id))
                feed(event, area)
                newest = max(newest or event.ts, event.ts)
                fed.append(event)
            assert newest is not None
            self._held.add(batch[0][0], newest.timestamp())
            self._last_seq = batch[-1][0]
            self.analysis.flush()
            if late:
                self._try(lambda: self.store.mark_late(late), "marking late events")
            self._save()
            return fed

    @property
    def last_seq(self) -> int:
        """The last stored event fed to the engine (the snapshot's cursor)."""
        return self._last_seq

    def _save(self) -> None:
        self._try(lambda: self.analysis.save(self.store), "saving alerts and cases")

    def _try(self, write: Callable[[], object], what: str) -> None:
        """A write after the events are committed: they are acknowledged whatever
        happens here. A database error is logged and counted; what was not written
        stays pending in memory (and in the next snapshot) and the next batch or
        heartbeat writes it (issue 14, finding 9)."""
        try:
            write()
        except SQLAlchemyError as exc:
            self.write_failures += 1
            log.warning("%s failed (%s); kept and retried", what, exc.__class__.__name__)

    def is_late(self, event: Event) -> bool:
        return self.engine.is_late(event)

    def tick(self, now: datetime | None = None) -> None:
        """Let the wall clock move event time on (absence timers, quiet periods)."""
        at = now or datetime.now(UTC)
        with self._lock:
            self.marks.tick(self._last_seq, at)
            self._save()

    def live_status(self) -> dict[str, object]:
        return {
            "snapshot_s": self.snapshot_s,
            "snapshot_bytes": self.snapshot_bytes,
            "write_failures": self.write_failures,
            "pending_saves": self.analysis.pending_saves,
            "buffered_events": self.engine.buffered,
        }

    def snapshot(self) -> None:
        """Keep engine and book with the last event fed; pending saves are tried first
        and, if they still fail, travel inside the snapshot."""
        with self._snapshot_lock:  # snapshots are written in the order they are taken
            with self._lock:
                self._save()
                started = time.perf_counter()
                scan_from = self._held.scan_from(self.engine.clock, self._last_seq + 1)
                data = self.analysis.snapshot(scan_from=scan_from)
                last_seq = self._last_seq
                self.snapshot_s = time.perf_counter() - started  # how long ingest waited
            # written outside the ingest lock: ingest goes on meanwhile (a later
            # snapshot waits, as saving one prunes the clock marks before it)
            self.store.save_engine_state(SNAPSHOT_NAME, data, last_seq, datetime.now(UTC))
            self.snapshot_bytes = len(data)
