"""Soak of the live service (issue 14, finding 10): does memory stay flat, and the
snapshot stall short, under a steady realistic load?

    .venv/bin/python bench/soak.py [--minutes 30] [--rate 5000] [--batch 250] [--threads 2]
                                   [--sample-s 10] [--warmup-min M] [--world FILE] [--token]

One run:

1. Generates the demo district (``cityeye world demo``; ``--world`` for another file),
   loads it into a fresh SQLite database in a temporary directory and starts
   ``cityeye serve`` on it as a subprocess **on the wall clock** (the live default, not
   ``--clock events``), with ``--open-ingest`` (``--token``: an unbound gateway token
   from ``cityeye token add`` instead) and the default ``--lateness`` unless given.
2. Posts NDJSON batches of ``--batch`` events from ``--threads`` client threads, paced
   to ``--rate`` events/s by the wall clock (batch *k* is due at start + k·batch/rate;
   a batch that could not go on time goes as soon as it can, so a slow server shows as
   lag, not as a lower rate). Timestamps are *now*. The mix is routine traffic of the
   world's devices (motion, door and water signs of life, meter, temperature, bin,
   water-level and tilt readings, gates, street-camera detections, crowd counts,
   parking), ``device.heartbeat`` of the devices that otherwise only alarm (smoke, gas,
   SOS, lift, manhole) through their gateway, ``--reports-per-min`` residents' reports
   (each one a case), ``--dup-share`` re-sent 3–90 s later byte for byte and
   ``--late-share`` stamped 1–5 min in the past. Ids are unique; keys are the world's,
   so they are bounded as in real traffic. Values stay clear of every alarm threshold:
   only the reports raise alerts.
3. Every ``--sample-s``: the server's RSS (``VmRSS`` of the subprocess), its CPU, the
   events/s acknowledged, per-request ack latency p50/p99/max in the window, how far
   the sender is behind its schedule, the size of the engine snapshot in the database
   (``engine_state``), and — every ``--status-s`` — ``snapshot_s``/``snapshot_bytes``
   from ``GET /api/v1/status`` where the server reports them.
4. At the end: the table of samples and a verdict after the warm-up (RSS then and at
   the end, the least-squares slope in MB/min, the worst stall = largest ack minus the
   typical ack, events/s against ``--rate``, events lost: every acknowledged event must
   be a row of ``events``); writes ``bench/results/soak-<date>[-<minutes>m].json``.
   Exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from cityeye.demo.simulator import CATEGORIES, SOURCE_APP, _report_text, gateway, source_of
from cityeye.domain import AreaLevel, Device, World
from cityeye.world.load import load_world

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest  # bench/ is not a package: its own directory is on the path

HERE = ingest.HERE
ROOT = ingest.ROOT
PYTHON = ingest.PYTHON
TZ = ingest.TZ
console = ingest.console

#: Share of the events per channel, in percent (motion sensors chatter most).
MIX: dict[str, float] = {
    "motion": 30,
    "meter": 12,
    "heartbeat": 10,
    "bin": 8,
    "temperature": 8,
    "water": 8,
    "door": 6,
    "gate": 6,
    "camera": 5,
    "crowd": 3,
    "level": 2,
    "tilt": 1,
    "parking": 1,
}
#: Device kinds whose only documented events are alarms: they send heartbeats.
HEARTBEAT_KINDS = ("smoke_detector", "gas_detector", "sos_button", "elevator_monitor")
HEARTBEAT_KINDS += ("manhole_sensor",)
VARIANTS = 4  # attribute variants pre-built per device
ID_MARK = "@@ID@@"
TS_MARK = "@@TS@@"


# ------------------------------------------------------------------------ payloads


@dataclass(slots=True)
class Template:
    """One event as bytes around its id number and its timestamp."""

    head: bytes
    mid: bytes
    tail: bytes

    def render(self, n: int, ts: bytes) -> bytes:
        return b"".join((self.head, b"%d" % n, self.mid, ts, self.tail))


@dataclass(slots=True)
class Slot:
    """A device's templates: picked at random, or in turn (``cycle``: a parking
    space is occupied, then freed)."""

    templates: list[Template]
    cycle: bool = False
    turn: int = 0

    def pick(self, rng: random.Random) -> Template:
        if self.cycle:
            self.turn += 1
            return self.templates[self.turn % len(self.templates)]
        return rng.choice(self.templates)


def template(
    kind: str, source: str, base: str, attrs: dict[str, Any], device: str | None
) -> Template:
    event: dict[str, Any] = {"id": f"{base}-{ID_MARK}", "kind": kind, "ts": TS_MARK}
    event["source"] = source
    if device is not None:
        event["device_id"] = device
    event["attrs"] = attrs
    raw = orjson.dumps(event)
    head, rest = raw.split(ID_MARK.encode())
    mid, tail = rest.split(TS_MARK.encode())
    return Template(head, mid, tail)


def device_slot(d: Device, tag: str, rng: random.Random) -> tuple[str, Slot] | None:
    """The channel of ``d`` and its templates: routine values, never an alarm."""
    src = source_of(d)
    base = f"{d.id}-{tag}"

    def one(kind: str, make: Any) -> list[Template]:
        return [template(kind, src, base, make(), d.id) for _ in range(VARIANTS)]

    u = rng.uniform
    match d.kind:
        case "motion_sensor":
            return "motion", Slot(one("motion.detected", dict))
        case "door_sensor":
            return "door", Slot(one("door.open", lambda: {"method": rng.choice(["card", "key"])}))
        case "water_meter":
            return "water", Slot(one("water.flow", lambda: {"litres": round(u(0.5, 12), 1)}))
        case "power_meter":
            rated = float(d.extra.get("rated_a", 20))
            return "meter", Slot(
                one(
                    "meter.reading",
                    lambda: {
                        "current_a": round(rated * u(0.2, 0.8), 1),
                        "rated_a": rated,
                        "leakage_ma": round(u(1, 15), 1),
                    },
                )
            )
        case "temperature_sensor":
            return "temperature", Slot(
                one("temperature.reading", lambda: {"celsius": round(u(16, 30), 1)})
            )
        case "bin_sensor":
            return "bin", Slot(one("bin.fill", lambda: {"level": rng.randint(5, 45)}))
        case "water_level_sensor":
            return "level", Slot(one("water.level", lambda: {"cm": round(u(0, 6), 1)}))
        case "tilt_sensor":
            return "tilt", Slot(one("structure.tilt", lambda: {"degrees": round(u(0, 0.2), 2)}))
        case "crowd_counter":
            return "crowd", Slot(
                one(
                    "crowd.count",
                    lambda: {"count": rng.randint(0, 4), "elderly_ratio": round(u(0, 0.3), 2)},
                )
            )
        case "camera" | "kitchen_camera":
            return "camera", Slot(
                one(
                    "camera.detection", lambda: {"label": "person", "score": round(u(0.6, 0.99), 2)}
                )
            )
        case "access_gate":
            opened = template("door.open", src, base, {"method": "card"}, d.id)
            closed = template("door.closed", src, base, {}, d.id)
            return "gate", Slot([opened, closed], cycle=True)
        case "parking_sensor":
            taken = template("parking.occupied", src, base, {}, d.id)
            freed = template("parking.freed", src, base, {}, d.id)
            return "parking", Slot([taken, freed], cycle=True)
        case kind if kind in HEARTBEAT_KINDS:
            # documented kinds of these devices are alarms only: the gateway reports
            # that they are alive, naming them in attrs (no device_id: no alarm kind)
            return "heartbeat", Slot(
                [
                    template(
                        "device.heartbeat",
                        gateway(d.id),
                        f"HB-{base}",
                        {
                            "device": d.id,
                            "battery": rng.randint(60, 100),
                            "rssi": -rng.randint(50, 95),
                        },
                        None,
                    )
                    for _ in range(VARIANTS)
                ]
            )
    return None


@dataclass
class Traffic:
    """The client's side: pre-built templates, ids, re-sends and reports."""

    world: World
    rate: float
    dup_share: float
    late_share: float
    reports_per_min: float
    seed: int = 14
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        by_channel: dict[str, list[Slot]] = {}
        for d in sorted(self.world.devices.values(), key=lambda d: d.id):
            found = device_slot(d, self.tag, self.rng)
            if found is not None:
                by_channel.setdefault(found[0], []).append(found[1])
        self.channels = {c: len(s) for c, s in sorted(by_channel.items())}
        # every device of a channel equally likely, each channel with its share
        self.pool: list[Slot] = []
        self.cum_weights: list[float] = []
        total = 0.0
        for channel, share in MIX.items():
            for slot in by_channel.get(channel, []):
                total += share / len(by_channel[channel])
                self.pool.append(slot)
                self.cum_weights.append(total)
        self.grids = [
            (g.code, (self.world.areas.get(g.parent or "") or g).name)
            for g in self.world.at_level(AreaLevel.GRID)
        ]
        self.lock = threading.Lock()
        self.n = 0
        self.reports = 0
        self.next_report = time.perf_counter()
        #: (sent at, event) for a sample of what was sent, to re-send
        self.recent: deque[tuple[float, bytes]] = deque()
        self.sent_unique = 0
        self.sent_dups = 0
        self.sent_late = 0

    def now_ts(self, back_s: float = 0.0) -> bytes:
        t = datetime.now(TZ) - timedelta(seconds=back_s)
        return t.isoformat(timespec="milliseconds").encode()

    def report(self) -> bytes:
        code, place = self.rng.choice(self.grids)
        category = self.rng.choice(CATEGORIES)
        self.n += 1
        event = {
            "id": f"APP-{self.tag}-{self.n}",
            "kind": "report.citizen",
            "ts": self.now_ts().decode(),
            "source": SOURCE_APP,
            "area": code,
            "attrs": {
                "category": category,
                "text": _report_text(self.rng, category, place),
                "photos": 0,
            },
        }
        return orjson.dumps(event)

    def batch(self, size: int) -> tuple[bytes, int]:
        """One NDJSON body of ``size`` events; returns it and how many are re-sends."""
        with self.lock:
            now = time.perf_counter()
            ts = self.now_ts()
            rng = self.rng
            out: list[bytes] = []
            dups = 0
            # re-sends of events sent 3–90 s ago
            while self.recent and self.recent[0][0] < now - 90:
                self.recent.popleft()
            eligible = len(self.recent)
            while eligible and self.recent[eligible - 1][0] > now - 3:
                eligible -= 1
            if eligible:
                for _ in range(sum(rng.random() < self.dup_share for _ in range(size))):
                    out.append(self.recent[rng.randrange(eligible)][1])
                    dups += 1
            if self.reports_per_min > 0 and now >= self.next_report and len(out) < size:
                out.append(self.report())
                self.reports += 1
                self.next_report += 60 / self.reports_per_min
            late = 0
            for slot in rng.choices(self.pool, cum_weights=self.cum_weights, k=size - len(out)):
                self.n += 1
                if rng.random() < self.late_share:
                    out.append(slot.pick(rng).render(self.n, self.now_ts(rng.uniform(60, 300))))
                    late += 1
                else:
                    out.append(slot.pick(rng).render(self.n, ts))
            for event in rng.sample(out[dups:], min(8, len(out) - dups)):
                self.recent.append((now, event))
            self.sent_unique += len(out) - dups
            self.sent_dups += dups
            self.sent_late += late
        return b"\n".join(out), dups


