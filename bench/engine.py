"""Benchmark of cityeye's scenario engine, and of Node-RED on the same rules (issue 3).

    .venv/bin/python bench/engine.py [--events N] [--keys K] [--seed S]
                                     [--skip-nodered] [--quick] [--engine-stub]

One run does, on one stream (``bench/stream.py``: 5 M events over 1 M registered keys
by default, generated once and cached under ``bench/work/``):

(a) cityeye's engine with the whole built-in catalogue; (b) the engine with only the
five normative rules (elevator.ebike, fire.smoke, power.overload, elderly.inactive,
access.forced); (c) Node-RED running the same five rules as a flow
(``bench/nodered/``), fed the same bytes; (d) the ratio (b)/(c) and the issue's
targets. Results are printed and written to ``bench/results/engine-<date>.json``.

Why it is built this way:

* Each measured run is a child process pinned to one core (``sched_setaffinity``):
  the targets are per core, the two engines get the same core, and each child's peak
  RSS is its own, not the sum of everything measured before it.
* The Python child decodes the stream in chunks of ~50,000 lines, then feeds the
  chunk: the time spent in ``feed()`` alone gives "engine alone on pre-decoded
  events", the total (read + ``decode_event`` + feed) gives "end-to-end", from one
  pass, without holding 5 M decoded events in memory.
* Latency is wall clock from the start of the ``feed()`` of the triggering event
  (``AlertChange.event_id``; its line is looked up through ``first_line.npy``) to
  the alert callback. For absence and duration scenarios the alert is caused by the
  clock, so it is measured from the start of the ``feed()`` during which the
  callback ran. The pauses in which the next chunk is decoded are taken out (and an
  estimate with decoding put back is kept beside it). Alerts raised in ``finish()``
  are counted apart.
* The Node-RED ratio compares end-to-end figures: both read the same JSON lines and
  both parse them (orjson + cityeye's validation; the json node). Node-RED's time is
  measured by the flow itself, first message to last.
* Alert counts are checked three ways: against what the stream planted
  (``meta.json``), between (a)/(b), and against Node-RED. A benchmark of an engine
  that fires the wrong alerts measures nothing.

``--engine-stub`` runs a stand-in engine defined below (two of the five rules, no
reordering) so the harness can be exercised before ``cityeye.scenarios`` exports
``Engine``. Only cityeye's real engine gives numbers worth reporting.
"""

from __future__ import annotations

import argparse
import array
import gc
import hashlib
import heapq
import importlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stream as bench_stream  # bench/ is not a package: its own directory is on the path

from cityeye.domain import Alert, Event, Severity, World
from cityeye.ingest import decode_event
from cityeye.runtime import bulk_allocation, tune_gc
from cityeye.scenarios import set_bulk_hook

BENCH = Path(__file__).resolve().parent
NODERED = BENCH / "nodered"
RESULTS = BENCH / "results"
WORK = BENCH / "work"
FIVE = frozenset(bench_stream.FIVE_RULES)
#: Severity each of the five rules opens with; "escalated" counts alerts above it.
OPENS_AT = {
    "elevator.ebike": Severity.MEDIUM,
    "fire.smoke": Severity.HIGH,
    "power.overload": Severity.HIGH,
    "elderly.inactive": Severity.HIGH,
    "access.forced": Severity.MEDIUM,
}
#: Scenario trigger types whose alerts the clock raises (latency from the feed in progress).
CLOCK_TRIGGERS = frozenset({"absence", "duration"})
TARGET_EPS = 200_000
TARGET_RATIO = 1.5
TARGET_MEM_BYTES = 2 * 1024**3
QUICK = (200_000, 50_000)
CHILD_TIMEOUT_S = 1800

console = Console(stderr=True)


# ------------------------------------------------------------------ the engine API


class ChangeLike(Protocol):
    """``cityeye.scenarios.AlertChange`` as the benchmark uses it."""

    @property
    def kind(self) -> str: ...
    @property
    def alert(self) -> Alert: ...
    @property
    def event_id(self) -> str | None: ...


