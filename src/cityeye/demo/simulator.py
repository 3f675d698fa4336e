"""The event simulator: a realistic day of 城市眼 traffic for any world.

Backtests, demos and the engine's acceptance tests need streams that look like what a
collector really receives: mostly boring readings, a few things that should raise an
early warning, many that look alarming and should not (the seeds' 467 smoke sensors
raised 3,000+ warnings of which 6 were real fires), and the delivery faults of real
networks — duplicates, events that arrive minutes after they happened, and a few that
arrive too late to count. A stream with only positives would let a naive engine pass.

So for every normative scenario in ``SCENARIOS.md`` the simulator *plants* a positive
pattern (which a correct engine must fire on) beside near misses (which it must not)
and false alarms, inside normal traffic. :func:`planted` says which keys carry which
pattern, so tests can check an engine — or the stream itself — against them.

Determinism: every random choice comes from a :class:`random.Random` seeded from
``seed`` and a fixed label (the device id, the channel), never from the global state
or the clock, so the same (world, start, hours, seed) yields the same bytes, and adding
one device does not reshuffle every other device's day.

Times are built as whole epoch seconds and written in the world's time zone
(``+08:00`` for Asia/Shanghai). Hour-of-day patterns ("outside 07:00–09:00") refer to
local clock times of the run's first day (the day of ``start``); a pattern whose time
falls before ``start`` moves to the next day, and one after ``start + hours`` is left
out, so a short run simply holds fewer patterns.
"""

from __future__ import annotations

import math
import random
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from cityeye.demo.district import ROADS
from cityeye.domain import AreaLevel, Device, World

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
#: Report categories for ``report.citizen`` / ``report.hotline`` (attrs.category).
CATEGORIES: tuple[str, ...] = ("garbage", "road", "noise", "parking", "water", "greening", "other")

SOURCE_CAMERA = "camera-ai"
SOURCE_ELEVATOR = "elevator-iot"
SOURCE_HOTLINE = "12345"
SOURCE_APP = "app"
SOURCE_ENTERPRISE = "xiaohe-wangyi"  # 小河网驿 enterprise data
N_GATEWAYS = 4

_H = 3600
_MIN = 60
_DAY = 86400


def gateway(device_id: str) -> str:
    """The IoT gateway (collector) a sensor reports through: stable per device."""
    return f"iot-gw-{zlib.crc32(device_id.encode()) % N_GATEWAYS + 1}"


def source_of(device: Device) -> str:
    """The collector name for events from ``device``."""
    if device.kind in ("camera", "kitchen_camera"):
        return SOURCE_CAMERA
    if device.kind == "elevator_monitor":
        return SOURCE_ELEVATOR
    return gateway(device.id)


# ------------------------------------------------------------------------------ plan


@dataclass(frozen=True, slots=True)
class Plant:
    """One planted pattern: which key of which scenario, and what it should do.

    ``role`` is ``positive`` (a correct engine fires), ``near_miss`` (it must not),
    ``false_alarm`` (looks alarming but is benign: an uncorroborated smoke alarm fires
    unverified and is dismissed by a person; a burst of 3–4 access denials stays below
    the threshold and must not fire) or ``silent`` (a subject never seen at all).
    ``at`` is when the pattern happens (its first event, for most); ``key`` is what
    the scenario is keyed by: device, subject, building or venue.
    """

    scenario: str
    role: str
    key: str
    at: datetime
    note: str


def _pick(rng: random.Random, pool: list[str], k: int, taken: set[str]) -> list[str]:
    free = [x for x in pool if x not in taken]
    chosen = rng.sample(free, min(k, len(free)))
    taken.update(chosen)
    return chosen


