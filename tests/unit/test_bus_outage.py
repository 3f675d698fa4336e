"""The bus without NATS: an installation's id, ingest that serves while NATS is
away, a worker that waits for it, and a worker that refuses another installation's
messages (issue 14, findings 8 and 12). Nothing here needs a NATS server: the URL
points at a port where nothing listens."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cityeye.live.bus import ORIGIN, BusError, BusPipeline, Worker, shown
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.world import load_world
from kit import road_report

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def closed_port() -> str:
    """A NATS URL nothing answers on (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    return f"nats://127.0.0.1:{port}"


class Lines(logging.Handler):
    """What the bus logs (its own handler: the logger may not propagate to pytest's)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> list[str]:
        return [r.getMessage() for r in self.records]


@pytest.fixture
def lines() -> Iterator[Lines]:
    logger = logging.getLogger("cityeye.bus")
    handler, level = Lines(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(f"sqlite:///{tmp_path / 'o.db'}")
    s.save_world(load_world(FIXTURES / "world_small.yaml"))
    return s


def test_an_installation_keeps_its_id_and_another_database_has_another(tmp_path: Path) -> None:
    one = Store.open(f"sqlite:///{tmp_path / 'one.db'}")
    first = one.installation_id()
    assert len(first) == 16
    assert one.installation_id() == first
    one.close()
    assert Store.open(f"sqlite:///{tmp_path / 'one.db'}").installation_id() == first  # kept
    assert Store.open(f"sqlite:///{tmp_path / 'two.db'}").installation_id() != first


def test_finding_12_ingest_takes_events_while_nats_is_away(store: Store, lines: Lines) -> None:
    """Issue 14, finding 12: ``serve --bus`` did not start while NATS was down. Now
    the pipeline starts within its wait, takes events (committed: the outbox), and
    says in one line per attempt, without a traceback, that NATS is away."""
    began = time.monotonic()
    ingest = BusPipeline(store, closed_port(), partitions=2, scenarios=load_catalogue(), wait_s=5)
    try:
        assert time.monotonic() - began < 5  # a refused connection is not waited out
        assert ingest.published == 0
        assert ingest.last_error is not None
        results = ingest.ingest([road_report(i) for i in range(5)])
        assert {r.status for r in results} == {"accepted"}
        assert store.event_count() == 5
        ingest.heartbeat()  # nothing to publish to: quiet, the events stay
        assert ingest.publish_pending() == 0
        assert ingest.live_status() == {"bus_connected": False, "bus_waiting": 5}
        assert store.load_engine_state("bus-published") is None  # the mark did not move
    finally:
        ingest.close()
    assert lines.records
    assert all(r.exc_info is None for r in lines.records)  # no tracebacks
    assert any("going on without it" in line for line in lines.text())
    assert any("ConnectionRefusedError" in line for line in lines.text())


def test_finding_12_a_worker_waits_for_nats_and_stops_when_told(store: Store, lines: Lines) -> None:
    worker = Worker(
        store,
        closed_port(),
        partition=0,
        partitions=2,
        scenarios=load_catalogue(),
        wall_clock=False,
    )

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        end = time.monotonic() + 10
        while not any("waiting" in line for line in lines.text()):
            assert time.monotonic() < end, "the worker said nothing about NATS"
            assert not task.done(), "the worker gave up instead of waiting"
            await asyncio.sleep(0.05)
        stop.set()
        stats = await asyncio.wait_for(task, 10)
        assert stats.received == 0

    asyncio.run(main())
    assert all(r.exc_info is None for r in lines.records)


def test_finding_08_a_worker_refuses_another_installations_message(store: Store) -> None:
    worker = Worker(store, closed_port(), partition=0, partitions=2, scenarios=load_catalogue())
    worker.check_origin({ORIGIN: store.installation_id()}, 1)
    worker.check_origin(None, 2)  # published before installations were named
    with pytest.raises(BusError, match="two installations share stream"):
        worker.check_origin({ORIGIN: "0123456789abcdef"}, 3)


def test_a_nats_password_stays_out_of_lines_and_status() -> None:
    assert shown("nats://cityeye:s3cret@10.0.0.5:4222") == "nats://***@10.0.0.5:4222"
    assert shown("nats://token@nats.local") == "nats://***@nats.local"
    assert shown("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


def test_a_database_password_stays_out_of_the_serving_line() -> None:
    """`cityeye serve` names its database with the same shown() (issue 14 leftover)."""
    pg = "postgresql+psycopg://cityeye:s3cret@db.local:5432/cityeye"
    assert shown(pg) == "postgresql+psycopg://***@db.local:5432/cityeye"
    assert shown("sqlite:///var/cityeye/cityeye.db") == "sqlite:///var/cityeye/cityeye.db"