class EngineLike(Protocol):
    """``cityeye.scenarios.Engine`` as the benchmark uses it."""

    @property
    def alerts(self) -> list[Alert]: ...
    def feed(self, event: Event) -> object: ...
    def finish(self) -> object: ...
    def stats(self) -> dict[str, Any]: ...


EngineFactory = Callable[..., EngineLike]


@dataclass(frozen=True, slots=True)
class StubSpec:
    id: str
    trigger_type: str


@dataclass(frozen=True, slots=True)
class StubChange:
    kind: str
    alert: Alert
    event_id: str | None


class StubEngine:
    """Stand-in for ``cityeye.scenarios.Engine`` (``--engine-stub``), to test the
    harness before the engine lands: the same API, duplicates and the clock, and two
    of the five rules (access.forced without its resolve, elderly.inactive with its
    timers), evaluated in arrival order. Not a reference implementation."""

    def __init__(
        self,
        specs: Iterable[StubSpec],
        world: World,
        *,
        lateness_s: int,
        on_alert: Callable[[StubChange], None],
    ) -> None:
        self.ids = {s.id for s in specs}
        self.world = world
        self.lateness = lateness_s
        self.on_alert = on_alert
        self.alerts: list[Alert] = []
        self.seen: set[str] = set()
        self.max_ts = float("-inf")
        self.counts = {"events": 0, "duplicates": 0, "late": 0}
        self.denials: dict[str, deque[float]] = defaultdict(deque)
        self.open: dict[tuple[str, str], Alert] = {}
        self.deadline: dict[str, float] = {}
        self.timers: list[tuple[float, str]] = []
        self.elderly = [s.id for s in world.subjects.values() if "elderly_alone" in s.tags]

    def _open(
        self, scenario: str, key: str, at: float, severity: Severity, eid: str | None
    ) -> None:
        alert = Alert(
            id=f"{scenario}/{key}/{len(self.alerts)}",
            scenario=scenario,
            key=key,
            severity=severity,
            opened_at=datetime.fromtimestamp(at, UTC),
            event_ids=[eid] if eid else [],
        )
        self.alerts.append(alert)
        self.open[(scenario, key)] = alert
        self.on_alert(StubChange("opened", alert, eid))

    def _advance(self, clock: float) -> None:
        while self.timers and self.timers[0][0] <= clock:
            due, subject = heapq.heappop(self.timers)
            if self.deadline.get(subject) == due and ("elderly.inactive", subject) not in self.open:
                self._open("elderly.inactive", subject, due, Severity.HIGH, None)

    def feed(self, event: Event) -> None:
        self.counts["events"] += 1
        if event.id in self.seen:
            self.counts["duplicates"] += 1
            return
        self.seen.add(event.id)
        ts = event.ts.timestamp()
        if "elderly.inactive" in self.ids and self.max_ts == float("-inf"):
            for sid in self.elderly:
                self.deadline[sid] = ts + 86400
                self.timers.append((ts + 86400, sid))
            heapq.heapify(self.timers)
        self.max_ts = max(self.max_ts, ts)
        clock = self.max_ts - self.lateness
        if ts < clock:
            self.counts["late"] += 1
            return
        self._advance(clock)
        if event.kind == "access.denied" and "access.forced" in self.ids and event.device_id:
            window = self.denials[event.device_id]
            window.append(ts)
            while ts - window[0] > 600:
                window.popleft()
            if len(window) >= 5 and ("access.forced", event.device_id) not in self.open:
                self._open("access.forced", event.device_id, ts, Severity.MEDIUM, event.id)
        elif event.kind in ("door.open", "motion.detected", "water.flow"):
            subject = self.world.event_subject(event)
            if subject is not None and subject in self.deadline:
                alert = self.open.pop(("elderly.inactive", subject), None)
                if alert is not None:
                    alert.resolved_at = event.ts
                    self.on_alert(StubChange("resolved", alert, event.id))
                self.deadline[subject] = ts + 86400
                heapq.heappush(self.timers, (ts + 86400, subject))

    def finish(self) -> None:
        self._advance(self.max_ts)

    def stats(self) -> dict[str, Any]:
        return {**self.counts, "timers": len(self.timers), "keys": len(self.deadline)}


