# cython: language_level=3, boundscheck=False, wraparound=False
"""Compiled twin of the ingest hot path (issue 15): a JSON object → :class:`Event` for the
common case, and events → SQLite rows. The Python reference is
:func:`cityeye.domain.events.parse_event` and :func:`cityeye.store.events.sqlite_rows`;
``tests/unit/test_native_ingest.py`` feeds both the same inputs.

``event_from`` answers ``None`` for anything but the plain case (a field that is not a
short printable string, coordinates, an unknown kind, a time it cannot read): the
reference then decides, and it alone words the errors. So this file holds no rule of its
own, only a quicker way to say yes.
"""

from cpython.datetime cimport (
    datetime_day,
    datetime_hour,
    datetime_microsecond,
    datetime_minute,
    datetime_month,
    datetime_second,
    datetime_year,
    import_datetime,
)
from cpython.object cimport PyObject_GenericSetAttr
from libc.stdio cimport snprintf

import math
from datetime import UTC, datetime

import orjson

from cityeye.domain.events import FIELDS, MAX_TEXT, MAX_TS, MIN_TS, Event

import_datetime()

cdef frozenset _FIELDS = frozenset(FIELDS)
cdef object _dumps = orjson.dumps
cdef object _fromisoformat = datetime.fromisoformat
cdef object _UTC = UTC
cdef object _Event = Event
cdef object _new = object.__new__
cdef int _MIN_YEAR = MIN_TS.year
cdef int _MAX_YEAR = MAX_TS.year
cdef Py_ssize_t _MAX_TEXT = MAX_TEXT
cdef str _ID = "id", _KIND = "kind", _TS = "ts", _SOURCE = "source", _DEVICE = "device_id"
cdef str _SUBJECT = "subject", _AREA = "area", _LAT = "lat", _LON = "lon", _ATTRS = "attrs"


cdef inline bint _plain(object value):
    """The reference's fast path for a text field: a short printable, not blank str."""
    return (
        type(value) is str
        and 0 < len(<str>value) <= _MAX_TEXT
        and (<str>value).isprintable()
        and not (<str>value).isspace()
    )


cdef inline bint _coord_ok(object value, double limit):
    cdef double number
    if type(value) is not float:  # ints and the rest: the reference converts or refuses
        return False
    number = <double>value
    return math.isfinite(number) and -limit <= number <= limit


def event_from(object obj, object good_kinds):
    """The event for a plain JSON object whose kind is in ``good_kinds`` (the
    reference's cache of well-formed kinds), or ``None``: the reference decides."""
    cdef dict d
    if type(obj) is not dict:
        return None
    d = <dict>obj
    if not _FIELDS.issuperset(d):
        return None
    event_id = d.get(_ID)
    kind = d.get(_KIND)
    source = d.get(_SOURCE)
    text = d.get(_TS)
    if not (_plain(event_id) and _plain(kind) and _plain(source) and type(text) is str):
        return None
    if kind not in good_kinds:
        return None
    device_id = d.get(_DEVICE)
    subject = d.get(_SUBJECT)
    area = d.get(_AREA)
    if not (
        (device_id is None or _plain(device_id))
        and (subject is None or _plain(subject))
        and (area is None or _plain(area))
    ):
        return None
    lat = d.get(_LAT)
    lon = d.get(_LON)
    if lat is not None or lon is not None:
        if not (_coord_ok(lat, 90.0) and _coord_ok(lon, 180.0)):
            return None
    attrs = d.get(_ATTRS)
    if attrs is None:
        attrs = {}
    elif type(attrs) is not dict:
        return None
    try:
        ts = _fromisoformat(text)
    except ValueError:
        return None
    if ts.tzinfo is None or ts.utcoffset() is None:
        return None
    if not _MIN_YEAR <= datetime_year(ts) < _MAX_YEAR:
        return None
    event = _new(_Event)  # the frozen dataclass's fields, set as its __init__ would
    PyObject_GenericSetAttr(event, _ID, event_id)
    PyObject_GenericSetAttr(event, _KIND, kind)
    PyObject_GenericSetAttr(event, _TS, ts)
    PyObject_GenericSetAttr(event, _SOURCE, source)
    PyObject_GenericSetAttr(event, _DEVICE, device_id)
    PyObject_GenericSetAttr(event, _SUBJECT, subject)
    PyObject_GenericSetAttr(event, _AREA, area)
    PyObject_GenericSetAttr(event, _LAT, lat)
    PyObject_GenericSetAttr(event, _LON, lon)
    PyObject_GenericSetAttr(event, _ATTRS, attrs)
    return event


cdef str _sqlite_time(object ts):
    """:func:`cityeye.store.types.sqlite_time`: UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    cdef char buf[40]
    cdef int n
    v = ts.astimezone(_UTC)
    n = snprintf(
        buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d.%06d",
        datetime_year(v), datetime_month(v), datetime_day(v),
        datetime_hour(v), datetime_minute(v), datetime_second(v), datetime_microsecond(v),
    )
    return buf[:n].decode("ascii")


def sqlite_rows(list events, object areas, str received, object known_kinds):
    """The ``events`` rows of :func:`cityeye.store.events.sqlite_rows`, built in C."""
    cdef list rows = []
    cdef dict out
    cdef Py_ssize_t i, n = len(events)
    for i in range(n):
        ev = events[i]
        area = areas[i]
        attrs = ev.attrs
        out = {_ID: ev.id, _KIND: ev.kind, _TS: ev.ts.isoformat(), _SOURCE: ev.source}
        device_id = ev.device_id
        subject = ev.subject
        lat = ev.lat
        lon = ev.lon
        if device_id is not None:
            out[_DEVICE] = device_id
        if subject is not None:
            out[_SUBJECT] = subject
        if ev.area is not None:
            out[_AREA] = ev.area
        if lat is not None:
            out[_LAT] = lat
        if lon is not None:
            out[_LON] = lon
        out[_ATTRS] = attrs
        rows.append(
            (
                ev.source,
                ev.id,
                ev.kind,
                _sqlite_time(ev.ts),
                received,
                device_id,
                subject,
                area,
                lat,
                lon,
                _dumps(attrs).decode() if attrs else "{}",
                ev.kind in known_kinds,
                False,
                _dumps(out).decode(),
            )
        )
    return rows
