"""The few MQTT 3.1.1 packets a QoS 1 subscriber needs, encoded and parsed by hand.

Why not paho (issue 15): paho reads one packet per pass of its loop, with a ``select``
and a ``recv`` for the fixed header, another for the length and another for the body,
then sends each PUBACK on its own. Over MQTT, one event a message, that was ~50 µs of
Python per message in the subscriber's process and capped cityeye near 10,000
messages/s while Node-RED took twice that from the same broker. Here a ``recv`` of up
to 256 KiB is cut into every whole packet it holds, and a batch's PUBACKs leave in one
``send``. Only what a subscriber meets is handled: CONNECT/CONNACK, SUBSCRIBE/SUBACK,
PUBLISH at QoS 0 or 1 (we subscribe at QoS 1, so the broker sends nothing higher),
PUBACK, PINGREQ/PINGRESP and DISCONNECT (MQTT 3.1.1, OASIS standard, section 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from cityeye.errors import ServiceError

CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK = 1, 2, 3, 4, 8, 9
PINGREQ, PINGRESP = 12, 13
PINGREQ_PACKET, DISCONNECT_PACKET = b"\xc0\x00", b"\xe0\x00"
#: CONNACK return codes (3.2.2.3), for the log.
CONNACK_REFUSED = {
    1: "unacceptable protocol version",
    2: "client identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}


class ProtocolError(ServiceError):
    """The broker sent something MQTT 3.1.1 does not allow here: drop the connection
    (a :class:`~cityeye.errors.ServiceError`: the broker misbehaves)."""


class Publish(NamedTuple):
    """One PUBLISH from the broker (a tuple: made once per message on the hot path)."""

    topic: str
    payload: bytes
    mid: int  # 0 at QoS 0
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class Other:
    """Any other packet from the broker: its type and its variable header and payload."""

    kind: int
    body: bytes


def encode_length(n: int) -> bytes:
    """A remaining length (2.2.3): 7 bits a byte, the high bit saying more follow."""
    out = bytearray()
    while True:
        n, digit = n >> 7, n & 0x7F
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _text(value: str) -> bytes:
    raw = value.encode()
    if len(raw) > 0xFFFF:
        raise ValueError(f"{value[:40]!r}… is longer than MQTT's 65,535 bytes")
    return len(raw).to_bytes(2, "big") + raw


def connect(
    client_id: str,
    *,
    keepalive: int,
    clean_session: bool,
    username: str | None = None,
    password: str | None = None,
) -> bytes:
    """CONNECT (3.1): protocol level 4, the session and keep-alive asked for."""
    flags = 0x02 if clean_session else 0
    payload = _text(client_id)
    if username is not None:
        flags |= 0x80
        payload += _text(username)
        if password is not None:
            flags |= 0x40
            payload += _text(password)
    body = b"\x00\x04MQTT\x04" + bytes([flags]) + keepalive.to_bytes(2, "big") + payload
    return bytes([CONNECT << 4]) + encode_length(len(body)) + body


def subscribe(mid: int, topics: list[str], qos: int = 1) -> bytes:
    """SUBSCRIBE (3.8) of every topic filter at ``qos``."""
    body = mid.to_bytes(2, "big") + b"".join(_text(t) + bytes([qos]) for t in topics)
    return bytes([SUBSCRIBE << 4 | 0x02]) + encode_length(len(body)) + body


def publish(topic: str, payload: bytes, mid: int, *, qos: int = 1, retain: bool = False) -> bytes:
    """PUBLISH (3.3): what a device sends (the tests' brokers and the benches' raw
    publisher; cityeye itself only receives them). ``mid`` is left out at QoS 0."""
    rest = _text(topic) + (mid.to_bytes(2, "big") if qos else b"") + payload
    return bytes([PUBLISH << 4 | qos << 1 | int(retain)]) + encode_length(len(rest)) + rest


def pubacks(mids: list[int]) -> bytes:
    """PUBACKs (3.4) for ``mids``, in order, as one write."""
    return b"".join(b"\x40\x02" + mid.to_bytes(2, "big") for mid in mids)


class Reader:
    """Cuts the bytes of a connection into packets, whatever the reads' boundaries."""

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, chunk: bytes) -> list[Publish | Other]:
        """Every whole packet in what has arrived so far; the rest waits for more.
        Raises :class:`ProtocolError` on a malformed length or a QoS 3 PUBLISH."""
        data = self._rest + chunk if self._rest else chunk
        out: list[Publish | Other] = []
        end = len(data)
        i = 0
        while end - i >= 2:
            header = data[i]
            # remaining length: 1-4 bytes, 7 bits each (2.2.3)
            size, shift, p, whole = 0, 0, i + 1, False
            while p < end:
                byte = data[p]
                p += 1
                size |= (byte & 0x7F) << shift
                if byte < 0x80:
                    whole = True
                    break
                shift += 7
                if shift > 21:
                    raise ProtocolError("remaining length longer than 4 bytes")
            if not whole or end - p < size:
                break  # the rest of this packet is still on its way
            stop = p + size
            kind = header >> 4
            if kind == PUBLISH:
                qos = (header >> 1) & 0x03
                n = data[p] << 8 | data[p + 1]
                topic = data[p + 2 : p + 2 + n].decode("utf-8", "replace")
                q = p + 2 + n
                if qos:
                    if qos == 3:
                        raise ProtocolError("PUBLISH with QoS 3")
                    mid = data[q] << 8 | data[q + 1]
                    q += 2
                else:
                    mid = 0
                out.append(Publish(topic, data[q:stop], mid, qos, bool(header & 0x01)))
            else:
                out.append(Other(kind, data[p:stop]))
            i = stop
        self._rest = data[i:]
        return out
