"""Where the live path's time goes, one half at a time (issue 15, item 4), without HTTP:

    .venv/bin/python bench/split_profile.py [--events 100000] [--batch 500] [--profile]
    .venv/bin/python bench/split_profile.py --http 3,12 [--events 80000]

1. **thread**: :class:`LivePipeline` ``ingest_raw`` per batch — decode, validate,
   store, then the engine and case book under the same lock (``serve``'s default).
2. **ingest only**: the same batches through an intake that stores and does nothing
   else — the HTTP process of ``serve --analysis process`` minus HTTP.
3. **analysis only**: :meth:`LivePipeline.pull` over the events stored in 2 — the
   analysis process (read, parse, feed, save alerts/cases/KPI counters, mark late).

Events are the live bench's routine mix of the demo district (bench/live.py), stamped
``lateness − 90 s`` old, and a last tick 90 s ahead passes them all through the
engine's in-order pass inside the measurement. ``--profile`` prints the top of a
cProfile of each half. ``--http``: real ``cityeye serve`` processes instead, both
modes, fed bodies made in advance (:func:`http_run`).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest  # bench/ is not a package
import live
import soak

import cityeye.live.split as live_split
from cityeye.domain import Event
from cityeye.live.pipeline import LivePipeline, Pipeline
from cityeye.scenarios import load_catalogue
from cityeye.store import Store
from cityeye.world import GridLocator
from cityeye.world.load import load_world

TICK_S = 5.0  # the heartbeat's interval (serve's tick)
#: Events are stamped lateness − this old when generated (all before the runs): none
#: is late during a run shorter than this, and the last tick, this far ahead of the
#: wall clock, passes them all through the in-order pass inside the measured time.
HOLD_S = 90.0


def last_tick(pipeline: LivePipeline) -> None:
    pipeline.tick(datetime.now(UTC) + timedelta(seconds=HOLD_S))


class StoreOnly(Pipeline):
    """What the HTTP process does with a batch (:class:`cityeye.live.split.SplitIntake`
    without the process it wakes)."""

    def __init__(self, store: Store) -> None:
        import threading

        self.store = store
        world = store.load_world()
        assert world is not None
        self.world, self.locate = world, GridLocator(world)
        self.scenarios = []
        self._lock = threading.Lock()

    def _stored(
        self, events: Sequence[Event], areas: Sequence[str | None], fresh: Sequence[bool]
    ) -> None:
        pass

    def is_late(self, event: Event) -> bool:
        return False


def run(label: str, fn: object, profile: bool, n: int) -> float:
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof is not None:
        prof.enable()
    fn()  # type: ignore[operator]
    if prof is not None:
        prof.disable()
    seconds = time.perf_counter() - t0
    print(f"{label:>14}: {n:,} events in {seconds:.2f} s = {n / seconds:,.0f} ev/s", flush=True)
    if prof is not None:
        pstats.Stats(prof).sort_stats("tottime").print_stats(22)
    return n / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", choices=("thread", "split"), default=None)
    parser.add_argument(
        "--http",
        metavar="THREADS",
        default=None,
        help="instead: real servers (thread and process) fed pre-made bodies by this many "
        "clients, comma-separated counts (e.g. 3,12)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cityeye-split-") as tmp_name:
        tmp = Path(tmp_name)
        world_path = ingest.demo_world(tmp / "world.yaml")
        if args.http is not None:
            for threads in (int(t) for t in args.http.split(",")):
                for analysis in ("thread", "process") if args.only != "split" else ("process",):
                    http_run(
                        world_path, tmp, analysis, threads, args.events // args.batch, args.batch
                    )
            return
        world = load_world(world_path)
        gen = live.traffic(world, live.LATENESS_S - HOLD_S)
        batches: list[list[bytes]] = []
        while sum(map(len, batches)) < args.events:
            batches.append(gen.batch(args.batch)[0].split(b"\n"))
        n = sum(map(len, batches))
        scenarios = load_catalogue()

        def store_at(name: str) -> Store:
            store = Store.open(f"sqlite:///{tmp / name}.db")
            store.save_world(world)
            return store

        if args.only in (None, "thread"):
            one = LivePipeline(store_at("thread"), scenarios=scenarios)

            def thread() -> None:
                ticked = time.monotonic()
                for b in batches:
                    one.ingest_raw(b, "bench")
                    if time.monotonic() - ticked >= TICK_S:  # as the heartbeat does
                        one.tick()
                        ticked = time.monotonic()
                last_tick(one)

            run("thread", thread, args.profile, n)
        if args.only in (None, "split"):
            store = store_at("split")
            analysis = LivePipeline(store, scenarios=scenarios)  # before: nothing to resume
            intake = StoreOnly(store)
            run(
                "ingest only",
                lambda: [intake.ingest_raw(b, "bench") for b in batches],
                args.profile,
                n,
            )

            def drain() -> None:
                ticked = time.monotonic()
                while analysis.pull(live_split.PULL_EVENTS):
                    if time.monotonic() - ticked >= TICK_S:
                        analysis.tick()
                        ticked = time.monotonic()
                last_tick(analysis)

            run("analysis only", drain, args.profile, n)
            print(f"{'':>14}  buffered after: {analysis.engine.buffered}")


def http_run(
    world_path: Path, tmp: Path, analysis: str, threads: int, batches: int, size: int = 500
) -> None:
    """``cityeye serve --analysis ANALYSIS`` fed ``batches`` bodies of ``size`` made in
    advance by ``threads`` clients (the live bench's clients generate as they go, on
    the same cores): what the server takes when the load generator is not the limit."""
    import threading

    import httpx

    gen = live.traffic(load_world(world_path), live.LATENESS_S - HOLD_S)
    bodies = [gen.batch(size)[0] for _ in range(batches)]
    name = f"http-{analysis}-{threads}"
    with ingest.serve(tmp, name, "--analysis", analysis, world=world_path, clock=None) as served:
        base, db, proc = served.base, served.db, served.proc
        todo = iter(bodies)
        lock = threading.Lock()

        def client() -> None:
            with httpx.Client(base_url=base, timeout=120) as http:
                while True:
                    with lock:
                        body = next(todo, None)
                    if body is None:
                        return
                    r = http.post(
                        "/api/v1/events",
                        content=body,
                        headers={"content-type": "application/x-ndjson"},
                    )
                    r.raise_for_status()

        live_now = httpx.get(f"{base}/api/v1/status", timeout=60).json()["live"]
        pids = [proc.pid] + (
            [int(live_now["analysis_pid"])] if live_now.get("analysis_pid") else []
        )
        cpu0 = [soak.proc_stats(pid)[2] for pid in pids]
        clients0 = time.process_time()
        t0 = time.perf_counter()
        workers = [threading.Thread(target=client) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        seconds = time.perf_counter() - t0
        clients_cpu = time.process_time() - clients0
        n = size * batches
        # until the analysis has fed every stored event: its status row in the database,
        # not GET /api/v1/status, whose counts over the events table cost the server
        watch = Store.open(db)
        while analysis == "process":
            found = watch.get_meta(live_split.STATUS_KEY)
            if isinstance(found, dict) and found.get("last_seq", 0) >= n:
                break
            time.sleep(0.05)
        drained = time.perf_counter() - t0
        cpu = [soak.proc_stats(pid)[2] - c for pid, c in zip(pids, cpu0, strict=True)]
        status = httpx.get(f"{base}/api/v1/status", timeout=60).json()["live"]
        per_event = " + ".join(f"{c / n * 1e6:.1f}" for c in cpu)
        print(
            f"HTTP {analysis:>7}, {threads:>2} clients: {n / seconds:,.0f} ev/s acked,"
            f" {n / drained:,.0f} drained; CPU µs/event (HTTP + analysis): {per_event},"
            f" clients {clients_cpu / n * 1e6:.1f}"
            f" (commits: {status.get('ingest_commits', '—')})",
            flush=True,
        )


if __name__ == "__main__":
    main()
