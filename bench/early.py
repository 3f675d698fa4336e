"""What deciding on arrival costs the engine (issue 15, item 1): the full catalogue over
the same stream, once deciding on the clock only (``Engine(early=False)``, as a replay
does) and once deciding on arrival too (``early=True``, as the live service does),
alternating, best of ``--rounds`` each; both must end with the same alerts.

    .venv/bin/python bench/early.py [--events 400000] [--keys 20000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stream as bench_stream  # bench/ is not a package: its own directory is on the path

from cityeye.domain import Event, FieldError
from cityeye.ingest.decode import decode_event
from cityeye.runtime import bulk_allocation, tune_gc
from cityeye.scenarios import Engine, load_catalogue, set_bulk_hook

WORK = Path(__file__).resolve().parent / "work"  # as bench/engine.py: cached, ignored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--keys", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args()
    tune_gc()  # as `cityeye serve` (cli.common.own_process)
    set_bulk_hook(bulk_allocation)
    stream = bench_stream.generate(WORK, args.events, args.keys, args.seed)
    world = bench_stream.build_world(bench_stream.Layout.for_keys(args.keys), args.seed)
    events: list[Event] = []
    for chunk in bench_stream.read_lines(stream.jsonl):
        for line in chunk:
            # the stream plants bad lines; the engine never sees them
            with contextlib.suppress(FieldError):
                events.append(decode_event(line))
    catalogue = load_catalogue()
    best: dict[bool, float] = {}
    alerts: dict[bool, list[tuple[str, str, int]]] = {}
    for _ in range(args.rounds):
        for early in (False, True):
            gc.collect()
            engine = Engine(catalogue, world, early=early)
            started = time.perf_counter()
            for event in events:
                engine.feed(event)
            engine.finish()
            rate = len(events) / (time.perf_counter() - started)
            best[early] = max(best.get(early, 0.0), rate)
            alerts[early] = sorted((a.id, str(a.opened_at), a.count) for a in engine.alerts)
            print(f"early={early}: {rate:,.0f} events/s, {len(engine.alerts)} alerts", flush=True)
    same = alerts[True] == alerts[False]
    print(
        f"{len(events):,} events, {args.keys:,} keys: on the clock {best[False]:,.0f}/s, "
        f"on arrival too {best[True]:,.0f}/s, ratio {best[True] / best[False]:.2f}; "
        f"same alerts: {same}"
    )
    if not same:
        raise SystemExit("the alerts differ: deciding on arrival must end with the same ones")


if __name__ == "__main__":
    main()
