"""MQTT ingest for ``cityeye serve --mqtt mqtt://host:1883``.

:class:`MqttIngest` subscribes at QoS 1 and hands what arrives to the live pipeline:

* **Acknowledged only after it is durable.** The connection's thread only reads and
  queues; a worker thread drains the queue in batches (a burst is stored in one
  transaction), stores events and dead letters, and only then sends the batch's
  PUBACKs, in one write and in the order the messages came (MQTT 3.1.1, 4.6). A crash
  before the commit leaves the messages unacked and the broker delivers them again.
  The client is cityeye's own (:mod:`~cityeye.ingest.mqtt_wire`; it was paho's until
  issue 15 measured paho's per-message work as the subscriber's limit).
* **Persistent session.** ``clean_session=False`` with a stable client id: QoS 1
  messages published while cityeye is briefly down (a restart, a deploy) wait in the
  broker and are delivered when it is back. The client id comes from the URL
  (``?client_id=``); ``cityeye serve`` otherwise derives one from the database URL, so
  it is the same across restarts and different for another installation. Two running
  processes must not share it (the broker would keep disconnecting one for the other).
* **Reconnects with backoff** (1 s doubling to 60 s); a broker down at start-up is
  retried the same way, so the HTTP side serves meanwhile.
* **Bad payloads are dead-lettered** (channel ``mqtt``, ref = the topic, the field, the
  reason and the exact bytes, up to :data:`~cityeye.ingest.decode.MAX_EVENT_BYTES`) and
  acknowledged; the subscriber goes on.
* **Retained messages are skipped** (acknowledged, counted): the broker replays the
  last retained message to every new subscription, which is old state, not a new
  observation.

Redelivery is at-least-once: a message stored but not yet acked when the connection
drops comes again. Events with an id (or a ``ts``, from which :mod:`mqtt_map` makes a
stable id) are then duplicates and dropped; a bare value stamped with its arrival time
would be stored a second time (rare: only a drop between commit and ack), which is
preferred over folding a door contact's repeated ``1`` into one event.

The broker bounds the batch: it sends at most ``max_inflight_messages`` (Mosquitto: 20)
unacknowledged messages to a client; raise it in ``mosquitto.conf`` for more throughput.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from cityeye.domain import FieldError
from cityeye.ingest import mqtt_wire
from cityeye.ingest.batch import dead_letter
from cityeye.ingest.mqtt_map import Mapped, MqttMap, default_map, map_message
from cityeye.ingest.mqtt_wire import DISCONNECT_PACKET, ProtocolError, Publish
from cityeye.ingest.scope import check_from_outside
from cityeye.store import DeadLetter

if TYPE_CHECKING:
    from cityeye.ingest.intake import Intake

log = logging.getLogger("cityeye.mqtt")

CHANNEL = "mqtt"
QOS = 1
_READ = 1 << 18  # bytes a read may take: a burst of ~1,000 messages at once
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class MqttUrl:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None
    client_id: str | None = None

    def __str__(self) -> str:  # never the password
        scheme = "mqtts" if self.tls else "mqtt"
        user = f"{self.username}@" if self.username else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttUrl:
    """``mqtt://[user[:password]@]host[:port][?client_id=ID]``; ``mqtts://`` for TLS
    (port 8883 by default). Raises ``ValueError`` saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"{url!r}: use mqtt://host:1883 or mqtts://host:8883")
    tls = parts.scheme in ("mqtts", "ssl")
    if not parts.hostname:
        raise ValueError(f"{url!r} names no host")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ValueError(f"{url!r} has a bad port") from None
    query = parse_qs(parts.query)
    unknown = set(query) - {"client_id"}
    if unknown:
        raise ValueError(f"{url!r}: unknown option {sorted(unknown)[0]!r}; only client_id")
    client_id = query.get("client_id", [None])[-1]
    return MqttUrl(
        parts.hostname,
        port,
        tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        client_id,
    )


