"""The simulator's stream: valid, deterministic, messy like a real network, and holding
for every normative scenario a pattern that should fire beside ones that should not.

Each scenario is checked *independently* of any engine, straight on the stream, so an
engine failing the backtest points at the engine, not at the data.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from cityeye.demo import (
    CATEGORIES,
    build_demo_world,
    default_start,
    planted,
    planted_keys,
    simulate,
    write_jsonl,
)
from cityeye.demo.simulator import VERY_LATE_KINDS
from cityeye.domain import DEVICE_KINDS, SIGNS_OF_LIFE, World, parse_event
from cityeye.sourcefile import SourceDoc
from cityeye.world import GridLocator, build_world, load_world
from kit import NORMATIVE

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 10, 1, tzinfo=TZ)
END = START + timedelta(hours=24)
SEED = 2021


@dataclass(frozen=True)
class Ev:
    """A delivered event with its parsed time and its position in arrival order."""

    pos: int
    ts: datetime
    raw: dict[str, Any]
    line: bytes

    @property
    def kind(self) -> str:
        return str(self.raw["kind"])

    @property
    def device(self) -> str:
        return str(self.raw.get("device_id"))

    @property
    def attrs(self) -> dict[str, Any]:
        attrs: dict[str, Any] = self.raw["attrs"]
        return attrs


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(SourceDoc(data=build_demo_world(SEED)))


@pytest.fixture(scope="module")
def jsonl(world: World) -> bytes:
    out = io.BytesIO()
    write_jsonl(simulate(world, start=START, hours=24, seed=SEED), out)
    return out.getvalue()


@pytest.fixture(scope="module")
def delivered(jsonl: bytes) -> list[Ev]:
    """Every delivered line, duplicates included, in arrival order."""
    out = []
    for i, line in enumerate(jsonl.splitlines()):
        obj = orjson.loads(line)
        out.append(Ev(i, datetime.fromisoformat(obj["ts"]), obj, line))
    return out


@pytest.fixture(scope="module")
def events(delivered: list[Ev]) -> list[Ev]:
    """What an idempotent collector keeps (first delivery of each id), in ts order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for ev in delivered:
        key = (ev.raw["source"], ev.raw["id"])
        if key not in seen:
            seen.add(key)
            out.append(ev)
    return sorted(out, key=lambda e: (e.ts, e.pos))


@pytest.fixture(scope="module")
def plants(world: World) -> dict[str, dict[str, list[str]]]:
    return planted_keys(world, start=START, hours=24, seed=SEED)


def by_key(
    events: Iterable[Ev], kind: str | tuple[str, ...], key: str = "device_id"
) -> dict[str, list[Ev]]:
    """Events of ``kind`` in ts order, grouped by a top-level field or attrs.building."""
    kinds = (kind,) if isinstance(kind, str) else kind
    out: dict[str, list[Ev]] = defaultdict(list)
    for ev in events:
        if ev.kind in kinds:
            out[str(ev.raw.get(key) if key != "building" else ev.attrs["building"])].append(ev)
    return out


def max_in_window(times: list[datetime], window: timedelta) -> int:
    best, lo = 0, 0
    times = sorted(times)
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def local_hour(ts: datetime) -> float:
    local = ts.astimezone(TZ)
    return local.hour + local.minute / 60


# ----------------------------------------------------------------------- stream shape


