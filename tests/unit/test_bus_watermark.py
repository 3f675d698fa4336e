"""One clock across partitions, without NATS (issue 15, item 5).

One process judges an event late, and fires a timer, by the largest event time of
everything fed before: each bus worker sees only its partition, so its clock used to
run behind, and two workers raised other alerts than one process on the same stream.
Here ingest's side (:meth:`Partitioner.messages`, which stamps the stream's watermark)
and the workers (:meth:`Worker.take`) are joined by hand, message after message in
stream order, as the JetStream consumer hands them over; the real stream is in
tests/integration/test_bus.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from cityeye.domain import Event, parse_event
from cityeye.live.bus import (
    LATENESS,
    WATERMARK,
    Partitioner,
    StreamClock,
    Worker,
    item,
    message_headers,
    pack,
    unpack,
)
from cityeye.scenarios import LoadedScenario, load_catalogue
from cityeye.store import Store
from cityeye.world import GridLocator
from kit import at, road_report
from streams import POST, Seen, district_stream, gongshu, one_process, seen, shuffled


def workers(
    tmp_path: Path,
    events: Sequence[Event],
    partitions: int,
    lateness: float,
    scenarios: list[LoadedScenario],
    *,
    watermark: bool = True,
) -> set[Seen]:
    """Ingest stores each post and plans its messages; each partition's worker takes
    them in order. ``watermark=False``: the messages as they were before it (each
    event to the partitions of its keys, nothing else), for the difference it made."""
    world = gongshu()
    store = Store.open(f"sqlite:///{tmp_path / f'bus{partitions}.db'}")
    store.save_world(world)
    locate = GridLocator(world)
    partitioner = Partitioner(scenarios, world, partitions, lateness_s=lateness)
    running = [
        Worker(
            store,
            "nats://unused:4222",
            partition=p,
            partitions=partitions,
            scenarios=scenarios,
            lateness_s=lateness,
            wall_clock=False,
        )
        for p in range(partitions)
    ]
    clock, mark, seq = StreamClock(), 0, 0
    for start in range(0, len(events), POST):
        post = events[start : start + POST]
        store.add_events(post, datetime.now(UTC), areas=[world.event_area(e, locate) for e in post])
        batch = store.events_after(mark)
        mark = batch[-1][0]
        if watermark:
            planned, clock = partitioner.messages(batch, clock)
        else:
            planned = [
                (p, body, ident, None)
                for p in range(partitions)
                for body, ident in pack(
                    [item(s, e, a) for s, e, a in batch if p in partitioner.of(e, a)]
                )
            ]
        for p, body, ident, high in planned:
            seq += 1
            running[p].take(seq, body, message_headers("0" * 16, lateness, p, ident, high))
        for w in running:
            w.after_batch()
    found = seen(store.alerts(limit=None))
    store.close()
    return found


def test_two_and_three_workers_raise_what_one_process_raises(tmp_path: Path) -> None:
    """Lateness 0 and events up to a minute out of order: which are late, and when
    timers fire, depends on every partition's events. (Other lateness settings and the
    real stream: tests/integration/test_bus.py.)"""
    scenarios = load_catalogue()
    events = shuffled(district_stream(), 60, seed=15)
    expected = one_process(tmp_path, events, 0, scenarios)
    assert len(expected) >= 10
    assert workers(tmp_path, events, 2, 0, scenarios) == expected
    assert workers(tmp_path, events, 3, 0, scenarios) == expected


def test_without_the_watermark_the_workers_raised_other_alerts(tmp_path: Path) -> None:
    """What the watermark changed: on the same stream, each worker on its own clock
    opened, resolved or counted alerts otherwise than one process."""
    scenarios = load_catalogue()
    events = shuffled(district_stream(), 60, seed=15)
    expected = one_process(tmp_path, events, 0, scenarios)
    assert workers(tmp_path, events, 2, 0, scenarios, watermark=False) != expected


def report(i: int, minute: float) -> Event:
    return parse_event({**road_report(i).to_json(), "ts": at(minute).isoformat()})


def test_every_item_carries_the_watermark_before_it_and_idle_partitions_hear_it(
    tmp_path: Path,
) -> None:
    world = gongshu()
    partitioner = Partitioner(load_catalogue(), world, 3, lateness_s=0)
    events = [report(i, minute) for i, minute in enumerate([5, 3, 9, 1])]
    batch = [(n + 1, e, "G0001") for n, e in enumerate(events)]
    before = StreamClock()
    planned, clock = partitioner.messages(batch, before)
    assert before == StreamClock()  # kept only once every message is acknowledged
    assert clock.high == at(9)
    highs = {i["event"]["id"]: i.get("high") for _, body, _, _ in planned for i in unpack(body)}
    # the first has none before it; the one at minute 1 comes after minute 9
    assert highs == {
        events[0].id: None,
        events[1].id: at(5).isoformat(),
        events[2].id: at(5).isoformat(),
        events[3].id: at(9).isoformat(),
    }
    # every partition hears the watermark after the pass, those without events too
    last = {p: high for p, _, _, high in planned}
    assert last == {0: at(9), 1: at(9), 2: at(9)}
    idle = [body for p, body, ident, _ in planned if ident.endswith(":watermark")]
    assert all(body == b"[]" for body in idle)
    # nothing newer: no message with the watermark alone
    again, _ = partitioner.messages([(5, report(9, 2), "G0001")], clock)
    assert [ident for _, _, ident, _ in again if ident.endswith(":watermark")] == []
    headers = message_headers("0" * 16, 0, 1, "1-4:watermark", at(9))
    assert headers[WATERMARK] == at(9).isoformat()
    assert headers[LATENESS] == "0"


def test_the_watermark_is_kept_with_the_outbox_mark() -> None:
    clock = StreamClock(at(9), {"elderly.inactive": at(3).timestamp()})
    assert StreamClock.loads(clock.dumps()) == clock
    assert StreamClock.loads(b"") == StreamClock()  # a mark of an earlier version


def test_a_bad_watermark_is_dead_lettered_and_the_event_still_taken(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    store.save_world(gongshu())
    w = Worker(
        store,
        "nats://unused:4222",
        partition=0,
        partitions=1,
        scenarios=load_catalogue(),
        lateness_s=0,
        wall_clock=False,
    )
    good: dict[str, Any] = orjson.loads(item(1, report(1, 5), "G0001")[2])
    body = orjson.dumps([{**good, "high": "yesterday"}, {**good, "seq": 2}])
    w.take(1, body, {WATERMARK: "soon"})
    assert (w.stats.processed, w.stats.rejected) == (1, 2)
    assert sorted(d.field for d in store.dead_letters()) == ["Cityeye-Watermark", "high"]
