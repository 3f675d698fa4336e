"""MQTT through NATS: ``cityeye serve --mqtt nats-mqtt://host:4222``.

Devices publish MQTT QoS 1 to the MQTT listener of a nats-server (``mqtt { port: 1883 }``
beside ``jetstream``). The server stores every QoS 1 publish in its JetStream stream
``$MQTT_msgs`` under the subject ``$MQTT.msgs.<topic as a subject>`` (``/`` → ``.``)
before it sends the device its PUBACK; that stream keeps a message only while some
consumer is interested in its subject (interest retention). :class:`NatsMqttIngest`
is such a consumer: a durable JetStream pull consumer per subscribed topic filter,
which it fetches from in batches of hundreds instead of one PUBLISH/PUBACK round trip
per message — what capped the paho subscriber that :mod:`cityeye.ingest.mqtt` used then near
3,300 messages/s.

* **Acknowledged after the commit.** A fetched batch goes through the same topic map
  and outside-channel rules as the MQTT subscriber's (:func:`~cityeye.ingest.mqtt.store_messages`),
  its events are stored in one transaction, and only then are its messages acked.
  A crash before that leaves them unacknowledged: JetStream delivers them again after
  the consumer's ``ack_wait`` (a clean stop naks them, so they come at once on the next
  start), and the store's unique ``(source, id)`` refuses what was already stored.
* **Redeliveries are duplicates even for bare values.** The arrival time a message is
  stamped with is the time the stream stored it (JetStream's own timestamp), the same
  on every delivery, so an event id built from it (``format: value``,
  ``ts_from: arrival``) is the same too.
* **Durable consumers.** The consumer outlives cityeye: while cityeye is stopped the
  stream keeps what devices publish on its topics, and it is delivered on the next
  start. Its name comes from the URL (``?durable=``); ``cityeye serve`` otherwise
  derives one from the database URL (stable per installation, like the MQTT subscriber's client id).
  The consumer must exist before devices publish — on an interest stream nothing is
  kept for nobody — so cityeye makes it (and the stream, if no MQTT client has been
  there yet to make it) as soon as NATS answers.
* **NATS down** at start-up or later: the connection is retried every few seconds
  (:mod:`cityeye.live.bus` connection handling), the HTTP side serves meanwhile.
* **Retained messages**: JetStream holds only publishes, never the replay of a
  retained message to a new subscription, so nothing is skipped.

Topics become subjects as nats-server converts them: levels joined by ``.``, an empty
level as ``/``; ``+`` → ``*``, ``#`` → ``>`` (and, as in MQTT, ``a/#`` also takes
``a``). nats-server refuses topics with a space (and, before 2.10, a ``.``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from cityeye.ingest.mqtt import store_messages
from cityeye.ingest.mqtt_map import MqttMap, default_map
from cityeye.nats_client import RETRY_S, AsyncLoop, BusError, connect, reason, shown

if TYPE_CHECKING:
    from cityeye.ingest.intake import Intake

log = logging.getLogger("cityeye.mqtt")

#: ``--mqtt nats-mqtt://host:4222`` (``nats-mqtts://`` for TLS).
SCHEMES = {"nats-mqtt": "nats", "nats-mqtts": "tls"}
#: nats-server's stream of MQTT QoS 1 and 2 messages and its subject prefix.
STREAM = "$MQTT_msgs"
PREFIX = "$MQTT.msgs."
#: Messages fetched at once (one transaction, one round of acks).
FETCH = 500
#: Seconds JetStream waits for an ack before it delivers a message again.
ACK_WAIT_S = 10.0


@dataclass(frozen=True, slots=True)
class NatsMqttUrl:
    """Where the NATS server is, as a ``nats://`` URL for the client, and the consumer
    name asked for (``?durable=``)."""

    nats_url: str
    durable: str | None = None

    def __str__(self) -> str:  # never the password
        return f"nats-mqtt via {shown(self.nats_url)}"


def parse_nats_mqtt_url(url: str) -> NatsMqttUrl:
    """``nats-mqtt://[user[:password]@]host[:port][?durable=NAME]`` (``nats-mqtts://``
    for TLS); the port is NATS's client port (4222), not its MQTT port. Raises
    ``ValueError`` saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"{url!r}: use nats-mqtt://host:4222 (the NATS client port)")
    if not parts.hostname:
        raise ValueError(f"{url!r} names no host")
    try:
        port = parts.port or 4222
    except ValueError:
        raise ValueError(f"{url!r} has a bad port") from None
    query = parse_qs(parts.query)
    unknown = set(query) - {"durable"}
    if unknown:
        raise ValueError(f"{url!r}: unknown option {sorted(unknown)[0]!r}; only durable")
    durable = query.get("durable", [None])[-1]
    if durable is not None and not _durable_ok(durable):
        raise ValueError(f"durable={durable!r}: letters, digits, - and _ only")
    user = ""
    if parts.username is not None:
        user = quote(parts.username, safe="%")
        if parts.password is not None:
            user += ":" + quote(parts.password, safe="%")
        user += "@"
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return NatsMqttUrl(f"{SCHEMES[parts.scheme]}://{user}{host}:{port}", durable)


