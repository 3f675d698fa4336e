"""A bus worker without the bus: messages handed to ``Worker.take`` in stream order,
as the JetStream consumer hands them over (the consumer itself is tested against the
real NATS in tests/integration/test_bus.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from cityeye.domain import Event
from cityeye.live.bus import BusError, Worker, encode, item, pack, partition_of
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.world import load_world
from kit import road_report

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def worker(store: Store, partition: int = 0) -> Worker:
    return Worker(
        store,
        "nats://unused:4222",
        partition=partition,
        partitions=2,
        scenarios=load_catalogue(),
        lateness_s=0,
        wall_clock=False,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    s.save_world(load_world(FIXTURES / "world_small.yaml"))
    return s


def message(events: list[Event]) -> bytes:
    [(body, _)] = pack([item(i + 1, e, "G0001") for i, e in enumerate(events)])
    return body


def test_a_restarted_worker_skips_what_its_snapshot_holds_and_redoes_the_rest(
    store: Store,
) -> None:
    mine = [
        r
        for r in map(road_report, range(40))
        if partition_of("citizen.report", f"app/{r.id}", 2) == 0
    ]
    first = worker(store)
    first.take(1, message(mine[:5]))
    first.after_batch()
    first.snapshot()
    first.take(2, message(mine[5:10]))  # processed and stored, then SIGKILL
    first.after_batch()
    stored = sorted((c.id, c.key) for c in store.load_cases())
    assert len(stored) == 10
    assert all(case_id.startswith("C0-") for case_id, _ in stored)

    second = worker(store)
    assert second.seq == 1
    assert second.take(1, message(mine[:5])) == 0  # already in the snapshot
    second.take(2, message(mine[5:10]))
    second.after_batch()
    assert sorted((c.id, c.key) for c in store.load_cases()) == stored  # same ids, once
    assert (second.stats.skipped, second.stats.processed) == (1, 5)


def test_bad_items_are_dead_lettered_and_the_rest_go_on(store: Store) -> None:
    w = worker(store)
    good = orjson.loads(encode(7, road_report(0), "G0001"))
    body = orjson.dumps([{"seq": 5, "event": {"id": "x"}}, good])
    w.take(1, body)
    w.take(2, b"not json")
    assert (w.stats.processed, w.stats.rejected) == (1, 2)
    refs = sorted(d.ref for d in store.dead_letters())
    assert refs == ["cityeye.events.0 seq 1 #0", "cityeye.events.0 seq 2"]


def test_a_snapshot_that_does_not_fit_is_refused_with_what_to_do(store: Store) -> None:
    store.save_engine_state("worker-0-of-2", b"not a snapshot", 12, datetime.now(UTC))
    with pytest.raises(BusError, match="does not fit"):
        worker(store)


def test_the_partition_must_exist(store: Store) -> None:
    with pytest.raises(ValueError, match=r"not in 0\.\.1"):
        worker(store, partition=2)
