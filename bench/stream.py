"""The benchmark stream: millions of events over a million registered keys, fast.

``cityeye simulate`` (``cityeye.demo``) plays one realistic district day event by event
in Python; that is right for demos and acceptance tests and far too slow for the
5-million-event stream of issue 3. This module builds the same *kind* of stream with
numpy, one category of devices at a time, and writes it once as JSON Lines so that the
cityeye engine and Node-RED read the very same bytes.

What the stream holds (defaults: 5,000,000 events over 1,000,000 keys, 36 hours of
event time from 2026-10-01 00:00 Asia/Shanghai):

* 70 % of the keys are elderly people living alone (``elderly_alone``), each with a
  door sensor; every one is seen three times, never more than ~20 h apart, except the
  planted ones: a 25–30 h gap (``elderly.inactive`` fires and resolves), never seen
  at all (fires 24 h after the first event of the stream) or a 21.5–23 h gap (a near
  miss). All of them hold an absence timer from the first event on: that is the
  "1 M timers" of the issue.
* access gates, power meters, elevators and buildings (two smoke detectors and a
  temperature sensor each) with routine traffic and, for the five normative rules,
  planted positives beside near misses;
* the rest of the catalogue's kinds (``bin.fill``, ``parking.*``, ``camera.detection``,
  ``crowd.count``, ``water.level``, ``structure.tilt``, ``report.*``, ``button.sos``,
  ``elevator.trapped``, ``door.held_open``) so the full catalogue has work to do.

Delivery is realistic and within the engine's lateness: every event arrives 0.05–2 s
after its time, 2 % of them 1–7 min late (never beyond the 10-min lateness), and 1 %
are delivered a second time, byte for byte, 3–90 s later.

Planted patterns keep clear of every boundary a reasonable reading of SCENARIOS.md
could disagree on (exactly 10 min, exactly 5 min, exactly 1.2 × rated is the one
deliberate exception, a near miss both ``>`` readings agree on), so the expected alert
counts in ``meta.json`` hold for any correct engine, and for the Node-RED flows.

Event ids end in ``-<n>``, ``n`` the event's index among unique events, and
``first_line.npy`` maps ``n`` to the line of its first delivery: the benchmark turns an
``AlertChange.event_id`` into "when was that event fed" without a 5-million-entry dict.

Everything is a pure function of (events, keys, seed) and the generator version, and
the files are cached under that name, so a rerun skips generation.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
from numpy.typing import NDArray

from cityeye.domain import Area, AreaLevel, Device, Subject, Venue, World

#: Bump when the stream's content changes, so cached files are not reused.
GEN_VERSION = 1
TIMEZONE = "Asia/Shanghai"
START = datetime(2026, 10, 1, tzinfo=ZoneInfo(TIMEZONE))
START_EPOCH = int(START.timestamp())
SPAN_S = 36 * 3600
#: ts strings are precomputed for every second of [0, TS_TABLE_S).
TS_TABLE_S = SPAN_S + 3 * 3600
LATENESS_S = 600
DUPLICATE_P = 0.01
LATE_P = 0.02
DISTRICT = "330105"
FIVE_RULES = (
    "elevator.ebike",
    "fire.smoke",
    "power.overload",
    "elderly.inactive",
    "access.forced",
)

_H = 3600
_I32 = NDArray[np.int32]
_I64 = NDArray[np.int64]
_F64 = NDArray[np.float64]

KINDS: tuple[str, ...] = (
    "door.open",  # 0
    "door.closed",  # 1
    "access.denied",  # 2
    "door.held_open",  # 3
    "meter.reading",  # 4
    "elevator.ebike_detected",  # 5
    "elevator.trapped",  # 6
    "smoke.alarm",  # 7
    "temperature.reading",  # 8
    "bin.fill",  # 9
    "camera.detection",  # 10
    "crowd.count",  # 11
    "parking.occupied",  # 12
    "parking.freed",  # 13
    "water.level",  # 14
    "structure.tilt",  # 15
    "report.citizen",  # 16
    "report.hotline",  # 17
    "button.sos",  # 18
)
K = {name: code for code, name in enumerate(KINDS)}
METHODS = ("card", "face", "qr", "password", "key", "inside")
REASONS = ("unknown_card", "expired_card", "face_mismatch")
LABELS = (
    "street_vending",
    "illegal_parking",
    "exposed_garbage",
    "garbage_dumping",
    "muck_truck_uncovered",
    "fire_lane_blocked",
)
CATEGORIES = ("garbage", "road", "noise", "parking", "water", "greening", "other")
REPORT_TEXT = {
    "garbage": "垃圾分类点的垃圾桶满出来了，请尽快清运。",
    "road": "人行道砖松动翘起，老人走路容易绊倒。",
    "noise": "工地晚上十点以后还在施工，噪音太大。",
    "parking": "消防通道被私家车长期占用，请处理。",
    "water": "雨水井堵塞，一下雨路面就积水。",
    "greening": "绿化带里的树枝太长挡住了窗户。",
    "other": "楼道里有人给电动车飞线充电，有安全隐患。",
}
RATED = (10, 16, 20, 32, 40, 63)


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True, slots=True)
class Layout:
    """How the registered keys split into kinds of things. Device ids are
    ``<prefix>-<index>``; the door sensor ``DS-n`` belongs to subject ``S-n``."""

    keys: int
    n_elderly: int
    n_gates: int
    n_meters: int
    n_lifts: int
    n_buildings: int
    n_bins: int
    n_parking: int
    n_cameras: int
    n_venues: int
    n_water: int
    n_tilt: int
    n_grids: int

    @classmethod
    def for_keys(cls, keys: int) -> Layout:
        """70 % elderly, 10 % gates, 8 % meters, 5 % lifts, 3 % buildings, 4 % the rest."""
        if keys < 1000:
            raise ValueError("use at least 1,000 keys")
        shares = {
            "n_gates": 0.10,
            "n_meters": 0.08,
            "n_lifts": 0.05,
            "n_buildings": 0.03,
            "n_bins": 0.012,
            "n_parking": 0.012,
            "n_cameras": 0.006,
            "n_venues": 0.004,
            "n_water": 0.003,
            "n_tilt": 0.003,
        }
        counts = {name: max(1, round(keys * share)) for name, share in shares.items()}
        n_elderly = keys - sum(counts.values())
        return cls(keys=keys, n_elderly=n_elderly, n_grids=max(10, keys // 1000), **counts)

    def devices(self) -> list[tuple[str, str, int]]:
        """(prefix, device kind, count) in the order of the global device index."""
        return [
            ("DS", "door_sensor", self.n_elderly),
            ("AG", "access_gate", self.n_gates),
            ("PM", "power_meter", self.n_meters),
            ("LF", "elevator_monitor", self.n_lifts),
            ("SD", "smoke_detector", 2 * self.n_buildings),
            ("TS", "temperature_sensor", self.n_buildings),
            ("BN", "bin_sensor", self.n_bins),
            ("PK", "parking_sensor", self.n_parking),
            ("CM", "camera", self.n_cameras),
            ("CC", "crowd_counter", self.n_venues),
            ("WL", "water_level_sensor", self.n_water),
            ("TL", "tilt_sensor", self.n_tilt),
        ]

    def offsets(self) -> dict[str, int]:
        """Global device index of each prefix's first device."""
        out: dict[str, int] = {}
        at = 0
        for prefix, _, count in self.devices():
            out[prefix] = at
            at += count
        return out

    @property
    def n_devices(self) -> int:
        return sum(count for _, _, count in self.devices())

    def device_ids(self) -> list[str]:
        return [f"{p}-{i:07d}" for p, _, n in self.devices() for i in range(n)]

    def grid_codes(self) -> list[str]:
        return [grid_code(g) for g in range(self.n_grids)]


