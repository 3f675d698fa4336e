"""The web application: status page and JSON API.

``create_app`` takes an open :class:`~cityeye.store.Store`, so tests and ``cityeye
serve`` build the same app; nothing here reaches the network beyond the database, and
every asset is served from the package (government networks are often offline).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from cityeye import __version__
from cityeye.api import assessment as assessment_api
from cityeye.api import attachments as attachments_api
from cityeye.api import (
    auth,
    cases,
    district,
    enterprises,
    events,
    layers,
    meta,
    notifications,
    open311,
    pages,
    participation,
    places,
    portal,
    quality,
    residents,
    survey,
    tasks,
)
from cityeye.api import briefings as briefings_api
from cityeye.api import clock as clock_api
from cityeye.api import elections as elections_api
from cityeye.api import results as results_api
from cityeye.api import standards as standards_api
from cityeye.api.deps import Services
from cityeye.api.hardening import BodyLimit, SecurityHeaders, content_security_policy
from cityeye.api.pages import WEB
from cityeye.assessment.rules import Rules
from cityeye.attachments import AttachmentStore
from cityeye.errors import (
    AuthError,
    CityeyeError,
    ConflictError,
    InputError,
    NotFoundError,
    RefusedError,
    ServiceError,
)
from cityeye.live.clock import Clock, WallClock
from cityeye.live.pipeline import Pipeline
from cityeye.live.playback import ReplayFeeder
from cityeye.live.ticks import tick_loop
from cityeye.participation.service import Participation
from cityeye.store import Store
from cityeye.store.db import sqlite_file

log = logging.getLogger("cityeye.serve")


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Bad input answers like every other error of the API — ``detail`` a sentence
    naming the field and the reason — with each problem also listed in ``errors``."""
    assert isinstance(exc, RequestValidationError)
    errors = []
    for problem in exc.errors():
        where = [str(p) for p in problem.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append({"field": ".".join(where) or "body", "reason": problem.get("msg", "")})
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


#: The HTTP status of each family of :mod:`cityeye.errors` (docs/architecture.md), tried
#: in this order: the specific families before :class:`InputError`, since a
#: participation ``NotFound`` is a :class:`NotFoundError` and also a ``FieldError``.
STATUS: tuple[tuple[type[CityeyeError], int], ...] = (
    (NotFoundError, 404),
    (RefusedError, 403),
    (ConflictError, 409),
    (AuthError, 401),
    (ServiceError, 503),
    (InputError, 422),
)


def status_for(exc: CityeyeError) -> int | None:
    """The HTTP status ``exc``'s family becomes, or ``None`` outside every family."""
    return next((code for family, code in STATUS if isinstance(exc, family)), None)


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    """The one place where a domain error becomes an answer, registered for each family
    of :data:`STATUS`: its status, and ``detail`` its sentence (``field: reason`` for a
    ``FieldError``) as every endpoint of the API answers. A 401 says how to
    authenticate (``WWW-Authenticate: Bearer``); a 503 is logged, as the 500 it would
    otherwise have been."""
    assert isinstance(exc, CityeyeError)
    status = status_for(exc)
    assert status is not None  # registered for the families only
    if status == 503:
        log.warning("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


def default_files_dir(store: Store) -> Path:
    """Photos beside a SQLite database file; elsewhere ``./cityeye-files``."""
    database = sqlite_file(store.engine.url)
    if database is not None:
        return database.resolve().parent / "attachments"
    return Path("cityeye-files").resolve()


def create_app(
    store: Store,
    pipeline: Pipeline | None = None,
    *,
    tick_s: float = 5.0,
    wall_clock: bool = True,
    open_ingest: bool = False,
    files: Path | None = None,
    clock: Clock | None = None,
    feeder: ReplayFeeder | None = None,
    assessment: Rules | None = None,
) -> FastAPI:
    """The app. With a ``pipeline`` it also takes events live and runs the engine:
    a background thread snapshots it every ``cityeye.live.ticks.SNAPSHOT_EVERY`` ticks of ``tick_s``
    seconds and at shutdown, and with ``wall_clock`` moves the engine's clock to now on
    every tick (off for a replayed day, whose event time is not today). ``open_ingest``
    takes events without a token (demos, tests); production leaves it off. ``files``:
    where photos are kept (default: ``attachments/`` beside a SQLite database, else
    ``./cityeye-files``). ``clock``: what "now" is everywhere in the API and for the
    heartbeat (default the wall clock; a :class:`~cityeye.live.clock.ReplayClock` for a
    replayed day). ``feeder``: a replayed day to feed in while serving (``cityeye serve
    --replay``); the heartbeat then never moves the engine past what it has fed.
    ``assessment``: the contest's rules (default: the packaged ones)."""
    attachments = AttachmentStore(files or default_files_dir(store))
    clock = clock or WallClock()
    engine_now = feeder.engine_time if feeder is not None else clock.now
    # stopping: set when the server is told to stop (cityeye.api.server) or at the
    # latest when the app shuts down: long-lived answers (the live alert stream) end on it
    svc = Services(store, attachments, clock, pipeline=pipeline, open_ingest=open_ingest)
    if assessment is not None:
        svc.assessment = assessment
    if pipeline is not None:  # 社情民意与议事 routes suggestions into the pipeline's cases
        svc.participation = Participation(pipeline, attachments, now=clock.now)
    stopping = svc.stopping

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = threading.Event()
        ticker = None
        if pipeline is not None:
            ticker = threading.Thread(
                target=tick_loop,
                args=(pipeline, stop, tick_s, wall_clock, engine_now),
                name="cityeye-ticker",
                daemon=True,
            )
            ticker.start()
        if feeder is not None:
            feeder.start()
        yield
        stopping.set()
        if feeder is not None:
            feeder.stop()
        stop.set()
        if ticker is not None:
            ticker.join(timeout=10)
        if pipeline is not None:
            pipeline.snapshot()
            pipeline.close()  # --analysis process: its analysis process snapshots here
            log.info("engine snapshot saved; stopped")

    app = FastAPI(
        title="cityeye 城市眼·云共治",
        version=__version__,
        description="Urban co-governance: events → early warnings → closed-loop cases.",
        lifespan=lifespan,
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; ours is packaged
        redoc_url=None,
    )

    if pipeline is not None:
        app.include_router(events.router)
        app.include_router(open311.router)
        app.include_router(cases.router)
        app.include_router(district.router)
        app.include_router(quality.router)
        app.include_router(layers.router)
        app.include_router(portal.router)
        app.include_router(places.router)
        app.include_router(participation.router)
        app.include_router(briefings_api.router)
        app.include_router(briefings_api.facilitators)
        app.include_router(standards_api.router)
    app.include_router(auth.router)
    app.include_router(residents.router)
    app.include_router(survey.router)
    app.include_router(elections_api.router)
    app.include_router(notifications.router)
    app.include_router(tasks.router)
    app.include_router(enterprises.router)
    app.include_router(clock_api.router)
    app.include_router(attachments_api.router)
    app.include_router(meta.router)
    app.include_router(assessment_api.router)
    app.include_router(results_api.router)
    app.include_router(pages.router)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for family, _status in STATUS:
        app.add_exception_handler(family, _domain_error)
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    app.state.services = svc  # what every endpoint uses (cityeye.api.deps)

    # Outside everything else, FastAPI's own error pages included: every response gets
    # the security headers, and no body over its limit reaches a parser.
    csp = content_security_policy(os.environ.get("CITYEYE_TILES", ""))
    inner = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        return SecurityHeaders(BodyLimit(inner()), csp)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
    return app
