"""Conditions: which events a scenario (or one of its triggers) cares about.

A condition is data, not code — a mapping from an event field to a test::

    {kind: smoke.alarm}                                   # equality shorthand
    {attrs.level: {gte: 90}}
    {attrs.count: {gte: 20}, attrs.elderly_ratio: {gte: 0.6}}     # all must hold
    {attrs.current_a: {gt: {ref: attrs.rated_a, times: 1.2}}}     # compare two fields
    {attrs.new_district: {ne: $district}}                # a world value
    {attrs.count: {gte: {ref: venue.area_m2, times: 0.5}}}     # the venue's area, from the world
    {time: {outside: ["07:00-09:00", "18:00-20:00"]}}     # local clock windows
    {any: [{...}, {...}]}, {not: {...}}, {expr: 'attrs.level > 90'}   # CEL escape hatch
    {fence: outside}                  # the position against its subject's fence (world)

Structured conditions are compiled once into plain Python closures: the engine checks
hundreds of thousands of events a second and a closure costs a fraction of a
microsecond, where an interpreted expression (CEL, measured at ~10 µs) would cost more
than all the rest of the engine together. ``expr`` (Google's Common Expression
Language, a safe, non-Turing-complete language with a maintained implementation) is
there for what the structure cannot say; nothing is ever passed to Python's ``eval``.

A missing field never matches (except under ``exists: false``): a reading without
``attrs.level`` is not "below 50".
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cityeye.domain import Event, FieldError, World

#: Test on one event; ``local_s`` is the event's local time of day in seconds.
Predicate = Callable[[Event, int], bool]

_MISSING = object()
#: Exact types that count as numbers in comparisons (bool is not a number here).
_NUMBER = frozenset({int, float})
_FIELDS = ("id", "kind", "source", "device_id", "subject", "area")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
_WINDOW_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def _no_area(_ev: Event) -> float | None:
    return None


@dataclass(frozen=True, slots=True)
class WorldValues:
    """What a condition may read from the world: ``$district``, the floor area of the
    event's venue (``venue.area_m2``: ``attrs.venue``, else the device's venue), and
    the subjects' fences (``{fence: outside}``)."""

    district: str
    venue_area: Callable[[Event], float | None] = _no_area
    #: The world, for conditions that look something up in it (``fence``); ``None``
    #: when a scenario file is only validated.
    world: World | None = None


#: Fields of the event's venue in the world that a condition may name.
VENUE_FIELDS = ("venue.area_m2",)


def world_getter(path: str, where: str, world: WorldValues) -> Callable[[Event], Any]:
    """:func:`getter`, plus ``venue.area_m2`` looked up in the world (missing when the
    event has no venue or the venue no area), so a crowd scenario reads density as
    ``{attrs.count: {gte: {ref: venue.area_m2, times: 0.5}}}``."""
    if path.startswith("venue."):
        if path not in VENUE_FIELDS:
            known = ", ".join(VENUE_FIELDS)
            raise FieldError(where, f"unknown venue field {path!r}; known: {known}")
        area = world.venue_area

        def venue_area(ev: Event) -> Any:
            value = area(ev)
            return _MISSING if value is None else value

        return venue_area
    return getter(path, where)


