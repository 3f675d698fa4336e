"""MQTT ingest for ``cityeye serve --mqtt mqtt://host:1883``.

:class:`MqttIngest` subscribes at QoS 1 and hands what arrives to the live pipeline:

* **Acknowledged only after it is durable.** paho acknowledges a QoS 1 PUBLISH as soon
  as ``on_message`` returns, so a message handed to another thread and lost in a crash
  before its commit would be gone for good. The client therefore runs with
  ``manual_ack=True``: ``on_message`` only queues; a worker thread drains the queue in
  batches (a burst is stored in one transaction), stores events and dead letters, and
  only then sends the PUBACKs. A crash before the commit leaves the messages unacked
  and the broker delivers them again.
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

import logging
import queue
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion

from cityeye.domain import FieldError
from cityeye.ingest.batch import dead_letter
from cityeye.ingest.mqtt_map import Mapped, MqttMap, default_map, map_message
from cityeye.ingest.scope import check_from_outside
from cityeye.store import DeadLetter

if TYPE_CHECKING:
    from cityeye.live.pipeline import Intake

log = logging.getLogger("cityeye.mqtt")

CHANNEL = "mqtt"
QOS = 1


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


@dataclass(frozen=True, slots=True)
class _Received:
    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool
    arrival: datetime
    connection: int


class Received(Protocol):
    """One MQTT message as both transports hand it over (paho, or NATS's MQTT server
    through JetStream: :mod:`cityeye.ingest.mqtt_nats`)."""

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
        self._max_delay = max_delay
        self.stats: Counter[str] = Counter()
        self._queue: queue.Queue[_Received] = queue.Queue()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._connection = 0
        self._pending_subs: set[int] = set()
        self._worker: threading.Thread | None = None
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=MQTTProtocolVersion.MQTTv311,
            manual_ack=True,
        )
        if self.url.username:
            self._client.username_pw_set(self.url.username, self.url.password)
        if self.url.tls:
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=min_delay, max_delay=max_delay)
        self._client.enable_logger(logging.getLogger("cityeye.mqtt.paho"))
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background (retrying with backoff) and start the worker."""
        self._stopping.clear()
        self._worker = threading.Thread(target=self._work, name="cityeye-mqtt", daemon=True)
        self._worker.start()
        self._client.connect_async(self.url.host, self.url.port, keepalive=self.keepalive)
        self._client.loop_start()

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
        if self._worker is not None:
            self._worker.join(timeout)
            self._worker = None
        if self._client.is_connected():
            self._client.disconnect()
        self._client.loop_stop()
        self._ready.clear()
        dropped = 0
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            dropped += 1
        if dropped:
            log.info("mqtt: %d received message(s) left unacked for redelivery", dropped)

    # ------------------------------------------------------------------ paho thread
    def _on_connect(
        self,
        client: paho.Client,
        _userdata: Any,
        flags: paho.ConnectFlags,
        reason: Any,
        _properties: Any,
    ) -> None:
        if reason.is_failure:
            log.error("mqtt: %s refused the connection: %s", self.url, reason)
            return
        self._connection += 1
        log.info(
            "mqtt: connected to %s as %s (session %s)",
            self.url,
            self.client_id,
            "resumed" if flags.session_present else "new",
        )
        result, mid = client.subscribe([(t, QOS) for t in self.topics])
        if result == MQTTErrorCode.MQTT_ERR_SUCCESS and mid is not None:
            self._pending_subs.add(mid)

    def _on_connect_fail(self, _client: paho.Client, _userdata: Any) -> None:
        if not self._stopping.is_set():
            log.warning(
                "mqtt: cannot reach %s; retrying (backoff up to %d s)", self.url, self._max_delay
            )

    def _on_subscribe(
        self, _client: paho.Client, _userdata: Any, mid: int, reasons: Any, _properties: Any
    ) -> None:
        for topic, reason in zip(self.topics, reasons, strict=False):
            if reason.is_failure:
                log.error("mqtt: subscription to %s refused: %s", topic, reason)
        self._pending_subs.discard(mid)
        if not self._pending_subs:
            self._ready.set()

    def _on_disconnect(
        self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        self._ready.clear()
        if not self._stopping.is_set():
            log.warning("mqtt: disconnected from %s (%s); reconnecting", self.url, reason)

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        # only queue: the ack is sent by the worker after the commit (manual_ack)
        self._queue.put(
            _Received(
                msg.topic,
                bytes(msg.payload),
                msg.mid,
                msg.qos,
                bool(msg.retain),
                datetime.now(UTC),
                self._connection,
            )
        )

    # ------------------------------------------------------------------ worker
    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                batch = [self._queue.get(timeout=0.2)]
            except queue.Empty:
                continue
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if self._handle(batch):
                for m in batch:
                    self._ack(m)

    def _map(self, m: _Received) -> Mapped | DeadLetter:
        return map_received(self.pipeline, self.mapping, m)

    def _handle(self, batch: Sequence[_Received]) -> bool:
        """Store a batch; ``True`` once it is durable, ``False`` if stopping first."""
        return store_messages(self.pipeline, self.mapping, batch, self.stats, self._stopping)

    def _ack(self, m: _Received) -> None:
        if m.qos == 0:
            return
        if m.connection != self._connection:
            return  # from a connection since lost: the broker resends, a duplicate then
        self._client.ack(m.mid, m.qos)