STUB_SPECS = [
    StubSpec("elderly.inactive", "absence"),
    StubSpec("access.forced", "count"),
]


def engine_api(stub: bool) -> tuple[list[Any], EngineFactory]:
    """The full catalogue and the engine class: cityeye's, or the stand-in."""
    if stub:
        return list(STUB_SPECS), StubEngine
    try:
        scenarios = importlib.import_module("cityeye.scenarios")
        return list(scenarios.load_catalogue()), scenarios.Engine
    except (ImportError, AttributeError) as exc:
        raise SystemExit(
            f"cityeye.scenarios does not provide load_catalogue/Engine yet ({exc}); "
            "run with --engine-stub to exercise the harness"
        ) from None


# ------------------------------------------------------------------ measurements


def rss_bytes() -> int:
    """Resident set size now (``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def percentiles(values_ns: list[int]) -> dict[str, float | int]:
    """p50/p99/p99.9/max in microseconds, and the count."""
    if not values_ns:
        return {"n": 0}
    arr = np.asarray(values_ns, dtype=np.float64) / 1000.0
    p50, p99, p999 = np.percentile(arr, [50, 99, 99.9])
    return {
        "n": len(values_ns),
        "p50_us": round(float(p50), 1),
        "p99_us": round(float(p99), 1),
        "p999_us": round(float(p999), 1),
        "max_us": round(float(arr.max()), 1),
    }


def _trigger_type(spec: Any) -> str:
    """``absence``, ``count`` ...: a ScenarioSpec's ``trigger_type``, or the ``type`` of
    a loaded scenario's ``config.trigger``."""
    value = getattr(spec, "trigger_type", None)
    if value is None:
        trigger = getattr(getattr(spec, "config", None), "trigger", None)
        value = getattr(trigger, "type", "")
    return str(getattr(value, "value", value))


