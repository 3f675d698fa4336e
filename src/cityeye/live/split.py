"""``cityeye serve --analysis process``: ingest and analysis in two processes.

One Python process is one core. In ``--analysis thread`` (the default) the HTTP server
decodes, validates and stores a batch and then, still holding the ingest lock, feeds
every event to the engine and the case book and writes what they changed: on a
two-core machine one core does everything and the other waits. Here the work is split
the way ``--bus`` splits it, without NATS:

* **The HTTP process** (:class:`SplitIntake`) decodes, validates and stores each batch
  in one transaction and answers; no engine. After each commit it writes one byte to
  the analysis process's stdin: a wake-up, no per-event work.
* **The analysis process** (:func:`run_analysis`, the hidden ``cityeye
  analysis-process`` command that this process starts and watches) is the same
  :class:`~cityeye.live.pipeline.LivePipeline` as in one process, fed from the events
  table as from an outbox: it resumes from its snapshot exactly as a restart does
  (:func:`~cityeye.live.pipeline.resume`), then reads the events after the last one it
  fed in large batches (:meth:`LivePipeline.pull`), saves alerts and cases (and so the
  notification outbox), marks late events, ticks with the wall clock and snapshots
  every :data:`ANALYSIS_SNAPSHOT_EVERY` ticks. The snapshot's seq is the
  cursor: a crash of either process re-feeds from there, nothing lost, nothing twice
  (``cityeye check`` holds as in one process).
* **Back to the HTTP process**, on the analysis process's stdout, one JSON line each:
  ``bell`` after alert or notification rows were committed (the SSE streams there wake
  at once, as they do in one process), ``done`` for each desk action applied (with the
  book's refusal, if any) so the desk's POST answers 200/409/422 as in one process, and
  ``ready`` once resumed. Only a request waiting *now* in this process wants a ``done``;
  after a crash of either side nobody waits for it any more (the request answers 202,
  as with ``--bus``) and the event itself is stored and re-fed, so this channel needs no
  durable table.
* **Status**: the analysis process keeps its ``live`` figures in the ``meta`` table
  (:data:`STATUS_KEY`) every tick; ``GET /api/v1/status`` reads them from there.
* **Supervision**: the analysis process ends when its stdin closes (the HTTP process
  has gone, even by SIGKILL) without a snapshot — a crash, resumed on the next start —
  and on SIGTERM (a clean stop) after a last snapshot. If it ends on its own, the HTTP
  process says so on stderr and starts it again.

Events must reach the events table in seq order of their commits (one writer, as here:
the HTTP process's ingest lock; on PostgreSQL another writer could commit a lower seq
after a higher one was read, as with the ``--bus`` outbox).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import orjson

from cityeye.analysis import CaseError, is_immediate
from cityeye.domain import Event, World
from cityeye.ingest.batch import ItemResult
from cityeye.live.pipeline import AnalysisGone, Awaited, LivePipeline, Pipeline, results_for
from cityeye.live.ticks import beat
from cityeye.scenarios import LoadedScenario
from cityeye.store import Store
from cityeye.store.events import EventRows
from cityeye.store.outbox import ALERT_BELL, BELL
from cityeye.world import GridLocator

#: The ``meta`` row where the analysis process keeps its ``live`` status.
STATUS_KEY = "live-analysis"
#: Events the analysis process reads and feeds per pass.
PULL_EVENTS = 20_000
#: Seconds without new events after which the status row is brought up to date (it is
#: written at every beat too, so at least once a second while events come).
STATUS_QUIET_S = 0.2
#: The analysis process's heartbeat (seconds), and its snapshot every this many beats
#: (30 s, as the server thread's 6 × 5 s). Shorter than the server thread's 5 s: each
#: beat runs the in-order pass over the events the wall clock has passed since the
#: last one, and at 20,000 events/s five seconds' worth kept the alerts that arriving
#: events decide waiting behind it for up to ~1 s (issue 15, bench-live's probes).
ANALYSIS_TICK_S = 1.0
ANALYSIS_SNAPSHOT_EVERY = 30
#: Seconds the HTTP process waits after the analysis process ended before starting it
#: again (doubled while it keeps ending within :data:`STABLE_S`, up to 10 s).
RESTART_S = 0.5
STABLE_S = 30.0
#: Seconds a clean stop waits for the analysis process's last snapshot.
STOP_WAIT_S = 60.0
log = logging.getLogger("cityeye.serve")


@dataclass(slots=True)
class _Queued:
    """One request's batch, made into rows, waiting for a group commit."""

    rows: EventRows
    fresh: list[bool] | None = None  # set once committed
    failed: BaseException | None = None  # set when its commit failed

    @property
    def small(self) -> bool:
        """Written ahead of the bulk (:data:`SMALL_BATCH`)."""
        return len(self.rows.keys) <= SMALL_BATCH


