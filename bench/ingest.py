"""Benchmark of sustained ingest into ``cityeye serve`` over HTTP and MQTT (issue 5),
against a ceiling: the same messages through the same broker to a subscriber that only
counts them.

    .venv/bin/python bench/ingest.py [--events N] [--batch B] [--threads T] [--quick]

One run:

1. **HTTP**: loads ``tests/fixtures/world_small.yaml`` into a fresh SQLite database,
   starts ``cityeye serve --clock events --open-ingest`` as a subprocess (waits for
   ``/healthz``), and posts ``--events`` events as NDJSON batches of ``--batch`` from
   ``--threads`` client threads; per-request ack latency (the response comes after the
   commit) and events/s. At the end every accepted event must be in the server's DB.
2. **MQTT**: the same with ``--mqtt mqtt://127.0.0.1:1883 --mqtt-topic bench/<uuid>/#``;
   the events are published at QoS 1 (at most ``--inflight`` unacknowledged); events/s
   until all of them are in the DB, and publish→PUBACK latency (the broker's ack).
3. **Ceiling**: the same payloads published to the same broker, received at QoS 1 by a
   minimal paho subscriber in another process that only counts; events/s until it has
   them all.
4. **MQTT via NATS**: the same publisher and payloads at QoS 1 to the MQTT listener of a
   private nats-server (JetStream in the temp dir), ``cityeye serve --mqtt
   nats-mqtt://…`` reading them from JetStream in batches; events/s until all are in
   the DB (``--only-nats-mqtt``: this row alone).

Prints the table and the ratio cityeye MQTT / ceiling, and writes
``bench/results/ingest-<date>[-quick].json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import httpx
import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from cityeye.ingest import mqtt_wire
from cityeye.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine as engine_bench  # bench/ is not a package: its own directory is on the path

HERE = Path(__file__).parent
ROOT = HERE.parent
PYTHON = sys.executable
WORLD = ROOT / "tests" / "fixtures" / "world_small.yaml"
#: The broker of the run: a private Mosquitto started by the bench (see
#: :func:`private_broker`) unless ``--system-broker`` keeps the machine's on 1883.
BROKER = ["127.0.0.1", 1883]
TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 0, 0, tzinfo=TZ)

console = Console()


def progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def payloads(n: int, prefix: str) -> list[bytes]:
    """``n`` valid door events of device D1, ``ts`` increasing by 100 ms."""
    return [
        orjson.dumps(
            {
                "id": f"{prefix}-{i}",
                "kind": "door.open",
                "ts": (START + timedelta(milliseconds=100 * i)).isoformat(),
                "source": "bench",
                "device_id": "D1",
                "attrs": {},
            }
        )
        for i in range(n)
    ]


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` in ms, nearest rank."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served(NamedTuple):
    """A running ``cityeye serve``: its base URL, database URL and process."""

    base: str
    db: str
    proc: subprocess.Popen[bytes]


@contextmanager
def serve(
    tmp: Path,
    name: str,
    *extra: str,
    world: Path = WORLD,
    clock: str | None = "events",
    open_ingest: bool = True,
) -> Iterator[Served]:
    """A fresh database with ``world`` loaded and ``cityeye serve`` on it, with
    ``--clock clock`` (``None``: the service's default, the wall clock) and
    ``--open-ingest`` unless told otherwise; yields once ``/healthz`` answers."""
    db = f"sqlite:///{tmp / name}.db"
    subprocess.run(
        [PYTHON, "-m", "cityeye", "world", "load", str(world), "--db", db],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    port = free_port()
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen(
        [
            *(PYTHON, "-m", "cityeye", "serve", "--db", db, "--port", str(port)),
            *(("--clock", clock) if clock is not None else ()),
            *(("--open-ingest",) if open_ingest else ()),
            *extra,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"cityeye serve exited; see {tmp / name}.log")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("cityeye serve did not come up in 60 s")
            time.sleep(0.05)
        yield Served(base, db, proc)
    finally:
        stop(proc)
        log.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a clean stop), SIGKILL if it is not gone in 15 s."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def write_results(name: str, out: dict[str, Any]) -> Path:
    """``out`` as ``bench/results/<name>.json`` (the raw figures RESULTS.md cites)."""
    (HERE / "results").mkdir(exist_ok=True)
    path = HERE / "results" / f"{name}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def demo_world(path: Path) -> Path:
    """``cityeye world demo`` written to ``path`` (the benches' district); returns it."""
    subprocess.run(
        [PYTHON, "-m", "cityeye", "world", "demo", "--out", str(path)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return path


@contextmanager
def server(tmp: Path, name: str, *extra: str) -> Iterator[tuple[str, str]]:
    """A fresh database with the small world and ``cityeye serve --clock events
    --open-ingest`` on it; yields (base URL, database URL) once ``/healthz`` answers."""
    with serve(tmp, name, *extra) as served:
        yield served.base, served.db


def bench_http(
    tmp: Path, events: list[bytes], batch: int, threads: int, name: str = "http", *extra: str
) -> dict[str, Any]:
    batches: queue.Queue[bytes] = queue.Queue()
    for i in range(0, len(events), batch):
        batches.put(b"\n".join(events[i : i + batch]))
    n_batches = batches.qsize()
    latencies: list[float] = []
    counts: dict[str, int] = defaultdict(int)
    errors: list[str] = []
    lock = threading.Lock()
    with server(tmp, name, *extra) as (base, db), progress() as bar:
        task = bar.add_task(f"{name:6}", total=len(events))

        def client() -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                while True:
                    try:
                        body = batches.get_nowait()
                    except queue.Empty:
                        return
                    t0 = time.perf_counter()
                    r = http.post(
                        "/api/v1/events",
                        content=body,
                        headers={"content-type": "application/x-ndjson"},
                    )
                    elapsed = time.perf_counter() - t0
                    with lock:
                        latencies.append(elapsed)
                        if r.status_code != 200:
                            errors.append(f"{r.status_code}: {r.text[:200]}")
                            continue
                        result = r.json()
                        for key in ("accepted", "duplicate", "rejected"):
                            counts[key] += result[key]
                    bar.advance(task, body.count(b"\n") + 1)

        workers = [threading.Thread(target=client) for _ in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        seconds = time.perf_counter() - t0
        store = Store.open(db)
        stored = store.event_count()
        outbox = store.load_engine_state("bus-published")
        published_to = outbox[1] if outbox is not None else None
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, first: {errors[0]}")
    assert counts["accepted"] == len(events), dict(counts)
    assert stored == counts["accepted"], (stored, dict(counts))
    if extra:  # with --bus every stored event must be out on the stream by the ack
        assert published_to == stored, (published_to, stored)
    return {
        "events": len(events),
        "batch": batch,
        "threads": threads,
        "requests": n_batches,
        "seconds": round(seconds, 2),
        "events_per_s": round(len(events) / seconds),
        "ack_p50_ms": pct(latencies, 0.50),
        "ack_p99_ms": pct(latencies, 0.99),
        "ack_max_ms": round(max(latencies) * 1000, 2),
        "stored": stored,
        **dict(counts),
    }


def bench_bus(tmp: Path, events: list[bytes], batch: int, threads: int, url: str) -> dict[str, Any]:
    """HTTP into ``serve --bus`` (2 partitions, no workers: the ingest side alone):
    store, then publish to JetStream and wait for its PubAck before answering."""
    import asyncio
    import os

    import nats

    namespace = f"bench{uuid.uuid4().hex[:8]}"
    os.environ["CITYEYE_BUS_NAMESPACE"] = namespace
    try:
        return bench_http(tmp, events, batch, threads, "bus", "--bus", url, "--partitions", "2")
    finally:
        del os.environ["CITYEYE_BUS_NAMESPACE"]

        async def drop() -> None:
            nc = await nats.connect(url)
            with contextlib.suppress(Exception):
                await nc.jetstream().delete_stream(f"{namespace.upper()}_EVENTS")
            await nc.close()

        asyncio.run(drop())


class Publisher:
    """QoS 1 publisher with at most ``inflight`` unacknowledged messages; records the
    time from each publish call to its PUBACK."""

    def __init__(self, inflight: int, broker: tuple[str, int] | None = None) -> None:
        host, port = broker or (str(BROKER[0]), int(BROKER[1]))
        self.window = threading.Semaphore(inflight)
        self.sent: list[tuple[int, float]] = []
        self.acked: list[tuple[int, float]] = []
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4()}"
        )
        self.client.max_inflight_messages_set(inflight)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.connect(host, port)
        self.client.loop_start()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        self.acked.append((mid, time.perf_counter()))
        self.window.release()

    def publish(self, topic: str, payload: bytes) -> None:
        self.window.acquire()
        t0 = time.perf_counter()
        info = self.client.publish(topic, payload, qos=1)
        self.sent.append((info.mid, t0))

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < len(self.sent) and time.monotonic() < deadline:
            time.sleep(0.01)

    def latencies(self) -> list[float]:
        """Pair the k-th send of a message id with its k-th ack (ids wrap at 65535)."""
        acks: dict[int, list[float]] = defaultdict(list)
        for mid, t in self.acked:
            acks[mid].append(t)
        seen: dict[int, int] = defaultdict(int)
        out = []
        for mid, t0 in self.sent:
            k = seen[mid]
            seen[mid] += 1
            if k < len(acks[mid]):
                out.append(acks[mid][k] - t0)
        return out

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_all(
    events: list[bytes],
    topic: str,
    inflight: int,
    label: str,
    done: Any,
    broker: tuple[str, int] | None = None,
) -> tuple[float, Publisher]:
    """Publish every payload; return the start time and the publisher. ``done()`` is
    polled by the progress bar for how many have arrived at the far end."""
    pub = Publisher(inflight, broker)
    with progress() as bar:
        task = bar.add_task(label, total=len(events))
        t0 = time.perf_counter()
        for i, payload in enumerate(events):
            pub.publish(topic, payload)
            if i % 1000 == 0:
                bar.update(task, completed=done())
        pub.wait_all(30)
        bar.update(task, completed=done())
    return t0, pub


def wait_for(current: Any, n: int, stall_s: float) -> tuple[int, float]:
    """Poll ``current()`` until it reaches ``n`` or stops moving for ``stall_s``
    seconds (messages the broker dropped never come); return the last value."""
    value, moved = current(), time.perf_counter()
    while value < n and time.perf_counter() - moved < stall_s:
        time.sleep(0.02)
        now = current()
        if now != value:
            value, moved = now, time.perf_counter()
    return int(value), moved


def bench_mqtt(
    tmp: Path,
    events: list[bytes],
    inflight: int,
    deadline_s: float,
    *,
    via_nats: NatsMqttServer | None = None,
    c_publisher: bool = False,
) -> dict[str, Any]:
    """The same publisher and payloads into ``cityeye serve --mqtt``: paho subscribed
    to Mosquitto, or (``via_nats``) the batches of JetStream behind NATS's MQTT
    listener (``--mqtt nats-mqtt://``)."""
    topic = f"bench/{uuid.uuid4()}"
    if via_nats is None:
        name, label, broker = "mqtt", "MQTT  ", (str(BROKER[0]), int(BROKER[1]))
        url = f"mqtt://{broker[0]}:{broker[1]}"
    else:
        name, label, broker = "mqtt-nats", "NATS  ", ("127.0.0.1", via_nats.mqtt_port)
        url = f"nats-mqtt://127.0.0.1:{via_nats.port}"
    mqtt_args = ("--mqtt", url, "--mqtt-topic", f"{topic}/#")
    with server(tmp, name, *mqtt_args) as (_, db):
        store = Store.open(db)
        # the subscription is made in the background: publish a probe until it lands
        probe = Publisher(10, broker)
        limit = time.monotonic() + 60
        k = 0
        while store.event_count() == 0:
            if time.monotonic() > limit:
                raise RuntimeError("cityeye did not subscribe within 60 s")
            probe.publish(f"{topic}/probe", payloads(1, f"probe{k}")[0])
            k += 1
            time.sleep(0.1)
        probe.wait_all(10)
        probe.close()
        time.sleep(0.5)  # let late probes land before the baseline is taken
        base = store.event_count()
        if c_publisher:
            t0, publish_s, lat = publish_raw(mqtt_packets(events, f"{topic}/e"), inflight, broker)
        else:
            t0, pub = publish_all(
                events, f"{topic}/e", inflight, label, lambda: store.event_count() - base, broker
            )
            publish_s = max(t for _, t in pub.acked) - t0
            lat = pub.latencies()
            pub.close()
        stored, end = wait_for(lambda: store.event_count() - base, len(events), deadline_s)
        seconds = end - t0
    return {
        "events": len(events),
        "inflight": inflight,
        "stored": stored,
        "complete": stored == len(events),
        "seconds": round(seconds, 2),
        "events_per_s": round(stored / seconds),
        "publish_seconds": round(publish_s, 2),
        "puback_p50_ms": pct(lat, 0.50),
        "puback_p99_ms": pct(lat, 0.99),
        "publisher": "raw socket, pre-encoded" if c_publisher else "paho (Python)",
    }


def mqtt_packets(events: list[bytes], topic: str) -> list[bytes]:
    """Each payload as one MQTT 3.1.1 QoS 1 PUBLISH packet on ``topic`` (packet ids
    1..65535, wrapping), encoded before a run so that encoding is not measured."""
    return [mqtt_wire.publish(topic, payload, i % 65535 + 1) for i, payload in enumerate(events)]


def publish_raw(
    packets: list[bytes],
    inflight: int,
    broker: tuple[str, int],
    *,
    restamp: Callable[[bytes], bytes] | None = None,
) -> tuple[float, float, list[float]]:
    """Publish each payload as one MQTT 3.1.1 QoS 1 PUBLISH over a plain socket, at
    most ``inflight`` unacknowledged, and wait for every PUBACK: the packets are encoded
    before the clock starts (:func:`mqtt_packets`), so the publisher costs
    little CPU and measures what the transport takes when paho's per-message Python
    work is not the limit (paho tops out near 4,600 publishes/s here; ``mosquitto_pub
    -l`` drops what is queued at end of input). Returns the start time, the seconds
    until the last PUBACK and each message's time from its send to its PUBACK in seconds
    (a broker acknowledges one connection's QoS 1 messages in order). ``restamp``, if
    given, rewrites each window of packets just before it is sent (the live bench
    stamps pre-made events with the time they are sent; it must keep their length)."""
    sock = socket.create_connection(broker)
    client = f"bench-raw-{uuid.uuid4().hex[:8]}"
    sock.sendall(mqtt_wire.connect(client, keepalive=60, clean_session=True))
    connack = sock.recv(4)
    if connack[:1] != b"\x20" or connack[3:4] != b"\x00":
        raise RuntimeError(f"MQTT CONNECT refused: {connack!r}")
    n, sent, acked, buf = len(packets), 0, 0, b""
    sent_at = [0.0] * n
    latencies: list[float] = []
    t0 = time.perf_counter()
    while acked < n:
        window = min(n, acked + inflight)
        if sent < window:
            now = time.perf_counter()
            data = b"".join(packets[sent:window])
            sock.sendall(data if restamp is None else restamp(data))
            sent_at[sent:window] = [now] * (window - sent)
            sent = window
        data = sock.recv(1 << 16)
        if not data:
            raise RuntimeError(f"the broker closed the connection after {acked} PUBACKs")
        now = time.perf_counter()
        buf += data
        whole = len(buf) // 4
        if any(buf[k * 4] != 0x40 for k in range(whole)):
            raise RuntimeError("expected only PUBACKs")
        latencies += [now - at for at in sent_at[acked : acked + whole]]
        acked, buf = acked + whole, buf[whole * 4 :]
    seconds = time.perf_counter() - t0
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    return t0, seconds, latencies


def count_subscriber(
    broker: tuple[str, int], topic: str, n: int, ready: Any, count: Any, last: Any
) -> None:
    """In its own process: subscribe at QoS 1, count, note the time of the n-th."""

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(topic, qos=1)

    def on_subscribe(client: Any, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        ready.set()

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        count.value += 1
        if count.value == n:
            last.value = time.perf_counter()

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-count-{uuid.uuid4()}")
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(*broker)
    client.loop_forever()


def bench_ceiling(events: list[bytes], inflight: int, deadline_s: float) -> dict[str, Any]:
    topic = f"bench/{uuid.uuid4()}"
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    count = ctx.Value("q", 0, lock=False)
    last = ctx.Value("d", 0.0, lock=False)
    proc = ctx.Process(
        target=count_subscriber,
        args=((str(BROKER[0]), int(BROKER[1])), f"{topic}/#", len(events), ready, count, last),
    )
    proc.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("counting subscriber did not subscribe within 30 s")
        t0, pub = publish_all(events, f"{topic}/e", inflight, "ceiling", lambda: count.value)
        received, end = wait_for(lambda: int(count.value), len(events), deadline_s)
        if received >= len(events):
            end = last.value
        publish_s = max(t for _, t in pub.acked) - t0
        lat = pub.latencies()
        pub.close()
    finally:
        proc.terminate()
        proc.join(10)
    seconds = end - t0
    return {
        "events": len(events),
        "inflight": inflight,
        "received": received,
        "complete": received >= len(events),
        "seconds": round(seconds, 2),
        "events_per_s": round(received / seconds),
        "publish_seconds": round(publish_s, 2),
        "puback_p50_ms": pct(lat, 0.50),
        "puback_p99_ms": pct(lat, 0.99),
    }


class NatsMqttServer(NamedTuple):
    """A private nats-server: its client port and its MQTT port."""

    port: int
    mqtt_port: int


@contextmanager
def private_nats_mqtt(tmp: Path) -> Iterator[NatsMqttServer]:
    """A nats-server of the bench's own with JetStream (file store in ``tmp``) and an
    MQTT listener: the configuration docs/ingest.md gives operators."""
    port, mqtt_port = free_port(), free_port()
    conf = tmp / "nats-mqtt.conf"
    conf.write_text(
        f'server_name: "cityeye-bench"\nlisten: "127.0.0.1:{port}"\n'
        f'jetstream {{ store_dir: "{tmp / "nats-js"}" }}\n'
        f'mqtt {{ listen: "127.0.0.1:{mqtt_port}" }}\n'
    )
    binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
    with (tmp / "nats-mqtt.log").open("wb") as log:
        proc = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        end = time.monotonic() + 10
        for p in (port, mqtt_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", p), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > end:
                        raise SystemExit("could not start a private nats-server") from None
                    time.sleep(0.05)
        yield NatsMqttServer(port, mqtt_port)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def machine() -> str:
    """One line of the machine facts the engine benchmark records."""
    m = engine_bench.machine()
    mem = f", {m['memory_bytes'] / 2**30:.0f} GiB" if m["memory_bytes"] else ""
    return f"{m['cpu']}, {m['cores']} cores{mem}, Python {m['python']}"


@contextmanager
def private_broker(tmp: Path) -> Iterator[None]:
    """A Mosquitto of the bench's own with production queue settings: the default
    ``max_queued_messages 1000`` drops QoS 1 messages for a subscriber that falls
    behind a burst (docs/ingest.md), which would measure the broker's config, not
    cityeye."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    conf = tmp / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 1000\n"
        f"log_dest file {tmp / 'mosquitto.log'}\n"
    )
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > end:
                    raise SystemExit("could not start a private mosquitto") from None
                time.sleep(0.05)
        BROKER[:] = ["127.0.0.1", port]
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log = tmp / "mosquitto.log"
        dropped = log.read_text().count("dropped") if log.exists() else 0
        if dropped:
            console.print(f"[red]the private broker logged {dropped} dropping episodes[/]")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500, help="events per HTTP request")
    parser.add_argument("--threads", type=int, default=3, help="HTTP client threads")
    parser.add_argument("--inflight", type=int, default=1000, help="MQTT unacked publishes")
    parser.add_argument(
        "--deadline",
        type=float,
        default=15,
        help="MQTT: give up after this many seconds without progress",
    )
    parser.add_argument("--quick", action="store_true", help="20,000 events")
    parser.add_argument(
        "--bus", default="nats://127.0.0.1:4222", help="NATS JetStream for the bus row"
    )
    parser.add_argument("--no-bus", action="store_true", help="skip the bus row")
    parser.add_argument(
        "--no-nats-mqtt", action="store_true", help="skip the MQTT-through-NATS row"
    )
    parser.add_argument(
        "--only-nats-mqtt", action="store_true", help="only the MQTT-through-NATS row"
    )
    parser.add_argument(
        "--raw-publisher",
        action="store_true",
        help="publish from a raw socket with pre-encoded packets instead of paho",
    )
    parser.add_argument(
        "--system-broker",
        action="store_true",
        help="use the machine's Mosquitto on 1883 (its own config) instead of a private one",
    )
    args = parser.parse_args()
    if args.quick:
        args.events = 20_000
    n = args.events
    if args.only_nats_mqtt:  # the row alone, while working on that path
        with tempfile.TemporaryDirectory(prefix="cityeye-ingest-") as tmp_name:
            tmp = Path(tmp_name)
            with private_nats_mqtt(tmp) as nats_mqtt:
                row = bench_mqtt(
                    tmp,
                    payloads(n, "n"),
                    args.inflight,
                    args.deadline,
                    via_nats=nats_mqtt,
                    c_publisher=args.raw_publisher,
                )
        console.print_json(data=row)
        return
    with tempfile.TemporaryDirectory(prefix="cityeye-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        http = bench_http(tmp, payloads(n, "h"), args.batch, args.threads)
        bus = None
        if not args.no_bus:
            bus = bench_bus(tmp, payloads(n, "b"), args.batch, args.threads, args.bus)
        with contextlib.nullcontext() if args.system_broker else private_broker(tmp):
            mqtt = bench_mqtt(tmp, payloads(n, "m"), args.inflight, args.deadline)
            ceiling = bench_ceiling(payloads(n, "c"), args.inflight, args.deadline)
        via_nats = None
        if not args.no_nats_mqtt:
            with private_nats_mqtt(tmp) as nats_mqtt:
                via_nats = bench_mqtt(
                    tmp, payloads(n, "n"), args.inflight, args.deadline, via_nats=nats_mqtt
                )
    ratio = round(mqtt["events_per_s"] / ceiling["events_per_s"], 3)
    out = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "database": "SQLite",
        "broker": "system (127.0.0.1:1883)" if args.system_broker else "private mosquitto",
        "events": n,
        "http": http,
        "http_bus": bus,
        "ratio_bus_to_http": round(bus["events_per_s"] / http["events_per_s"], 3) if bus else None,
        "mqtt": mqtt,
        "ceiling": ceiling,
        "ratio_mqtt_to_ceiling": ratio,
        "mqtt_via_nats": via_nats,
        "ratio_nats_to_paho_mqtt": (
            round(via_nats["events_per_s"] / mqtt["events_per_s"], 2) if via_nats else None
        ),
    }
    table = Table(title=f"ingest of {n:,} events ({out['machine']}, SQLite)")
    for col in ("path", "events/s", "seconds", "ack p50 ms", "ack p99 ms", "stored / received"):
        table.add_column(col, justify="left" if col == "path" else "right")
    table.add_row(
        f"cityeye HTTP ({args.threads} threads × {args.batch}/request)",
        f"{http['events_per_s']:,}",
        str(http["seconds"]),
        str(http["ack_p50_ms"]),
        str(http["ack_p99_ms"]),
        f"{http['stored']:,}",
    )
    if bus is not None:
        table.add_row(
            "cityeye HTTP --bus (stored + JetStream PubAck)",
            f"{bus['events_per_s']:,}",
            str(bus["seconds"]),
            str(bus["ack_p50_ms"]),
            str(bus["ack_p99_ms"]),
            f"{bus['stored']:,}",
        )
    table.add_row(
        "cityeye MQTT QoS 1 (until in the DB)",
        f"{mqtt['events_per_s']:,}",
        str(mqtt["seconds"]),
        str(mqtt["puback_p50_ms"]),
        str(mqtt["puback_p99_ms"]),
        f"{mqtt['stored']:,}",
    )
    table.add_row(
        "ceiling: Mosquitto → counting subscriber",
        f"{ceiling['events_per_s']:,}",
        str(ceiling["seconds"]),
        str(ceiling["puback_p50_ms"]),
        str(ceiling["puback_p99_ms"]),
        f"{ceiling['received']:,}",
    )
    if via_nats is not None:
        table.add_row(
            "cityeye MQTT QoS 1 via NATS → JetStream batches (until in the DB)",
            f"{via_nats['events_per_s']:,}",
            str(via_nats["seconds"]),
            str(via_nats["puback_p50_ms"]),
            str(via_nats["puback_p99_ms"]),
            f"{via_nats['stored']:,}",
        )
    console.print(table)
    if bus is not None:
        console.print(f"HTTP with --bus / without = {out['ratio_bus_to_http']:.2f}")
    console.print(
        f"cityeye MQTT / ceiling = {ratio:.2f}; MQTT ack = PUBACK from the broker, "
        "HTTP ack = response after commit"
    )
    if via_nats is not None:
        console.print(f"MQTT via NATS / paho MQTT = {out['ratio_nats_to_paho_mqtt']:.2f}")
    if not mqtt["complete"] or not ceiling["complete"] or (via_nats and not via_nats["complete"]):
        console.print("[red]not every MQTT message arrived before the deadline[/red]")
    suffix = "-quick" if args.quick else ""
    path = write_results(f"ingest-{out['date']}{suffix}", out)
    console.print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
