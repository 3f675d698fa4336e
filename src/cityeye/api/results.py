"""月考核 · the published results of the contest, and the reports of an area, to download.

A published result is the board frozen when its round was published
(:mod:`cityeye.routine.results`); these endpoints read it, never the counters, so the
result of October is what it was when it was circulated:

* ``GET /api/v1/assessment/results``: which rounds are published (staff, signed in);
* ``GET /api/v1/assessment/results/{period}``: one result as JSON or as its document
  (HTML, xlsx, PDF: :mod:`cityeye.result_report`); staff see the rows their scope
  may see, by the staff board's rule (:func:`cityeye.api.assessment.staff_view`): a
  street leader sees their street's communities with their district-wide ranks, never
  another street's; 404 before the round is published;
* ``GET /api/v1/public/results/{period}``: the public 晾晒 of a result, streets or
  communities only (the party level ranks people by name), 404 when the rules keep the
  board for staff.

``GET /api/v1/reports/{period}`` is the monthly report (``2026-10``) or the weekly
bulletin (``2026-W44``) of an area (:mod:`cityeye.report`), for the posts that see an
area whole: dispatchers, leaders and admins inside their areas (by default their own
top area; district staff the district). A handler's scope is their party's cases, not
an area's, so a report of the area is refused them (403), as it is residents.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi import Path as PathParam

from cityeye.api.assessment import Level, staff_view
from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Services, Svc
from cityeye.api.exports import download
from cityeye.assessment.scoring import parse_period
from cityeye.domain import FieldError, World
from cityeye.domain.dates import iso_utc
from cityeye.domain.users import User, UserRole, scope_of
from cityeye.report import build_report, period_bounds, render_html, write_pdf, write_xlsx
from cityeye.result_report import write_result
from cityeye.store.results import find_results, get_result

router = APIRouter(prefix="/api/v1", tags=["assessment"])

PeriodPath = Annotated[
    str, PathParam(max_length=16, description="2026-10 (month), 2026-Q4 (quarter) or 2026 (year)")
]
PublicLevel = Annotated[str, Query(pattern="^(street|community)$", description="who is ranked")]
ResultFormat = Annotated[
    str,
    Query(alias="format", pattern="^(json|html|xlsx|pdf)$", description="json, html, xlsx or pdf"),
]
ReportFormat = Annotated[
    str, Query(alias="format", pattern="^(html|xlsx|pdf)$", description="html, xlsx or pdf")
]


def _frozen(svc: Services, period: str, level: str) -> dict[str, Any]:
    """The published result of ``period`` for ``level`` (district-wide), or 404."""
    label = parse_period(period).label  # 422 naming ``period`` for a bad one
    found = get_result(svc.store, label, level)
    if found is None:
        raise HTTPException(404, f"period: the {level} result of {label} is not published")
    return found


def _answer(board: Mapping[str, Any], fmt: str) -> Any:
    """The result as JSON, or as its document named 考核结果-2026-10-street.pdf."""
    if fmt == "json":
        return board
    buffer = io.BytesIO()
    write_result(board, fmt, buffer)
    stem = f"考核结果-{board['period']['label']}-{board['level']}"
    return download(buffer.getvalue(), fmt, stem)


@router.get("/assessment/results")
def results(user: CurrentUser, svc: Svc) -> dict[str, Any]:
    """The published results, the newest round first: round, level, when, which
    contest (staff; the result itself is ``/assessment/results/{period}``)."""
    if user.role == UserRole.RESIDENT:
        raise HTTPException(403, "the results are for staff; see /api/v1/public/results")
    return {
        "results": [
            {
                "period": r.period,
                "level": r.level,
                "published_at": iso_utc(r.published_at),
                "contest": r.contest,
            }
            for r in find_results(svc.store)
            if r.area == ""
        ]
    }


@router.get("/assessment/results/{period}", response_model=None)
def result(
    period: PeriodPath,
    user: CurrentUser,
    svc: Svc,
    level: Level = "street",
    fmt: ResultFormat = "json",
) -> Any:
    """One published result: each unit's rank, score, status, terms and movement as
    frozen at publication, only the units in the caller's areas (ranked among all);
    ``format`` html, xlsx or pdf gives the result document instead of JSON."""
    _, shown = staff_view(user, svc, level, None)
    board = _frozen(svc, period, level)
    if shown is not None:
        board["rows"] = [r for r in board["rows"] if r["unit"] in shown]
    return _answer(board, fmt)


@router.get("/public/results/{period}", response_model=None)
def public_result(
    period: PeriodPath, svc: Svc, level: PublicLevel = "street", fmt: ResultFormat = "json"
) -> Any:
    """The public 晾晒 of a published result: streets' or communities' ranks, scores and
    terms, no sign-in, no person's name (404 when the board is not public)."""
    if not svc.assessment.public:
        raise HTTPException(404, "the board is not public here")
    return _answer(_frozen(svc, period, level), fmt)


# ---------------------------------------------------------------------- reports
def report_area(user: User, world: World, area: str | None) -> str:
    """The area whose report ``user`` asks for: ``area`` if it is inside their scope
    (404 otherwise, as for any area not theirs), else their own top area (the district
    for admins); 403 for handlers and residents, whose scope is not an area's."""
    if user.role in (UserRole.HANDLER, UserRole.RESIDENT):
        raise HTTPException(403, "reports are for dispatchers, leaders and admins")
    scope = scope_of(user, world)
    if area is None:
        mine = [world.areas[a] for a in user.areas if a in world.areas]
        if scope.areas is None or not mine:
            return world.district.code
        return min(mine, key=lambda a: a.level.rank).code
    if area not in world.areas or (scope.areas is not None and area not in scope.areas):
        raise HTTPException(404, f"area: no area {area!r} for you")
    return area


def report_file(svc: Services, period: str, area: str, fmt: str) -> tuple[bytes, str]:
    """The report's bytes and its file name's stem (周通报-小河街道-2026-W44)."""
    report = build_report(svc.store, period, area, svc.assessment)
    stem = f"{'周通报' if report.kind == 'week' else '月报'}-{report.area.name}-{period}"
    if fmt == "html":
        return render_html(report).encode(), stem
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"report.{fmt}"
        (write_xlsx if fmt == "xlsx" else write_pdf)(report, path)
        return path.read_bytes(), stem


@router.get("/reports/{period}", response_class=Response)
def report(
    period: Annotated[
        str,
        PathParam(max_length=16, description="2026-10 (a month's report) or 2026-W44 (a week's)"),
    ],
    user: CurrentUser,
    svc: Svc,
    area: Annotated[str | None, Query(max_length=128, description="area code")] = None,
    fmt: ReportFormat = "pdf",
) -> Response:
    """The monthly report or weekly bulletin of an area in the caller's scope, as
    HTML, xlsx or PDF. Built from every case of the area: it takes seconds, so it runs
    in the server's thread pool (a plain ``def``), not on the event loop."""
    code = report_area(user, svc.world, area)
    try:
        period_bounds(period, svc.world.timezone)
    except FieldError as exc:
        raise FieldError("period", exc.reason) from None
    data, stem = report_file(svc, period, code, fmt)
    return download(data, fmt, stem)