def run_python(args: argparse.Namespace) -> dict[str, Any]:
    """One measured run of cityeye's engine (in a child process)."""
    pin(args.cpu)
    found = bench_stream.load_cached(args.work, args.events, args.keys, args.seed)
    if found is None:
        raise SystemExit("stream not generated; run bench/engine.py without --phase")
    stream = found
    t = time.perf_counter()
    world = bench_stream.build_world(stream.layout, args.seed)
    world_s = time.perf_counter() - t
    specs, engine_cls = engine_api(args.engine_stub)
    if args.rules == "five":
        specs = [s for s in specs if s.id in FIVE]
        missing = FIVE - {s.id for s in specs}
        if missing:
            console.print(f"[yellow]the catalogue lacks {sorted(missing)}[/]")
    clock_driven = {s.id for s in specs if _trigger_type(s) in CLOCK_TRIGGERS}
    first_line = np.load(stream.first_line)
    n = stream.events
    starts = array.array("q", bytes(8 * n))
    changes: list[tuple[str, str, str | None, int]] = []
    pc = time.perf_counter_ns

    def on_alert(change: ChangeLike) -> None:
        changes.append((change.alert.scenario, change.kind, change.event_id, pc()))

    gc.collect()
    gc.freeze()  # the world is long-lived, as in `cityeye serve`
    tune_gc()  # what `cityeye serve` and `cityeye replay` do (cityeye.runtime) …
    set_bulk_hook(bulk_allocation)  # … both of it (cli.common.own_process)
    rss_base = rss_bytes()
    engine = engine_cls(specs, world, lateness_s=bench_stream.LATENESS_S, on_alert=on_alert)
    feed = engine.feed
    i = 0
    t_read = t_decode = t_feed = 0
    max_timers = 0
    max_rss = rss_base
    chunks = 0
    # feed phases: wall time each began and feed time before it (for latencies)
    phase_wall: list[int] = []
    phase_feed: list[int] = []
    label = f"cityeye, {'catalogue' if args.rules == 'all' else 'five rules'}"
    with _progress() as progress:
        task = progress.add_task(label, total=n)
        lines_iter = iter(bench_stream.read_lines(stream.jsonl))
        while True:
            t0 = pc()
            lines = next(lines_iter, None)
            t1 = pc()
            if lines is None:
                break
            events = [decode_event(line) for line in lines]
            t2 = pc()
            phase_wall.append(t2)
            phase_feed.append(t_feed)
            for j, event in enumerate(events, i):
                starts[j] = pc()
                feed(event)
            i += len(events)
            t3 = pc()
            t_read += t1 - t0
            t_decode += t2 - t1
            t_feed += t3 - t2
            chunks += 1
            if chunks % 4 == 1:  # stats() may walk every key: not after every chunk
                max_timers = max(max_timers, int(engine.stats().get("timers", 0)))
                max_rss = max(max_rss, rss_bytes())
            progress.update(task, completed=i)
        del events, lines
        finish_start = pc()
        phase_wall.append(finish_start)
        phase_feed.append(t_feed)
        engine.finish()
        t_finish = pc() - finish_start
    stats = engine.stats()
    max_timers = max(max_timers, int(stats.get("timers", 0)))
    gc.collect()
    rss_end = rss_bytes()
    peak = peak_rss_bytes()
    feed_s = (t_feed + t_finish) / 1e9
    total_s = (t_read + t_decode + t_feed + t_finish) / 1e9
    return {
        "run": f"cityeye-{args.rules}",
        "engine": "stub" if args.engine_stub else "cityeye.scenarios.Engine",
        "scenarios": sorted(s.id for s in specs),
        "events": i,
        "world_build_s": round(world_s, 2),
        "read_s": round(t_read / 1e9, 2),
        "decode_s": round(t_decode / 1e9, 2),
        "feed_s": round(t_feed / 1e9, 2),
        "finish_s": round(t_finish / 1e9, 3),
        "engine_events_per_s": round(i / feed_s) if feed_s else None,
        "e2e_events_per_s": round(i / total_s) if total_s else None,
        "rss_world_bytes": rss_base,
        "rss_peak_bytes": peak,
        "rss_end_bytes": rss_end,
        "engine_peak_bytes": max(peak, max_rss) - rss_base,
        "engine_end_bytes": rss_end - rss_base,
        "timers_peak": max_timers,
        "stats": {k: v for k, v in stats.items() if isinstance(v, int | float | str)},
        "latency": _latencies(
            changes,
            starts,
            first_line,
            (phase_wall, phase_feed),
            t_decode / max(i, 1),
            clock_driven,
        ),
        "alerts": _alert_counts(engine.alerts, changes),
    }


