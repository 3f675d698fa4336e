"""Frigate NVR → ``camera.detection`` / ``camera.cleared``.

Camera AI boxes running `Frigate <https://frigate.video>`_ publish every tracked object
on ``frigate/events`` as ``{"type": "new"|"update"|"end", "before": {...}, "after":
{...}}``, where ``after`` carries ``id``, ``camera``, ``label``, ``sub_label``,
``top_score``, ``score``, ``current_zones``, ``start_time``, ``end_time``,
``has_snapshot`` and ``false_positive``.

Frigate sends an ``update`` many times a second while an object moves; the scenarios
want one detection per thing seen, so (a choice, kept simple and stateless by reading
``before`` beside ``after``):

* ``new`` → one ``camera.detection``, id = the Frigate id;
* ``update`` → a further ``camera.detection`` only when the object's label changed, it
  entered a zone it was not in, or its score rose past ``min_score`` (the ``new`` was
  dropped as too weak); id = ``{frigate id}:{label}:{zone}``, so a repeat is a
  duplicate. Every other update is dropped (counted);
* ``end`` → ``camera.cleared`` (id ``{frigate id}:end``), because the catalogue's camera
  scenarios (illegal parking, blocked fire lane, exposed garbage) resolve only on it;
  ``cleared: false`` in the rule turns this off.

Attributes follow the catalogue (``kinds.py``: ``label``, ``score``, ``plate``):
``label`` (renamed through the rule's ``labels`` table, e.g. ``car: illegal_parking``;
the Frigate label is kept as ``frigate_label`` when renamed), ``score`` (``top_score``),
``zone`` (the first current zone, or null), ``camera``, ``plate`` (Frigate's
``recognized_license_plate``), ``sub_label``, and ``snapshot_url``
(``{snapshot_base}/api/events/{id}/snapshot.jpg``) when Frigate kept a snapshot and the
rule names ``snapshot_base``. Objects Frigate marks ``false_positive``, scores below
``min_score`` and (with ``labels_only``) labels not in the table are dropped, counted,
never dead-lettered: they are Frigate working as meant, not bad input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cityeye.domain import FieldError
from cityeye.ingest.mqtt_map import render

if TYPE_CHECKING:
    from cityeye.ingest.mqtt_map import TopicRule

SOURCE = "frigate"
TYPES = ("new", "update", "end")


def _text(obj: dict[str, Any], name: str, at: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip():
        got = "missing" if value is None else f"a {type(value).__name__}"
        raise FieldError(f"{at}.{name}", f"must be a non-empty string, got {got}")
    return value


def _number(obj: dict[str, Any], name: str, at: str) -> float | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FieldError(f"{at}.{name}", f"must be a number, got {value!r}"[:120])
    return float(value)


def _score(obj: dict[str, Any], at: str) -> float:
    top = _number(obj, "top_score", at)
    return top if top is not None else (_number(obj, "score", at) or 0.0)


def _zone(obj: dict[str, Any], at: str) -> str | None:
    zones = obj.get("current_zones")
    if zones is None or zones == []:
        return None
    if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
        raise FieldError(f"{at}.current_zones", "must be a list of zone names")
    return str(zones[0])


def _time(obj: dict[str, Any], name: str, at: str) -> str:
    seconds = _number(obj, name, at)
    if seconds is None:
        raise FieldError(f"{at}.{name}", "is required (seconds since 1970)")
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        raise FieldError(f"{at}.{name}", f"{seconds!r} is not a time") from None


def _sub_label(obj: dict[str, Any]) -> str | None:
    """``sub_label`` is a string in older Frigate, ``[name, score]`` in newer."""
    value = obj.get("sub_label")
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, str) and value else None


def frigate_event(
    obj: object, rule: TopicRule, levels: Sequence[str]
) -> tuple[dict[str, Any] | None, str | None]:
    """A decoded Frigate message → ``(event JSON, None)``, or ``(None, why dropped)``.

    Raises :class:`FieldError` naming the field for a message that is not a Frigate
    event (it belongs in the dead letters)."""
    if not isinstance(obj, dict):
        raise FieldError("(event)", f"a Frigate event is a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if kind not in TYPES:
        raise FieldError("type", f"must be new, update or end, got {kind!r}"[:120])
    after = obj.get("after")
    if not isinstance(after, dict):
        raise FieldError("after", "must be a JSON object (the tracked object)")
    before = obj.get("before")
    if before is not None and not isinstance(before, dict):
        raise FieldError("before", "must be a JSON object or null")

    frigate_id = _text(after, "id", "after")
    camera = _text(after, "camera", "after")
    label = _text(after, "label", "after")
    score = _score(after, "after")
    zone = _zone(after, "after")
    start = _time(after, "start_time", "after")

    if after.get("false_positive") is True:
        return None, "false positive"
    if score < rule.min_score:
        return None, f"score {score:g} below min_score {rule.min_score:g}"
    if rule.labels_only and label not in rule.labels:
        return None, f"label {label!r} not in labels"
    name = rule.labels.get(label, label)

    if kind == "new":
        event_id, event_kind, ts = frigate_id, "camera.detection", start
    elif kind == "update":
        if before is not None:
            was_zone = _zone(before, "before")
            changed = (
                before.get("label") != label
                or (zone is not None and zone != was_zone)
                or _score(before, "before") < rule.min_score
            )
            if not changed:
                return None, "update with no new label, zone or score"
        event_id = f"{frigate_id}:{name}:{zone or '-'}"
        event_kind = "camera.detection"
        ts = _time(after, "frame_time", "after") if after.get("frame_time") else start
    else:
        if not rule.cleared:
            return None, "end (cleared: false)"
        event_id, event_kind = f"{frigate_id}:end", "camera.cleared"
        ts = _time(after, "end_time", "after") if after.get("end_time") is not None else start

    attrs: dict[str, Any] = {"label": name, "score": score, "zone": zone, "camera": camera}
    if name != label:
        attrs["frigate_label"] = label
    plate = after.get("recognized_license_plate")
    if isinstance(plate, str) and plate:
        attrs["plate"] = plate
    sub_label = _sub_label(after)
    if sub_label is not None:
        attrs["sub_label"] = sub_label
    if after.get("has_snapshot") is True and rule.snapshot_base:
        base = rule.snapshot_base.rstrip("/")
        attrs["snapshot_url"] = f"{base}/api/events/{quote(frigate_id, safe='')}/snapshot.jpg"
    names = {"camera": camera}
    return {
        "id": event_id,
        "kind": event_kind,
        "ts": ts,
        "source": render(rule.source, levels, names) if rule.source else SOURCE,
        "device_id": render(rule.device, levels, names) if rule.device else camera,
        "attrs": attrs,
    }, None
