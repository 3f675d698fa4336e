"""Event parsing: what an integrator sees when a device sends something wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityeye.domain import Event, FieldError, parse_event
from cityeye.ingest import MAX_EVENT_BYTES, decode_event


def good(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "e1",
        "kind": "door.open",
        "ts": "2026-10-01T08:30:00+08:00",
        "source": "iot-gw-1",
        "device_id": "D1",
        "attrs": {"method": "card"},
    }
    event.update(changes)
    return {k: v for k, v in event.items() if v is not None}


def test_valid_event_keeps_its_offset_and_fields() -> None:
    event = parse_event(good())
    assert event.ts == datetime(2026, 10, 1, 0, 30, tzinfo=UTC)
    assert event.ts.utcoffset() == timedelta(hours=8)
    assert (event.id, event.kind, event.source, event.device_id) == (
        "e1",
        "door.open",
        "iot-gw-1",
        "D1",
    )
    assert event.attrs == {"method": "card"}


def test_numeric_id_is_accepted_as_text() -> None:
    assert parse_event(good(id=12345)).id == "12345"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"id": None}, "id", "required"),
        ({"id": ""}, "id", "empty"),
        ({"id": "x" * 200}, "id", "at most"),
        ({"id": "a\nb"}, "id", "control"),
        ({"kind": "Door Open"}, "kind", "dotted"),
        ({"kind": "door"}, "kind", "dotted"),
        ({"ts": "2026-10-01T08:30:00"}, "ts", "no UTC offset"),
        ({"ts": "yesterday"}, "ts", "not ISO-8601"),
        ({"ts": 1759278600}, "ts", "ISO-8601 string"),
        ({"ts": "1970-01-01T00:00:00Z"}, "ts", "device clock"),
        ({"source": None}, "source", "required"),
        ({"lat": 30.1}, "lon", "together"),
        ({"lat": 91, "lon": 120}, "lat", "outside"),
        ({"lat": True, "lon": 120}, "lat", "number"),
        ({"attrs": [1, 2]}, "attrs", "JSON object"),
        ({"celsius": 60}, "celsius", "attrs"),
    ],
)
def test_bad_field_is_named_with_a_reason(changes: dict[str, Any], field: str, words: str) -> None:
    obj = good()
    obj.update(changes)
    obj = {k: v for k, v in obj.items() if v is not None}
    with pytest.raises(FieldError) as info:
        parse_event(obj)
    assert info.value.field == field
    assert words in info.value.reason


def test_unknown_kind_is_not_an_error() -> None:
    assert parse_event(good(kind="drone.sighting")).kind == "drone.sighting"


def test_not_an_object() -> None:
    with pytest.raises(FieldError, match="JSON object"):
        parse_event([1, 2, 3])


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{not json", "(json)"),
        (orjson.dumps(good(attrs={"text": "a\x00b"})), "attrs.text"),
        (
            orjson.dumps(good(attrs={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}})),
            "attrs.a.b.c.d.e.f.g.h",
        ),
        (b" " * (MAX_EVENT_BYTES + 1), "(event)"),
    ],
)
def test_decoder_refuses_hostile_input(raw: bytes, field: str) -> None:
    with pytest.raises(FieldError) as info:
        decode_event(raw)
    assert info.value.field == field


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
).filter(str.strip)
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


@given(
    event_id=texts,
    kind=st.from_regex(r"\A[a-z][a-z0-9_]{0,8}(\.[a-z][a-z0-9_]{0,8}){1,2}\Z"),
    ts=st.datetimes(
        min_value=datetime(2001, 1, 1), max_value=datetime(2099, 1, 1), timezones=offsets
    ),
    source=texts,
    area=st.none() | texts,
    point=st.none()
    | st.tuples(st.floats(-90, 90, allow_nan=False), st.floats(-180, 180, allow_nan=False)),
    attrs=st.dictionaries(
        st.text(max_size=10), st.integers(-(2**63), 2**63 - 1) | st.text(max_size=10), max_size=4
    ),
)
def test_json_round_trip(
    event_id: str,
    kind: str,
    ts: datetime,
    source: str,
    area: str | None,
    point: tuple[float, float] | None,
    attrs: dict[str, Any],
) -> None:
    """Whatever parses, serialises back to JSON that parses to the same event."""
    lat, lon = point if point else (None, None)
    event = Event(event_id, kind, ts, source, area=area, lat=lat, lon=lon, attrs=attrs)
    again = parse_event(orjson.loads(orjson.dumps(event.to_json())))
    assert again == event
    assert again.ts.utcoffset() == ts.utcoffset()