def getter(path: str, where: str) -> Callable[[Event], Any]:
    """A fast accessor for ``kind``, ``device_id`` … or ``attrs.a.b``."""
    if path in _FIELDS:
        return operator.attrgetter(path)
    if path.startswith("attrs.") and len(path) > 6:
        parts = path[6:].split(".")
        if len(parts) == 1:
            name = parts[0]
            return lambda ev: ev.attrs.get(name, _MISSING)

        def nested(ev: Event) -> Any:
            value: Any = ev.attrs
            for part in parts:
                if not isinstance(value, dict):
                    return _MISSING
                value = value.get(part, _MISSING)
            return value

        return nested
    raise FieldError(
        where, f"unknown field {path!r}; use one of {', '.join(_FIELDS)}, time or attrs.<name>"
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _operand(raw: Any, where: str, world: WorldValues) -> tuple[bool, Any]:
    """``(is_dynamic, value_or_getter)``: a literal, ``$district``, or ``{ref, times}``."""
    if isinstance(raw, str) and raw.startswith("$"):
        if raw == "$district":
            return False, world.district
        raise FieldError(where, f"unknown world value {raw!r}; known: $district")
    if isinstance(raw, Mapping):
        if set(raw) - {"ref", "times", "plus"} or "ref" not in raw:
            raise FieldError(where, "a computed operand is {ref: FIELD, times: N, plus: N}")
        get = world_getter(str(raw["ref"]), f"{where}.ref", world)
        times, plus = raw.get("times", 1), raw.get("plus", 0)
        if not _is_number(times) or not _is_number(plus):
            raise FieldError(where, "times and plus must be numbers")

        def computed(ev: Event) -> Any:
            value = get(ev)
            return value * times + plus if type(value) in _NUMBER else _MISSING

        return True, computed
    return False, raw


def _compare(
    get: Callable[[Event], Any], op: str, raw: Any, where: str, w: WorldValues
) -> Predicate:
    fn = _OPS[op]
    dynamic, operand = _operand(raw, where, w)
    numeric = op in ("gt", "gte", "lt", "lte")
    if numeric and not dynamic and not _is_number(operand):
        raise FieldError(where, f"{op} needs a number, got {operand!r}")
    if dynamic:
        other: Callable[[Event], Any] = operand

        def dyn(ev: Event, _t: int) -> bool:
            value, right = get(ev), other(ev)
            if value is _MISSING or right is _MISSING:
                return False
            if numeric and not (type(value) in _NUMBER and type(right) in _NUMBER):
                return False
            return bool(fn(value, right))

        return dyn
    if numeric:

        def num(ev: Event, _t: int) -> bool:
            value = get(ev)
            return type(value) in _NUMBER and bool(fn(value, operand))

        return num
    if op == "eq":
        return lambda ev, _t: bool(get(ev) == operand)
    return lambda ev, _t: (v := get(ev)) is not _MISSING and bool(v != operand)


def parse_window(text: Any, where: str) -> tuple[int, int]:
    """``"22:00-06:00"`` → (start, end) seconds of the day; may wrap past midnight."""
    match = _WINDOW_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise FieldError(where, f'{text!r} is not a window like "07:00-09:00" or "22:00-06:00"')
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if start == end % 86400:
        raise FieldError(where, f"{text!r} is empty or the whole day")
    return start, end % 86400


def in_windows(windows: list[tuple[int, int]], local_s: int) -> bool:
    """Start inclusive, end exclusive; a window whose end is before its start wraps."""
    for start, end in windows:
        if start < end:
            if start <= local_s < end:
                return True
        elif local_s >= start or local_s < end:
            return True
    return False


def _time(spec: Any, where: str) -> Predicate:
    if (
        not isinstance(spec, Mapping)
        or len(spec) != 1
        or next(iter(spec))
        not in (
            "within",
            "outside",
        )
    ):
        raise FieldError(where, "time takes {within: [windows]} or {outside: [windows]}")
    ((mode, raw),) = spec.items()
    items = raw if isinstance(raw, list) else [raw]
    windows = [parse_window(w, f"{where}.{mode}[{i}]") for i, w in enumerate(items)]
    if mode == "within":
        return lambda _ev, t: in_windows(windows, t)
    return lambda _ev, t: not in_windows(windows, t)


def _field_test(path: str, test: Any, where: str, w: WorldValues) -> Predicate:
    if path == "time":
        return _time(test, where)
    get = world_getter(path, where, w)
    if not isinstance(test, Mapping):
        return _compare(get, "eq", test, where, w)
    preds: list[Predicate] = []
    for op, raw in test.items():
        sub = f"{where}.{op}"
        if op in _OPS:
            preds.append(_compare(get, op, raw, sub, w))
        elif op in ("in", "not_in"):
            if not isinstance(raw, list):
                raise FieldError(sub, "needs a list")
            preds.append(_membership(get, frozenset(raw), op == "in"))
        elif op == "exists":
            if not isinstance(raw, bool):
                raise FieldError(sub, "needs true or false")
            preds.append(_exists(get, raw))
        else:
            raise FieldError(
                sub, f"unknown test {op!r}; use eq, ne, gt, gte, lt, lte, in, not_in or exists"
            )
    return _all(preds)


def _membership(get: Callable[[Event], Any], values: frozenset[Any], inside: bool) -> Predicate:
    if inside:
        return lambda ev, _t: get(ev) in values
    return lambda ev, _t: (x := get(ev)) is not _MISSING and x not in values


def _exists(get: Callable[[Event], Any], want: bool) -> Predicate:
    return lambda ev, _t: (get(ev) is not _MISSING) == want


def _any(parts: list[Predicate]) -> Predicate:
    return lambda ev, t: any(p(ev, t) for p in parts)


def _not(inner: Predicate) -> Predicate:
    return lambda ev, t: not inner(ev, t)


def _all(preds: list[Predicate]) -> Predicate:
    if not preds:
        return lambda _ev, _t: True
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda ev, t: a(ev, t) and b(ev, t)
    return lambda ev, t: all(p(ev, t) for p in preds)


def _expr(source: Any, where: str) -> Predicate:
    import cel  # imported lazily: most catalogues never need it

    if not isinstance(source, str):
        raise FieldError(where, "expr must be a CEL expression string")
    try:
        program = cel.compile(source)
    except ValueError as exc:
        raise FieldError(where, f"CEL: {str(exc).splitlines()[0]}") from None

    def run(ev: Event, local_s: int) -> bool:
        ctx = {
            "kind": ev.kind,
            "source": ev.source,
            "device_id": ev.device_id,
            "subject": ev.subject,
            "area": ev.area,
            "attrs": ev.attrs,
            "local_s": local_s,
        }
        try:
            return program.execute(ctx) is True
        except (ValueError, TypeError, RuntimeError):
            return False  # a reading without the field does not match

    return run


def compile_condition(spec: Any, where: str, world: WorldValues) -> Predicate:
    """Compile a condition; raises :class:`FieldError` naming the place at fault."""
    if spec is None:
        return lambda _ev, _t: True
    if not isinstance(spec, Mapping):
        raise FieldError(where, "a condition is a mapping such as {attrs.level: {gte: 90}}")
    preds: list[Predicate] = []
    for key, value in spec.items():
        sub = f"{where}.{key}"
        if key in ("any", "all"):
            if not isinstance(value, list) or not value:
                raise FieldError(sub, f"{key} needs a non-empty list of conditions")
            parts = [compile_condition(c, f"{sub}[{i}]", world) for i, c in enumerate(value)]
            if key == "all":
                preds.append(_all(parts))
            else:
                preds.append(_any(parts))
        elif key == "not":
            inner = compile_condition(value, sub, world)
            preds.append(_not(inner))
        elif key == "expr":
            preds.append(_expr(value, sub))
        elif key == "fence":
            from cityeye.scenarios.geofence import fence_condition  # shapely, lazily

            preds.append(fence_condition(value, sub, world.world))
        else:
            preds.append(_field_test(str(key), value, sub, world))
    return _all(preds)
