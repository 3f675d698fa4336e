"""MQTT through NATS (``--mqtt nats-mqtt://``) against a real nats-server with its MQTT
listener and JetStream, started by each test in its temp dir on free ports, and a real
paho publisher at QoS 1: events arrive in the store exactly once, bad payloads are
dead-lettered with their reason while the rest go on, the topic map applies, and a
nats-server or a ``cityeye serve`` killed with SIGKILL mid-stream and restarted loses
nothing and doubles nothing.

Without the nats-server binary the tests skip on a laptop and fail under ``CI=true``."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cityeye.ingest.mqtt_map import parse_mqtt_map
from cityeye.ingest.mqtt_nats import (
    NatsMqttIngest,
    filter_subjects,
    parse_nats_mqtt_url,
    subject_topic,
    subjects_for,
)
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world
from kit import event_json, stored
from serving import free_port, start_cityeye, start_serve, wait_until, wait_until_serving

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEADLINE_S = 20.0


class NatsMqtt:
    """A private nats-server: JetStream under ``root`` and an MQTT listener; SIGKILL
    and restart keep its ports and its store."""

    def __init__(self, root: Path) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(binary).exists():
            message = "nats-server is not installed (apt-get install nats-server)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"CI=true and {message}")
            pytest.skip(message)
        self.binary, self.root = binary, root
        self.port, self.mqtt_port = free_port(), free_port()
        self.conf = root / "nats.conf"
        self.conf.write_text(
            f'server_name: "cityeye-test"\nlisten: "127.0.0.1:{self.port}"\n'
            f'jetstream {{ store_dir: "{root / "js"}" }}\n'
            f'mqtt {{ listen: "127.0.0.1:{self.mqtt_port}" }}\n'
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"nats-mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        with (self.root / "nats.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
            )
        end = time.monotonic() + DEADLINE_S
        for port in (self.port, self.mqtt_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert self.proc.poll() is None, (self.root / "nats.log").read_text()
                    assert time.monotonic() < end, f"nats-server not listening on {port}"
                    time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def nats(tmp_path: Path) -> Iterator[NatsMqtt]:
    server = NatsMqtt(tmp_path)
    yield server
    server.stop()


class Publisher:
    """A paho client publishing at QoS 1; it reconnects by itself and sends again
    what the server had not acknowledged."""

    def __init__(self, port: int) -> None:
        self.acked = 0
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}"
        )
        self.client.max_inflight_messages_set(100)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_publish(self, *_: object) -> None:
        self.acked += 1

    def send(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(nats: NatsMqtt) -> Iterator[Publisher]:
    pub = Publisher(nats.mqtt_port)
    yield pub
    pub.close()


@pytest.fixture
def pipeline(sqlite_store: Store) -> LivePipeline:
    sqlite_store.save_world(load_world(FIXTURES / "world_small.yaml"))
    return LivePipeline(sqlite_store)


def ingest_of(
    pipeline: LivePipeline, nats: NatsMqtt, *topics: str, **kwargs: object
) -> NatsMqttIngest:
    ingest = NatsMqttIngest(pipeline, nats.url, topics=topics, **kwargs)  # type: ignore[arg-type]
    ingest.start()
    assert ingest.wait_ready(DEADLINE_S), "cityeye did not bind its consumers"
    return ingest


def test_topics_become_the_subjects_nats_server_stores_them_under() -> None:
    # as nats-server 2.x converts them (checked against the running server below)
    assert filter_subjects("district/+/events") == ["$MQTT.msgs.district.*.events"]
    assert filter_subjects("cityeye/events/#") == [
        "$MQTT.msgs.cityeye.events",
        "$MQTT.msgs.cityeye.events.>",
    ]
    assert subject_topic("$MQTT.msgs.a./.b") == "a//b"
    assert subject_topic("$MQTT.msgs./.lead") == "/lead"
    assert subject_topic("$MQTT.msgs.v2//10.x") == "v2.10/x"  # nats-server ≥ 2.10
    assert subjects_for(["a/#", "a/b/+"]) == ["$MQTT.msgs.a", "$MQTT.msgs.a.>"]
    with pytest.raises(ValueError, match="space"):
        subjects_for(["a b/c"])
    url = parse_nats_mqtt_url("nats-mqtt://u:p%40ss@nats.local?durable=hz-1")
    assert (url.nats_url, url.durable) == ("nats://u:p%40ss@nats.local:4222", "hz-1")
    assert "p%40ss" not in str(url)
    with pytest.raises(ValueError, match="durable"):
        parse_nats_mqtt_url("nats-mqtt://h?durable=a.b")


def test_qos1_events_arrive_in_the_store_exactly_once(
    nats: NatsMqtt, publisher: Publisher, pipeline: LivePipeline
) -> None:
    ingest = ingest_of(pipeline, nats, "district/+/events")
    n = 3000
    for i in range(n):
        publisher.send(f"district/{i % 7}/events", event_json(f"e-{i}", attrs={"n": i}))
    for i in range(0, n, 10):  # a device sending again what it sent
        publisher.send(f"district/{i % 7}/events", event_json(f"e-{i}", attrs={"n": i}))
    publisher.send("elsewhere/events", event_json("not-ours"))
    total = n + n // 10
    wait_until(lambda: ingest.stats["received"] >= total, f"{total} messages", DEADLINE_S)
    ingest.stop()
    assert set(stored(pipeline.store)) == {f"e-{i}" for i in range(n)}
    assert pipeline.store.event_count() == n
    assert (ingest.stats["accepted"], ingest.stats["duplicate"]) == (n, n // 10)
    assert ingest.stats["received"] == total  # nothing delivered twice, nothing else


def test_bad_payloads_are_dead_lettered_and_the_map_applies(
    nats: NatsMqtt, publisher: Publisher, pipeline: LivePipeline
) -> None:
    rules = parse_mqtt_map(
        {
            "rules": [
                {
                    "topic": "sensors/+/door",
                    "format": "value",
                    "kind": "door.open",
                    "device": "{1}",
                },
                {"topic": "gw/#", "kind": "smoke.alarm", "source": "gw-{1}"},
            ]
        }
    )
    ingest = ingest_of(pipeline, nats, mapping=rules)
    bad = b'{"id": "b1", "kind": "door.open", \xff\xfe not json'
    no_ts = orjson.dumps({"id": "b2", "kind": "door.open", "source": "gw"})
    publisher.send("gw/north", bad)
    for _ in range(5):
        publisher.send("sensors/D1/door", b"1")
    publisher.send("gw/north", no_ts)
    publisher.send("gw/north", orjson.dumps({"id": "g1", "ts": "2026-10-01T10:00:00+08:00"}))
    publisher.send(
        "gw", orjson.dumps({"id": "g0", "ts": "2026-10-01T10:00:00+08:00", "source": "gw-root"})
    )
    wait_until(lambda: ingest.stats["received"] == 9, "9 messages handled", DEADLINE_S)
    ingest.stop()
    events = stored(pipeline.store)
    doors = [e for e in events.values() if e.kind == "door.open"]
    assert len(doors) == 5  # a bare "1" each time is an opening each time
    assert {(e.device_id, e.source, e.attrs["value"]) for e in doors} == {("D1", "mqtt", 1)}
    assert (events["g1"].kind, events["g1"].source) == ("smoke.alarm", "gw-north")
    assert "g0" in events  # gw/# takes gw itself, as in MQTT
    letters = pipeline.store.dead_letters()
    assert [(d.channel, d.ref, d.field, d.payload) for d in letters] == [
        ("mqtt", "gw/north", "(json)", bad),
        ("mqtt", "gw/north", "ts", no_ts),
    ]
    assert letters[1].reason.startswith("must be an ISO-8601 string")
    assert ingest.stats["rejected"] == 2


def test_messages_published_while_cityeye_is_down_wait_for_it(
    nats: NatsMqtt, publisher: Publisher, pipeline: LivePipeline
) -> None:
    first = ingest_of(pipeline, nats, "district/+/events", client_id="hz")
    first.stop()
    for i in range(50):
        publisher.send("district/1/events", event_json(f"w-{i}"))
    wait_until(lambda: publisher.acked == 50, "50 PUBACKs")
    second = ingest_of(pipeline, nats, "district/+/events", client_id="hz")
    wait_until(lambda: pipeline.store.event_count() == 50, "the 50 kept for cityeye")
    second.stop()


def test_sigkill_of_nats_server_and_of_cityeye_loses_nothing_and_doubles_nothing(
    nats: NatsMqtt, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    loaded = start_cityeye("world", "load", str(FIXTURES / "world_small.yaml"), "--db", db)
    assert loaded.wait(60) == 0
    port = free_port()
    log = (tmp_path / "serve.log").open("ab")

    def serve() -> subprocess.Popen[bytes]:
        proc = start_cityeye(
            *("serve", "--db", db, "--port", str(port), "--clock", "events"),
            *("--mqtt", nats.url, "--mqtt-topic", "district/+/events"),
            log=log,
        )
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", proc)
        return proc

    store = Store.open(db)
    server = serve()
    n = 6000
    pub = Publisher(nats.mqtt_port)
    counted: list[int] = []

    def publish_all() -> None:
        for i in range(n):  # paho keeps at most 100 in flight: a stream, not one burst
            pub.send(f"district/{i % 5}/events", event_json(f"k-{i}", attrs={"n": i}))

    feeder = threading.Thread(target=publish_all)
    try:
        # cityeye binds its consumer in the background: wait until it takes events
        wait_until(lambda: consumer_ready(store, pub), "cityeye consuming", DEADLINE_S)
        feeder.start()
        wait_until(lambda: store.event_count() > 1000, "a first part stored", DEADLINE_S)
        nats.kill()  # mid-stream: PUBACKs and acks in flight are lost
        counted.append(store.event_count())
        nats.start()
        wait_until(lambda: store.event_count() > counted[0] + 1000, "going on", 60)
        server.send_signal(signal.SIGKILL)  # mid-stream: a batch fetched, not acked
        server.wait(10)
        server = serve()
        feeder.join(120)
        wait_until(lambda: pub.acked >= n, "every publish acknowledged", 60)
        wait_until(lambda: store.event_count() >= n + 1, "every event stored", 90)
    finally:
        pub.close()
        server.send_signal(signal.SIGINT)
        server.wait(20)
        log.close()
    ids = {e.id for _, e, _ in store.events_after(0)}
    assert {f"k-{i}" for i in range(n)} <= ids
    assert store.event_count() == n + 1  # and the probe: nothing twice
    store.close()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def consumer_ready(store: Store, pub: Publisher) -> bool:
    """Publish one probe; true once it is stored (the consumer exists from then on)."""
    if store.event_count() == 0:
        pub.send("district/0/events", event_json("probe"))
    return store.event_count() > 0


def test_serve_names_the_transport(nats: NatsMqtt, tmp_path: Path) -> None:
    port = free_port()
    proc = start_serve(
        *("--db", f"sqlite:///{tmp_path / 'c.db'}", "--port", str(port)),
        *("--mqtt", f"{nats.url}?durable=hz", "--mqtt-topic", "district/+/events"),
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", proc)
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 0, output
    assert f"nats-mqtt via nats://127.0.0.1:{nats.port} as hz" in output
