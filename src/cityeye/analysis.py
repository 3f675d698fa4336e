"""Events → alerts → cases, on event time: the one place the two meet.

Replay, the live service and a bus worker all run the same thing: the scenario
:class:`~cityeye.scenarios.Engine` turns events into alert changes, the
:class:`~cityeye.cases.CaseBook` turns those into cases, and ``case.action`` events
(a dispatcher's or handler's move, scripted or sent by an app) are applied to the
book once the engine's clock has passed them, so they meet each case exactly as it
stood at their time. A handled or dismissed case closes its alert.

Everything is decided by event time and arrival order, never by the wall clock, so
the same events in the same order give the same alerts and the same case ids and
timelines. That is what makes a snapshot plus a re-feed after a crash land exactly
where the crashed process would have been.
"""

from __future__ import annotations

import heapq
import pickle
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cityeye.cases import CaseBook, TransitionError
from cityeye.cases.notify import Notifier
from cityeye.domain import REPORT_KINDS, Alert, Case, CaseState, Event, FieldError, World
from cityeye.scenarios import AlertChange, Engine, LoadedScenario
from cityeye.store import Store

#: Case states that end the alert behind the case ("resolves when: handled case").
ENDS_ALERT = frozenset({CaseState.HANDLED, CaseState.DISMISSED, CaseState.CLOSED})
#: How much of a report's text a case title keeps.
SUBJECT_CHARS = 40
#: How many refusals :attr:`Analysis.recent_errors` keeps (the desk's answers).
RECENT_ERRORS = 1000
#: How many refusals :attr:`Analysis.case_errors` lists (a replay's report shows the
#: first ones; a live process running for months must not keep every mistake).
MAX_CASE_ERRORS = 10_000
#: The version of :meth:`Analysis.snapshot`; an older one is refused (rebuild instead).
SNAPSHOT_VERSION = 1
#: The name the live service keeps its analysis snapshot under (``engine_state``); a
#: replay (the backtest) leaves its final state there too, so ``serve`` resumes from it.
SNAPSHOT_NAME = "live"


def is_immediate(event: Event) -> bool:
    """A move made by a person at a desk (``case.action`` with ``immediate: true``):
    applied where it arrives in the stream and kept out of the engine, so its
    wall-clock time never moves event time (see :meth:`Analysis.feed`). The bus's
    watermark leaves it out for the same reason."""
    return event.kind == "case.action" and event.attrs.get("immediate") is True


@dataclass(frozen=True, slots=True)
class CaseError:
    """A ``case.action`` event the book refused (no such case, a move not allowed)."""

    event_id: str
    reason: str
    field: str = "action"  # what was wrong: "if_version" is a conflict, not a mistake


