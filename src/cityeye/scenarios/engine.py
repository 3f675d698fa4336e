"""The scenario engine: events in (any order within the lateness), alerts out.

Semantics (SCENARIOS.md, "Engine semantics every scenario shares"):

* **Event time.** Events are held in a reorder buffer and evaluated in ``(ts, source,
  id)`` order once the clock — the largest ``ts`` seen minus ``lateness`` — has passed
  them, so any arrival order within the lateness gives the same alerts.
* **Decide on arrival, correct on the clock** (``early=True``, the live service): a
  firing no earlier-stamped event could undo — one event, a count reaching N, a
  co-occurrence — opens its alert when its last event *arrives*; the in-order pass
  then adopts it (same id) and corrects it in place if a late event changed it
  (:class:`Early`). Absence, "held for D", quiet-period resolves and a new incident
  after a merge window still wait for the clock.
* **Late events** (older than the clock) are flagged; they may resolve an alert and
  update memory that cannot raise (an absence's "last seen"), and open one only in a
  scenario with ``raise_late`` (reports, an SOS): on arrival, ``reported_at`` kept.
* **Duplicates** — an ``(source, id)`` already seen — are ignored and counted.
* **Timers** (absence, durations, quiet periods) fire when the clock reaches them; at
  :meth:`Engine.finish` the clock advances to the largest ``ts`` seen, not beyond.
* **Merge**: while an alert for (scenario, key) is open, further firings join it. With
  a ``merge_window``, a firing more than that after the alert's last match starts a
  new incident: the open alert is closed as *superseded* at that moment and a new one
  opens, so there is never more than one open alert per (scenario, key).
* **Resolve / re-fire / upgrade** as each scenario's triggers say.

Scale: one timer entry per (scenario, key) at most, whatever the event rate — a sign of
life only moves the key's deadline; the heap entry is re-queued lazily when it comes
due early — so a million registered people cost a million small heap entries, not one
per event. No key is ever polled.
"""

from __future__ import annotations

import heapq
import io
import pickle
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from itertools import chain
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from cityeye.domain import Alert, Event, KeyBy, Severity, World
from cityeye.scenarios.conditions import Predicate, WorldValues, compile_condition, getter
from cityeye.scenarios.spec import CaseResolve, LoadedScenario, SeverityMap
from cityeye.scenarios.triggers import Absence, Firing, Trigger

#: 2: keys carry what was decided on arrival (:class:`Early`). 3: a key's memory is a
#: :class:`KeyMemory` with named fields, and every trigger's memory a class of its own;
#: version 2 still loads (:meth:`Engine.restore` converts it).
SNAPSHOT_VERSION = 3
#: Snapshot versions :meth:`Engine.restore` reads.
READS_VERSIONS = (2, 3)
#: An event's place in the in-order pass: (ts, source, id).
Order = tuple[float, str, str]
#: A timer queue entry: (deadline, rule index, key, strict). One per key at most.
Timer = tuple[float, int, str, bool]
#: What bulk work runs inside (see :func:`set_bulk_hook`).
BulkHook = Callable[[], AbstractContextManager[object]]
_bulk_hook: BulkHook = nullcontext


def set_bulk_hook(hook: BulkHook | None) -> None:
    """Run the engine's bulk work inside ``hook()`` from now on (``None``: inside
    nothing, the default).

    The bulk work is arming every registered key when a scenario's service starts: a
    million small, long-lived objects made at once, which the cyclic collector would
    rescan many times over as they are made. Pausing the collector and freezing the
    result are process-wide decisions, so the library never makes them; a command that
    owns its process installs :func:`cityeye.runtime.bulk_allocation` here."""
    global _bulk_hook
    _bulk_hook = hook if hook is not None else nullcontext


@dataclass(frozen=True, slots=True)
class AlertChange:
    """What happened to an alert, and which event (if any) caused it."""

    kind: Literal["opened", "updated", "resolved"]
    alert: Alert
    event_id: str | None
    at: datetime


class _Upgrade:
    __slots__ = ("rank", "scope", "severity", "trigger")

    def __init__(self, severity: Severity, trigger: Trigger[Any], scope: str) -> None:
        self.severity, self.rank, self.trigger, self.scope = severity, severity.rank, trigger, scope


#: Where a timed trigger keeps its memory in a :class:`KeyMemory`
#: (:attr:`CompiledRule.timed_parts`): the main trigger, an upgrade, the resolve.
MAIN: Final = 0
UPGRADE: Final = 1
RESOLVE: Final = 2


class Skip(Enum):
    """Why a scenario takes no key from an event (:meth:`CompiledRule.key_for`)."""

    #: Its ``when`` does not hold: the scenario does not read the event at all.
    FILTERED = "when does not hold"
    #: It reads the event, which names no key for it (counted as ``unkeyed``).
    UNKEYED = "no key"
    #: It reads the event, for a key it does not watch (not registered, not tagged).
    UNWATCHED = "a key not watched"


# the members as names of the module: ``Skip.FILTERED`` is a class attribute lookup of
# ~100 ns, too slow for a test made for every scenario reading every event
FILTERED: Final = Skip.FILTERED
UNKEYED: Final = Skip.UNKEYED
UNWATCHED: Final = Skip.UNWATCHED


