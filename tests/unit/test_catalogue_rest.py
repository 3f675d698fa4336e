"""The rest of the catalogue (SCENARIOS.md "The rest of the catalogue"), each scenario
held to its description.

Every new scenario is a :class:`Spec`: its positive pattern (a function of the start
minute, so the same pattern can play twice), its near misses, its edges with the exact
alerts they give (which side of each threshold is inclusive), what resolves it and when
it may fire again. The generic tests below run every spec through the engine:

* fires on the pattern, with the right id, severity and ``opened_at``;
* stays silent on each near miss; gives exactly the listed alerts on each edge;
* resolves, then fires again as a new alert (``…/2``);
* a duplicate (same source and id) is never counted twice;
* out-of-order delivery within the lateness gives the same alerts as time order;
* the event that completes the pattern, delivered beyond the lateness, raises nothing.

Times are minutes after ``kit.T0`` (2026-10-01 10:00, Asia/Shanghai); ``D`` is a day.

``docs/catalogue.md`` is checked against the YAML here too; regenerate its tables with
``CITYEYE_WRITE_DOCS=1 pytest tests/unit/test_catalogue_rest.py -k docs``.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_catalogue_seeds import render_overview, seed_cell

from cityeye.domain import EVENT_KINDS, Alert, Device, Event, Module, Severity, Subject, Venue
from cityeye.scenarios import Engine, LoadedScenario, load_catalogue
from kit import NORMATIVE, T0, at, ev, small_world

H, D = 60, 1440
WK = 7 * D
LATE = 10  # the engine's default lateness, minutes

# the scenarios the seeds name (issue 20, part C2): their devices and subjects
HOME = (30.3, 120.1)  # E1's fence: 500 m around here
#: degrees of latitude per metre (geofence's measure)
PER_M = 180 / (3.141592653589793 * 6_371_008.8)
SQUARE = {  # E2's fence: a polygon (GeoJSON: [lon, lat])
    "type": "Polygon",
    "coordinates": [
        [[120.2, 30.3], [120.21, 30.3], [120.21, 30.31], [120.2, 30.31], [120.2, 30.3]]
    ],
}
C2_DEVICES = [
    Device("ND1", "camera", "G1", tags=("no_dumping",)),  # on a riverbank
    Device("FC1", "camera", "G1", building="B7"),  # façade cameras
    Device("FC2", "camera", "G1", building="B7"),
    Device("OF1", "water_quality_sensor", "G1"),  # an outfall
    Device("CP1", "charging_port", "G1"),
    Device("WB1", "wearable_locator", "G1", subject="E1"),
    Device("WB2", "wearable_locator", "G1", subject="E2"),
    Device("WB3", "wearable_locator", "G1", subject="E3"),
]
C2_SUBJECTS = [
    Subject(
        "E1", "G1", ("elderly_alone",), fence={"lat": HOME[0], "lon": HOME[1], "radius_m": 500}
    ),
    Subject("E2", "G1", fence=SQUARE),
    Subject("E3", "G1", ("elderly_alone",)),  # no fence
]


WORLD = small_world(
    devices=[
        Device("CAM1", "camera", "G1"),
        Device("CAM2", "camera", "G1"),
        Device("MH1", "manhole_sensor", "G1"),
        Device("WL1", "water_level_sensor", "G1"),  # an underpass
        Device("RG1", "water_level_sensor", "G1"),  # a river gauge
        Device("BB1", "tilt_sensor", "G1"),  # on a billboard
        Device("TL1", "tilt_sensor", "G1", building="B3"),
        Device("DR1", "door_sensor", "G1", subject="R1"),
        Device("DR2", "door_sensor", "G1", subject="R2"),
        Device("CC5", "crowd_counter", "G1", venue="KTV1"),
        Device("CC6", "crowd_counter", "G1", venue="SQ1"),
        Device("CC7", "crowd_counter", "G1", venue="BAR1"),
        Device("CC8", "crowd_counter", "G1", venue="RS1"),
        Device("GD1", "gas_detector", "G1", venue="RS1"),
        Device("GD2", "gas_detector", "G1", venue="RS1"),
        Device("GD9", "gas_detector", "G1"),  # in no venue
        Device("EL2", "elevator_monitor", "G1", building="B1"),
        Device("KC1", "kitchen_camera", "G1", venue="RS1"),
        Device("KC2", "kitchen_camera", "G1", venue="RS1"),
        Device("KC3", "kitchen_camera", "G1", venue="RS2"),
        Device("SD9", "smoke_detector", "G1", venue="FU1"),  # in a unit, no building
        *C2_DEVICES,
    ],
    subjects=[
        Subject("R1", "G1", ("rental",)),
        Subject("R2", "G1"),
        Subject("K1", "G1", ("community_correction",)),
        Subject("K2", "G1"),
        Subject("ENT1", "G1", ("enterprise",)),
        *C2_SUBJECTS,
    ],
    venues=[
        Venue("KTV1", "G1", ("sensitive", "entertainment")),
        Venue("BAR1", "G1", ("sensitive",)),
        Venue("SQ1", "G1", ("public_space",)),
        Venue("RS1", "G1", ("restaurant",)),
        Venue("RS2", "G1", ("restaurant",)),
        Venue("SH1", "G1"),
        Venue("FU1", "G1", ("fire_safety_unit",)),
        Venue("SH2", "G1", ("shop",)),
        Venue("PP1", "G1", ("prepaid_merchant",)),
    ],
)


# ----------------------------------------------------------------------------- events
def tick(m: float) -> Event:
    """Moves the clock; no scenario reads it."""
    return ev("test.tick", m)


def cam(m: float, label: str, device: str = "CAM1", **kw: Any) -> Event:
    return ev("camera.detection", m, device=device, source="camera-ai", label=label, **kw)


def gone(m: float, label: str, device: str = "CAM1", **kw: Any) -> Event:
    return ev("camera.cleared", m, device=device, source="camera-ai", label=label, **kw)


def water(m: float, cm: float, device: str = "WL1", **kw: Any) -> Event:
    return ev("water.level", m, device=device, cm=cm, **kw)


def river(m: float, cm: float) -> Event:
    return water(m, cm, "RG1", warning_cm=350, guarantee_cm=420)


def tilt(m: float, degrees: float, device: str = "TL1", kind: str = "structure.tilt") -> Event:
    return ev(kind, m, device=device, degrees=degrees)


def board(m: float, degrees: float) -> Event:
    return tilt(m, degrees, "BB1", "billboard.tilt")


def crowd(m: float, count: int, device: str, **kw: Any) -> Event:
    return ev("crowd.count", m, device=device, count=count, **kw)


def square(m: float, count: int) -> Event:
    return crowd(m, count, "CC6", capacity=1000)


def door(m: float, device: str = "DR1") -> Event:
    return ev("door.open", m, device=device, method="card")


def checkin(m: float, subject: str = "K1") -> Event:
    return ev("checkin.report", m, subject=subject, source="sqjz-app", method="app")


def gas(m: float, device: str) -> Event:
    return ev("gas.alarm", m, device=device, ppm=1800)


def kitchen(m: float, label: str, device: str = "KC1") -> Event:
    return cam(m, label, device)


def licence(m: float, status: str, venue: str = "RS1") -> Event:
    return ev("license.status", m, source="amr", venue=venue, license="food", status=status)


def complaint(m: float, venue: str | None = "SH1", category: str = "prepaid_card") -> Event:
    where = {"venue": venue} if venue else {}
    return ev("report.hotline", m, source="12345", category=category, text="预付卡", **where)


def fire_check(m: float, result: str, hazards: int = 0, venue: str = "FU1") -> Event:
    return ev(
        "inspection.result",
        m,
        source="xf-platform",
        venue=venue,
        scheme="fire_safety",
        result=result,
        hazards=hazards,
    )


def shop_check(m: float, result: str, issues: int = 0, key_issue: str | None = None) -> Event:
    extra = {"key_issue": key_issue} if key_issue else {}
    return ev(
        "inspection.result",
        m,
        source="wgy-app",
        venue="SH2",
        scheme="yima_an",
        result=result,
        issues=issues,
        **extra,
    )


def funds(m: float, deposited: float, insured: float) -> Event:
    return ev(
        "prepaid.deposit",
        m,
        source="e-fubao",
        venue="PP1",
        deposited_ratio=deposited,
        insured_ratio=insured,
    )


def firm(kind: str, m: float, **attrs: Any) -> Event:
    return ev(f"enterprise.{kind}", m, subject="ENT1", source="xiaohe-wangyi", **attrs)


def suit(
    m: float, role: str = "defendant", case_type: str = "contract", amount: int = 50_000
) -> Event:
    return firm("lawsuit", m, role=role, case_type=case_type, amount=amount)


def leave(m: float, key: bool = True, change: str = "leave") -> Event:
    return firm("staff_change", m, change=change, key=key, role="executive")


def utility(m: float, status: str, months: int = 0, kind: str = "electricity") -> Event:
    return firm("utility", m, utility=kind, status=status, months=months)


def due_for_repair(m: float) -> Event:
    """The noisy-device rule's event (:mod:`cityeye.routine.maintenance`)."""
    return ev("device.maintenance_due", m, device="SD9", false_alarms=6, false_share=0.9, days=30)


