"""Scale-out over the real NATS JetStream at 127.0.0.1:4222 and a real PostgreSQL.

Ingest stores and publishes; partitioned workers analyse. Three workers over the bus
must raise exactly the alerts and open exactly the cases one process raises and opens,
each key's state in one partition only. Each test runs in a namespace of its own (its
own stream and subjects) and deletes the stream afterwards."""

from __future__ import annotations

import asyncio
import pickle
import re
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from cityeye.bus import NAMESPACE_ENV, BusPipeline, Names, Worker, WorkerStats, partition_of
from cityeye.domain import Event, parse_event
from cityeye.pipeline import LivePipeline
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.world import load_world
from conftest import require_service
from kit import at
from serving import free_port, start_cityeye, wait_until, wait_until_serving

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
    workers = [
        Running(
            Worker(
                Store.open(pg_fresh_url),
                NATS,
                partition=p,
                partitions=3,
                scenarios=scenarios,
                lateness_s=0,
                wall_clock=False,
            )
        )
        for p in range(3)
    ]
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

    async def down(messages: list[tuple[str, bytes, str]]) -> None:
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


# ---------------------------------------------------------------------- the kill test
REPORTS = 1500
BATCH = 25


def report_batch(start: int) -> bytes:
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
        for i in range(start, min(start + BATCH, REPORTS))
    ]
    return b"\n".join(lines)


def test_sigkill_of_server_and_worker_loses_nothing_and_doubles_nothing(
    namespace: Names, pg_fresh_url: str, tmp_path: Path
) -> None:
    """Resident reports are posted while the server and then a worker are killed with
    SIGKILL and restarted. The client re-sends whatever was not acknowledged. In the
    end every acknowledged report has exactly one alert and one case, the KPI
    counters count each once, and the restarted worker really had to re-read messages
    its killed self had already turned into cases."""
    store = Store.open(pg_fresh_url)
    store.save_world(load_world(FIXTURES / "world_small.yaml"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("serve", "w0", "w1")}
    bus = ("--bus", NATS, "--partitions", "2", "--db", pg_fresh_url)

    def serve() -> subprocess.Popen[bytes]:
        proc = start_cityeye(
            "serve",
            *bus,
            "--port",
            str(port),
            "--open-ingest",
            "--clock",
            "events",
            log=logs["serve"],
        )
        wait_until_serving(f"{base}/healthz", proc)
        return proc

    def worker(p: int) -> subprocess.Popen[bytes]:
        # a snapshot every 200 events: a kill lands after work no snapshot holds
        return start_cityeye(
            "worker",
            *bus,
            "--partition",
            str(p),
            "--clock",
            "events",
            "--lateness",
            "0s",
            "--snapshot-s",
            "600",
            "--snapshot-every",
            "200",
            log=logs[f"w{p}"],
        )

    def cases_in(partition: int) -> int:
        return sum(1 for c in store.load_cases() if c.id.startswith(f"C{partition}-"))

    def in_snapshot(partition: int) -> int:
        """Cases in the worker's last snapshot (0 before its first)."""
        saved = store.load_engine_state(f"worker-{partition}-of-2")
        return 0 if saved is None else len(pickle.loads(saved[0])["book"]["cases"])

    procs = {"serve": serve(), "w0": worker(0), "w1": worker(1)}
    acked: set[str] = set()
    try:
        with httpx.Client(timeout=10) as client:
            for n, start in enumerate(range(0, REPORTS, BATCH)):
                if n == 20:  # mid-ingest: the server dies, committed or not
                    procs["serve"].send_signal(signal.SIGKILL)
                    procs["serve"].wait()
                if n == 40:  # a worker dies with processed, unacknowledged messages
                    wait_until(
                        lambda: 0 < in_snapshot(0) < cases_in(0),
                        "worker 0 has cases its snapshot does not hold",
                        DEADLINE_S,
                    )
                    procs["w0"].send_signal(signal.SIGKILL)
                    procs["w0"].wait()
                    procs["w0"] = worker(0)
                body = report_batch(start)
                while True:  # a client re-sends until it is acknowledged
                    try:
                        r = client.post(
                            f"{base}/api/v1/events",
                            content=body,
                            headers={"content-type": "application/x-ndjson"},
                        )
                    except httpx.TransportError:
                        procs["serve"] = serve()
                        continue
                    assert r.status_code == 200, r.text
                    acked |= {x["id"] for x in r.json()["results"] if x["status"] != "rejected"}
                    break

        def all_cases() -> bool:
            assert all(p.poll() is None for p in procs.values()), "a process died"
            return len(store.load_cases()) >= REPORTS

        wait_until(all_cases, f"{REPORTS} cases", deadline_s=120)
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            proc.wait(30)
        for log in logs.values():
            log.close()

    assert len(acked) == REPORTS
    alerts = [a for a in store.alerts(limit=None) if a.scenario == "citizen.report"]
    assert sorted(a.key for a in alerts) == sorted(f"app/{i}" for i in acked)  # once each
    cases = store.load_cases()
    assert sorted(c.key or "" for c in cases) == sorted(f"app/{i}" for i in acked)
    assert store.event_count() == REPORTS
    day = at(0).date()
    assert store.kpi_summary("all", "", day, day)["cases"] == REPORTS
    # the restarted worker resumed mid-stream, from the snapshot taken before the kill
    log0 = (tmp_path / "w0.log").read_text()
    resumed = [int(x) for x in re.findall(r"resuming after stream message (\d+)", log0)]
    assert resumed[0] == 0
    assert resumed[1] > 0
