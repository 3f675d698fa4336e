"""The plan: which key carries which planted pattern, and when.

For every normative scenario the simulator plants a positive beside near misses and
false alarms. The plan chooses their keys (devices, subjects, buildings, venues) and
times from the world with its own seeded RNG before any event is made, so that
:func:`cityeye.demo.simulator.planted` can say what a stream holds without generating
it, and so that the channels only read it: which patterns a day holds is written down
here, in one place, apart from how each device's ordinary day is made.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from cityeye.demo.simulator.clock import DAY, HOUR, MINUTE, add_months
from cityeye.domain import Device, World


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
    #: The one device that carries it, where the key (a building) has several: a
    #: nuisance smoke alarm's detector (see :meth:`Plan.nuisance`); ``""`` otherwise.
    device: str = ""


def _pick(rng: random.Random, pool: list[str], k: int, taken: set[str]) -> list[str]:
    free = [x for x in pool if x not in taken]
    chosen = rng.sample(free, min(k, len(free)))
    taken.update(chosen)
    return chosen


@dataclass(slots=True)
class Plan:
    """Who carries which pattern, and when. Chosen from the world by a seeded RNG so
    that simulation and :func:`planted` agree without running the stream."""

    world: World
    start: int  # epoch seconds
    end: int
    tz: ZoneInfo
    seed: int
    #: Plant nuisance smoke alarms to the seeds' ratio (:meth:`nuisance`).
    nuisance: bool = False
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
        # the added devices' patterns: a module and a random stream of their own
        from cityeye.demo.simulator.added_devices import choose

        choose(self)
        if self.nuisance:
            self._nuisance()

    def at(self, clock: str) -> int:
        """Local time ``HH:MM`` on the run's first day (the next day if before start)."""
        hh, mm = clock.split(":")
        t = self.day0 + int(hh) * HOUR + int(mm) * MINUTE
        return t + DAY if t < self.start else t

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
                s0 - round(3.5 * HOUR),
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
                s0 - round(2.5 * HOUR),
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
        exact = self.ids("power_meter", lambda d: _exact_1_2(rated_current(d)))
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

    def _nuisance(self) -> None:
        """Nuisance smoke alarms (dust, steam, a failing detector), so that a run holds
        the seeds' ratio of warnings to real fires: "预警 3000 余起 … 真实警情 6 起"
        (seed 000:287), 500 single-detector alarms per planted real fire, counting the
        planted patterns' own alarms. How they spread is ours (the seeds do not say):
        a faulty few — 5 % of the detectors, at least one — raise 60 % of them, the rest
        fall on the other detectors at random, at uniformly random times of the run.
        Buildings that carry a planted fire or near miss get none, so those patterns
        mean what they say; two nuisance alarms of one building may still fall within
        120 s by chance and verify a false fire, as they would in life. Drawn from a
        generator of their own: the other plants do not move."""
        fires = [p for p in self.plants if p.scenario == "fire.smoke" and p.role == "positive"]
        own = sum(
            2 if self.variants[("fire.smoke", p.key)] in ("second", "second_late") else 1
            for p in self.plants
            if p.scenario == "fire.smoke"
        )
        wanted = SEED_WARNINGS_PER_FIRE * len(fires) - own
        special = set(self.get("fire.smoke", "positive")) | set(self.get("fire.smoke", "near_miss"))
        detectors = [
            d for d in self.by_kind.get("smoke_detector", []) if (d.building or d.id) not in special
        ]
        if wanted <= 0 or not detectors:
            return
        rng = random.Random(f"{self.seed}/nuisance")
        faulty = rng.sample(detectors, max(1, round(0.05 * len(detectors))))
        for _ in range(wanted):
            device = rng.choice(faulty) if rng.random() < 0.6 else rng.choice(detectors)
            t = self.start + rng.randrange(self.end - self.start)
            building = device.building or device.id
            note = f"nuisance alarm of {device.id} (dust, steam or a failing detector)"
            at = datetime.fromtimestamp(t, self.tz)
            self.plants.append(Plant("fire.smoke", "false_alarm", building, at, note, device.id))

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
            first = add_months(first, 1)
        if first.timestamp() < self.end:
            return int(first.timestamp())
        nine = self.at("09:00")
        return nine if nine < self.end else int(first.timestamp())


#: Single-detector warnings per real fire in the seeds: 3,000+ for 6 (seed 000:287).
SEED_WARNINGS_PER_FIRE = 3000 // 6


def rated_current(device: Device) -> float:
    """A power meter's rated current in amperes (``extra.rated_a``; 20 A if absent)."""
    value = device.extra.get("rated_a", 20)
    return float(value) if isinstance(value, int | float) and value > 0 else 20.0


def _exact_1_2(rated: float) -> bool:
    """Whether a reading of exactly 1.2 × rated (written with one decimal) is *not*
    above 1.2 × rated however an engine compares it (``c > 1.2 * r`` or
    ``c / r > 1.2``): the near miss must not fire through float rounding."""
    current = round(rated * 1.2, 1)
    return current == rated * 1.2 and current / rated == 1.2