def subject_id(i: int) -> str:
    return f"S-{i:07d}"


def building_id(b: int) -> str:
    return f"B-{b:06d}"


def venue_id(v: int) -> str:
    return f"V-{v:06d}"


def street_code(s: int) -> str:
    return f"{DISTRICT}{s + 1:03d}"


def community_code(c: int) -> str:
    return f"{street_code(c // 10)}{c % 10 + 1:03d}"


def grid_code(g: int) -> str:
    return f"G{g + 1:06d}"


# ---------------------------------------------------------------------------- world


def build_world(layout: Layout, seed: int) -> World:
    """The world the stream refers to, built directly as dataclasses (a YAML file of a
    million devices would measure the loader, not the engine). Ten streets, ten
    communities each, ``n_grids`` grids; each device sits in grid ``index % n_grids``.
    Tags and venue types are a function of the seed, like the stream."""
    district = Area(code=DISTRICT, name="拱墅区", level=AreaLevel.DISTRICT)
    areas: dict[str, Area] = {DISTRICT: district}
    for s in range(10):
        code = street_code(s)
        areas[code] = Area(
            code=code, name=f"第{s + 1}街道", level=AreaLevel.STREET, parent=DISTRICT
        )
    for c in range(100):
        code = community_code(c)
        areas[code] = Area(
            code=code, name=f"第{c + 1}社区", level=AreaLevel.COMMUNITY, parent=street_code(c // 10)
        )
    grids = layout.grid_codes()
    for g, code in enumerate(grids):
        areas[code] = Area(
            code=code, name=f"第{g + 1}网格", level=AreaLevel.GRID, parent=community_code(g % 100)
        )
    n_grids = layout.n_grids
    tags = _tags(layout, seed)
    devices: dict[str, Device] = {}
    subjects: dict[str, Subject] = {}
    venues: dict[str, Venue] = {}
    elderly_tags = ("elderly_alone",)
    index = 0
    for prefix, kind, count in layout.devices():
        for i in range(count):
            did = f"{prefix}-{i:07d}"
            area = grids[index % n_grids]
            index += 1
            if prefix == "DS":
                sid = subject_id(i)
                subjects[sid] = Subject(id=sid, area=area, tags=elderly_tags)
                devices[did] = Device(id=did, kind=kind, area=area, subject=sid)
            elif prefix == "SD":
                devices[did] = Device(id=did, kind=kind, area=area, building=building_id(i // 2))
            elif prefix == "TS":
                devices[did] = Device(id=did, kind=kind, area=area, building=building_id(i))
            elif prefix == "CC":
                vid = venue_id(i)
                vtag = tags["venue"][i]
                extra = {"type": "网吧"} if vtag == "sensitive" else {}
                venues[vid] = Venue(id=vid, area=area, tags=(vtag,), extra=extra)
                devices[did] = Device(id=did, kind=kind, area=area, venue=vid)
            elif prefix in ("PK", "CM"):
                devices[did] = Device(id=did, kind=kind, area=area, tags=tags[prefix][i])
            else:
                devices[did] = Device(id=did, kind=kind, area=area)
    return World(
        district=district,
        timezone=TIMEZONE,
        areas=areas,
        devices=devices,
        subjects=subjects,
        venues=venues,
    )


def _tags(layout: Layout, seed: int) -> dict[str, list[Any]]:
    rng = np.random.default_rng([seed, 7])
    filial = rng.random(layout.n_parking) < 0.1
    garbage = rng.random(layout.n_cameras) < 0.2
    sales = rng.random(layout.n_venues) < 0.5
    return {
        "PK": [("filial",) if f else () for f in filial.tolist()],
        "CM": [("garbage_point",) if g else () for g in garbage.tolist()],
        "venue": ["sales_venue" if s else "sensitive" for s in sales.tolist()],
    }


def nodered_world(layout: Layout) -> dict[str, Any]:
    """The part of the world the five rules need, as JSON for Node-RED: which subject
    a door sensor belongs to, which building a smoke or temperature sensor is in, and
    who is tagged ``elderly_alone``."""
    subject_of = {f"DS-{i:07d}": subject_id(i) for i in range(layout.n_elderly)}
    building_of = {f"SD-{i:07d}": building_id(i // 2) for i in range(2 * layout.n_buildings)}
    building_of.update({f"TS-{i:07d}": building_id(i) for i in range(layout.n_buildings)})
    return {
        "subjectOf": subject_of,
        "buildingOf": building_of,
        "elderly": [subject_id(i) for i in range(layout.n_elderly)],
    }


# --------------------------------------------------------------------------- events


@dataclass(slots=True)
class _Batch:
    """Columns of one group of events. ``ref`` is a global device index, or a grid
    index for reports, or an elderly index for ``button.sos``; ``a``, ``b``, ``c`` hold
    the attribute values, read per kind by :func:`_formatters`."""

    ts: _I64
    kind: NDArray[np.uint8]
    ref: _I64
    a: _F64
    b: _F64
    c: _I64

    @classmethod
    def make(
        cls,
        ts: Any,
        kind: int | Any,
        ref: Any,
        a: Any = 0.0,
        b: Any = 0.0,
        c: Any = 0,
    ) -> _Batch:
        ts_arr = np.asarray(ts, dtype=np.int64).ravel()
        n = ts_arr.size

        def col(x: Any, dtype: type) -> Any:
            arr: np.ndarray[Any, Any] = np.asarray(x, dtype=dtype).ravel()
            return np.full(n, arr[0] if arr.size else 0, dtype=dtype) if arr.size <= 1 else arr

        return cls(
            ts=ts_arr,
            kind=col(kind, np.uint8),
            ref=col(ref, np.int64),
            a=col(a, np.float64),
            b=col(b, np.float64),
            c=col(c, np.int64),
        )

    def __len__(self) -> int:
        return int(self.ts.size)


@dataclass(slots=True)
class Expected:
    """Alerts a correct engine raises on the five rules, by construction."""

    opened: dict[str, int]
    resolved: dict[str, int]
    critical: dict[str, int]
    high: dict[str, int]


class _Gen:
    """Builds the columns of every event, category by category."""

    def __init__(self, events: int, layout: Layout, seed: int) -> None:
        self.n = events
        self.layout = layout
        self.rng = np.random.default_rng([seed, 1])
        self.off = layout.offsets()
        self.batches: list[_Batch] = []
        self.rated: _F64 = np.asarray(RATED, dtype=np.float64)[
            self.rng.integers(0, len(RATED), layout.n_meters)
        ]
        self.exp = Expected(
            opened=dict.fromkeys(FIVE_RULES, 0),
            resolved=dict.fromkeys(FIVE_RULES, 0),
            critical=dict.fromkeys(FIVE_RULES, 0),
            high=dict.fromkeys(FIVE_RULES, 0),
        )

    def add(self, batch: _Batch) -> None:
        if len(batch):
            self.batches.append(batch)

    def planted(self, n: int, share: float) -> int:
        return max(1, round(n * share))

    def pick(self, n: int, counts: list[int]) -> list[_I64]:
        """Disjoint random index sets of the given sizes out of ``range(n)``."""
        total = sum(counts)
        if total > n:
            raise ValueError(f"cannot plant {total} patterns on {n} keys")
        chosen = self.rng.permutation(n)[:total]
        out: list[_I64] = []
        at = 0
        for count in counts:
            out.append(np.sort(chosen[at : at + count]))
            at += count
        return out

    def times(self, n: int, lo: float, hi: float) -> _I64:
        return np.floor(self.rng.uniform(lo, hi, n)).astype(np.int64)

    # ------------------------------------------------------------- five rules

    def elderly(self) -> None:
        """Three signs of life each, slots of 12 h jittered by ±4.2 h, so no gap reaches
        21 h; planted gaps and silences fire ``elderly.inactive``."""
        lay, rng = self.layout, self.rng
        n = lay.n_elderly
        gap, silent, near = self.pick(
            n, [self.planted(n, 0.0015), self.planted(n, 0.0005), self.planted(n, 0.001)]
        )
        special = np.zeros(n, dtype=bool)
        for group in (gap, silent, near):
            special[group] = True
        normal = np.flatnonzero(~special)
        slot = SPAN_S / 3
        jitter = rng.uniform(-0.35, 0.35, (normal.size, 3))
        t_norm = np.floor((np.arange(3) + 0.5 + jitter) * slot).astype(np.int64)
        g1 = self.times(gap.size, 0.5 * _H, 2 * _H)
        g2 = g1 + self.times(gap.size, 25 * _H, 30 * _H)
        g3 = g2 + self.times(gap.size, 0.5 * _H, 3 * _H)
        n1 = self.times(near.size, 1 * _H, 3 * _H)
        n2 = n1 + self.times(near.size, 21.5 * _H, 23 * _H)
        n3 = n2 + self.times(near.size, 1 * _H, 6 * _H)
        subj = np.concatenate([np.repeat(normal, 3), np.repeat(gap, 3), np.repeat(near, 3)])
        ts = np.concatenate(
            [t_norm.ravel(), np.stack([g1, g2, g3], 1).ravel(), np.stack([n1, n2, n3], 1).ravel()]
        )
        method = rng.integers(0, len(METHODS), ts.size)
        self.add(_Batch.make(ts, K["door.open"], self.off["DS"] + subj, c=method))
        self.exp.opened["elderly.inactive"] = int(gap.size + silent.size)
        self.exp.resolved["elderly.inactive"] = int(gap.size)
        # button.sos from a few of them, naming the subject (no device)
        sos = rng.choice(normal, self.planted(n, 0.00005), replace=False)
        self.add(_Batch.make(self.times(sos.size, 1 * _H, SPAN_S - _H), K["button.sos"], sos))

    def access(self) -> None:
        """Planted denial bursts (6 within 329 s) and near misses (4 within 10 min; 5
        spread over 12.5 min); a quarter of the other gates see one denial each."""
        lay, rng = self.layout, self.rng
        n = lay.n_gates
        pos, near4, near5 = self.pick(
            n, [self.planted(n, 0.004), self.planted(n, 0.001), self.planted(n, 0.001)]
        )
        base = self.off["AG"]
        for gates, offsets, reason in (
            (pos, (0, 40, 95, 150, 230, 320), 0),
            (near4, (0, 55, 130, 210), 2),
            (near5, (0, 180, 360, 540, 750), 1),
        ):
            t0 = self.times(gates.size, 1 * _H, SPAN_S - 2 * _H)
            ts = (t0[:, None] + np.asarray(offsets)[None, :]).ravel()
            ts = ts + rng.integers(0, 10, ts.size)
            self.add(
                _Batch.make(ts, K["access.denied"], base + np.repeat(gates, len(offsets)), c=reason)
            )
        self.exp.opened["access.forced"] = self.exp.resolved["access.forced"] = int(pos.size)
        special = np.zeros(n, dtype=bool)
        for group in (pos, near4, near5):
            special[group] = True
        others = np.flatnonzero(~special)
        lone = rng.choice(others, min(others.size, round(0.25 * n)), replace=False)
        self.add(
            _Batch.make(
                self.times(lone.size, 0, SPAN_S),
                K["access.denied"],
                base + lone,
                c=rng.integers(0, len(REASONS), lone.size),
            )
        )
        # a few doors held open (access.held_open, outside the five)
        held = rng.choice(others, self.planted(n, 0.001), replace=False)
        t0 = self.times(held.size, 1 * _H, SPAN_S - _H)
        self.add(_Batch.make(t0, K["door.open"], base + held, c=0))
        self.add(_Batch.make(t0 + 60, K["door.held_open"], base + held, a=60.0))
        self.add(_Batch.make(t0 + self.times(held.size, 200, 600), K["door.closed"], base + held))

    def gate_traffic(self, budget: int) -> None:
        """Door openings, each followed by ``door.closed`` 4–15 s later."""
        pairs = budget // 2
        n = self.layout.n_gates
        gate = self.off["AG"] + self.rng.integers(0, n, pairs)
        t = self.times(pairs, 0, SPAN_S - 60)
        method = self.rng.integers(0, 4, pairs)
        self.add(_Batch.make(t, K["door.open"], gate, c=method))
        self.add(_Batch.make(t + self.rng.integers(4, 16, pairs), K["door.closed"], gate))

    def meters_planted(self) -> tuple[_I64, _I64]:
        """Overloads (5 readings 310 s apart at 1.28–1.45 × rated, then back under
        rated), leakage ≥ 30 mA, and near misses: one spike, exactly 1.2 × rated,
        28 mA. Returns the planted meters and their start times, so the regular
        readings can keep out of their way."""
        rng, n = self.rng, self.layout.n_meters
        over, leak, spike, exact, leak28 = self.pick(
            n,
            [
                self.planted(n, 0.005),
                self.planted(n, 0.0025),
                self.planted(n, 0.0025),
                self.planted(n, 0.001),
                self.planted(n, 0.001),
            ],
        )
        self.rated[exact] = 20  # 1.2 × 20 == 24.0 exactly, in Python and in JavaScript
        meters: list[_I64] = []
        starts: list[_I64] = []

        def readings(
            group: _I64, offsets: list[int], load: list[float], leak_ma: list[float]
        ) -> None:
            """``load``: multiples of rated, NaN for a normal 25–90 %; ``leak_ma``: NaN
            for a normal 1.5–12 mA."""
            t0 = self.times(group.size, 1 * _H, SPAN_S - 2 * _H)
            meters.append(group)
            starts.append(t0)
            m = len(offsets)
            ts = (t0[:, None] + np.asarray(offsets)[None, :]).ravel()
            rated = self.rated[np.repeat(group, m)]
            fac = np.tile(np.asarray(load), group.size)
            fac = np.where(np.isnan(fac), rng.uniform(0.25, 0.9, ts.size), fac)
            lk = np.tile(np.asarray(leak_ma), group.size)
            lk = np.where(np.isnan(lk), np.round(rng.uniform(1.5, 12.0, ts.size), 1), lk)
            cur = np.round(rated * fac, 1)
            self.add(
                _Batch.make(
                    ts, K["meter.reading"], self.off["PM"] + np.repeat(group, m), cur, lk, rated
                )
            )

        nan, step = math.nan, 310
        high = [float(x) for x in np.round(rng.uniform(1.28, 1.45, 5), 3)]
        readings(
            over,
            [k * step for k in (0, 1, 2, 3, 4)] + [1550, 1860, 2170],
            [*high, nan, nan, nan],
            [nan] * 8,
        )
        readings(
            leak, [0, step, 2 * step], [nan] * 3, [round(float(rng.uniform(33, 40)), 1), nan, nan]
        )
        readings(spike, [0, step, 2 * step], [1.5, nan, nan], [nan] * 3)
        readings(exact, [0, step, 2 * step], [1.2, 1.2, 1.2], [nan] * 3)
        readings(leak28, [0, step, 2 * step], [nan] * 3, [28.0, nan, nan])
        self.exp.opened["power.overload"] = int(over.size + leak.size)
        self.exp.resolved["power.overload"] = int(over.size + leak.size)
        return np.concatenate(meters), np.concatenate(starts)

    def meter_traffic(self, budget: int, planted: _I64, starts: _I64) -> None:
        """Regular readings at 25–90 % of rated, evenly spaced per meter; none near
        a planted pattern (the few left out are made up by the rest of the catalogue)."""
        n = self.layout.n_meters
        meter, t = self.periodic(n, budget)
        window = np.full(n, -1, dtype=np.int64)
        window[planted] = starts
        w = window[meter]
        keep = ~((w >= 0) & (t >= w - 400) & (t <= w + 2600))
        meter, t = meter[keep], t[keep]
        rated = self.rated[meter]
        cur = np.round(rated * self.rng.uniform(0.25, 0.9, t.size), 1)
        leak = np.round(self.rng.uniform(1.5, 12.0, t.size), 1)
        self.add(_Batch.make(t, K["meter.reading"], self.off["PM"] + meter, cur, leak, rated))

    def periodic(self, n: int, budget: int) -> tuple[_I64, _I64]:
        """``budget`` readings spread over ``n`` devices, evenly spaced in the span with
        a random phase per device: (device index, ts) arrays."""
        per, extra = divmod(budget, n)
        counts = np.full(n, per, dtype=np.int64)
        counts[self.rng.permutation(n)[:extra]] += 1
        dev = np.repeat(np.arange(n, dtype=np.int64), counts)
        starts = np.cumsum(counts) - counts
        k = np.arange(dev.size, dtype=np.int64) - np.repeat(starts, counts)
        period = SPAN_S / np.maximum(counts, 1)
        phase = self.rng.uniform(0, 1, n) * period
        t = np.floor(phase[dev] + k * period[dev]).astype(np.int64)
        return dev, t

    def lifts(self) -> None:
        """E-bike detections in bursts (1, 2 or 4 detections, each within 10 min of the
        previous one); bursts are 1 h from the edges so every alert resolves."""
        rng, n = self.rng, self.layout.n_lifts
        one, two, four, trapped = self.pick(
            n,
            [
                self.planted(n, 0.0165),
                self.planted(n, 0.006),
                self.planted(n, 0.0075),
                self.planted(n, 0.0005),
            ],
        )
        base = self.off["LF"]
        for group, offsets in ((one, (0,)), (two, (0, 300)), (four, (0, 420, 960, 1440))):
            t0 = self.times(group.size, 1 * _H, SPAN_S - 2 * _H)
            ts = (t0[:, None] + np.asarray(offsets)[None, :]).ravel()
            ts = ts + rng.integers(0, 31, ts.size)
            conf = np.round(rng.uniform(0.82, 0.99, ts.size), 2)
            self.add(
                _Batch.make(
                    ts, K["elevator.ebike_detected"], base + np.repeat(group, len(offsets)), conf
                )
            )
        bursts = int(one.size + two.size + four.size)
        self.exp.opened["elevator.ebike"] = self.exp.resolved["elevator.ebike"] = bursts
        self.exp.high["elevator.ebike"] = int(four.size)
        t = self.times(trapped.size, 1 * _H, SPAN_S - _H)
        self.add(_Batch.make(t, K["elevator.trapped"], base + trapped, 2.0))

    def smoke(self) -> None:
        """3 % of buildings raise a smoke alarm; some are verified by a second detector
        or a hot reading within 30–90 s, near misses at 150–200 s or at 55 °C; a tenth
        of the false alarms ring again hours later (joining the open alert)."""
        rng, n = self.rng, self.layout.n_buildings
        n_alarm = self.planted(n, 0.03)
        n_second = self.planted(n_alarm, 0.06)
        n_hot = self.planted(n_alarm, 0.06)
        n_late2 = self.planted(n_alarm, 0.04)
        n_warm = self.planted(n_alarm, 0.04)
        n_false = n_alarm - n_second - n_hot - n_late2 - n_warm
        false, second, hot, late2, warm = self.pick(n, [n_false, n_second, n_hot, n_late2, n_warm])
        alarmed = np.concatenate([false, second, hot, late2, warm])
        t0 = self.times(alarmed.size, 0.5 * _H, SPAN_S - 5 * _H)
        sd, ts_dev = self.off["SD"], self.off["TS"]
        self.add(_Batch.make(t0, K["smoke.alarm"], sd + 2 * alarmed, c=alarmed))
        t_of = dict(zip(alarmed.tolist(), t0.tolist(), strict=True))

        def at(group: _I64, lo: int, hi: int) -> _I64:
            return np.asarray([t_of[b] for b in group.tolist()], dtype=np.int64) + self.times(
                group.size, lo, hi
            )

        self.add(_Batch.make(at(second, 30, 90), K["smoke.alarm"], sd + 2 * second + 1, c=second))
        self.add(_Batch.make(at(late2, 150, 200), K["smoke.alarm"], sd + 2 * late2 + 1, c=late2))
        again = false[: max(1, false.size // 10)]
        self.add(_Batch.make(at(again, 2 * _H, 4 * _H), K["smoke.alarm"], sd + 2 * again, c=again))
        hot_c = np.round(rng.uniform(58, 70, hot.size), 1)
        self.add(_Batch.make(at(hot, 30, 90), K["temperature.reading"], ts_dev + hot, hot_c))
        warm_c = np.round(rng.uniform(54, 56.5, warm.size), 1)
        self.add(_Batch.make(at(warm, 30, 90), K["temperature.reading"], ts_dev + warm, warm_c))
        self.exp.opened["fire.smoke"] = int(alarmed.size)
        self.exp.critical["fire.smoke"] = int(second.size + hot.size)

    def temperature(self, budget: int) -> None:
        n = self.layout.n_buildings
        dev, t = self.periodic(n, budget)
        hour = (t / _H) % 24  # START is local midnight
        c = 22 + 4 * np.sin((hour - 9) / 24 * 2 * math.pi) + self.rng.uniform(-0.8, 0.8, t.size)
        self.add(_Batch.make(t, K["temperature.reading"], self.off["TS"] + dev, np.round(c, 1)))

    # ----------------------------------------------------------- the rest

    def others(self, budget: int) -> None:
        """Bins, parking, cameras, crowd counters, water level and tilt sensors."""
        rng, lay = self.rng, self.layout
        shares = {"BN": 0.30, "PK": 0.20, "CM": 0.05, "CC": 0.25, "WL": 0.10}
        parts = {p: int(budget * s) for p, s in shares.items()}
        parts["PK"] -= parts["PK"] % 2
        parts["TL"] = budget - sum(parts.values())
        dev, t = self.periodic(lay.n_bins, parts["BN"])
        level = rng.integers(0, 86, t.size)
        full = rng.random(t.size) < 0.004
        level[full] = rng.integers(90, 100, int(full.sum()))
        self.add(_Batch.make(t, K["bin.fill"], self.off["BN"] + dev, c=level))
        visits = parts["PK"] // 2
        space = rng.integers(0, lay.n_parking, visits)
        t = self.times(visits, 0, SPAN_S - 4 * _H)
        stay = self.times(visits, 20 * 60, 100 * 60)
        long_stay = rng.random(visits) < 0.02
        stay[long_stay] = self.times(int(long_stay.sum()), 2.5 * _H, 3.5 * _H)
        self.add(_Batch.make(t, K["parking.occupied"], self.off["PK"] + space))
        self.add(_Batch.make(t + stay, K["parking.freed"], self.off["PK"] + space))
        cam = rng.integers(0, lay.n_cameras, parts["CM"])
        t = self.times(cam.size, 0, SPAN_S)
        score = np.round(rng.uniform(0.62, 0.98, cam.size), 2)
        label = rng.integers(0, len(LABELS), cam.size)
        self.add(_Batch.make(t, K["camera.detection"], self.off["CM"] + cam, score, c=label))
        dev, t = self.periodic(lay.n_venues, parts["CC"])
        count = rng.integers(0, 16, t.size)
        busy = rng.random(t.size) < 0.002
        count[busy] = rng.integers(25, 41, int(busy.sum()))
        ratio = np.round(rng.uniform(0, 0.9, t.size), 2)
        self.add(_Batch.make(t, K["crowd.count"], self.off["CC"] + dev, ratio, c=count))
        dev, t = self.periodic(lay.n_water, parts["WL"])
        cm = np.round(rng.uniform(2, 10, t.size), 1)
        self.add(_Batch.make(t, K["water.level"], self.off["WL"] + dev, cm))
        dev, t = self.periodic(lay.n_tilt, parts["TL"])
        deg = np.round(rng.uniform(0.05, 0.3, t.size), 2)
        self.add(_Batch.make(t, K["structure.tilt"], self.off["TL"] + dev, deg))

    def reports(self) -> None:
        """Residents' reports and 12345 tickets, about 3,000 in 36 h at 5 M events."""
        n = max(10, round(0.0006 * self.n))
        t = self.times(n, 0, SPAN_S)
        hotline = self.rng.random(n) < 0.4
        grid = self.rng.integers(0, self.layout.n_grids, n)
        cat = self.rng.integers(0, len(CATEGORIES), n)
        kind = np.where(hotline, K["report.hotline"], K["report.citizen"])
        self.add(_Batch.make(t, kind, grid, c=cat))

    # ---------------------------------------------------------------- plan

    def run(self) -> _Batch:
        unique = self.n - round(self.n * DUPLICATE_P)
        self.elderly()
        self.access()
        meters, starts = self.meters_planted()
        self.lifts()
        self.smoke()
        self.reports()
        fixed = sum(len(b) for b in self.batches)
        rest = unique - fixed
        lay = self.layout
        floor = 2 * lay.n_gates + lay.n_meters + lay.n_buildings + (lay.keys - lay.n_elderly) // 5
        if rest < floor:
            need = fixed + floor
            raise ValueError(
                f"{self.n:,} events are too few for {lay.keys:,} keys: the elderly's three "
                f"signs of life and the planted patterns alone take {fixed:,}; use at least "
                f"{math.ceil(need / (1 - DUPLICATE_P)):,} events"
            )
        gates = int(rest * 0.30)
        meter_budget = int(rest * 0.30)
        temps = int(rest * 0.15)
        self.gate_traffic(gates)
        self.meter_traffic(meter_budget, meters, starts)
        self.temperature(temps)
        done = sum(len(b) for b in self.batches)
        self.others(unique - done)
        total = sum(len(b) for b in self.batches)
        assert total == unique, (total, unique)
        return _Batch(
            ts=np.concatenate([b.ts for b in self.batches]),
            kind=np.concatenate([b.kind for b in self.batches]),
            ref=np.concatenate([b.ref for b in self.batches]),
            a=np.concatenate([b.a for b in self.batches]),
            b=np.concatenate([b.b for b in self.batches]),
            c=np.concatenate([b.c for b in self.batches]),
        )


def _delivery(unique: int, total: int, ts: _I64, seed: int) -> tuple[_I64, NDArray[np.bool_]]:
    """Arrival order: (event index per line, whether the line is a re-delivery)."""
    rng = np.random.default_rng([seed, 2])
    arrival = ts + rng.uniform(0.05, 2.0, unique)
    late = rng.random(unique) < LATE_P
    arrival[late] += rng.uniform(60, 420, int(late.sum()))
    n_dup = total - unique
    dup = rng.choice(unique, n_dup, replace=False)
    dup_arrival = arrival[dup] + rng.uniform(3, 90, n_dup)
    index = np.concatenate([np.arange(unique, dtype=np.int64), dup])
    again = np.concatenate([np.zeros(unique, dtype=bool), np.ones(n_dup, dtype=bool)])
    order = np.argsort(np.concatenate([arrival, dup_arrival]), kind="stable")
    return index[order], again[order]


# ---------------------------------------------------------------------- formatting


_Fmt = Callable[
    [int, float, float, int], tuple[str, str | None, str | None, str | None, dict[str, Any]]
]


def _formatters(dev_ids: list[str], sources: list[str], grids: list[str]) -> list[_Fmt]:
    """Per kind: (ref, a, b, c) → (source, device_id, subject, area, attrs)."""
    empty: dict[str, Any] = {}

    def dev(extra: Callable[[float, float, int], dict[str, Any]]) -> _Fmt:
        def f(ref: int, a: float, b: float, c: int) -> Any:
            return sources[ref], dev_ids[ref], None, None, extra(a, b, c)

        return f

    def report(source: str) -> _Fmt:
        def f(ref: int, a: float, b: float, c: int) -> Any:
            cat = CATEGORIES[c]
            return source, None, None, grids[ref], {"category": cat, "text": REPORT_TEXT[cat]}

        return f

    def sos(ref: int, a: float, b: float, c: int) -> Any:
        return sources[ref], None, subject_id(ref), None, {"press": "single"}

    table: dict[str, _Fmt] = {
        "door.open": dev(lambda a, b, c: {"method": METHODS[c]}),
        "door.closed": dev(lambda a, b, c: empty),
        "access.denied": dev(lambda a, b, c: {"reason": REASONS[c]}),
        "door.held_open": dev(lambda a, b, c: {"seconds": int(a)}),
        "meter.reading": dev(lambda a, b, c: {"current_a": a, "rated_a": c, "leakage_ma": b}),
        "elevator.ebike_detected": dev(lambda a, b, c: {"confidence": a, "blocked": True}),
        "elevator.trapped": dev(lambda a, b, c: {"persons": int(a)}),
        "smoke.alarm": dev(lambda a, b, c: {"building": building_id(c)}),
        "temperature.reading": dev(lambda a, b, c: {"celsius": a}),
        "bin.fill": dev(lambda a, b, c: {"level": c}),
        "camera.detection": dev(lambda a, b, c: {"label": LABELS[c], "score": a}),
        "crowd.count": dev(lambda a, b, c: {"count": c, "elderly_ratio": a}),
        "parking.occupied": dev(lambda a, b, c: empty),
        "parking.freed": dev(lambda a, b, c: empty),
        "water.level": dev(lambda a, b, c: {"cm": a}),
        "structure.tilt": dev(lambda a, b, c: {"degrees": a}),
        "report.citizen": report("app"),
        "report.hotline": report("12345"),
        "button.sos": sos,
    }
    return [table[k] for k in KINDS]


def _ts_table() -> list[str]:
    """ISO strings (with +08:00) of every second from START: formatting a datetime per
    event would be half the generation time."""
    second = timedelta(seconds=1)
    return [(START + k * second).isoformat() for k in range(TS_TABLE_S)]


def _sources(layout: Layout) -> list[str]:
    """The collector of each device: cameras and lifts have their own platforms,
    sensors report through one of four IoT gateways; ``button.sos`` (by elderly
    index) goes through the door sensor's gateway."""
    gws = [f"iot-gw-{g}" for g in range(1, 5)]
    out: list[str] = []
    for prefix, _, count in layout.devices():
        if prefix == "CM":
            out.extend(["camera-ai"] * count)
        elif prefix == "LF":
            out.extend(["elevator-iot"] * count)
        else:
            out.extend(gws[i % 4] for i in range(count))
    return out


def _write(
    path: Path,
    cols: _Batch,
    lines: _I64,
    layout: Layout,
    progress: Callable[[int], None] | None,
) -> None:
    dev_ids = layout.device_ids()
    grids = layout.grid_codes()
    sources = _sources(layout)
    fmts = _formatters(dev_ids, sources, grids)
    ts_table = _ts_table()
    dumps = orjson.dumps
    chunk = 250_000
    with path.open("wb") as out:
        for lo in range(0, lines.size, chunk):
            idx = lines[lo : lo + chunk]
            rows = zip(
                idx.tolist(),
                cols.ts[idx].tolist(),
                cols.kind[idx].tolist(),
                cols.ref[idx].tolist(),
                cols.a[idx].tolist(),
                cols.b[idx].tolist(),
                cols.c[idx].tolist(),
                strict=True,
            )
            buf: list[bytes] = []
            append = buf.append
            for j, t, k, ref, a, b, c in rows:
                source, device, subject, area, attrs = fmts[k](ref, a, b, c)
                base = device or subject or source
                event: dict[str, Any] = {
                    "id": f"{base}-{j}",
                    "kind": KINDS[k],
                    "ts": ts_table[t],
                    "source": source,
                }
                if device is not None:
                    event["device_id"] = device
                if subject is not None:
                    event["subject"] = subject
                if area is not None:
                    event["area"] = area
                event["attrs"] = attrs
                append(dumps(event))
            buf.append(b"")
            out.write(b"\n".join(buf))
            if progress is not None:
                progress(len(idx))


# --------------------------------------------------------------------------- public


@dataclass(frozen=True, slots=True)
class Stream:
    """A generated stream on disk and what it holds."""

    dir: Path
    events: int
    keys: int
    seed: int
    meta: dict[str, Any]

    @property
    def jsonl(self) -> Path:
        return self.dir / "events.jsonl"

    @property
    def first_line(self) -> Path:
        """``.npy`` of int64: line index of the first delivery of unique event ``n``."""
        return self.dir / "first_line.npy"

    @property
    def nodered_world(self) -> Path:
        return self.dir / "world-nodered.json"

    @property
    def layout(self) -> Layout:
        return Layout.for_keys(self.keys)


def stream_dir(work: Path, events: int, keys: int, seed: int) -> Path:
    return work / f"stream-v{GEN_VERSION}-n{events}-k{keys}-s{seed}"


def load_cached(work: Path, events: int, keys: int, seed: int) -> Stream | None:
    d = stream_dir(work, events, keys, seed)
    meta_path = d / "meta.json"
    if not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text())
    return Stream(d, events, keys, seed, meta)


def generate(
    work: Path,
    events: int,
    keys: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> Stream:
    """Generate the stream (or return the cached one). ``progress`` is called with the
    number of lines written since the last call."""
    cached = load_cached(work, events, keys, seed)
    if cached is not None:
        return cached
    started = time.perf_counter()
    layout = Layout.for_keys(keys)
    gen = _Gen(events, layout, seed)
    cols = gen.run()
    unique = len(cols)
    if cols.ts.min() < 0 or cols.ts.max() >= TS_TABLE_S:
        raise AssertionError("an event fell outside the time table")
    lines, again = _delivery(unique, events, cols.ts, seed)
    first_line = np.full(unique, -1, dtype=np.int64)
    first_line[lines[~again]] = np.flatnonzero(~again)
    assert (first_line >= 0).all()
    built = time.perf_counter()
    d = stream_dir(work, events, keys, seed)
    tmp = d.with_name(d.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    _write(tmp / "events.jsonl", cols, lines, layout, progress)
    np.save(tmp / "first_line.npy", first_line)
    (tmp / "world-nodered.json").write_bytes(orjson.dumps(nodered_world(layout)))
    by_kind = np.bincount(cols.kind, minlength=len(KINDS))
    meta = {
        "generator_version": GEN_VERSION,
        "events": events,
        "unique": unique,
        "duplicates": events - unique,
        "keys": keys,
        "seed": seed,
        "start": START.isoformat(),
        "span_s": SPAN_S,
        "first_ts": int(cols.ts[lines[0]]) + START_EPOCH,
        "max_ts": int(cols.ts.max()) + START_EPOCH,
        "layout": asdict(layout),
        "by_kind": {KINDS[k]: int(by_kind[k]) for k in range(len(KINDS)) if by_kind[k]},
        "expected": asdict(gen.exp),
        "bytes": (tmp / "events.jsonl").stat().st_size,
        "build_s": round(built - started, 2),
        "generate_s": round(time.perf_counter() - started, 2),
    }
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False))
    if d.exists():  # another run got there first
        for p in tmp.iterdir():
            p.unlink()
        tmp.rmdir()
        again_cached = load_cached(work, events, keys, seed)
        assert again_cached is not None
        return again_cached
    tmp.rename(d)
    return Stream(d, events, keys, seed, meta)


def read_lines(path: Path, chunk_bytes: int = 8 << 20) -> Iterator[list[bytes]]:
    """The stream's lines in chunks (lists of bytes, newline included)."""
    with path.open("rb") as f:
        while True:
            lines = f.readlines(chunk_bytes)
            if not lines:
                return
            yield lines


def main() -> None:
    """``python bench/stream.py [--events N] [--keys K] [--seed S] [--work DIR]``:
    generate (or find) a stream and print where it is and what it holds."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--work", type=Path, default=Path(__file__).parent / "work")
    args = parser.parse_args()
    stream = generate(args.work, args.events, args.keys, args.seed)
    print(stream.jsonl)
    print(json.dumps(stream.meta, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