class CompiledRule:
    """A scenario compiled for the engine: its conditions and triggers built, its key
    function and watched keys found (the scenario as written is
    :class:`~cityeye.scenarios.spec.ScenarioConfig`)."""

    def __init__(self, index: int, loaded: LoadedScenario, world: World) -> None:
        cfg = loaded.config
        values = WorldValues(
            district=world.district.code, venue_area=_venue_area(world), world=world
        )
        tz = cfg.timezone or world.timezone
        self.index = index
        self.id = cfg.id
        self.key_by = cfg.key
        self.reads = tuple(cfg.reads)
        self.when: Predicate | None = (
            compile_condition(cfg.when, "when", values) if cfg.when else None
        )
        self.trigger: Trigger[Any] = cfg.trigger.build("trigger", values, tz)
        self.upgrades = [
            _Upgrade(u.severity, u.trigger.build("upgrade", values, tz), u.scope)
            for u in cfg.upgrade
        ]
        self.resolve: Trigger[Any] | None = (
            None
            if isinstance(cfg.resolve, CaseResolve)
            else cfg.resolve.build("resolve", values, tz)
        )
        self.merge_window = cfg.merge_window
        self.split_by = getter(cfg.split_by, "split_by") if cfg.split_by else None
        if isinstance(cfg.severity, SeverityMap):
            by, table, default = (
                getter(cfg.severity.by, "by"),
                cfg.severity.map,
                cfg.severity.default,
            )
            self.severity_of: Callable[[Event | None], Severity] = lambda ev: (
                table.get(str(by(ev)), default) if ev is not None else default
            )
        else:
            fixed = cfg.severity
            self.severity_of = lambda ev: fixed
        self.tags = frozenset(cfg.tags)
        #: Whether every registered key is watched from the start of service (an
        #: absence that is the main trigger or an upgrade says ``registered``).
        self.registered = any(
            isinstance(t, Absence) and t.registered
            for t in (self.trigger, *(u.trigger for u in self.upgrades))
        )
        #: The keys the scenario watches (``None``: any key an event names).
        self.eligible: frozenset[str] | None = None
        if self.tags or self.registered:
            self.eligible = _eligible(world, cfg.key, self.tags)
        self.timezone = tz
        triggers = [self.trigger, *(u.trigger for u in self.upgrades)]
        if self.resolve is not None:
            triggers.append(self.resolve)
        #: Whether any trigger sets deadlines; others never need the timer queue.
        self.timed = any(t.has_timer for t in triggers)
        #: (where its memory is — :data:`MAIN`, :data:`UPGRADE` or :data:`RESOLVE` —,
        #: upgrade index, trigger) of each timed trigger: the engine looks only at these
        #: when it reschedules a key.
        self.timed_parts: list[tuple[int, int, Trigger[Any]]] = []
        if self.trigger.has_timer:
            self.timed_parts.append((MAIN, -1, self.trigger))
        for i, up in enumerate(self.upgrades):
            if up.trigger.has_timer:
                self.timed_parts.append((UPGRADE, i, up.trigger))
        if self.resolve is not None and self.resolve.has_timer:
            self.timed_parts.append((RESOLVE, -1, self.resolve))
        #: The scenario's own lateness (``None``: the engine's).
        self.lateness: float | None = cfg.lateness
        #: Late events still open alerts (``raise_late``), on arrival.
        self.raise_late = cfg.raise_late
        #: Upgrades decided on arrival: those whose trigger can be, remembering what
        #: came before the alert (``scope: key``); the others wait for the clock.
        self.early_ups = [
            i for i, up in enumerate(self.upgrades) if up.trigger.early and up.scope == "key"
        ]
        #: Whether anything of this scenario is decided when an event arrives.
        self.arrives = self.trigger.early or bool(self.early_ups)
        #: Whether a condition reads the local time of day (``time:`` or ``expr``).
        self.uses_time = _mentions_time(cfg.model_dump(by_alias=True))
        self.key_of = _key_function(cfg.key, world)

    def key_for(self, ev: Event, area: str | None, local_s: int) -> str | Skip:
        """The key ``ev`` is for in this scenario, or why there is none. The one
        selection that feeding an event (:meth:`Engine.feed`), deciding on its arrival
        and routing it to a partition (:meth:`Engine.route_keys`) all make, so a bus
        sends each event exactly where the engine would use it. ``split_by`` parts
        are not applied: they stay with their key."""
        when = self.when
        if when is not None and not when(ev, local_s):
            return FILTERED
        key = self.key_of(ev, area)
        if key is None:
            return UNKEYED
        eligible = self.eligible
        if eligible is not None and key not in eligible:
            return UNWATCHED
        return key


def _mentions_time(spec: Any) -> bool:
    if isinstance(spec, dict):
        return "time" in spec or "expr" in spec or any(_mentions_time(v) for v in spec.values())
    if isinstance(spec, list):
        return any(_mentions_time(v) for v in spec)
    return False


KeyFunction = Callable[[Event, "str | None"], "str | None"]


def _key_function(by: KeyBy, world: World) -> KeyFunction:
    """How a scenario finds its key in an event, the world filling in what the event
    does not say (SCENARIOS.md "Key")."""
    devices = world.devices
    if by == KeyBy.DEVICE:
        return lambda ev, _area: ev.device_id
    if by == KeyBy.EVENT:
        return lambda ev, _area: ev.ref
    if by == KeyBy.ENTERPRISE:
        return lambda ev, _area: ev.subject

    # the device is looked up in place, not by a shared helper: one call less for
    # nearly every event these scenarios read (most name only their device)
    if by == KeyBy.SUBJECT:

        def subject(ev: Event, _area: str | None) -> str | None:
            if ev.subject is not None:
                return ev.subject
            device = devices.get(ev.device_id) if ev.device_id is not None else None
            return device.subject if device is not None else None

        return subject
    if by in (KeyBy.BUILDING, KeyBy.VENUE):
        attr = "building" if by == KeyBy.BUILDING else "venue"

        def from_attrs(ev: Event, _area: str | None) -> str | None:
            value = ev.attrs.get(attr)
            if value is not None:
                return str(value)
            device = devices.get(ev.device_id) if ev.device_id is not None else None
            return getattr(device, attr) if device is not None else None

        return from_attrs

    return lambda ev, resolved: resolved or world.event_area(ev)


def _venue_area(world: World) -> Callable[[Event], float | None]:
    """The floor area of an event's venue (``attrs.venue``, else its device's), as
    the world file gives it; ``None`` when unknown."""
    areas = {v.id: v.area_m2 for v in world.venues.values() if v.area_m2 is not None}
    venue_of = _key_function(KeyBy.VENUE, world)

    def area(ev: Event) -> float | None:
        if not areas:
            return None
        venue = venue_of(ev, None)
        return areas.get(venue) if venue is not None else None

    return area


def _eligible(world: World, key: KeyBy, tags: frozenset[str]) -> frozenset[str]:
    """Keys that carry every tag (the registered population for absence timers)."""
    if key in (KeyBy.SUBJECT, KeyBy.ENTERPRISE):
        items: Iterable[Any] = world.subjects.values()
    elif key == KeyBy.VENUE:
        items = world.venues.values()
    elif key == KeyBy.DEVICE:
        items = world.devices.values()
    else:
        raise ValueError(f"tags and registered keys need a subject, venue or device key, not {key}")
    return frozenset(i.id for i in items if tags <= set(i.tags))


class Early:
    """What was decided for one key when events arrived, ahead of the in-order pass.

    The in-order pass (the clock) stays the truth: ``KeyMemory.alert`` and its fields
    are what evaluating in ``ts`` order gives. On top of it the key shows the firings
    already certain (``joins``) and upgrades (``ups``) that the pass has not reached
    yet; each is dropped when the pass reaches its event, which then makes the same
    firing itself. ``alert`` is one opened on arrival while the pass had none open:
    the pass adopts it (same id) when it opens its own. ``base`` is the truth under
    the decoration, put back before the pass changes the alert."""

    __slots__ = ("absorbed", "alert", "base", "joins", "mem", "ups", "ups_mem")

    def __init__(self, upgrades: int) -> None:
        self.alert: Alert | None = None
        self.joins: dict[str, tuple[Order, list[str], Severity]] = {}
        self.ups: dict[str, tuple[Order, Severity, list[str]]] = {}
        self.absorbed: dict[str, tuple[Order]] = {}
        self.mem: Any = None
        self.ups_mem: list[Any] = [None] * upgrades
        self.base: tuple[int, list[str], Severity, datetime] | None = None

    @property
    def idle(self) -> bool:
        """Nothing shown and nothing remembered: the key can drop it."""
        return (
            self.alert is None
            and not self.joins
            and not self.ups
            and not self.absorbed
            and not self.mem
            and not any(self.ups_mem)
        )


