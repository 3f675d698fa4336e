"""The simulated district as an out-of-order stream, and what one process raises
from it: the yardstick of the bus tests (one clock across partitions, issue 15)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from cityeye.demo.district import build_demo_world
from cityeye.demo.responders import with_responses
from cityeye.demo.simulator import simulate
from cityeye.domain import Alert, Event, World, parse_event
from cityeye.live.pipeline import LivePipeline
from cityeye.scenarios import LoadedScenario
from cityeye.sourcefile import SourceDoc
from cityeye.store import Store
from cityeye.world import build_world

START = datetime(2026, 10, 1, 8, tzinfo=timezone(timedelta(hours=8)))
POST = 200  # events a post


@cache
def gongshu() -> World:
    return build_world(SourceDoc(data=build_demo_world(2021)))


@cache
def district_stream() -> tuple[Event, ...]:
    """Two morning hours of the simulated district (13,309 events, 41 alerts at
    lateness 0), with the responders' case actions."""
    world = gongshu()
    raw = with_responses(simulate(world, start=START, hours=2, seed=2021), world, seed=2021)
    return tuple(parse_event(r) for r in raw)


def shuffled(events: Sequence[Event], within_s: float, seed: int) -> list[Event]:
    """Each event delayed by a seeded random 0…``within_s`` seconds, then sent in the
    order of arrival: any order the lateness allows when ``within_s`` is at most it,
    late events besides when it is more."""
    rng = random.Random(seed)
    return sorted(events, key=lambda e: e.ts.timestamp() + rng.uniform(0, within_s))


Seen = tuple[str, datetime, datetime | None, int, str, tuple[str, ...]]


def seen(alerts: list[Alert]) -> set[Seen]:
    """What a user sees of each alert."""
    return {
        (a.id, a.opened_at, a.resolved_at, a.count, str(a.severity), tuple(a.event_ids))
        for a in alerts
    }


def one_process(
    tmp_path: Path, events: Sequence[Event], lateness: float, scenarios: list[LoadedScenario]
) -> set[Seen]:
    store = Store.open(f"sqlite:///{tmp_path / 'one.db'}")
    store.save_world(gongshu())
    live = LivePipeline(store, scenarios=scenarios, lateness_s=lateness)
    for start in range(0, len(events), POST):
        live.ingest(events[start : start + POST])
    found = seen(store.alerts(limit=None))
    store.close()
    return found
