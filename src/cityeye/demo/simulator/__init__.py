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

Where things are: :mod:`.plan` chooses the planted patterns; one module per family of
event sources writes its devices' day into a :class:`~.stream.Stream` — :mod:`.homes`
(the elderly living alone), :mod:`.buildings` (lifts, smoke, power, gates),
:mod:`.cameras`, :mod:`.venues` (crowds), :mod:`.streets` (bins, parking,
infrastructure), :mod:`.enterprises`, :mod:`.reports` (app and 12345) and :mod:`.added_devices`
(locator watches, outfalls, charging ports); then
:mod:`.delivery` adds what the network does. :mod:`.sources` names the collectors and
:mod:`.clock` the time units. This module is the public face, and :class:`_Sim` the
coordinator that runs the channels in their fixed order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from cityeye.demo.simulator.added_devices import added
from cityeye.demo.simulator.buildings import access, elevators, power, smoke
from cityeye.demo.simulator.cameras import cameras
from cityeye.demo.simulator.delivery import DUPLICATE_P as DUPLICATE_P
from cityeye.demo.simulator.delivery import LATE_P as LATE_P
from cityeye.demo.simulator.delivery import LATENESS_S, deliver
from cityeye.demo.simulator.delivery import VERY_LATE_KINDS as VERY_LATE_KINDS
from cityeye.demo.simulator.delivery import VERY_LATE_P as VERY_LATE_P
from cityeye.demo.simulator.enterprises import enterprises
from cityeye.demo.simulator.homes import elderly
from cityeye.demo.simulator.plan import Plan, Plant
from cityeye.demo.simulator.reports import CATEGORIES, report_text, reports
from cityeye.demo.simulator.sources import N_GATEWAYS as N_GATEWAYS
from cityeye.demo.simulator.sources import SOURCE_APP as SOURCE_APP
from cityeye.demo.simulator.sources import SOURCE_CAMERA as SOURCE_CAMERA
from cityeye.demo.simulator.sources import SOURCE_ELEVATOR as SOURCE_ELEVATOR
from cityeye.demo.simulator.sources import SOURCE_ENTERPRISE as SOURCE_ENTERPRISE
from cityeye.demo.simulator.sources import SOURCE_HOTLINE as SOURCE_HOTLINE
from cityeye.demo.simulator.sources import gateway as gateway
from cityeye.demo.simulator.sources import source_of as source_of
from cityeye.demo.simulator.stream import Stream
from cityeye.demo.simulator.streets import bins, infrastructure, parking
from cityeye.demo.simulator.venues import crowds
from cityeye.domain import World

#: The channels, in the order they write. The order is part of the output: it numbers
#: the events, which orders their ids and the delivery's draws, so moving a channel
#: changes every stream's bytes; a new one goes at the end.
CHANNELS: tuple[Callable[[Stream], None], ...] = (
    elderly,
    elevators,
    smoke,
    power,
    bins,
    cameras,
    access,
    crowds,
    parking,
    enterprises,
    reports,
    infrastructure,
    added,
)

#: bench/soak.py's name for :func:`.reports.report_text` (a resident's report text).
_report_text = report_text


class _Sim:
    """One run: its :class:`Stream` (window, plan, recorded events), then every channel
    in :data:`CHANNELS` order, then delivery. :func:`simulate` and :func:`planted` both
    build one, so the stream and the list of its patterns come from the same plan."""

    def __init__(
        self, world: World, start: datetime, hours: float, seed: int, nuisance: bool = False
    ) -> None:
        self.stream = Stream(world, start, hours, seed, nuisance)
        self.plan: Plan = self.stream.plan

    def run(self) -> Iterator[dict[str, Any]]:
        for channel in CHANNELS:
            channel(self.stream)
        return deliver(self.stream)


# --------------------------------------------------------------------------- public


def simulate(
    world: World, *, start: datetime, hours: float, seed: int, nuisance: bool = False
) -> Iterator[dict[str, Any]]:
    """Yield a realistic stream of event JSON objects in *arrival* order.

    Every object passes :func:`cityeye.domain.parse_event`. Events have ``ts`` in
    [start, start + hours), except deliberate history at the head of the stream: the
    elderly's evening before (their last signs of life) and the enterprises' previous
    three monthly indicators. About 1 % of events are delivered twice (identical),
    about 2 % arrive 1–8 minutes late (within the engine's 10-minute lateness) and a
    few routine readings arrive 15–30 minutes late (beyond it). Deterministic for
    (world, start, hours, seed, nuisance). ``nuisance`` adds smoke alarms from no fire to
    the seeds' ratio, 500 per planted real fire (:meth:`.plan.Plan._nuisance`).
    """
    return _Sim(world, start, hours, seed, nuisance).run()


def planted(
    world: World, *, start: datetime, hours: float, seed: int, nuisance: bool = False
) -> list[Plant]:
    """The patterns :func:`simulate` plants for these arguments (only those whose
    first event falls before ``start + hours``), without generating the stream. The
    choice of keys does not depend on ``hours``: a shorter run holds a subset."""
    sim = _Sim(world, start, hours, seed, nuisance)
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