class KeyMemory:
    """Everything the engine remembers about one (scenario, key).

    Snapshots of version 2 called it ``KeyState``, with the fields ``ts`` (now
    ``trigger_state``), ``us`` (``upgrade_states``), ``rs`` (``resolve_state``) and
    ``n`` (``opened``); they load through :class:`_KeyStateV2`. A class of a new name
    rather than new fields under the old one, so that each snapshot names the layout
    it was written with."""

    __slots__ = (
        "alert",
        "area",
        "deadline",
        "early",
        "key",
        "last_match",
        "opened",
        "queued",
        "resolve_state",
        "rule",
        "strict",
        "trigger_state",
        "upgrade_states",
    )

    def __init__(self, rule: int, key: str, upgrades: int) -> None:
        self.rule = rule
        self.key = key
        #: The open alert the in-order pass keeps for the key.
        self.alert: Alert | None = None
        #: How many alerts the key has opened: the last one's number in its id.
        self.opened = 0
        #: The memory of the scenario's main trigger, of each upgrade's trigger and of
        #: its resolve (``None`` until the trigger needs one; see ``Trigger``).
        self.trigger_state: Any = None
        self.upgrade_states: list[Any] = [None] * upgrades
        self.resolve_state: Any = None
        #: The earliest deadline of the key's timed triggers, and whether it is strict.
        self.deadline: float | None = None
        self.strict = False
        #: The deadline of the key's entry in the timer queue (``None``: none queued).
        self.queued: float | None = None
        #: When the main trigger last fired (a ``merge_window`` is measured from it).
        self.last_match = 0.0
        self.area: str | None = None
        #: What was decided on arrival and the in-order pass has not reached.
        self.early: Early | None = None


class _KeyStateV2:
    """A key's memory as a version-2 snapshot holds it (:meth:`Engine.restore` gives
    it to :meth:`Engine._from_v2`); nothing else makes one."""

    __slots__ = (
        "alert",
        "area",
        "deadline",
        "early",
        "key",
        "last_match",
        "n",
        "queued",
        "rs",
        "rule",
        "strict",
        "ts",
        "us",
    )
    alert: Alert | None
    area: str | None
    deadline: float | None
    early: Early | None
    key: str
    last_match: float
    n: int
    queued: float | None
    rs: Any
    rule: int
    strict: bool
    ts: Any
    us: list[Any]


class _Unpickler(pickle.Unpickler):
    """Reads a snapshot: classes renamed since an older version load as what that
    version wrote."""

    RENAMED: Final = {(__name__, "KeyState"): _KeyStateV2}

    def find_class(self, module: str, name: str) -> Any:
        return self.RENAMED.get((module, name)) or super().find_class(module, name)