class _Received(NamedTuple):
    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool
    arrival: datetime
    connection: int


class Received(Protocol):
    """One MQTT message as both transports hand it over (cityeye's own MQTT client, or
    NATS's MQTT server through JetStream: :mod:`cityeye.ingest.mqtt_nats`)."""

    @property
    def topic(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def retain(self) -> bool: ...
    @property
    def arrival(self) -> datetime: ...


def map_received(pipeline: Intake, mapping: MqttMap, m: Received) -> Mapped | DeadLetter:
    """One message through the topic map and the outside-channel rules, or its dead
    letter (channel ``mqtt``, ref = the topic, the exact bytes)."""
    try:
        mapped = map_message(mapping, m.topic, m.payload, m.arrival)
        if mapped.event is not None:  # a client of the broker is no person
            check_from_outside(mapped.event, pipeline.world)
        return mapped
    except FieldError as exc:
        field, reason = exc.field, exc.reason
    except Exception as exc:  # an adapter bug must not stop the subscriber
        log.exception("mqtt: mapping a message on %s failed", m.topic)
        field, reason = "(adapter)", f"internal error: {type(exc).__name__}: {exc}"
    return dead_letter(m.arrival, CHANNEL, m.topic, field, reason, m.payload)


def store_messages(
    pipeline: Intake,
    mapping: MqttMap,
    batch: Sequence[Received],
    stats: Counter[str],
    stopping: threading.Event,
) -> bool:
    """Map a batch of messages and store it: the dead letters, then the events in one
    transaction (:meth:`Intake.ingest`, which analyses them after the commit). A
    database error is retried with a backoff (1 s doubling to 30 s) until it works or
    ``stopping`` is set. ``True`` once everything is durable — only then may the
    transport acknowledge; ``False``: stopping first, nothing to acknowledge (the
    broker delivers the messages again). ``stats`` gets the counts of a stored batch."""
    events, dead = [], []
    counts: Counter[str] = Counter(received=len(batch))
    for m in batch:
        if m.retain:
            counts["retained"] += 1
            continue
        mapped = map_received(pipeline, mapping, m)
        if isinstance(mapped, DeadLetter):
            dead.append(mapped)
        elif mapped.event is not None:
            events.append(mapped.event)
        else:
            counts["dropped"] += 1
            log.debug("mqtt: %s dropped: %s", m.topic, mapped.dropped)
    delay = 1.0
    while True:
        try:
            if dead:
                pipeline.store.add_dead_letters(dead)
                counts["rejected"] += len(dead)
                dead = []
            results = pipeline.ingest(events)
            break
        except Exception:
            log.exception("mqtt: storing %d message(s) failed; retrying", len(batch))
            if stopping.wait(delay):
                return False  # unacked: the broker delivers them again
            delay = min(delay * 2, 30.0)
    counts.update(r.status for r in results)
    stats.update(counts)
    return True


class MqttIngest:
    """Subscribe to MQTT topics and feed the live pipeline; :meth:`start` / :meth:`stop`.

    Two threads: the connection's (connect with backoff, subscribe, read, keep alive;
    :mod:`~cityeye.ingest.mqtt_wire` cuts what it reads into packets) and the worker's
    (store a batch, then send its PUBACKs in one write, in the order the messages came).

    ``stats`` counts ``received``, ``accepted``, ``duplicate``, ``rejected`` (dead
    letters), ``dropped`` (Frigate's weak or unchanged detections) and ``retained``.
    """

    def __init__(
        self,
        pipeline: Intake,
        url: str | MqttUrl,
        *,
        topics: Sequence[str] = (),
        mapping: MqttMap | None = None,
        client_id: str | None = None,
        batch_max: int = 500,
        keepalive: int = 30,
        min_delay: int = 1,
        max_delay: int = 60,
    ) -> None:
        self.pipeline = pipeline
        self.url = url if isinstance(url, MqttUrl) else parse_mqtt_url(url)
        self.mapping = default_map(topics, mapping)
        self.topics = self.mapping.topics()
        self.client_id = self.url.client_id or client_id or "cityeye"
        self.batch_max = batch_max
        self.keepalive = keepalive
        self._min_delay, self._max_delay = min_delay, max_delay
        self.stats: Counter[str] = Counter()
        self._queue: deque[_Received] = deque()
        self._arrived = threading.Condition()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._connection = 0
        self._sock: socket.socket | None = None
        self._send_lock = threading.Lock()
        self._last_sent = 0.0
        self._last_arrival = datetime.min.replace(tzinfo=UTC)
        self._worker: threading.Thread | None = None
        self._reader: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background (retrying with backoff) and start the worker."""
        self._stopping.clear()
        self._worker = threading.Thread(target=self._work, name="cityeye-mqtt", daemon=True)
        self._reader = threading.Thread(target=self._run, name="cityeye-mqtt-in", daemon=True)
        self._worker.start()
        self._reader.start()

    def wait_ready(self, timeout: float) -> bool:
        """Wait until connected and every subscription is acknowledged."""
        return self._ready.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def stop(self, timeout: float = 10) -> None:
        """Finish the batch in hand (stored and acked), then disconnect. Messages still
        queued are not acked, so the broker delivers them again next time."""
        self._stopping.set()
        with self._arrived:
            self._arrived.notify_all()
        if self._worker is not None:
            self._worker.join(timeout)
            self._worker = None
        self._send(DISCONNECT_PACKET)
        self._drop_connection()
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None
        self._ready.clear()
        with self._arrived:
            dropped = len(self._queue)
            self._queue.clear()
        if dropped:
            log.info("mqtt: %d received message(s) left unacked for redelivery", dropped)

    # ------------------------------------------------------------------ connection
    def _run(self) -> None:
        """Connect, subscribe and read until stopped; after a failure or a lost
        connection, again after 1 s, doubling to ``max_delay``."""
        delay = float(self._min_delay)
        while not self._stopping.is_set():
            before = self._connection
            try:
                sock = self._open()
            except (OSError, ProtocolError) as exc:
                if not self._stopping.is_set():
                    log.warning(
                        "mqtt: cannot reach %s (%s); retrying in %.0f s", self.url, exc, delay
                    )
            else:
                try:
                    self._session(sock)  # returns when stopping
                except (OSError, ProtocolError) as exc:
                    if not self._stopping.is_set():
                        log.warning("mqtt: disconnected from %s (%s); reconnecting", self.url, exc)
                finally:
                    self._ready.clear()
                    self._drop_connection()
            accepted = self._connection != before
            if accepted:  # the backoff starts over
                delay = float(self._min_delay)
            self._stopping.wait(delay)
            if not accepted:  # unreachable, refused or silent: back off
                delay = min(delay * 2, self._max_delay)

    def _open(self) -> socket.socket:
        sock = socket.create_connection((self.url.host, self.url.port), timeout=10)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.url.tls:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.url.host)
            sock.sendall(
                mqtt_wire.connect(
                    self.client_id,
                    keepalive=self.keepalive,
                    clean_session=False,
                    username=self.url.username,
                    password=self.url.password,
                )
            )
            return sock
        except BaseException:
            sock.close()
            raise

    def _session(self, sock: socket.socket) -> None:
        """One connection, from its CONNECT to its end (an exception, or stopping)."""
        reader = mqtt_wire.Reader()
        tick = max(0.2, min(1.0, self.keepalive / 4))
        sock.settimeout(tick)
        with self._send_lock:
            self._sock = sock
            self._last_sent = time.monotonic()
        heard = time.monotonic()
        while not self._stopping.is_set():
            try:
                chunk = sock.recv(_READ)
            except TimeoutError:
                chunk = None
            now = time.monotonic()
            if chunk == b"":
                raise OSError("the broker closed the connection")
            if chunk is None:
                if now - heard > self.keepalive * 1.5:
                    raise OSError(f"nothing from the broker for {now - heard:.0f} s")
            else:
                heard = now
                # every message its own arrival time, 1 µs apart at least: a bare
                # value's id is made from it, and two door contacts' "1" read in one
                # chunk are two openings, not one
                arrival = max(datetime.now(UTC), self._last_arrival + _TICK)
                received: list[_Received] = []
                for packet in reader.feed(chunk):
                    if isinstance(packet, Publish):
                        arrival += _TICK
                        received.append(
                            _Received(
                                packet.topic,
                                packet.payload,
                                packet.mid,
                                packet.qos,
                                packet.retain,
                                arrival,
                                self._connection,
                            )
                        )
                    elif packet.kind == mqtt_wire.CONNACK:
                        self._connack(sock, packet.body)
                    elif packet.kind == mqtt_wire.SUBACK:
                        self._suback(packet.body)
                self._last_arrival = arrival
                if received:
                    with self._arrived:
                        self._queue.extend(received)
                        self._arrived.notify()
            if now - self._last_sent >= self.keepalive / 2:
                self._send(mqtt_wire.PINGREQ_PACKET)

    def _connack(self, sock: socket.socket, body: bytes) -> None:
        if len(body) < 2:
            raise ProtocolError("short CONNACK")
        if body[1]:
            why = mqtt_wire.CONNACK_REFUSED.get(body[1], f"code {body[1]}")
            log.error("mqtt: %s refused the connection: %s", self.url, why)
            raise ProtocolError(f"refused: {why}")
        self._connection += 1
        log.info(
            "mqtt: connected to %s as %s (session %s)",
            self.url,
            self.client_id,
            "resumed" if body[0] & 0x01 else "new",
        )
        self._send(mqtt_wire.subscribe(1, list(self.topics)), sock)

    def _suback(self, body: bytes) -> None:
        for topic, code in zip(self.topics, body[2:], strict=False):
            if code == 0x80:
                log.error("mqtt: subscription to %s refused", topic)
        self._ready.set()

    def _send(self, data: bytes, sock: socket.socket | None = None) -> bool:
        """Write to the connection; ``False`` if there is none or it failed (the reader
        then reconnects, and the broker sends again what was not acknowledged)."""
        with self._send_lock:
            target = sock or self._sock
            if target is None:
                return False
            try:
                target.sendall(data)
            except OSError:
                return False
            self._last_sent = time.monotonic()
            return True

    def _drop_connection(self) -> None:
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader's recv at once
            with contextlib.suppress(OSError):
                sock.close()

    # ------------------------------------------------------------------ worker
    def _work(self) -> None:
        while not self._stopping.is_set():
            with self._arrived:
                if not self._queue:
                    self._arrived.wait(0.2)
                if not self._queue or self._stopping.is_set():
                    continue
                take = min(len(self._queue), self.batch_max)
                batch = [self._queue.popleft() for _ in range(take)]
            if self._handle(batch):
                self._ack(batch)

    def _map(self, m: _Received) -> Mapped | DeadLetter:
        return map_received(self.pipeline, self.mapping, m)

    def _handle(self, batch: Sequence[_Received]) -> bool:
        """Store a batch; ``True`` once it is durable, ``False`` if stopping first."""
        return store_messages(self.pipeline, self.mapping, batch, self.stats, self._stopping)

    def _ack(self, batch: Sequence[_Received]) -> None:
        """PUBACK the batch's QoS 1 messages of the current connection, in one write.
        One from a connection since lost is not acked: the broker sends it again (a
        duplicate then, dropped by its id)."""
        current = self._connection
        mids = [m.mid for m in batch if m.qos and m.connection == current]
        if mids:
            self._send(mqtt_wire.pubacks(mids))