def bikes(m: float, count: int) -> Event:
    return cam(m, "shared_bikes", count=count)


def outfall(m: float, cod: float | None = None, nh3n: float | None = None) -> Event:
    values = {"cod_mg_l": cod, "nh3n_mg_l": nh3n}
    return ev(
        "water.quality", m, device="OF1", **{k: v for k, v in values.items() if v is not None}
    )


def pos(m: float, north_m: float = 0, device: str | None = "WB1", **kw: Any) -> Event:
    """A wearable's position ``north_m`` metres north of E1's home (its fence: 500 m)."""
    event = ev("wearable.position", m, device=device, source="yanglao", **kw)
    return replace(event, lat=HOME[0] + north_m * PER_M, lon=HOME[1])


def at_point(m: float, lat: float, lon: float, device: str = "WB2") -> Event:
    return replace(ev("wearable.position", m, device=device, source="yanglao"), lat=lat, lon=lon)


OUT, IN = 2000, 0  # metres from home: outside and inside E1's fence


def port(m: float, celsius: float) -> Event:
    return ev("charging.temperature", m, device="CP1", celsius=celsius)


def charge(m: float, started: bool = True) -> Event:
    return ev(f"charging.{'started' if started else 'stopped'}", m, device="CP1")


# ----------------------------------------------------------------------------- engine
@dataclass(frozen=True)
class Handle:
    """The case for ``key`` is handled at ``minutes`` (closes the open alert)."""

    minutes: float
    key: str


Step = Event | Handle
#: (key, severity, opened_at, resolved_at) — times in minutes after T0
Row = tuple[str, str, float | None, float | None]


@functools.cache
def catalogue() -> dict[str, LoadedScenario]:
    return {s.id: s for s in load_catalogue()}


def engine_for(sid: str | None) -> Engine:
    """An engine over one scenario, or the whole catalogue for ``None``."""
    specs = list(catalogue().values()) if sid is None else [catalogue()[sid]]
    return Engine(specs, WORLD)


def feed(engine: Engine, sid: str, steps: Iterable[Step]) -> None:
    for step in steps:
        if isinstance(step, Handle):
            engine.advance_to(at(step.minutes + LATE))  # everything before it is processed
            assert engine.resolve_alert(sid, step.key, at(step.minutes)) is not None
        else:
            engine.feed(step)


def play(sid: str, steps: Iterable[Step]) -> list[Alert]:
    engine = engine_for(sid)
    feed(engine, sid, steps)
    engine.finish()
    return engine.alerts


def mins(t: datetime | None) -> float | None:
    return None if t is None else round((t - T0).total_seconds() / 60, 4)


def minute(event: Event) -> float:
    return (event.ts - T0).total_seconds() / 60


def rows(alerts: list[Alert]) -> list[Row]:
    return [(a.key, a.severity.value, mins(a.opened_at), mins(a.resolved_at)) for a in alerts]


def full(alerts: list[Alert]) -> list[tuple[Any, ...]]:
    return [
        (a.id, a.severity.value, mins(a.opened_at), mins(a.resolved_at), a.count, *a.event_ids)
        for a in alerts
    ]


def real(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind != "test.tick"]


def by_time(events: Iterable[Event]) -> list[Event]:
    return sorted(events, key=lambda e: e.ts)


# ----------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class Edge:
    note: str  # which side is inclusive
    steps: list[Event]  # delivered in this order
    expect: list[Row]


@dataclass(frozen=True)
class Spec:
    sid: str
    key: str
    fire: Callable[[float], list[Event]]  # the positive pattern from minute t, time order
    opens: float  # minutes after t
    severity: str  # once the whole pattern has played
    near: dict[str, list[Event]]  # each gives no alert at all
    edges: list[Edge]
    clear: Callable[[float], list[Step]]  # after fire(t): resolves the alert …
    resolves: float  # … this many minutes after t
    gap: float  # fire(gap) after clear(0) opens alert /2
    also: frozenset[str] = frozenset()  # other scenarios the pattern may fire


def edge(note: str, steps: list[Event], *expect: Row) -> Edge:
    return Edge(note, steps, list(expect))


P1, P2 = "浙A12345", "浙A67890"

