"""MQTT topic → event: which topics carry what, and how one payload becomes an event.

A map file (``cityeye serve --mqtt-map FILE``) is a list of rules, tried in order; the
first whose ``topic`` filter matches a message's topic reads it::

    rules:
      - topic: cityeye/events/#          # full cityeye JSON events (the default)
      - topic: sensors/+/door            # a bare "1" from a door contact
        format: value
        kind: door.open
        device: "{1}"                    # topic level 1: sensors/<this>/door
      - topic: frigate/events            # Frigate NVR detections
        format: frigate
        min_score: 0.7
        labels: {car: illegal_parking}

Formats:

``cityeye``
    the payload is a cityeye event object. What the payload lacks the rule fills in:
    ``kind``, ``device_id`` and ``source`` from the rule's templates, ``id`` from a hash
    of the topic and the payload (stable, so a redelivery is a duplicate), and with
    ``ts_from: arrival`` the time of arrival for a payload without ``ts``.
``value``
    the payload is a bare reading (``21.5``, ``1``, ``on``): it becomes
    ``attrs.<attr>`` (``attrs.value`` by default) of an event of the rule's ``kind``,
    at the time of arrival.
``frigate``
    a Frigate ``frigate/events`` message; see :mod:`cityeye.ingest.frigate`.

Templates (``kind``, ``device``, ``source``) take ``{n}``, level ``n`` of the topic
counting from 0 (``sensors/+/door`` → ``{1}`` is what ``+`` matched), and for Frigate
also ``{camera}``.

Every format ends in the same decoder as HTTP and files
(:func:`~cityeye.ingest.decode.decode_event`), so an MQTT event is validated exactly
as any other; a payload that cannot become an event raises :class:`FieldError`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cityeye.domain import Event, FieldError
from cityeye.domain.events import KIND_RE, MAX_TEXT
from cityeye.errors import ProblemsError
from cityeye.ingest.decode import MAX_EVENT_BYTES, decode_event, decode_object
from cityeye.sourcefile import DataPath, Problem, SourceDoc, SourceError, read_source

#: What ``cityeye serve --mqtt`` subscribes to when given no topic and no map.
DEFAULT_TOPIC = "cityeye/events/#"
#: Source of events built from a payload that names none.
MQTT_SOURCE = "mqtt"

Format = Literal["cityeye", "frigate", "value"]
#: Rule fields that only mean something for one format.
_FRIGATE_ONLY = ("min_score", "labels", "labels_only", "snapshot_base", "cleared")
_ONLY = {
    **dict.fromkeys(_FRIGATE_ONLY, "frigate"),
    "attr": "value",
    "ts_from": "cityeye",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class TopicRule(BaseModel):
    """One rule of a map file."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    topic: str = Field(min_length=1, max_length=1024)
    format: Format = "cityeye"
    kind: str | None = Field(default=None, min_length=1)
    device: str | None = Field(default=None, min_length=1)
    source: str | None = Field(default=None, min_length=1)
    #: value: the attribute the reading goes into
    attr: str = "value"
    #: cityeye: ``arrival`` fills a missing ``ts`` with the arrival time
    ts_from: Literal["payload", "arrival"] = "payload"
    #: frigate: detections scoring below this are dropped (counted, not dead-lettered)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)
    #: frigate: Frigate label → cityeye label (``car: illegal_parking``)
    labels: dict[str, str] = Field(default_factory=dict)
    #: frigate: drop labels not named in ``labels``
    labels_only: bool = False
    #: frigate: base URL of the Frigate web UI/API, for ``attrs.snapshot_url``
    snapshot_base: str | None = None
    #: frigate: an ``end`` message becomes ``camera.cleared``
    cleared: bool = True

    def levels(self) -> list[str]:
        return self.topic.split("/")


class MqttMapError(ProblemsError):
    """A map file (or ``--mqtt-topic``) has problems; ``problems`` lists every one,
    with its line in the file (a :class:`~cityeye.errors.ProblemsError`)."""


