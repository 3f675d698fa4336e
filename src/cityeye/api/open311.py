"""Open311 GeoReport v2 (``/open311/v2``): residents and third-party apps report
problems and follow them, in the standard every 311 client speaks.

* ``GET services.{json,xml}``: one service per report category of the loaded
  ``reportable`` scenarios (``citizen.report``: the keys of its ``severity.map``).
* ``POST requests.{json,xml}`` (form-encoded): one ``report.citizen`` event, source
  ``open311``, its id a tracking number such as ``311-20261123-7F3K2Q`` that is the
  ``service_request_id``; acknowledged once it is stored durably.
* ``GET requests.{json,xml}`` and ``GET requests/{id}.{json,xml}``: every stored
  resident and hotline report, with the ``citizen.report`` case it became (its key is
  ``<source>/<id>``, e.g. ``open311/311-20261123-7F3K2Q``): open until the case is
  handled, verified or closed.

Errors use the standard's shape, ``[{"code": 400, "description": "lat: ..."}]`` (XML:
``<errors><error><code/><description/></error></errors>``). A reporter's phone, email and
name are never listed back: only a masked contact is kept, for telling them the outcome.
See ``docs/open311.md``.
"""

from __future__ import annotations

import math
import re
import secrets
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool

from cityeye.api.deps import Services, Svc
from cityeye.api.events import read_body
from cityeye.api.presenters import CLOSED_STATES, category_name, request_row
from cityeye.api.tokens import TokenError, check_event, verify
from cityeye.domain import REPORT_CATEGORIES, CaseState, Event, FieldError, World, parse_ts
from cityeye.domain.dates import local_date
from cityeye.domain.scenario import ScenarioSpec
from cityeye.errors import CityeyeError
from cityeye.ingest.hotline.masking import mask_numbers, mask_phone
from cityeye.live.pipeline import Pipeline
from cityeye.scenarios import LoadedScenario
from cityeye.scenarios.spec import SeverityMap
from cityeye.store import ApiToken, Store
from cityeye.store.requests import StoredReport, cases_by_key, report_events

PREFIX = "/open311/v2"
#: Source and kind of the events this API stores.
SOURCE = "open311"
KIND = "report.citizen"
#: GET requests: the window when no dates are given, the longest one allowed, and
#: the most requests one answer holds (all three are the standard's).
WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
#: POST limits: the body, and each field's length in characters.
MAX_BODY = 64 * 1024
LIMITS = {
    "description": 4000,
    "address_string": 500,
    "address_id": 128,
    "media_url": 2000,
    "email": 254,
    "phone": 40,
    "first_name": 100,
    "last_name": 100,
    "device_id": 128,
    "account_id": 128,
    "jurisdiction_id": 128,
}
MAX_ATTRIBUTES = 20
#: Case states in which a request counts as ``open`` (the others: CLOSED_STATES).
OPEN_STATES = frozenset(CaseState) - CLOSED_STATES
#: Tracking numbers: ``311-<the district's date>-<6 characters>``; the alphabet has no
#: 0/O, 1/I/L or U, so a number read over the phone is not misheard (30 random bits a day).
ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_CHARS = 6
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,64})\](\[\])?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FORMATS = ("json", "xml")


class Open311Error(CityeyeError):
    """An answer in the standard's error shape: one or more (code, description). In
    no family of :mod:`cityeye.errors`: it carries its own status, and this router
    answers it in GeoReport's shape (the portal in its own)."""

    def __init__(self, code: int, *descriptions: str) -> None:
        super().__init__("; ".join(descriptions))
        self.code = code
        self.descriptions = descriptions


# ---------------------------------------------------------------------- services
@dataclass(frozen=True, slots=True)
class Service:
    code: str
    name: str
    description: str
    group: str
    keywords: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": self.description,
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(self.keywords),
            "group": self.group,
        }