def _latencies(
    changes: list[tuple[str, str, str | None, int]],
    starts: array.array[int],
    first_line: np.ndarray[Any, Any],
    phases: tuple[list[int], list[int]],
    decode_ns: float,
    clock_driven: set[str],
) -> dict[str, Any]:
    """Latency of every ``opened`` change, from the start of the ``feed()`` of its
    cause to the callback (see the module docstring).

    The run decodes a chunk, then feeds it, so wall time between two feeds may hold
    the decoding of the next chunk; that pause is no part of the engine's latency and
    is taken out: times are mapped onto a clock that only runs while feeding
    (``phases``: wall time each feed phase began, feed time before it). ``with_decode``
    adds back what decoding the events fed in between costs on average, as a stream
    decoded event by event would see it."""
    started = np.frombuffer(starts, dtype=np.int64)
    phase_wall = np.asarray(phases[0], dtype=np.int64)
    phase_feed = np.asarray(phases[1], dtype=np.int64)
    finish_start = int(phase_wall[-1])

    def feed_clock(wall: int) -> int:
        k = max(int(np.searchsorted(phase_wall, wall, side="right")) - 1, 0)
        return int(phase_feed[k]) + wall - int(phase_wall[k])

    by_event: list[int] = []
    by_clock: list[int] = []
    with_decode: list[int] = []
    at_finish = 0
    for scenario, kind, event_id, now in changes:
        if kind != "opened":
            continue
        if now >= finish_start:
            at_finish += 1
            continue
        current = max(int(np.searchsorted(started, now, side="right")) - 1, 0)
        line = -1
        if event_id is not None and scenario not in clock_driven:
            tail = event_id.rpartition("-")[2]
            if tail.isdigit() and int(tail) < first_line.size:
                line = int(first_line[int(tail)])
        latency_of = by_event if line >= 0 else by_clock
        cause = line if line >= 0 else current
        latency = feed_clock(now) - feed_clock(int(started[cause]))
        latency_of.append(latency)
        with_decode.append(latency + round((current - cause) * decode_ns))
    return {
        "all": percentiles(by_event + by_clock),
        "event_triggered": percentiles(by_event),
        "clock_triggered": percentiles(by_clock),
        "with_decode": percentiles(with_decode),
        "opened_in_finish": at_finish,
    }


def _alert_counts(
    alerts: list[Alert], changes: list[tuple[str, str, str | None, int]]
) -> dict[str, dict[str, int]]:
    """Per scenario: alerts opened, resolved, escalated (severity above the one the
    rule opens with), critical, and the changes seen by the callback."""
    out: dict[str, dict[str, int]] = defaultdict(
        lambda: {"opened": 0, "resolved": 0, "escalated": 0, "critical": 0}
    )
    for alert in alerts:
        row = out[alert.scenario]
        row["opened"] += 1
        row["resolved"] += alert.resolved_at is not None
        base = OPENS_AT.get(alert.scenario)
        row["escalated"] += base is not None and Severity(alert.severity).rank > base.rank
        row["critical"] += alert.severity == Severity.CRITICAL
    for scenario, kind, _, _ in changes:
        row = out[scenario]
        row[f"changes_{kind}"] = row.get(f"changes_{kind}", 0) + 1
    return dict(sorted(out.items()))


# ----------------------------------------------------------------------- Node-RED


def _npm_stamp() -> str:
    lock = NODERED / "package-lock.json"
    return hashlib.sha256(lock.read_bytes() + (NODERED / "package.json").read_bytes()).hexdigest()


def install_nodered() -> str:
    """``npm ci`` into bench/nodered/node_modules, once per lockfile."""
    stamp = NODERED / "node_modules" / ".cityeye-bench-stamp"
    want = _npm_stamp()
    if not (stamp.is_file() and stamp.read_text() == want):
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm not found: install Node.js >= 18.5 with npm")
        console.print("[bold]installing Node-RED[/] (npm ci, once)")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODERED,
            check=True,
        )
        stamp.write_text(want)
    pkg = json.loads((NODERED / "node_modules" / "node-red" / "package.json").read_text())
    return str(pkg["version"])