@dataclass(slots=True)
class _Plan:
    """Who carries which pattern, and when. Chosen from the world by a seeded RNG so
    that simulation and :func:`planted` agree without running the stream."""

    world: World
    start: int  # epoch seconds
    end: int
    tz: ZoneInfo
    seed: int
    day0: int = 0
    plants: list[Plant] = field(default_factory=list)
    keys: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    variants: dict[tuple[str, str], str] = field(default_factory=dict)
    times: dict[tuple[str, str], int] = field(default_factory=dict)
    by_kind: dict[str, list[Device]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        local = datetime.fromtimestamp(self.start, self.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        self.day0 = int(midnight.timestamp())
        for device in sorted(self.world.devices.values(), key=lambda d: d.id):
            self.by_kind.setdefault(device.kind, []).append(device)
        self._choose()

    def at(self, clock: str) -> int:
        """Local time ``HH:MM`` on the run's first day (the next day if before start)."""
        hh, mm = clock.split(":")
        t = self.day0 + int(hh) * _H + int(mm) * _MIN
        return t + _DAY if t < self.start else t

    def when(self, scenario: str, key: str) -> int:
        """The planted time of ``key``'s pattern in ``scenario`` (even past the end)."""
        return self.times[(scenario, key)]

    def ids(self, kind: str, pred: Callable[[Device], bool] = lambda d: True) -> list[str]:
        return [d.id for d in self.by_kind.get(kind, []) if pred(d)]

    def get(self, scenario: str, role: str) -> list[str]:
        return self.keys.get((scenario, role), [])

    def plant(
        self, scenario: str, role: str, key: str, t: int, note: str, variant: str = ""
    ) -> None:
        self.keys.setdefault((scenario, role), []).append(key)
        self.variants[(scenario, key)] = variant or role
        self.times[(scenario, key)] = t
        if t < self.end:
            self.plants.append(Plant(scenario, role, key, datetime.fromtimestamp(t, self.tz), note))

    def _choose(self) -> None:
        rng = random.Random(f"{self.seed}/plan")
        w = self.world
        taken: set[str] = set()
        s0 = self.start

        # elderly.inactive / elderly.sos — per subject tagged elderly_alone
        kinds_of: dict[str, set[str]] = defaultdict(set)
        for d in w.devices.values():
            if d.subject is not None:
                kinds_of[d.subject].add(d.kind)
        elderly = sorted(
            s.id
            for s in w.subjects.values()
            if "elderly_alone" in s.tags
            and {"door_sensor", "motion_sensor", "water_meter"} <= kinds_of[s.id]
        )
        for sid in _pick(rng, elderly, 1, taken):
            self.plant(
                "elderly.inactive",
                "positive",
                sid,
                s0 - round(3.5 * _H),
                "last sign of life the evening before, then silence",
            )
        for sid in _pick(rng, elderly, 2, taken):
            self.plant(
                "elderly.inactive",
                "silent",
                sid,
                s0,
                "never seen: devices offline for the whole run",
            )
        for sid in _pick(rng, elderly, 1, taken):
            self.plant(
                "elderly.inactive",
                "near_miss",
                sid,
                s0 - round(2.5 * _H),
                "inactive for 20 h, then active again",
            )
        with_sos = [s for s in elderly if "sos_button" in kinds_of[s]]
        for sid, hour in zip(_pick(rng, with_sos, 2, taken), ("10:15", "16:42"), strict=False):
            self.plant("elderly.sos", "positive", sid, self.at(hour), "SOS button pressed")

        # elevator.ebike — per elevator
        lifts = self.ids("elevator_monitor")
        for did in _pick(rng, lifts, 1, taken):
            self.plant(
                "elevator.ebike",
                "positive",
                did,
                self.at("19:00"),
                "4 e-bike detections within 41 min (upgrade to high)",
            )
        for did in _pick(rng, lifts, 1, taken):
            self.plant("elevator.trapped", "positive", did, self.at("15:18"), "2 people trapped")

        # fire.smoke — per building
        smoke_by_b: dict[str, list[str]] = defaultdict(list)
        for d in self.by_kind.get("smoke_detector", []):
            smoke_by_b[d.building or d.id].append(d.id)
        temp_b = {d.building for d in self.by_kind.get("temperature_sensor", []) if d.building}
        multi = sorted(b for b, ds in smoke_by_b.items() if len(ds) >= 2)
        with_temp = sorted(b for b in smoke_by_b if b in temp_b)
        single = sorted(smoke_by_b)
        for b in _pick(rng, multi, 1, taken):
            self.plant(
                "fire.smoke",
                "positive",
                b,
                self.at("03:12"),
                "verified: a second detector in the building 70 s later",
                "second",
            )
        for b in _pick(rng, with_temp, 1, taken):
            self.plant(
                "fire.smoke",
                "positive",
                b,
                self.at("14:20"),
                "verified: 61.5 °C in the building 70 s after the alarm",
                "hot",
            )
        for b in _pick(rng, multi, 1, taken):
            self.plant(
                "fire.smoke",
                "near_miss",
                b,
                self.at("16:40"),
                "second detector 150 s later (not within 120 s): stays unverified",
                "second_late",
            )
        for b in _pick(rng, with_temp, 1, taken):
            self.plant(
                "fire.smoke",
                "near_miss",
                b,
                self.at("11:45"),
                "56 °C 60 s after the alarm (below 57 °C): stays unverified",
                "warm",
            )
        for b, hour in zip(
            _pick(rng, single, 6, taken),
            ("11:12", "11:54", "12:18", "17:24", "18:06", "18:36"),
            strict=False,
        ):
            self.plant(
                "fire.smoke",
                "false_alarm",
                b,
                self.at(hour),
                "one detector, no corroboration (cooking)",
            )

        # power.overload — per meter
        meters = self.ids("power_meter")
        exact = self.ids("power_meter", lambda d: _exact_1_2(_rated(d)))
        for did in _pick(rng, meters, 1, taken):
            self.plant(
                "power.overload",
                "positive",
                did,
                self.at("19:00"),
                "current 1.28–1.45 × rated for 25 min",
                "overload",
            )
        for did in _pick(rng, meters, 1, taken):
            self.plant(
                "power.overload", "positive", did, self.at("09:30"), "leakage 36.5 mA", "leakage"
            )
        for did in _pick(rng, exact, 1, taken):
            self.plant(
                "power.overload",
                "near_miss",
                did,
                self.at("14:00"),
                "current exactly 1.2 × rated for 30 min (not above)",
                "exact",
            )
        for did in _pick(rng, meters, 1, taken):
            self.plant(
                "power.overload",
                "near_miss",
                did,
                self.at("11:00"),
                "one reading at 1.5 × rated, the next normal (< 5 min)",
                "spike",
            )
        for did in _pick(rng, meters, 1, taken):
            self.plant(
                "power.overload", "near_miss", did, self.at("16:00"), "leakage 28 mA", "leakage_low"
            )

        # garbage.overflow — per bin; garbage.dumping — per camera
        bins = self.ids("bin_sensor")
        for did in _pick(rng, bins, 2, taken):
            self.plant(
                "garbage.overflow",
                "positive",
                did,
                self.at("18:00"),
                "≥ 90 before the evening emptying (19:12–19:48), then < 50",
            )
        for did in _pick(rng, bins, 1, taken):
            self.plant(
                "garbage.overflow",
                "near_miss",
                did,
                self.at("18:00"),
                "peaks at 85–88 before the evening emptying",
            )
        cams = self.ids("camera", lambda d: "garbage_point" in d.tags) or self.ids("camera")
        for did, hour in zip(_pick(rng, cams, 3, taken), ("02:15", "13:24", "22:42"), strict=False):
            self.plant(
                "garbage.dumping",
                "positive",
                did,
                self.at(hour),
                "garbage_dumping outside 07–09 / 18–20",
            )
        for did, hour in zip(
            _pick(rng, cams, 4, taken), ("07:30", "08:45", "18:30", "19:54"), strict=False
        ):
            self.plant(
                "garbage.dumping",
                "near_miss",
                did,
                self.at(hour),
                "garbage_dumping inside a drop-off window",
            )

        # access.forced / access.held_open — per door
        gates = self.ids("access_gate")
        for did in _pick(rng, gates, 1, taken):
            self.plant(
                "access.forced",
                "positive",
                did,
                self.at("02:30"),
                "6 access.denied within 5 min 20 s",
            )
        for did, hour in zip(
            _pick(rng, gates, 3, taken), ("08:10", "13:40", "21:05"), strict=False
        ):
            self.plant(
                "access.forced",
                "false_alarm",
                did,
                self.at(hour),
                "burst of 3–4 access.denied (expired card), below 5",
            )
        for did in _pick(rng, gates, 1, taken):
            self.plant(
                "access.forced",
                "near_miss",
                did,
                self.at("23:00"),
                "5 access.denied spread over 12.5 min (never 5 within 10)",
            )
        for did in _pick(rng, gates, 1, taken):
            self.plant(
                "access.held_open",
                "positive",
                did,
                self.at("12:00"),
                "held open, closed 9 min 20 s later",
            )
        for did in _pick(rng, gates, 1, taken):
            self.plant(
                "access.held_open",
                "near_miss",
                did,
                self.at("15:00"),
                "held open, closed 100 s later",
            )

        # health_products.gathering / venue.night_crowd — per venue
        def venue_counters(tag: str) -> list[str]:
            return self.ids(
                "crowd_counter",
                lambda d: (
                    d.venue is not None and d.venue in w.venues and tag in w.venues[d.venue].tags
                ),
            )

        sales = venue_counters("sales_venue")
        for did in _pick(rng, sales, 1, taken):
            self.plant(
                "health_products.gathering",
                "positive",
                self._venue(did),
                self.at("09:30"),
                "up to 38 people, 70–85 % elderly; later < 10",
                "crowd",
            )
        for did in _pick(rng, sales, 1, taken):
            self.plant(
                "health_products.gathering",
                "near_miss",
                self._venue(did),
                self.at("14:00"),
                "26 people but elderly_ratio 0.40–0.50",
                "young",
            )
        for did in _pick(rng, sales, 1, taken):
            self.plant(
                "health_products.gathering",
                "near_miss",
                self._venue(did),
                self.at("15:30"),
                "19 people at elderly_ratio 0.8",
                "small",
            )
        sensitive = venue_counters("sensitive")
        nights = (
            ("00:20", "up to 45 people 00:30–01:30, < 15 from 02:00", "small_hours"),
            ("22:30", "up to 38 people 22:40–23:10, < 15 from 23:30", "late_evening"),
        )
        for did, (hour, note, variant) in zip(
            _pick(rng, sensitive, 2, taken), nights, strict=False
        ):
            self.plant(
                "venue.night_crowd", "positive", self._venue(did), self.at(hour), note, variant
            )
        for did in _pick(rng, sensitive, 1, taken):
            self.plant(
                "venue.night_crowd",
                "near_miss",
                self._venue(did),
                self.at("20:00"),
                "42 people, but before 22:00",
                "evening",
            )
        for did in _pick(rng, sensitive, 1, taken):
            self.plant(
                "venue.night_crowd",
                "near_miss",
                self._venue(did),
                self.at("23:00"),
                "29 people at night",
                "29",
            )

        # parking.filial_overstay — per space tagged filial
        filial = self.ids("parking_sensor", lambda d: "filial" in d.tags)
        filial_plans = (
            ("10:05", "occupied 3 h 20 min", "freed"),
            ("20:30", "occupied at 20:30, still there at the end", "stays"),
        )
        for did, (hour, note, variant) in zip(
            _pick(rng, filial, 2, taken), filial_plans, strict=False
        ):
            self.plant("parking.filial_overstay", "positive", did, self.at(hour), note, variant)
        for did in _pick(rng, filial, 1, taken):
            self.plant(
                "parking.filial_overstay", "near_miss", did, self.at("14:00"), "occupied 1 h 55 min"
            )

        # enterprise.abnormal / enterprise.relocation — per enterprise (subject)
        ents = sorted(s.id for s in w.subjects.values() if "enterprise" in s.tags)
        month = self.month_ts()
        for sid, metric in zip(
            _pick(rng, ents, 2, taken), ("revenue", "electricity"), strict=False
        ):
            self.plant(
                "enterprise.abnormal",
                "positive",
                sid,
                month,
                f"{metric} at 30–38 % of the 3-month mean",
            )
            self.keys.setdefault(("enterprise.abnormal", f"metric:{sid}"), []).append(metric)
        for sid in _pick(rng, ents, 1, taken):
            self.plant(
                "enterprise.abnormal",
                "near_miss",
                sid,
                month,
                "revenue at 55 % of the 3-month mean",
            )
        for sid in _pick(rng, ents, 1, taken):
            self.plant(
                "enterprise.relocation",
                "positive",
                sid,
                self.at("10:30"),
                "registered address moved to 余杭区 (330110)",
            )
        for sid, (hour, variant) in zip(
            _pick(rng, ents, 2, taken),
            (("14:12", "address"), ("16:00", "legal_representative")),
            strict=False,
        ):
            self.plant(
                "enterprise.relocation",
                "near_miss",
                sid,
                self.at(hour),
                f"registration change ({variant}) inside the district",
                variant,
            )

        # the rest of the catalogue
        for did in _pick(rng, self.ids("water_level_sensor"), 1, taken):
            self.plant("waterlogging", "positive", did, self.at("15:00"), "water rises to 32 cm")
        for did in _pick(rng, self.ids("tilt_sensor"), 1, taken):
            self.plant("structure.tilt", "positive", did, self.at("13:00"), "tilt 1.2–1.4°")
        for did, hour in zip(
            _pick(rng, self.ids("manhole_sensor"), 2, taken), ("03:42", "17:12"), strict=False
        ):
            self.plant("manhole.displaced", "positive", did, self.at(hour), "cover displaced")
        for did in _pick(rng, self.ids("gas_detector"), 1, taken):
            self.plant("gas.leak", "positive", did, self.at("11:36"), "1800 ppm")
        for did in _pick(rng, self.ids("kitchen_camera"), 1, taken):
            self.plant("kitchen.violation", "positive", did, self.at("02:30"), "rodent at night")

    def _venue(self, counter: str) -> str:
        venue = self.world.devices[counter].venue
        assert venue is not None
        self.keys.setdefault(("counter", venue), []).append(counter)
        return venue

    def counter_of(self, venue: str) -> str:
        return self.keys[("counter", venue)][0]

    def month_ts(self) -> int:
        """When this month's indicators arrive: 09:00 on the 1st when the run covers
        it, else (the data bureau publishing late) the run's first 09:00; if the run
        covers neither, a time past its end, and no indicators are sent at all."""
        local = datetime.fromtimestamp(self.start, self.tz)
        first = local.replace(day=1, hour=9, minute=0, second=0, microsecond=0)
        if first.timestamp() < self.start:
            first = _add_months(first, 1)
        if first.timestamp() < self.end:
            return int(first.timestamp())
        nine = self.at("09:00")
        return nine if nine < self.end else int(first.timestamp())


def _add_months(t: datetime, months: int) -> datetime:
    index = t.year * 12 + t.month - 1 + months
    return t.replace(year=index // 12, month=index % 12 + 1)


def _rated(device: Device) -> float:
    value = device.extra.get("rated_a", 20)
    return float(value) if isinstance(value, int | float) and value > 0 else 20.0


def _exact_1_2(rated: float) -> bool:
    """Whether a reading of exactly 1.2 × rated (written with one decimal) is *not*
    above 1.2 × rated however an engine compares it (``c > 1.2 * r`` or
    ``c / r > 1.2``): the near miss must not fire through float rounding."""
    current = round(rated * 1.2, 1)
    return current == rated * 1.2 and current / rated == 1.2


# ------------------------------------------------------------------------- emission


class _Raw:
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


class _Sim:
    def __init__(self, world: World, start: datetime, hours: float, seed: int) -> None:
        if start.tzinfo is None:
            raise ValueError("start must carry a time zone, e.g. +08:00")
        if hours <= 0:
            raise ValueError("hours must be positive")
        self.world = world
        self.seed = seed
        self.tz = ZoneInfo(world.timezone)
        self.start = math.floor(start.timestamp())
        self.end = self.start + math.ceil(hours * _H)
        self.plan = _Plan(world, self.start, self.end, self.tz, seed)
        self.raws: list[_Raw] = []

    # ---------------------------------------------------------------- basics

    def rng(self, label: str) -> random.Random:
        return random.Random(f"{self.seed}/{label}")

    def hour_of(self, sec: int) -> float:
        """Local hour of day (0–24) of an epoch second."""
        local = datetime.fromtimestamp(sec, self.tz)
        return local.hour + local.minute / 60 + local.second / 3600

    def days(self, lo: int) -> Iterator[int]:
        """Local midnights of every day overlapping [lo, end)."""
        day = self.plan.day0
        while day > lo:
            day -= _DAY
        while day < self.end:
            yield day
            day += _DAY

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
            _Raw(
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

    # ------------------------------------------------------------- channels

    def run(self) -> Iterator[dict[str, Any]]:
        self.elderly()
        self.elevators()
        self.smoke()
        self.power()
        self.bins()
        self.cameras()
        self.access()
        self.crowds()
        self.parking()
        self.enterprises()
        self.reports()
        self.others()
        return self.deliver()

    def elderly(self) -> None:
        """Daily rhythm of elderly people living alone: up at 06:00–07:30, moving about
        until 21:00–22:30, water at meals, a few outings; the odd night-time trip."""
        plan = self.plan
        inactive = set(plan.get("elderly.inactive", "positive"))
        silent = set(plan.get("elderly.inactive", "silent"))
        near = set(plan.get("elderly.inactive", "near_miss"))
        devices: dict[str, dict[str, Device]] = defaultdict(dict)
        for d in self.world.devices.values():
            if d.subject is not None and d.kind in (
                "door_sensor",
                "motion_sensor",
                "water_meter",
                "sos_button",
            ):
                devices[d.subject][d.kind] = d
        lo = self.start - 6 * _H  # the evening before: each subject's last sign of life
        for sid in sorted(devices):
            subject = self.world.subjects.get(sid)
            if subject is None or "elderly_alone" not in subject.tags or sid in silent:
                continue
            devs = devices[sid]
            rng = self.rng(f"elder/{sid}")
            events: list[tuple[int, str]] = []
            for day in self.days(lo):
                wake = day + round(rng.uniform(6.0, 7.5) * _H)
                sleep = day + round(rng.uniform(21.0, 22.5) * _H)
                t = wake
                while t < sleep:
                    events.append((t, "motion.detected"))
                    t += 60 + round(rng.expovariate(1 / 840))
                for _ in range(rng.choice((0, 0, 1, 2))):
                    events.append((day + round(rng.uniform(1, 5) * _H), "motion.detected"))
                events.append((wake + rng.randint(300, 1800), "water.flow"))
                for meal in (11.0, 17.0):
                    events.append((day + round((meal + rng.uniform(0, 1.5)) * _H), "water.flow"))
                for _ in range(rng.randint(0, 3)):
                    events.append((rng.randint(wake, sleep), "water.flow"))
                for _ in range(rng.randint(1, 3)):
                    out = rng.randint(wake + 1800, max(wake + 1801, sleep - 3 * _H))
                    events.append((out, "door.open"))
                    events.append((out + rng.randint(1800, 9000), "door.open"))
            planted = sid in inactive or sid in near
            if sid in inactive:
                last = self.start - round(3.5 * _H)
                events = [(t, k) for t, k in events if t < last - 600]
                events += [(last - 600, "door.open"), (last, "motion.detected")]
            if sid in near:
                last = self.start - round(2.5 * _H)
                back = last + 20 * _H
                events = [(t, k) for t, k in events if t < last - 300 or t > back + 300]
                events += [
                    (last, "motion.detected"),
                    (back, "door.open"),
                    (back + 120, "motion.detected"),
                ]
            for t, kind in sorted(events):
                if t < lo:
                    continue
                if kind == "motion.detected":
                    self.emit(t, kind, device=devs["motion_sensor"], backfill=True, planted=planted)
                elif kind == "water.flow":
                    litres = round(rng.uniform(2, 25), 1)
                    self.emit(
                        t,
                        kind,
                        {"litres": litres},
                        device=devs["water_meter"],
                        backfill=True,
                        planted=planted,
                    )
                else:
                    method = rng.choice(("inside", "key", "card"))
                    self.emit(
                        t,
                        kind,
                        {"method": method},
                        device=devs["door_sensor"],
                        backfill=True,
                        planted=planted,
                    )
        for sid in plan.get("elderly.sos", "positive"):
            button = devices[sid]["sos_button"]
            sec = plan.when("elderly.sos", sid)
            self.emit(sec, "button.sos", {"press": "single"}, device=button, planted=True)
            if sid == plan.get("elderly.sos", "positive")[-1]:
                self.emit(sec + 25, "button.sos", {"press": "repeat"}, device=button, planted=True)

    def elevators(self) -> None:
        plan = self.plan
        ebike = set(plan.get("elevator.ebike", "positive"))
        for lift in plan.by_kind.get("elevator_monitor", []):
            rng = self.rng(f"lift/{lift.id}")
            for day in self.days(self.start):
                for _ in range(sum(rng.random() < 0.2 for _ in range(3))):
                    t = day + round(rng.uniform(7, 22.5) * _H)
                    if lift.id in ebike and abs(t - plan.when("elevator.ebike", lift.id)) < 3 * _H:
                        continue
                    self.emit(t, "elevator.ebike_detected", self._ebike(rng), device=lift)
            if lift.id in ebike:
                for minutes in (0, 7, 16, 41):
                    self.emit(
                        plan.when("elevator.ebike", lift.id) + minutes * _MIN + rng.randint(0, 50),
                        "elevator.ebike_detected",
                        self._ebike(rng),
                        device=lift,
                        planted=True,
                    )
        for did in plan.get("elevator.trapped", "positive"):
            self.emit(
                plan.when("elevator.trapped", did),
                "elevator.trapped",
                {"persons": 2},
                device=self.world.devices[did],
                planted=True,
            )

    @staticmethod
    def _ebike(rng: random.Random) -> dict[str, Any]:
        return {"confidence": round(rng.uniform(0.82, 0.99), 2), "blocked": True}

    def smoke(self) -> None:
        """Smoke alarms per building and temperature readings every 10 min. False
        alarms dominate (seed 000: 3,000+ warnings, 6 real fires)."""
        plan = self.plan
        detectors: dict[str, list[Device]] = defaultdict(list)
        for d in plan.by_kind.get("smoke_detector", []):
            detectors[d.building or d.id].append(d)
        sensors: dict[str, list[Device]] = defaultdict(list)
        for d in plan.by_kind.get("temperature_sensor", []):
            sensors[d.building or d.id].append(d)
        hot: dict[str, list[tuple[int, float]]] = defaultdict(list)  # device → readings

        def alarm(b: str, index: int, t: int, planted: bool = True) -> None:
            self.emit(
                t, "smoke.alarm", {"building": b}, device=detectors[b][index], planted=planted
            )

        pos = plan.get("fire.smoke", "positive")
        near = plan.get("fire.smoke", "near_miss")
        for p in plan.plants:
            if p.scenario != "fire.smoke":
                continue
            b, t = p.key, int(p.at.timestamp())
            variant = plan.variants[(p.scenario, b)]
            alarm(b, 0, t)
            if variant == "second":
                alarm(b, 1, t + 70)
            elif variant == "second_late":
                alarm(b, 1, t + 150)
            elif variant == "hot":
                hot_id = sensors[b][0].id
                hot[hot_id] += [(t + 70, 61.5)]
                hot[hot_id] += [(t + 600 * k, 66.0 - 6 * k) for k in range(1, 4)]
            elif variant == "warm":
                hot[sensors[b][0].id] += [(t + 60, 56.0)]
        special = set(pos) | set(near)
        for b in sorted(sensors):
            for sensor in sensors[b]:
                rng = self.rng(f"temp/{sensor.id}")
                extra = sorted(hot.get(sensor.id, []))
                fire = [t for t, c in extra if c >= 57]
                fire_from = fire[0] if fire else None
                t = self.start + rng.randint(0, 599)
                while t < self.end:
                    h = self.hour_of(t)
                    c = 22 + 4 * math.sin((h - 9) / 24 * 2 * math.pi) + rng.uniform(-0.8, 0.8)
                    if fire_from is not None and fire_from <= t < fire_from + 35 * _MIN:
                        t += 600
                        continue  # the fire's readings replace the routine ones
                    self.emit(
                        t,
                        "temperature.reading",
                        {"celsius": round(c, 1), "building": b},
                        device=sensor,
                        planted=b in special,
                    )
                    t += 600
                for t_hot, c in extra:
                    self.emit(
                        t_hot,
                        "temperature.reading",
                        {"celsius": c, "building": b},
                        device=sensor,
                        planted=True,
                    )

    def power(self) -> None:
        """Meters report every 5 min at 25–90 % of rated current, shaped by the day."""
        plan = self.plan
        roles = {
            p.key: plan.variants[(p.scenario, p.key)]
            for p in plan.plants
            if p.scenario == "power.overload"
        }
        for meter in plan.by_kind.get("power_meter", []):
            rng = self.rng(f"meter/{meter.id}")
            rated = _rated(meter)
            base = rng.uniform(0.2, 0.45)
            variant = roles.get(meter.id, "")
            planted = bool(variant)
            rated_attr = int(rated) if rated.is_integer() else rated
            spiked = False
            t0 = plan.when("power.overload", meter.id) if planted else 0
            t = self.start + rng.randint(0, 299)
            while t < self.end:
                h = self.hour_of(t)
                shape = max(0.0, math.sin((h - 6) / 16 * math.pi)) if 6 <= h <= 22 else 0.0
                current = rated * min(0.9, base + 0.35 * shape + rng.uniform(-0.04, 0.04))
                leakage = round(rng.uniform(1.5, 12.0), 1)
                if variant == "overload" and t0 <= t < t0 + 25 * _MIN:
                    current = rated * rng.uniform(1.28, 1.45)
                elif variant == "exact" and t0 <= t < t0 + 30 * _MIN:
                    current = rated * 1.2  # exactly representable: see _exact_1_2
                elif variant == "spike" and not spiked and t >= t0:
                    current, spiked = rated * 1.5, True
                elif variant == "leakage" and t0 <= t < t0 + 300:
                    leakage = 36.5
                elif variant == "leakage_low" and t0 <= t < t0 + 300:
                    leakage = 28.0
                attrs = {
                    "current_a": round(current, 1),
                    "rated_a": rated_attr,
                    "leakage_ma": leakage,
                }
                self.emit(t, "meter.reading", attrs, device=meter, planted=planted)
                t += 300

    def bins(self) -> None:
        """Bins fill with the day's activity and are emptied at the 07:00–09:00 and
        18:00–20:00 drop-off windows (定时定点); they report every 15 min."""
        plan = self.plan
        over = set(plan.get("garbage.overflow", "positive"))
        near = set(plan.get("garbage.overflow", "near_miss"))
        for b in plan.by_kind.get("bin_sensor", []):
            rng = self.rng(f"bin/{b.id}")
            empties: list[int] = []
            days = list(self.days(self.start - _DAY))
            for day in [*days, days[-1] + _DAY]:
                empties += [
                    day + round(rng.uniform(7.2, 8.5) * _H),
                    day + round(rng.uniform(19.2, 19.8) * _H),
                ]
            peaks: dict[int, float] = {}
            if b.id in over or b.id in near:
                # the day interval that ends with the first evening emptying after 18:00
                t18 = plan.when("garbage.overflow", b.id)
                k = next(i for i in range(0, len(empties) - 1, 2) if empties[i + 1] > t18)
                peaks[k] = 97.0 if b.id in over else 87.5
            t = self.start + rng.randint(0, 899)
            k = 0
            while t < self.end:
                while k + 1 < len(empties) and empties[k + 1] <= t:
                    k += 1
                lo, hi = empties[k], empties[k + 1]
                if k not in peaks:
                    peaks[k] = rng.uniform(35, 78)
                frac = (self._activity(t) - self._activity(lo)) / max(
                    1.0, self._activity(hi) - self._activity(lo)
                )
                level = 2 + (peaks[k] - 2) * frac + rng.uniform(-1, 1)
                level = max(0, min(100, round(level)))
                if peaks[k] == 87.5:
                    level = min(level, 88)  # the near miss never touches 90
                self.emit(
                    t, "bin.fill", {"level": level}, device=b, planted=b.id in over or b.id in near
                )
                t += 900

    def _activity(self, sec: int) -> float:
        """Cumulative activity-weighted seconds since the run's first midnight: a bin
        fills five times faster by day (07–22) than at night."""
        rel = sec - self.plan.day0
        days, rest = divmod(rel, _DAY)
        per_day = 7 * 0.2 + 15 * 1.0 + 2 * 0.2
        h = rest / _H
        part = min(h, 7) * 0.2 + max(0.0, min(h, 22) - 7) * 1.0 + max(0.0, h - 22) * 0.2
        return (days * per_day + part) * _H

    def cameras(self) -> None:
        plan = self.plan
        labels = (
            ("street_vending", 30),
            ("illegal_parking", 35),
            ("exposed_garbage", 15),
            ("muck_truck_uncovered", 10),
            ("fire_lane_blocked", 5),
            ("billboard_damaged", 5),
        )
        names = [name for name, _ in labels]
        weights = [wt for _, wt in labels]
        special = set(plan.get("garbage.dumping", "positive")) | set(
            plan.get("garbage.dumping", "near_miss")
        )
        for cam in plan.by_kind.get("camera", []):
            rng = self.rng(f"cam/{cam.id}")
            for day in self.days(self.start):
                for _ in range(rng.randint(0, 6)):
                    t = day + round(rng.uniform(6.5, 23.5) * _H)
                    label = rng.choices(names, weights)[0]
                    self.emit(t, "camera.detection", self._det(rng, label), device=cam)
                    if label in _CLEARED_LABELS and rng.random() < 0.9:
                        # the AI box reports the scene clear again: most parked cars and
                        # stalls leave within minutes, some stay long enough to alert
                        stay = rng.uniform(2, 9) if rng.random() < 0.75 else rng.uniform(12, 60)
                        gone = t + round(stay * 60)
                        self.emit(gone, "camera.cleared", {"label": label}, device=cam)
                if "garbage_point" in cam.tags and cam.id not in special:
                    for _ in range(rng.randint(0, 2)):
                        window = rng.choice((7.2, 18.2))
                        t = day + round((window + rng.uniform(0, 1.6)) * _H)
                        self.emit(
                            t, "camera.detection", self._det(rng, "garbage_dumping"), device=cam
                        )
        for p in plan.plants:
            if p.scenario == "garbage.dumping":
                rng = self.rng(f"dump/{p.key}/{p.at}")
                self.emit(
                    int(p.at.timestamp()),
                    "camera.detection",
                    self._det(rng, "garbage_dumping"),
                    device=self.world.devices[p.key],
                    planted=True,
                )
        kitchen_labels = (("no_hat", 50), ("no_mask", 40))
        for cam in plan.by_kind.get("kitchen_camera", []):
            rng = self.rng(f"kitchen/{cam.id}")
            for day in self.days(self.start):
                for _ in range(rng.randint(0, 3)):
                    t = day + round(rng.choice((9.5, 16.0)) * _H + rng.uniform(0, 3.5) * _H)
                    label = rng.choices(
                        [k for k, _ in kitchen_labels], [w for _, w in kitchen_labels]
                    )[0]
                    self.emit(t, "camera.detection", self._det(rng, label), device=cam)
        for did in plan.get("kitchen.violation", "positive"):
            rng = self.rng(f"rodent/{did}")
            self.emit(
                plan.when("kitchen.violation", did),
                "camera.detection",
                self._det(rng, "rodent"),
                device=self.world.devices[did],
                planted=True,
            )

    @staticmethod
    def _det(rng: random.Random, label: str) -> dict[str, Any]:
        return {"label": label, "score": round(rng.uniform(0.62, 0.98), 2)}

    def access(self) -> None:
        """Estate gates: ~100 openings a day with morning and evening peaks, each
        followed by ``door.closed``; a few held open briefly; rare denials."""
        plan = self.plan
        forced = set(plan.get("access.forced", "positive"))
        bursts = set(plan.get("access.forced", "false_alarm"))
        spread = set(plan.get("access.forced", "near_miss"))
        held = set(plan.get("access.held_open", "positive"))
        short = set(plan.get("access.held_open", "near_miss"))
        no_denials = forced | bursts | spread
        chooser = self.rng("gates/held")
        gates = plan.by_kind.get("access_gate", [])
        free = [g.id for g in gates if g.id not in held | short]
        normal_held: dict[str, list[int]] = defaultdict(list)
        for day in self.days(self.start):
            for _ in range(15):
                if free:
                    gid = chooser.choice(free)
                    normal_held[gid].append(day + round(chooser.uniform(8, 21) * _H))
        for gate in gates:
            rng = self.rng(f"gate/{gate.id}")
            # held-open episodes: (open time, seconds until closed, planted)
            episodes = [(t, rng.randint(90, 150), False) for t in normal_held.get(gate.id, [])]
            if gate.id in held:
                episodes.append((plan.when("access.held_open", gate.id), 60 + 560, True))
            if gate.id in short:
                episodes.append((plan.when("access.held_open", gate.id), 60 + 100, True))
            busy = [(t - 90, t + d + 90) for t, d, _ in episodes]
            opens: list[int] = []
            for day in self.days(self.start):
                for _ in range(rng.randint(60, 140)):
                    r = rng.random()
                    if r < 0.3:
                        h = rng.gauss(7.8, 0.6)
                    elif r < 0.6:
                        h = rng.gauss(18.3, 0.9)
                    elif r < 0.98:
                        h = rng.uniform(6, 23)
                    else:
                        h = rng.uniform(0, 6)
                    t = day + round(min(max(h, 0.0), 23.99) * _H)
                    if not any(a <= t <= b for a, b in busy):
                        opens.append(t)
            opens.sort()
            methods = ("card", "face", "qr", "password")
            for i, t in enumerate(opens):
                self.emit(
                    t,
                    "door.open",
                    {"method": rng.choices(methods, (40, 35, 20, 5))[0]},
                    device=gate,
                )
                close = t + rng.randint(4, 15)
                if i + 1 == len(opens) or close < opens[i + 1]:
                    self.emit(close, "door.closed", device=gate)
            for t, d, planted in episodes:
                self.emit(t, "door.open", {"method": "card"}, device=gate, planted=planted)
                self.emit(t + 60, "door.held_open", {"seconds": 60}, device=gate, planted=planted)
                self.emit(t + d, "door.closed", device=gate, planted=planted)
            if gate.id not in no_denials:
                denials: list[int] = []
                for day in self.days(self.start):
                    for _ in range(sum(rng.random() < 0.25 for _ in range(8))):
                        denials.append(day + round(rng.uniform(6, 23) * _H))
                kept: list[int] = []
                for t in sorted(denials):  # never 4 within 10 min by chance
                    if sum(1 for k in kept if t - k < 10 * _MIN) < 3:
                        kept.append(t)
                for t in kept:
                    reason = rng.choices(
                        ("unknown_card", "expired_card", "face_mismatch"), (30, 50, 20)
                    )[0]
                    self.emit(t, "access.denied", {"reason": reason}, device=gate)
        for p in plan.plants:
            if p.scenario != "access.forced":
                continue
            gate_dev = self.world.devices[p.key]
            t0 = int(p.at.timestamp())
            offsets: tuple[int, ...]
            if p.role == "positive":
                offsets, reason = (0, 40, 95, 150, 230, 320), "unknown_card"
            elif p.role == "near_miss":
                offsets, reason = (0, 180, 360, 540, 750), "face_mismatch"
            else:
                n = 3 + zlib.crc32(p.key.encode()) % 2
                offsets, reason = (0, 55, 130, 210)[:n], "expired_card"
            for off in offsets:
                self.emit(
                    t0 + off, "access.denied", {"reason": reason}, device=gate_dev, planted=True
                )

    def crowds(self) -> None:
        """Crowd counters every 10 min: sales venues while open (08:30–19:30),
        sensitive venues around the clock with their own evening shape."""
        plan = self.plan
        scripted: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
        scripts: dict[str, tuple[list[int], tuple[float, float]]] = {
            # health_products.gathering
            "crowd": ([12, 18, 24, 31, 36, 38, 33, 27, 21, 14, 8, 5], (0.70, 0.85)),
            "young": ([22, 25, 26, 24, 21], (0.40, 0.50)),
            "small": ([18, 19, 19, 18], (0.80, 0.80)),
            # venue.night_crowd
            "small_hours": ([26, 31, 35, 38, 45, 42, 36, 31, 24, 17, 12, 9], (0.0, 0.06)),
            "late_evening": ([26, 31, 35, 38, 33, 22, 13, 8], (0.0, 0.06)),
            "evening": ([28, 35, 40, 42, 38, 33, 24], (0.0, 0.05)),
            "29": ([27, 29, 29, 28, 24], (0.0, 0.05)),
        }
        for p in plan.plants:
            if p.scenario not in ("health_products.gathering", "venue.night_crowd"):
                continue
            counts, (lo_r, hi_r) = scripts[plan.variants[(p.scenario, p.key)]]
            rng = self.rng(f"crowd-script/{p.key}/{p.at}")
            t0 = int(p.at.timestamp())
            scripted[plan.counter_of(p.key)] += [
                (t0 + i * 600, c, round(rng.uniform(lo_r, hi_r), 2)) for i, c in enumerate(counts)
            ]
        for counter in plan.by_kind.get("crowd_counter", []):
            venue = self.world.venues.get(counter.venue or "")
            if venue is None:
                continue
            rng = self.rng(f"crowd/{counter.id}")
            vtype = str(venue.extra.get("type", ""))
            script = sorted(scripted.get(counter.id, []))
            spans = [(script[0][0] - 300, script[-1][0] + 300)] if script else []
            t = self.start + rng.randint(0, 599)
            while t < self.end:
                if any(a <= t <= b for a, b in spans):
                    t += 600
                    continue
                h = self.hour_of(t)
                if "sales_venue" in venue.tags:
                    if 8.5 <= h < 19.5:
                        count = min(17, max(0, round(rng.gauss(5, 3) + 4 * (9 <= h < 11))))
                        ratio = round(rng.uniform(0.35, 0.9), 2)
                        if count >= 17:
                            ratio = min(ratio, 0.55)
                        self.emit(
                            t,
                            "crowd.count",
                            {"count": count, "elderly_ratio": ratio},
                            device=counter,
                        )
                elif "sensitive" in venue.tags:
                    count = self._night_count(rng, vtype, h)
                    self.emit(
                        t,
                        "crowd.count",
                        {"count": count, "elderly_ratio": round(rng.uniform(0, 0.08), 2)},
                        device=counter,
                    )
                t += 600
            for ts, count, ratio in script:
                self.emit(
                    ts,
                    "crowd.count",
                    {"count": count, "elderly_ratio": ratio},
                    device=counter,
                    planted=True,
                )

    @staticmethod
    def _night_count(rng: random.Random, vtype: str, h: float) -> int:
        evening = h >= 19 or h < 2
        if vtype == "网吧":
            mean = 15 if 10 <= h < 22 else 9
        elif evening:
            mean = 16
        else:
            mean = 2
        return min(26, max(0, round(rng.gauss(mean, 4))))

    def parking(self) -> None:
        """孝心车位: visits of 20–100 min by day; other spaces hold commuters' cars
        for hours (not filial, so no warning)."""
        plan = self.plan
        specials: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
        for p in plan.plants:
            if p.scenario != "parking.filial_overstay":
                continue
            t0 = int(p.at.timestamp())
            variant = plan.variants[(p.scenario, p.key)]
            if p.role == "near_miss":
                specials[p.key].append((t0, t0 + 115 * _MIN))
            elif variant == "stays":
                specials[p.key].append((t0, None))  # still there when the run ends
            else:
                specials[p.key].append((t0, t0 + 200 * _MIN))
        for space in plan.by_kind.get("parking_sensor", []):
            rng = self.rng(f"park/{space.id}")
            visits: list[tuple[int, int | None]] = []
            planted = space.id in specials
            if planted:
                visits = specials[space.id]
                day = self.plan.day0
                early = day + round(rng.uniform(7.5, 8.2) * _H)
                if all(early + 45 * _MIN < v[0] for v in visits):
                    visits = [(early, early + rng.randint(20, 40) * _MIN), *visits]
            else:
                for day in self.days(self.start):
                    if "filial" in space.tags:
                        t = day + round(rng.uniform(8, 10) * _H)
                        for _ in range(rng.randint(0, 3)):
                            stay = rng.randint(20, 100) * _MIN
                            visits.append((t, t + stay))
                            t += stay + round(rng.uniform(0.5, 4) * _H)
                            if t > day + 21 * _H:
                                break
                    else:
                        t = day + round(rng.uniform(7, 9.5) * _H)
                        visits.append((t, t + round(rng.uniform(6, 10) * _H)))
            for occupied, freed in visits:
                self.emit(occupied, "parking.occupied", device=space, planted=planted)
                if freed is not None:
                    self.emit(freed, "parking.freed", device=space, planted=planted)

    def enterprises(self) -> None:
        """小河网驿 monthly indicators: the previous three months are replayed as history
        at the start of the stream (ts on the 1st of each month), then this month's."""
        plan = self.plan
        month = plan.month_ts()
        ents = sorted(s.id for s in self.world.subjects.values() if "enterprise" in s.tags)
        abnormal = {
            sid: plan.get("enterprise.abnormal", f"metric:{sid}")[0]
            for sid in plan.get("enterprise.abnormal", "positive")
        }
        near = set(plan.get("enterprise.abnormal", "near_miss"))
        if month < self.end:  # history only leads up to this month's values
            current = datetime.fromtimestamp(month, self.tz)
            first = current.replace(day=1, hour=9, minute=0, second=0, microsecond=0)
            months = [*(_add_months(first, k) for k in (-3, -2, -1)), current]
            for sid in ents:
                subject = self.world.subjects[sid]
                rng = self.rng(f"ent/{sid}")
                bases = {"revenue": rng.uniform(300, 30000), "electricity": rng.uniform(2e4, 8e5)}
                units = {"revenue": "万元", "electricity": "kWh"}
                planted = sid in abnormal or sid in near
                for metric, base in bases.items():
                    history = [base * rng.uniform(0.9, 1.1) for _ in range(3)]
                    mean = sum(history) / 3
                    now = mean * rng.uniform(0.9, 1.1)
                    if abnormal.get(sid) == metric:
                        now = mean * (0.38 if metric == "revenue" else 0.30)
                    elif sid in near and metric == "revenue":
                        now = mean * 0.55
                    for m, value in zip(months, [*history, now], strict=True):
                        ts = int(m.timestamp())
                        self.emit(
                            ts,
                            "enterprise.indicator",
                            {
                                "metric": metric,
                                "value": round(value, 1),
                                "unit": units[metric],
                                "month": m.strftime("%Y-%m"),
                            },
                            source=SOURCE_ENTERPRISE,
                            base=sid,
                            subject=sid,
                            area=subject.area,
                            planted=planted,
                            backfill=True,
                            eid=f"{sid}-{metric}-{m.strftime('%Y%m')}",
                        )
        for p in plan.plants:
            if p.scenario != "enterprise.relocation":
                continue
            subject = self.world.subjects[p.key]
            t0 = int(p.at.timestamp())
            if p.role == "positive":
                attrs = {
                    "change": "address",
                    "new_district": "330110",
                    "new_address": "杭州市余杭区仓前街道文一西路1号",
                    "text": f"{subject.name or p.key}注册地址迁出至余杭区",
                }
            else:
                change = plan.variants[(p.scenario, p.key)]
                what = "注册地址（区内）" if change == "address" else "法定代表人"
                attrs = {
                    "change": change,
                    "new_district": self.world.district.code,
                    "text": f"{subject.name or p.key}变更{what}",
                }
            self.emit(
                t0,
                "enterprise.registration_change",
                attrs,
                source=SOURCE_ENTERPRISE,
                base=f"{p.key}-reg",
                subject=p.key,
                area=subject.area,
                planted=True,
            )

    def reports(self) -> None:
        """Residents' 随手拍 (app) and the 12345 hotline: ~2,000 suggestions a month in
        the seeds, so ~60 app reports and ~40 hotline tickets a day, mostly by day."""
        grids = self.world.at_level(AreaLevel.GRID)
        if not grids:
            return
        from shapely.geometry import Point, shape  # only reports need geometry

        rng = self.rng("reports")
        weights = (22, 15, 15, 18, 10, 8, 12)
        for source, per_day in ((SOURCE_APP, 60), (SOURCE_HOTLINE, 40)):
            for day in self.days(self.start):
                stamp = datetime.fromtimestamp(day + 12 * _H, self.tz).strftime("%Y%m%d")
                for _ in range(per_day):
                    h = rng.gauss(14, 4.5)
                    if not 0 <= h < 24:
                        h = rng.uniform(7, 22)
                    t = day + round(h * _H)
                    grid = rng.choice(grids)
                    category = rng.choices(CATEGORIES, weights)[0]
                    community = self.world.areas.get(grid.parent or "")
                    place = community.name if community else grid.name
                    attrs: dict[str, Any] = {
                        "category": category,
                        "text": _report_text(rng, category, place),
                    }
                    if source == SOURCE_HOTLINE:
                        attrs["caller"] = rng.choice("王李张刘陈杨黄赵周吴徐孙沈钱") + rng.choice(
                            ("先生", "女士", "大伯", "阿姨")
                        )
                    else:
                        attrs["photos"] = rng.randint(0, 3)
                    lat = lon = None
                    area: str | None = grid.code
                    if rng.random() < 0.35 and grid.boundary:
                        geom = shape(grid.boundary)
                        w, s, e, n = geom.bounds
                        for _ in range(5):
                            y = round(s + (n - s) * rng.uniform(0.2, 0.8), 6)
                            x = round(w + (e - w) * rng.uniform(0.2, 0.8), 6)
                            if geom.contains(Point(x, y)):
                                lat, lon, area = y, x, None
                                break
                    self.emit(
                        t,
                        "report.hotline" if source == SOURCE_HOTLINE else "report.citizen",
                        attrs,
                        source=source,
                        base=f"{source.upper()}-{stamp}",
                        area=area,
                        lat=lat,
                        lon=lon,
                    )

    def others(self) -> None:
        """The rest of the catalogue: waterlogging, building tilt, manholes, gas."""
        plan = self.plan
        flood = set(plan.get("waterlogging", "positive"))
        for s in plan.by_kind.get("water_level_sensor", []):
            rng = self.rng(f"wl/{s.id}")
            base = rng.uniform(2, 10)
            t = self.start + rng.randint(0, 899)
            while t < self.end:
                cm = base + rng.uniform(-0.8, 0.8)
                rain = (t - plan.when("waterlogging", s.id)) / _H if s.id in flood else -1
                if s.id in flood and 0 <= rain < 3:
                    cm += 24 * math.sin(rain / 3 * math.pi)
                self.emit(
                    t,
                    "water.level",
                    {"cm": round(max(0.0, cm), 1)},
                    device=s,
                    planted=s.id in flood,
                )
                t += 900
        tilted = set(plan.get("structure.tilt", "positive"))
        for s in plan.by_kind.get("tilt_sensor", []):
            rng = self.rng(f"tilt/{s.id}")
            base = rng.uniform(0.05, 0.3)
            t = self.start + rng.randint(0, 3599)
            while t < self.end:
                deg = base + rng.uniform(-0.01, 0.01)
                if s.id in tilted and t >= plan.when("structure.tilt", s.id):
                    deg = rng.uniform(1.2, 1.4)
                self.emit(
                    t,
                    "structure.tilt",
                    {"degrees": round(deg, 2)},
                    device=s,
                    planted=s.id in tilted,
                )
                t += _H
        for p in plan.plants:
            t0 = int(p.at.timestamp())
            if p.scenario == "manhole.displaced":
                self.emit(
                    t0,
                    "manhole.displaced",
                    {"tilt_deg": 14},
                    device=self.world.devices[p.key],
                    planted=True,
                )
            elif p.scenario == "gas.leak":
                self.emit(
                    t0, "gas.alarm", {"ppm": 1800}, device=self.world.devices[p.key], planted=True
                )

    # -------------------------------------------------------------- delivery

    def deliver(self) -> Iterator[dict[str, Any]]:
        """Give every event its id, then its arrival time (network jitter, lateness,
        re-sends), and yield them in arrival order."""
        counters: dict[tuple[str, str], int] = defaultdict(int)
        for raw in sorted(self.raws, key=lambda r: (r.source, r.base, r.sec, r.seq)):
            if raw.eid is None:
                counters[(raw.source, raw.base)] += 1
                raw.eid = f"{raw.base}-{counters[(raw.source, raw.base)]}"
        rng = self.rng("delivery")
        queue: list[tuple[float, int, int, dict[str, Any]]] = []
        for raw in self.raws:
            arrival = raw.sec + rng.uniform(0.05, 2.0)
            u = rng.random()
            if raw.kind.startswith("enterprise.") and raw.sec < self.start:
                arrival = float(raw.sec)  # history: replayed as it was
            elif u < LATE_P:
                arrival += rng.uniform(60, 480)
            elif (
                u < LATE_P + VERY_LATE_P
                and raw.kind in VERY_LATE_KINDS
                and not raw.planted
                and raw.sec >= self.start
            ):
                arrival += rng.uniform(900, 1800)
            event = self._json(raw)
            queue.append((arrival, raw.seq, 0, event))
            if rng.random() < DUPLICATE_P:
                again = {**event, "attrs": dict(event["attrs"])}
                queue.append((arrival + rng.uniform(3, 90), raw.seq, 1, again))
        queue.sort(key=lambda x: (x[0], x[1], x[2]))
        for _, _, _, event in queue:
            yield event

    def _json(self, raw: _Raw) -> dict[str, Any]:
        assert raw.eid is not None
        out: dict[str, Any] = {
            "id": raw.eid,
            "kind": raw.kind,
            "ts": datetime.fromtimestamp(raw.sec, self.tz).isoformat(),
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


_TEMPLATES: dict[str, tuple[str, ...]] = {
    "garbage": (
        "{place}垃圾分类点的垃圾桶已经满出来了，旁边堆了好几袋，味道很大，请尽快清运。",
        "{place}楼道口有人乱扔装修垃圾，已经堆了两三天了。",
        "{place}厨余垃圾桶没有盖子，招苍蝇，希望物业处理一下。",
    ),
    "road": (
        "{road}靠近{place}路段的人行道砖松动翘起，老人走路容易绊倒。",
        "{road}有一处路面坑洼，下雨积水，电动车经过很危险。",
        "{place}门口的路灯坏了好几天，晚上很黑。",
    ),
    "noise": (
        "{place}附近工地晚上十点以后还在施工，噪音太大影响休息。",
        "{place}楼下广场舞音响声音太大，希望协调一下时间和音量。",
        "{road}沿街商铺用大喇叭循环叫卖，吵得很。",
    ),
    "parking": (
        "{place}小区消防通道被私家车长期占用，请处理。",
        "{road}人行道上乱停电动车和共享单车，行人没法走。",
        "{place}孝心车位被外来车辆长期占用，家属探望老人没地方停。",
    ),
    "water": (
        "{place}二次供水水压太低，高层早上基本没有水。",
        "{road}雨水井堵塞，一下雨路面就积水。",
        "{place}地下管道漏水，路面一直湿的。",
    ),
    "greening": (
        "{place}绿化带里的树枝太长挡住了窗户，请安排修剪。",
        "{road}行道树倒伏压在非机动车道上。",
        "{place}公共绿地被人私自圈起来种菜。",
    ),
    "other": (
        "{place}楼道里有人给电动车飞线充电，有安全隐患。",
        "{place}有流浪狗在小区里出没，担心伤人。",
        "想建议{place}在红茶议事会上讨论一下加装电梯的事。",
    ),
}


#: Camera labels for a state that ends (a car parked, a stall set up, a lane blocked):
#: the camera reports ``camera.cleared`` when it is over.
_CLEARED_LABELS = frozenset({"illegal_parking", "fire_lane_blocked", "street_vending"})


def _report_text(rng: random.Random, category: str, place: str) -> str:
    template = rng.choice(_TEMPLATES.get(category, _TEMPLATES["other"]))
    return template.format(place=place, road=rng.choice(ROADS))


# --------------------------------------------------------------------------- public


def simulate(world: World, *, start: datetime, hours: float, seed: int) -> Iterator[dict[str, Any]]:
    """Yield a realistic stream of event JSON objects in *arrival* order.

    Every object passes :func:`cityeye.domain.parse_event`. Events have ``ts`` in
    [start, start + hours), except deliberate history at the head of the stream: the
    elderly's evening before (their last signs of life) and the enterprises' previous
    three monthly indicators. About 1 % of events are delivered twice (identical),
    about 2 % arrive 1–8 minutes late (within the engine's 10-minute lateness) and a
    few routine readings arrive 15–30 minutes late (beyond it). Deterministic for
    (world, start, hours, seed).
    """
    return _Sim(world, start, hours, seed).run()


def planted(world: World, *, start: datetime, hours: float, seed: int) -> list[Plant]:
    """The patterns :func:`simulate` plants for these arguments (only those whose
    first event falls before ``start + hours``), without generating the stream. The
    choice of keys does not depend on ``hours``: a shorter run holds a subset."""
    sim = _Sim(world, start, hours, seed)
    return list(sim.plan.plants)


def planted_keys(
    world: World, *, start: datetime, hours: float, seed: int
) -> dict[str, dict[str, list[str]]]:
    """``{scenario: {role: [keys]}}`` of :func:`planted`, for quick look-ups."""
    out: dict[str, dict[str, list[str]]] = {}
    for p in planted(world, start=start, hours=hours, seed=seed):
        out.setdefault(p.scenario, {}).setdefault(p.role, []).append(p.key)
    return out


def write_jsonl(events: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """Write events as JSON Lines (one compact object per line); returns the count."""
    n = 0
    dumps = orjson.dumps
    for event in events:
        out.write(dumps(event) + b"\n")
        n += 1
    return n


def default_start() -> datetime:
    """The demo's default start: 2026-10-01 00:00 in Hangzhou."""
    return datetime(2026, 10, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


__all__ = [
    "CATEGORIES",
    "LATENESS_S",
    "Plant",
    "default_start",
    "planted",
    "planted_keys",
    "simulate",
    "write_jsonl",
]