def _durable_ok(name: str) -> bool:
    return 0 < len(name) <= 200 and all(c.isascii() and (c.isalnum() or c in "-_") for c in name)


# ---------------------------------------------------------------------- topics
def topic_level(level: str) -> str:
    """One level of an MQTT topic as the token of a NATS subject."""
    if " " in level:
        raise ValueError("nats-server refuses MQTT topics with a space")
    return "/" if level == "" else level.replace(".", "//")


def filter_subjects(topic_filter: str) -> list[str]:
    """The ``$MQTT_msgs`` subjects of an MQTT subscription filter; ``a/#`` is two (MQTT's
    ``#`` also matches the level above it, NATS's ``>`` does not)."""
    levels = topic_filter.split("/")
    tokens = ["*" if lv == "+" else ">" if lv == "#" else topic_level(lv) for lv in levels]
    out = [PREFIX + ".".join(tokens)]
    if tokens[-1] == ">" and len(tokens) > 1:
        out.insert(0, PREFIX + ".".join(tokens[:-1]))
    return out


def subject_topic(subject: str) -> str:
    """The MQTT topic a ``$MQTT_msgs`` message was published on."""
    tokens = subject.removeprefix(PREFIX).split(".")
    return "/".join("" if t == "/" else t.replace("//", ".") for t in tokens)


def covers(wide: str, narrow: str) -> bool:
    """Whether every subject ``narrow`` matches is matched by ``wide`` too."""
    w, n = wide.split("."), narrow.split(".")
    for index, token in enumerate(w):
        if token == ">":
            return len(n) > index
        if index >= len(n):
            return False
        if token != "*" and token != n[index]:
            return False
        if token == "*" and n[index] == ">":
            return False
    return len(w) == len(n)


def subjects_for(topics: Sequence[str]) -> list[str]:
    """The subjects of all the filters, none covered by another (so that no message
    is delivered to two of cityeye's consumers)."""
    every = list(dict.fromkeys(s for t in topics for s in filter_subjects(t)))
    return [
        s
        for i, s in enumerate(every)
        if not any(
            covers(o, s) and (not covers(s, o) or j < i) for j, o in enumerate(every) if j != i
        )
    ]


def durable_name(base: str, subject: str) -> str:
    """One consumer per subject: ``<base>-<hash of the subject>``."""
    digest = hashlib.sha1(subject.encode(), usedforsecurity=False).hexdigest()[:10]
    return f"{base}-{digest}"


# ---------------------------------------------------------------------- the consumer
@dataclass(frozen=True, slots=True)
class _Message:
    topic: str
    payload: bytes
    arrival: datetime
    retain: bool = False


def _arrival(msg: Any) -> datetime:
    """When the stream stored ``msg``: the same on every delivery of it."""
    try:
        # $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>
        ns = int(msg.reply.rsplit(".", 2)[-2])
        return datetime.fromtimestamp(ns / 1e9, UTC)
    except (AttributeError, IndexError, ValueError):
        return datetime.now(UTC)


