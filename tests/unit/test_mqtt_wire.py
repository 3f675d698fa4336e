"""cityeye's own MQTT 3.1.1 subscriber (issue 15) against a broker of the test's own
that speaks the protocol over a real socket: packets cut at any boundary are read
whole; PUBACKs leave only after the batch is stored, in the order the messages came;
an idle connection is kept alive with PINGREQ; a refused or dropped connection is
tried again and the session picks up. The real Mosquitto runs the rest
(tests/integration/test_mqtt.py)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityeye.ingest import mqtt_wire
from cityeye.ingest.mqtt import MqttIngest
from cityeye.ingest.mqtt_wire import Other, ProtocolError, Publish, Reader
from cityeye.live.pipeline import LivePipeline
from cityeye.store import Store
from cityeye.world import load_world
from kit import event_json, stored
from serving import wait_until

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


# --------------------------------------------------------------------- the reader

messages = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=30).filter(lambda t: "\x00" not in t),
        st.binary(max_size=400),
        st.integers(1, 65535),
        st.integers(0, 1),
        st.booleans(),
    ),
    max_size=20,
)


@given(messages, st.lists(st.integers(1, 50), max_size=60))
def test_packets_cut_anywhere_are_read_whole(
    sent: list[tuple[str, bytes, int, int, bool]], cuts: list[int]
) -> None:
    data = b"".join(mqtt_wire.publish(t, p, m, qos=q, retain=r) for t, p, m, q, r in sent)
    data += b"\xd0\x00"  # a PINGRESP at the end
    reader, got, at = Reader(), [], 0
    for size in cuts:
        got += reader.feed(data[at : at + size])
        at += size
    got += reader.feed(data[at:])
    want = [Publish(t, p, m if q else 0, q, r) for t, p, m, q, r in sent]
    assert got == [*want, Other(mqtt_wire.PINGRESP, b"")]


def test_a_length_of_five_bytes_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="remaining length"):
        Reader().feed(b"\x30\xff\xff\xff\xff\x01")


def test_a_qos_3_publish_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="QoS 3"):
        Reader().feed(b"\x36\x05\x00\x01a\x00\x01")


def test_connect_carries_the_session_keepalive_and_credentials() -> None:
    packet = mqtt_wire.connect("cid", keepalive=30, clean_session=False, username="u", password="p")
    (parsed,) = Reader().feed(packet)
    assert isinstance(parsed, Other)
    assert parsed.kind == mqtt_wire.CONNECT
    # protocol name and level 4, flags: user name + password, no clean session
    assert parsed.body[:7] == b"\x00\x04MQTT\x04"
    assert parsed.body[7] == 0xC0
    assert parsed.body[8:10] == (30).to_bytes(2, "big")
    assert parsed.body[10:] == b"\x00\x03cid\x00\x01u\x00\x01p"


# --------------------------------------------------------------------- a broker


class Broker:
    """Accepts connections one after another; records what the client sends."""

    def __init__(self, *, refuse_first: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.refuse_first = refuse_first
        self.connects = 0
        self.pubacks: list[int] = []
        self.pings = 0
        self.conn: socket.socket | None = None
        self.subscribed = threading.Event()
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.conn = conn
            reader = Reader()
            try:
                while chunk := conn.recv(65536):
                    for packet in reader.feed(chunk):
                        assert isinstance(packet, Other)
                        self._answer(conn, packet)
            except OSError:
                pass

    def _answer(self, conn: socket.socket, packet: Other) -> None:
        with self.lock:
            if packet.kind == mqtt_wire.CONNECT:
                self.connects += 1
                refused = self.connects <= self.refuse_first
                conn.sendall(b"\x20\x02\x00" + (b"\x05" if refused else b"\x00"))
                if refused:
                    conn.close()
            elif packet.kind == mqtt_wire.SUBSCRIBE:
                conn.sendall(b"\x90\x03" + packet.body[:2] + b"\x01")
                self.subscribed.set()
            elif packet.kind == mqtt_wire.PUBACK:
                self.pubacks.append(int.from_bytes(packet.body, "big"))
            elif packet.kind == mqtt_wire.PINGREQ:
                self.pings += 1
                conn.sendall(b"\xd0\x00")

    def send(self, data: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(data)

    def drop(self) -> None:
        assert self.conn is not None
        self.subscribed.clear()
        self.conn.shutdown(socket.SHUT_RDWR)
        self.conn.close()

    def close(self) -> None:
        self.server.close()
        if self.conn is not None:
            self.conn.close()


@pytest.fixture
def pipeline(sqlite_store: Store) -> LivePipeline:
    sqlite_store.save_world(load_world(FIXTURES / "world_small.yaml"))
    return LivePipeline(sqlite_store)


@pytest.fixture
def broker() -> Iterator[Broker]:
    b = Broker()
    yield b
    b.close()


def subscriber(
    pipeline: LivePipeline, broker: Broker, *, start: bool = True, **options: int
) -> MqttIngest:
    ingest = MqttIngest(
        pipeline, f"mqtt://127.0.0.1:{broker.port}", topics=["t/#"], client_id="c", **options
    )
    if start:
        ingest.start()
    return ingest


def test_pubacks_follow_the_commit_in_the_order_of_arrival(
    pipeline: LivePipeline, broker: Broker
) -> None:
    ingest = subscriber(pipeline, broker)
    try:
        assert ingest.wait_ready(10)
        # 300 messages in one write, packet ids not in numeric order
        mids = [(k * 7919) % 65535 + 1 for k in range(300)]
        broker.send(b"".join(mqtt_wire.publish("t/x", event_json(f"e{m}"), m) for m in mids))
        wait_until(lambda: len(broker.pubacks) == 300, "300 PUBACKs")
        assert broker.pubacks == mids
        assert set(stored(pipeline.store)) == {f"e{m}" for m in mids}
        assert ingest.stats["accepted"] == 300
    finally:
        ingest.stop()


def test_a_message_whose_store_fails_is_not_acknowledged(
    pipeline: LivePipeline, broker: Broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried = threading.Event()

    def broken(events: object, indexes: object = ()) -> object:
        tried.set()
        raise OSError("disk full")

    monkeypatch.setattr(pipeline, "ingest", broken)
    ingest = subscriber(pipeline, broker)
    try:
        assert ingest.wait_ready(10)
        broker.send(mqtt_wire.publish("t/x", event_json("unlucky"), 9))
        assert tried.wait(10)
    finally:
        ingest.stop()
    assert broker.pubacks == []


def test_an_idle_connection_is_kept_alive(pipeline: LivePipeline, broker: Broker) -> None:
    ingest = subscriber(pipeline, broker, keepalive=1)
    try:
        assert ingest.wait_ready(10)
        wait_until(lambda: broker.pings >= 2, "two PINGREQs on an idle connection")
        assert ingest.ready
    finally:
        ingest.stop()


def test_a_dropped_connection_comes_back_and_takes_messages(
    pipeline: LivePipeline, broker: Broker
) -> None:
    ingest = subscriber(pipeline, broker)
    try:
        assert ingest.wait_ready(10)
        broker.drop()
        wait_until(lambda: broker.connects == 2 and broker.subscribed.is_set(), "a reconnect")
        broker.send(mqtt_wire.publish("t/x", event_json("after"), 5))
        wait_until(lambda: broker.pubacks == [5], "the PUBACK on the new connection")
        assert "after" in stored(pipeline.store)
    finally:
        ingest.stop()


class Waits(threading.Event):
    """The subscriber's stop flag, recording each backoff it waits and not waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.delays.append(timeout or 0.0)
        return super().wait(0)


def test_a_refused_connection_is_tried_again_with_a_growing_backoff(
    pipeline: LivePipeline, caplog: pytest.LogCaptureFixture
) -> None:
    broker = Broker(refuse_first=3)
    ingest = subscriber(pipeline, broker, start=False, min_delay=1)
    ingest._stopping = waits = Waits()
    ingest.start()
    try:
        assert ingest.wait_ready(10), "connected on the fourth try"
        assert broker.connects == 4
        assert "not authorised" in caplog.text
        assert waits.delays[:3] == [1.0, 2.0, 4.0]
        broker.drop()  # an accepted connection lost: the backoff starts over
        wait_until(lambda: broker.connects == 5 and ingest.ready, "a reconnect")
        assert waits.delays[3] == 1.0
    finally:
        ingest.stop()
        broker.close()
