"""Process-wide settings for the long-running commands (serve, replay, benchmarks).

The engine holds millions of small, long-lived objects (one state per registered
person or device) and creates few reference cycles. CPython's default collector
thresholds (700, 10, 10) make it rescan that whole population again and again while
events stream in — measured at a quarter of the engine's time on the 5-million-event
benchmark. Library code never changes global settings; the commands call this once.
"""

from __future__ import annotations

import gc

#: Generation-0 threshold: allocations between young collections.
GC_THRESHOLDS = (100_000, 50, 1000)


def tune_gc() -> None:
    """Collect young objects far less often; cycles are still collected."""
    gc.set_threshold(*GC_THRESHOLDS)
