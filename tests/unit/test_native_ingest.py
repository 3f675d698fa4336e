"""The compiled ingest twin against its Python reference (issue 15; cityeye.native).

``cityeye.ingest._fast`` must say yes to exactly the events the reference accepts on its
fast path, build them identically, and leave every other input to the reference, so that
the answer to any JSON object — the event, or the field and the reason it is refused —
and every stored row are the same whichever runs. Hypothesis feeds both the same inputs,
plain and hostile.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityeye import native
from cityeye.domain import EVENT_KINDS, Event, FieldError, parse_event
from cityeye.ingest import decode
from cityeye.store.events import sqlite_rows
from cityeye.store.types import sqlite_time


def _compiled() -> ModuleType:
    try:
        from cityeye.ingest import _fast
    except ImportError:
        message = "cityeye.ingest._fast is not built (pip install -e . with a C compiler)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {message}: the build must make it")
        pytest.skip(message)
    return _fast


fast = _compiled()

KINDS = ["smoke.alarm", "sos.button", "motion.detected", "report.citizen", "drone.sighting"]
texts = st.one_of(
    st.sampled_from(["G0001", "SM-000001", "iot-gw-2", "小河街道", "a b"]),
    st.text(min_size=0, max_size=140),  # blank, long, control characters, any script
    st.integers(-5, 10**6),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
)
offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))]
)
times = st.one_of(
    st.builds(
        lambda t, tz: t.replace(tzinfo=tz).isoformat(),
        st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2110, 1, 1)),
        offsets,
    ),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
        lambda t: t.isoformat()  # no offset
    ),
    st.sampled_from(["2026-10-01T08:30:00Z", "2026-13-01T00:00:00+08:00", "yesterday", ""]),
    st.integers(),
    st.none(),
)
coords = st.one_of(
    st.none(),
    st.floats(min_value=-200, max_value=200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-200, 200),
    st.booleans(),
    st.just("30.1"),
)
attrs = st.one_of(
    st.none(),
    st.just({}),
    st.dictionaries(  # integers as orjson reads them (beyond 64 bits they are floats)
        st.text(max_size=4),
        st.one_of(st.integers(-(2**63), 2**64 - 1), st.text(max_size=6)),
        max_size=3,
    ),
    st.just({"deep": [[[[[[[[[1]]]]]]]]]}),
    st.just({"note": "a\x00b"}),
    st.lists(st.integers(), max_size=2),
    st.text(max_size=3),
)
plain = st.fixed_dictionaries(
    {
        "id": st.from_regex(r"[A-Za-z0-9-]{1,20}", fullmatch=True),
        "kind": st.sampled_from(KINDS),
        "ts": times,
        "source": st.sampled_from(["iot-gw-1", "portal"]),
    },
    optional={
        "device_id": st.sampled_from(["SM-000001", "CM-000018"]),
        "subject": st.sampled_from(["E-0001"]),
        "area": st.sampled_from(["G0001"]),
        "lat": coords,
        "lon": coords,
        "attrs": attrs,
    },
)
hostile = st.fixed_dictionaries(
    {},
    optional={
        "id": texts,
        "kind": st.one_of(st.sampled_from([*KINDS, "Smoke", "smoke", "a..b"]), texts),
        "ts": times,
        "source": texts,
        "device_id": texts,
        "subject": texts,
        "area": texts,
        "lat": coords,
        "lon": coords,
        "attrs": attrs,
        "reading": st.integers(),  # not an event field
    },
)
objects = st.one_of(plain, hostile, st.lists(st.integers(), max_size=1), st.text(max_size=3))


def reference(obj: object) -> tuple[Any, ...]:
    """What the Python reference answers: the event as JSON and its field types, or the
    refusal."""
    try:
        event = parse_event(obj)
        decode._check_attrs(event.attrs, "attrs", 1)
    except FieldError as exc:
        return ("refused", exc.field, exc.reason)
    return ("event", event.to_json(), type(event.lat), event.ts.utcoffset())


def served(obj: object) -> tuple[Any, ...]:
    """What ingest answers with the compiled twin in front (``decode_object``)."""
    try:
        event = decode.decode_object(obj)
    except FieldError as exc:
        return ("refused", exc.field, exc.reason)
    return ("event", event.to_json(), type(event.lat), event.ts.utcoffset())


def test_ingest_runs_the_compiled_twin_when_built() -> None:
    assert decode._fast is fast


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(objects, min_size=1, max_size=4))
def test_every_object_gets_the_references_answer(objs: list[object]) -> None:
    # in a row, so that kinds the reference has seen (its cache) reach the fast path
    for obj in objs:
        assert served(obj) == reference(obj)


@settings(max_examples=300, deadline=None)
@given(plain)
def test_the_plain_case_takes_the_compiled_path(obj: dict[str, Any]) -> None:
    """Not a vacuous twin: a plain event with a known kind and time is built in C."""
    expected = reference(obj)
    built = fast.event_from(obj, {obj["kind"]})
    if expected[0] == "refused" or "lat" in obj or "lon" in obj:
        return  # the reference words refusals; coordinates may need its conversion
    assert built is not None
    assert isinstance(built, Event)
    assert built == parse_event(obj)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(plain, min_size=1, max_size=12), st.data())
def test_rows_are_byte_for_byte_the_references(objs: list[dict[str, Any]], data: Any) -> None:
    events = []
    for obj in objs:
        try:
            events.append(parse_event(obj))
        except FieldError:
            continue
    areas = data.draw(
        st.lists(
            st.sampled_from([None, "G0001", "330105001"]),
            min_size=len(events),
            max_size=len(events),
        )
    )
    received = sqlite_time(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    want = sqlite_rows(events, areas, received, EVENT_KINDS)
    got = fast.sqlite_rows(events, areas, received, EVENT_KINDS)
    assert [tuple(map(repr, row)) for row in got] == [tuple(map(repr, row)) for row in want]


def _import_in(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import cityeye.ingest.decode as d, cityeye.store.events as r; print(d._fast, r._fast)"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_cityeye_engine_python_runs_the_reference_alone() -> None:
    done = _import_in({native.VARIABLE: "python"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "None"]


def test_a_wrong_switch_value_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.VARIABLE, "turbo")
    with pytest.raises(ValueError, match="CITYEYE_ENGINE='turbo': must be one of"):
        native.compiled("ingest._fast")


def test_compiled_asked_for_but_not_built_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.VARIABLE, "compiled")
    with pytest.raises(ImportError, match=r"cityeye\.engine\._missing was not built"):
        native.compiled("engine._missing")
    monkeypatch.setenv(native.VARIABLE, "auto")
    assert native.compiled("engine._missing") is None
