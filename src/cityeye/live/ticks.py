"""The heartbeat of the live engine (``cityeye serve``'s background thread)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from cityeye.live.pipeline import Pipeline

#: Snapshot the engine every this many ticks.
SNAPSHOT_EVERY = 6
log = logging.getLogger("cityeye.serve")


def tick_loop(
    pipeline: Pipeline,
    stop: threading.Event,
    tick_s: float,
    wall_clock: bool,
    now: Callable[[], datetime] | None = None,
) -> None:
    """Heartbeat of the live engine: the clock (``now``: the app's clock, the wall
    clock or a replayed day's) moves event time on (absence timers need no event), and
    the engine is snapshotted now and then. A failed beat
    (the database away for a moment) is logged and the next one tries again: a
    heartbeat that died would silently stop every timer and snapshot."""
    ticks = 0
    while not stop.wait(tick_s):
        ticks = beat(pipeline, ticks, tick_s, wall_clock, now)


def beat(
    pipeline: Pipeline,
    ticks: int,
    tick_s: float,
    wall_clock: bool,
    now: Callable[[], datetime] | None = None,
    every: int = SNAPSHOT_EVERY,
) -> int:
    """One heartbeat — the clock moves event time on, and every ``every``th beat
    (:data:`SNAPSHOT_EVERY` unless told) a snapshot — for the server's thread and for
    the analysis process of ``--analysis process`` alike. Returns the beats done so
    far; a failure is logged and the next beat tries again."""
    try:
        if wall_clock:
            pipeline.tick(now() if now is not None else None)
        else:
            pipeline.heartbeat()
        ticks += 1
        if ticks % every == 0:
            pipeline.snapshot()
    except Exception:
        log.exception("heartbeat failed; trying again in %s s", tick_s)
    return ticks
