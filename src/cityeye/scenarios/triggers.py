"""Triggers: when a scenario fires, upgrades or resolves — one class per type, its
configuration schema right beside it.

Every trigger is a plain object with ``on_event`` / ``on_time`` methods driven by the
engine's *event-time* clock (never the wall clock), so replaying history gives the same
alerts as living through it. A trigger keeps its per-key memory in a small state object
(``S`` of :class:`Trigger`; a slot class, so a million keys stay small) that the engine
stores, snapshots and restores; the trigger itself is stateless and shared by all keys.
A configuration validated from YAML makes its trigger itself (:meth:`TriggerSpec.build`),
so a new type is one schema and one class, with no list of types to extend elsewhere.

The same trigger types serve three roles in a scenario: the main ``trigger`` (opens an
alert, further firings join it), an ``upgrade`` (raises the open alert's severity) and
``resolve`` (closes it). "No detection for 60 min" is an ``absence`` used as a resolve;
"≥ 3 detections within 60 min" is a ``count`` used as an upgrade.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from cityeye.domain import Event, FieldError
from cityeye.scenarios.conditions import Predicate, WorldValues, compile_condition, getter
from cityeye.scenarios.scoring import Colour, CompiledScore, ScoreModel, ScoreState
from cityeye.sourcefile import Duration as Seconds

Condition = dict[str, Any] | None
#: A firing decided on arrival: (time, source, id) of the event the in-order pass will
#: fire on, and the ids of the events that make it fire.
Firing = tuple[float, str, str, list[str]]
#: A trigger's memory for one key (``None`` until the key first needs one).
S = TypeVar("S")


# --------------------------------------------------------------------- base
class Trigger(ABC, Generic[S]):
    """What every trigger can do. ``strict`` deadlines fire only once the clock has
    passed them ("> 2 h"); others fire when the clock reaches them ("≥ 3 min").

    The engine hands each call the key's memory ``S``, or ``None`` for a key this
    trigger has not needed to remember anything about yet (most keys of most
    triggers: no memory is made for an event that does not match)."""

    strict = False
    #: Timer-driven triggers arm for every registered key at the start of service.
    registered = False
    #: Whether a late (out-of-order) event may be given to :meth:`on_event`: true for
    #: triggers whose memory does not depend on the order of events.
    late_ok = False
    #: Whether the trigger ever sets a deadline (fires by the clock, not by an event).
    has_timer = False
    #: Whether :meth:`arrive` can decide firings when events arrive: true where no
    #: earlier-stamped event could undo a firing (one event, a count reaching N, a
    #: co-occurrence) — SCENARIOS.md "Decide on arrival, correct on the clock".
    early = False

    def __init__(self, when: Predicate) -> None:
        self.when = when

    def new_state(self) -> S | None:
        return None

    @abstractmethod
    def on_event(self, st: S | None, ev: Event, t: float, local_s: int) -> tuple[S | None, bool]:
        """Take one event (in time order); return the new state and whether it fired."""

    def on_time(self, st: S, now: float) -> tuple[S, bool]:
        """The clock reached :meth:`deadline`; return the new state and whether it fired."""
        return st, False

    def deadline(self, st: S | None) -> float | None:
        return None

    def observe_late(self, st: S | None, ev: Event, t: float) -> S | None:
        """A late event: update memory that cannot raise (default: ignore it)."""
        return st

    def arm(self, st: S | None, t: float) -> S | None:
        """Start of service for a registered key never seen (``st`` is ``None`` when
        the trigger has no memory of the key yet)."""
        return st

    def evidence(self, st: S, ev: Event | None) -> list[str]:
        """Ids of the events that made the trigger fire (called right after it fired,
        with the state it returned), so every alert can be explained; by default the
        event in hand."""
        return [ev.id] if ev is not None else []

    def arrive(
        self, mem: Any, ev: Event, t: float, local_s: int, floor: float
    ) -> tuple[Any, list[Firing]]:
        """An event arrived (in any order, not late): the firings it makes certain.

        ``mem`` is this trigger's arrival memory for the key (``None`` at first):
        every matching event not older than ``floor`` (the engine's clock) less the
        trigger's reach. A firing returned here is one the in-order pass will make
        at that event whatever else arrives, because later arrivals can only add
        events; each is returned once, by the arrival that completes it. Only for
        triggers with :attr:`early`."""
        return mem, []

    def load_v2(self, old: Any) -> S | None:
        """This trigger's memory as an engine snapshot of version 2 held it: the same
        objects, except where a later version gave the memory a class of its own."""
        return cast("S | None", old)


class TriggerSpec(BaseModel):
    """A trigger as a scenario file writes it; :meth:`build` makes the runtime object."""

    model_config = ConfigDict(extra="forbid")

    @abstractmethod
    def build(self, where: str, world: WorldValues, timezone: str) -> Trigger[Any]:
        """The trigger, its conditions compiled; :class:`FieldError` names the place
        (``where`` and the field) of anything that does not compile."""


class TriggerConfig(TriggerSpec):
    when: Condition = None

    def _when(self, where: str, world: WorldValues) -> Predicate:
        return compile_condition(self.when, f"{where}.when", world)


def _remember(
    mem: list[tuple[Any, ...]] | None, entry: tuple[Any, ...], floor: float, window: float
) -> tuple[list[tuple[Any, ...]], int, int]:
    """A windowed trigger's arrival memory: events sorted by ``(ts, source, id)``,
    those older than ``floor − window`` forgotten (no event the clock has not passed
    can reach back to them), ``entry`` added. Returns the memory and the range of
    entries the new arrival can complete: from it to ``window`` after it."""
    seen = mem if mem is not None else []
    del seen[: bisect_left(seen, (floor - window,))]
    insort(seen, entry)
    t = entry[0]
    return seen, bisect_left(seen, entry), bisect_right(seen, (t + window, "\uffff"))


# --------------------------------------------------------------------- threshold
class ThresholdConfig(TriggerConfig):
    """Fires on every event that meets ``when`` (``{attrs.level: {gte: 90}}``).

    As the main trigger of a scenario that is "armed" behaviour: the first reading over
    the threshold opens the alert, later ones join it, and only a resolve re-arms it.
    """

    type: Literal["threshold"]

    def build(self, where: str, world: WorldValues, timezone: str) -> Threshold:
        return Threshold(self._when(where, world))


class Threshold(Trigger[None]):
    """Remembers nothing: each event decides alone."""

    late_ok = True
    early = True

    def on_event(self, st: None, ev: Event, t: float, local_s: int) -> tuple[None, bool]:
        return None, self.when(ev, local_s)

    def arrive(
        self, mem: Any, ev: Event, t: float, local_s: int, floor: float
    ) -> tuple[Any, list[Firing]]:
        return None, [(t, ev.source, ev.id, [ev.id])] if self.when(ev, local_s) else []


# --------------------------------------------------------------------- count
class CountConfig(TriggerConfig):
    """Fires when at least ``count`` matching events fall within ``window`` (sliding,
    both ends inclusive): ``{type: count, count: 5, window: 10m}``."""

    type: Literal["count"]
    count: int = Field(ge=1, le=100_000)
    window: Seconds

    def build(self, where: str, world: WorldValues, timezone: str) -> Count:
        return Count(self._when(where, world), self.count, self.window)


class CountState:
    """The newest matching events still in the window, oldest first: (time, id)."""

    __slots__ = ("times",)

    def __init__(self, times: deque[tuple[float, str]] | None = None) -> None:
        self.times: deque[tuple[float, str]] = times if times is not None else deque()


class Count(Trigger[CountState]):
    early = True

    def __init__(self, when: Predicate, count: int, window: float) -> None:
        super().__init__(when)
        self.count, self.window = count, window

    def on_event(
        self, st: CountState | None, ev: Event, t: float, local_s: int
    ) -> tuple[CountState | None, bool]:
        if not self.when(ev, local_s):
            return st, False
        s = st if st is not None else CountState()
        times = s.times
        times.append((t, ev.id))
        horizon = t - self.window
        while times[0][0] < horizon:
            times.popleft()
        # only the newest ``count`` matter; keeps memory bounded under a flood
        while len(times) > self.count:
            times.popleft()
        return s, len(times) >= self.count

    def evidence(self, st: CountState, ev: Event | None) -> list[str]:
        return [event_id for _, event_id in st.times]

    def arrive(
        self, mem: Any, ev: Event, t: float, local_s: int, floor: float
    ) -> tuple[Any, list[Firing]]:
        """The in-order pass fires at an event when ``count`` matching events, it
        included, lie in the window ending there (in ``(ts, source, id)`` order). The
        new arrival can complete that for itself and for events up to ``window``
        after it; it is new exactly where the count is now ``count``."""
        if not self.when(ev, local_s):
            return mem, []
        seen, start, stop = _remember(mem, (t, ev.source, ev.id), floor, self.window)
        firings: list[Firing] = []
        for i in range(start, stop):
            c = seen[i]
            lo = bisect_left(seen, (c[0] - self.window,))
            if i + 1 - lo == self.count:
                ids = [x[2] for x in seen[i + 1 - self.count : i + 1]]
                firings.append((c[0], c[1], c[2], ids))
        return seen, firings

    def load_v2(self, old: Any) -> CountState | None:
        """Version 2 kept the deque itself."""
        return None if old is None else CountState(old)


# --------------------------------------------------------------------- duration
class DurationConfig(TriggerConfig):
    """A condition that holds for at least ``for`` (as Home Assistant's ``for:``).

    ``confirm: readings`` — every reading must meet ``when`` and a reading at least
    ``for`` after the first one confirms it (a meter: "> 1.2 × rated in every reading
    over ≥ 5 min"); a reading that does not meet it starts over.
    ``confirm: timer`` — ``when`` starts a state, ``clear`` ends it, and the trigger
    fires ``for`` after the start unless cleared first (a door held open, a car parked).
    ``strict: true`` means "more than": the state must outlast ``for``.
    """

    type: Literal["duration"]
    for_: Seconds = Field(alias="for")
    confirm: Literal["readings", "timer"] = "readings"
    clear: Condition = None
    strict: bool = False

    @model_validator(mode="after")
    def _clear_only_for_timer(self) -> DurationConfig:
        if self.confirm == "timer" and self.clear is None:
            raise ValueError("confirm: timer needs a clear condition (what ends the state)")
        if self.confirm == "readings" and self.clear is not None:
            raise ValueError(
                "clear applies to confirm: timer; with readings any reading that does not "
                "meet when starts over"
            )
        return self

    def build(self, where: str, world: WorldValues, timezone: str) -> Duration:
        when = self._when(where, world)
        clear = compile_condition(self.clear, f"{where}.clear", world) if self.clear else None
        return Duration(when, self.for_, self.confirm == "timer", clear, self.strict)


class DurationState:
    """Since when the condition holds (``None``: it does not), the event that started
    it, and whether the timer already fired for this start."""

    __slots__ = ("fired", "start", "start_id")

    def __init__(self) -> None:
        self.start: float | None = None
        self.start_id: str | None = None
        self.fired = False


class Duration(Trigger[DurationState]):
    def __init__(
        self, when: Predicate, span: float, timer: bool, clear: Predicate | None, strict: bool
    ) -> None:
        super().__init__(when)
        self.span, self.timer, self.clear, self.strict = span, timer, clear, strict
        self.has_timer = timer

    def new_state(self) -> DurationState:
        return DurationState()

    def on_event(
        self, st: DurationState | None, ev: Event, t: float, local_s: int
    ) -> tuple[DurationState, bool]:
        s = st if st is not None else DurationState()
        if self.timer:
            assert self.clear is not None
            if self.clear(ev, local_s):
                s.start, s.fired = None, False
            elif s.start is None and self.when(ev, local_s):
                s.start, s.start_id, s.fired = t, ev.id, False
            return s, False
        if not self.when(ev, local_s):
            s.start = None
            return s, False
        if s.start is None:
            s.start, s.start_id = t, ev.id
        held = t - s.start
        return s, held > self.span if self.strict else held >= self.span

    def deadline(self, st: DurationState | None) -> float | None:
        if not self.timer or st is None or st.start is None or st.fired:
            return None
        return st.start + self.span

    def on_time(self, st: DurationState, now: float) -> tuple[DurationState, bool]:
        st.fired = True
        return st, True

    def evidence(self, st: DurationState, ev: Event | None) -> list[str]:
        ids = [st.start_id] if st.start_id else []
        if ev is not None and ev.id not in ids:
            ids.append(ev.id)
        return ids


# --------------------------------------------------------------------- absence
class AbsenceConfig(TriggerConfig):
    """No matching event for ``for``. With ``registered: true`` every registered key
    (e.g. each subject tagged ``elderly_alone``) is watched from the start of service,
    so a person never heard from at all raises the alert too."""

    type: Literal["absence"]
    for_: Seconds = Field(alias="for")
    registered: bool = False

    def build(self, where: str, world: WorldValues, timezone: str) -> Absence:
        return Absence(self._when(where, world), self.for_, self.registered)


class AbsenceState:
    """The last sign of life (time and event; the start of service for a registered
    key never heard from), and whether the silence after it already fired."""

    __slots__ = ("fired", "last", "last_id")

    def __init__(self) -> None:
        self.last: float | None = None
        self.last_id: str | None = None
        self.fired = False


class Absence(Trigger[AbsenceState]):
    late_ok = True
    has_timer = True

    def __init__(self, when: Predicate, span: float, registered: bool) -> None:
        super().__init__(when)
        self.span, self.registered = span, registered

    def new_state(self) -> AbsenceState:
        return AbsenceState()

    def on_event(
        self, st: AbsenceState | None, ev: Event, t: float, local_s: int
    ) -> tuple[AbsenceState, bool]:
        s = st if st is not None else AbsenceState()
        if self.when(ev, local_s) and (s.last is None or t >= s.last):
            s.last, s.last_id, s.fired = t, ev.id, False
        return s, False

    def observe_late(self, st: AbsenceState | None, ev: Event, t: float) -> AbsenceState:
        return self.on_event(st, ev, t, 0)[0]

    def arm(self, st: AbsenceState | None, t: float) -> AbsenceState:
        s = st if st is not None else AbsenceState()
        if s.last is None:
            s.last = t
        return s

    def deadline(self, st: AbsenceState | None) -> float | None:
        if st is None or st.last is None or st.fired:
            return None
        return st.last + self.span

    def on_time(self, st: AbsenceState, now: float) -> tuple[AbsenceState, bool]:
        st.fired = True
        return st, True

    def evidence(self, st: AbsenceState, ev: Event | None) -> list[str]:
        """The last event seen before the silence (none for a key never heard from)."""
        return [st.last_id] if st.last_id else []


# --------------------------------------------------------------------- co-occurrence
class CooccurrenceConfig(TriggerConfig):
    """Two kinds of event for the same key within ``window`` of each other, in either
    order: ``first`` and ``second`` are conditions; ``distinct: device_id`` demands the
    two come from different devices (a second detector confirming the first)."""

    type: Literal["cooccurrence"]
    first: dict[str, Any]
    second: dict[str, Any]
    window: Seconds
    distinct: str | None = None

    def build(self, where: str, world: WorldValues, timezone: str) -> Cooccurrence:
        return Cooccurrence(
            self._when(where, world),
            compile_condition(self.first, f"{where}.first", world),
            compile_condition(self.second, f"{where}.second", world),
            self.window,
            getter(self.distinct, f"{where}.distinct") if self.distinct else None,
        )


class CooccurrenceState:
    """The recent ``first`` and ``second`` events, oldest first — (time, distinct
    value, id) — and the partner the last firing paired with."""

    __slots__ = ("firsts", "partner", "seconds")

    def __init__(self) -> None:
        self.firsts: deque[tuple[float, Any, str]] = deque()
        self.seconds: deque[tuple[float, Any, str]] = deque()
        self.partner: str | None = None


class Cooccurrence(Trigger[CooccurrenceState]):
    early = True

    def __init__(
        self,
        when: Predicate,
        first: Predicate,
        second: Predicate,
        window: float,
        distinct: Callable[[Event], Any] | None,
    ) -> None:
        super().__init__(when)
        self.first, self.second, self.window, self.distinct = first, second, window, distinct

    def _hit(self, recent: deque[tuple[float, Any, str]], value: Any) -> str | None:
        """The id of a recent event that pairs with one of ``value``, if any."""
        for _, v, event_id in reversed(recent):
            if self.distinct is None or v != value:
                return str(event_id)
        return None

    def on_event(
        self, st: CooccurrenceState | None, ev: Event, t: float, local_s: int
    ) -> tuple[CooccurrenceState | None, bool]:
        is_a, is_b = self.first(ev, local_s), self.second(ev, local_s)
        if not (is_a or is_b):
            return st, False
        s = st if st is not None else CooccurrenceState()
        firsts, seconds = s.firsts, s.seconds
        horizon = t - self.window
        for recent in (firsts, seconds):
            while recent and recent[0][0] < horizon:
                recent.popleft()
        value = self.distinct(ev) if self.distinct else None
        partner = (self._hit(seconds, value) if is_a else None) or (
            self._hit(firsts, value) if is_b else None
        )
        if is_a:
            firsts.append((t, value, ev.id))
        if is_b:
            seconds.append((t, value, ev.id))
        s.partner = partner
        return s, partner is not None

    def evidence(self, st: CooccurrenceState, ev: Event | None) -> list[str]:
        ids = [st.partner] if st.partner is not None else []
        return [*ids, ev.id] if ev is not None else ids

    def _partner(
        self, seen: list[tuple[Any, ...]], i: int, skip: tuple[float, str, str] | None
    ) -> str | None:
        """Who the in-order pass pairs ``seen[i]`` with (the latest fitting earlier
        event within the window), leaving out ``skip``; ``None`` if nobody."""
        t, _, _, is_a, is_b, value = seen[i]
        lo = bisect_left(seen, (t - self.window,))
        for want_second in (True, False):
            if not (is_a if want_second else is_b):
                continue
            for j in range(i - 1, lo - 1, -1):
                p = seen[j]
                if skip is not None and p[:3] == skip:
                    continue
                if (p[4] if want_second else p[3]) and (self.distinct is None or p[5] != value):
                    return str(p[2])
        return None

    def arrive(
        self, mem: Any, ev: Event, t: float, local_s: int, floor: float
    ) -> tuple[Any, list[Firing]]:
        """The in-order pass fires at an event that has a partner before it within
        the window; the new arrival is that partner, or that event, for itself and
        for events up to ``window`` after it that had no partner until now."""
        is_a, is_b = self.first(ev, local_s), self.second(ev, local_s)
        if not (is_a or is_b):
            return mem, []
        key = (t, ev.source, ev.id)
        value = self.distinct(ev) if self.distinct else None
        seen, start, stop = _remember(mem, (*key, is_a, is_b, value), floor, self.window)
        firings: list[Firing] = []
        for i in range(start, stop):
            partner = self._partner(seen, i, None)
            if partner is None:
                continue
            if i != start and self._partner(seen, i, key) is not None:
                continue  # it had a partner before this arrival: decided already
            c = seen[i]
            firings.append((c[0], c[1], c[2], [partner, c[2]]))
        return seen, firings

    def load_v2(self, old: Any) -> CooccurrenceState | None:
        """Version 2 kept a tuple (firsts, seconds, partner)."""
        if old is None:
            return None
        s = CooccurrenceState()
        s.firsts, s.seconds, s.partner = old
        return s


# --------------------------------------------------------------------- baseline
class BaselineConfig(TriggerConfig):
    """Compare a value with the mean of its previous ``periods`` periods (one value per
    calendar period, per ``group_by``): ``below: 0.5`` fires under half the mean,
    ``recovered: 0.8`` fires at 80 % or more. Values under ``exclude_below`` × mean are
    kept out of the baseline, so a bad month does not lower the bar it is judged by."""

    type: Literal["baseline"]
    field: str
    group_by: str | None = None
    periods: int = Field(default=3, ge=1, le=36)
    period: Literal["day", "week", "month"] = "month"
    below: float | None = Field(default=None, gt=0)
    recovered: float | None = Field(default=None, gt=0)
    exclude_below: float = Field(default=0.5, ge=0)

    @model_validator(mode="after")
    def _one_direction(self) -> BaselineConfig:
        if (self.below is None) == (self.recovered is None):
            raise ValueError("give exactly one of below (fires low) or recovered (fires back up)")
        return self

    def build(self, where: str, world: WorldValues, timezone: str) -> Baseline:
        when = self._when(where, world)
        getter(self.field, f"{where}.field")
        if self.group_by:
            getter(self.group_by, f"{where}.group_by")
        return Baseline(when, self, timezone)


class BaselineState:
    """Per group (``group_by``'s value), the values of its last periods: (period, value)."""

    __slots__ = ("history",)

    def __init__(self, history: dict[Any, list[tuple[int, float]]] | None = None) -> None:
        self.history: dict[Any, list[tuple[int, float]]] = history if history is not None else {}


class Baseline(Trigger[BaselineState]):
    def __init__(self, when: Predicate, cfg: BaselineConfig, timezone: str) -> None:
        super().__init__(when)
        self.value = getter(cfg.field, "field")
        self.group = getter(cfg.group_by, "group_by") if cfg.group_by else None
        self.cfg = cfg
        self.tz = ZoneInfo(timezone)

    def _period(self, t: float) -> int:
        local = datetime.fromtimestamp(t, self.tz)
        if self.cfg.period == "month":
            return local.year * 12 + local.month
        if self.cfg.period == "week":
            return local.toordinal() // 7
        return local.toordinal()

    def on_event(
        self, st: BaselineState | None, ev: Event, t: float, local_s: int
    ) -> tuple[BaselineState | None, bool]:
        value = self.value(ev)
        if not self.when(ev, local_s) or not isinstance(value, int | float):
            return st, False
        s = st if st is not None else BaselineState()
        group = self.group(ev) if self.group else None
        series = s.history.setdefault(group, [])
        period = self._period(t)
        before = [v for p, v in series if p < period][-self.cfg.periods :]
        fired = False
        absorb = True
        if len(before) == self.cfg.periods:
            mean = sum(before) / len(before)
            if self.cfg.below is not None:
                fired = value < self.cfg.below * mean
            else:
                fired = value >= (self.cfg.recovered or 0) * mean
            absorb = value >= self.cfg.exclude_below * mean
        if absorb:
            series[:] = [(p, v) for p, v in series if p != period][-self.cfg.periods :]
            series.append((period, float(value)))
        return s, fired

    def load_v2(self, old: Any) -> BaselineState | None:
        """Version 2 kept the dict itself."""
        return None if old is None else BaselineState(old)


# --------------------------------------------------------------------- any of
class AnyOfConfig(TriggerSpec):
    """Fires when any of its triggers fires, each keeping its own memory: "current
    above 1.2 × rated for 5 min, *or* any leakage ≥ 30 mA"."""

    type: Literal["any"]
    of: list[AnyTrigger] = Field(min_length=2)

    def build(self, where: str, world: WorldValues, timezone: str) -> AnyOf:
        parts: list[Trigger[Any]] = [
            c.build(f"{where}.of[{i}]", world, timezone) for i, c in enumerate(self.of)
        ]
        if len({p.strict for p in parts if p.has_timer}) > 1:
            raise FieldError(
                f"{where}.of", "mixes strict and non-strict timers; split the scenario"
            )
        return AnyOf(parts)


class AnyOfState:
    """Each part's own memory, and which parts fired on the last call (what
    :meth:`AnyOf.evidence`, asked right after, explains the alert with)."""

    __slots__ = ("hits", "parts")

    def __init__(self, parts: list[Any]) -> None:
        self.parts = parts
        self.hits: tuple[int, ...] = ()


class AnyOf(Trigger[AnyOfState]):
    def __init__(self, parts: list[Trigger[Any]]) -> None:
        super().__init__(lambda _ev, _t: True)
        self.parts = parts
        self.late_ok = all(p.late_ok for p in parts)
        self.early = any(p.early for p in parts)
        self.registered = any(p.registered for p in parts)
        self.has_timer = any(p.has_timer for p in parts)
        # one deadline per key: the engine needs one strictness; mixed parts are refused
        self.strict = any(p.strict for p in parts)

    def new_state(self) -> AnyOfState:
        return AnyOfState([p.new_state() for p in self.parts])

    def on_event(
        self, st: AnyOfState | None, ev: Event, t: float, local_s: int
    ) -> tuple[AnyOfState, bool]:
        s = st if st is not None else self.new_state()
        states = s.parts
        hits = []
        for i, part in enumerate(self.parts):
            states[i], hit = part.on_event(states[i], ev, t, local_s)
            if hit:
                hits.append(i)
        s.hits = tuple(hits)
        return s, bool(hits)

    def deadline(self, st: AnyOfState | None) -> float | None:
        if st is None:
            return None
        due = [
            d for p, s in zip(self.parts, st.parts, strict=True) if (d := p.deadline(s)) is not None
        ]
        return min(due) if due else None

    def on_time(self, st: AnyOfState, now: float) -> tuple[AnyOfState, bool]:
        states = st.parts
        hits = []
        for i, part in enumerate(self.parts):
            if part.deadline(states[i]) == now:
                states[i], hit = part.on_time(states[i], now)
                if hit:
                    hits.append(i)
        st.hits = tuple(hits)
        return st, bool(hits)

    def evidence(self, st: AnyOfState, ev: Event | None) -> list[str]:
        """Evidence of the parts that fired on the last call (the engine asks at once)."""
        ids: list[str] = []
        for i in st.hits:
            ids += [x for x in self.parts[i].evidence(st.parts[i], ev) if x not in ids]
        return ids

    def observe_late(self, st: AnyOfState | None, ev: Event, t: float) -> AnyOfState:
        s = st if st is not None else self.new_state()
        s.parts = [p.observe_late(x, ev, t) for p, x in zip(self.parts, s.parts, strict=True)]
        return s

    def arm(self, st: AnyOfState | None, t: float) -> AnyOfState:
        s = st if st is not None else self.new_state()
        s.parts = [p.arm(x, t) for p, x in zip(self.parts, s.parts, strict=True)]
        return s

    def arrive(
        self, mem: Any, ev: Event, t: float, local_s: int, floor: float
    ) -> tuple[Any, list[Firing]]:
        """The firings of the parts that decide on arrival (a leakage reading over
        the limit); the others (a current held high for 5 min) wait for the clock."""
        mems: list[Any] = mem if mem is not None else [None] * len(self.parts)
        firings: dict[str, Firing] = {}
        for i, part in enumerate(self.parts):
            if part.early:
                mems[i], fired = part.arrive(mems[i], ev, t, local_s, floor)
                for f in fired:
                    firings.setdefault(f[2], f)
        return mems, sorted(firings.values(), key=lambda f: f[:3])

    def load_v2(self, old: Any) -> AnyOfState | None:
        """Version 2 kept the list of the parts' memories."""
        if old is None:
            return None
        return AnyOfState([p.load_v2(x) for p, x in zip(self.parts, old, strict=True)])


# --------------------------------------------------------------------- score
class ScoreConfig(TriggerSpec):
    """The key's colour from its scenario's ``score:`` model (:mod:`.scoring`) is one
    of ``colour``: ``{type: score, colour: red}`` opens an alert when a unit turns red,
    ``{type: score, colour: [yellow, green]}`` resolves it when it is red no more.

    Fires on every scored event after which the colour is one of ``colour`` (so an
    open alert grows with each event that moves a red unit's score), and, by the
    clock, when an old term leaving the window turns the colour into one of them.
    The scenario's ``score:`` is given to the trigger when the scenario is validated
    (:meth:`attach`); a score trigger without one cannot be built."""

    type: Literal["score"]
    colour: Colour | list[Colour]
    _model: ScoreModel | None = PrivateAttr(default=None)

    def attach(self, model: ScoreModel | None) -> None:
        self._model = model

    @property
    def colours(self) -> frozenset[Colour]:
        return frozenset([self.colour] if isinstance(self.colour, Colour) else self.colour)

    def build(self, where: str, world: WorldValues, timezone: str) -> Score:
        if self._model is None:
            raise FieldError(
                f"{where}.type",
                "a score trigger needs the scenario's score: (base, window, red_below, "
                "green_above, terms)",
            )
        return Score(self._model.compile("score", world), self.colours)


class Score(Trigger[ScoreState]):
    """Keeps the key's scored events in the window (:class:`ScoreState`); decides on
    the clock (a late-arriving earlier event could change the score at any later
    event), so it is never ``early``. Its deadline is the oldest term's expiry, which
    the clock must pass: a term counts through ``window`` inclusive."""

    strict = True
    has_timer = True

    def __init__(self, score: CompiledScore, colours: frozenset[Colour]) -> None:
        super().__init__(lambda _ev, _t: True)
        self.score, self.colours = score, colours

    def new_state(self) -> ScoreState:
        return ScoreState()

    def on_event(
        self, st: ScoreState | None, ev: Event, t: float, local_s: int
    ) -> tuple[ScoreState | None, bool]:
        if st is None and self.score.score_of(ev, local_s) is None:
            return st, False  # no memory for a key nothing has scored yet
        s = st if st is not None else ScoreState()
        expired = self.score.expire(s, t, inclusive=False)
        scored = self.score.add(s, ev, t, local_s)
        before, s.colour = s.colour, self.score.colour(s)
        inside = s.colour in self.colours
        return s, inside and (scored or (expired and before not in self.colours))

    def on_time(self, st: ScoreState, now: float) -> tuple[ScoreState, bool]:
        """An old term left the window: fires only if that brought the colour into
        ``colour`` (red → yellow is no new firing for ``[yellow, red]``)."""
        self.score.expire(st, now, inclusive=True)
        before, st.colour = st.colour, self.score.colour(st)
        return st, st.colour in self.colours and before not in self.colours

    def deadline(self, st: ScoreState | None) -> float | None:
        return None if st is None else self.score.deadline(st)

    def evidence(self, st: ScoreState, ev: Event | None) -> list[str]:
        """Every event the score is made of now: together with the model they say
        why the key has its colour (:func:`cityeye.scenarios.scoring.explain`)."""
        return [e.id for e in st.entries]


# --------------------------------------------------------------------- registry
AnyTrigger = Annotated[
    ThresholdConfig
    | CountConfig
    | DurationConfig
    | AbsenceConfig
    | CooccurrenceConfig
    | BaselineConfig
    | AnyOfConfig
    | ScoreConfig,
    Field(discriminator="type"),
]
AnyOfConfig.model_rebuild()
TRIGGER_TYPES = (
    "threshold",
    "count",
    "duration",
    "absence",
    "cooccurrence",
    "baseline",
    "any",
    "score",
)
