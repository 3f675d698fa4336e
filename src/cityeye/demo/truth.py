"""The backtest against the truth (``cityeye backtest``): simulate a stream whose real
incidents are known (:func:`cityeye.demo.simulator.planted`), replay it through the
whole pipeline (:func:`cityeye.backtest.run_replay`), and score the alerts against
what was planted — per scenario precision, recall and time-to-alert.

Why: 智慧消安 raised "预警 3000 余起 … 真实警情 6 起" (seed 000:287). What matters is
not how many alarms a rule raises but how many of them are real and whether it misses a
fire. So beside the catalogue's rules the fire stream is also scored the way a
single-sensor platform alarms — every ``smoke.alarm`` an alarm — and the verified
(critical) fire alerts are set against it.

Matching (ours): an alert is *true* when its key carries a planted positive of its
scenario and it opened no earlier than a minute before the pattern's first event and at
most :data:`HORIZON` after it (an elderly person's silence fires 20 h after their last
sign of life); every other alert is *false* — for scenarios whose ordinary traffic may
rightly fire (single e-bike detections, hotline reports) "false" means "not planted".
A positive is *found* when a true alert matched it; time-to-alert runs from the
pattern's first event to the alert (for the verified fire row: to the moment the alert
became critical). Fire alarms count as true within :data:`FIRE_WINDOW` of a real fire.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from cityeye.backtest import run_replay
from cityeye.demo.simulator import Plant, planted, simulate, write_jsonl
from cityeye.domain import Severity, World
from cityeye.scenarios import AlertChange

#: How long after a planted pattern's first event its alert may open and still match.
HORIZON = timedelta(hours=26)
#: How early an alert may open before the planted time (whole-second rounding).
EARLY = timedelta(minutes=1)
#: A smoke alarm within this long of a real fire's start, in its building, is that fire's.
FIRE_WINDOW = timedelta(minutes=30)
FIRE = "fire.smoke"
#: The plan's names for scenarios the catalogue calls otherwise.
ALIASES = {"waterlogging": "road.waterlogging"}
#: Plant roles a correct engine fires on: a positive, and an elderly person never seen
#: at all (silence from the start is what elderly.inactive is for).
SHOULD_FIRE = ("positive", "silent")


def _keys(world: World, plant: Plant) -> set[str]:
    """The alert keys that may carry ``plant``: its key, and where the plan names a
    device but the scenario keys by its venue or building, those (gas.leak, kitchen
    violations); a per-metric key (``ENT-017/revenue``) is matched by its prefix."""
    keys = {plant.key}
    device = world.devices.get(plant.key)
    if device is not None:
        keys |= {k for k in (device.venue, device.building) if k}
    return keys


@dataclass(slots=True)
class Seen:
    """One alert as the backtest watched it: when it opened and when (if ever) it
    reached critical."""

    scenario: str
    key: str
    opened_at: datetime
    critical_at: datetime | None = None


@dataclass(slots=True)
class Row:
    """One line of the table: a way of alarming and how it scored."""

    name: str
    alarms: int = 0
    true: int = 0
    positives: int = 0
    found: int = 0
    times_s: list[float] = field(default_factory=list)

    @property
    def false(self) -> int:
        return self.alarms - self.true

    @property
    def precision(self) -> float | None:
        """``None`` without alarms, and for a scenario the simulator plants no truth
        for (its alerts are neither true nor false by the plan: hotline reports,
        camera detections of ordinary traffic)."""
        if not self.alarms or not self.positives:
            return None
        return round(self.true / self.alarms, 4)

    @property
    def recall(self) -> float | None:
        return round(self.found / self.positives, 4) if self.positives else None

    @property
    def missed(self) -> int:
        return self.positives - self.found

    def to_json(self) -> dict[str, Any]:
        times = sorted(self.times_s)
        return {
            "name": self.name,
            "alarms": self.alarms,
            "true": self.true,
            "false": self.false,
            "precision": self.precision,
            "positives": self.positives,
            "found": self.found,
            "missed": self.missed,
            "recall": self.recall,
            "time_to_alert_median_s": round(statistics.median(times), 1) if times else None,
            "time_to_alert_max_s": round(times[-1], 1) if times else None,
        }


def _matches(plant: Plant, at: datetime, horizon: timedelta) -> bool:
    return plant.at - EARLY <= at <= plant.at + horizon


def score_scenarios(world: World, seen: Iterable[Seen], plants: Iterable[Plant]) -> dict[str, Row]:
    """Per scenario: alerts, true ones, positives found and time-to-alert."""
    positives: dict[tuple[str, str], list[Plant]] = defaultdict(list)
    rows: dict[str, Row] = {}
    for p in plants:
        if p.role in SHOULD_FIRE:
            scenario = ALIASES.get(p.scenario, p.scenario)
            for key in _keys(world, p):
                positives[(scenario, key)].append(p)
            rows.setdefault(scenario, Row(scenario)).positives += 1
    first_hit: dict[Plant, datetime] = {}
    for alert in seen:
        row = rows.setdefault(alert.scenario, Row(alert.scenario))
        row.alarms += 1
        key = alert.key.split("/")[0]
        hit = next(
            (
                p
                for p in positives.get((alert.scenario, key), [])
                if _matches(p, alert.opened_at, HORIZON)
            ),
            None,
        )
        if hit is not None:
            row.true += 1
            if hit not in first_hit or alert.opened_at < first_hit[hit]:
                first_hit[hit] = alert.opened_at
    for p, at in first_hit.items():
        row = rows[ALIASES.get(p.scenario, p.scenario)]
        row.found += 1
        row.times_s.append((at - p.at).total_seconds())
    return dict(sorted(rows.items()))


def score_fire(
    alarms: Iterable[tuple[str, datetime]], seen: Iterable[Seen], plants: Iterable[Plant]
) -> dict[str, Row]:
    """The fire stream three ways: ``single`` — every smoke.alarm an alarm (``alarms``:
    (building, time) of each); ``any`` — the catalogue's fire.smoke alerts, unverified
    (high) or verified; ``verified`` — those that became critical, timed to then."""
    seen = list(seen)
    fires = [p for p in plants if p.scenario == FIRE and p.role == "positive"]
    by_building = defaultdict(list)
    for p in fires:
        by_building[p.key].append(p)
    single = Row("single-sensor: every smoke.alarm", positives=len(fires))
    caught: dict[Plant, datetime] = {}
    for building, at in alarms:
        single.alarms += 1
        fire = next(
            (p for p in by_building.get(building, []) if _matches(p, at, FIRE_WINDOW)), None
        )
        if fire is not None:
            single.true += 1
            caught[fire] = min(at, caught.get(fire, at))
    single.found = len(caught)
    single.times_s = [(at - p.at).total_seconds() for p, at in caught.items()]

    rows = {"single": single}
    for name, label in (
        ("any", "catalogue fire.smoke, any severity"),
        ("verified", "catalogue fire.smoke, verified (critical)"),
    ):
        row = Row(label, positives=len(fires))
        hits: dict[Plant, datetime] = {}
        for alert in seen:
            if alert.scenario != FIRE:
                continue
            when = alert.opened_at if name == "any" else alert.critical_at
            if when is None:
                continue
            row.alarms += 1
            fire = next(
                (p for p in by_building.get(alert.key, []) if _matches(p, when, FIRE_WINDOW)),
                None,
            )
            if fire is not None:
                row.true += 1
                hits[fire] = min(when, hits.get(fire, when))
        row.found = len(hits)
        row.times_s = [(at - p.at).total_seconds() for p, at in hits.items()]
        rows[name] = row
    return rows


@dataclass(slots=True)
class TruthReport:
    """What ``cityeye backtest`` prints and writes to ``truth.json``."""

    run: dict[str, Any]
    scenarios: dict[str, Row]
    fire: dict[str, Row]

    @property
    def fire_precision_ratio(self) -> float | None:
        single, verified = self.fire["single"].precision, self.fire["verified"].precision
        if not single or verified is None:
            return None
        return round(verified / single, 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "scenarios": {k: v.to_json() for k, v in self.scenarios.items()},
            "fire": {k: v.to_json() for k, v in self.fire.items()},
            "fire_verified_vs_single_precision": self.fire_precision_ratio,
            "fire_verified_missed": self.fire["verified"].missed,
        }


def backtest(
    world: World,
    out_dir: Path,
    *,
    start: datetime,
    hours: float,
    seed: int,
    nuisance: bool = True,
    responders: bool = True,
) -> TruthReport:
    """Simulate (``out_dir/events.jsonl``), replay into ``out_dir`` as ``cityeye
    replay`` does, score against the plants; writes ``out_dir/truth.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    events: Iterable[dict[str, Any]] = simulate(
        world, start=start, hours=hours, seed=seed, nuisance=nuisance
    )
    if responders:
        from cityeye.demo.responders import with_responses

        events = with_responses(events, world, seed=seed)
    path = out_dir / "events.jsonl"
    alarms: dict[str, tuple[str, datetime]] = {}  # by event id: a duplicate is one alarm
    with path.open("wb") as stream:

        def watched() -> Iterable[dict[str, Any]]:
            for event in events:
                if event["kind"] == "smoke.alarm":
                    device = world.devices.get(str(event.get("device_id")))
                    building = (device.building if device else None) or event["attrs"].get(
                        "building"
                    )
                    at = datetime.fromisoformat(event["ts"])
                    alarms[f"{event['source']}/{event['id']}"] = (str(building), at)
                yield event

        write_jsonl(watched(), stream)
    seen: dict[str, Seen] = {}

    def watch(change: AlertChange) -> None:
        alert = change.alert
        if alert.id not in seen:
            seen[alert.id] = Seen(alert.scenario, alert.key, alert.opened_at)
        entry = seen[alert.id]
        if alert.severity == Severity.CRITICAL and entry.critical_at is None:
            entry.critical_at = change.at

    run_replay(path, out_dir, world, on_change=watch)
    plants = planted(world, start=start, hours=hours, seed=seed, nuisance=nuisance)
    unique_alarms = sorted(alarms.values())
    report = TruthReport(
        run={
            "start": start.isoformat(),
            "hours": hours,
            "seed": seed,
            "nuisance": nuisance,
            "responders": responders,
            "smoke_alarms": len(unique_alarms),
            "real_fires": sum(1 for p in plants if p.scenario == FIRE and p.role == "positive"),
        },
        scenarios=score_scenarios(world, seen.values(), plants),
        fire=score_fire(unique_alarms, seen.values(), plants),
    )
    (out_dir / "truth.json").write_bytes(
        orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    )
    return report
