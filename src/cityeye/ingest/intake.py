"""What an ingest channel hands its events to: the :class:`Intake` protocol.

The channels (MQTT, NATS's MQTT, the hotline import) and the participation services
live below the live runtime; they need only this much of it, so they depend on this
protocol and not on :mod:`cityeye.live`, which implements it
(:class:`cityeye.live.pipeline.Pipeline`: analysed here, in another process, or by the
workers of a bus). Layers import downwards only (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from cityeye.domain import Event, World
from cityeye.ingest.batch import ItemResult
from cityeye.store import Store


class Intake(Protocol):
    """Stores events durably and passes the new ones on to the analysis."""

    store: Store
    world: World

    def ingest(self, events: Sequence[Event], indexes: Sequence[int] = ()) -> list[ItemResult]:
        """Store ``events`` (durable when this returns); per event, what became of it."""
        ...

    def is_late(self, event: Event) -> bool:
        """Whether ``event`` is too old to raise an alert if it arrived now."""
        ...

    def tick(self, now: datetime | None = None) -> None:
        """Move live time on (the heartbeat)."""
        ...

    def snapshot(self) -> None:
        """Save the analysis state now (after a long import, say)."""
        ...
