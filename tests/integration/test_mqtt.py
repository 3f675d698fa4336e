"""MQTT ingest against the real Mosquitto at 127.0.0.1:1883: QoS 1 messages become
stored events, bad payloads dead letters with their exact bytes, Frigate detections
``camera.detection``; a message published while cityeye is down arrives after it
reconnects (persistent session); ``cityeye serve --mqtt`` takes events end to end.

Each test uses its own topic prefix and client ids, and wipes the broker sessions it
made, so tests do not see each other's messages."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from cityeye.ingest.mqtt import MqttIngest
from cityeye.ingest.mqtt_map import MqttMap, parse_mqtt_map
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world
from conftest import require_service
from kit import event_json, stored
from serving import free_port, start_serve, wait_until, wait_until_serving

pytestmark = pytest.mark.integration

HOST, PORT = "127.0.0.1", 1883
BROKER = f"mqtt://{HOST}:{PORT}"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DEADLINE_S = 10.0


@pytest.fixture
def prefix() -> str:
    require_service("mosquitto", HOST, PORT)
    return f"cityeye-test/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def publish() -> Iterator[Callable[[str, bytes], None]]:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
    client.connect(HOST, PORT)
    client.loop_start()

    def send(topic: str, payload: bytes) -> None:
        client.publish(topic, payload, qos=1).wait_for_publish(timeout=DEADLINE_S)

    yield send
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def pipeline(sqlite_store: Store) -> LivePipeline:
    sqlite_store.save_world(load_world(FIXTURES / "world_small.yaml"))
    return LivePipeline(sqlite_store)


@pytest.fixture
def subscribers(pipeline: LivePipeline) -> Iterator[Callable[..., MqttIngest]]:
    """Start subscribers; stop them and wipe their persistent sessions afterwards."""
    made: list[MqttIngest] = []

    def start(client_id: str, mapping: MqttMap | None = None, *topics: str) -> MqttIngest:
        ingest = MqttIngest(pipeline, BROKER, topics=topics, mapping=mapping, client_id=client_id)
        ingest.start()
        made.append(ingest)
        assert ingest.wait_ready(DEADLINE_S), "subscriber did not connect and subscribe"
        return ingest

    yield start
    for ingest in made:
        ingest.stop()
    for client_id in {i.client_id for i in made}:
        forget_session(client_id)


def forget_session(client_id: str) -> None:
    """A clean-session connect with the same id drops what the broker kept for it."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    client.connect(HOST, PORT)
    client.loop_start()
    client.disconnect()
    client.loop_stop()


def test_good_and_bad_payloads(
    prefix: str,
    publish: Callable[[str, bytes], None],
    pipeline: LivePipeline,
    subscribers: Callable[..., MqttIngest],
) -> None:
    ingest = subscribers(f"t-{uuid.uuid4().hex[:10]}", None, f"{prefix}/events/#")
    bad = b'{"id": "b1", "kind": "door.open", \xff\xfe not json'
    no_ts = orjson.dumps({"id": "b2", "kind": "door.open", "source": "gw"})
    publish(f"{prefix}/events/D1", event_json("good-1"))
    publish(f"{prefix}/events/bad", bad)
    publish(f"{prefix}/events/bad", no_ts)
    publish(f"{prefix}/events/D1", event_json("good-2", "smoke.alarm", device_id="D2"))
    publish(f"{prefix}/events/D1", event_json("good-1"))  # the same event again
    store = pipeline.store
    wait_until(lambda: ingest.stats["received"] == 5, "5 messages handled")
    assert set(stored(store)) == {"good-1", "good-2"}
    assert stored(store)["good-2"].device_id == "D2"
    letters = store.dead_letters()
    assert [(d.channel, d.ref, d.field, d.payload) for d in letters] == [
        ("mqtt", f"{prefix}/events/bad", "(json)", bad),
        ("mqtt", f"{prefix}/events/bad", "ts", no_ts),
    ]
    assert letters[1].reason.startswith("must be an ISO-8601 string")
    assert (ingest.stats["accepted"], ingest.stats["duplicate"], ingest.stats["rejected"]) == (
        2,
        1,
        2,
    )


def test_a_burst_of_bare_values_through_a_map(
    prefix: str,
    publish: Callable[[str, bytes], None],
    pipeline: LivePipeline,
    subscribers: Callable[..., MqttIngest],
) -> None:
    rules = parse_mqtt_map(
        {
            "rules": [
                {
                    "topic": f"{prefix}/sensors/+/door",
                    "format": "value",
                    "kind": "door.open",
                    "device": "{3}",
                }
            ]
        }
    )
    ingest = subscribers(f"t-{uuid.uuid4().hex[:10]}", rules)
    for _ in range(60):
        publish(f"{prefix}/sensors/D1/door", b"1")
    # the subscriber counts a message accepted once its commit has returned, a moment
    # after the rows are visible to another connection
    wait_until(
        lambda: pipeline.store.event_count() == 60 and ingest.stats["accepted"] == 60,
        "60 door openings stored and counted",
    )
    events = list(stored(pipeline.store).values())
    assert {(e.kind, e.device_id, e.source) for e in events} == {("door.open", "D1", "mqtt")}
    assert {e.attrs["value"] for e in events} == {1}