def services_of(scenarios: Iterable[LoadedScenario]) -> list[Service]:
    """One service per category the ``reportable`` scenarios grade by (their
    ``severity.map`` keys), in the order the scenarios list them."""
    out: dict[str, Service] = {}
    for scenario in scenarios:
        cfg = scenario.config
        if not cfg.reportable or not isinstance(cfg.severity, SeverityMap):
            continue
        spec: ScenarioSpec = scenario.to_spec()
        for code in cfg.severity.map:
            if code in out:
                continue
            known = REPORT_CATEGORIES.get(code)
            zh, en = (known.zh, known.en) if known else (code, code)
            out[code] = Service(
                code=code,
                name=category_name(code),
                description=f"居民上报：{zh}（{spec.name_zh}）。Resident report: {en} "
                f"({spec.name_en}).",
                group=known.group if known else "其他 Other",
                keywords=known.keywords if known else (code,),
            )
    return list(out.values())


# ---------------------------------------------------------------------- output
#: What XML 1.0 cannot carry at all, escaped or not: C0 controls but tab, newline and
#: carriage return, lone surrogates, U+FFFE and U+FFFF. A handler's note with one of
#: them made the whole requests.xml unreadable for every client.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_ILLEGAL.sub("", str(value))


def to_xml(root: str, item: str, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """``<root><item><field>…</field></item>…</root>`` with the UTF-8 declaration the
    standard asks for; a null is an empty element."""
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for name, value in row.items():
            ET.SubElement(element, name).text = _xml_text(value)
    body = ET.tostring(top, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode()


def answer(fmt: str, root: str, item: str, rows: Sequence[Mapping[str, Any]]) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, item, rows), media_type="text/xml; charset=utf-8")
    return Response(orjson.dumps(list(rows)), media_type="application/json; charset=utf-8")


def error_response(fmt: str, error: Open311Error) -> Response:
    rows = [{"code": error.code, "description": d} for d in error.descriptions]
    response = answer(fmt if fmt in FORMATS else "json", "errors", "error", rows)
    response.status_code = error.code
    return response


# ---------------------------------------------------------------------- requests
def new_request_id(now: datetime, timezone: str) -> str:
    """A readable, random tracking number: ``311-20261123-7F3K2Q``, dated by the
    district's day (``timezone``): a report made at 07:30 in Shanghai carries that
    day, not the UTC one before it."""
    tail = "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_CHARS))
    return f"311-{local_date(now, timezone):%Y%m%d}-{tail}"


def _text(
    form: Mapping[str, str], name: str, errors: list[str], *, multiline: bool = False
) -> str | None:
    """A form field, stripped; ``None`` when absent or blank. A bad one is added to
    ``errors`` as ``name: reason``."""
    raw = form.get(name)
    if raw is None:
        return None
    value = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not value:
        return None
    limit = LIMITS[name]
    if len(value) > limit:
        errors.append(f"{name}: is {len(value)} characters long; at most {limit} allowed")
        return None
    if (_CONTROL if multiline else _LINE_CONTROL).search(value):
        errors.append(f"{name}: contains control characters")
        return None
    return value


def _coordinate(
    form: Mapping[str, str], name: str, limit: float, errors: list[str]
) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        errors.append(f"{name}: {raw[:40]!r} is not a number")
        return None
    if not math.isfinite(number) or abs(number) > limit:
        errors.append(f"{name}: {raw[:40]!r} is outside -{limit:g} .. {limit:g}")
        return None
    return number


def _media_url(value: str | None, errors: list[str]) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        errors.append("media_url: must be an http:// or https:// address")
        return None
    if any(c.isspace() for c in value):
        errors.append("media_url: must not contain spaces")
        return None
    return value