def run_nodered(stream: bench_stream.Stream, work: Path, cpu: int, batch: int) -> dict[str, Any]:
    """Node-RED with the five rules on the stream, pinned to ``cpu``."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node not found: install Node.js >= 18.5")
    version = install_nodered()
    subprocess.run([node, str(NODERED / "build-flows.js")], check=True, capture_output=True)
    user_dir = work / "nodered-userdir"
    shutil.rmtree(user_dir, ignore_errors=True)
    result_path = user_dir.with_name("nodered-result.json")
    result_path.unlink(missing_ok=True)
    cmd = [
        node,
        "--max-old-space-size=12288",
        str(NODERED / "run.js"),
        "--stream",
        str(stream.jsonl),
        "--world",
        str(stream.nodered_world),
        "--user-dir",
        str(user_dir),
        "--result",
        str(result_path),
        "--batch",
        str(batch),
    ]
    log = work / "nodered.log"
    with (
        log.open("wb") as err,
        _progress() as progress,
        subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            preexec_fn=lambda: pin(cpu),
        ) as proc,
    ):
        task = progress.add_task(f"Node-RED {version}, five rules", total=stream.events)
        assert proc.stdout is not None
        watchdog = threading.Timer(CHILD_TIMEOUT_S, proc.kill)
        watchdog.start()
        try:
            for line in proc.stdout:
                if line.startswith("progress "):
                    progress.update(task, completed=int(line.split()[1]))
            rc = proc.wait()
        finally:
            watchdog.cancel()
    if rc != 0 or not result_path.is_file():
        tail = log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"Node-RED run failed (exit {rc}); {log}:\n{tail}")
    result: dict[str, Any] = json.loads(result_path.read_text())
    result["run"] = "nodered-five"
    result["e2e_events_per_s"] = round(result["events"] / (result["elapsed_ms"] / 1000))
    return result


# ----------------------------------------------------------------------- reporting


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    node = shutil.which("node")
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        if node
        else None
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "orjson": orjson.__version__,
        "node": node_version,
        "git": _git(),
    }


def _git() -> dict[str, Any] | None:
    """The commit measured, and whether the work tree had changes (read-only)."""
    git = shutil.which("git")
    if git is None:
        return None
    root = BENCH.parent
    head = subprocess.run(
        [git, "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    )
    status = subprocess.run(
        [git, "status", "--porcelain", "--", "src"], cwd=root, capture_output=True, text=True
    )
    if head.returncode != 0:
        return None
    return {"commit": head.stdout.strip(), "src_modified": bool(status.stdout.strip())}


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


def _mib(n: int | float | None) -> str:
    return "—" if n is None else f"{n / 1024**2:,.0f} MiB"


def _num(n: int | float | None) -> str:
    return "—" if n is None else f"{n:,.0f}"


def report(result: dict[str, Any]) -> None:
    """Print the tables."""
    out = Console()
    if not out.is_terminal:
        out = Console(width=150)
    m = result["machine"]
    out.print(
        f"[bold]cityeye engine benchmark[/] {result['date']} — {m['cpu']}, {m['cores']} cores, "
        f"Python {m['python']}, Node {m['node']}, Node-RED {result.get('nodered_version', '—')}"
    )
    s = result["stream"]
    out.print(
        f"stream: {s['events']:,} events ({s['duplicates']:,} duplicates) over {s['keys']:,} "
        f"keys, {s['bytes'] / 1024**2:,.0f} MiB, seed {s['seed']}; "
        f"generated in {s['generate_s']} s{' (cached)' if s.get('cached') else ''}"
    )
    runs = Table(title="Throughput, memory, latency (one core each)")
    for col in (
        "run",
        "engine alone ev/s",
        "end-to-end ev/s",
        "peak RSS",
        "engine state",
        "timers (peak)",
        "p99 latency",
        "alerts",
    ):
        runs.add_column(col, justify="left" if col == "run" else "right")
    for key, name in (
        ("cityeye_all", "cityeye, catalogue"),
        ("cityeye_five", "cityeye, five rules"),
    ):
        r = result.get(key)
        if r is None:
            continue
        lat = r["latency"]["all"]
        runs.add_row(
            name + (" (stub)" if r["engine"] == "stub" else ""),
            _num(r["engine_events_per_s"]),
            _num(r["e2e_events_per_s"]),
            _mib(r["rss_peak_bytes"]),
            _mib(r["engine_peak_bytes"]),
            _num(r["timers_peak"]),
            f"{lat['p99_us']:,.0f} µs" if lat.get("n") else "—",
            _num(sum(a["opened"] for a in r["alerts"].values())),
        )
    nr = result.get("nodered")
    if nr is not None:
        hwm = nr.get("vm_hwm_kib")
        runs.add_row(
            "Node-RED, five rules",
            "—",
            _num(nr["e2e_events_per_s"]),
            _mib(hwm * 1024 if hwm else None),
            _mib((hwm - nr["rss_before_feed_kib"]) * 1024 if hwm else None),
            "—",
            "—",
            _num(sum(c["opened"] for c in nr["changes"].values())),
        )
    out.print(runs)
    checks = Table(title="Alerts on the five rules: planted / cityeye five / catalogue / Node-RED")
    checks.add_column("rule")
    for col in ("opened", "resolved", "escalated"):
        checks.add_column(col, justify="right")
    checks.add_column("agree")
    for rule, row in result["alert_check"].items():
        cells = [
            " / ".join("—" if v is None else str(v) for v in row[col])
            for col in ("opened", "resolved", "escalated")
        ]
        checks.add_row(rule, *cells, "[green]yes[/]" if row["agree"] else "[red]NO[/]")
    out.print(checks)
    targets = Table(title="Targets (issue 3)")
    for col in ("target", "measured", "verdict"):
        targets.add_column(col)
    for t in result["targets"]:
        verdict = {True: "[green]PASS[/]", False: "[red]FAIL[/]", None: "—"}[t["pass"]]
        targets.add_row(t["target"], t["measured"], verdict)
    out.print(targets)
    out.print(f"written: {result['path']}")


def alert_check(result: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Per rule: (planted, cityeye five, cityeye catalogue, Node-RED) for opened,
    resolved and escalated, and whether every available figure agrees."""
    out: dict[str, Any] = {}
    nr = result.get("nodered")
    for rule in bench_stream.FIVE_RULES:
        esc = expected["critical"][rule] + expected["high"][rule]
        rows: dict[str, list[int | None]] = {
            "opened": [expected["opened"][rule]],
            "resolved": [expected["resolved"][rule]],
            "escalated": [esc],
        }
        for key in ("cityeye_five", "cityeye_all"):
            r = result.get(key)
            counts = None if r is None else r["alerts"].get(rule)
            for col in rows:
                present = r is not None and rule in r["scenarios"]
                rows[col].append((counts or {}).get(col, 0) if present else None)
        for col in rows:
            if nr is None:
                rows[col].append(None)
            else:
                ch = nr["changes"][rule]
                rows[col].append(ch["updated"] if col == "escalated" else ch[col])
        agree = all(len({v for v in vals if v is not None}) == 1 for vals in rows.values())
        out[rule] = {**rows, "agree": agree}
    return out


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    full = result.get("cityeye_all")
    five = result.get("cityeye_five")
    nr = result.get("nodered")
    out: list[dict[str, Any]] = []
    if full is not None:
        eps = full["engine_events_per_s"]
        out.append(
            {
                "target": f"≥ {TARGET_EPS:,} events/s, engine alone, one core (catalogue)",
                "measured": f"{eps:,} events/s",
                "pass": eps >= TARGET_EPS,
            }
        )
        mem = full["engine_peak_bytes"]
        out.append(
            {
                "target": "< 2 GiB for 1 M timers (engine state, catalogue)",
                "measured": f"{mem / 1024**3:.2f} GiB at {full['timers_peak']:,} timers",
                "pass": mem < TARGET_MEM_BYTES,
            }
        )
    if five is not None and nr is not None:
        ratio = five["e2e_events_per_s"] / nr["e2e_events_per_s"]
        result["ratio"] = {
            "e2e": round(ratio, 2),
            "engine_alone_vs_nodered": round(
                five["engine_events_per_s"] / nr["e2e_events_per_s"], 2
            ),
        }
        out.append(
            {
                "target": f"≥ {TARGET_RATIO}× Node-RED on the five rules (end-to-end)",
                "measured": f"{ratio:.2f}× ({five['e2e_events_per_s']:,} vs "
                f"{nr['e2e_events_per_s']:,} events/s)",
                "pass": ratio >= TARGET_RATIO,
            }
        )
    return out


