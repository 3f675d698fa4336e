"""A batch of raw items → events and per-item results, the first half of every channel.

HTTP, MQTT and the bus publisher all take bytes from outside; each item either becomes
an event (checked against what the sender may send) or a rejection that names the field
and the reason and is kept as a dead letter with its exact bytes. The rest of the batch
goes on. What happens to the good events next — stored and analysed here, or published
to the bus — is the caller's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from cityeye.domain import Event, FieldError
from cityeye.ingest.decode import MAX_EVENT_BYTES, decode_event, shorten
from cityeye.store import DeadLetter, Store

#: Raises :class:`FieldError` for an event its sender may not send (a device token
#: sending for another device).
EventCheck = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What became of one submitted item."""

    index: int
    status: str  # accepted | duplicate | rejected
    id: str | None = None
    field: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"index": self.index, "status": self.status}
        for name in ("id", "field", "reason"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def dead_letter(
    at: datetime, channel: str, ref: str, field: str, reason: str, raw: bytes
) -> DeadLetter:
    """How every channel keeps refused input: a readable shortened copy, and the exact
    bytes when they are within the event size limit (a bigger item is refused for its
    size; keeping all of it would let a sender fill the database)."""
    exact = raw if len(raw) <= MAX_EVENT_BYTES else None
    return DeadLetter(at, channel, ref[:256], field, reason, shorten(raw), exact)


def decode_batch(
    store: Store,
    items: Iterable[bytes],
    channel: str,
    *,
    ref: str | None = None,
    check: EventCheck | None = None,
) -> tuple[list[ItemResult], list[tuple[int, Event]]]:
    """(rejections, good events with their item index). Rejections are dead-lettered
    before this returns; a dead letter's ref is ``item N``, after ``ref`` when given."""
    rejected: list[ItemResult] = []
    good: list[tuple[int, Event]] = []
    dead: list[DeadLetter] = []
    now = datetime.now(UTC)
    for index, raw in enumerate(items):
        try:
            event = decode_event(raw)
            if check is not None:
                check(event)
            good.append((index, event))
        except FieldError as exc:
            rejected.append(ItemResult(index, "rejected", field=exc.field, reason=exc.reason))
            where = f"item {index}" if ref is None else f"{ref} item {index}"
            dead.append(dead_letter(now, channel, where, exc.field, exc.reason, raw))
    if dead:
        store.add_dead_letters(dead)
    return rejected, good


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, bytes)`` for each line, 1-based, without the newline."""
    for number, line in enumerate(stream, start=1):
        yield number, line.rstrip(b"\r\n")
