"""Scale-out over the real NATS JetStream at 127.0.0.1:4222 and a real PostgreSQL.

Ingest stores and publishes; partitioned workers analyse. Three workers over the bus
must raise exactly the alerts and open exactly the cases one process raises and opens,
each key's state in one partition only. Each test runs in a namespace of its own (its
own stream and subjects) and deletes the stream afterwards.

Issue 15, item 5: out-of-order streams of the simulated district through two and
three workers raise exactly what one process raises (the workers share the stream's
watermark).

Issue 14: a database recreated within the stream's duplicate window loses nothing
(finding 8, also under SIGKILL), another installation's stream is refused, and
``serve --bus`` and the workers start without NATS and catch up once it is there
(finding 12; a private nats-server on a free port, or a port nothing listens on)."""

from __future__ import annotations

import asyncio
import os
import pickle
import re
import shutil
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import pytest
from sqlalchemy import create_engine, text

from cityeye.domain import Event, parse_event
from cityeye.live.bus import (
    NAMESPACE_ENV,
    BusError,
    BusPipeline,
    Names,
    Worker,
    WorkerStats,
    partition_of,
)
from cityeye.live.pipeline import LivePipeline
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.world import load_world
from conftest import require_service
from kit import at
from serving import free_port, start_cityeye, wait_until, wait_until_serving
from streams import POST, district_stream, gongshu, one_process, seen, shuffled

pytestmark = pytest.mark.integration

NATS = "nats://127.0.0.1:4222"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEADLINE_S = 60.0