def test_every_line_is_a_valid_event(jsonl: bytes) -> None:
    lines = jsonl.split(b"\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        event = parse_event(orjson.loads(line))
        assert event.ts.utcoffset() == timedelta(hours=8)
        assert b": " not in line  # compact JSON


def test_volume_is_a_realistic_day(delivered: list[Ev]) -> None:
    assert 50_000 <= len(delivered) <= 200_000
    kinds = Counter(e.kind for e in delivered)
    assert kinds["meter.reading"] > 10_000
    assert kinds["smoke.alarm"] < 30  # alarms are rare, readings are many


def test_same_seed_same_bytes_other_seed_other_stream(world: World, jsonl: bytes) -> None:
    again = io.BytesIO()
    write_jsonl(simulate(world, start=START, hours=24, seed=SEED), again)
    assert again.getvalue() == jsonl
    other = io.BytesIO()
    write_jsonl(simulate(world, start=START, hours=6, seed=SEED + 1), other)
    head = jsonl[: len(other.getvalue())]
    assert other.getvalue() != head
    assert other.getvalue().count(b"\n") < jsonl.count(b"\n") / 2


def test_ids_unique_per_source_except_identical_resends(delivered: list[Ev]) -> None:
    lines: dict[tuple[str, str], list[bytes]] = defaultdict(list)
    for ev in delivered:
        lines[(ev.raw["source"], ev.raw["id"])].append(ev.line)
    resent = [v for v in lines.values() if len(v) > 1]
    assert all(len(v) == 2 and v[0] == v[1] for v in resent)
    assert 0.005 < len(resent) / len(lines) < 0.015


def test_events_are_device_kinds_own_and_sources_are_collectors(
    world: World, events: list[Ev]
) -> None:
    for ev in events:
        device_id = ev.raw.get("device_id")
        if device_id is None:
            assert ev.kind.startswith(("report.", "enterprise."))
            continue
        device = world.devices[device_id]
        assert ev.kind in DEVICE_KINDS[device.kind].emits, (device.kind, ev.kind)
    sources = {e.raw["source"] for e in events}
    assert {"12345", "app", "camera-ai", "iot-gw-1"} <= sources


def test_some_arrive_late_within_the_lateness_and_a_few_beyond(
    delivered: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    newest = delivered[0].ts
    within = beyond = 0
    for ev in delivered:
        newest = max(newest, ev.ts)
        behind = (newest - ev.ts).total_seconds()
        if 60 < behind <= 600:
            within += 1
        elif behind > 600:
            beyond += 1
            assert ev.ts >= START  # history at the head is not "late"
            assert ev.kind in VERY_LATE_KINDS
            keys = {k for roles in plants.values() for ks in roles.values() for k in ks}
            assert ev.device not in keys
    assert 0.01 < within / len(delivered) < 0.03
    assert 3 <= beyond <= 100


def test_history_before_start_is_signs_of_life_and_monthly_indicators(
    delivered: list[Ev], events: list[Ev]
) -> None:
    before = [e for e in events if e.ts < START]
    kinds = {e.kind for e in before}
    assert kinds <= {*SIGNS_OF_LIFE, "enterprise.indicator"}
    assert {"motion.detected", "enterprise.indicator"} <= kinds
    months = sorted({e.ts for e in before if e.kind == "enterprise.indicator"})
    assert [(m.month, m.day) for m in months] == [(7, 1), (8, 1), (9, 1)]
    assert all(e.ts >= START - timedelta(hours=6) for e in before if e.kind in SIGNS_OF_LIFE)
    assert all(e.ts < END for e in events)
    head = delivered[: len([e for e in before if e.kind == "enterprise.indicator"])]
    assert {e.kind for e in head} == {"enterprise.indicator"}  # replayed first, in ts order


def test_planted_lists_only_patterns_inside_the_run(world: World) -> None:
    full = planted(world, start=START, hours=24, seed=SEED)
    short = planted(world, start=START, hours=6, seed=SEED)
    # every normative scenario but citizen.report (every report is its own alert)
    assert {p.scenario for p in full} >= NORMATIVE - {"citizen.report"}
    assert short
    assert set(short) < set(full)
    assert all(p.at < START + timedelta(hours=6) for p in short)


def test_an_empty_world_yields_nothing_and_bad_arguments_are_refused(world: World) -> None:
    bare = build_world(SourceDoc(data={"district": {"code": "330105", "name": "拱墅区"}}))
    assert list(simulate(bare, start=START, hours=24, seed=1)) == []
    with pytest.raises(ValueError, match="time zone"):
        simulate(world, start=datetime(2026, 10, 1), hours=1, seed=1)
    with pytest.raises(ValueError, match="positive"):
        simulate(world, start=START, hours=0, seed=1)
    assert default_start() == START


def test_a_home_with_part_of_the_kit_reports_what_it_has() -> None:
    """A world of one's own need not give every elderly person's home all three sensors:
    a home with only a door sensor yields door openings (it used to stop the whole run
    with ``KeyError: 'motion_sensor'``) and is never planted as a pattern."""
    world = load_world(Path(__file__).resolve().parents[1] / "fixtures" / "world_small.yaml")
    kit = {d.kind for d in world.devices.values() if d.subject == "S1"}
    assert kit == {"door_sensor"}  # the fixture this test is about
    out = io.BytesIO()
    write_jsonl(simulate(world, start=START, hours=48, seed=1), out)
    rows = [orjson.loads(line) for line in out.getvalue().splitlines()]
    home = [r["kind"] for r in rows if r.get("device_id") == "D1"]
    assert home
    assert set(home) == {"door.open"}
    assert not [p for p in planted(world, start=START, hours=48, seed=1) if p.key == "S1"]


# -------------------------------------------------------------------------- scenarios


def test_elderly_inactive(
    world: World, events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    subject_of = {d.id: d.subject for d in world.devices.values() if d.subject}
    signs: dict[str, list[datetime]] = defaultdict(list)
    for ev in events:
        if ev.kind in SIGNS_OF_LIFE and ev.device in subject_of:
            signs[str(subject_of[ev.device])].append(ev.ts)
    roles = plants["elderly.inactive"]
    (gone,) = roles["positive"]
    assert max(signs[gone]) <= START - timedelta(hours=3)  # evening before, then silence
    assert END - max(signs[gone]) > timedelta(hours=24)
    for silent in roles["silent"]:
        assert silent not in signs
    (near,) = roles["near_miss"]
    gaps = [b - a for a, b in pairwise(signs[near])]
    assert timedelta(hours=19) < max(gaps) < timedelta(hours=24)
    elderly = {s.id for s in world.subjects.values() if "elderly_alone" in s.tags}
    for sid in elderly - {gone, *roles["silent"]}:
        times = [*signs[sid], END]
        assert max(b - a for a, b in pairwise(times)) < timedelta(hours=24)


def test_elderly_sos(
    world: World, events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    pressed = {world.devices[e.device].subject for e in events if e.kind == "button.sos"}
    assert pressed == set(plants["elderly.sos"]["positive"])


def test_elevator_ebike_upgrade(events: list[Ev], plants: dict[str, dict[str, list[str]]]) -> None:
    lifts = by_key(events, "elevator.ebike_detected")
    assert len(lifts) > 10  # ordinary single detections
    busy = {
        k
        for k, evs in lifts.items()
        if max_in_window([e.ts for e in evs], timedelta(minutes=60)) >= 3
    }
    assert busy == set(plants["elevator.ebike"]["positive"])


def test_fire_smoke_verified_and_false_alarms(
    events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    alarms = by_key(events, "smoke.alarm", "building")
    temps = by_key(events, "temperature.reading", "building")
    within = timedelta(seconds=120)
    by_second, by_heat, unverified = set(), set(), []
    for building, evs in alarms.items():
        for ev in evs:
            if any(o.device != ev.device and abs(o.ts - ev.ts) <= within for o in evs):
                by_second.add(building)
            elif any(
                t.attrs["celsius"] >= 57 and abs(t.ts - ev.ts) <= within
                for t in temps.get(building, [])
            ):
                by_heat.add(building)
            else:
                unverified.append(building)
    assert len(by_second) == 1
    assert len(by_heat) == 1
    assert by_second | by_heat == set(plants["fire.smoke"]["positive"])
    assert set(plants["fire.smoke"]["false_alarm"]) <= set(unverified)
    assert set(plants["fire.smoke"]["near_miss"]) <= set(unverified)
    assert len(unverified) > len(by_second | by_heat)  # false alarms dominate
    routine = [t.attrs["celsius"] for b, ts in temps.items() for t in ts if b not in by_heat]
    assert max(routine) < 57


def test_power_overload_run_and_the_exact_near_miss(
    events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    meters = by_key(events, "meter.reading")
    long_runs, spikes, exact, leaks = set(), set(), set(), set()
    for meter, evs in meters.items():
        run: list[Ev] = []
        for ev in [*evs, None]:
            over = ev is not None and ev.attrs["current_a"] > 1.2 * ev.attrs["rated_a"]
            if over:
                assert ev is not None
                run.append(ev)
                continue
            if len(run) >= 2 and run[-1].ts - run[0].ts >= timedelta(minutes=5):
                long_runs.add(meter)
            elif run:
                spikes.add(meter)
            run = []
        if sum(1 for e in evs if e.attrs["current_a"] == 1.2 * e.attrs["rated_a"]) >= 5:
            exact.add(meter)
        if any(e.attrs["leakage_ma"] >= 30 for e in evs):
            leaks.add(meter)
    roles = plants["power.overload"]
    assert long_runs | leaks == set(roles["positive"])
    assert len(long_runs) == 1
    assert len(leaks) == 1
    assert exact
    assert spikes
    assert exact | spikes <= set(roles["near_miss"])


def test_garbage_overflow(events: list[Ev], plants: dict[str, dict[str, list[str]]]) -> None:
    bins = by_key(events, "bin.fill")
    overflowing = set()
    for b, evs in bins.items():
        full = [e.ts for e in evs if e.attrs["level"] >= 90]
        if full:
            assert any(e.ts > full[0] and e.attrs["level"] < 50 for e in evs), b
            overflowing.add(b)
    assert overflowing == set(plants["garbage.overflow"]["positive"])
    (near,) = plants["garbage.overflow"]["near_miss"]
    assert 85 <= max(e.attrs["level"] for e in bins[near]) < 90
    emptied = sum(
        1
        for evs in bins.values()
        for a, b in pairwise(evs)
        if a.attrs["level"] - b.attrs["level"] > 20
    )
    assert emptied > len(bins)  # every bin is emptied during the day


def test_garbage_dumping_outside_the_drop_off_windows(
    events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    dumping = [
        e for e in events if e.kind == "camera.detection" and e.attrs["label"] == "garbage_dumping"
    ]
    inside = [e for e in dumping if 7 <= local_hour(e.ts) < 9 or 18 <= local_hour(e.ts) < 20]
    outside = {e.device for e in dumping if e not in inside}
    assert outside == set(plants["garbage.dumping"]["positive"])
    assert len(inside) >= 4


def test_access_forced_and_bursts_below_the_threshold(
    events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    doors = by_key(events, "access.denied")
    peak = {
        d: max_in_window([e.ts for e in evs], timedelta(minutes=10)) for d, evs in doors.items()
    }
    assert {d for d, n in peak.items() if n >= 5} == set(plants["access.forced"]["positive"])
    for door in plants["access.forced"]["false_alarm"]:
        assert peak[door] in (3, 4)
    (spread,) = plants["access.forced"]["near_miss"]
    assert len(doors[spread]) == 5
    assert peak[spread] == 4


def test_access_held_open(events: list[Ev], plants: dict[str, dict[str, list[str]]]) -> None:
    doors = by_key(events, ("door.held_open", "door.closed"))
    long_held, short_held = set(), set()
    for door, evs in doors.items():
        for i, ev in enumerate(evs):
            if ev.kind != "door.held_open":
                continue
            closed = next(e for e in evs[i + 1 :] if e.kind == "door.closed")
            (long_held if closed.ts - ev.ts >= timedelta(minutes=3) else short_held).add(door)
    assert long_held == set(plants["access.held_open"]["positive"])
    assert set(plants["access.held_open"]["near_miss"]) <= short_held
    assert len(short_held) > 5  # doors held briefly are common


def _venue_counts(world: World, events: list[Ev], tag: str) -> dict[str, list[Ev]]:
    out: dict[str, list[Ev]] = defaultdict(list)
    for ev in events:
        if ev.kind == "crowd.count":
            venue = world.devices[ev.device].venue
            if venue and tag in world.venues[venue].tags:
                out[venue].append(ev)
    return out


def test_health_products_gathering(
    world: World, events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    venues = _venue_counts(world, events, "sales_venue")
    assert len(venues) == 20
    fired = set()
    for venue, evs in venues.items():
        hits = [e.ts for e in evs if e.attrs["count"] >= 20 and e.attrs["elderly_ratio"] >= 0.6]
        if hits:
            fired.add(venue)
            assert any(e.ts > hits[-1] and e.attrs["count"] < 10 for e in evs)
    assert fired == set(plants["health_products.gathering"]["positive"])
    near = plants["health_products.gathering"]["near_miss"]
    assert any(max(e.attrs["count"] for e in venues[v]) >= 20 for v in near)


def test_venue_night_crowd(
    world: World, events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    venues = _venue_counts(world, events, "sensitive")
    fired = set()
    for venue, evs in venues.items():
        night = [
            e.ts
            for e in evs
            if e.attrs["count"] >= 30 and (local_hour(e.ts) >= 22 or local_hour(e.ts) < 6)
        ]
        if night:
            fired.add(venue)
            assert any(e.ts > night[-1] and e.attrs["count"] < 15 for e in evs)
    assert fired == set(plants["venue.night_crowd"]["positive"])
    assert len(fired) == 2
    evening = [
        v
        for v in plants["venue.night_crowd"]["near_miss"]
        if max(e.attrs["count"] for e in venues[v]) >= 30
    ]
    assert evening  # crowded, but before 22:00


def test_parking_filial_overstay(
    world: World, events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    spaces = by_key(events, ("parking.occupied", "parking.freed"))
    stays: dict[str, timedelta] = {}
    for space, evs in spaces.items():
        longest, since = timedelta(0), None
        for ev in evs:
            if ev.kind == "parking.occupied":
                since = ev.ts
            elif since is not None:
                longest, since = max(longest, ev.ts - since), None
        if since is not None:
            longest = max(longest, END - since)
        stays[space] = longest
    filial = {d.id for d in world.devices.values() if "filial" in d.tags}
    over = {s for s, d in stays.items() if s in filial and d > timedelta(hours=2)}
    assert over == set(plants["parking.filial_overstay"]["positive"])
    (near,) = plants["parking.filial_overstay"]["near_miss"]
    assert timedelta(hours=1, minutes=50) < stays[near] <= timedelta(hours=2)
    assert any(d > timedelta(hours=2) for s, d in stays.items() if s not in filial)


def test_enterprise_abnormal_against_the_three_month_mean(
    events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    series: dict[tuple[str, str], list[Ev]] = defaultdict(list)
    for ev in events:
        if ev.kind == "enterprise.indicator":
            series[(ev.raw["subject"], ev.attrs["metric"])].append(ev)
    abnormal, below_80 = set(), set()
    for (subject, _), evs in series.items():
        assert [e.ts.month for e in evs] == [7, 8, 9, 10]
        mean = sum(e.attrs["value"] for e in evs[:3]) / 3
        if evs[3].attrs["value"] < 0.5 * mean:
            abnormal.add(subject)
        elif evs[3].attrs["value"] < 0.8 * mean:
            below_80.add(subject)
    assert abnormal == set(plants["enterprise.abnormal"]["positive"])
    assert below_80 == set(plants["enterprise.abnormal"]["near_miss"])


def test_enterprise_relocation(
    world: World, events: list[Ev], plants: dict[str, dict[str, list[str]]]
) -> None:
    changes = [e for e in events if e.kind == "enterprise.registration_change"]
    moved = {e.raw["subject"] for e in changes if e.attrs["new_district"] != world.district.code}
    assert moved == set(plants["enterprise.relocation"]["positive"])
    assert len(changes) > len(moved)


def test_citizen_reports(world: World, events: list[Ev]) -> None:
    reports = [e for e in events if e.kind in ("report.citizen", "report.hotline")]
    assert {e.kind for e in reports} == {"report.citizen", "report.hotline"}
    assert {e.raw["source"] for e in reports if e.kind == "report.hotline"} == {"12345"}
    assert {e.attrs["category"] for e in reports} == set(CATEGORIES)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in e.attrs["text"]) for e in reports)
    located = [e for e in reports if "lat" in e.raw]
    assert located
    assert len(located) < len(reports)
    locate = GridLocator(world)
    for ev in located:
        assert "area" not in ev.raw
        assert locate(ev.raw["lat"], ev.raw["lon"]) is not None


def test_the_rest_of_the_catalogue_is_sprinkled(events: list[Ev]) -> None:
    kinds = Counter(e.kind for e in events)
    for kind in (
        "water.level",
        "structure.tilt",
        "manhole.displaced",
        "gas.alarm",
        "elevator.trapped",
    ):
        assert kinds[kind] > 0, kind
    kitchen = {
        e.attrs["label"]
        for e in events
        if e.kind == "camera.detection" and e.device.startswith("KC-")
    }
    assert kitchen == {"no_hat", "no_mask", "rodent"}
    assert max(e.attrs["cm"] for e in events if e.kind == "water.level") > 25