class Analysis:
    """The engine and the case book, fed together.

    :meth:`save` stores the alerts and cases changed since the last save (the live
    service and a worker call it after each batch). ``case_prefix`` keeps case ids
    apart when several workers each keep a book of their own partition. ``owns`` (see
    :class:`~cityeye.scenarios.Engine`) limits the engine to the (scenario, key) pairs
    of one partition."""

    def __init__(
        self,
        scenarios: Sequence[LoadedScenario],
        world: World,
        *,
        lateness_s: float = 600,
        notifier: Notifier | None = None,
        case_prefix: str = "C",
        owns: Callable[[str, str], bool] | None = None,
        dedup_max: int | None = None,
        early: bool = False,
    ) -> None:
        """``early``: decide on arrival what is certain (a live service, where someone
        waits for the alert; see :class:`~cityeye.scenarios.Engine`)."""
        self.world = world
        self.book = CaseBook.for_scenarios(
            world, scenarios, notifier=notifier, id_prefix=case_prefix
        )
        self.engine = Engine(
            scenarios,
            world,
            lateness_s=lateness_s,
            on_alert=self._on_alert,
            owns=owns,
            dedup_max=dedup_max,
            early=early,
        )
        self._changed: dict[str, Alert] = {}  # alerts changed since the last save
        self._unsaved: dict[str, Case] = {}  # cases taken from the book, not yet stored
        self._reporters: dict[str, str] = {}
        self._subjects: dict[str, str] = {}  # a report's words, for its case's title
        self._actions: list[tuple[float, str, str, Event]] = []
        self.case_errors: list[CaseError] = []  # the first MAX_CASE_ERRORS
        self.case_error_count = 0
        #: The last refusals by event id, for a desk waiting on its own action.
        self.recent_errors: dict[str, CaseError] = {}

    # ------------------------------------------------------------------ input
    def feed(self, event: Event, area: str | None = None) -> bool:
        """One new event (arrival order); returns ``False`` for a duplicate (a bus
        may deliver an event again after a crash: it changes nothing the second time)."""
        if self.engine.has_seen(event):
            return self.engine.feed(event, area)  # counted as a duplicate, nothing else
        if event.kind in REPORT_KINDS:
            reporter, text = event.attrs.get("reporter"), event.attrs.get("text")
            if isinstance(reporter, str):
                self._reporters[event.id] = reporter
            if isinstance(text, str) and text.strip():
                self._subjects[event.id] = " ".join(text.split())[:SUBJECT_CHARS]
        if event.kind == "case.action":
            if is_immediate(event):
                # a person at a desk: applied where it arrives in the stream, not when
                # event time catches up (the lateness hold would keep them waiting);
                # a re-feed meets it at the same place, so it replays the same. It
                # stays out of the engine: its wall-clock time must not move event time
                # (a replayed day at the desk), and a second delivery is refused by its
                # if_version anyway.
                self._apply(event)
                return True
            heapq.heappush(self._actions, (event.ts.timestamp(), event.source, event.id, event))
        fresh = self.engine.feed(event, area)
        self._apply_due()
        return fresh

    def flush(self) -> None:
        """Release every event the engine's clock has passed, and the actions due."""
        self.engine.flush()
        self._apply_due()

    def advance_to(self, at: datetime) -> None:
        """Let the wall clock move time on (live service): engine timers, case
        deadlines (escalations) and the actions due by then."""
        self.engine.advance_to(at)
        self._apply_due()
        self.book.advance(at)

    def catch_up(self, high: datetime) -> None:
        """The stream reached event time ``high`` in events this engine does not see
        (a bus partition: the other partitions' events, see :mod:`cityeye.live.bus`). The
        engine's clock moves as if they had arrived — its timers fire and the actions
        due by then are applied — so a partition keeps the clock one process fed the
        whole stream keeps. Case deadlines are left alone: only the wall clock moves
        them (:meth:`advance_to`), in a partition as in one process."""
        if self.engine.clock_would_move(high):
            self.engine.advance_to(high)
            self._apply_due()

    def finish(self, last: datetime | None = None) -> None:
        """End of a recorded stream: release everything; deadlines run to ``last``."""
        self.engine.finish()
        self._apply_actions(float("inf"))
        if last is not None:
            self.book.advance(last)

    # ------------------------------------------------------------------ cases
    def _on_alert(self, change: AlertChange) -> None:
        reporter = subject = None
        if change.event_id:
            reporter = self._reporters.pop(change.event_id, None)
            subject = self._subjects.pop(change.event_id, None)
        self.book.on_alert(change.kind, change.alert, change.at, reporter, subject)
        self._changed[change.alert.id] = change.alert

    def _apply_due(self) -> None:
        if self._actions and self.engine.clock is not None:
            self._apply_actions(self.engine.clock)

    def _apply_actions(self, upto: float) -> None:
        while self._actions and self._actions[0][0] <= upto:
            _, _, _, event = heapq.heappop(self._actions)
            self._apply(event)

    def _apply(self, event: Event) -> None:
        try:
            case = self.book.scripted(event.attrs, event.ts)
        except (FieldError, TransitionError) as exc:
            if isinstance(exc, TransitionError):
                error = CaseError(event.id, exc.reason, "action")
            else:
                error = CaseError(event.id, str(exc), exc.field)
            self.case_error_count += 1
            if len(self.case_errors) < MAX_CASE_ERRORS:
                self.case_errors.append(error)
            self.recent_errors[event.id] = error
            while len(self.recent_errors) > RECENT_ERRORS:
                self.recent_errors.pop(next(iter(self.recent_errors)))
            return
        if case.state in ENDS_ALERT and case.scenario and case.key:
            self.engine.resolve_alert(case.scenario, case.key, event.ts)

    def save(self, store: Store) -> None:
        """Store the alerts and the cases changed since the last successful save:
        alerts first (a case row points at its first alert), cases with their KPI
        counters under the book's deadlines.

        What changed stays pending until its own transaction has committed: a save
        that fails (the database went away mid-batch) loses nothing, and the next save
        — the next batch or heartbeat — writes it (issue 14, finding 9). Each store
        write is idempotent (an alert or a case is brought up to date, a timeline only
        grows, KPI counters move by the difference), so writing again is safe."""
        if self._changed:
            store.save_alerts(self._changed.values())
            self._changed = {}
        for case in self.book.take_touched():
            self._unsaved[case.id] = case
        if self._unsaved:
            self.save_cases(store, self._unsaved.values())
            self._unsaved = {}

    @property
    def pending_saves(self) -> int:
        """Alerts and cases changed but not yet stored (0 after a successful save)."""
        return len(self._changed) + len(self._unsaved) + self.book.touched_count

    def save_cases(self, store: Store, cases: Iterable[Case]) -> None:
        todo = list(cases)
        if todo:
            alert_ids = {c.id: self.book.tracking[c.id].alert_ids[0] for c in todo}
            store.save_cases(todo, alert_ids=alert_ids, sla=self.book.sla)

    # ------------------------------------------------------------------ snapshot
    def snapshot(self, *, scan_from: int | None = None) -> bytes:
        """Engine and book together (a pickle: keep it as private as the database).

        ``scan_from``: the caller stored every event it fed, and the ones the engine
        still buffers are all at or after this input sequence number; they are left
        out and given back after :meth:`restore` (see :meth:`Engine.rebuffer`), which
        keeps the snapshot's size and its write time independent of the traffic."""
        state = {
            "version": SNAPSHOT_VERSION,
            "engine": self.engine.snapshot(buffer=scan_from is None),
            "scan_from": scan_from,
            "book": self.book.state(),
            "reporters": self._reporters,
            "subjects": self._subjects,
            "actions": self._actions,
            # changes a failed save left pending: a restart from this snapshot does not
            # re-feed the events that made them, so it must still store them
            "unsaved_alerts": list(self._changed.values()),
            "unsaved_cases": [*self._unsaved, *self.book.touched_ids()],
        }
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, data: bytes) -> int | None:
        """Resume from :meth:`snapshot`; ``ValueError`` if it does not fit. Returns
        its ``scan_from``: where the caller must start giving back buffered events
        (``None``: the snapshot holds them)."""
        try:
            state = pickle.loads(data)  # our own snapshot, see snapshot()
        except Exception as exc:  # an unreadable blob is as good as none
            raise ValueError(f"snapshot cannot be read: {exc}") from None
        if not isinstance(state, Mapping) or state.get("version") != SNAPSHOT_VERSION:
            raise ValueError("snapshot is of another version; replay instead")
        self.engine.restore(state["engine"])
        self.book.load_state(state["book"])
        self._reporters = state["reporters"]
        self._subjects = state.get("subjects", {})
        self._actions = state["actions"]
        self._changed = {a.id: a for a in state.get("unsaved_alerts", ())}
        self._unsaved = {i: self.book.cases[i] for i in state.get("unsaved_cases", ())}
        scan_from = state.get("scan_from")
        return scan_from if isinstance(scan_from, int) else None