# ---------------------------------------------------------------------- topics
def topic_filter_problem(topic: str) -> str | None:
    """Why ``topic`` is not a valid MQTT subscription filter, or ``None``."""
    if "\x00" in topic:
        return "contains a NUL character"
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return "'#' must be a whole level and the last one (a/b/#)"
        if "+" in level and level != "+":
            return "'+' must be a whole level (a/+/c)"
    return None


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches the subscription filter (``+`` one level, ``#`` the
    rest); as in MQTT, wildcards at the start do not match ``$SYS``-style topics."""
    if topic.startswith("$") and topic_filter[:1] in ("+", "#"):
        return False
    want = topic_filter.split("/")
    have = topic.split("/")
    for index, part in enumerate(want):
        if part == "#":
            return True
        if index >= len(have):
            return False
        if part != "+" and part != have[index]:
            return False
    return len(want) == len(have)


def render(template: str, levels: Sequence[str], names: Mapping[str, str] | None = None) -> str:
    """Fill ``{n}`` with topic level ``n`` and ``{name}`` from ``names``."""

    def one(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.isdigit():
            n = int(key)
            if n >= len(levels):
                raise FieldError(
                    "(topic)", f"{'/'.join(levels)!r} has no level {n} for template {template!r}"
                )
            return levels[n]
        if names is not None and key in names:
            return names[key]
        raise FieldError("(topic)", f"template {template!r} names unknown {{{key}}}")

    return _PLACEHOLDER.sub(one, template)


def _template_problem(template: str, rule: TopicRule, names: Iterable[str]) -> str | None:
    allowed = set(names)
    levels = rule.levels()
    open_ended = levels[-1] == "#"
    for key in _PLACEHOLDER.findall(template):
        if key.isdigit():
            if not open_ended and int(key) >= len(levels):
                return f"{{{key}}}: topic {rule.topic!r} has only levels 0..{len(levels) - 1}"
        elif key not in allowed:
            extra = f" or {{{', '.join(sorted(allowed))}}}" if allowed else ""
            return f"{{{key}}} is not a placeholder; use {{n}} (a topic level){extra}"
    if "{" in _PLACEHOLDER.sub("", template) or "}" in _PLACEHOLDER.sub("", template):
        return "has an unmatched { or }"
    return None


# ---------------------------------------------------------------------- the map
@dataclass(frozen=True, slots=True)
class MqttMap:
    """Rules in order; a topic no rule matches is read as a full cityeye event."""

    rules: tuple[TopicRule, ...] = ()

    def rule_for(self, topic: str) -> TopicRule:
        for rule in self.rules:
            if topic_matches(rule.topic, topic):
                return rule
        return _FALLBACK

    def topics(self) -> list[str]:
        return list(dict.fromkeys(r.topic for r in self.rules))


_FALLBACK = TopicRule(topic="#")


def check_rules(rules: Iterable[tuple[int, TopicRule]]) -> list[tuple[DataPath, str]]:
    """What pydantic cannot see: filters, templates, fields of another format; each
    problem as (where in the file, why)."""
    problems: list[tuple[DataPath, str]] = []
    for index, rule in rules:
        at: DataPath = ("rules", index)
        why = topic_filter_problem(rule.topic)
        if why:
            problems.append(((*at, "topic"), why))
            continue
        for name, fmt in _ONLY.items():
            if name in rule.model_fields_set and rule.format != fmt:
                problems.append(((*at, name), f"applies only to format {fmt}"))
        if rule.format == "frigate" and rule.kind is not None:
            problems.append(
                ((*at, "kind"), "format frigate makes camera.detection / camera.cleared")
            )
        if rule.format == "value" and rule.kind is None:
            problems.append(((*at, "kind"), "is required for format value (e.g. door.open)"))
        if rule.format == "value" and not _ATTR_RE.match(rule.attr):
            problems.append(((*at, "attr"), "must be a name such as value or cm"))
        if rule.snapshot_base is not None and not rule.snapshot_base.startswith(
            ("http://", "https://")
        ):
            problems.append(((*at, "snapshot_base"), "must be an http:// or https:// URL"))
        names = ("camera",) if rule.format == "frigate" else ()
        for field in ("kind", "device", "source"):
            template = getattr(rule, field)
            if template is None:
                continue
            why = _template_problem(template, rule, names)
            if why:
                problems.append(((*at, field), why))
            elif field == "kind" and "{" not in template and not KIND_RE.match(template):
                problems.append(
                    ((*at, "kind"), f"{template!r} must be dotted lower-case words, e.g. door.open")
                )
    return problems


def parse_mqtt_map(
    data: object, source: str = "map", lines: Mapping[DataPath, int] | None = None
) -> MqttMap:
    """Validate a decoded map file; raises :class:`MqttMapError` naming every field at
    fault (all rules are checked, not only up to the first problem), each on its line
    when ``lines`` (from :func:`~cityeye.sourcefile.read_source`) has it."""
    if not isinstance(data, dict):
        raise MqttMapError(source, [Problem("(file)", "must be a mapping with rules: (a list)")])
    doc = SourceDoc(data, dict(lines or {}), source=source)
    problems = [
        doc.problem((str(key),), "is not a section; expected only rules:")
        for key in data
        if key != "rules"
    ]
    raw = data.get("rules")
    if not isinstance(raw, list) or not raw:
        problems.append(doc.problem(("rules",), "must be a non-empty list of rules"))
        raise MqttMapError(source, problems)
    rules: list[tuple[int, TopicRule]] = []
    for index, item in enumerate(raw):
        try:
            rules.append((index, TopicRule.model_validate(item)))
        except ValidationError as exc:
            for err in exc.errors():
                message = err["msg"]
                if err["type"] == "extra_forbidden":
                    message = "is not a rule field"
                elif err["type"] == "model_type":
                    message = "must be a mapping (topic: …, format: …)"
                elif err["type"] == "literal_error":
                    message += f" (got {err['input']!r})"
                problems.append(doc.problem(("rules", index, *err["loc"]), message))
    problems += [doc.problem(at, why) for at, why in check_rules(rules)]
    if problems:
        problems.sort(key=lambda p: p.line or 0)  # in the file's order, as a person reads
        raise MqttMapError(source, problems)
    return MqttMap(tuple(rule for _, rule in rules))


def load_mqtt_map(path: str | Path) -> MqttMap:
    """Read and validate a YAML map file; :class:`MqttMapError` names every problem
    as ``file:line: field: reason``."""
    path = Path(path)
    try:
        doc = read_source(path)
    except SourceError as exc:
        raise MqttMapError(exc.source, exc.problems) from None
    try:
        mapping = parse_mqtt_map(doc.data, doc.source, doc.lines)
    except MqttMapError as exc:
        raise MqttMapError(doc.source, [*doc.problems, *exc.problems]) from None
    if doc.problems:  # a key twice in one mapping: which one counts is not clear
        raise MqttMapError(doc.source, doc.problems)
    return mapping


def default_map(topics: Iterable[str] = (), mapping: MqttMap | None = None) -> MqttMap:
    """The map for ``--mqtt-topic`` options beside an optional map file: each extra topic
    carries full cityeye events."""
    rules = list(mapping.rules) if mapping else []
    known = {r.topic for r in rules}
    extra = [t for t in dict.fromkeys(topics) if t not in known]
    if not rules and not extra:
        extra = [DEFAULT_TOPIC]
    problems = [
        Problem(f"--mqtt-topic {t}", why) for t in extra if (why := topic_filter_problem(t))
    ]
    if problems:
        raise MqttMapError("--mqtt-topic", problems)
    return MqttMap((*rules, *(TopicRule(topic=t) for t in extra)))


# ---------------------------------------------------------------------- payloads
@dataclass(frozen=True, slots=True)
class Mapped:
    """An event, or the reason a well-formed message made none (a Frigate update
    that changed nothing, a score below ``min_score``)."""

    event: Event | None
    dropped: str | None = None


def message_id(topic: str, payload: bytes, arrival: datetime | None = None) -> str:
    """``mqtt:{topic}:{hash}`` for a payload without an id. Without ``arrival`` it is
    stable (a redelivery is a duplicate); with it, equal payloads at different times
    (a door contact sending ``1`` each time) stay distinct events."""
    digest = hashlib.sha1(topic.encode() + b"\x00" + payload, usedforsecurity=False)
    if arrival is not None:
        digest.update(b"\x00" + arrival.isoformat().encode())
    tail = digest.hexdigest()[:16]
    out = f"mqtt:{topic}:{tail}"
    if len(out) > MAX_TEXT or not out.isprintable():
        short = hashlib.sha1(topic.encode(), usedforsecurity=False).hexdigest()[:16]
        out = f"mqtt:{short}:{tail}"
    return out


def _loads(payload: bytes) -> Any:
    if len(payload) > MAX_EVENT_BYTES:
        raise FieldError("(event)", f"is {len(payload)} bytes; at most {MAX_EVENT_BYTES} accepted")
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise FieldError("(json)", f"not valid JSON: {exc}") from None


def _finish(obj: dict[str, Any]) -> Event:
    """Through the shared decoder, so every channel validates alike (the object as
    parsed, not serialised and parsed again: a third of the map's time at 20,000
    messages/s)."""
    return decode_object(obj)


def _cityeye(rule: TopicRule, topic: str, payload: bytes, arrival: datetime) -> Event:
    obj = _loads(payload)
    if not isinstance(obj, dict):
        return decode_event(payload)  # the decoder's own words for a non-object
    levels = topic.split("/")
    for field, template in (
        ("kind", rule.kind),
        ("device_id", rule.device),
        ("source", rule.source),
    ):
        if template is not None and obj.get(field) is None:
            obj[field] = render(template, levels)
    stamped = False
    if obj.get("ts") is None and rule.ts_from == "arrival":
        obj["ts"] = arrival.isoformat()
        stamped = True
    if obj.get("id") is None:
        obj["id"] = message_id(topic, payload, arrival if stamped else None)
    return _finish(obj)  # parsed once, filled in or not


def parse_value(payload: bytes) -> bool | int | float | str:
    """A bare reading: a JSON number, boolean or string, or a short word (``on``)."""
    if len(payload) > MAX_TEXT * 4:
        raise FieldError("(payload)", f"is {len(payload)} bytes; format value takes a reading")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise FieldError("(payload)", "is not UTF-8 text") from None
    if not text:
        raise FieldError("(payload)", "is empty; format value expects a number or a word")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = text
    if isinstance(value, dict | list) or value is None:
        what = "null" if value is None else type(value).__name__
        raise FieldError(
            "(payload)",
            f"format value expects a bare number or word, got JSON {what}; "
            "use format cityeye for JSON events",
        )
    if isinstance(value, str) and (len(value) > MAX_TEXT or not value.isprintable()):
        raise FieldError("(payload)", "is not a number or a short printable word")
    return value  # type: ignore[no-any-return]


def _value(rule: TopicRule, topic: str, payload: bytes, arrival: datetime) -> Event:
    value = parse_value(payload)
    levels = topic.split("/")
    assert rule.kind is not None  # check_rules requires it
    obj: dict[str, Any] = {
        "id": message_id(topic, payload, arrival),
        "kind": render(rule.kind, levels),
        "ts": arrival.isoformat(),
        "source": render(rule.source, levels) if rule.source else MQTT_SOURCE,
        "attrs": {rule.attr: value},
    }
    if rule.device is not None:
        obj["device_id"] = render(rule.device, levels)
    return _finish(obj)


def map_message(mapping: MqttMap, topic: str, payload: bytes, arrival: datetime) -> Mapped:
    """One MQTT message → :class:`Mapped`; raises :class:`FieldError` for a payload
    that cannot become an event (it belongs in the dead letters)."""
    rule = mapping.rule_for(topic)
    if rule.format == "value":
        return Mapped(_value(rule, topic, payload, arrival))
    if rule.format == "frigate":
        from cityeye.ingest.frigate import frigate_event

        obj, dropped = frigate_event(_loads(payload), rule, topic.split("/"))
        return Mapped(None if obj is None else _finish(obj), dropped)
    return Mapped(_cityeye(rule, topic, payload, arrival))