#: A request of at most this many events (a person's button, a resident's report, a
#: single alarm) is committed ahead of the bulk batches queued with it, in its own
#: transaction: an SOS must not wait for a gateway's 500 readings (issue 15). Our choice,
#: measured in bench/RESULTS.md.
SMALL_BATCH = 20


class GroupCommit:
    """Requests' batches written together (group commit): a SQLite commit waits for
    the disk (``synchronous=FULL``) as long for 500 events as for 5,000, and while one
    is committing the next requests queue up. A request that finds nobody writing
    writes every batch queued so far; the others are told when theirs is done.

    Small requests (:data:`SMALL_BATCH`) go first, in a transaction of their own, and
    are answered as soon as it is durable; a small request that writes leaves the bulk
    to the next writer. Duplicates within a group are told as they would be one batch
    after another, in the order written. A failed write fails exactly the requests it
    held, each with the error; the next part and the next writer go on.

    ``write``: :meth:`cityeye.store.Store.add_prepared`; ``written``: called with each
    part's answers once it is durable (the split intake wakes the analysis process)."""

    def __init__(
        self,
        write: Callable[[list[EventRows]], list[list[bool]]],
        written: Callable[[list[list[bool]]], None],
    ) -> None:
        self._write, self._written = write, written
        #: guards the queue and ``_writing``; requests wait on it for their commit
        self._turn = threading.Condition()
        self._writing = False
        self._queue: list[_Queued] = []
        #: Transactions written (each one or more requests' batches).
        self.transactions = 0

    def submit(self, rows: EventRows) -> list[bool]:
        """Store ``rows`` (durable when this returns): per event, whether it was new."""
        mine = _Queued(rows)
        with self._turn:
            self._queue.append(mine)
            while mine.fresh is None and mine.failed is None and self._writing:
                self._turn.wait()
            lead = mine.fresh is None and mine.failed is None
            if lead:
                self._writing = True
                if mine.small:  # answer mine, leave the bulk
                    group = [q for q in self._queue if q.small]
                    self._queue = [q for q in self._queue if not q.small]
                else:
                    group, self._queue = self._queue, []
        if lead:
            self._commit(group)
        if mine.failed is not None:
            raise mine.failed
        assert mine.fresh is not None
        return mine.fresh

    def _commit(self, group: list[_Queued]) -> None:
        small = [q for q in group if q.small]
        parts = [part for part in (small, [q for q in group if not q.small]) if part]
        try:
            for at, part in enumerate(parts):
                try:
                    fresh = self._write([q.rows for q in part])
                except Exception as exc:  # this part's requests are told; the next goes on
                    with self._turn:
                        for q in part:
                            q.failed = exc
                        self._turn.notify_all()
                    continue
                except BaseException as exc:  # stopping: nobody left waiting
                    with self._turn:
                        for q in (q for rest in parts[at:] for q in rest):
                            q.failed = exc
                    raise
                with self._turn:
                    self.transactions += 1
                    for q, new in zip(part, fresh, strict=True):
                        q.fresh = new
                    self._turn.notify_all()
                self._written(fresh)
        finally:
            with self._turn:
                self._writing = False
                self._turn.notify_all()