# ---------------------------------------------------------------------------- main


def _child(args: argparse.Namespace, rules: str, cpu: int) -> dict[str, Any]:
    """Run one measured cityeye run in a fresh process and return its result."""
    out = args.work / f"phase-{rules}.json"
    out.unlink(missing_ok=True)
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        "python",
        "--rules",
        rules,
        "--events",
        str(args.events),
        "--keys",
        str(args.keys),
        "--seed",
        str(args.seed),
        "--work",
        str(args.work),
        "--cpu",
        str(cpu),
        "--phase-result",
        str(out),
    ]
    if args.engine_stub:
        cmd.append("--engine-stub")
    subprocess.run(cmd, check=True, timeout=CHILD_TIMEOUT_S)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Benchmark cityeye's scenario engine against Node-RED (issue 3)."
    )
    p.add_argument("--events", type=int, default=5_000_000, help="events in the stream")
    p.add_argument("--keys", type=int, default=1_000_000, help="registered keys")
    p.add_argument("--seed", type=int, default=2021)
    p.add_argument("--quick", action="store_true", help="smoke run: 200k events, 50k keys")
    p.add_argument("--skip-nodered", action="store_true")
    p.add_argument(
        "--engine-stub", action="store_true", help="use the stand-in engine (harness test)"
    )
    p.add_argument("--work", type=Path, default=WORK, help="cache of streams and Node-RED runs")
    p.add_argument("--out", type=Path, default=RESULTS, help="where the result JSON goes")
    p.add_argument("--cpu", type=int, default=None, help="core to pin the runs to (default: last)")
    p.add_argument("--nodered-batch", type=int, default=1000, help=argparse.SUPPRESS)
    p.add_argument("--phase", choices=["python"], help=argparse.SUPPRESS)
    p.add_argument("--rules", choices=["all", "five"], default="all", help=argparse.SUPPRESS)
    p.add_argument("--phase-result", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.events, args.keys = QUICK
    if args.cpu is None:
        cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
        args.cpu = cpus[-1]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.phase == "python":
        args.phase_result.write_text(json.dumps(run_python(args), indent=2))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    result: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "args": {
            "events": args.events,
            "keys": args.keys,
            "seed": args.seed,
            "quick": args.quick,
            "engine_stub": args.engine_stub,
            "cpu": args.cpu,
        },
        "machine": machine(),
    }
    cached = bench_stream.load_cached(args.work, args.events, args.keys, args.seed)
    if cached is None:
        with _progress() as progress:
            task = progress.add_task("generating the stream", total=args.events)
            stream = bench_stream.generate(
                args.work,
                args.events,
                args.keys,
                args.seed,
                progress=lambda n: progress.advance(task, n),
            )
    else:
        stream = cached
    result["stream"] = {**stream.meta, "path": str(stream.jsonl), "cached": cached is not None}
    result["cityeye_all"] = _child(args, "all", args.cpu)
    result["cityeye_five"] = _child(args, "five", args.cpu)
    if not args.skip_nodered:
        try:
            result["nodered"] = run_nodered(stream, args.work, args.cpu, args.nodered_batch)
            result["nodered_version"] = result["nodered"]["node_red_version"]
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            console.print(f"[red]Node-RED: {exc}[/]")
            result["nodered_error"] = str(exc)
    result["alert_check"] = alert_check(result, stream.meta["expected"])
    result["targets"] = targets(result)
    result["elapsed_s"] = round((datetime.now().astimezone() - started).total_seconds(), 1)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if args.quick else ""
    suffix += "-stub" if args.engine_stub else ""
    path = args.out / f"engine-{started.date().isoformat()}{suffix}.json"
    result["path"] = str(path)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
