"""The resident portal's API (``/api/v1/portal``): report a problem without an account,
get a tracking number, follow it, rate the result.

A report is the same ``report.citizen`` event an Open311 client makes (one parser,
:func:`cityeye.api.open311.parse_request`, checks both), from source ``portal``; it
becomes a case of the ``citizen.report`` scenario like any other. What the portal adds:

* **A follow key**, shown once with the tracking number and kept only as its SHA-256
  (``report_follows``). The tracking number is enough to see the status (Open311
  lists it publicly anyway); rating the result needs the key, or being the signed-in
  resident who reported. So a neighbour who reads the number off a screen cannot rate
  someone else's case.
* **Limits for anonymous callers**: reports and photos per client address per hour
  (HTTP 429 with ``Retry-After``), photos checked to be the images they claim to be,
  a pin outside the district refused with the field named.
* **Optional sign-in**: a resident who is signed in has their reports listed
  (``GET mine``) on any device; one who is not keeps the numbers and keys on the phone.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from cityeye.api.attachments import photo_response, save_upload
from cityeye.api.auth import CurrentUser, MaybeUser
from cityeye.api.cases import submit_action
from cityeye.api.deps import Svc
from cityeye.api.limits import client_key, take_or_refuse
from cityeye.api.open311 import Open311Error, parse_request, services_by_code
from cityeye.api.presenters import receipt, report_photos, status_of
from cityeye.cases.book import CaseBook
from cityeye.domain import REPORT_CATEGORIES, AreaLevel, Case, CaseState, Event
from cityeye.domain.tokens import hash_secret
from cityeye.domain.users import User, UserRole
from cityeye.store import Store
from cityeye.store.requests import (
    Follow,
    add_follow,
    cases_by_key,
    drop_follow,
    follow_with_key,
    followed_by,
    get_follow,
    report_events,
)

SOURCE = "portal"
#: The most photos a report carries (the per-address limits on reports and photos:
#: cityeye.api.limits).
MAX_PHOTOS = 4
#: The portal's field names → the Open311 names the shared parser reports errors by.
_FIELDS = {
    "category": "service_code",
    "text": "description",
    "lat": "lat",
    "lon": "long",
    "address": "address_string",
    "contact": "phone",
}
_BACK = {v: k for k, v in _FIELDS.items()}


class NewReport(BaseModel):
    """A resident's report: what, where (a map pin, or an address), and optionally
    photos (references from ``POST photos``) and a phone number to be told the outcome
    (kept masked)."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(max_length=64)
    text: str | None = Field(default=None, max_length=4000)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=500)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS)
    contact: str | None = Field(default=None, max_length=40)
    follow_key: str | None = Field(
        default=None,
        min_length=20,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="a random key the page made (≥ 20 characters): the follow key, and "
        "what makes a re-sent report the same report",
    )


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(ge=1, le=5, description="1 (poor) .. 5 (very good)")
    comment: str | None = Field(default=None, max_length=500)


def _form(body: NewReport) -> dict[str, list[str]]:
    """The report as the Open311 form the shared parser reads."""
    form: dict[str, list[str]] = {}
    for name, open311 in _FIELDS.items():
        value = getattr(body, name)
        if value is not None:
            form[open311] = [repr(value) if isinstance(value, float) else str(value)]
    return form


def _portal_errors(exc: Open311Error) -> HTTPException:
    """The parser's ``service_code: …`` problems under the portal's field names."""
    errors = []
    for description in exc.descriptions:
        field, _, reason = description.partition(": ")
        errors.append(f"{_BACK.get(field, field)}: {reason}")
    return HTTPException(422, "; ".join(errors))


# ---------------------------------------------------------------------- router
router = APIRouter(prefix="/api/v1/portal", tags=["portal"])


async def resident(user: MaybeUser) -> User | None:
    """The signed-in resident, or nobody: reporting needs no account, and a member of
    staff signed in on the same browser reports as anyone does."""
    return user if user is not None and user.role == UserRole.RESIDENT else None


#: ``user: Someone``: the signed-in resident, or ``None``.
Someone = Annotated[User | None, Depends(resident)]