SPECS = [
    # ------------------------------------------------------------ 城市管理
    Spec(
        "city.street_vending",
        "CAM1",
        fire=lambda t: [cam(t, "street_vending"), cam(t + 10, "street_vending")],
        opens=10,
        severity="low",
        near={
            "16 min apart": [cam(0, "street_vending"), cam(16, "street_vending")],
            "in the 18:00-21:00 window": [cam(480, "street_vending"), cam(485, "street_vending")],
            "other labels": [cam(0, "illegal_parking"), cam(5, "exposed_garbage")],
        },
        edges=[
            edge(
                "15 min apart: both ends inclusive",
                [cam(0, "street_vending"), cam(15, "street_vending")],
                ("CAM1", "low", 15, None),
            ),
            edge(
                "21:00 is outside the window (end exclusive)",
                [cam(660, "street_vending"), cam(665, "street_vending")],
                ("CAM1", "low", 665, None),
            ),
            edge(
                "60 min without vending resolves (inclusive)",
                [cam(0, "street_vending"), cam(5, "street_vending"), tick(65)],
                ("CAM1", "low", 5, 65),
            ),
        ],
        clear=lambda t: [tick(t + 80)],
        resolves=70,
        gap=120,
    ),
    Spec(
        "city.illegal_parking",
        f"CAM1/{P1}",
        fire=lambda t: [cam(t, "illegal_parking", plate=P1), tick(t + 11)],
        opens=10,
        severity="low",
        near={
            "left after 9.9 min": [
                cam(0, "illegal_parking", plate=P1),
                gone(9.9, "illegal_parking", plate=P1),
                tick(30),
            ],
            "only 9 min seen": [cam(0, "illegal_parking", plate=P1), tick(9)],
        },
        edges=[
            edge(
                "10 min exactly counts, the clear at 10 min then resolves",
                [cam(0, "illegal_parking", plate=P1), gone(10, "illegal_parking", plate=P1)],
                (f"CAM1/{P1}", "low", 10, 10),
            ),
            edge(
                "each plate has its own timer; another plate's clear does not count",
                [
                    cam(0, "illegal_parking", plate=P1),
                    cam(2, "illegal_parking", plate=P2),
                    gone(5, "illegal_parking", plate=P2),
                    tick(20),
                ],
                (f"CAM1/{P1}", "low", 10, None),
            ),
            edge(
                "repeated detections do not restart the timer",
                [cam(0, "illegal_parking"), cam(6, "illegal_parking"), tick(11)],
                ("CAM1", "low", 10, None),
            ),
        ],
        clear=lambda t: [gone(t + 20, "illegal_parking", plate=P1)],
        resolves=20,
        gap=60,
    ),
    Spec(
        "city.muck_truck",
        "CAM2/浙A8M888",
        fire=lambda t: [cam(t, "muck_truck_uncovered", "CAM2", plate="浙A8M888")],
        opens=0,
        severity="medium",
        near={
            "a covered truck": [cam(0, "muck_truck", "CAM2")],
            "other labels": [cam(0, "street_vending", "CAM2")],
        },
        edges=[
            edge(
                "30 min after the last detection still joins (inclusive)",
                [cam(0, "muck_truck_uncovered", "CAM2"), cam(30, "muck_truck_uncovered", "CAM2")],
                ("CAM2", "medium", 0, None),
            ),
            edge(
                "later than 30 min supersedes the old alert and opens a new one",
                [cam(0, "muck_truck_uncovered", "CAM2"), cam(31, "muck_truck_uncovered", "CAM2")],
                ("CAM2", "medium", 0, 31),
                ("CAM2", "medium", 31, None),
            ),
        ],
        clear=lambda t: [Handle(t + 10, "CAM2/浙A8M888")],
        resolves=10,
        gap=60,
    ),
    Spec(
        "manhole.displaced",
        "MH1",
        fire=lambda t: [ev("manhole.displaced", t, device="MH1", tilt_deg=14), tick(t + 61)],
        opens=0,
        severity="critical",
        near={"restored only": [ev("manhole.restored", 0, device="MH1")]},
        edges=[
            edge(
                "1 h unrestored exactly makes it critical",
                [
                    ev("manhole.displaced", 0, device="MH1"),
                    ev("manhole.restored", 60, device="MH1"),
                ],
                ("MH1", "critical", 0, 60),
            ),
            edge(
                "restored just before 1 h: stays high",
                [
                    ev("manhole.displaced", 0, device="MH1"),
                    ev("manhole.restored", 59.9, device="MH1"),
                    tick(90),
                ],
                ("MH1", "high", 0, 59.9),
            ),
        ],
        clear=lambda t: [ev("manhole.restored", t + 70, device="MH1")],
        resolves=70,
        gap=120,
    ),
    Spec(
        "road.waterlogging",
        "WL1",
        fire=lambda t: [water(t, 8), water(t + 15, 18), water(t + 30, 32)],
        opens=15,
        severity="high",
        near={
            "14.9 cm": [water(0, 8), water(15, 14.9)],
            "a river gauge's reading": [river(0, 400)],
        },
        edges=[
            edge("15 cm exactly alerts", [water(0, 15)], ("WL1", "medium", 0, None)),
            edge("30 cm exactly makes it high", [water(0, 30)], ("WL1", "high", 0, None)),
            edge(
                "10 cm is not below 10: no resolve (hysteresis)",
                [water(0, 18), water(15, 10), water(45, 10)],
                ("WL1", "medium", 0, None),
            ),
            edge(
                "a reading ≥ 10 cm restarts the 30 min",
                [water(0, 18), water(15, 9), water(30, 11), water(45, 9), water(60, 9)],
                ("WL1", "medium", 0, None),
            ),
        ],
        clear=lambda t: [water(t + 45, 9), water(t + 60, 9), water(t + 75, 9)],
        resolves=75,
        gap=120,
    ),
    Spec(
        "city.billboard",
        "BB1",
        fire=lambda t: [board(t, 2.5), board(t + 10, 2.5)],
        opens=10,
        severity="medium",
        near={
            "a gust: one reading dips": [board(0, 2.5), board(5, 1.5), board(10, 2.5)],
            "1.9°": [board(0, 1.9), board(10, 1.9)],
            "a building tilt reading": [tilt(0, 6, "BB1")],
        },
        edges=[
            edge("2° for 10 min exactly", [board(0, 2), board(10, 2)], ("BB1", "medium", 10, None)),
            edge("5° at once is high", [board(0, 5)], ("BB1", "high", 0, None)),
            edge(
                "a camera seeing it damaged",
                [cam(0, "billboard_damaged", "CAM2")],
                ("CAM2", "medium", 0, None),
            ),
        ],
        clear=lambda t: [board(t + 20, 0.5), board(t + 80, 0.5)],
        resolves=80,
        gap=120,
    ),
    Spec(
        "city.exposed_garbage",
        "CAM1",
        fire=lambda t: [cam(t, "exposed_garbage"), cam(t + 120, "exposed_garbage")],
        opens=0,
        severity="medium",
        near={"cleared only": [gone(0, "exposed_garbage")], "other": [cam(0, "street_vending")]},
        edges=[
            edge(
                "still seen at 2 h exactly: medium",
                [cam(0, "exposed_garbage"), cam(120, "exposed_garbage")],
                ("CAM1", "medium", 0, None),
            ),
            edge(
                "seen again before 2 h: stays low",
                [cam(0, "exposed_garbage"), cam(119.9, "exposed_garbage")],
                ("CAM1", "low", 0, None),
            ),
        ],
        clear=lambda t: [gone(t + 130, "exposed_garbage")],
        resolves=130,
        gap=180,
    ),
    # ------------------------------------------------------------ 治安管理
    Spec(
        "security.group_rental",
        "R1",
        fire=lambda t: [door(t + 720 + 8 * i) for i in range(15)],
        opens=720 + 8 * 14,
        severity="medium",
        near={
            "14 at night": [door(720 + 8 * i) for i in range(14)],
            "not a registered rental": [door(720 + 8 * i, "DR2") for i in range(15)],
            "15 in the daytime": [door(8 * i) for i in range(15)],
        },
        edges=[
            edge(
                "the 15th counts",
                [door(720 + 20 * i) for i in range(15)],
                ("R1", "medium", 720 + 20 * 14, None),
            ),
            edge(
                "an opening at 06:00 exactly is not at night",
                [*(door(1000 + 10 * i) for i in range(14)), door(1200)],
            ),
            edge(
                "an opening at 22:00 exactly is",
                [door(720), *(door(730 + 10 * i) for i in range(14))],
                ("R1", "medium", 860, None),
            ),
        ],
        clear=lambda t: [Handle(t + 1300, "R1")],
        resolves=1300,
        gap=D,
    ),
    Spec(
        "security.correction_absent",
        "K1",
        fire=lambda t: [checkin(t), tick(t + D + 1)],
        opens=D,
        severity="medium",
        near={"a check-in every 23 h 59": [checkin(0), checkin(D - 1), tick(D + 100)]},
        edges=[
            edge("24 h exactly", [checkin(0), tick(D)], ("K1", "medium", D, None)),
            edge("just short of 24 h", [checkin(0), tick(D - 0.1)]),
            edge("48 h: high", [checkin(0), tick(2 * D)], ("K1", "high", D, None)),
            edge(
                "a check-in at 24 h exactly comes after the timer",
                [checkin(0), checkin(D)],
                ("K1", "medium", D, D),
            ),
            edge(
                "never seen: timed from the start of service",
                [checkin(0, "K2"), tick(D)],
                ("K1", "medium", D, None),
            ),
            edge(
                "a check-in beyond the lateness still counts as one",
                [checkin(0), tick(D - 5), checkin(D - 20), tick(D + 60)],
            ),
        ],
        clear=lambda t: [checkin(t + D + 60)],
        resolves=D + 60,
        gap=D + 120,
    ),
    Spec(
        "venue.after_hours",
        "KTV1",
        fire=lambda t: [crowd(t + 960 + 15 * i, 12, "CC5") for i in range(3)],
        opens=990,
        severity="medium",
        near={
            "a reading under 5 starts over": [
                crowd(960, 12, "CC5"),
                crowd(975, 4, "CC5"),
                crowd(990, 12, "CC5"),
            ],
            "a bar is not an entertainment venue": [
                crowd(960 + 15 * i, 12, "CC7") for i in range(3)
            ],
            "before 02:00": [crowd(900 + 15 * i, 12, "CC5") for i in range(3)],
        },
        edges=[
            edge(
                "5 people for 30 min exactly",
                [crowd(960, 5, "CC5"), crowd(990, 5, "CC5")],
                ("KTV1", "medium", 990, None),
            ),
            edge(
                "08:00 is outside (end exclusive)", [crowd(1410, 9, "CC5"), crowd(1440, 9, "CC5")]
            ),
        ],
        clear=lambda t: [crowd(t + 1005, 3, "CC5")],
        resolves=1005,
        gap=D,
    ),
    Spec(
        "security.crowding",
        "SQ1",
        fire=lambda t: [square(t, 850), square(t + 5, 900), square(t + 10, 1000)],
        opens=10,
        severity="high",
        near={
            "one reading dips under 80 %": [square(0, 850), square(5, 750), square(10, 850)],
            "790 of 1000": [square(0, 790), square(10, 790)],
            "no capacity": [crowd(0, 5000, "CC6"), crowd(10, 5000, "CC6")],
        },
        edges=[
            edge(
                "80 % for 10 min exactly",
                [square(0, 800), square(10, 800)],
                ("SQ1", "medium", 10, None),
            ),
            edge(
                "600 is not under 60 %: stays open",
                [square(0, 800), square(10, 800), square(20, 600)],
                ("SQ1", "medium", 10, None),
            ),
        ],
        clear=lambda t: [square(t + 20, 599)],
        resolves=20,
        gap=60,
    ),
    # ------------------------------------------------------------ 应急管理
    Spec(  # issue 20: the alarm-quality rule's maintenance case (cityeye addition)
        "device.maintenance",
        "SD9",
        fire=lambda t: [due_for_repair(t)],
        opens=0,
        severity="low",
        near={"the device's own alarm": [ev("smoke.alarm", 0, device="SD9", building="B1")]},
        edges=[
            edge(
                "asked again while the case is open: one alert, one case",
                [due_for_repair(0), due_for_repair(D)],
                ("SD9", "low", 0, None),
            ),
        ],
        clear=lambda t: [Handle(t + 30, "SD9")],
        resolves=30,
        gap=60,
    ),
    Spec(
        "emergency.fire_lane",
        "CAM2",
        fire=lambda t: [cam(t, "fire_lane_blocked", "CAM2"), tick(t + 31)],
        opens=5,
        severity="high",
        near={
            "cleared after 4.9 min": [
                cam(0, "fire_lane_blocked", "CAM2"),
                gone(4.9, "fire_lane_blocked", "CAM2"),
                tick(40),
            ]
        },
        edges=[
            edge(
                "5 min exactly",
                [cam(0, "fire_lane_blocked", "CAM2"), tick(5)],
                ("CAM2", "medium", 5, None),
            ),
            edge(
                "30 min exactly: high",
                [cam(0, "fire_lane_blocked", "CAM2"), tick(30)],
                ("CAM2", "high", 5, None),
            ),
            edge(
                "cleared at 5 min exactly: the timer comes first",
                [cam(0, "fire_lane_blocked", "CAM2"), gone(5, "fire_lane_blocked", "CAM2")],
                ("CAM2", "medium", 5, 5),
            ),
        ],
        clear=lambda t: [gone(t + 40, "fire_lane_blocked", "CAM2")],
        resolves=40,
        gap=60,
    ),
    Spec(
        "gas.leak",
        "RS1",
        fire=lambda t: [gas(t, "GD1"), gas(t + 2, "GD2")],
        opens=0,
        severity="critical",
        near={"a detector in no venue": [gas(0, "GD9")]},
        edges=[
            edge(
                "second detector at 5 min exactly",
                [gas(0, "GD1"), gas(5, "GD2")],
                ("RS1", "critical", 0, None),
            ),
            edge("after 5 min", [gas(0, "GD1"), gas(5.1, "GD2")], ("RS1", "high", 0, None)),
            edge(
                "the same detector twice", [gas(0, "GD1"), gas(2, "GD1")], ("RS1", "high", 0, None)
            ),
        ],
        clear=lambda t: [Handle(t + 30, "RS1")],
        resolves=30,
        gap=60,
    ),
    Spec(
        "flood.river_level",
        "RG1",
        fire=lambda t: [river(t, 300), river(t + 15, 325), river(t + 30, 360)],
        opens=15,
        severity="high",
        near={
            "319 cm (warning 350)": [river(0, 319)],
            "a road sensor": [water(0, 900, "RG1")],
        },
        edges=[
            edge("warning − 30 cm exactly", [river(0, 320)], ("RG1", "medium", 0, None)),
            edge("the warning level exactly", [river(0, 350)], ("RG1", "high", 0, None)),
            edge("the guaranteed level exactly", [river(0, 420)], ("RG1", "critical", 0, None)),
            edge("just under it", [river(0, 419.9)], ("RG1", "high", 0, None)),
            edge(
                "300 is not more than 50 cm under: stays open",
                [river(0, 330), river(60, 300), river(120, 300)],
                ("RG1", "medium", 0, None),
            ),
        ],
        clear=lambda t: [river(t + 60, 299), river(t + 120, 290)],
        resolves=120,
        gap=180,
    ),
    Spec(
        "structure.tilt",
        "TL1",
        fire=lambda t: [tilt(t, 0.6), tilt(t + 60, 0.6)],
        opens=60,
        severity="medium",
        near={
            "a reading under 0.5° starts over": [tilt(0, 0.6), tilt(30, 0.4), tilt(60, 0.6)],
            "0.49°": [tilt(0, 0.49), tilt(60, 0.49)],
            "a billboard's reading": [board(0, 3)],
        },
        edges=[
            edge(
                "0.5° for 1 h exactly", [tilt(0, 0.5), tilt(60, 0.5)], ("TL1", "medium", 60, None)
            ),
            edge("0.5° for 59 min", [tilt(0, 0.5), tilt(59, 0.5)]),
            edge("1.0° at once: high", [tilt(0, 1.0)], ("TL1", "high", 0, None)),
            edge("2.0°: critical", [tilt(0, 2.0)], ("TL1", "critical", 0, None)),
        ],
        clear=lambda t: [tilt(t + 120, 0.2), tilt(t + 120 + D, 0.2)],
        resolves=120 + D,
        gap=180 + D,
    ),
    Spec(
        "elevator.trapped",
        "EL2",
        fire=lambda t: [ev("elevator.trapped", t, device="EL2", persons=2)],
        opens=0,
        severity="critical",
        near={"released only": [ev("elevator.released", 0, device="EL2")]},
        edges=[
            edge(
                "exactly 10 min older than the newest event is still on time",
                [tick(10), ev("elevator.trapped", 0, device="EL2")],
                ("EL2", "critical", 0, None),
            ),
        ],
        clear=lambda t: [ev("elevator.released", t + 20, device="EL2")],
        resolves=20,
        gap=60,
    ),
    Spec(
        "elevator.fault",
        "EL2",
        fire=lambda t: [ev("elevator.fault", t, device="EL2", code="door")],
        opens=0,
        severity="medium",
        near={
            "e-bikes and uncivil use are counted, not faults": [
                ev("elevator.ebike_detected", 0, device="EL2"),
                ev("elevator.incivility_detected", 1, device="EL2", label="door_kicked"),
            ],
        },
        edges=[
            edge(
                "a second warning joins the open alert",
                [ev("elevator.fault", 0, device="EL2"), ev("elevator.fault", 300, device="EL2")],
                ("EL2", "medium", 0, None),
            ),
        ],
        clear=lambda t: [Handle(t + 30, "EL2")],
        resolves=30,
        gap=60,
    ),
    # ------------------------------------------------------------ 市场监管
    Spec(
        "kitchen.violation",
        "RS1",
        fire=lambda t: [
            kitchen(t, "no_hat"),
            kitchen(t + 20, "no_mask", "KC2"),
            kitchen(t + 40, "smoking"),
            kitchen(t + 50, "rodent"),
        ],
        opens=40,
        severity="high",
        near={
            "3 in 61 min": [kitchen(0, "no_hat"), kitchen(30, "no_hat"), kitchen(61, "no_hat")],
            "two restaurants": [
                kitchen(0, "no_hat"),
                kitchen(10, "no_hat", "KC3"),
                kitchen(20, "no_hat"),
            ],
        },
        edges=[
            edge(
                "3 in 60 min exactly",
                [kitchen(0, "no_hat"), kitchen(30, "no_mask"), kitchen(60, "no_hat")],
                ("RS1", "low", 60, None),
            ),
            edge("one rodent: high at once", [kitchen(0, "rodent")], ("RS1", "high", 0, None)),
        ],
        clear=lambda t: [Handle(t + 70, "RS1")],
        resolves=70,
        gap=120,
    ),
    Spec(
        "market.unlicensed",
        "RS1",
        fire=lambda t: [licence(t, "expired"), crowd(t + D + 60, 8, "CC8")],
        opens=D,
        severity="high",
        near={
            "renewed within 24 h": [licence(0, "expired"), licence(D - 1, "valid"), tick(D + 60)],
            "valid": [licence(0, "valid"), crowd(10, 8, "CC8"), tick(D + 60)],
        },
        edges=[
            edge(
                "24 h exactly; renewed at that moment resolves",
                [licence(0, "expired"), licence(D, "valid")],
                ("RS1", "medium", D, D),
            ),
            edge(
                "trading before the alert does not raise it",
                [licence(0, "revoked"), crowd(60, 8, "CC8"), tick(D + 1)],
                ("RS1", "medium", D, None),
            ),
            edge(
                "a kitchen camera at work raises it",
                [licence(0, "suspended"), tick(D + 1), kitchen(D + 5, "no_hat")],
                ("RS1", "high", D, None),
            ),
        ],
        clear=lambda t: [licence(t + D + 100, "valid")],
        resolves=D + 100,
        gap=D + 200,
    ),
    Spec(
        "market.prepaid_card",
        "SH1",
        fire=lambda t: [complaint(t), complaint(t + 10 * D), complaint(t + 20 * D)],
        opens=20 * D,
        severity="medium",
        near={
            "3 in 30 days and a minute": [complaint(0), complaint(10 * D), complaint(30 * D + 1)],
            "other categories": [complaint(i * D, category="noise") for i in range(3)],
            "no venue named": [complaint(i * D, venue=None) for i in range(3)],
        },
        edges=[
            edge(
                "3 in 30 days exactly",
                [complaint(0), complaint(15 * D), complaint(30 * D)],
                ("SH1", "medium", 30 * D, None),
            ),
            edge(
                "5 in 24 h exactly: high",
                [complaint(i * 6 * H) for i in range(5)],
                ("SH1", "high", 12 * H, None),
            ),
            edge(
                "5 in 24 h and a minute: medium",
                [*(complaint(i * 6 * H) for i in range(4)), complaint(24 * H + 1)],
                ("SH1", "medium", 12 * H, None),
            ),
        ],
        clear=lambda t: [Handle(t + 20 * D + 60, "SH1")],
        resolves=20 * D + 60,
        gap=60 * D,
        also=frozenset({"citizen.report"}),
    ),
    # ------------------------------------------------------------ 企业服务
    Spec(
        "enterprise.tax_arrears",
        "ENT1",
        fire=lambda t: [
            firm("tax_arrears", t, amount=20_000, overdue_days=30),
            firm("tax_arrears", t + 30 * D, amount=20_000, overdue_days=95),
        ],
        opens=0,
        severity="high",
        near={"¥9,999": [firm("tax_arrears", 0, amount=9_999, overdue_days=200)]},
        edges=[
            edge(
                "¥10,000 exactly",
                [firm("tax_arrears", 0, amount=10_000, overdue_days=10)],
                ("ENT1", "medium", 0, None),
            ),
            edge(
                "90 days overdue exactly: high",
                [firm("tax_arrears", 0, amount=10_000, overdue_days=90)],
                ("ENT1", "high", 0, None),
            ),
            edge(
                "a part payment does not resolve",
                [
                    firm("tax_arrears", 0, amount=20_000, overdue_days=10),
                    firm("tax_arrears", 10 * D, amount=5_000, overdue_days=20),
                ],
                ("ENT1", "medium", 0, None),
            ),
        ],
        clear=lambda t: [firm("tax_arrears", t + 40 * D, amount=0, overdue_days=0)],
        resolves=40 * D,
        gap=60 * D,
    ),
    Spec(
        "enterprise.lawsuit",
        "ENT1",
        fire=lambda t: [suit(t), suit(t + 30 * D), suit(t + 60 * D, case_type="labor")],
        opens=60 * D,
        severity="high",
        near={
            "suits it brings": [suit(i * D, role="plaintiff") for i in range(3)],
            "3 in 90 days and a minute": [suit(0), suit(45 * D), suit(90 * D + 1)],
        },
        edges=[
            edge(
                "3 in 90 days exactly",
                [suit(0), suit(45 * D), suit(90 * D)],
                ("ENT1", "medium", 90 * D, None),
            ),
            edge(
                "¥1,000,000 exactly at stake",
                [suit(0, amount=1_000_000)],
                ("ENT1", "medium", 0, None),
            ),
            edge(
                "enforcement: high at once", [suit(0, role="executed")], ("ENT1", "high", 0, None)
            ),
        ],
        clear=lambda t: [Handle(t + 60 * D + 60, "ENT1")],
        resolves=60 * D + 60,
        gap=200 * D,
    ),
    Spec(
        "enterprise.staff_loss",
        "ENT1",
        fire=lambda t: [leave(t), leave(t + 10 * D)],
        opens=10 * D,
        severity="medium",
        near={
            "not key staff": [leave(0, key=False), leave(D, key=False)],
            "joining": [leave(0, change="join"), leave(D, change="join")],
            "90 days and a minute": [leave(0), leave(90 * D + 1)],
        },
        edges=[
            edge(
                "2 in 90 days exactly", [leave(0), leave(90 * D)], ("ENT1", "medium", 90 * D, None)
            ),
            edge(
                "4 in 90 days: high",
                [leave(i * 30 * D) for i in range(4)],
                ("ENT1", "high", 30 * D, None),
            ),
        ],
        clear=lambda t: [Handle(t + 10 * D + 60, "ENT1")],
        resolves=10 * D + 60,
        gap=200 * D,
    ),
    Spec(
        "enterprise.lease_expiry",
        "ENT1",
        fire=lambda t: [firm("lease", t, days_left=90), firm("lease", t + 60 * D, days_left=30)],
        opens=0,
        severity="medium",
        near={
            "91 days left": [firm("lease", 0, days_left=91)],
            "renewed": [firm("lease", 0, days_left=20, renewed=True)],
        },
        edges=[
            edge("90 days exactly", [firm("lease", 0, days_left=90)], ("ENT1", "low", 0, None)),
            edge("31 days", [firm("lease", 0, days_left=31)], ("ENT1", "low", 0, None)),
            edge("30 days exactly", [firm("lease", 0, days_left=30)], ("ENT1", "medium", 0, None)),
        ],
        clear=lambda t: [firm("lease", t + 61 * D, days_left=395, renewed=True)],
        resolves=61 * D,
        gap=90 * D,
    ),
    Spec(
        "enterprise.energy_drop",
        "ENT1",
        fire=lambda t: [
            *(firm("energy", t + i * WK, kwh=1000) for i in range(4)),
            firm("energy", t + 4 * WK, kwh=200),
        ],
        opens=4 * WK,
        severity="medium",
        near={
            "31 %": [
                *(firm("energy", i * WK, kwh=1000) for i in range(4)),
                firm("energy", 4 * WK, kwh=310),
            ],
            "only 3 weeks of history": [
                *(firm("energy", i * WK, kwh=1000) for i in range(3)),
                firm("energy", 3 * WK, kwh=100),
            ],
        },
        edges=[
            edge(
                "30 % exactly is not below 30 %",
                [
                    *(firm("energy", i * WK, kwh=1000) for i in range(4)),
                    firm("energy", 4 * WK, kwh=300),
                ],
            ),
            edge(
                "70 % exactly resolves",
                [
                    *(firm("energy", i * WK, kwh=1000) for i in range(4)),
                    firm("energy", 4 * WK, kwh=200),
                    firm("energy", 5 * WK, kwh=700),
                ],
                ("ENT1", "medium", 4 * WK, 5 * WK),
            ),
        ],
        clear=lambda t: [firm("energy", t + 5 * WK, kwh=700)],
        resolves=5 * WK,
        gap=6 * WK,
    ),
    Spec(
        "enterprise.utility_cutoff",
        "ENT1/electricity",
        fire=lambda t: [utility(t, "arrears", 2), utility(t + 15 * D, "cut_off")],
        opens=0,
        severity="high",
        near={"1 month in arrears": [utility(0, "arrears", 1)], "paid": [utility(0, "paid")]},
        edges=[
            edge(
                "2 months exactly",
                [utility(0, "arrears", 2)],
                ("ENT1/electricity", "medium", 0, None),
            ),
            edge(
                "a cut-off: high at once",
                [utility(0, "cut_off")],
                ("ENT1/electricity", "high", 0, None),
            ),
            edge(
                "each utility its own alert",
                [utility(0, "arrears", 3), utility(D, "cut_off", kind="water")],
                ("ENT1/electricity", "medium", 0, None),
                ("ENT1/water", "high", D, None),
            ),
        ],
        clear=lambda t: [utility(t + 20 * D, "restored")],
        resolves=20 * D,
        gap=30 * D,
    ),
    # ------------------------------------------------------------ colour codes (scores)
    Spec(
        "fire.unit_colour",
        "FU1",
        # 100 − 2×10 = 80 (yellow) → −5 = 75 → −2×10 = 55 (red)
        fire=lambda t: [
            fire_check(t, "fail", 2),
            ev("smoke.alarm", t + 60, device="SD9"),
            fire_check(t + D, "fail", 2),
        ],
        opens=0,
        severity="high",
        near={
            "one hazard: 90 is green": [fire_check(0, "fail", 1)],
            "a passed inspection": [fire_check(0, "pass")],
            "a venue not registered as a unit": [fire_check(0, "fail", 5, venue="SH1")],
        },
        edges=[
            edge("80 exactly is yellow", [fire_check(0, "fail", 2)], ("FU1", "low", 0, None)),
            edge("60 exactly is yellow", [fire_check(0, "fail", 4)], ("FU1", "low", 0, None)),
            edge(
                "55 is red",
                [fire_check(0, "fail", 4), ev("smoke.alarm", 1, device="SD9")],
                ("FU1", "high", 0, None),
            ),
            edge(
                "a term still counts 180 days later (inclusive)",
                [fire_check(0, "fail", 2), tick(180 * D)],
                ("FU1", "low", 0, None),
            ),
            edge(
                "once the clock has passed 180 days it is gone: green again resolves",
                [fire_check(0, "fail", 2), tick(180 * D + 1)],
                ("FU1", "low", 0, 180 * D),
            ),
            edge(
                "passed inspections bring it back: 55 + 6×5 = 85 > 80",
                [fire_check(0, "fail", 4), ev("smoke.alarm", 1, device="SD9")]
                + [fire_check(i * D, "pass") for i in range(1, 7)],
                ("FU1", "high", 0, 6 * D),
            ),
        ],
        # every term leaves the window: 75 at 180 d, 80 at 180 d + 1 h, 100 at 181 d
        clear=lambda t: [tick(t + 182 * D)],
        resolves=181 * D,
        gap=200 * D,
    ),
    Spec(
        "market.yima_an",
        "SH2",
        # 100 − 5 = 95 (green) → −41 = 54 (red)
        fire=lambda t: [
            complaint(t, "SH2", "noise"),
            shop_check(t + 60, "fail", 1, "expired_food"),
        ],
        opens=60,
        severity="high",
        near={
            "three complaints: 85 is green": [complaint(m, "SH2", "noise") for m in (0, 1, 2)],
            "a shop not registered": [complaint(m, "SH1", "noise") for m in range(6)],
        },
        edges=[
            edge(
                "a key issue alone: 59 is red",
                [shop_check(0, "fail", 1, "no_licence")],
                ("SH2", "high", 0, None),
            ),
            edge(
                "four complaints: 80 exactly is yellow",
                [complaint(m, "SH2", "noise") for m in (0, 1, 2, 3)],
                ("SH2", "low", 3, None),
            ),
            edge(
                "four issues: 60 exactly is yellow",
                [shop_check(0, "fail", 4)],
                ("SH2", "low", 0, None),
            ),
            edge(
                "a red shop stays high while yellow; 59 + 5×5 = 84 > 80 resolves",
                [shop_check(0, "fail", 1, "no_licence")]
                + [shop_check(i * D, "pass") for i in range(1, 6)],
                ("SH2", "high", 0, 5 * D),
            ),
        ],
        clear=lambda t: [tick(t + 366 * D)],
        resolves=365 * D + 60,
        gap=400 * D,
        also=frozenset({"citizen.report"}),
    ),
    Spec(
        "market.prepaid_code",
        "PP1",
        # funds short: 70 (yellow) → −8 = 62 → −8 = 54 (red)
        fire=lambda t: [
            funds(t, 0.1, 0.5),
            complaint(t + D, "PP1"),
            complaint(t + 2 * D, "PP1"),
        ],
        opens=0,
        severity="high",
        near={
            "two complaints: 84 is green": [complaint(0, "PP1"), complaint(1, "PP1")],
            "30 % in custody and 70 % insured exactly is covered": [funds(0, 0.3, 0.7)],
            "complaints of another category": [complaint(m, "PP1", "noise") for m in range(5)],
        },
        edges=[
            edge(
                "29 % in custody is short: 70 is yellow",
                [funds(0, 0.29, 0.7)],
                ("PP1", "low", 0, None),
            ),
            edge(
                "only the latest funds report counts: 70, not 40",
                [funds(0, 0.1, 0.5), funds(D, 0.1, 0.5)],
                ("PP1", "low", 0, None),
            ),
            edge(
                "covered again: 100 resolves",
                [funds(0, 0.1, 0.5), funds(D, 0.3, 0.7)],
                ("PP1", "low", 0, D),
            ),
            edge(
                "short funds and a suspended licence: 40 is red",
                [funds(0, 0.1, 0.5), licence(D, "suspended", "PP1")],
                ("PP1", "high", 0, None),
            ),
            edge(
                "five complaints: 60 exactly is yellow",
                [complaint(m, "PP1") for m in range(5)],
                ("PP1", "low", 2, None),
            ),
            edge(
                "six complaints: 52 is red",
                [complaint(m, "PP1") for m in range(6)],
                ("PP1", "high", 2, None),
            ),
        ],
        clear=lambda t: [funds(t + 3 * D, 0.3, 0.7)],
        resolves=3 * D,
        gap=10 * D,
        also=frozenset({"citizen.report"}),
    ),
]