class NatsMqttIngest:
    """Consume MQTT QoS 1 messages from NATS's JetStream and feed the live pipeline;
    the same :meth:`start` / :meth:`wait_ready` / :meth:`stop` and ``stats`` as
    :class:`~cityeye.ingest.mqtt.MqttIngest`."""

    def __init__(
        self,
        pipeline: Intake,
        url: str | NatsMqttUrl,
        *,
        topics: Sequence[str] = (),
        mapping: MqttMap | None = None,
        client_id: str | None = None,
        batch_max: int = FETCH,
        ack_wait_s: float = ACK_WAIT_S,
    ) -> None:
        self.pipeline = pipeline
        self.url = url if isinstance(url, NatsMqttUrl) else parse_nats_mqtt_url(url)
        self.mapping = default_map(topics, mapping)
        self.topics = self.mapping.topics()
        self.subjects = subjects_for(self.topics)  # ValueError for a topic NATS refuses
        #: The consumers' common name; each subject's is :func:`durable_name`.
        self.client_id = self.url.durable or client_id or "cityeye"
        if not _durable_ok(self.client_id):
            raise ValueError(f"{self.client_id!r}: a consumer name takes letters, digits, - and _")
        self.batch_max = batch_max
        self.ack_wait_s = ack_wait_s
        self.stats: Counter[str] = Counter()
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self._loop: AsyncLoop | None = None
        self._stop: asyncio.Event | None = None
        self._run: Any = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Connect in the background (retrying while NATS is away) and consume."""
        self._stopping.clear()
        self._loop = AsyncLoop("cityeye-mqtt-nats")
        self._stop = asyncio.Event()
        self._run = self._loop.submit(self._main(self._stop))

    def wait_ready(self, timeout: float) -> bool:
        """Wait until connected and every consumer is bound."""
        return self._ready.wait(timeout)

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def stop(self, timeout: float = 10) -> None:
        """Finish the batch in hand (stored and acked), nak what is not stored, then
        disconnect."""
        self._stopping.set()
        loop, stop = self._loop, self._stop
        if loop is None or stop is None:
            return
        loop.loop.call_soon_threadsafe(stop.set)
        with contextlib.suppress(Exception):
            self._run.result(timeout)
        loop.stop()
        self._loop = None
        self._ready.clear()

    # ------------------------------------------------------------------ loop
    def _failed(self, exc: BaseException) -> None:
        log.warning("mqtt: NATS at %s: %s; trying again in %s s", self.url, reason(exc), RETRY_S)

    async def _main(self, stop: asyncio.Event) -> None:
        link = asyncio.ensure_future(connect(self.url.nats_url, "cityeye-mqtt", self._failed))
        halt = asyncio.ensure_future(stop.wait())
        await asyncio.wait({link, halt}, return_when=asyncio.FIRST_COMPLETED)
        halt.cancel()
        if not link.done():
            link.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await link
            return
        try:
            nc = link.result()
        except BusError as exc:
            log.error("mqtt: %s", exc)
            return
        try:
            subs = await self._bind(nc, stop)
            if subs:
                log.info(
                    "mqtt: consuming %s from %s as %s",
                    ", ".join(self.subjects),
                    self.url,
                    self.client_id,
                )
                self._ready.set()
                await asyncio.gather(*(self._consume(sub, stop) for sub in subs))
        finally:
            with contextlib.suppress(Exception):
                await nc.flush(timeout=5)  # the acks and naks are out before we go
            await nc.close()

    async def _bind(self, nc: Any, stop: asyncio.Event) -> list[Any]:
        """A pull subscription per subject on its durable consumer, made if missing
        (the stream too, as nats-server would make it); retried while NATS or
        JetStream does not answer. Empty: stopped first."""
        from nats.js.api import (
            AckPolicy,
            ConsumerConfig,
            DeliverPolicy,
            RetentionPolicy,
            StorageType,
            StreamConfig,
        )
        from nats.js.errors import NotFoundError

        js = nc.jetstream()
        while not stop.is_set():
            try:
                try:
                    await js.stream_info(STREAM)
                except NotFoundError:
                    # no MQTT client has connected yet: make it now, so the consumers
                    # (and with them the interest that keeps messages) exist from the
                    # first publish; nats-server accepts a stream of its own config
                    await js.add_stream(
                        StreamConfig(
                            name=STREAM,
                            subjects=[PREFIX + ">"],
                            retention=RetentionPolicy.INTEREST,
                            storage=StorageType.FILE,
                        )
                    )
                subs = []
                for subject in self.subjects:
                    durable = durable_name(self.client_id, subject)
                    try:
                        await js.consumer_info(STREAM, durable)
                    except NotFoundError:
                        await js.add_consumer(
                            STREAM,
                            ConsumerConfig(
                                durable_name=durable,
                                description=f"cityeye MQTT ingest of {subject_topic(subject)}",
                                filter_subject=subject,
                                ack_policy=AckPolicy.EXPLICIT,
                                deliver_policy=DeliverPolicy.ALL,
                                ack_wait=self.ack_wait_s,
                                max_deliver=-1,
                                max_ack_pending=max(4 * self.batch_max, 1000),
                            ),
                        )
                    subs.append(await js.pull_subscribe_bind(durable, STREAM))
                return subs
            except Exception as exc:  # NATS gone again, JetStream not ready: wait
                self._failed(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_S)
        return []

    async def _consume(self, sub: Any, stop: asyncio.Event) -> None:
        from nats.errors import TimeoutError as FetchTimeout

        while not stop.is_set():
            try:
                msgs = await sub.fetch(self.batch_max, timeout=0.5)
            except (FetchTimeout, TimeoutError):  # nats raises either
                continue
            except Exception as exc:  # NATS away: the client reconnects meanwhile
                self._failed(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), RETRY_S)
                continue
            if not msgs:
                continue
            batch = [_Message(subject_topic(m.subject), m.data, _arrival(m)) for m in msgs]
            stored = await asyncio.to_thread(
                store_messages, self.pipeline, self.mapping, batch, self.stats, self._stopping
            )
            for m in msgs:  # only now: the batch is committed
                try:
                    await (m.ack() if stored else m.nak())
                except Exception as exc:  # lost with the connection: delivered again
                    log.warning("mqtt: ack not sent (%s); JetStream redelivers", reason(exc))
                    break
