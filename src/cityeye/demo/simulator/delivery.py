"""Delivery: what the network does to the recorded events before a collector has them.

The channels record events as they happened. Here each gets its id (numbered per
collector and base, in event-time order), then its arrival: jitter, a share late within
the engine's lateness, a few routine readings beyond it, and about 1 % sent twice. A
stream with none of that would let an engine pass that breaks on a real network; one
policy, in one place, tuned by the constants below.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from cityeye.demo.simulator.stream import Raw, Stream

#: Allowed lateness the engine applies (SCENARIOS.md): late deliveries within it are
#: reordered, beyond it they are flagged ``late``.
LATENESS_S = 600
#: Share of events delivered twice, byte for byte (an at-least-once gateway retrying).
DUPLICATE_P = 0.01
#: Share of events delivered 1–8 minutes after their time (within the lateness).
LATE_P = 0.02
#: Share of *eligible* events delivered 15–30 minutes late (beyond the lateness).
VERY_LATE_P = 0.0005
#: Kinds a beyond-lateness delivery may hit: readings whose loss of "raising power"
#: cannot turn a near miss into a firing (a late ``door.closed`` could: the held-open
#: timer would expire before it is seen).
VERY_LATE_KINDS = frozenset(
    {
        "meter.reading",
        "bin.fill",
        "temperature.reading",
        "motion.detected",
        "water.flow",
        "water.level",
        "structure.tilt",
        "crowd.count",
    }
)


def deliver(sim: Stream) -> Iterator[dict[str, Any]]:
    """Give every event its id, then its arrival time (network jitter, lateness,
    re-sends), and yield them in arrival order."""
    counters: dict[tuple[str, str], int] = defaultdict(int)
    for raw in sorted(sim.raws, key=lambda r: (r.source, r.base, r.sec, r.seq)):
        if raw.eid is None:
            counters[(raw.source, raw.base)] += 1
            raw.eid = f"{raw.base}-{counters[(raw.source, raw.base)]}"
    rng = sim.rng("delivery")
    tz = sim.tz
    queue: list[tuple[float, int, int, dict[str, Any]]] = []
    for raw in sim.raws:
        arrival = raw.sec + rng.uniform(0.05, 2.0)
        u = rng.random()
        if raw.kind.startswith("enterprise.") and raw.sec < sim.start:
            arrival = float(raw.sec)  # history: replayed as it was
        elif u < LATE_P:
            arrival += rng.uniform(60, 480)
        elif (
            u < LATE_P + VERY_LATE_P
            and raw.kind in VERY_LATE_KINDS
            and not raw.planted
            and raw.sec >= sim.start
        ):
            arrival += rng.uniform(900, 1800)
        event = _json(raw, tz)
        queue.append((arrival, raw.seq, 0, event))
        if rng.random() < DUPLICATE_P:
            again = {**event, "attrs": dict(event["attrs"])}
            queue.append((arrival + rng.uniform(3, 90), raw.seq, 1, again))
    queue.sort(key=lambda x: (x[0], x[1], x[2]))
    for _, _, _, event in queue:
        yield event


def _json(raw: Raw, tz: ZoneInfo) -> dict[str, Any]:
    """The event object as a collector receives it (``ts`` in the world's time zone)."""
    assert raw.eid is not None
    out: dict[str, Any] = {
        "id": raw.eid,
        "kind": raw.kind,
        "ts": datetime.fromtimestamp(raw.sec, tz).isoformat(),
        "source": raw.source,
    }
    if raw.device is not None:
        out["device_id"] = raw.device
    if raw.subject is not None:
        out["subject"] = raw.subject
    if raw.area is not None:
        out["area"] = raw.area
    if raw.lat is not None:
        out["lat"], out["lon"] = raw.lat, raw.lon
    out["attrs"] = raw.attrs
    return out