# ------------------------------------------------------------ scenarios the seeds name (C2)
SPECS += [
    Spec(
        "city.muck_dumping",
        "ND1",
        fire=lambda t: [cam(t + 720, "muck_truck", "ND1"), cam(t + 726, "muck_dumping", "ND1")],
        opens=725,
        severity="high",
        near={
            "a truck stopping in the daytime": [cam(0, "muck_truck", "ND1"), tick(30)],
            "gone after 4.9 min": [
                cam(720, "muck_truck", "ND1"),
                gone(724.9, "muck_truck", "ND1"),
                tick(760),
            ],
            "a camera not at a no-dumping site": [
                cam(0, "muck_dumping"),
                cam(720, "muck_truck"),
                tick(760),
            ],
            "other labels": [cam(720, "street_vending", "ND1"), tick(760)],
        },
        edges=[
            edge(
                "a stop of 5 min exactly at night",
                [cam(720, "muck_truck", "ND1"), tick(725)],
                ("ND1", "medium", 725, None),
            ),
            edge(
                "dumping seen: high at once",
                [cam(0, "muck_dumping", "ND1")],
                ("ND1", "high", 0, None),
            ),
            edge(
                "a stop starting at 06:00 is not at night (end exclusive)",
                [cam(1200, "muck_truck", "ND1"), tick(1240)],
            ),
            edge(
                "an uncovered truck stopping at 05:59 counts",
                [cam(1199, "muck_truck_uncovered", "ND1"), tick(1204)],
                ("ND1", "medium", 1204, None),
            ),
        ],
        # the truck leaves (the camera reports it gone), then the case is handled
        clear=lambda t: [gone(t + 760, "muck_truck", "ND1"), Handle(t + 800, "ND1")],
        resolves=800,
        gap=D,
    ),
    Spec(
        "city.bike_piling",
        "CAM1",
        fire=lambda t: [bikes(t, 25), bikes(t + 30, 25)],
        opens=30,
        severity="low",
        near={
            "29.9 min": [bikes(0, 25), bikes(29.9, 25)],
            "19 bikes": [bikes(0, 19), bikes(30, 19)],
            "a reading under 20 between": [bikes(0, 25), bikes(15, 19), bikes(30, 25)],
        },
        edges=[
            edge(
                "20 bikes for 30 min exactly",
                [bikes(0, 20), bikes(30, 20)],
                ("CAM1", "low", 30, None),
            ),
            edge(
                "50 for 30 min: medium",
                [bikes(0, 50), bikes(30, 50)],
                ("CAM1", "medium", 30, None),
            ),
            edge(
                "10 is not under 10: stays open",
                [bikes(0, 25), bikes(30, 25), bikes(40, 10)],
                ("CAM1", "low", 30, None),
            ),
            edge(
                "9 resolves",
                [bikes(0, 25), bikes(30, 25), bikes(40, 9)],
                ("CAM1", "low", 30, 40),
            ),
        ],
        clear=lambda t: [bikes(t + 40, 5)],
        resolves=40,
        gap=120,
    ),
    Spec(
        "water.sewage_discharge",
        "OF1",
        fire=lambda t: [outfall(t, 45, 1), outfall(t + 10, 45, 1)],
        opens=10,
        severity="medium",
        near={
            "at the limits exactly": [outfall(0, 40, 2), outfall(10, 40, 2)],
            "one reading back within": [outfall(0, 45, 1), outfall(5, 30, 1), outfall(10, 45, 1)],
            "9.9 min": [outfall(0, 45, 1), outfall(9.9, 45, 1)],
        },
        edges=[
            edge(
                "ammonia alone over the limit",
                [outfall(0, 10, 2.1), outfall(10, 10, 2.1)],
                ("OF1", "medium", 10, None),
            ),
            edge(
                "COD 200 exactly: high at once",
                [outfall(0, 200, 1)],
                ("OF1", "high", 0, None),
            ),
            edge(
                "ammonia 10 exactly: high at once", [outfall(0, nh3n=10)], ("OF1", "high", 0, None)
            ),
            edge(
                "within the limits for 60 min exactly resolves (a reading of COD only counts)",
                [outfall(0, 250, 12), outfall(10, 30), outfall(70, 30)],
                ("OF1", "high", 0, 70),
            ),
            edge(
                "59 min within the limits: still open",
                [outfall(0, 250, 12), outfall(10, 30, 1), outfall(69, 30, 1)],
                ("OF1", "high", 0, None),
            ),
        ],
        clear=lambda t: [outfall(t + 20, 30, 1), outfall(t + 80, 30, 1)],
        resolves=80,
        gap=120,
    ),
    Spec(
        "security.thrown_object",
        "B7/12",
        fire=lambda t: [cam(t, "thrown_object", "FC1", floor=12, window="12-03")],
        opens=0,
        severity="high",
        near={
            "other labels": [cam(0, "street_vending", "FC1")],
            "a camera on no building": [cam(0, "thrown_object", "CAM1", floor=3)],
        },
        edges=[
            edge(
                "no floor: per building", [cam(0, "thrown_object", "FC1")], ("B7", "high", 0, None)
            ),
            edge(
                "each floor its own alert",
                [cam(0, "thrown_object", "FC1", floor=12), cam(1, "thrown_object", "FC1", floor=5)],
                ("B7/12", "high", 0, None),
                ("B7/5", "high", 1, None),
            ),
            edge(
                "another camera on the building, same floor: joins",
                [
                    cam(0, "thrown_object", "FC1", floor=12),
                    cam(3, "thrown_object", "FC2", floor=12),
                ],
                ("B7/12", "high", 0, None),
            ),
            edge(
                "the event names the building",
                [cam(0, "thrown_object", "CAM1", building="B9")],
                ("B9", "high", 0, None),
            ),
        ],
        clear=lambda t: [Handle(t + 10, "B7/12")],
        resolves=10,
        gap=60,
    ),
    Spec(
        "elderly.wandering",
        "E1",
        fire=lambda t: [pos(t, IN), pos(t + 5, OUT), tick(t + 66)],
        opens=20,
        severity="critical",
        near={
            "back inside after 14.9 min": [pos(0, OUT), pos(14.9, IN), tick(40)],
            "499 m from home": [pos(0, 499), tick(30)],
            "a subject without a fence": [pos(0, OUT, "WB3"), tick(30)],
            "no position": [ev("wearable.position", 0, device="WB1"), tick(30)],
            "on the polygon's edge": [at_point(0, 30.3, 120.205), tick(30)],
        },
        edges=[
            edge("15 min exactly", [pos(0, OUT), tick(15)], ("E1", "high", 15, None)),
            edge(
                "back inside at 15 min exactly: the timer comes first",
                [pos(0, OUT), pos(15, IN)],
                ("E1", "high", 15, 15),
            ),
            edge("60 min: critical", [pos(0, OUT), tick(60)], ("E1", "critical", 15, None)),
            edge("501 m is outside", [pos(0, 501), tick(15)], ("E1", "high", 15, None)),
            edge(
                "later positions outside do not restart the timer",
                [pos(0, OUT), pos(10, OUT + 300), tick(15)],
                ("E1", "high", 15, None),
            ),
            edge(
                "outside the polygon",
                [at_point(0, 30.2999, 120.205), tick(15)],
                ("E2", "high", 15, None),
            ),
            edge(
                "a position sent for the subject, no device",
                [pos(0, OUT, None, subject="E1"), tick(15)],
                ("E1", "high", 15, None),
            ),
        ],
        clear=lambda t: [pos(t + 70, IN)],
        resolves=70,
        gap=120,
    ),
    Spec(
        "ebike.port_overheat",
        "CP1",
        fire=lambda t: [port(t, 50), port(t + 5, 85)],
        opens=5,
        severity="critical",
        near={"59.9 °C": [port(0, 59.9)]},
        edges=[
            edge("60 °C exactly", [port(0, 60)], ("CP1", "high", 0, None)),
            edge("80 °C exactly: critical", [port(0, 80)], ("CP1", "critical", 0, None)),
            edge(
                "45 °C is not under 45: stays open",
                [port(0, 70), port(5, 45), port(15, 45)],
                ("CP1", "high", 0, None),
            ),
            edge(
                "under 45 °C for 10 min exactly resolves",
                [port(0, 70), port(5, 40), port(15, 40)],
                ("CP1", "high", 0, 15),
            ),
        ],
        clear=lambda t: [port(t + 10, 40), port(t + 20, 40)],
        resolves=20,
        gap=60,
    ),
    Spec(
        "ebike.charging_overstay",
        "CP1",
        fire=lambda t: [charge(t), tick(t + 481)],
        opens=480,
        severity="low",
        near={
            "8 h exactly is not more than 8 h": [charge(0), tick(480)],
            "stopped at 8 h exactly": [charge(0), charge(480, started=False), tick(600)],
        },
        edges=[
            edge("8 h and a moment", [charge(0), tick(480.1)], ("CP1", "low", 480, None)),
            edge(
                "a second start does not restart the session",
                [charge(0), charge(60), tick(480.1)],
                ("CP1", "low", 480, None),
            ),
        ],
        clear=lambda t: [charge(t + 500, started=False)],
        resolves=500,
        gap=600,
    ),
]