def report_and_case(store: Store, tracking: str) -> tuple[Event, Case | None]:
    found = report_events(store, ids=[tracking], limit=1)
    if not found:
        raise HTTPException(404, f"tracking: no report {tracking[:80]!r}")
    event = found[0].event
    return event, cases_by_key(store, [event.ref]).get(event.ref)


def is_reporter(store: Store, tracking: str, key: str | None, user: User | None) -> bool:
    """Whether the caller is who sent report ``tracking``: they hold its follow key, or
    they are the signed-in resident who sent it (they rate it, and see its photos)."""
    follow = get_follow(store, tracking)
    if follow is None:
        return False
    if key is not None and hmac.compare_digest(hash_secret(key), follow.key_hash):
        return True
    return user is not None and follow.user_id is not None and user.id == follow.user_id


@router.get("/categories")
def categories(svc: Svc) -> list[dict[str, str]]:
    """What can be reported, in the order the scenarios list them."""
    out = []
    for code, service in services_by_code(svc.live).items():
        known = REPORT_CATEGORIES.get(code)
        out.append(
            {
                "code": code,
                "zh": known.zh if known else code,
                "en": known.en if known else code,
                "group": service.group,
            }
        )
    return out


@router.get("/map")
def district_map(svc: Svc) -> dict[str, Any]:
    """The streets, communities and grids as GeoJSON, for placing a pin (public: it
    is the map of the district, nothing more)."""
    features = [
        {
            "type": "Feature",
            "properties": {"code": a.code, "name": a.name, "level": a.level.value},
            "geometry": a.boundary,
        }
        for a in sorted(svc.world.areas.values(), key=lambda a: (a.level.rank, a.code))
        if a.boundary is not None and a.level != AreaLevel.DISTRICT
    ]
    return {"type": "FeatureCollection", "features": features}


@router.post("/photos", status_code=201)
async def upload_photo(request: Request, svc: Svc) -> dict[str, str]:
    """One photo (the image itself as the body, with its Content-Type); returns the
    reference to put in a report's ``photos``."""
    take_or_refuse(svc.photo_limits, client_key(request), "photos")
    return {"ref": await save_upload(request, svc.files, "photo")}


@router.post("/reports", status_code=201)
def new_report(body: NewReport, request: Request, user: Someone, svc: Svc) -> Any:
    """Report a problem. Answers the tracking number and the follow key, which is
    shown this once: keep it to rate the result. A page that made its own
    ``follow_key`` sends it again when it re-sends the report (the answer was lost
    on a bad network): the report it already made is answered (200), not a second
    one."""
    take_or_refuse(svc.report_limits, client_key(request), "reports")
    store, pipeline = svc.store, svc.live
    if body.follow_key is not None:
        made = follow_with_key(store, hash_secret(body.follow_key))
        if made is not None:
            return JSONResponse(receipt(made.report_id, body.follow_key), status_code=200)
    if (
        body.lat is not None
        and body.lon is not None
        and pipeline.locate(body.lat, body.lon) is None
    ):
        raise HTTPException(422, "lat: the pin is outside the district; move it or type an address")
    svc.files.check(body.photos)
    follow_key = body.follow_key or secrets.token_urlsafe(18)
    services = services_by_code(pipeline)
    for _ in range(5):  # a tracking number already taken: draw another
        at = svc.clock.now()
        try:
            event = parse_request(_form(body), services, at, svc.world.timezone)
        except Open311Error as exc:
            raise _portal_errors(exc) from None
        attrs = dict(event.attrs)
        if body.photos:
            attrs["photos"] = list(body.photos)
        event = replace(event, source=SOURCE, attrs=attrs)  # its own number, freshly drawn
        follow = Follow(event.id, hash_secret(follow_key), user.id if user else None, at)
        try:
            add_follow(store, follow)  # first: an accepted report always has its key
        except IntegrityError:
            made = follow_with_key(store, follow.key_hash)
            if made is not None:  # the same page's retry, at the same moment
                return JSONResponse(receipt(made.report_id, follow_key), status_code=200)
            continue  # the number is taken: draw another
        try:
            result = pipeline.ingest([event])[0]
        except BaseException:
            drop_follow(store, event.id)
            raise
        if result.status == "accepted":
            return receipt(event.id, follow_key)
        drop_follow(store, event.id)
        if result.status != "duplicate":
            raise HTTPException(422, f"{result.field or 'report'}: {result.reason}")
    raise HTTPException(503, "tracking: could not draw a free tracking number; try again")


