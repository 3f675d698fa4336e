"""The backtest — ``cityeye replay``: run recorded events through the pipeline, with
no server. (The module is called backtest since issue 16: "replay" also named the
demo's playback, :mod:`cityeye.live.playback`, and the re-feed after a restart,
:func:`cityeye.live.pipeline.resume`; the command keeps its name, options and outputs.)

Replay is how a district backtests ("what would this rule have raised last month?"):
the same file always gives the same output files, byte for byte, because everything is
driven by event time and written in sorted order. It validates, de-duplicates and stores
the events, runs the scenario engine over them, and writes ``alerts.jsonl`` and
``metrics.json``; the case workflow plugs in after the engine.

A bad line never stops a replay: it is reported with its line number, field and reason
(in ``metrics.json`` and the ``dead_letters`` table) and the next line goes on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from cityeye.analysis import SNAPSHOT_NAME, Analysis
from cityeye.cases.kpi import breakdown, by_area_level, by_day, kpis
from cityeye.cases.notify import ListNotifier
from cityeye.domain import Alert, AreaLevel, Event, FieldError, World, is_known_kind
from cityeye.domain.dates import DEFAULT_TIMEZONE
from cityeye.ingest import decode_event
from cityeye.ingest.batch import dead_letter, read_lines
from cityeye.scenarios import AlertChange, LoadedScenario, load_catalogue
from cityeye.store import DeadLetter, Store
from cityeye.world import GridLocator

#: Events stored per transaction.
BATCH = 5000
#: How many rejected / duplicate lines are listed one by one in metrics.json (all are
#: counted, and every rejected line is kept in the dead-letter table).
LIST_LIMIT = 1000
DB_NAME = "cityeye.db"


@dataclass(slots=True)
class ReplayResult:
    """What a replay saw. ``to_metrics`` is the content of ``metrics.json``."""

    lines: int = 0
    blank: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    unknown_kinds: Counter[str] = field(default_factory=Counter)
    by_street: Counter[str] = field(default_factory=Counter)
    without_area: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    rejected_lines: list[dict[str, Any]] = field(default_factory=list)
    duplicate_lines: list[dict[str, Any]] = field(default_factory=list)
    late: int = 0
    scenarios: list[str] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    case_errors: list[dict[str, str]] = field(default_factory=list)
    case_error_count: int = 0
    kpis: dict[str, Any] = field(default_factory=dict)
    kpis_by: dict[str, Any] = field(default_factory=dict)

    def case_metrics(self) -> dict[str, Any]:
        states = Counter(c["final_state"] for c in self.cases)
        return {
            "total": len(self.cases),
            "by_final_state": dict(sorted(states.items())),
            "escalations": sum(len(c["escalations"]) for c in self.cases),
            "rejected_actions": self.case_errors[:LIST_LIMIT],
            "rejected_action_count": self.case_error_count,
            "kpis": self.kpis,
            "kpis_by": self.kpis_by,
        }

    def alert_metrics(self) -> dict[str, Any]:
        by_scenario: Counter[str] = Counter(dict.fromkeys(self.scenarios, 0))
        by_severity: Counter[str] = Counter()
        for alert in self.alerts:
            by_scenario[alert.scenario] += 1
            by_severity[alert.severity.value] += 1
        return {
            "total": len(self.alerts),
            "open": sum(1 for a in self.alerts if a.resolved_at is None),
            "by_scenario": dict(sorted(by_scenario.items())),
            "by_severity": dict(sorted(by_severity.items())),
        }

    def to_metrics(self) -> dict[str, Any]:
        return {
            "alerts": self.alert_metrics(),
            "cases": self.case_metrics(),
            "input": {"lines": self.lines, "blank": self.blank},
            "events": {
                "accepted": self.accepted,
                "duplicates": self.duplicates,
                "rejected": self.rejected,
                "by_kind": dict(sorted(self.by_kind.items())),
                "unknown_kinds": dict(sorted(self.unknown_kinds.items())),
                "by_street": dict(sorted(self.by_street.items())),
                "without_area": self.without_area,
                "late": self.late,
                "first_ts": self.first_ts.isoformat() if self.first_ts else None,
                "last_ts": self.last_ts.isoformat() if self.last_ts else None,
            },
            "rejected": self.rejected_lines,
            "duplicates": self.duplicate_lines,
        }


def sorted_alerts(alerts: list[Alert]) -> list[Alert]:
    """The order of ``alerts.jsonl``: (opened_at, scenario, key), then id."""
    return sorted(alerts, key=lambda a: (a.opened_at, a.scenario, a.key, a.id))


class Replay:
    """One replay into a fresh database."""

    def __init__(
        self,
        store: Store,
        world: World | None,
        scenarios: list[LoadedScenario],
        lateness_s: float = 600,
        on_change: Callable[[AlertChange], None] | None = None,
    ) -> None:
        self.store = store
        self.world = world
        self.locate = GridLocator(world) if world else None
        self.scenarios = scenarios
        self.notifier = ListNotifier()
        self.analysis = Analysis(
            scenarios, world or World.empty(), lateness_s=lateness_s, notifier=self.notifier
        )
        self.engine, self.book = self.analysis.engine, self.analysis.book
        if on_change is not None:  # a ground-truth backtest watches every change
            self.engine.on_alert = _also(self.engine.on_alert, on_change)
        self._late: list[tuple[str, str]] = []
        self.result = ReplayResult(scenarios=[s.id for s in scenarios])
        self._pending: list[tuple[int, Event]] = []
        self._dead: list[DeadLetter] = []
        # A fixed arrival time keeps the stored database as reproducible as the output
        # files; replayed events were received when they were recorded, not now.
        self._received_at = datetime(2000, 1, 1, tzinfo=UTC)

    def feed(self, number: int, raw: bytes) -> None:
        """Take one input line."""
        self.result.lines += 1
        if not raw.strip():
            self.result.blank += 1
            return
        try:
            event = decode_event(raw)
        except FieldError as exc:
            self._reject(number, exc, raw)
            return
        self._pending.append((number, event))
        if len(self._pending) >= BATCH:
            self.flush()

    def _reject(self, number: int, exc: FieldError, raw: bytes) -> None:
        self.result.rejected += 1
        if len(self.result.rejected_lines) < LIST_LIMIT:
            self.result.rejected_lines.append(
                {"line": number, "field": exc.field, "reason": exc.reason}
            )
        self._dead.append(
            dead_letter(self._received_at, "replay", f"line {number}", exc.field, exc.reason, raw)
        )

    def _area(self, event: Event) -> str | None:
        if self.world is None:
            return event.area
        return self.world.event_area(event, self.locate)

    def flush(self) -> None:
        """Store what is pending (one transaction) and count it."""
        if self._dead:
            self.store.add_dead_letters(self._dead)
            self._dead = []
        if not self._pending:
            return
        events = [e for _, e in self._pending]
        areas = [self._area(e) for e in events]
        fresh = self.store.add_events(events, self._received_at, areas=areas)
        result = self.result
        for (number, event), area, is_new in zip(self._pending, areas, fresh, strict=True):
            if not is_new:
                result.duplicates += 1
                if len(result.duplicate_lines) < LIST_LIMIT:
                    result.duplicate_lines.append(
                        {"line": number, "source": event.source, "id": event.id}
                    )
                continue
            result.accepted += 1
            result.by_kind[event.kind] += 1
            if not is_known_kind(event.kind):
                result.unknown_kinds[event.kind] += 1
            if area is None:
                result.without_area += 1
            elif self.world is not None:
                street = self.world.enclosing(area, AreaLevel.STREET)
                if street is not None:
                    result.by_street[street.code] += 1
            if result.first_ts is None or event.ts < result.first_ts:
                result.first_ts = event.ts
            if result.last_ts is None or event.ts > result.last_ts:
                result.last_ts = event.ts
            self._process(event, area)
        self._pending = []

    def _process(self, event: Event, area: str | None) -> None:
        """Hand an accepted, new event to the engine and the case book (arrival order)."""
        if self.engine.is_late(event):
            self._late.append((event.source, event.id))
        self.analysis.feed(event, area)

    def finish(self) -> None:
        """End of input: store what is pending, let the engine's clock run out, keep
        the alerts and the late flags."""
        self.flush()
        self.analysis.finish(self.result.last_ts)
        self.result.late = len(self._late)
        self.result.case_error_count = self.analysis.case_error_count
        self.result.case_errors = [
            {"id": e.event_id, "reason": e.reason} for e in self.analysis.case_errors
        ]
        self.result.cases = [self.book.to_json(c) for c in self.book.cases.values()]
        self.analysis.save_cases(self.store, self.book.cases.values())
        if self.result.first_ts is not None and self.result.last_ts is not None:
            period = (self.result.first_ts, self.result.last_ts + timedelta(microseconds=1))
            cases, parties = list(self.book.cases.values()), self.book.world.parties
            self.result.kpis = kpis(cases, parties, *period, alerts=len(self.engine.alerts))
            world = self.book.world
            self.result.kpis_by = {
                "street": breakdown(
                    cases, parties, *period, by_area_level(world, AreaLevel.STREET)
                ),
                "scenario": breakdown(cases, parties, *period, lambda c: c.scenario),
                "lead": breakdown(cases, parties, *period, lambda c: c.lead),
                "day": breakdown(cases, parties, *period, by_day(world.timezone)),
            }
        self.result.alerts = sorted_alerts(self.engine.alerts)
        self.store.save_alerts(self.result.alerts)
        self.store.mark_late(self._late)
        self.store.save_scenarios([s.to_spec() for s in self.scenarios], self._received_at)
        # `cityeye serve` on this database carries on from exactly here
        self.store.save_engine_state(
            SNAPSHOT_NAME, self.analysis.snapshot(), self.store.last_event_seq(), self._received_at
        )


def _also(
    first: Callable[[AlertChange], None] | None, then: Callable[[AlertChange], None]
) -> Callable[[AlertChange], None]:
    def both(change: AlertChange) -> None:
        if first is not None:
            first(change)
        then(change)

    return both


def run_replay(
    events_path: Path,
    out_dir: Path,
    world: World | None = None,
    progress: Callable[[int], None] | None = None,
    scenarios: list[LoadedScenario] | None = None,
    lateness_s: float = 600,
    on_change: Callable[[AlertChange], None] | None = None,
) -> ReplayResult:
    """Replay ``events_path`` into ``out_dir/cityeye.db`` (made fresh) and write
    ``out_dir/alerts.jsonl`` and ``out_dir/metrics.json``. ``scenarios`` defaults to the
    built-in catalogue; ``progress`` is told how many bytes were read so far;
    ``on_change`` is told of every alert change as it happens (when an alert opened,
    grew or went up in severity: :mod:`cityeye.demo.truth`)."""
    if scenarios is None:
        scenarios = load_catalogue()
    out_dir.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (out_dir / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
    store = Store.open(f"sqlite:///{out_dir / DB_NAME}", durable=False)
    try:
        if world is not None:
            store.save_world(world)
        replay = Replay(store, world, scenarios, lateness_s, on_change)
        done = 0
        with events_path.open("rb") as stream:
            for number, raw in read_lines(stream):
                replay.feed(number, raw)
                done += len(raw) + 1
                if progress is not None and number % 1000 == 0:
                    progress(done)
        replay.finish()
        if progress is not None:
            progress(done)
    finally:
        store.close()
    tz = ZoneInfo(world.timezone if world else DEFAULT_TIMEZONE)
    with (out_dir / "alerts.jsonl").open("wb") as stream:
        for alert in replay.result.alerts:
            stream.write(orjson.dumps(alert.to_json(tz)) + b"\n")
    with (out_dir / "cases.jsonl").open("wb") as stream:
        for case in replay.result.cases:
            stream.write(orjson.dumps(case) + b"\n")
    with (out_dir / "notifications.jsonl").open("wb") as stream:
        for note in replay.notifier.sent:
            line = {
                "case": note.case_id,
                "to": note.to,
                "kind": note.kind,
                "text": note.text,
                "at": note.at.astimezone(tz).isoformat(),
            }
            stream.write(orjson.dumps(line) + b"\n")
    metrics = replay.result.to_metrics()
    (out_dir / "metrics.json").write_bytes(
        orjson.dumps(metrics, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    return replay.result