BY_ID = {s.sid: s for s in SPECS}
NEAR = [(s.sid, note, events) for s in SPECS for note, events in s.near.items()]
EDGES = [(s.sid, e) for s in SPECS for e in s.edges]
MULTI = [s for s in SPECS if len(real(s.fire(0))) >= 2]
#: Patterns completed by an event (an absence is completed by the clock: see below).
COMPLETED = [s for s in SPECS if s.sid != "security.correction_absent"]


def spec_id(spec: Spec) -> str:
    return spec.sid


# ----------------------------------------------------------------------------- the catalogue
def test_catalogue_has_31_or_more_scenarios_across_all_modules() -> None:
    scenarios = list(catalogue().values())
    assert len(scenarios) >= 31
    per = Counter(s.module for s in scenarios)
    assert all(per[m] >= 2 for m in Module), per
    for module in (Module.CITY_MANAGEMENT, Module.PUBLIC_SECURITY, Module.EMERGENCY, Module.MARKET):
        assert per[module] >= 4, (module, per[module])


def test_every_new_scenario_has_a_spec_and_documented_kinds() -> None:
    new = set(catalogue()) - NORMATIVE
    assert new == set(BY_ID)
    assert len(new) >= 17
    for sid in new:
        cfg = catalogue()[sid].config
        assert set(cfg.reads) <= set(EVENT_KINDS), sid
        assert cfg.description is not None, sid