@router.get("/reports/{tracking}")
def report_status(
    tracking: Annotated[str, Path(max_length=64)],
    user: Someone,
    svc: Svc,
    follow_key: Annotated[str | None, Header(max_length=64)] = None,
) -> dict[str, Any]:
    """Where a report stands. ``Follow-Key`` (or being its signed-in reporter) also
    says whether it can be rated now."""
    event, case = report_and_case(svc.store, tracking)
    return status_of(event, case, is_reporter(svc.store, tracking, follow_key, user))


@router.get("/reports/{tracking}/photos/{ref}")
def report_photo(
    tracking: Annotated[str, Path(max_length=64)],
    ref: Annotated[str, Path(max_length=80)],
    user: Someone,
    svc: Svc,
    follow_key: Annotated[str | None, Header(max_length=64)] = None,
) -> Response:
    """One of the report's photos, or a handler's "after" photo of its case, for the
    reporter only (the follow key or their sign-in): a photo may show a home or a face,
    so the public tracking number alone does not open it."""
    if not is_reporter(svc.store, tracking, follow_key, user):
        raise HTTPException(403, "Follow-Key: only the reporter sees the photos")
    event, case = report_and_case(svc.store, tracking)
    photos = report_photos(event, case)
    if ref not in photos["before"] and ref not in photos["after"]:
        raise HTTPException(404, f"photo: no photo {ref[:80]!r} of this report")
    return photo_response(svc.files, ref)


@router.get("/mine")
def mine(user: CurrentUser, svc: Svc) -> list[dict[str, Any]]:
    """The signed-in resident's reports, newest first."""
    store = svc.store
    ids = followed_by(store, user.id)
    reports = {r.event.id: r.event for r in report_events(store, ids=ids, limit=len(ids) or 1)}
    cases = cases_by_key(store, [e.ref for e in reports.values()])
    return [status_of(reports[i], cases.get(reports[i].ref), True) for i in ids if i in reports]


@router.post("/reports/{tracking}/rating")
async def rate(
    tracking: Annotated[str, Path(max_length=64)],
    body: Rating,
    user: Someone,
    svc: Svc,
    follow_key: Annotated[str | None, Header(max_length=64)] = None,
) -> JSONResponse:
    """Rate the result of a closed case, once: 1..5 and a comment. Needs the follow
    key (``Follow-Key`` header) or the signed-in reporter."""
    allowed = await run_in_threadpool(is_reporter, svc.store, tracking, follow_key, user)
    event, case = await run_in_threadpool(report_and_case, svc.store, tracking)
    if not allowed:
        raise HTTPException(403, "Follow-Key: only the reporter rates; send the key you were given")
    if case is None or case.state != CaseState.CLOSED:
        raise HTTPException(409, "rating: the case is not closed yet")
    if case.rating is not None:
        raise HTTPException(409, "rating: this case has been rated already")
    action = Event(
        id=f"portal-rate-{secrets.token_hex(8)}",
        kind="case.action",
        ts=svc.clock.now(),
        source=SOURCE,
        area=case.area,
        attrs={
            "case": case.id,
            "action": "rate",
            "role": "reporter",
            "actor": "resident",
            "rating": body.rating,
            "note": body.comment or "",
            # two ratings sent at once: the book takes the first, refuses the other
            "if_version": CaseBook.version(case),
            "immediate": True,
        },
    )
    applied = await submit_action(svc.live, action)
    if applied is None:
        return JSONResponse({"accepted": action.id, "tracking": tracking}, status_code=202)
    case, error = applied
    if error is not None:
        raise HTTPException(409, f"rating: {error.reason}")
    return JSONResponse(status_of(event, case, True, can_rate=False))