# ------------------------------------------------------------------------ measuring


def proc_stats(pid: int) -> tuple[float, float, float]:
    """RSS and peak RSS (MB) and CPU seconds so far of process ``pid``."""
    rss = hwm = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    return rss, hwm, cpu


def db_state(path: Path) -> dict[str, Any]:
    """The engine's stored state: bytes per ``engine_state`` row, when ``live`` was
    taken."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute("SELECT name, taken_at, length(data) FROM engine_state").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return {"error": str(exc)}
    return {
        "bytes": {name: int(n) for name, _, n in rows},
        "live_taken_at": next((at for name, at, _ in rows if name == "live"), None),
    }


def find_keys(doc: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The first value of each of ``names`` anywhere in a JSON document, and where."""
    found: dict[str, Any] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in names and k not in found:
                    found[k] = v
                    found[f"{k}_at"] = f"{path}.{k}".lstrip(".")
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(doc, "")
    return found


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def slope_per_min(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (seconds, MB) in MB per minute."""
    if len(points) < 2:
        return None
    xs = [x / 60 for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def parse_duration(text: str) -> float:
    """``10m``, ``90s``, ``1h``, ``600`` → seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    if text and text[-1] in units:
        return float(text[:-1]) * units[text[-1]]
    return float(text)


@dataclass
class Soak:
    base: str
    pid: int
    db_path: Path
    traffic: Traffic
    rate: float
    batch: int
    threads: int
    seconds: float
    sample_s: float
    status_s: float
    auth: dict[str, str]
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_batch: int = 0
    window: list[tuple[float, float, int]] = field(default_factory=list)
    acked: int = 0
    counts: dict[str, int] = field(
        default_factory=lambda: {"accepted": 0, "duplicate": 0, "rejected": 0}
    )
    errors: list[str] = field(default_factory=list)
    first_rejected: list[dict[str, Any]] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    status_calls: list[dict[str, Any]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def due(self, k: int) -> float:
        return self.t0 + k * self.batch / self.rate

    def sender(self) -> None:
        with httpx.Client(base_url=self.base, timeout=120, headers=self.auth) as http:
            while True:
                with self.lock:
                    k = self.next_batch
                    self.next_batch += 1
                due = self.due(k)
                if due >= self.t_end:
                    return
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                body, _ = self.traffic.batch(self.batch)
                n = body.count(b"\n") + 1
                t0 = time.perf_counter()
                try:
                    r = http.post(
                        "/api/v1/events",
                        content=body,
                        headers={"content-type": "application/x-ndjson"},
                    )
                except httpx.HTTPError as exc:
                    with self.lock:
                        self.errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                t1 = time.perf_counter()
                with self.lock:
                    self.window.append((t0, t1 - t0, n))
                    if r.status_code != 200:
                        self.errors.append(f"{r.status_code}: {r.text[:200]}")
                        continue
                    result = orjson.loads(r.content)
                    for key in self.counts:
                        self.counts[key] += result[key]
                    self.acked += n
                    if result["rejected"] and len(self.first_rejected) < 5:
                        self.first_rejected.extend(
                            x for x in result["results"] if x["status"] == "rejected"
                        )

    def poll_status(self) -> None:
        """``GET /api/v1/status`` every ``status_s`` (it counts events by kind and by
        area: not free, hence not every sample)."""
        with httpx.Client(base_url=self.base, timeout=60) as http:
            while not self.done.wait(self.status_s):
                t0 = time.perf_counter()
                try:
                    doc = http.get("/api/v1/status").json()
                except (httpx.HTTPError, ValueError):
                    continue
                took = time.perf_counter() - t0
                found = find_keys(doc, ("snapshot_s", "snapshot_bytes"))
                with self.lock:
                    self.status = found
                    self.status_calls.append(
                        {"at_s": round(t0 - self.t0, 1), "took_s": round(took, 3)}
                    )

    def sample(self, prev: dict[str, Any]) -> dict[str, Any]:
        now = time.perf_counter()
        with self.lock:
            window, self.window = self.window, []
            acked = self.acked
            behind = max(0.0, now - self.due(self.next_batch)) if now < self.t_end else 0.0
            status = dict(self.status)
            sent = self.traffic.sent_unique + self.traffic.sent_dups
        rss, hwm, cpu = proc_stats(self.pid)
        client_cpu = time.process_time()
        span = now - prev["_t"]
        lat = [x[1] for x in window]
        slowest = max(window, key=lambda x: x[1]) if window else None
        read = time.perf_counter()
        state = db_state(self.db_path)
        read = time.perf_counter() - read
        taken = state.get("live_taken_at")
        if taken is not None:  # stored in UTC: seconds since the start
            at = datetime.fromisoformat(taken).replace(tzinfo=UTC).timestamp()
            taken = round(at - self.t0_wall, 1)
        row: dict[str, Any] = {
            "t_s": round(now - self.t0, 1),
            "sent": sent,
            "acked": acked,
            "events_per_s": round((acked - prev["acked"]) / span) if span > 0 else 0,
            "requests": len(window),
            "ack_p50_ms": round(quantile(lat, 0.5) * 1000, 1) if lat else None,
            "ack_p99_ms": round(quantile(lat, 0.99) * 1000, 1) if lat else None,
            "ack_max_ms": round(max(lat) * 1000, 1) if lat else None,
            "behind_s": round(behind, 2),
            "rss_mb": round(rss, 1),
            "hwm_mb": round(hwm, 1),
            "server_cpu_pct": round(100 * (cpu - prev["_cpu"]) / span) if span > 0 else 0,
            "client_cpu_pct": round(100 * (client_cpu - prev["_ccpu"]) / span) if span > 0 else 0,
            "db_snapshot_bytes": state.get("bytes", {}).get("live"),
            "db_state_bytes": state.get("bytes"),
            "snapshot_taken_at_s": taken,
            "ack_max_started_at_s": round(slowest[0] - self.t0, 1) if slowest else None,
            "db_read_ms": round(read * 1000, 1),
            "status_snapshot_s": status.get("snapshot_s"),
            "status_snapshot_bytes": status.get("snapshot_bytes"),
            "_t": now,
            "_cpu": cpu,
            "_ccpu": client_cpu,
        }
        return row

    def run(self, progress: Progress) -> list[dict[str, Any]]:
        self.t0 = time.perf_counter() + 0.2
        self.t0_wall = time.time() + 0.2
        self.t_end = self.t0 + self.seconds
        rss, _, cpu = proc_stats(self.pid)
        prev: dict[str, Any] = {"_t": self.t0, "_cpu": cpu, "_ccpu": time.process_time()}
        prev["acked"] = 0
        samples: list[dict[str, Any]] = [
            {"t_s": 0.0, "acked": 0, "sent": 0, "rss_mb": round(rss, 1), **prev}
        ]
        workers = [threading.Thread(target=self.sender, daemon=True) for _ in range(self.threads)]
        poller = threading.Thread(target=self.poll_status, daemon=True)
        task = progress.add_task("soak", total=self.seconds, info="")
        for w in [*workers, poller]:
            w.start()
        k = 1
        while any(w.is_alive() for w in workers):
            wake = self.t0 + k * self.sample_s
            while time.perf_counter() < wake and any(w.is_alive() for w in workers):
                time.sleep(min(0.2, max(0.0, wake - time.perf_counter())))
            row = self.sample(prev)
            samples.append(row)
            prev = row
            k += 1
            progress.update(
                task,
                completed=min(self.seconds, row["t_s"]),
                info=(
                    f"{row['events_per_s']:,} ev/s, RSS {row['rss_mb']:.0f} MB, "
                    f"max ack {fmt(row['ack_max_ms'])} ms, lag {row['behind_s']} s"
                ),
            )
        self.done.set()
        return samples


def fmt(value: Any, spec: str = "") -> str:
    return "—" if value is None else format(value, spec)


def mb(n: Any) -> str:
    return "—" if n is None else f"{n / 2**20:.1f}"


def table(samples: list[dict[str, Any]], title: str) -> Table:
    t = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    cols = ("min", "acked", "ev/s", "RSS MB", "p50 ms", "p99 ms", "max ms", "lag s", "cpu %")
    cols += ("snap MB", "snap s")
    for col in cols:
        t.add_column(col, justify="right")
    for s in samples[1:]:
        size = s["status_snapshot_bytes"]
        t.add_row(
            f"{s['t_s'] / 60:.2f}",
            f"{s['acked']:,}",
            f"{s['events_per_s']:,}",
            f"{s['rss_mb']:.1f}",
            fmt(s["ack_p50_ms"]),
            fmt(s["ack_p99_ms"]),
            fmt(s["ack_max_ms"]),
            str(s["behind_s"]),
            str(s["server_cpu_pct"]),
            mb(size if size is not None else s["db_snapshot_bytes"]),
            fmt(s["status_snapshot_s"]),
        )
    return t


def verdict(
    samples: list[dict[str, Any]], warmup_s: float, rate: float, args: argparse.Namespace
) -> dict[str, Any]:
    """The figures after the warm-up, and each check against the issue's targets."""
    post = [s for s in samples[1:] if s["t_s"] >= warmup_s]
    full = [s for s in post if s["requests"]]
    rss_warm = post[0]["rss_mb"] if post else None
    rss_end = samples[-1]["rss_mb"]
    slope = slope_per_min([(s["t_s"], s["rss_mb"]) for s in post])
    p50s = [s["ack_p50_ms"] for s in full]
    typical = statistics.median(p50s) if p50s else None
    worst = max((s["ack_max_ms"] for s in full), default=None)
    stall = round(worst - typical, 1) if worst is not None and typical is not None else None
    snap_s = [s["status_snapshot_s"] for s in post if s["status_snapshot_s"] is not None]
    # events/s over the windows after the warm-up, the last (partial) one left out
    steady = full[:-1] or full
    first = samples[samples.index(steady[0]) - 1] if steady else None
    achieved = (
        round((steady[-1]["acked"] - first["acked"]) / (steady[-1]["t_s"] - first["t_s"]))
        if steady and first is not None and steady[-1]["t_s"] > first["t_s"]
        else None
    )
    return {
        "warmup_s": warmup_s,
        "rss_at_warmup_mb": rss_warm,
        "rss_end_mb": rss_end,
        "rss_peak_mb": samples[-1].get("hwm_mb"),
        "rss_slope_mb_per_min": round(slope, 2) if slope is not None else None,
        "ack_typical_p50_ms": typical,
        "ack_max_ms": worst,
        "stall_ms": stall,
        "status_snapshot_s_max": max(snap_s) if snap_s else None,
        "events_per_s": achieved,
        "checks": {
            "rss_flat": slope is not None and slope <= args.max_slope,
            "stall": stall is not None and stall < args.max_stall_ms,
            "rate": achieved is not None and achieved >= 0.98 * rate,
        },
    }


def db_counts(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        alerts = dict(conn.execute("SELECT scenario, count(*) FROM alerts GROUP BY scenario"))
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    finally:
        conn.close()
    return {"events": int(events), "alerts_by_scenario": alerts, "cases": int(cases)}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30, help="how long to send")
    parser.add_argument("--rate", type=float, default=5000, help="events/s to send")
    parser.add_argument("--batch", type=int, default=250, help="events per request")
    parser.add_argument("--threads", type=int, default=2, help="client threads")
    parser.add_argument("--sample-s", type=float, default=10, help="seconds between samples")
    parser.add_argument(
        "--warmup-min",
        type=float,
        default=None,
        help="minutes left out of the verdict (default: 5, or the lateness plus one "
        "if longer, since the engine holds each event that long; at most a third of the run)",
    )
    parser.add_argument("--lateness", default=None, help="passed to serve (default: its own)")
    parser.add_argument("--world", type=Path, default=None, help="default: `cityeye world demo`")
    parser.add_argument("--token", action="store_true", help="a gateway token, not open ingest")
    parser.add_argument("--dup-share", type=float, default=0.01, help="events re-sent")
    parser.add_argument("--late-share", type=float, default=0.02, help="events 1–5 min late")
    parser.add_argument("--reports-per-min", type=float, default=1.0, help="residents' reports")
    parser.add_argument("--status-s", type=float, default=60, help="GET /api/v1/status every")
    parser.add_argument("--max-slope", type=float, default=1.0, help="MB/min counted as flat")
    parser.add_argument("--max-stall-ms", type=float, default=100, help="stall target")
    args = parser.parse_args()

    lateness_s = parse_duration(args.lateness) if args.lateness else 600.0
    seconds = args.minutes * 60
    if args.warmup_min is not None:
        warmup_s = args.warmup_min * 60
    else:
        warmup_s = min(max(300.0, lateness_s + 60), seconds / 3)
    extra = ("--lateness", args.lateness) if args.lateness else ()
    with tempfile.TemporaryDirectory(prefix="cityeye-soak-") as tmp_name:
        tmp = Path(tmp_name)
        world_path = args.world
        if world_path is None:
            world_path = ingest.demo_world(tmp / "world.yaml")
        world = load_world(world_path)
        traffic = Traffic(world, args.rate, args.dup_share, args.late_share, args.reports_per_min)
        with ingest.serve(
            tmp, "soak", *extra, world=world_path, clock=None, open_ingest=not args.token
        ) as served:
            db_path = Path(served.db.removeprefix("sqlite:///"))
            auth: dict[str, str] = {}
            if args.token:
                out = subprocess.run(
                    [PYTHON, "-m", "cityeye", "token", "add", "--label", "soak", "--db", served.db],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                ).stdout
                auth = {"authorization": f"Bearer {out.split()[0]}"}
            baseline = db_counts(db_path)["events"]
            soak = Soak(
                served.base,
                served.proc.pid,
                db_path,
                traffic,
                args.rate,
                args.batch,
                args.threads,
                seconds,
                args.sample_s,
                args.status_s,
                auth,
            )
            console.print(
                f"soak: {args.rate:,.0f} events/s for {args.minutes:g} min into `cityeye serve` "
                f"(wall clock, {'token' if args.token else 'open ingest'}, lateness "
                f"{lateness_s:g} s) on {world.district.name}: {len(world.devices):,} devices; "
                f"warm-up {warmup_s / 60:g} min"
            )
            with Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(bar_width=20),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
                console=console,
            ) as bar:
                samples = soak.run(bar)
            counts = db_counts(db_path)
            log = (tmp / "soak.log").read_text(errors="replace")
    stored = counts["events"] - baseline
    accepted = soak.counts["accepted"]
    v = verdict(samples, warmup_s, args.rate, args)
    v["events_lost"] = max(0, accepted - stored)
    v["events_stored_twice"] = max(0, stored - accepted)
    v["checks"]["nothing_lost"] = stored == accepted
    v["checks"]["no_errors"] = not soak.errors and not soak.counts["rejected"]
    totals = {
        "sent_unique": traffic.sent_unique,
        "sent_resent": traffic.sent_dups,
        "sent_late": traffic.sent_late,
        "reports": traffic.reports,
        **soak.counts,
        "stored": stored,
        "request_errors": len(soak.errors),
        "first_errors": soak.errors[:5],
        "first_rejected": soak.first_rejected[:5],
        "cases": counts["cases"],
        "alerts_by_scenario": counts["alerts_by_scenario"],
        "server_tracebacks": log.count("Traceback"),
        # collections the server logged as pauses (cityeye.runtime): a stall whose
        # cause is the collector, not the snapshot
        "server_gc_pauses": [
            {"generation": int(g), "ms": int(ms)}
            for g, ms in re.findall(r"gc pause: generation (\d+) took (\d+) ms", log)
        ],
    }
    out = {
        "date": date.today().isoformat(),
        "machine": ingest.machine(),
        "database": "SQLite",
        "world": {"district": world.district.name, "devices": len(world.devices)},
        "channels": traffic.channels,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "lateness_s": lateness_s,
        "verdict": v,
        "totals": totals,
        "status_calls": soak.status_calls,
        "samples": [{k: x for k, x in s.items() if not k.startswith("_")} for s in samples],
    }
    # the table needs ~90 columns: wider than a pipe's default 80, wrapped by a terminal
    wide = Console(width=max(console.width, 100)) if not console.is_terminal else console
    wide.print(table(samples, f"soak at {args.rate:,.0f} events/s ({out['machine']}, SQLite)"))
    ok = all(v["checks"].values())

    def mark(check: str) -> str:
        return "[green]✓[/]" if v["checks"][check] else "[red]✗[/]"

    console.print(
        f"{mark('rss_flat')} RSS {fmt(v['rss_at_warmup_mb'])} MB after the "
        f"{warmup_s / 60:g}-min warm-up → {v['rss_end_mb']} MB at the end "
        f"(peak {v['rss_peak_mb']} MB); slope {fmt(v['rss_slope_mb_per_min'])} MB/min "
        f"(flat: ≤ {args.max_slope:g})"
    )
    if warmup_s < lateness_s:
        console.print(
            f"  (the warm-up is shorter than the lateness, {lateness_s:g} s: the engine holds "
            "each event that long before its rules see it, so RSS is still filling)"
        )
    console.print(
        f"{mark('stall')} stall {fmt(v['stall_ms'])} ms = largest ack {fmt(v['ack_max_ms'])} ms "
        f"− typical {fmt(v['ack_typical_p50_ms'])} ms (target < {args.max_stall_ms:g}); "
        f"server snapshot_s max {fmt(v['status_snapshot_s_max'])}"
    )
    console.print(
        f"{mark('rate')} {fmt(v['events_per_s'], ',')} events/s acknowledged after the "
        f"warm-up (target {args.rate:,.0f})"
    )
    console.print(
        f"{mark('nothing_lost')} {accepted:,} accepted, {stored:,} in the database: "
        f"{v['events_lost']:,} lost, {v['events_stored_twice']:,} extra; "
        f"{soak.counts['duplicate']:,} duplicates for {traffic.sent_dups:,} re-sent"
    )
    console.print(
        f"{mark('no_errors')} {len(soak.errors)} failed requests, "
        f"{soak.counts['rejected']:,} events rejected"
        + (f" (first: {soak.errors[0]})" if soak.errors else "")
        + (f" (first: {soak.first_rejected[0]})" if soak.first_rejected else "")
    )
    console.print(
        f"alerts: {counts['alerts_by_scenario'] or 'none'}; cases {counts['cases']}; "
        f"server tracebacks {totals['server_tracebacks']}; {out['machine']}"
    )
    pauses = [p["ms"] for p in totals["server_gc_pauses"]]
    console.print(
        f"server gc pauses ≥ 100 ms: {len(pauses)}"
        + (f", longest {max(pauses):,} ms, in all {sum(pauses) / 1000:.1f} s" if pauses else "")
    )
    suffix = "" if args.minutes == 30 else f"-{args.minutes:g}m"
    path = ingest.write_results(f"soak-{out['date']}{suffix}", out)
    console.print(f"wrote {path.relative_to(ROOT)}; {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