# ----------------------------------------------------------------------------- per scenario
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_fires_on_its_pattern(spec: Spec) -> None:
    alerts = play(spec.sid, spec.fire(0))
    assert [(a.id, a.severity.value, mins(a.opened_at), a.resolved_at) for a in alerts] == [
        (f"{spec.sid}/{spec.key}/1", spec.severity, spec.opens, None)
    ]


@pytest.mark.parametrize(("sid", "note", "events"), NEAR, ids=[f"{s}:{n}" for s, n, _ in NEAR])
def test_near_miss_stays_silent(sid: str, note: str, events: list[Event]) -> None:
    assert play(sid, events) == []


@pytest.mark.parametrize(("sid", "case"), EDGES, ids=[f"{s}:{e.note}" for s, e in EDGES])
def test_edge(sid: str, case: Edge) -> None:
    assert rows(play(sid, case.steps)) == case.expect


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_resolves_then_fires_again(spec: Spec) -> None:
    alerts = play(spec.sid, [*spec.fire(0), *spec.clear(0), *spec.fire(spec.gap)])
    stem = f"{spec.sid}/{spec.key}"
    assert [(a.id, mins(a.opened_at), mins(a.resolved_at)) for a in alerts] == [
        (f"{stem}/1", spec.opens, spec.resolves),
        (f"{stem}/2", spec.gap + spec.opens, None),
    ]
    assert alerts[1].severity.value == spec.severity


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_every_event_delivered_twice_gives_the_same_alerts(spec: Spec) -> None:
    pattern = spec.fire(0)
    engine = engine_for(spec.sid)
    feed(engine, spec.sid, [e for e in pattern for _ in (1, 2)])
    engine.finish()
    assert engine.counts["duplicates"] == len(pattern)
    assert full(engine.alerts) == full(play(spec.sid, pattern))
    for alert in engine.alerts:
        assert len(alert.event_ids) == len(set(alert.event_ids))


