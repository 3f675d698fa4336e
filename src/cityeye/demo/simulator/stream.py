"""The stream being written: the run's window and plan, and every event recorded so far.

Each channel (:mod:`.homes`, :mod:`.buildings`, :mod:`.streets`, ...) is a function of
one :class:`Stream`: it reads the plan, draws from its own seeded RNG (:meth:`Stream.rng`,
so adding a device does not reshuffle another's day) and records events with
:meth:`Stream.emit`, which also drops what falls outside the run. The order of those
calls numbers the events (:attr:`Raw.seq`), and that number orders ids and delivery:
it is part of the output, which is why the channels run in one fixed order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.demo.simulator.clock import DAY, HOUR
from cityeye.demo.simulator.plan import Plan
from cityeye.demo.simulator.sources import source_of
from cityeye.domain import Device, World


class Raw:
    """An event before delivery: time, content, and whether it belongs to a pattern."""

    __slots__ = (
        "area",
        "attrs",
        "base",
        "device",
        "eid",
        "kind",
        "lat",
        "lon",
        "planted",
        "sec",
        "seq",
        "source",
        "subject",
    )

    def __init__(
        self,
        seq: int,
        sec: int,
        kind: str,
        source: str,
        base: str,
        attrs: dict[str, Any],
        *,
        device: str | None,
        subject: str | None,
        area: str | None,
        lat: float | None,
        lon: float | None,
        planted: bool,
        eid: str | None,
    ) -> None:
        self.seq = seq
        self.sec = sec
        self.kind = kind
        self.source = source
        self.base = base
        self.attrs = attrs
        self.device = device
        self.subject = subject
        self.area = area
        self.lat = lat
        self.lon = lon
        self.planted = planted
        self.eid = eid


class Stream:
    """One run's window (``start``, ``end`` in epoch seconds, the world's time zone),
    its :class:`Plan`, and the events recorded so far (``raws``, in emission order)."""

    def __init__(
        self, world: World, start: datetime, hours: float, seed: int, nuisance: bool = False
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start must carry a time zone, e.g. +08:00")
        if hours <= 0:
            raise ValueError("hours must be positive")
        self.world = world
        self.seed = seed
        self.tz = ZoneInfo(world.timezone)
        self.start = math.floor(start.timestamp())
        self.end = self.start + math.ceil(hours * HOUR)
        self.plan = Plan(world, self.start, self.end, self.tz, seed, nuisance)
        self.raws: list[Raw] = []

    def rng(self, label: str) -> random.Random:
        """A generator of its own for ``label`` (a device, a channel): draws elsewhere
        never shift it."""
        return random.Random(f"{self.seed}/{label}")

    def hour_of(self, sec: int) -> float:
        """Local hour of day (0–24) of an epoch second."""
        local = datetime.fromtimestamp(sec, self.tz)
        return local.hour + local.minute / 60 + local.second / 3600

    def days(self, lo: int) -> Iterator[int]:
        """Local midnights of every day overlapping [lo, end)."""
        day = self.plan.day0
        while day > lo:
            day -= DAY
        while day < self.end:
            yield day
            day += DAY

    def emit(
        self,
        sec: float,
        kind: str,
        attrs: dict[str, Any] | None = None,
        *,
        device: Device | None = None,
        source: str | None = None,
        base: str | None = None,
        subject: str | None = None,
        area: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        planted: bool = False,
        backfill: bool = False,
        eid: str | None = None,
    ) -> None:
        """Record one event at ``sec``; outside [start, end) it is dropped unless it
        is deliberate history (``backfill``) from before the start."""
        t = int(sec)
        if t >= self.end or (t < self.start and not backfill):
            return
        if device is not None:
            source = source or source_of(device)
            base = base or device.id
        assert source is not None
        assert base is not None
        self.raws.append(
            Raw(
                len(self.raws),
                t,
                kind,
                source,
                base,
                attrs or {},
                device=device.id if device else None,
                subject=subject,
                area=area,
                lat=lat,
                lon=lon,
                planted=planted,
                eid=eid,
            )
        )
