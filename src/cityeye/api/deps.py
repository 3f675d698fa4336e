"""What the endpoints work with, built once per app and handed to them by ``Depends``.

Every router of :mod:`cityeye.api` is a module-level ``APIRouter`` whose endpoints are
plain module-level functions: what they need (the store, the live pipeline, the photo
store, the clock, the limits, …) is one :class:`Services` object that
:func:`cityeye.api.app.create_app` keeps on ``app.state.services``, and an endpoint asks
for it by its parameter type, ``svc: Svc``. Why this way, and not a router built by a
function that closes over its arguments (what cityeye did before issue 16):

* a reader finds an endpoint at the top level of its module, with its signature telling
  everything it uses, and the OpenAPI schema is the same;
* one object says what the application is made of, instead of a dozen constructors'
  argument lists; a test swaps one part (a limit on a clock it moves) on the app it
  built, ``app.state.services.sign_ins = SignInGuard(clock=...)``, and nothing else;
* FastAPI can resolve the dependencies from the module's names (no closure-local names
  in annotations, which is what forced some modules to give up postponed annotations).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends, Request

from cityeye.api.limits import (
    HOUR,
    PHOTOS_PER_HOUR,
    PLACE_LOOKUPS,
    REPORTS_PER_HOUR,
    SUGGESTIONS_PER_HOUR,
    TEN_MINUTES,
    SignInGuard,
    Throttle,
)
from cityeye.api.status import CachedStatus
from cityeye.assessment.rules import Rules, default_rules
from cityeye.attachments import AttachmentStore
from cityeye.domain import World
from cityeye.errors import ServiceError
from cityeye.live.clock import Clock, WallClock
from cityeye.live.pipeline import Pipeline
from cityeye.store import Store
from cityeye.world.places import Places

if TYPE_CHECKING:
    from cityeye.participation.service import Participation


class NotLive(ServiceError):
    """An endpoint that needs the live pipeline was reached on an app built without one
    (it is never routed there: :func:`cityeye.api.app.create_app` adds those routers
    only with a pipeline)."""


@dataclass(eq=False)
class Services:
    """Everything the endpoints use (one per app, on ``app.state.services``).

    ``pipeline``: the live intake (``None``: a read-only app over a store, such as the
    status page of ``cityeye report``'s database); ``open_ingest``: take events and
    Open311 requests without a token (demos, tests); ``stopping``: set when the server
    is told to stop, so long-lived answers (event streams) end."""

    store: Store
    files: AttachmentStore
    clock: Clock = field(default_factory=WallClock)
    pipeline: Pipeline | None = None
    open_ingest: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)
    #: Failed sign-ins slow the next ones (cityeye.api.limits).
    sign_ins: SignInGuard = field(default_factory=SignInGuard)
    #: The anonymous pages' per-address limits.
    report_limits: Throttle = field(default_factory=lambda: Throttle(REPORTS_PER_HOUR, HOUR))
    photo_limits: Throttle = field(default_factory=lambda: Throttle(PHOTOS_PER_HOUR, HOUR))
    suggestion_limits: Throttle = field(
        default_factory=lambda: Throttle(SUGGESTIONS_PER_HOUR, HOUR)
    )
    place_limits: Throttle = field(default_factory=lambda: Throttle(PLACE_LOOKUPS, TEN_MINUTES))
    #: 社情民意与议事 (built with the live pipeline: it routes suggestions into cases).
    participation: Participation | None = None
    #: The contest's rules (数字治理赛; ``cityeye serve --assessment``, else the packaged).
    assessment: Rules = field(default_factory=default_rules)

    @property
    def live(self) -> Pipeline:
        """The live pipeline; :class:`NotLive` (503) on an app without one."""
        if self.pipeline is None:
            raise NotLive("this server takes no live events (started without a pipeline)")
        return self.pipeline

    @cached_property
    def status(self) -> CachedStatus:
        """The status page's snapshot (public and polled: computed at most every 1.5 s)."""
        return CachedStatus(self.store)

    @cached_property
    def world(self) -> World:
        """The district: the pipeline's, else the stored one (empty if none)."""
        if self.pipeline is not None:
            return self.pipeline.world
        return self.store.load_world() or World.empty()

    @cached_property
    def places(self) -> Places:
        """The district's public places by point and by name (built on first use)."""
        locate = self.pipeline.locate if self.pipeline is not None else None
        return Places(self.world, locate)


def services(request: Request) -> Services:
    """The app's :class:`Services` (a FastAPI dependency: ``svc: Svc``)."""
    return cast(Services, request.app.state.services)


#: An endpoint's parameter ``svc: Svc`` receives the app's :class:`Services`.
Svc = Annotated[Services, Depends(services)]