@pytest.mark.parametrize("spec", MULTI, ids=spec_id)
def test_a_duplicate_does_not_stand_in_for_a_new_event(spec: Spec) -> None:
    """The last event of the pattern replaced by a re-send of the one before it: the
    alerts are those of the pattern without its last event, not of the whole pattern."""
    pattern = spec.fire(0)
    *_, before, last = real(pattern)
    resent = [before if e is last else e for e in pattern]
    without = [e for e in pattern if e is not last]
    assert full(play(spec.sid, resent)) == full(play(spec.sid, without))
    assert rows(play(spec.sid, resent)) != rows(play(spec.sid, pattern))


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_out_of_order_within_lateness_gives_the_same_alerts(spec: Spec) -> None:
    pattern = spec.fire(0)
    last = real(pattern)[-1]
    in_order = by_time([*pattern, tick(minute(last) + LATE - 2)])
    # the last event and every other one before it arrive 9 min late, overtaken by
    # what came after them: still within the 10 min lateness
    delay = {e.id: LATE - 1 for e in real(in_order)[::-2]}
    shuffled = sorted(in_order, key=lambda e: e.ts + timedelta(minutes=delay.get(e.id, 0)))
    assert [e.id for e in shuffled] != [e.id for e in in_order]
    engine = engine_for(spec.sid)
    feed(engine, spec.sid, shuffled)
    engine.finish()
    assert engine.counts["late"] == 0
    assert full(engine.alerts) == full(play(spec.sid, in_order))
    assert mins(engine.alerts[0].opened_at) == spec.opens


@pytest.mark.parametrize("spec", COMPLETED, ids=spec_id)
def test_the_completing_event_beyond_lateness_raises_nothing(spec: Spec) -> None:
    """The last event of the pattern arrives after one 11 min newer: it is late, and the
    alerts are those of the pattern without it."""
    pattern = spec.fire(0)
    last = real(pattern)[-1]
    rest = [e for e in pattern if e is not last]
    pusher = tick(minute(last) + LATE + 1)
    engine = engine_for(spec.sid)
    feed(engine, spec.sid, [*rest, pusher])
    assert engine.is_late(last)
    feed(engine, spec.sid, [last])
    engine.finish()
    assert full(engine.alerts) == full(play(spec.sid, by_time([*rest, pusher])))
    assert rows(engine.alerts) != rows(play(spec.sid, pattern))


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_the_pattern_fires_no_other_new_scenario(spec: Spec) -> None:
    engine = engine_for(None)
    feed(engine, spec.sid, spec.fire(0))
    engine.finish()
    fired = {a.scenario for a in engine.alerts}
    assert spec.sid in fired
    assert fired <= {spec.sid, *spec.also}


def test_a_check_in_beyond_lateness_only_ever_delays_the_absence_alert() -> None:
    """An absence is raised by the clock, not by an event: a late check-in can only move
    the silence's start later (SCENARIOS.md: late events update an absence's memory)."""
    sid = "security.correction_absent"
    engine = engine_for(sid)
    late = checkin(5)
    feed(engine, sid, [checkin(0, "K2"), tick(30)])  # service starts at 0 (K2 unregistered)
    assert engine.is_late(late)
    feed(engine, sid, [late, tick(D + 30)])
    engine.finish()
    assert engine.counts["late"] == 1
    assert rows(engine.alerts) == [("K1", "medium", D + 5, None)]
    on_time = play(sid, [checkin(0, "K2"), tick(30), tick(D + 30)])
    assert rows(on_time) == [("K1", "medium", D, None)]