def _attributes(form: Mapping[str, list[str]], errors: list[str]) -> dict[str, Any]:
    """``attribute[CODE]=value`` (or ``attribute[CODE][]`` for several values)."""
    out: dict[str, Any] = {}
    for name, values in form.items():
        if not name.startswith("attribute"):
            continue
        match = _ATTRIBUTE.match(name)
        if match is None:
            errors.append(f"{name[:80]}: attributes are named attribute[CODE]")
            continue
        kept = [mask_numbers(v.strip())[:500] for v in values if v.strip()]
        if kept:
            out[match.group(1)] = kept if match.group(2) else kept[-1]
    if len(out) > MAX_ATTRIBUTES:
        errors.append(f"attribute: {len(out)} attributes; at most {MAX_ATTRIBUTES} allowed")
    return out


def _reporter(phone: str | None, email: str | None, errors: list[str]) -> str | None:
    """A contact to tell the outcome to, masked as the hotline masks numbers; the raw
    phone or email is never stored."""
    if email is not None and not _EMAIL.match(email):
        errors.append(f"email: {email[:40]!r} is not an email address")
    if phone is None:
        if email is None or not _EMAIL.match(email):
            return None
        local, _, domain = email.partition("@")
        return f"{local[:1]}***@{domain}"
    masked = mask_phone(phone)
    if masked is None:
        errors.append("phone: has no digits")
    return masked


def parse_request(
    form: Mapping[str, list[str]], services: Mapping[str, Service], now: datetime, timezone: str
) -> Event:
    """A POSTed service request as the ``report.citizen`` event to store (its tracking
    number dated in the district's ``timezone``); every field at fault at once in
    :class:`Open311Error` (400)."""
    last = {name: values[-1] for name, values in form.items() if values}
    errors: list[str] = []
    code = (last.get("service_code") or "").strip()
    if not code:
        errors.append("service_code: is required")
    elif code not in services:
        known = ", ".join(services)
        errors.append(f"service_code: {code[:40]!r} is not a service; use one of {known}")
    lat = _coordinate(last, "lat", 90.0, errors)
    lon = _coordinate(last, "long", 180.0, errors)
    if (lat is None) != (lon is None) and not any(e.startswith(("lat:", "long:")) for e in errors):
        errors.append(f"{'lat' if lat is None else 'long'}: lat and long must be given together")
    address = _text(last, "address_string", errors)
    address_id = _text(last, "address_id", errors)
    has_place = (lat is not None and lon is not None) or address or address_id
    if not has_place and not any(e.startswith(("lat:", "long:")) for e in errors):
        errors.append("lat: a location is required: lat and long, address_string or address_id")
    description = _text(last, "description", errors, multiline=True)
    media_url = _media_url(_text(last, "media_url", errors), errors)
    for name in ("jurisdiction_id", "device_id", "account_id", "first_name", "last_name"):
        _text(last, name, errors)  # checked, not kept: they would identify the reporter
    reporter = _reporter(_text(last, "phone", errors), _text(last, "email", errors), errors)
    attributes = _attributes(form, errors)
    if errors:
        raise Open311Error(400, *errors)
    attrs: dict[str, Any] = {"category": code}
    if description is not None:
        attrs["text"] = mask_numbers(description)
    if address is not None:
        attrs["address"] = mask_numbers(address)
    if address_id is not None:
        attrs["address_id"] = address_id
    if media_url is not None:
        attrs["media_url"] = media_url
    if attributes:
        attrs["attributes"] = attributes
    if reporter is not None:
        attrs["reporter"] = reporter
    return Event(
        id=new_request_id(now, timezone),
        kind=KIND,
        ts=now,
        source=SOURCE,
        lat=lat,
        lon=lon,
        attrs=attrs,
    )


def _split(value: str | None) -> list[str]:
    return [p.strip() for p in (value or "").split(",") if p.strip()]