class _LocalClock:
    """Seconds since local midnight, with the UTC offset cached per hour."""

    def __init__(self, timezone: str) -> None:
        self.tz = ZoneInfo(timezone)
        self.cache: dict[int, int] = {}

    def __call__(self, t: float) -> int:
        hour = int(t // 3600)
        offset = self.cache.get(hour)
        if offset is None:
            delta = datetime.fromtimestamp(t, UTC).astimezone(self.tz).utcoffset()
            offset = int(delta.total_seconds()) if delta else 0
            self.cache[hour] = offset
        return int(t + offset) % 86400


#: A buffered event, as the buffer's heap holds it: ``(t, source, id, event, area)``,
#: or, once the buffer is large, :func:`pack`'s flat form ``(t, source, id, area,
#: kind, ts, device_id, subject, event area, lat, lon, name₁, value₁, …)``. Entries
#: are ordered by (t, source, id), unique, so the two forms mix in one heap.
Packed = tuple[Any, ...]
#: Buffer size from which new entries are packed: below it, the unpacking costs more
#: than the collector's work it saves (a replay at full speed holds a few thousand).
PACK_ABOVE = 50_000


def pack(event: Event, t: float, area: str | None) -> Packed:
    """A buffer entry: one flat tuple, ordered by event time, then (source, id). The
    buffer holds rate × lateness events (3 million at 5,000 a second): as objects, every
    few minutes a collection of the garbage collector's middle generation had to scan
    them all, a stall of seconds (issue 14, finding 10). A flat tuple of strings,
    numbers and a datetime is untracked by the collector at its first pass (a nested
    tuple or a dict would keep it tracked); :func:`unpack` gives the event back when
    the clock releases it."""
    return (
        t,
        event.source,
        event.id,
        area,
        event.kind,
        event.ts,
        event.device_id,
        event.subject,
        event.area,
        event.lat,
        event.lon,
        *chain.from_iterable(event.attrs.items()),
    )


def unpack(entry: Packed) -> tuple[float, Event, str | None]:
    """(t, the event, its resolved area) of a :func:`pack` entry."""
    event = Event(
        id=entry[2],
        kind=entry[4],
        ts=entry[5],
        source=entry[1],
        device_id=entry[6],
        subject=entry[7],
        area=entry[8],
        lat=entry[9],
        lon=entry[10],
        attrs=dict(zip(entry[11::2], entry[12::2], strict=True)),
    )
    return entry[0], event, entry[3]


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def by_kind(rules: Iterable[CompiledRule]) -> dict[str, list[CompiledRule]]:
    """The rules that read each event kind, in their order."""
    out: dict[str, list[CompiledRule]] = {}
    for rule in rules:
        for kind in rule.reads:
            out.setdefault(kind, []).append(rule)
    return out


class Lane:
    """The scenarios that share one lateness: their reorder buffer, their timers and
    their clock (the largest ``ts`` seen minus that lateness). A scenario that sets its
    own ``lateness`` gets a lane of its own, so a door held open is judged 1 minute
    after the fact while the rest of the catalogue waits 10; keys, alerts, seen ids
    and the largest ``ts`` stay the engine's."""

    __slots__ = ("buffer", "by_kind", "clock", "lateness", "timers")

    def __init__(self, lateness: float, rules: Iterable[CompiledRule]) -> None:
        self.lateness = lateness
        self.by_kind = by_kind(rules)
        self.buffer: list[Packed] = []  # a heap of pack() entries
        self.timers: list[Timer] = []
        self.clock: float | None = None


class Engine:
    """Runs compiled scenarios over an event stream on event time."""

    def __init__(
        self,
        scenarios: Iterable[LoadedScenario],
        world: World,
        *,
        lateness_s: float = 600,
        dedup_horizon_s: float = 6 * 3600,
        dedup_max: int | None = None,
        on_alert: Callable[[AlertChange], None] | None = None,
        step_s: float = 1.0,
        owns: Callable[[str, str], bool] | None = None,
        early: bool = False,
    ) -> None:
        """``step_s``: the clock moves in steps of at least this much event time.
        Results do not depend on it (events and timers are still taken in time order,
        and a late event first releases everything before it); it only trades a
        little alert latency — at most ``step_s`` of event time — for throughput.

        ``owns(scenario, key)``: keep state only for the pairs it accepts (one
        partition of a district spread over several workers, see
        :meth:`route_keys`); ``None`` keeps them all.

        Duplicates are recognised for ``dedup_horizon_s`` of event time and, when
        ``dedup_max`` is given, among the last ``dedup_max``…``2 × dedup_max`` ids at
        most: a service whose store already refuses a repeated ``(source, id)`` needs
        only a small filter for what arrives close together, and its memory must not
        grow with the traffic (issue 14: ~160 bytes an event, kept 6–12 h, was 7 GB
        at a few thousand events a second).

        ``early``: decide on arrival what no earlier-stamped event could undo (one
        event, a count reaching N, a co-occurrence), correcting on the clock — what a
        live service needs, where someone waits for the alert (SCENARIOS.md "Decide
        on arrival, correct on the clock"). The alerts once the clock has passed
        everything are the same either way; a replay of a file, where nobody waits,
        leaves it off and decides on the clock only."""
        self.world = world
        self.early = early
        self._deferred: list[AlertChange] | None = None
        self.owns = owns
        self.rules = [CompiledRule(i, s, world) for i, s in enumerate(scenarios)]
        self.lateness = float(lateness_s)
        self.step = max(0.0, float(step_s))
        # one lane per lateness, the engine's first (it also times the seen-id rotation)
        own = sorted({r.lateness for r in self.rules if r.lateness is not None} - {self.lateness})
        self.lanes = [
            Lane(lateness, [r for r in self.rules if (r.lateness or self.lateness) == lateness])
            for lateness in (self.lateness, *own)
        ]
        self._lane_of = [self.lanes[0]] * len(self.rules)
        self._lanes_by_kind: dict[str, list[Lane]] = {}
        for lane in self.lanes:
            for kind, rules in lane.by_kind.items():
                self._lanes_by_kind.setdefault(kind, []).append(lane)
                for rule in rules:
                    self._lane_of[rule.index] = lane
        #: An event is late when any scenario reading it finds it so.
        self._late_by_kind = {
            kind: min(lane.lateness for lane in lanes)
            for kind, lanes in self._lanes_by_kind.items()
        }
        self.horizon = max(float(dedup_horizon_s), self.max_lateness)
        self.dedup_max = dedup_max
        self.on_alert = on_alert
        self.by_kind = by_kind(self.rules)
        self.local = _LocalClock(world.timezone)
        self._time_kinds = {
            kind: any(r.uses_time for r in rules) for kind, rules in self.by_kind.items()
        }
        # --- state (all of it goes into a snapshot) ---
        self.states: dict[tuple[int, str], KeyMemory] = {}
        self.alerts: list[Alert] = []
        self._seen_now: set[tuple[str, str]] = set()
        self._seen_before: set[tuple[str, str]] = set()
        self._rotate_at: float | None = None
        self._max_t: float | None = None
        self._started: set[int] = set()
        self.events = self.duplicates = self.late = self.processed = self.unkeyed = 0

    # ------------------------------------------------------------------ input
    def feed(self, event: Event, area: str | None = None) -> bool:
        """Take one event as it arrives; returns ``False`` for a duplicate.

        ``area`` is the event's resolved area when the caller knows it better than the
        event does (a grid found from coordinates)."""
        self.events += 1
        ident = (event.source, event.id)
        if ident in self._seen_now or ident in self._seen_before:
            self.duplicates += 1
            return False
        self._seen_now.add(ident)
        if self.dedup_max is not None and len(self._seen_now) >= self.dedup_max:
            self._seen_before, self._seen_now = self._seen_now, set()
        t = event.ts.timestamp()
        max_t = self._max_t
        late = False
        for lane in self._lanes_by_kind.get(event.kind, ()):
            if max_t is not None and t < max_t - lane.lateness:
                # late: first release everything the clock has passed, so the late
                # event meets exactly the state it would have met with eager release
                self._advance(lane, max_t - lane.lateness)
                late = True
                self._dispatch(lane, event, t, area, late=True)
            else:
                self._hold(lane, event, t, area)
                if self.early:
                    self._arrive(lane, event, t, area)
        if late or (event.kind not in self._late_by_kind and self.is_late(event)):
            self.late += 1  # an event no scenario reads is judged by the engine's lateness
        if max_t is None or t > max_t:
            self._max_t = t
            for lane in self.lanes:
                if lane.clock is None or t - lane.lateness >= lane.clock + self.step:
                    self._advance(lane, t - lane.lateness)
        return True

    @property
    def clock(self) -> float | None:
        """The engine's clock: the earliest of its lanes' (everything before it has
        been evaluated by every scenario); ``None`` before the first event."""
        clocks = [lane.clock for lane in self.lanes]
        return None if None in clocks else min(c for c in clocks if c is not None)

    @property
    def max_lateness(self) -> float:
        """The longest any scenario waits for late events."""
        return max(lane.lateness for lane in self.lanes)

    def route_keys(self, event: Event, area: str | None = None) -> list[tuple[str, str]]:
        """The (scenario, key) pairs ``event`` would touch, without touching them: what
        a bus partitions on, so that each key's memory lives in one worker. The same
        selection as feeding it (kind, ``when``, key, eligible keys); ``split_by``
        parts stay with their key."""
        rules = self.by_kind.get(event.kind)
        if not rules:
            return []
        t = event.ts.timestamp()
        local_s = self.local(t) if self._time_kinds.get(event.kind) else 0
        pairs = []
        for rule in rules:
            key = rule.key_for(event, area, local_s)
            if key is not FILTERED and key is not UNKEYED and key is not UNWATCHED:
                pairs.append((rule.id, key))
        return pairs

    def has_seen(self, event: Event) -> bool:
        """Whether ``event`` (source, id) was fed within the duplicate horizon."""
        ident = (event.source, event.id)
        return ident in self._seen_now or ident in self._seen_before

    @property
    def latest(self) -> datetime | None:
        """The largest event time seen or advanced to (a restarted replay resumes
        there); ``None`` before anything."""
        return None if self._max_t is None else datetime.fromtimestamp(self._max_t, UTC)

    def is_late(self, event: Event) -> bool:
        """Whether ``event`` would be late now (older than the clock of a scenario
        that reads it)."""
        lateness = self._late_by_kind.get(event.kind, self.lateness)
        return self._max_t is not None and event.ts.timestamp() < self._max_t - lateness

    def flush(self) -> None:
        """Release every event the clock has passed (see ``step_s``)."""
        if self._max_t is not None:
            for lane in self.lanes:
                self._advance(lane, self._max_t - lane.lateness)

    def advance_to(self, when: datetime) -> None:
        """Move the clock as if an event at ``when`` had arrived (live service: the
        wall clock keeps absence timers running when devices fall silent)."""
        t = when.timestamp()
        if self._max_t is None or t > self._max_t:
            self._max_t = t
            for lane in self.lanes:
                self._advance(lane, t - lane.lateness)

    def clock_would_move(self, when: datetime) -> bool:
        """Whether :meth:`advance_to` ``when`` would move the clock."""
        return self._max_t is None or when.timestamp() > self._max_t

    def finish(self) -> None:
        """End of stream: release everything; the clock goes to the largest ts seen."""
        if self._max_t is not None:
            for lane in self.lanes:
                self._advance(lane, self._max_t)

    # ------------------------------------------------------------------ clock
    def _advance(self, lane: Lane, watermark: float) -> None:
        if lane.clock is not None and watermark <= lane.clock:
            return
        buffer, timers = lane.buffer, lane.timers
        while buffer and buffer[0][0] <= watermark:
            entry = heapq.heappop(buffer)
            t, event, area = (entry[0], entry[3], entry[4]) if len(entry) == 5 else unpack(entry)
            if timers and timers[0][0] <= t:
                self._fire_timers(lane, t)
            self._dispatch(lane, event, t, area, late=False)
        if timers and timers[0][0] <= watermark:
            self._fire_timers(lane, watermark)
        lane.clock = watermark
        if lane is not self.lanes[0]:
            return
        if self._rotate_at is None:
            self._rotate_at = watermark + self.horizon
        elif watermark >= self._rotate_at:
            # ids older than two horizons are forgotten; the store's unique (source, id)
            # still refuses them, this only bounds the engine's memory
            self._seen_before, self._seen_now = self._seen_now, set()
            self._rotate_at = watermark + self.horizon

    def _fire_timers(self, lane: Lane, until: float) -> None:
        timers = lane.timers
        while timers:
            deadline, rule_index, key, strict = timers[0]
            if deadline > until or (deadline == until and strict):
                return
            heapq.heappop(timers)
            st = self.states.get((rule_index, key))
            if st is None or st.queued != deadline:
                continue  # superseded by an earlier entry
            st.queued = None
            if st.deadline is None:
                continue
            if st.deadline > deadline:  # moved later since queued: re-queue lazily
                self._queue(st, st.deadline)
                continue
            rule = self.rules[rule_index]
            if st.early is None:
                self._on_time(rule, st, deadline)
            else:
                self._corrected(rule, st, (deadline,), self._on_time, rule, st, deadline)

    def _reschedule(
        self, rule: CompiledRule, st: KeyMemory, into: Callable[[Timer], None] | None = None
    ) -> None:
        """Set the key's next deadline, the earliest of its timed triggers', and queue
        it if it is earlier than the key's queued entry; a later one waits until that
        entry comes up and is re-queued then (:meth:`_fire_timers`), so a key has one
        entry at most however often a sign of life moves its deadline."""
        best: float | None = None
        strict = False
        for part, index, trigger in rule.timed_parts:
            state = (
                st.trigger_state
                if part == MAIN
                else st.upgrade_states[index]
                if part == UPGRADE
                else st.resolve_state
            )
            d = trigger.deadline(state)
            if d is not None and (best is None or d < best):
                best, strict = d, trigger.strict
        st.deadline, st.strict = best, strict
        if best is not None and (st.queued is None or best < st.queued):
            self._queue(st, best, into)

    def _queue(
        self, st: KeyMemory, due: float, into: Callable[[Timer], None] | None = None
    ) -> None:
        """The one place a timer entry is made: ``due`` for the key, into its lane's
        heap, or into ``into`` (bulk arming collects the entries and heapifies once)."""
        st.queued = due
        entry = (due, st.rule, st.key, st.strict)
        if into is None:
            heapq.heappush(self._lane_of[st.rule].timers, entry)
        else:
            into(entry)

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, lane: Lane, ev: Event, t: float, area: str | None, *, late: bool) -> None:
        rules = lane.by_kind.get(ev.kind)
        if not rules:
            return
        if lane is self._lanes_by_kind[ev.kind][0]:  # counted once, in its first lane
            self.processed += 1
        local_s = self.local(t) if self._time_kinds.get(ev.kind) else 0
        for rule in rules:
            key = rule.key_for(ev, area, local_s)
            if key is FILTERED:
                continue
            if not late and rule.index not in self._started:
                self._start_service(rule, t)
            if key is UNKEYED:
                self.unkeyed += 1
                continue
            if key is UNWATCHED:
                continue
            st = self._state_for(rule, ev, key, area)
            if st is None:
                continue
            if st.early is None:
                self._step(rule, st, ev, t, local_s, late)
            else:
                order = (t, ev.source, ev.id)
                self._corrected(rule, st, order, self._step, rule, st, ev, t, local_s, late)

    def _state_for(
        self, rule: CompiledRule, ev: Event, key: str, area: str | None
    ) -> KeyMemory | None:
        """The memory of (rule, key) for ``ev`` (``key`` from
        :meth:`CompiledRule.key_for`), made on first use; ``None`` for another
        partition's key."""
        if self.owns is not None and not self.owns(rule.id, key):
            return None
        entity = key
        if rule.split_by is not None:
            part = rule.split_by(ev)
            if isinstance(part, str | int):
                key = f"{key}/{part}"
        st = self.states.get((rule.index, key))
        if st is None:
            st = self.states[(rule.index, key)] = KeyMemory(rule.index, key, len(rule.upgrades))
            st.area = area or self.world.event_area(ev) or self._keyed_area(rule, entity)
        return st

    def _keyed_area(self, rule: CompiledRule, key: str) -> str | None:
        """The area of the registered venue a key names: an event that names only its
        venue (an inspection, a complaint about a shop) still places the alert, and
        its case, in the venue's area."""
        if rule.key_by != KeyBy.VENUE:
            return None
        venue = self.world.venues.get(key)
        return venue.area if venue is not None else None

    # ------------------------------------------------------------------ on arrival
    def _arrive(self, lane: Lane, ev: Event, t: float, area: str | None) -> None:
        """Decide on arrival what is certain (see :class:`Early`): called for every
        event that is not late, before the clock releases it."""
        rules = lane.by_kind.get(ev.kind)
        if not rules:
            return
        local_s = self.local(t) if self._time_kinds.get(ev.kind) else 0
        floor = lane.clock if lane.clock is not None else float("-inf")
        for rule in rules:
            if not rule.arrives:
                continue
            key = rule.key_for(ev, area, local_s)
            if key is FILTERED or key is UNKEYED or key is UNWATCHED:
                continue
            st = self._state_for(rule, ev, key, area)
            if st is None:
                continue
            e = st.early if st.early is not None else Early(len(rule.upgrades))
            changed = False
            if rule.trigger.early:
                e.mem, firings = rule.trigger.arrive(e.mem, ev, t, local_s, floor)
                for firing in firings:
                    changed |= self._early_fire(rule, st, e, firing, ev)
            for i in rule.early_ups:
                trigger = rule.upgrades[i].trigger
                e.ups_mem[i], firings = trigger.arrive(e.ups_mem[i], ev, t, local_s, floor)
                for f in firings:
                    if f[2] not in e.ups:
                        e.ups[f[2]] = (f[:3], rule.upgrades[i].severity, f[3])
                        changed = True
            st.early = None if e.idle else e
            if changed and st.early is not None:
                self._show(rule, st, ev.id, t)

    def _reopen(self, rule: CompiledRule, st: KeyMemory) -> None:
        """Firings decided on arrival outlived the alert they joined (the pass closed
        it before reaching them): they open the next alert at once."""
        e = st.early
        if e is None or st.alert is not None or e.alert is not None or not e.joins:
            return
        fid, (order, evidence, severity) = min(e.joins.items(), key=lambda item: item[1][0])
        alert = self._open_early(rule, st, e, order[0], evidence, severity)
        self._dress(rule, st)
        self._emit("opened", alert, fid, order[0])

    def _open_early(
        self,
        rule: CompiledRule,
        st: KeyMemory,
        e: Early,
        t: float,
        evidence: list[str],
        severity: Severity,
    ) -> Alert:
        """An alert opened on arrival, under the key's next number, as the in-order
        pass would open it at ``t`` (it adopts this one when it gets there)."""
        st.opened += 1
        e.alert = Alert(
            id=f"{rule.id}/{st.key}/{st.opened}",
            scenario=rule.id,
            key=st.key,
            severity=severity,
            opened_at=_dt(t),
            count=max(1, len(evidence)),
            event_ids=list(evidence),
            area=st.area,
        )
        self.alerts.append(e.alert)
        return e.alert

    def _early_fire(
        self, rule: CompiledRule, st: KeyMemory, e: Early, f: Firing, ev: Event
    ) -> bool:
        """A main-trigger firing became certain: open an alert at once, or join the
        one shown. Returns whether anything changed."""
        fid = f[2]
        if fid in e.joins:
            return False
        if rule.merge_window is not None and (st.alert is not None or e.alert is not None):
            # a new incident after a merge window: a late event could still bridge the
            # gap, so the clock decides
            known = [j[0][0] for j in e.joins.values()]
            if st.alert is not None:
                known.append(st.last_match)
            before = [x for x in known if x <= f[0]]
            gap = f[0] - max(before) if before else min(known) - f[0]
            if gap > rule.merge_window:
                return False
        severity = rule.severity_of(ev if fid == ev.id else None)
        e.joins[fid] = (f[:3], f[3], severity)
        if st.alert is None and e.alert is None:
            alert = self._open_early(rule, st, e, f[0], f[3], severity)
            st.early = e
            self._emit("opened", alert, fid, f[0])
        return True

    def _show(self, rule: CompiledRule, st: KeyMemory, event_id: str | None, t: float) -> None:
        """Dress the shown alert with what was decided on arrival and tell."""
        before = self._visible(st)
        snapshot = None if before is None else (before.count, before.severity, before.opened_at)
        self._strip(st)
        self._dress(rule, st)
        after = self._visible(st)
        if after is not None and (
            after is not before or snapshot != (after.count, after.severity, after.opened_at)
        ):
            self._emit("updated", after, event_id, t)

    @staticmethod
    def _visible(st: KeyMemory) -> Alert | None:
        if st.alert is not None:
            return st.alert
        return st.early.alert if st.early is not None else None

    def _strip(self, st: KeyMemory) -> None:
        """Put the in-order truth back under the shown alert."""
        e = st.early
        if e is not None and e.base is not None and st.alert is not None:
            a = st.alert
            a.count, ids, a.severity, a.opened_at = e.base
            a.event_ids = list(ids)
        if e is not None:
            e.base = None

    def _dress(self, rule: CompiledRule, st: KeyMemory) -> None:
        """Show on the key's alert the firings and upgrades decided on arrival that
        the in-order pass has not reached; open an alert for firings left over when
        the pass closed the one they joined."""
        e = st.early
        if e is None:
            return
        joins = sorted(e.joins.items(), key=lambda item: item[1][0])
        if st.alert is not None:
            a = st.alert
            if not joins and not e.ups:
                return
            e.base = (a.count, list(a.event_ids), a.severity, a.opened_at)
            extra = [fid for fid, _ in joins if fid not in a.event_ids]
            a.count += len(extra)
            a.event_ids = [*a.event_ids, *extra]
        elif e.alert is not None and joins:
            a = e.alert
            _, (order, evidence, severity) = joins[0]
            rest = [fid for fid, _ in joins[1:] if fid not in evidence]
            a.opened_at = _dt(order[0])
            a.severity = severity
            a.count = max(1, len(evidence)) + len(rest)
            a.event_ids = [*evidence, *rest]
        else:
            return
        opened = a.opened_at.timestamp()
        for order, severity, evidence in sorted(e.ups.values(), key=lambda u: u[0]):
            if order[0] >= opened and severity.rank > a.severity.rank:
                a.severity = severity
                a.event_ids.extend(i for i in evidence if i not in a.event_ids)

    def _corrected(
        self,
        rule: CompiledRule,
        st: KeyMemory,
        upto: tuple[Any, ...],
        op: Callable[..., None],
        *args: Any,
    ) -> None:
        """Run one step of the in-order pass on a key that shows decisions made on
        arrival: under them, then drop what the pass has now reached (``upto``, its
        place in ``(ts, source, id)`` order) and show the rest again. The pass's own
        changes are told after, with the shown alert."""
        e = st.early
        assert e is not None
        self._strip(st)
        outer, self._deferred = self._deferred, []
        try:
            op(*args)
        finally:
            told, self._deferred = self._deferred, outer
        tables: tuple[dict[str, Any], ...] = (e.joins, e.ups, e.absorbed)
        for table in tables:
            for fid in [f for f, v in table.items() if v[0] <= upto]:
                del table[fid]
        self._dress(rule, st)
        for change in told:
            self._emit(change.kind, change.alert, change.event_id, change.at.timestamp())
        self._reopen(rule, st)
        if e.idle and st.early is e:
            st.early = None

    def _start_service(self, rule: CompiledRule, t: float) -> None:
        """The first event this scenario reads starts its service: registered keys
        never seen start their absence timers now."""
        self._started.add(rule.index)
        if not rule.registered or rule.eligible is None:
            return
        # a million keys at once: queue them in bulk and heapify once (the heap's
        # order is (deadline, rule, key), so the order of this loop does not matter),
        # inside what the process's owner chose for such work (set_bulk_hook)
        with _bulk_hook():
            self._arm_all(rule, t)

    def _arm_all(self, rule: CompiledRule, t: float) -> None:
        states, table = self.states, self._entity_table(rule.key_by)
        trigger, upgrades, n_up = rule.trigger, rule.upgrades, len(rule.upgrades)
        queued: list[Timer] = []
        collect = queued.append
        owns = self.owns
        for key in rule.eligible or ():
            if owns is not None and not owns(rule.id, key):
                continue
            st = states.get((rule.index, key))
            if st is None:
                st = states[(rule.index, key)] = KeyMemory(rule.index, key, n_up)
                entity = table.get(key)
                st.area = entity.area if entity is not None else None
            # a trigger arms a key it has no memory of yet (None) as it arms a fresh one
            st.trigger_state = trigger.arm(st.trigger_state, t)
            memories = st.upgrade_states
            for i, up in enumerate(upgrades):
                memories[i] = up.trigger.arm(memories[i], t)
            self._reschedule(rule, st, collect)
        timers = self._lane_of[rule.index].timers
        timers.extend(queued)
        heapq.heapify(timers)

    def _entity_table(self, by: KeyBy) -> dict[str, Any]:
        if by == KeyBy.VENUE:
            return self.world.venues
        if by == KeyBy.DEVICE:
            return self.world.devices
        return self.world.subjects

    def _step(
        self, rule: CompiledRule, st: KeyMemory, ev: Event, t: float, local_s: int, late: bool
    ) -> None:
        alert = st.alert
        resolve = rule.resolve
        if resolve is not None:
            if late and not resolve.late_ok:
                st.resolve_state = resolve.observe_late(st.resolve_state, ev, t)
            else:
                st.resolve_state, fired = resolve.on_event(st.resolve_state, ev, t, local_s)
                # a late event from before the alert opened says nothing about it: a
                # stale "level 40" must not close a newer "level 95"
                if fired and alert is not None and t >= alert.opened_at.timestamp():
                    self._close(st, t, ev.id)
                    alert = None
        if late and rule.raise_late:
            # still actionable: fires on arrival — the alert (and its case's deadlines)
            # start now, the event's own time kept as when it was reported
            st.trigger_state, fired = rule.trigger.on_event(st.trigger_state, ev, t, local_s)
            if fired:
                now = max(self._max_t or t, t)
                evidence = rule.trigger.evidence(st.trigger_state, ev)
                self._match(rule, st, now, ev, alert, evidence, reported_at=_dt(t))
            return
        if late:
            st.trigger_state = rule.trigger.observe_late(st.trigger_state, ev, t)
            for i, up in enumerate(rule.upgrades):
                st.upgrade_states[i] = up.trigger.observe_late(st.upgrade_states[i], ev, t)
            if rule.timed:
                self._reschedule(rule, st)
            return
        st.trigger_state, fired = rule.trigger.on_event(st.trigger_state, ev, t, local_s)
        if fired:
            alert = self._match(rule, st, t, ev, alert, rule.trigger.evidence(st.trigger_state, ev))
        for i, up in enumerate(rule.upgrades):
            st.upgrade_states[i], up_fired = up.trigger.on_event(
                st.upgrade_states[i], ev, t, local_s
            )
            if up_fired and alert is not None:
                self._upgrade(alert, up, up.trigger.evidence(st.upgrade_states[i], ev), ev.id, t)
        if rule.timed:
            self._reschedule(rule, st)

    def _on_time(self, rule: CompiledRule, st: KeyMemory, now: float) -> None:
        """The key's deadline came: run every trigger due at ``now``."""
        alert = st.alert
        if rule.resolve is not None and rule.resolve.deadline(st.resolve_state) == now:
            st.resolve_state, fired = rule.resolve.on_time(st.resolve_state, now)
            if fired and alert is not None:
                self._close(st, now, None)
                alert = None
        if rule.trigger.deadline(st.trigger_state) == now:
            st.trigger_state, fired = rule.trigger.on_time(st.trigger_state, now)
            if fired:
                evidence = rule.trigger.evidence(st.trigger_state, None)
                alert = self._match(rule, st, now, None, alert, evidence)
        for i, up in enumerate(rule.upgrades):
            if up.trigger.deadline(st.upgrade_states[i]) == now:
                st.upgrade_states[i], up_fired = up.trigger.on_time(st.upgrade_states[i], now)
                if up_fired and alert is not None:
                    self._upgrade(
                        alert, up, up.trigger.evidence(st.upgrade_states[i], None), None, now
                    )
        self._reschedule(rule, st)

    # ------------------------------------------------------------------ alerts
    def _upgrade(
        self, alert: Alert, up: _Upgrade, evidence: list[str], ev: str | None, t: float
    ) -> None:
        """An upgrade fired: raise the severity and add what proves it to the alert."""
        if up.rank <= alert.severity.rank:
            return
        alert.severity = up.severity
        alert.event_ids.extend(i for i in evidence if i not in alert.event_ids)
        self._emit("updated", alert, ev, t)

    def _match(
        self,
        rule: CompiledRule,
        st: KeyMemory,
        t: float,
        ev: Event | None,
        alert: Alert | None,
        evidence: list[str],
        reported_at: datetime | None = None,
    ) -> Alert | None:
        """The main trigger fired: open an alert, or join the open one.

        ``evidence`` are the events that made it fire (the five denials of a count, the
        last sign of life before a silence); ``count`` is the number of matching events
        the alert holds (1 for a silence). An alert opened on arrival for this key
        (:class:`Early`) is adopted — same id, the in-order values — rather than a
        second one opened; a firing that a handled case already took in opens none
        (returns ``None``)."""
        if (
            alert is not None
            and rule.merge_window is not None
            and t - st.last_match > rule.merge_window
        ):
            self._close(st, t, ev.id if ev else None)
            alert = None
        st.last_match = t
        event_id = ev.id if ev is not None else None
        if alert is None and st.early is not None:
            e = st.early
            if event_id is not None and event_id in e.absorbed:
                return None
            if e.alert is not None:
                alert, e.alert = e.alert, None
                alert.opened_at = _dt(t)
                alert.severity = rule.severity_of(ev)
                alert.count = max(1, len(evidence)) if ev is not None else 1
                alert.event_ids = list(evidence)
                alert.resolved_at = None
                alert.reported_at = reported_at
                st.alert = alert
                for i, up in enumerate(rule.upgrades):
                    if up.scope == "alert":
                        st.upgrade_states[i] = up.trigger.new_state()
                self._emit("updated", alert, event_id, t)
                return alert
        if alert is None:
            st.opened += 1
            alert = Alert(
                id=f"{rule.id}/{st.key}/{st.opened}",
                scenario=rule.id,
                key=st.key,
                severity=rule.severity_of(ev),
                opened_at=_dt(t),
                count=max(1, len(evidence)) if ev is not None else 1,
                event_ids=list(evidence),
                area=st.area,
                reported_at=reported_at,
            )
            st.alert = alert
            for i, up in enumerate(rule.upgrades):
                if up.scope == "alert":
                    st.upgrade_states[i] = up.trigger.new_state()
            self.alerts.append(alert)
            self._emit("opened", alert, event_id, t)
            return alert
        alert.count += 1
        if event_id is not None:
            alert.event_ids.append(event_id)
        self._emit("updated", alert, event_id, t)
        return alert

    def _close(self, st: KeyMemory, t: float, event_id: str | None) -> None:
        alert = st.alert
        if alert is None:
            return
        alert.resolved_at = _dt(t)
        st.alert = None
        self._emit("resolved", alert, event_id, t)

    def _emit(
        self,
        kind: Literal["opened", "updated", "resolved"],
        alert: Alert,
        ev: str | None,
        t: float,
    ) -> None:
        if self._deferred is not None:  # inside _corrected: told once the alert is dressed
            self._deferred.append(AlertChange(kind, alert, ev, _dt(t)))
        elif self.on_alert is not None:
            self.on_alert(AlertChange(kind, alert, ev, _dt(t)))

    def resolve_alert(self, scenario: str, key: str, at: datetime) -> Alert | None:
        """Close the open alert for (scenario, key) from outside — a handled or
        dismissed case; returns it, or ``None`` if none was open."""
        for rule in self.rules:
            if rule.id == scenario:
                st = self.states.get((rule.index, key))
                if st is None:
                    return None
                if st.early is not None:
                    return self._resolve_shown(rule, st, at.timestamp())
                if st.alert is not None:
                    alert = st.alert
                    self._close(st, at.timestamp(), None)
                    return alert
        return None

    def _resolve_shown(self, rule: CompiledRule, st: KeyMemory, t: float) -> Alert | None:
        """A case closed the alert people saw, decisions on arrival included: what it
        held up to ``t`` was handled with it, so when the pass reaches those events they
        open nothing (``absorbed``); later firings open the next alert."""
        e = st.early
        assert e is not None
        shown = self._visible(st)
        if shown is None:
            return None
        taken = [fid for fid, j in e.joins.items() if j[0][0] <= t]
        ids, count, severity = list(shown.event_ids), shown.count, shown.severity
        self._strip(st)
        for fid in taken:
            e.absorbed[fid] = (e.joins.pop(fid)[0],)
        st.alert = e.alert = None
        shown.event_ids, shown.count, shown.severity = ids, count, severity
        shown.resolved_at = _dt(t)
        self._emit("resolved", shown, None, t)
        self._reopen(rule, st)
        return shown

    def rebuffer(self, event: Event, area: str | None = None) -> bool:
        """After :meth:`restore` of a snapshot taken with ``buffer=False``: give back
        one event that was fed before it. It is buffered again if the clock has not
        passed it (it was still waiting), and ignored otherwise (it was released, or
        taken late, before the snapshot). Counts and seen ids are the snapshot's."""
        t = event.ts.timestamp()
        held = False
        for lane in self._lanes_by_kind.get(event.kind, ()):
            if lane.clock is None or t > lane.clock:
                self._hold(lane, event, t, area)
                held = True
        return held

    @staticmethod
    def _hold(lane: Lane, event: Event, t: float, area: str | None) -> None:
        buffer = lane.buffer
        if len(buffer) >= PACK_ABOVE:
            heapq.heappush(buffer, pack(event, t, area))
        else:
            heapq.heappush(buffer, (t, event.source, event.id, event, area))

    # ------------------------------------------------------------------ introspection
    def forget_resolved(self) -> int:
        """Drop resolved alerts from memory (a live service has stored them already);
        returns how many were dropped."""
        before = len(self.alerts)
        self.alerts = [a for a in self.alerts if a.resolved_at is None]
        return before - len(self.alerts)

    @property
    def buffered(self) -> int:
        """Events held until the clock passes them (in each lane that reads them)."""
        return sum(len(lane.buffer) for lane in self.lanes)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "events": self.events,
            "duplicates": self.duplicates,
            "late": self.late,
            "processed": self.processed,
            "unkeyed": self.unkeyed,
        }

    def stats(self) -> dict[str, int]:
        return self.counts | {
            "buffered": self.buffered,
            "timers": sum(len(lane.timers) for lane in self.lanes),
            "keys": len(self.states),
            "alerts": len(self.alerts),
            "open_alerts": sum(1 for s in self.states.values() if s.alert is not None),
        }

    # ------------------------------------------------------------------ snapshot
    def _fingerprint(self) -> list[tuple[str, tuple[str, ...], float]]:
        return [(r.id, r.reads, self._lane_of[r.index].lateness) for r in self.rules]

    def snapshot(self, *, buffer: bool = True) -> bytes:
        """Everything needed to resume after a restart: buffered events, every key's
        memory, every timer, seen ids, alerts and clocks. Keep it as private as the
        database: it is a pickle and must only ever be read back by cityeye.

        ``buffer=False`` leaves the buffered events out: a caller that stored them
        (the live service) gives them back with :meth:`rebuffer` after
        :meth:`restore`. At thousands of events a second the buffer holds
        rate × lateness events, which would make the snapshot grow with the traffic
        and stall ingest while it is written."""
        state = {
            "version": SNAPSHOT_VERSION,
            "rules": self._fingerprint(),
            "states": self.states,
            "alerts": self.alerts,
            "buffer": [lane.buffer for lane in self.lanes] if buffer else None,
            "timers": [lane.timers for lane in self.lanes],
            "seen": (self._seen_now, self._seen_before, self._rotate_at),
            "clock": (self._max_t, [lane.clock for lane in self.lanes]),
            "started": self._started,
            "counts": self.counts,
        }
        return pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)

    def restore(self, data: bytes) -> None:
        """Resume from :meth:`snapshot` (same scenarios, same order); a snapshot of
        version 2 is converted as it loads. ``ValueError`` for one that does not fit:
        another version, other scenarios, or bytes that do not read back."""
        try:
            state = _Unpickler(io.BytesIO(data)).load()  # our own snapshot, see snapshot()
        except Exception as exc:  # a newer version's classes, or no snapshot at all
            raise ValueError(f"snapshot cannot be read ({exc}); replay instead") from None
        version = state.get("version") if isinstance(state, dict) else None
        if version not in READS_VERSIONS:
            raise ValueError(
                f"snapshot version {version} is not one this engine reads "
                f"({', '.join(map(str, READS_VERSIONS))}); replay instead"
            )
        if state["rules"] != self._fingerprint():
            raise ValueError("snapshot was taken with different scenarios; replay instead")
        states = state["states"]
        self.states = self._from_v2(states) if version == 2 else states
        self.alerts = state["alerts"]  # pickle keeps open alerts shared with their states
        buffers = state["buffer"] or [[] for _ in self.lanes]
        self._max_t, clocks = state["clock"]
        for lane, buffer, timers, clock in zip(
            self.lanes, buffers, state["timers"], clocks, strict=True
        ):
            lane.buffer, lane.timers, lane.clock = buffer, timers, clock
        self._seen_now, self._seen_before, self._rotate_at = state["seen"]
        self._started = state["started"]
        counts = state["counts"]
        self.events, self.duplicates, self.late = (
            counts["events"],
            counts["duplicates"],
            counts["late"],
        )
        self.processed, self.unkeyed = counts["processed"], counts["unkeyed"]

    def _from_v2(
        self, states: dict[tuple[int, str], _KeyStateV2]
    ) -> dict[tuple[int, str], KeyMemory]:
        """Version 2's key memories as this version keeps them: the fields renamed,
        each trigger's memory given the class it has now (``Trigger.load_v2``).
        Open alerts stay the objects the snapshot's alert list holds."""
        out: dict[tuple[int, str], KeyMemory] = {}
        for where, old in states.items():
            rule = self.rules[old.rule]
            st = out[where] = KeyMemory(old.rule, old.key, 0)
            st.alert, st.opened, st.area, st.early = old.alert, old.n, old.area, old.early
            st.trigger_state = rule.trigger.load_v2(old.ts)
            st.upgrade_states = [
                up.trigger.load_v2(m) for up, m in zip(rule.upgrades, old.us, strict=True)
            ]
            st.resolve_state = rule.resolve.load_v2(old.rs) if rule.resolve else old.rs
            st.deadline, st.strict, st.queued = old.deadline, old.strict, old.queued
            st.last_match = old.last_match
        return out