# ----------------------------------------------------------------------------- engine issues
def test_a_stale_late_restore_does_not_close_a_newer_displacement() -> None:
    # restored at 10:20, displaced again at 10:30; the 10:20 message arrives after 10:50
    alerts = play(
        "manhole.displaced",
        [
            ev("manhole.displaced", 30, device="MH1"),
            tick(50),
            ev("manhole.restored", 20, device="MH1"),
        ],
    )
    assert rows(alerts) == [("MH1", "high", 30, None)]


# ----------------------------------------------------------------------------- docs
DOC = Path(__file__).parents[2] / "docs" / "catalogue.md"
BEGIN, END = "<!-- BEGIN GENERATED: tests/unit/test_catalogue_rest.py -->", "<!-- END GENERATED -->"
_OPS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
_KEY_ZH = {
    "device": "设备",
    "subject": "对象",
    "building": "楼栋",
    "venue": "场所",
    "enterprise": "企业",
    "area": "区域",
    "event": "每条事件",
}
_ROUTE_ZH = {
    "government": "政府部门",
    "grid_worker": "网格员",
    "community": "社区",
    "property": "物业",
    "owners_committee": "业委会",
    "volunteer": "志愿者",
    "enterprise": "企业",
    "social_org": "社会组织",
}


def _num(x: Any) -> str:
    if isinstance(x, bool):
        return str(x).lower()
    if isinstance(x, int | float):
        return f"{x:,.10g}" if abs(x) >= 10_000 else f"{x:g}"
    return str(x)


def _dur(seconds: float) -> str:
    s = int(seconds)
    if s % 86400 == 0 and s >= 3 * 86400:
        return f"{s // 86400}d"
    for unit, n in (("h", 3600), ("m", 60)):
        if s % n == 0:
            return f"{s // n}{unit}"
    return f"{s}s"


def _operand(v: Any) -> str:
    if isinstance(v, dict):
        out = str(v["ref"]).removeprefix("attrs.")
        if v.get("times", 1) != 1:
            out = f"{_num(v['times'])} × {out}"
        plus = v.get("plus", 0)
        return f"{out} {'+' if plus > 0 else '−'} {_num(abs(plus))}" if plus else out
    return _num(v)


def render_condition(cond: dict[str, Any]) -> str:
    parts: list[str] = []
    for key, value in cond.items():
        if key == "any":
            alternatives = [render_condition(c) for c in value]
            alternatives = [f"({a})" if " and " in a else a for a in alternatives]
            parts.append("(" + " or ".join(alternatives) + ")")
        elif key == "not":
            parts.append(f"not ({render_condition(value)})")
        elif key == "expr":
            parts.append(f"`{value}`")
        elif key == "fence":
            parts.append(f"position {value} the subject's fence")
        elif key == "time":
            ((mode, windows),) = value.items()
            items = windows if isinstance(windows, list) else [windows]
            parts.append(f"time {'in' if mode == 'within' else 'outside'} {', '.join(items)}")
        else:
            name = str(key).removeprefix("attrs.")
            tests = value if isinstance(value, dict) else {"eq": value}
            for op, x in tests.items():
                if op in _OPS:
                    parts.append(f"{name} {_OPS[op]} {_operand(x)}")
                elif op in ("in", "not_in"):
                    parts.append(f"{name} {'∈' if op == 'in' else '∉'} {{{', '.join(x)}}}")
                else:  # exists
                    parts.append(f"{'has' if x else 'no'} {name}")
    return " and ".join(parts)


def render_trigger(t: dict[str, Any]) -> str:
    kind, when = t["type"], t.get("when")
    cond = render_condition(when) if when else ""
    if kind == "threshold":
        return cond or "any event"
    if kind == "count":
        text = f"≥ {t['count']} in {_dur(t['window'])}"
        return f"{text} where {cond}" if cond else text
    if kind == "duration":
        span = f"{'>' if t.get('strict') else '≥'} {_dur(t['for'])}"
        if t.get("confirm") == "timer":
            return f"{cond}, not ended by {render_condition(t['clear'])}, for {span}"
        return f"every reading {cond} for {span}"
    if kind == "absence":
        text = f"no {cond or 'event'} for {_dur(t['for'])}"
        return text + (" (registered keys timed from start of service)" if t["registered"] else "")
    if kind == "cooccurrence":
        text = f"{render_condition(t['first'])} and {render_condition(t['second'])}"
        text += f" within {_dur(t['window'])}"
        return text + (f", different {t['distinct']}" if t.get("distinct") else "")
    if kind == "baseline":
        field = str(t["field"]).removeprefix("attrs.")
        mean = f"mean of previous {t['periods']} {t['period']}s"
        if t.get("below") is not None:
            return f"{field} < {_num(t['below'])} × {mean}"
        return f"{field} ≥ {_num(t['recovered'])} × {mean}"
    if kind == "score":
        colours = t["colour"] if isinstance(t["colour"], list) else [t["colour"]]
        return f"score colour ∈ {{{', '.join(colours)}}}"
    return " or ".join(f"[{render_trigger(p)}]" for p in t["of"])


def render_row(s: LoadedScenario) -> str:
    c = s.config
    key = f"{c.key.value} {_KEY_ZH[c.key.value]}"
    if c.tags:
        key += f", tag {', '.join(c.tags)}"
    if c.split_by:
        key += f", per {c.split_by.removeprefix('attrs.')}"
    fires = render_trigger(c.trigger.model_dump(by_alias=True, exclude_none=True))
    if c.when:
        fires = f"{render_condition(c.when)}: {fires}"
    if c.score is not None:
        m = c.score
        fires = (
            f"score = {_num(m.base)} + points of {len(m.terms)} terms within "
            f"{_dur(m.window)}; red < {_num(m.red_below)}, green > {_num(m.green_above)}: " + fires
        )
    if c.merge_window:
        fires += f"; joins the alert within {_dur(c.merge_window)} of its last match"
    if isinstance(c.severity, Severity):
        severity = c.severity.value
    else:
        table = ", ".join(f"{k} → {v.value}" for k, v in c.severity.map.items())
        severity = f"by {c.severity.by.removeprefix('attrs.')}: {table}, else {c.severity.default}"
    for up in c.upgrade:
        trig = render_trigger(up.trigger.model_dump(by_alias=True, exclude_none=True))
        severity += f"; → {up.severity.value}: {trig}"
        severity += " (counted within the alert)" if up.scope == "alert" else ""
    if c.record_only:
        listed = ", ".join(level.value for level in c.record_only)
        severity += f"; 仅记录不派单 record only: {listed}"
    dump = c.resolve.model_dump(by_alias=True, exclude_none=True)
    resolve = "处置结案 handled case" if dump["type"] == "case" else render_trigger(dump)
    route = f"{c.route.value} {_ROUTE_ZH[c.route.value]}"
    own = c.own_sla()
    if own is not None:
        route += " (SLA " + ", ".join(f"{stage} {_dur(s)}" for stage, s in own.items()) + ")"
    elif c.sla:
        route += f" (SLA {c.sla})"
    cells = [f"`{c.id}`", c.name.zh, ", ".join(f"`{r}`" for r in c.reads), key, fires]
    cells += [severity, resolve, route, seed_cell(s)]
    return "| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |"


def render_doc_tables() -> str:
    scenarios = list(catalogue().values())
    out = [
        BEGIN,
        "",
        f"共 {len(scenarios)} 个场景 · {len(scenarios)} scenarios in all.",
        "",
        *render_overview(scenarios),
    ]
    for module in Module:
        mine = [s for s in scenarios if s.module == module]
        out += [
            "",
            f"### {module.zh} · {module.en}（{len(mine)}）",
            "",
            "| id | 中文名 | 读取 reads | 键 key | 触发条件 fires when | 级别 severity"
            " | 消警 resolves when | 派单 route | 种子出处 seed |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *(render_row(s) for s in mine),
            "",
            "说明 · Descriptions:",
            "",
        ]
        for s in mine:
            c = s.config
            out.append(f"- `{c.id}` **{c.name.zh}** · {c.name.en}")
            if c.description is not None:
                out += [f"  - {c.description.zh}", f"  - {c.description.en}"]
    out += ["", END]
    return "\n".join(out)


def test_docs_catalogue_tables_match_the_yaml() -> None:
    text = DOC.read_text(encoding="utf-8")
    head, sep, rest = text.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    assert sep, f"{DOC} lost its {BEGIN} marker"
    assert sep2, f"{DOC} lost its {END} marker"
    want = head + render_doc_tables() + tail
    if os.environ.get("CITYEYE_WRITE_DOCS"):
        DOC.write_text(want, encoding="utf-8")
        text = want
    assert text == want, (
        "docs/catalogue.md is out of date with the YAML; regenerate with "
        "CITYEYE_WRITE_DOCS=1 pytest tests/unit/test_catalogue_rest.py -k docs"
    )