class SplitIntake(Pipeline):
    """The HTTP process's side: store, acknowledge, wake the analysis process.

    ``command``: how to start the analysis process (``cityeye analysis-process`` with
    the same database, scenarios, lateness and clock as ``serve``)."""

    def __init__(
        self,
        store: Store,
        command: Sequence[str],
        *,
        scenarios: Sequence[LoadedScenario],
        world: World | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.world = world or store.load_world() or World.empty()
        self.locate = GridLocator(self.world)
        self.scenarios = list(scenarios)
        self.command, self.env = list(command), env
        self._commits = GroupCommit(store.add_prepared, self._written)
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._waiting = Awaited()
        #: Times the analysis process ended on its own and was started again.
        self.restarts = 0
        self.ready = threading.Event()  # the (current) analysis process has resumed
        self._supervisor = threading.Thread(
            target=self._supervise, name="cityeye-analysis-supervisor", daemon=True
        )
        self._supervisor.start()

    # ------------------------------------------------------------------ ingest
    def ingest(self, events: Sequence[Event], indexes: Sequence[int] = ()) -> list[ItemResult]:
        """Store events (durable before this returns), committed together with the
        batches of other requests that arrived meanwhile (:class:`GroupCommit`)."""
        if not events:
            return []
        areas = [self.world.event_area(e, self.locate) for e in events]
        # rows made here, in this request's thread, while the group before commits
        rows = self.store.prepare_events(events, datetime.now(UTC), areas=areas)
        return results_for(events, self._commits.submit(rows), indexes)

    def _written(self, fresh: list[list[bool]]) -> None:
        if any(any(new) for new in fresh):
            self.wake()

    def wake(self) -> None:
        """One byte down the analysis process's stdin: "there is more". A full pipe
        means it has wake-ups enough already; a closed one, that it is being started
        again (it reads everything after its snapshot when it is)."""
        proc = self._proc
        if proc is None or proc.stdin is None:
            return
        with contextlib.suppress(OSError):  # BlockingIOError, BrokenPipeError
            os.write(proc.stdin.fileno(), b"\n")

    def is_late(self, event: Event) -> bool:
        """Not known here (the engine is in the other process, which marks late events
        in the events table itself)."""
        return False

    def expect(self, event_id: str) -> concurrent.futures.Future[CaseError | None] | None:
        """A future the analysis process's ``done`` for ``event_id`` resolves (the
        book's refusal or ``None``); call before storing the event."""
        return self._waiting.expect(event_id)

    def forget(self, event_id: str) -> None:
        self._waiting.forget(event_id)

    # ------------------------------------------------------------------ status
    def live_status(self) -> dict[str, object]:
        """What the analysis process said at its last tick, with how far behind the
        events table it was then and who runs it now."""
        found = self.store.get_meta(STATUS_KEY)
        out: dict[str, object] = dict(found) if isinstance(found, dict) else {}
        proc = self._proc
        out |= {
            "analysis": "process",
            "analysis_pid": proc.pid if proc is not None else None,
            "analysis_restarts": self.restarts,
            "ingest_commits": self._commits.transactions,
        }
        return out

    # ------------------------------------------------------------------ the process
    def _supervise(self) -> None:
        delay = RESTART_S
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                proc = subprocess.Popen(
                    self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env
                )
            except OSError as exc:
                log.error("cannot start the analysis process (%s); trying again", exc)
                self._stop.wait(10)
                continue
            assert proc.stdin is not None
            assert proc.stdout is not None
            os.set_blocking(proc.stdin.fileno(), False)
            self._proc = proc
            self.wake()
            self._listen(proc.stdout)
            code = proc.wait()
            self.ready.clear()
            self._fail_waiting()
            if self._stop.is_set():
                break
            self.restarts += 1
            quick = time.monotonic() - started < STABLE_S
            delay = min(delay * 2, 10.0) if quick else RESTART_S
            log.warning(
                "the analysis process (pid %d) ended (exit %s); starting it again in %.1f s: "
                "it resumes from its snapshot, nothing stored is lost",
                proc.pid,
                code,
                delay,
            )
            self._stop.wait(delay)

    def _listen(self, out: IO[bytes]) -> None:
        """The analysis process's lines, until it ends."""
        for line in out:
            try:
                msg = orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("analysis process said %r", line[:200])
                continue
            if "bell" in msg:
                alerts, notes = msg["bell"]
                if alerts:
                    ALERT_BELL.ring()
                if notes:
                    BELL.ring()
            elif "done" in msg:
                self._done(msg["done"], msg.get("error"))
            elif "ready" in msg:
                self.ready.set()
                if msg.get("fed"):
                    log.info("analysis process resumed; %s stored events fed again", msg["fed"])

    def _done(self, event_id: str, error: dict[str, str] | None) -> None:
        refusal = None
        if error is not None:
            refusal = CaseError(event_id, error["reason"], error["field"])
        self._waiting.settle(event_id, refusal)

    def _fail_waiting(self) -> None:
        """The analysis process ended: nobody will answer the desks waiting now (they
        answer 202; their actions are stored and applied after the restart)."""
        self._waiting.fail_all(AnalysisGone())

    def close(self) -> None:
        """Stop the analysis process after its last snapshot (SIGTERM), then stop
        watching it."""
        self._stop.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            # a process still starting has no SIGTERM handler yet: the signal would end
            # it without its last snapshot, so wait (bounded) until it says it is ready
            self.ready.wait(STOP_WAIT_S)
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                log.warning("the analysis process did not stop in %s s; killed", STOP_WAIT_S)
                proc.kill()
        self._supervisor.join(timeout=10)


# ---------------------------------------------------------------------- the other side
class _Channel:
    """The analysis process's line to the HTTP process (its original stdout; the
    process's own fd 1 is pointed at stderr, so a stray print cannot garble it)."""

    def __init__(self) -> None:
        self._fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def send(self, **msg: Any) -> None:
        data = orjson.dumps(msg) + b"\n"
        while data:
            written = os.write(self._fd, data)
            data = data[written:]


def run_analysis(
    store: Store,
    scenarios: Sequence[LoadedScenario],
    *,
    lateness_s: float = 600,
    wall_clock: bool = True,
    tick_s: float = ANALYSIS_TICK_S,
    pull_events: int = PULL_EVENTS,
) -> None:
    """The analysis process: resume, then feed what the HTTP process stores, until
    SIGTERM (a last snapshot) or the end of stdin (the HTTP process is gone: end at
    once, as a crash; the next start resumes from the last snapshot)."""
    channel = _Channel()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    stopping = False

    def stop(_sig: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    # Ctrl+C in a terminal reaches the whole process group: the HTTP process stops
    # this one (SIGTERM) when it is done, instead of seeing it end and restarting it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pipeline = LivePipeline(store, scenarios=list(scenarios), lateness_s=lateness_s)
    channel.send(ready=pipeline.last_seq, fed=pipeline.restored_events)
    stdin = sys.stdin.fileno()

    shown = -1  # the last_seq the status row says

    def publish() -> None:
        nonlocal shown
        shown = pipeline.last_seq
        status = pipeline.live_status() | {
            "last_seq": pipeline.last_seq,
            "at": datetime.now(UTC).isoformat(),
        }
        with contextlib.suppress(Exception):  # the database away: the next tick says
            store.set_meta(STATUS_KEY, status)

    def fed(events: Sequence[Event], alerts: int, notes: int) -> None:
        """Tell the HTTP process what it waits for: bells, then desk answers."""
        rang = (ALERT_BELL.generation != alerts, BELL.generation != notes)
        if any(rang):
            channel.send(bell=rang)
        for event in events:
            if is_immediate(event):
                error = pipeline.analysis.recent_errors.get(event.id)
                channel.send(
                    done=event.id,
                    error=None if error is None else {"reason": error.reason, "field": error.field},
                )

    publish()
    ticks = 0
    next_tick = time.monotonic() + tick_s
    while not stopping:
        gens = ALERT_BELL.generation, BELL.generation
        try:
            events = pipeline.pull(pull_events)
        except Exception:  # the database away for a moment: the next pass tries again
            log.exception("reading stored events failed; trying again")
            events = []
            time.sleep(1)
        fed(events, *gens)
        if not events and shown != pipeline.last_seq:
            publish()  # caught up: the status page says how far, without waiting a beat
        if time.monotonic() >= next_tick:
            gens = ALERT_BELL.generation, BELL.generation
            ticks = beat(pipeline, ticks, tick_s, wall_clock, every=ANALYSIS_SNAPSHOT_EVERY)
            fed((), *gens)
            publish()
            next_tick = time.monotonic() + tick_s
        wait = 0.0 if len(events) >= pull_events else max(0.0, next_tick - time.monotonic())
        if shown != pipeline.last_seq:  # a burst ended: say so soon, not at the next tick
            wait = min(wait, STATUS_QUIET_S)
        try:
            ready, _, _ = select.select([stdin, wake_r], [], [], wait)
        except InterruptedError:  # pragma: no cover - select retries on its own (PEP 475)
            continue
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
        if stdin in ready and not os.read(stdin, 65536):
            log.warning("the HTTP process is gone; the analysis process ends (no snapshot)")
            os._exit(0)
    pipeline.snapshot()
    publish()
