"""The pages — the status page and the shells of the desk, cockpit, portal, council,
surveys and sign-in, each a template whose script asks the JSON API for the rest — and
``GET /api/v1/status``, which shows the status page's snapshot (:mod:`cityeye.api.status`).

Every asset comes from the package (``web/static``, ``web/templates``): government
networks are often offline, so no page loads anything from a CDN. Map tiles appear only
when ``CITYEYE_TILES`` names a tile server the operator runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from cityeye import __version__
from cityeye.api.deps import Svc
from cityeye.domain import EVENT_KINDS
from cityeye.store import Store

WEB = Path(__file__).resolve().parent.parent / "web"
templates = Jinja2Templates(directory=WEB / "templates")
router = APIRouter()


def tile_url() -> str:
    """The map tile server the maps draw under the areas (the cockpit's, the portal's
    pin map, the desk's case map): ``CITYEYE_TILES``, a URL template such as an
    intranet server's or 天地图's; none by default (offline), and the pages' CSP allows
    its host only when set (cityeye.api.hardening)."""
    return os.environ.get("CITYEYE_TILES", "")


def bar_chart(counts: dict[str, int], limit: int = 20) -> list[dict[str, Any]]:
    """Rows for a horizontal bar chart, largest first, widths in percent of the max."""
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    peak = max((n for _, n in top), default=0) or 1
    return [
        {
            "kind": kind,
            "label": EVENT_KINDS[kind].zh if kind in EVENT_KINDS else "未知类型",
            "label_en": EVENT_KINDS[kind].en if kind in EVENT_KINDS else "unknown kind",
            "count": n,
            "pct": round(100 * n / peak, 1),
        }
        for kind, n in top
    ]


def alert_chart(counts: dict[str, dict[str, int]], store: Store) -> list[dict[str, Any]]:
    """Rows for the alerts chart: total per scenario, the open part shaded."""
    names = store.scenario_names()
    peak = max((c["total"] for c in counts.values()), default=0) or 1
    rows = [
        {
            "scenario": scenario,
            "label": names.get(scenario, scenario),
            "total": c["total"],
            "open": c["open"],
            "pct": round(100 * c["total"] / peak, 1),
            "open_pct": round(100 * c["open"] / peak, 1),
        }
        for scenario, c in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r["total"], r["scenario"]))


@router.get("/docs", include_in_schema=False)
def api_docs(request: Request) -> HTMLResponse:
    """The API explorer, entirely from the package (works with the network off),
    started by a static script: the CSP allows no inline one."""
    openapi_url = request.app.openapi_url or "/openapi.json"
    return templates.TemplateResponse(request, "docs.html", {"openapi_url": openapi_url})


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> FileResponse:
    """The tab icon where browsers look for it unasked (pages name /static/favicon.ico);
    drawn by web/assets/icons.py."""
    return FileResponse(
        WEB / "static" / "favicon.ico",
        media_type="image/x-icon",
        headers={"cache-control": "public, max-age=86400"},
    )


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/v1/status", tags=["status"])
def api_status(svc: Svc) -> dict[str, Any]:
    """Loaded district, per-street counts, events by kind; ``live``: the
    service's own figures (last snapshot's size and ingest stall, saves kept
    for a retry)."""
    live = svc.pipeline.live_status() if svc.pipeline is not None else {}
    return svc.status.get() | {"live": live}


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "login.html", {})


@router.get("/desk", response_class=HTMLResponse, include_in_schema=False)
def desk_page(request: Request) -> HTMLResponse:
    """The handler desk (phone-sized); its script signs in or lists my cases."""
    return templates.TemplateResponse(request, "desk.html", {"tiles": tile_url()})


@router.get("/desk-sw.js", include_in_schema=False)
def desk_service_worker() -> FileResponse:
    """The desk's service worker (static/desk/sw.js), served from the root: a
    worker may only control pages under its own folder, and /static/desk/ would
    not hold /desk. ``no-cache``: a new version reaches installed desks at once."""
    return FileResponse(
        WEB / "static" / "desk" / "sw.js",
        media_type="text/javascript",
        headers={"cache-control": "no-cache"},
    )


@router.get("/council", response_class=HTMLResponse, include_in_schema=False)
def council_page(request: Request) -> HTMLResponse:
    """社情民意与议事 for community staff (tablet/desktop): suggestions and topics."""
    return templates.TemplateResponse(request, "council.html", {})


@router.get("/cockpit", response_class=HTMLResponse, include_in_schema=False)
def cockpit_page(request: Request) -> HTMLResponse:
    """The command centre's cockpit (big screen); its script signs in or draws."""
    return templates.TemplateResponse(request, "cockpit.html", {"tiles": tile_url()})


@router.get("/board", response_class=HTMLResponse, include_in_schema=False)
def board_page(request: Request) -> HTMLResponse:
    """数字治理赛晾晒台: the contest's ranking board (wall screen and phone); signed-in
    staff see their areas' units, everyone else the public board."""
    return templates.TemplateResponse(request, "board.html", {})


@router.get("/surveys", response_class=HTMLResponse, include_in_schema=False)
def surveys_page(request: Request) -> HTMLResponse:
    """社会评价 for the assessment office (desktop, also a phone): create a survey, hand
    out its links, close it, read and export its results; its script signs in."""
    return templates.TemplateResponse(request, "surveys.html", {})


@router.get("/elections", response_class=HTMLResponse, include_in_schema=False)
def elections_page(request: Request) -> HTMLResponse:
    """业委会换届选举 (desktop and phone): the community's staff run an owners' election,
    a resident bound to an owner household votes for it; its script signs in."""
    return templates.TemplateResponse(request, "elections.html", {})


@router.get("/visits", response_class=HTMLResponse, include_in_schema=False)
def visits_page(request: Request) -> HTMLResponse:
    """企业走访 for a 包联干部 on a phone: their enterprises, due first, and a visit's
    record (people met, situation, problems, photos, check-in, a warning's outcome)."""
    return templates.TemplateResponse(request, "visits.html", {})


@router.get("/portal", response_class=HTMLResponse, include_in_schema=False)
def portal_page(request: Request) -> HTMLResponse:
    """The resident portal (phone-sized): report, follow, rate; no sign-in needed."""
    return templates.TemplateResponse(request, "portal.html", {"tiles": tile_url()})


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def status_page(request: Request, svc: Svc) -> HTMLResponse:
    snapshot = svc.status.get()
    return templates.TemplateResponse(
        request,
        "status.html",
        {
            "s": snapshot,
            "bars": bar_chart(snapshot["events_by_kind"]),
            "alert_bars": alert_chart(snapshot["alerts_by_scenario"], svc.store),
            "version": __version__,
        },
    )


@router.get("/survey", response_class=HTMLResponse, include_in_schema=False)
def survey_page(request: Request) -> HTMLResponse:
    """社会评价 for a signed-in resident (phone-sized): the surveys they are invited to."""
    return templates.TemplateResponse(request, "survey.html", {})


@router.get("/survey/{token}", response_class=HTMLResponse, include_in_schema=False)
def survey_link_page(request: Request) -> HTMLResponse:
    """社会评价 through a one-time link: the page reads the token from its own path and
    sends it in a request body (never in an API URL); the access log redacts it."""
    return templates.TemplateResponse(request, "survey.html", {})
