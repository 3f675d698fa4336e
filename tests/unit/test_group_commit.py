"""The live HTTP path's group commit (cityeye.live.split.GroupCommit, issue 15).

A person's SOS or a resident's report (a small request) must not wait for a gateway's
bulk upload that queued beside it; every request is answered only once its batch is
durable; duplicates are told once; a failed write fails exactly the requests it held,
and the next writer goes on. The writes are gated by
events, not timed: each test decides when a transaction "reaches the disk".
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cityeye.domain import parse_event
from cityeye.live.split import SMALL_BATCH, GroupCommit
from cityeye.store import Store
from cityeye.store.events import EventRows

WAIT = 30  # seconds: a bound on a hung test, never a timing assumption


class GatedStore:
    """A real store whose writes block until the test opens their gate."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.writes: list[list[int]] = []  # per write, the sizes of its batches
        self.started = threading.Semaphore(0)
        self.gates: list[threading.Event] = []
        self.fail_next = False

    def write(self, batches: list[EventRows]) -> list[list[bool]]:
        gate = threading.Event()
        self.gates.append(gate)
        self.writes.append([len(b.keys) for b in batches])
        self.started.release()
        assert gate.wait(WAIT)
        if self.fail_next:
            self.fail_next = False
            raise OSError("disk full")
        return self.store.add_prepared(batches)

    def open_next(self, index: int) -> None:
        assert self.started.acquire(timeout=WAIT)
        self.gates[index].set()


@pytest.fixture
def gated(tmp_path: Path) -> GatedStore:
    return GatedStore(Store.open(f"sqlite:///{tmp_path / 'g.db'}"))


def rows(store: Store, name: str, n: int, *, start: int = 0) -> EventRows:
    events = [
        parse_event(
            {
                "id": f"{name}-{i}",
                "kind": "door.open",
                "ts": "2026-12-01T08:00:00+08:00",
                "source": "gw",
            }
        )
        for i in range(start, start + n)
    ]
    return store.prepare_events(events, datetime(2026, 12, 1, tzinfo=UTC))


def submit_in_thread(
    commits: GroupCommit, batch: EventRows
) -> tuple[threading.Thread, dict[str, object]]:
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["fresh"] = commits.submit(batch)
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def wait_queued(commits: GroupCommit, n: int) -> None:
    with commits._turn:
        assert commits._turn.wait_for(lambda: len(commits._queue) >= n, timeout=WAIT)


def test_an_sos_is_answered_before_the_bulk_queued_with_it(gated: GatedStore) -> None:
    woken: list[list[list[bool]]] = []
    commits = GroupCommit(gated.write, woken.append)
    store = gated.store
    # a gateway's upload is being written when a second upload and an SOS arrive
    first, first_out = submit_in_thread(commits, rows(store, "bulk-a", 500))
    assert gated.started.acquire(timeout=WAIT)
    bulk, bulk_out = submit_in_thread(commits, rows(store, "bulk-b", 500))
    wait_queued(commits, 1)
    sos, sos_out = submit_in_thread(commits, rows(store, "sos", 1))
    wait_queued(commits, 2)
    gated.gates[0].set()  # the first upload reaches the disk
    first.join(WAIT)
    assert first_out["fresh"] == [True] * 500
    # the SOS goes next, alone, and is answered while the second upload still waits
    gated.open_next(1)
    sos.join(WAIT)
    assert not sos.is_alive()
    assert sos_out["fresh"] == [True]
    assert gated.writes[1] == [1]
    assert bulk.is_alive()
    assert "fresh" not in bulk_out
    gated.open_next(2)
    bulk.join(WAIT)
    assert bulk_out["fresh"] == [True] * 500
    assert gated.writes == [[500], [1], [500]]
    assert commits.transactions == 3
    assert [len(w) for w in woken] == [1, 1, 1]  # the analysis woken after each write
    assert store.event_count() == 1001


def test_small_requests_queued_together_share_one_transaction(gated: GatedStore) -> None:
    commits = GroupCommit(gated.write, lambda fresh: None)
    store = gated.store
    first, _ = submit_in_thread(commits, rows(store, "bulk", 100))
    assert gated.started.acquire(timeout=WAIT)
    small = [submit_in_thread(commits, rows(store, f"r{i}", SMALL_BATCH)) for i in range(3)]
    wait_queued(commits, 3)
    gated.gates[0].set()
    gated.open_next(1)
    for thread, out in small:
        thread.join(WAIT)
        assert out["fresh"] == [True] * SMALL_BATCH
    first.join(WAIT)
    assert gated.writes == [[100], [SMALL_BATCH] * 3]


def test_a_copy_in_the_same_group_is_told_duplicate_once(gated: GatedStore) -> None:
    commits = GroupCommit(gated.write, lambda fresh: None)
    store = gated.store
    first, _ = submit_in_thread(commits, rows(store, "x", 30))
    assert gated.started.acquire(timeout=WAIT)
    again, again_out = submit_in_thread(commits, rows(store, "y", 30))
    wait_queued(commits, 1)
    copy, copy_out = submit_in_thread(commits, rows(store, "y", 30, start=10))  # 20 shared
    wait_queued(commits, 2)
    gated.gates[0].set()
    gated.open_next(1)
    again.join(WAIT)
    copy.join(WAIT)
    first.join(WAIT)
    told = [again_out["fresh"], copy_out["fresh"]]
    assert told == [[True] * 30, [False] * 20 + [True] * 10]
    assert store.event_count() == 30 + 40


def test_a_failed_write_fails_its_requests_and_the_next_writer_goes_on(gated: GatedStore) -> None:
    commits = GroupCommit(gated.write, lambda fresh: None)
    store = gated.store
    first, first_out = submit_in_thread(commits, rows(store, "a", 100))
    assert gated.started.acquire(timeout=WAIT)
    sos, sos_out = submit_in_thread(commits, rows(store, "sos", 1))
    bulk, bulk_out = submit_in_thread(commits, rows(store, "b", 100))
    wait_queued(commits, 2)
    gated.fail_next = True
    gated.gates[0].set()  # the first write fails: only its own request is told so
    first.join(WAIT)
    assert isinstance(first_out["error"], OSError)
    gated.open_next(1)
    gated.open_next(2)
    sos.join(WAIT)
    bulk.join(WAIT)
    assert sos_out["fresh"] == [True]
    assert bulk_out["fresh"] == [True] * 100
    assert store.event_count() == 101
    # a failure inside a group fails that write's requests only (whoever writes)
    first, first_out = submit_in_thread(commits, rows(store, "c", 100))
    assert gated.started.acquire(timeout=WAIT)
    late_small, small_out = submit_in_thread(commits, rows(store, "s2", 1))
    late_bulk, late_out = submit_in_thread(commits, rows(store, "d", 100))
    wait_queued(commits, 2)
    gated.gates[3].set()
    first.join(WAIT)
    assert first_out["fresh"] == [True] * 100
    gated.fail_next = True
    gated.open_next(4)
    late_small.join(WAIT)
    assert isinstance(small_out["error"], OSError)
    gated.open_next(5)
    late_bulk.join(WAIT)
    assert late_out["fresh"] == [True] * 100