def _date(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return parse_ts(raw.strip(), name)
    except FieldError as exc:
        raise Open311Error(400, f"{name}: {exc.reason}") from None


@dataclass(frozen=True, slots=True)
class Query:
    ids: list[str] | None = None
    codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    status: frozenset[str] = frozenset({"open", "closed"})


def parse_query(params: Mapping[str, str], now: datetime) -> Query:
    """GET requests' filters; ``service_request_id`` overrides all the others."""
    ids = _split(params.get("service_request_id"))
    if ids:
        if len(ids) > MAX_RESULTS:
            raise Open311Error(
                400, f"service_request_id: {len(ids)} ids; at most {MAX_RESULTS} at once"
            )
        return Query(ids=ids)
    codes = _split(params.get("service_code")) or None
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start is not None and end is not None:
        if start > end:
            raise Open311Error(400, "start_date: is after end_date")
        if end - start > WINDOW:
            raise Open311Error(400, "end_date: start_date .. end_date may span at most 90 days")
    elif start is not None:
        end = start + WINDOW if start + WINDOW < now else None
    elif end is not None:
        start = end - WINDOW
    else:
        start = now - WINDOW
    status = frozenset(s.lower() for s in _split(params.get("status")))
    bad = sorted(status - {"open", "closed"})
    if bad:
        raise Open311Error(400, f"status: {bad[0][:40]!r} is not one of open, closed")
    return Query(codes=codes, start=start, end=end, status=status or frozenset({"open", "closed"}))


# ---------------------------------------------------------------------- router
#: The GeoReport v2 endpoints over the live pipeline's scenarios and store. Without
#: ``open_ingest`` (Services) a POST needs an ``api_key``; the clock (Services) dates a
#: new request and sets the default search window (a replayed day's simulated time in a
#: demo: a report must not arrive months after the day it joins).
router = APIRouter(prefix=PREFIX, tags=["open311"])


def services_by_code(pipeline: Pipeline) -> dict[str, Service]:
    """The services of ``pipeline``'s scenarios by code (:func:`services_of`; cheap
    enough to work out per request, about 30 µs for the whole catalogue)."""
    return {s.code: s for s in services_of(pipeline.scenarios)}


def parties(world: World) -> dict[str, str]:
    return {p.id: p.name for p in world.parties.values()}


def rows_for(store: Store, world: World, reports: list[StoredReport]) -> list[dict[str, Any]]:
    cases = cases_by_key(store, [r.event.ref for r in reports])
    names = parties(world)
    return [request_row(r, cases.get(r.event.ref), names) for r in reports]


def find(store: Store, world: World, query: Query) -> list[dict[str, Any]]:
    if query.ids is not None:
        return rows_for(store, world, report_events(store, ids=query.ids, limit=MAX_RESULTS))
    states: set[str] | None = None
    without_case = False
    if query.status == {"open"}:
        states, without_case = {s.value for s in OPEN_STATES}, True
    elif query.status == {"closed"}:
        states = {s.value for s in CLOSED_STATES}
    reports = report_events(
        store,
        categories=query.codes,
        start=query.start,
        end=query.end,
        case_states=states,
        without_case=without_case,
        limit=MAX_RESULTS,
    )
    return rows_for(store, world, reports)


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise Open311Error(404, f"format: {fmt[:20]!r} is not one of json, xml")


@router.get("/services.{fmt}", summary="Report categories (GeoReport GET services)")
def get_services(fmt: str, svc: Svc) -> Response:
    try:
        check_format(fmt)
    except Open311Error as exc:
        return error_response(fmt, exc)
    services = services_by_code(svc.live)
    return answer(fmt, "services", "service", [s.as_dict() for s in services.values()])


@router.get("/services/{code}.{fmt}", summary="A service definition (no attributes)")
def get_service_definition(code: str, fmt: str, svc: Svc) -> Response:
    try:
        check_format(fmt)
        if code not in services_by_code(svc.live):
            raise Open311Error(404, f"service_code: {code[:40]!r} is not a service")
    except Open311Error as exc:
        return error_response(fmt, exc)
    if fmt == "xml":
        top = ET.Element("service_definition")
        ET.SubElement(top, "service_code").text = code
        ET.SubElement(top, "attributes")
        body = ET.tostring(top, encoding="unicode")
        xml = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'.encode()
        return Response(xml, media_type="text/xml; charset=utf-8")
    return Response(
        orjson.dumps({"service_code": code, "attributes": []}),
        media_type="application/json; charset=utf-8",
    )


@router.post("/requests.{fmt}", summary="Report a problem (GeoReport POST request)")
async def post_request(fmt: str, request: Request, svc: Svc) -> Response:
    try:
        check_format(fmt)
        form = await read_form(request)
        keys = [k.strip() for k in form.get("api_key", []) if k.strip()]
        # the standard's api_key, or the Bearer header of the rest of the API
        authorization = f"Bearer {keys[-1]}" if keys else request.headers.get("authorization")
        token = None
        if not svc.open_ingest:
            try:
                token = await run_in_threadpool(verify, svc.store, authorization)
            except TokenError as exc:
                raise Open311Error(403, f"api_key: {exc}") from None
        return await run_in_threadpool(submit, svc, fmt, form, token)
    except Open311Error as exc:
        return error_response(fmt, exc)


def submit(
    svc: Services, fmt: str, form: Mapping[str, list[str]], token: ApiToken | None
) -> Response:
    pipeline = svc.live
    services = services_by_code(pipeline)
    for _ in range(5):  # a tracking number already taken: draw another
        now = svc.clock.now()
        event = parse_request(form, services, now, pipeline.world.timezone)
        if token is not None:
            try:
                check_event(token, event, pipeline.world, pipeline.locate)
            except FieldError as exc:
                raise Open311Error(403, f"api_key: {exc.reason}") from None
        result = pipeline.ingest([event])
        if result[0].status == "accepted":
            row = {
                "service_request_id": event.id,
                "service_notice": "已收到，立案后派往处置单位；凭编号查询进度 "
                "Received; it becomes a case for the responsible unit. "
                "Track it by this number.",
                "account_id": None,
            }
            return answer(fmt, "service_requests", "request", [row])
    raise Open311Error(500, "service_request_id: could not draw a free tracking number")


@router.get("/requests.{fmt}", summary="Requests (GeoReport GET service requests)")
def get_requests(fmt: str, request: Request, svc: Svc) -> Response:
    try:
        check_format(fmt)
        query = parse_query(request.query_params, svc.clock.now())
        rows = find(svc.store, svc.world, query)
    except Open311Error as exc:
        return error_response(fmt, exc)
    return answer(fmt, "service_requests", "request", rows)


@router.get("/requests/{request_id}.{fmt}", summary="One request (GeoReport GET request)")
def get_request(request_id: str, fmt: str, svc: Svc) -> Response:
    try:
        check_format(fmt)
        rows = rows_for(svc.store, svc.world, report_events(svc.store, ids=[request_id], limit=1))
        if not rows:
            raise Open311Error(404, f"service_request_id: no request {request_id[:80]!r}")
    except Open311Error as exc:
        return error_response(fmt, exc)
    return answer(fmt, "service_requests", "request", rows)


async def read_form(request: Request) -> dict[str, list[str]]:
    """The form-encoded body (and the query string, as some clients send the key
    there), every value of each name in order; at most :data:`MAX_BODY` bytes."""
    content_type = request.headers.get("content-type", "")
    if content_type and "x-www-form-urlencoded" not in content_type:
        raise Open311Error(
            400, "content-type: send application/x-www-form-urlencoded (photos by media_url)"
        )
    try:
        raw = await read_body(request, MAX_BODY)
    except HTTPException as exc:
        raise Open311Error(413, f"body: {exc.detail}") from None
    try:
        body = raw.decode()
    except UnicodeDecodeError:
        raise Open311Error(400, "body: is not UTF-8") from None
    form: dict[str, list[str]] = {}
    try:
        pairs = parse_qsl(request.url.query, keep_blank_values=True, max_num_fields=200)
        pairs += parse_qsl(body, keep_blank_values=True, max_num_fields=200)
    except ValueError:
        raise Open311Error(400, "body: more than 200 fields") from None
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form
