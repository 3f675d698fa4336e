"""Raw bytes → :class:`~cityeye.domain.Event`, the one decoder every channel shares.

JSON-lines files, HTTP batches and MQTT payloads all arrive as bytes; each item either
becomes an event or a ``FieldError`` naming the field and the reason, and the rest of
the batch goes on.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson

from cityeye.domain import Event, FieldError, parse_event
from cityeye.domain.events import _GOOD_KINDS
from cityeye.native import compiled

_fast = compiled("ingest._fast")
#: The compiled yes for a plain event (``None``: the reference decides), when built.
_fast_event: Callable[[object, set[str]], Event | None] | None = (
    None if _fast is None else _fast.event_from
)

#: Largest single event accepted. Device readings are a few hundred bytes; a megabyte
#: is a misbehaving or hostile sender.
MAX_EVENT_BYTES = 1024 * 1024
#: Deepest nesting accepted inside ``attrs``.
MAX_ATTRS_DEPTH = 8


def _check_attrs(value: object, path: str, depth: int) -> None:
    """Refuse what storage cannot keep faithfully: NUL characters (PostgreSQL text
    and JSONB reject them) and pathological nesting."""
    if depth > MAX_ATTRS_DEPTH:
        raise FieldError(path, f"nests deeper than {MAX_ATTRS_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise FieldError(path, "contains a NUL character")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise FieldError(path, "has a key with a NUL character")
            _check_attrs(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_attrs(item, f"{path}[{index}]", depth + 1)


def decode_event(raw: bytes) -> Event:
    """Decode one JSON event; raises :class:`FieldError` naming the field at fault."""
    if len(raw) > MAX_EVENT_BYTES:
        raise FieldError("(event)", f"is {len(raw)} bytes; at most {MAX_EVENT_BYTES} accepted")
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FieldError("(json)", f"not valid JSON: {exc}") from None
    return decode_object(obj)


def decode_object(obj: object) -> Event:
    """An already parsed JSON value → event, checked as :func:`decode_event` checks it
    (for a channel that had to parse the payload anyway: MQTT's topic map)."""
    event = None if _fast_event is None else _fast_event(obj, _GOOD_KINDS)
    if event is None:
        event = parse_event(obj)
    if event.attrs:  # {} has nothing to check
        _check_attrs(event.attrs, "attrs", 1)
    return event


def shorten(raw: bytes, limit: int = 4096) -> str:
    """Raw bytes as text for a dead letter, cut to ``limit`` characters."""
    text = raw.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + f"… ({len(raw)} bytes)"
