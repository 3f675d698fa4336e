"""A simulated slice of the demo district, replayed twice: same bytes out, and every
alert explained by events that were really stored."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cityeye.replay import run_replay
from cityeye.sim import build_demo_world, default_start, simulate
from cityeye.sim.simulator import write_jsonl
from cityeye.sourcefile import SourceDoc
from cityeye.store import Store
from cityeye.world import build_world


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("sim")
    world = build_world(SourceDoc(data=build_demo_world(2021)))
    events = base / "events.jsonl"
    with events.open("wb") as stream:
        write_jsonl(simulate(world, start=default_start(), hours=8, seed=7), stream)
    run_replay(events, base / "a", world)
    run_replay(events, base / "b", world)
    return base / "a", base / "b"


def test_same_input_same_bytes(replayed: tuple[Path, Path]) -> None:
    a, b = replayed
    for name in ("alerts.jsonl", "metrics.json"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "alerts.jsonl").stat().st_size > 0


def test_every_alert_lists_stored_events_of_the_kinds_it_reads(
    replayed: tuple[Path, Path],
) -> None:
    from cityeye.scenarios import load_catalogue

    reads = {s.id: set(s.config.reads) for s in load_catalogue()}
    out, _ = replayed
    alerts = [orjson.loads(line) for line in (out / "alerts.jsonl").read_bytes().splitlines()]
    store = Store.open(f"sqlite:///{out / 'cityeye.db'}")
    try:
        with store.engine.connect() as conn:
            from sqlalchemy import select

            from cityeye.store.tables import events

            kinds = dict(conn.execute(select(events.c.event_id, events.c.kind)).all())
    finally:
        store.close()
    explained = 0
    for alert in alerts:
        for event_id in alert["event_ids"]:
            assert event_id in kinds, (alert["id"], event_id)
            assert kinds[event_id] in reads[alert["scenario"]], (alert["id"], event_id)
            explained += 1
    assert explained >= len(alerts) * 0.9  # only silences may lack events (never seen)
    opened = [a["opened_at"] for a in alerts]
    assert opened == sorted(opened)
