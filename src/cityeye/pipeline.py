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

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from cityeye.analysis import Analysis
from cityeye.cases.notify import Notifier
from cityeye.domain import Event, World
from cityeye.ingest.batch import EventCheck, ItemResult, decode_batch
from cityeye.scenarios import LoadedScenario, load_catalogue
from cityeye.store import Store
from cityeye.world import GridLocator

SNAPSHOT_NAME = "live"
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


class Intake:
    """What every ingest channel (HTTP, MQTT, Open311, hotline import) hands events
    to: decode, store durably, then analyse here (:class:`LivePipeline`) or publish for
    the workers of a bus (:class:`cityeye.bus.BusPipeline`)."""

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
        with self._lock:
            fresh = self.store.add_events(events, datetime.now(UTC), areas=areas)
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

    def tick(self, now: datetime | None = None) -> None:
        """The heartbeat (every few seconds) when the wall clock drives event time."""
        self.heartbeat()

    def heartbeat(self) -> None:
        """The heartbeat when only events move event time (a replayed day)."""

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


class LivePipeline(Intake):
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
            self.scenarios, self.world, lateness_s=lateness_s, notifier=notifier
        )
        self.engine, self.book = self.analysis.engine, self.analysis.book
        self._lock = threading.Lock()
        self._last_seq = 0
        self.write_failures = 0  # saves after a commit that failed (and were kept)
        self.snapshot_s: float | None = None  # the last snapshot: how long it held ingest
        self.snapshot_bytes: int | None = None
        store.save_scenarios([s.to_spec() for s in self.scenarios], datetime.now(UTC))
        self.restored_events = self._restore()

    # ------------------------------------------------------------------ recovery
    def _restore(self) -> int:
        """Load the last snapshot (if it fits these scenarios) and re-feed what came
        after it. Returns how many stored events were fed again."""
        saved = self.store.load_engine_state(SNAPSHOT_NAME)
        if saved is not None:
            data, last_seq = saved
            try:
                self.analysis.restore(data)
                self._last_seq = last_seq
            except ValueError:
                # scenarios changed since, or an older snapshot: rebuild from every
                # stored event instead
                self._last_seq = 0
        # the wall clock's moves since the snapshot, each after the event it followed
        self.marks = ClockMarks(self.store, SNAPSHOT_NAME, self.analysis, self._last_seq)
        fed = 0
        while True:
            batch = self.store.events_after(self._last_seq)
            if not batch:
                break
            late = []
            for seq, event, area in batch:
                if self.engine.is_late(event):
                    late.append((event.source, event.id))
                self.analysis.feed(event, area)
                self._last_seq = seq
                fed += 1
                self.marks.replay(seq)
            self.store.mark_late(late)  # a crash may have come before they were marked
        self.analysis.save(self.store)
        return fed

    # ------------------------------------------------------------------ input
    def _stored(
        self, events: Sequence[Event], areas: Sequence[str | None], fresh: Sequence[bool]
    ) -> None:
        self._last_seq = self.store.last_event_seq()
        late = []
        for event, area, is_new in zip(events, areas, fresh, strict=True):
            if is_new:
                if self.engine.is_late(event):
                    late.append((event.source, event.id))
                self.analysis.feed(event, area)
        self.analysis.flush()
        if late:  # as replay does: the events table says which arrived too late
            self._try(lambda: self.store.mark_late(late), "marking late events")
        self._save()

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

    def snapshot(self) -> None:
        """Keep engine and book with the last event fed; pending saves are tried first
        and, if they still fail, travel inside the snapshot."""
        with self._lock:
            self._save()
            started = time.perf_counter()
            data = self.analysis.snapshot()
            self.store.save_engine_state(SNAPSHOT_NAME, data, self._last_seq, datetime.now(UTC))
            self.snapshot_s, self.snapshot_bytes = time.perf_counter() - started, len(data)