def test_a_frigate_detection_becomes_camera_detection(
    prefix: str,
    publish: Callable[[str, bytes], None],
    pipeline: LivePipeline,
    subscribers: Callable[..., MqttIngest],
) -> None:
    topic = f"{prefix}/frigate/events"
    rules = parse_mqtt_map(
        {
            "rules": [
                {
                    "topic": topic,
                    "format": "frigate",
                    "min_score": 0.7,
                    "snapshot_base": "http://nvr.local:5000",
                }
            ]
        }
    )
    ingest = subscribers(f"t-{uuid.uuid4().hex[:10]}", rules)
    after = {
        "id": "1790820000.475377-mxklsc",
        "camera": "front_door",
        "label": "person",
        "sub_label": None,
        "top_score": 0.95,
        "score": 0.9,
        "current_zones": ["zone1"],
        "entered_zones": ["zone1"],
        "start_time": 1790820000.475377,
        "end_time": None,
        "has_snapshot": True,
        "has_clip": True,
        "false_positive": False,
    }
    publish(topic, orjson.dumps({"type": "new", "before": after, "after": after}))
    publish(topic, orjson.dumps({"type": "update", "before": after, "after": after}))
    weak = after | {"id": "1790820001.0-weak", "top_score": 0.3, "score": 0.3}
    publish(topic, orjson.dumps({"type": "new", "before": weak, "after": weak}))
    wait_until(lambda: ingest.stats["received"] == 3, "3 Frigate messages handled")
    [event] = stored(pipeline.store).values()
    assert (event.id, event.kind, event.source, event.device_id) == (
        after["id"],
        "camera.detection",
        "frigate",
        "front_door",
    )
    assert event.attrs["label"] == "person"
    assert event.attrs["zone"] == "zone1"
    assert event.attrs["score"] == 0.95
    assert event.attrs["snapshot_url"] == (
        f"http://nvr.local:5000/api/events/{after['id']}/snapshot.jpg"
    )
    assert ingest.stats["dropped"] == 2
    assert pipeline.store.dead_letters() == []


def test_a_message_sent_while_down_arrives_after_reconnect(
    prefix: str,
    publish: Callable[[str, bytes], None],
    pipeline: LivePipeline,
    subscribers: Callable[..., MqttIngest],
) -> None:
    client_id = f"t-{uuid.uuid4().hex[:10]}"
    first = subscribers(client_id, None, f"{prefix}/events/#")
    publish(f"{prefix}/events/x", event_json("before-stop"))
    wait_until(lambda: pipeline.store.event_count() == 1, "the first event stored")
    first.stop()
    publish(f"{prefix}/events/x", event_json("while-down"))
    second = subscribers(client_id, None, f"{prefix}/events/#")
    wait_until(lambda: "while-down" in stored(pipeline.store), "the queued event delivered")
    assert set(stored(pipeline.store)) == {"before-stop", "while-down"}
    # the subscriber counts a batch just after its commit: the row can be seen first
    wait_until(lambda: second.stats["accepted"] == 1, "the second subscriber counted it")
    assert second.stats["accepted"] == 1


def test_serve_with_mqtt(
    prefix: str, publish: Callable[[str, bytes], None], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    client_id = f"t-{uuid.uuid4().hex[:10]}"
    port = free_port()
    proc = start_serve(
        "--db",
        url,
        "--port",
        str(port),
        "--mqtt",
        f"{BROKER}?client_id={client_id}",
        "--mqtt-topic",
        f"{prefix}/events/#",
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", proc)
        store = Store.open(url)
        try:
            # the subscription may still be on its way: publish until it lands
            def delivered() -> bool:
                publish(f"{prefix}/events/x", event_json("served-1"))
                return store.event_count() == 1

            wait_until(delivered, "the event stored by cityeye serve")
        finally:
            store.close()
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=20)[0].decode()
        forget_session(client_id)
    assert proc.returncode == 0, output
    assert f"as {client_id}, QoS 1: {prefix}/events/#" in output


def test_a_message_not_stored_is_not_acknowledged(
    prefix: str,
    publish: Callable[[str, bytes], None],
    pipeline: LivePipeline,
    subscribers: Callable[..., MqttIngest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The PUBACK goes out only after the commit: a message whose store failed is
    delivered again by the broker when the subscriber comes back."""
    attempts: list[int] = []

    def broken(events: object, indexes: object = ()) -> object:
        attempts.append(1)
        raise OSError("disk full")

    client_id = f"t-{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr(pipeline, "ingest", broken)
    first = subscribers(client_id, None, f"{prefix}/events/#")
    publish(f"{prefix}/events/x", event_json("unlucky"))
    wait_until(lambda: attempts, "a failed attempt to store")
    first.stop()  # gives up retrying: the message stays unacknowledged
    monkeypatch.undo()
    assert pipeline.store.event_count() == 0
    subscribers(client_id, None, f"{prefix}/events/#")
    wait_until(lambda: "unlucky" in stored(pipeline.store), "the unacked message redelivered")