@pytest.fixture
def namespace(monkeypatch: pytest.MonkeyPatch) -> Iterator[Names]:
    require_service("NATS", "127.0.0.1", 4222)
    names = Names(f"t{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv(NAMESPACE_ENV, names.namespace)
    yield names
    asyncio.run(delete_stream(names))


async def delete_stream(names: Names) -> None:
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(NATS)
    try:
        await nc.jetstream().delete_stream(names.stream)
    except NotFoundError:
        pass
    finally:
        await nc.close()


def district_events() -> list[Event]:
    """Resident reports across three grids, smoke in two buildings, five denials at
    one gate: reports open a case each, smoke and denials an alert per key."""
    raw: list[dict[str, object]] = []
    for i in range(60):
        raw.append(
            {
                "id": f"r{i}",
                "kind": "report.citizen",
                "ts": at(i * 0.5).isoformat(),
                "source": "app",
                "area": f"G000{1 + i % 3}",
                "attrs": {"category": ("garbage", "road", "fire")[i % 3], "text": f"问题 {i}"},
            }
        )
    for i in range(6):
        raw.append(
            {
                "id": f"s{i}",
                "kind": "smoke.alarm",
                "ts": at(5 + i).isoformat(),
                "source": "gw",
                "device_id": "D2",
            }
        )
    for i in range(5):
        raw.append(
            {
                "id": f"d{i}",
                "kind": "access.denied",
                "ts": at(10 + i).isoformat(),
                "source": "gw",
                "device_id": "D1",
            }
        )
    return sorted((parse_event(r) for r in raw), key=lambda e: e.ts)


class Running:
    """A worker on a thread of its own, as its own process would run it."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.stats: WorkerStats | None = None
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()
        assert self._ready.wait(10)
        self.check()

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._ready.set()
            self.stats = await self.worker.run(self._stop)

        try:
            asyncio.run(run())  # which also cancels what the client left running
        except BaseException as exc:  # handed to the test, not lost in the thread
            self.error = exc
            self._ready.set()

    def check(self) -> bool:
        if self.error is not None:
            raise AssertionError(f"worker {self.worker.name} failed") from self.error
        return True

    def stop(self) -> WorkerStats:
        assert self._stop is not None
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        self.check()
        assert self.stats is not None, "the worker did not stop"
        return self.stats


def running_workers(url: str, partitions: int, scenarios: list[Any]) -> list[Running]:
    """One running worker per partition, on event time with no lateness."""
    return [
        Running(
            Worker(
                Store.open(url),
                NATS,
                partition=p,
                partitions=partitions,
                scenarios=scenarios,
                lateness_s=0,
                wall_clock=False,
            )
        )
        for p in range(partitions)
    ]


def test_three_workers_raise_what_one_process_raises(
    namespace: Names, pg_fresh_url: str, tmp_path: Path
) -> None:
    world = load_world(FIXTURES / "world_small.yaml")
    scenarios = load_catalogue()
    events = district_events()

    alone = Store.open(f"sqlite:///{tmp_path / 'alone.db'}")
    alone.save_world(world)
    one = LivePipeline(alone, scenarios=scenarios, lateness_s=0)
    one.ingest(events)
    expected_alerts = {a.id for a in alone.alerts(limit=None)}
    expected_cases = {(c.scenario, c.key) for c in alone.load_cases()}
    assert len(expected_cases) >= 62  # 60 reports, smoke, the forced gate

    store = Store.open(pg_fresh_url)
    store.save_world(world)
    ingest = BusPipeline(store, NATS, partitions=3, scenarios=scenarios)
    workers = running_workers(pg_fresh_url, 3, scenarios)
    try:
        for start in range(0, len(events), 10):
            results = ingest.ingest(events[start : start + 10])
            assert {r.status for r in results} == {"accepted"}
        assert ingest.ingest(events[:3])[0].status == "duplicate"  # stored once, sent once
        healthy = lambda: all(w.check() for w in workers)  # noqa: E731
        wait_until(
            lambda: healthy() and len(store.alerts(limit=None)) >= len(expected_alerts),
            "all alerts",
            DEADLINE_S,
        )
        wait_until(
            lambda: healthy() and len(store.load_cases()) >= len(expected_cases),
            "cases",
            DEADLINE_S,
        )
    finally:
        stats = [w.stop() for w in workers]
        ingest.close()

    assert {a.id for a in store.alerts(limit=None)} == expected_alerts
    cases = store.load_cases()
    assert {(c.scenario, c.key) for c in cases} == expected_cases
    for case in cases:  # each case in the book of the partition that owns its key
        assert case.scenario is not None
        assert case.key is not None
        assert case.id.startswith(f"C{partition_of(case.scenario, case.key, 3)}-")
    # every published message was taken once; the partitions shared the work
    assert sum(s.skipped for s in stats) == 0
    assert all(s.processed > 0 for s in stats)
    assert sum(s.processed for s in stats) == sum(
        len(ingest.partitioner.of(e, world.event_area(e))) for e in events
    )


def test_restarted_ingest_publishes_what_a_crash_left_unpublished(
    namespace: Names, pg_fresh_url: str
) -> None:
    """Stored but never published (the process died between commit and publish, or
    another tool wrote the events): the next start publishes them, once."""
    world = load_world(FIXTURES / "world_small.yaml")
    store = Store.open(pg_fresh_url)
    store.save_world(world)
    events = district_events()[:20]
    store.add_events(events, at(0), areas=[world.event_area(e) for e in events])
    ingest = BusPipeline(store, NATS, partitions=2, scenarios=load_catalogue())
    assert ingest.published == 20
    ingest.close()
    again = BusPipeline(store, NATS, partitions=2, scenarios=load_catalogue())
    assert again.published == 0  # the mark moved after the stream's acknowledgement
    with pytest.raises(Exception, match="partitions=2"):
        BusPipeline(store, NATS, partitions=3, scenarios=load_catalogue())
    again.close()
    data = [item for m in asyncio.run(read_subject(namespace, "*")) for item in orjson.loads(m)]
    assert sorted(d["event"]["id"] for d in data) == sorted(
        e.id for e in events for _ in again.partitioner.of(e, world.event_area(e))
    )


def test_a_failed_publish_keeps_events_in_the_outbox(
    namespace: Names, pg_fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NATS unreachable for a moment: the events are committed, so the sender is told
    they are accepted; the next heartbeat publishes them, once."""
    world = load_world(FIXTURES / "world_small.yaml")
    store = Store.open(pg_fresh_url)
    store.save_world(world)
    ingest = BusPipeline(store, NATS, partitions=2, scenarios=load_catalogue())
    events = district_events()[:10]
    real = ingest._publish

    async def down(messages: dict[str, list[tuple[bytes, dict[str, str]]]]) -> None:
        raise ConnectionError("nats: no servers available for connection")

    monkeypatch.setattr(ingest, "_publish", down)
    assert {r.status for r in ingest.ingest(events)} == {"accepted"}
    assert store.event_count() == 10
    assert ingest.last_error is not None
    assert "no servers" in ingest.last_error
    monkeypatch.setattr(ingest, "_publish", real)
    ingest.tick()
    assert ingest.last_error is None
    ingest.close()
    published = [
        item["event"]["id"]
        for m in asyncio.run(read_subject(namespace, "*"))
        for item in orjson.loads(m)
    ]
    assert sorted(set(published)) == sorted(e.id for e in events)
    assert len(published) == sum(len(ingest.partitioner.of(e, world.event_area(e))) for e in events)


async def read_subject(names: Names, partition: str) -> list[bytes]:
    """Every message now in the stream for the subject (an ephemeral reader)."""
    import nats

    nc = await nats.connect(NATS)
    try:
        js = nc.jetstream()
        info = await js.stream_info(names.stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(names.stream, seq)
            out.append(msg.data)
        return out
    finally:
        await nc.close()


async def published(names: Names) -> int:
    """How many messages ingest has put in the stream (its last sequence number)."""
    import nats

    nc = await nats.connect(NATS)
    try:
        return int((await nc.jetstream().stream_info(names.stream)).state.last_seq)
    finally:
        await nc.close()


# ---------------------------------------------------------------------- issue 15, item 5
@pytest.mark.parametrize("partitions", [2, 3])
@pytest.mark.parametrize(
    ("lateness", "within"),
    [(0, 60), (600, 600)],
    ids=["lateness-0-late-events", "lateness-600-shuffled"],
)
def test_issue_15_workers_share_one_clock(
    namespace: Names,
    pg_fresh_url: str,
    tmp_path: Path,
    partitions: int,
    lateness: float,
    within: float,
) -> None:
    """Issue 15, item 5. Each worker's clock used to move with its own partition's
    events only: on the simulated district at lateness 0, two workers raised other
    alerts than one process (other events taken as late, timers fired later). With
    the stream's watermark in every message, two and three workers raise exactly the
    alerts one process raises — ids, opening and resolving times, counts, severity and
    evidence — on a seeded out-of-order stream: up to a minute out of order at
    lateness 0 (many events late), and anything within the lateness at 10 minutes."""
    scenarios = load_catalogue()
    events = shuffled(district_stream(), within, seed=15)
    expected = one_process(tmp_path, events, lateness, scenarios)
    assert len(expected) >= 10

    store = Store.open(pg_fresh_url)
    store.save_world(gongshu())
    ingest = BusPipeline(
        store, NATS, partitions=partitions, scenarios=scenarios, lateness_s=lateness
    )
    workers = [
        Running(
            Worker(
                Store.open(pg_fresh_url),
                NATS,
                partition=p,
                partitions=partitions,
                scenarios=scenarios,
                lateness_s=lateness,
                wall_clock=False,
            )
        )
        for p in range(partitions)
    ]
    try:
        for start in range(0, len(events), POST):
            ingest.ingest(events[start : start + POST])
        last = asyncio.run(published(namespace))
        wait_until(
            lambda: (
                all(w.check() for w in workers)
                and sum(w.worker.stats.received for w in workers) >= last
            ),
            "every message taken",
            DEADLINE_S,
        )
    finally:
        for w in workers:
            w.stop()  # the last snapshot stores what the last messages changed
            w.worker.store.close()
        ingest.close()
    assert seen(store.alerts(limit=None)) == expected
    store.close()


# ---------------------------------------------------------------------- finding 8
def recreate(url: str) -> None:
    """The database dropped and made again, as an operator does after losing it: the
    schema gone, the events' numbering back at 1 (the next ``Store.open`` migrates)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


async def queued(names: Names, url: str = NATS) -> int:
    """Messages the stream still holds (not yet acknowledged by a worker)."""
    import nats

    nc = await nats.connect(url)
    try:
        return int((await nc.jetstream().stream_info(names.stream)).state.messages)
    finally:
        await nc.close()


def one_process_alerts(tmp_path: Path, events: list[Event]) -> set[str]:
    alone = Store.open(f"sqlite:///{tmp_path / 'alone.db'}")
    alone.save_world(load_world(FIXTURES / "world_small.yaml"))
    LivePipeline(alone, scenarios=load_catalogue(), lateness_s=0).ingest(events)
    found = {a.id for a in alone.alerts(limit=None)}
    alone.close()
    return found


def test_finding_08_recreated_database_does_not_drop_events(
    namespace: Names, pg_fresh_url: str, tmp_path: Path
) -> None:
    """Issue 14, finding 8. A database recreated within the stream's 2-minute
    duplicate window numbers its events from 1 again. With message ids of sequence
    numbers alone the second life's messages had the first life's ids, the stream
    answered "duplicate", the publish mark moved on — every event acknowledged and
    stored, and the workers took none of them. Now the recreated database is another
    installation, its ids name it and its events, and its workers raise every alert."""
    world = load_world(FIXTURES / "world_small.yaml")
    scenarios = load_catalogue()
    events = district_events()
    expected = one_process_alerts(tmp_path, events)
    assert len(expected) >= 62

    def life() -> tuple[set[str], list[WorkerStats], BusPipeline]:
        store = Store.open(pg_fresh_url)
        store.save_world(world)
        ingest = BusPipeline(store, NATS, partitions=2, scenarios=scenarios)
        workers = running_workers(pg_fresh_url, 2, scenarios)
        try:
            for start in range(0, len(events), 10):
                results = ingest.ingest(events[start : start + 10])
                assert {r.status for r in results} == {"accepted"}
            wait_until(
                lambda: (
                    all(w.check() for w in workers)
                    and len(store.alerts(limit=None)) >= len(expected)
                ),
                "every alert",
                DEADLINE_S,
            )
        finally:
            stats = [w.stop() for w in workers]
            ingest.close()
            for w in workers:
                w.worker.store.close()
        alerts = {a.id for a in store.alerts(limit=None)}
        store.close()
        return alerts, stats, ingest

    first, _, ingest = life()
    assert first == expected
    wait_until(lambda: asyncio.run(queued(namespace)) == 0, "the workers acknowledged all")
    recreate(pg_fresh_url)
    second, stats, again = life()  # seconds later: well inside the duplicate window
    assert again.installation != ingest.installation
    assert second == expected
    routed = sum(len(again.partitioner.of(e, world.event_area(e))) for e in events)
    assert sum(s.processed for s in stats) == routed


def test_finding_08_a_stream_with_another_installations_messages_is_refused(
    namespace: Names, pg_fresh_url: str, tmp_path: Path
) -> None:
    """Two installations on one namespace (or a database recreated while its events
    were still queued): the second is told so and publishes nothing, instead of its
    workers taking the first one's events or the stream dropping its own."""
    world = load_world(FIXTURES / "world_small.yaml")
    first = Store.open(pg_fresh_url)
    first.save_world(world)
    ingest = BusPipeline(first, NATS, partitions=2, scenarios=load_catalogue())
    ingest.ingest(district_events()[:10])  # no workers: the messages stay queued
    ingest.close()
    assert asyncio.run(queued(namespace)) > 0
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
    other.save_world(world)
    with pytest.raises(BusError, match=f"installation {ingest.installation}"):
        BusPipeline(other, NATS, partitions=2, scenarios=load_catalogue())
    worker = Worker(other, NATS, partition=0, partitions=2, scenarios=load_catalogue())
    with pytest.raises(BusError, match="two installations on one namespace"):
        asyncio.run(worker.run(asyncio.Event()))
    assert other.load_engine_state("bus-published") is None


def test_a_snapshot_ahead_of_the_stream_is_refused(namespace: Names, tmp_path: Path) -> None:
    """The stream was deleted and made again (NATS' storage lost) while the workers'
    snapshots stayed: their stream numbers mean nothing in the new stream, and taking
    them would skip its first messages. The worker says so instead."""
    store = Store.open(f"sqlite:///{tmp_path / 'ahead.db'}")
    store.save_world(load_world(FIXTURES / "world_small.yaml"))

    def worker() -> Worker:
        return Worker(store, NATS, partition=0, partitions=2, scenarios=load_catalogue())

    before = worker()
    before.seq = 500  # where the old stream had got to
    before.snapshot()
    with pytest.raises(BusError, match="deleted and made again"):
        asyncio.run(worker().run(asyncio.Event()))


# ---------------------------------------------------------------------- real processes
class Cluster:
    """`cityeye serve --bus` and its workers as real processes on one database, each
    with a log file under ``logs``."""

    def __init__(self, db: str, logs: Path, *, bus: str = NATS, partitions: int = 2) -> None:
        self.args = ("--bus", bus, "--partitions", str(partitions), "--db", db)
        self.base = f"http://127.0.0.1:{free_port()}"
        self.logs = logs
        logs.mkdir(exist_ok=True)
        self.files: dict[str, IO[bytes]] = {}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def _log(self, name: str) -> IO[bytes]:
        if name not in self.files:
            self.files[name] = (self.logs / f"{name}.log").open("ab")
        return self.files[name]

    def text(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def serve(self) -> None:
        port = self.base.rsplit(":", 1)[1]
        proc = start_cityeye(
            "serve",
            *self.args,
            "--port",
            port,
            "--open-ingest",
            "--clock",
            "events",
            "--lateness",
            "0s",  # the workers' (the watermark judges lateness with it)
            log=self._log("serve"),
        )
        self.procs["serve"] = proc
        wait_until_serving(f"{self.base}/healthz", proc)

    def worker(self, p: int, *options: str) -> None:
        self.procs[f"w{p}"] = start_cityeye(
            "worker",
            *self.args,
            "--partition",
            str(p),
            "--clock",
            "events",
            "--lateness",
            "0s",
            *options,
            log=self._log(f"w{p}"),
        )

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait()

    def post(self, client: httpx.Client, body: bytes) -> set[str]:
        """Post until acknowledged, as a client re-sends what was not; a server that
        died is started again. The ids acknowledged."""
        while True:
            try:
                r = client.post(
                    f"{self.base}/api/v1/events",
                    content=body,
                    headers={"content-type": "application/x-ndjson"},
                )
            except httpx.TransportError:
                self.serve()
                continue
            assert r.status_code == 200, r.text
            return {x["id"] for x in r.json()["results"] if x["status"] != "rejected"}

    def check(self) -> bool:
        dead = [name for name, p in self.procs.items() if p.poll() is not None]
        assert not dead, f"died: {dead}"
        return True

    def stop(self) -> dict[str, int]:
        """SIGTERM to all (the workers' last snapshot and acknowledgements); exit codes."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {name: proc.wait(30) for name, proc in self.procs.items()}
        for f in self.files.values():
            f.close()
        return codes


# ---------------------------------------------------------------------- the kill test
REPORTS = 1500
BATCH = 25


def report_batch(start: int, end: int = REPORTS) -> bytes:
    lines = [
        orjson.dumps(
            {
                "id": f"k{i:05d}",
                "kind": "report.citizen",
                "ts": at(i / 10).isoformat(),
                "source": "app",
                "area": f"G000{1 + i % 3}",
                "attrs": {"category": ("garbage", "road", "water")[i % 3], "text": f"问题{i}"},
            }
        )
        for i in range(start, min(start + BATCH, end))
    ]
    return b"\n".join(lines)


@pytest.mark.parametrize("database", ["fresh", "recreated"])
def test_sigkill_of_server_and_worker_loses_nothing_and_doubles_nothing(
    namespace: Names, pg_fresh_url: str, tmp_path: Path, database: str
) -> None:
    """Resident reports are posted while the server and then a worker are killed with
    SIGKILL and restarted. The client re-sends whatever was not acknowledged. In the
    end every acknowledged report has exactly one alert and one case, the KPI
    counters count each once, and the restarted worker really had to re-read messages
    its killed self had already turned into cases.

    ``recreated``: the same reports went through this database once already, which
    was then dropped and made again moments before (issue 14, finding 8): the same
    event sequence numbers, inside the stream's duplicate window."""
    world = load_world(FIXTURES / "world_small.yaml")
    if database == "recreated":
        before = Store.open(pg_fresh_url)
        before.save_world(world)
        earlier = Cluster(pg_fresh_url, tmp_path / "before")
        try:
            earlier.serve()
            earlier.worker(0)
            earlier.worker(1)
            with httpx.Client(timeout=10) as client:
                for start in range(0, 300, BATCH):
                    earlier.post(client, report_batch(start, 300))
            wait_until(
                lambda: earlier.check() and len(before.load_cases()) >= 300,
                "the first life's cases",
                DEADLINE_S,
            )
        finally:
            earlier.stop()
        before.close()
        wait_until(lambda: asyncio.run(queued(namespace)) == 0, "the stream drained")
        recreate(pg_fresh_url)
    store = Store.open(pg_fresh_url)
    store.save_world(world)
    cluster = Cluster(pg_fresh_url, tmp_path / "logs")

    def cases_in(partition: int) -> int:
        return sum(1 for c in store.load_cases() if c.id.startswith(f"C{partition}-"))

    def in_snapshot(partition: int) -> int:
        """Cases in the worker's last snapshot (0 before its first)."""
        saved = store.load_engine_state(f"worker-{partition}-of-2")
        return 0 if saved is None else len(pickle.loads(saved[0])["book"]["cases"])

    # a snapshot every 200 events: a kill lands after work no snapshot holds
    snapshots = ("--snapshot-s", "600", "--snapshot-every", "200")
    acked: set[str] = set()
    try:
        cluster.serve()
        cluster.worker(0, *snapshots)
        cluster.worker(1, *snapshots)
        with httpx.Client(timeout=10) as client:
            for n, start in enumerate(range(0, REPORTS, BATCH)):
                if n == 20:  # mid-ingest: the server dies, committed or not
                    cluster.kill("serve")
                if n == 40:  # a worker dies with processed, unacknowledged messages
                    wait_until(
                        lambda: 0 < in_snapshot(0) < cases_in(0),
                        "worker 0 has cases its snapshot does not hold",
                        DEADLINE_S,
                    )
                    cluster.kill("w0")
                    cluster.worker(0, *snapshots)
                acked |= cluster.post(client, report_batch(start))

        wait_until(
            lambda: cluster.check() and len(store.load_cases()) >= REPORTS,
            f"{REPORTS} cases",
            deadline_s=120,
        )
    finally:
        cluster.stop()

    assert len(acked) == REPORTS
    alerts = [a for a in store.alerts(limit=None) if a.scenario == "citizen.report"]
    assert sorted(a.key for a in alerts) == sorted(f"app/{i}" for i in acked)  # once each
    cases = store.load_cases()
    assert sorted(c.key or "" for c in cases) == sorted(f"app/{i}" for i in acked)
    assert store.event_count() == REPORTS
    day = at(0).date()
    assert store.kpi_summary("all", "", day, day)["cases"] == REPORTS
    # the restarted worker resumed mid-stream, from the snapshot taken before the kill
    resumed = [
        int(x) for x in re.findall(r"resuming after stream message (\d+)", cluster.text("w0"))
    ]
    assert resumed[0] == 0
    assert resumed[1] > 0


# ---------------------------------------------------------------------- finding 12
def district_ndjson(events: list[Event]) -> list[bytes]:
    """The events as a device gateway posts them, ten a request."""
    return [
        b"\n".join(orjson.dumps(e.to_json()) for e in events[i : i + 10])
        for i in range(0, len(events), 10)
    ]


def test_finding_12_serve_bus_starts_while_nats_is_down(tmp_path: Path) -> None:
    """Issue 14, finding 12: with NATS down, ``serve --bus`` printed a connection
    traceback a second and never listened. Now it serves at once and acknowledges
    events (committed to the events table, the outbox), saying in one line per
    attempt that NATS is away; a worker waits for NATS instead of crash-looping, and
    stops cleanly when told. (No NATS needed: nothing listens on the port.)"""
    db = f"sqlite:///{tmp_path / 'down.db'}"
    seed = Store.open(db)
    seed.save_world(load_world(FIXTURES / "world_small.yaml"))
    seed.close()
    down = f"nats://127.0.0.1:{free_port()}"
    cluster = Cluster(db, tmp_path / "logs", bus=down)
    try:
        cluster.serve()
        cluster.worker(0)
        with httpx.Client(timeout=10) as client:
            assert httpx.get(f"{cluster.base}/healthz").status_code == 200
            acked = cluster.post(client, report_batch(0))
        assert len(acked) == BATCH
        wait_until(
            lambda: cluster.check() and cluster.text("w0").count("waiting, trying again") >= 2,
            "the worker waits for NATS, trying again",
            deadline_s=30,
        )
    finally:
        codes = cluster.stop()
    assert codes["w0"] == 0  # stopped when told, not crashed
    store = Store.open(db)
    assert store.event_count() == BATCH
    assert store.load_engine_state("bus-published") is None  # nothing claimed published
    serve_log = cluster.text("serve")
    assert "going on without it" in serve_log
    for name in ("serve", "w0"):
        assert "Traceback" not in cluster.text(name)


def nats_server(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """A private JetStream server on ``port``, its storage under ``tmp_path``."""
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not Path(binary).exists():
        message = "nats-server is not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    log = (tmp_path / "nats-server.log").open("ab")
    proc = subprocess.Popen(
        [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path / "js")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    return proc


def test_finding_12_the_backlog_is_published_when_nats_comes(
    pg_fresh_url: str, tmp_path: Path
) -> None:
    """NATS is down when serve and the workers start, and goes down again later:
    events are acknowledged all along, and each time NATS is back the outbox is
    published and the workers raise exactly the alerts one process raises."""
    events = district_events()
    store = Store.open(pg_fresh_url)
    store.save_world(load_world(FIXTURES / "world_small.yaml"))
    port = free_port()
    cluster = Cluster(pg_fresh_url, tmp_path / "logs", bus=f"nats://127.0.0.1:{port}")
    bodies = district_ndjson(events)
    half = len(bodies) // 2
    server: subprocess.Popen[bytes] | None = None
    acked: set[str] = set()
    try:
        cluster.serve()
        cluster.worker(0)
        cluster.worker(1)
        with httpx.Client(timeout=10) as client:
            for body in bodies[:half]:
                acked |= cluster.post(client, body)
            assert store.event_count() == len(acked)  # stored: the outbox
            server = nats_server(tmp_path, port)  # NATS comes
            wait_until(
                lambda: cluster.check() and store.load_engine_state("bus-published") is not None,
                "the backlog published",
                DEADLINE_S,
            )
            server.terminate()  # and goes again
            server.wait(10)
            for body in bodies[half:]:
                acked |= cluster.post(client, body)
            server = nats_server(tmp_path, port)  # and is back, with its stream
        # what one process raises from the same events (the ingest check may refuse
        # some of them, e.g. a kind the device does not send)
        expected = one_process_alerts(tmp_path, [e for e in events if e.id in acked])
        assert len(expected) >= 60
        wait_until(
            lambda: cluster.check() and len(store.alerts(limit=None)) >= len(expected),
            "every alert",
            DEADLINE_S,
        )
    finally:
        cluster.stop()
        if server is not None:
            server.terminate()
            server.wait(10)
    assert {a.id for a in store.alerts(limit=None)} == expected
    assert store.event_count() == len(acked)
    for name in ("serve", "w0", "w1"):
        assert "Traceback" not in cluster.text(name), cluster.text(name)
