"""Process-wide settings for the long-running commands (serve, replay, benchmarks).

The engine holds millions of small, long-lived objects (one state per registered
person or device, and every event it holds for the lateness) and creates few
reference cycles. CPython's default collector thresholds (700, 10, 10) make it rescan
that whole population again and again while events stream in — measured at a quarter
of the engine's time on the 5-million-event benchmark. Library code never changes
global settings; the commands call this once, and hand the engine
:func:`bulk_allocation` for the one moment it builds such a population all at once
(``cityeye.scenarios.set_bulk_hook``).

A collection stops every thread of the process, so a long one is a stall of ingest and
of every page: :func:`tune_gc` also logs each collection that takes longer than
:data:`GC_PAUSE_LOG_S` (the soak bench counts them).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: Generation-0 threshold: allocations between young collections.
GC_THRESHOLDS = (100_000, 50, 1000)
#: A collection at least this long (seconds) is logged as a pause.
GC_PAUSE_LOG_S = 0.1

log = logging.getLogger("cityeye.runtime")
_started: list[float] = []


def _watch(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[:] = [time.perf_counter()]
    elif _started:
        took = time.perf_counter() - _started.pop()
        if took >= GC_PAUSE_LOG_S:
            log.warning(
                "gc pause: generation %d took %.0f ms (%d collected)",
                info.get("generation", -1),
                took * 1000,
                info.get("collected", 0),
            )


def tune_gc() -> None:
    """Collect young objects far less often; cycles are still collected. Long
    collections are logged."""
    gc.set_threshold(*GC_THRESHOLDS)
    if _watch not in gc.callbacks:
        gc.callbacks.append(_watch)


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Around building a large, long-lived population at once (arming a million
    registered keys): the collector paused while it is made — a collection every
    few thousand new objects would rescan all those made before, again and again —
    and the result frozen afterwards, out of the way of every later full collection
    (each of which would otherwise walk it all, stopping every thread). The
    collector is left running or not as it was found."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        gc.freeze()
