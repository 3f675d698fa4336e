"""``cityeye serve --replay``: a recorded day fed into the live service as it happens.

Offline replay (:mod:`cityeye.backtest`) answers "what would these rules have raised?"
in seconds; a demo wants the opposite: to watch the day unfold. The
:class:`ReplayFeeder` reads a JSON-lines file with the same reader and decoder as
``cityeye replay`` and hands each event to the live pipeline, in file (arrival) order,
once the :class:`~cityeye.live.clock.ReplayClock` has passed its time stamp. Everything
downstream is the live service as in production: events are stored durably before
they are analysed, alerts and cases are written back, the heartbeat moves the engine
on (by the replay clock) and snapshots it.

A restart is safe: the server resumes the clock where the engine had got to, the
feeder reads the file from the top again, and the events already stored come back as
duplicates (the store keys them by ``(source, id)``), so nothing is analysed twice.

A simulated file's scripted ``case.action`` events name their cases by scenario, key and
the time they opened, not by number, so cases the live database had before the file
(``cityeye participation demo``'s resolutions) or that people make while it plays (a
resident's report on the portal) do not move them onto other cases.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cityeye.domain import Event, FieldError, parse_ts
from cityeye.ingest import decode_event
from cityeye.ingest.batch import dead_letter, read_lines
from cityeye.live.clock import ReplayClock
from cityeye.live.pipeline import Pipeline

#: Events handed over per ingest call at most (one transaction): a few at a time while
#: the day runs, the earlier days of the file in big batches at start.
BATCH = 5000
#: How often (real seconds) the feeder looks whether the clock has passed more events.
POLL_S = 0.05
#: A progress line every this much simulated time.
PROGRESS_EVERY = timedelta(hours=1)
CHANNEL = "replay"
log = logging.getLogger("cityeye.playback")


class ReplayFeeder:
    """Feeds ``path`` into ``pipeline`` on ``clock``. :meth:`step` does one round (tests
    call it with a hand-moved clock); :meth:`start` runs rounds on a thread.

    When the file is done the clock runs on for ``settle`` (the engine's lateness: the
    last events wait that long in its reorder buffer); then the replay has ended and the
    clock goes on in real time (:meth:`~cityeye.live.clock.ReplayClock.run_on`). It used to
    pause there, and a resident's report made afterwards waited for a clock that never
    moved, "being opened" for ever; in real time it becomes a case as in production."""

    def __init__(
        self,
        pipeline: Pipeline,
        path: Path,
        clock: ReplayClock,
        *,
        batch: int = BATCH,
        settle: timedelta = timedelta(minutes=10),
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.pipeline, self.path, self.clock, self.batch = pipeline, path, clock, batch
        self.settle = settle
        self.last: datetime | None = None  # the latest time stamp handed over
        self.say = say or log.info
        self._stream = path.open("rb")
        self._lines: Iterator[tuple[int, bytes]] = read_lines(self._stream)
        self._next: Event | None = None  # read, waiting for its time
        self._handing: datetime | None = None  # the first event of a batch being ingested
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_progress: datetime | None = None
        self.read = self.accepted = self.duplicates = self.rejected = 0
        self.done = False
        self._peek()

    # ------------------------------------------------------------------ reading
    def _peek(self) -> Event | None:
        """The next event of the file (a bad line is dead-lettered on the way, as
        ``cityeye replay`` does: it has no time to wait for)."""
        while self._next is None and not self.done:
            try:
                number, raw = next(self._lines)
            except StopIteration:
                self.done = True
                self._stream.close()
                break
            if not raw.strip():
                continue
            try:
                self._next = decode_event(raw)
            except FieldError as exc:
                self.rejected += 1
                where = f"{self.path.name} line {number}"
                letter = dead_letter(self.clock.now(), CHANNEL, where, exc.field, exc.reason, raw)
                self.pipeline.store.add_dead_letters([letter])
        return self._next

    def step(self) -> int:
        """Hand over every event the clock has passed, in file order; how many."""
        now = self.clock.now()
        handed = 0
        while True:
            with self._lock:
                due: list[Event] = []
                while len(due) < self.batch:
                    event = self._peek()
                    if event is None or event.ts > now:
                        break
                    due.append(event)
                    self._next = None
                    self._peek()
                if not due:
                    break
                self._handing = due[0].ts
            try:
                results = self.pipeline.ingest(due)
            finally:
                with self._lock:
                    self._handing = None
            self.read += len(due)
            latest = max(e.ts for e in due)
            self.last = latest if self.last is None else max(self.last, latest)
            self.accepted += sum(r.status == "accepted" for r in results)
            self.duplicates += sum(r.status == "duplicate" for r in results)
            handed += len(due)
        self._progress(now)
        return handed

    def engine_time(self) -> datetime:
        """How far the heartbeat may move the engine: the clock, but never past an
        event not yet handed over (it would arrive late, and count for nothing)."""
        now = self.clock.now()
        with self._lock:
            waiting = self._handing or (self._next.ts if self._next is not None else None)
        return min(now, waiting) if waiting is not None else now

    # ------------------------------------------------------------------ progress
    def status(self) -> str:
        tz = ZoneInfo(self.pipeline.world.timezone)
        at = self.clock.now().astimezone(tz)
        return (
            f"replay {at:%Y-%m-%d %H:%M} ({self.clock.speed:g}×): {self.read} events read, "
            f"{self.accepted} new, {self.duplicates} duplicates, {self.rejected} rejected"
        )

    def _progress(self, now: datetime) -> None:
        if self._next_progress is None:
            self._next_progress = now + PROGRESS_EVERY
        elif now >= self._next_progress:
            self._next_progress = now + PROGRESS_EVERY
            self.say(self.status())

    def finished(self) -> bool:
        """Everything handed over, and the clock past the last event by ``settle``."""
        if not self.done or self._next is not None:
            return False
        return self.last is None or self.clock.now() >= self.last + self.settle

    # ------------------------------------------------------------------ thread
    def run(self, poll_s: float = POLL_S) -> None:
        """Rounds until the file is done (then the clock runs on in real time) or
        :meth:`stop`. A failed round (the database away for a moment) is logged and
        tried again."""
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("replay round failed; trying again")
            if self.finished():
                self.clock.run_on()
                self.say(
                    self.status() + "; end of the file: the replay has ended, real time from here"
                )
                return
            self._stop.wait(poll_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="cityeye-replay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._stream.close()


def replay_start(
    path: Path, timezone: str, replay_from: str | None = None, resume: datetime | None = None
) -> datetime:
    """Where the simulated clock starts: ``replay_from``, a time of day of the file's
    last day ("07:30") or ISO 8601 with an offset, by default that day's local midnight
    (earlier events are fed at once: the history before the day); but ``resume``, where
    the engine of a restarted server had got to, when that is later (a restart carries
    on, it does not rewind). ``ValueError`` naming what is wrong."""
    midnight = last_day_start(path, timezone)
    begin = midnight
    if replay_from is not None:
        parts = replay_from.split(":")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            hh, mm = int(parts[0]), int(parts[1])
            if not (0 <= hh < 24 and 0 <= mm < 60):
                raise ValueError(f"{replay_from!r} is not a time of day")
            begin = datetime.combine(midnight.date(), time(hh, mm), ZoneInfo(timezone))
        else:
            try:
                begin = parse_ts(replay_from, "--replay-from")
            except FieldError as exc:
                raise ValueError(f"a time of day (07:30) or {exc.reason}") from None
    return resume if resume is not None and resume > begin else begin


def last_day_start(path: Path, timezone: str) -> datetime:
    """Local midnight of the day of the file's last event: where a replay starts by
    default (a simulated day, or the last of several, earlier ones fed at once)."""
    with path.open("rb") as stream:
        stream.seek(0, 2)
        size = stream.seek(max(0, stream.tell() - 65536))
        tail = stream.read().splitlines()
    for raw in reversed(tail[1:] if size else tail):
        try:
            last = decode_event(raw).ts
        except FieldError:
            continue
        day = last.astimezone(ZoneInfo(timezone)).date()
        return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))
    raise ValueError(f"{path}: no event in its last lines")
