"""The desk's notifications (``/api/v1/notifications``): a signed-in person's own
notices — a case dispatched to their party, a critical or escalated case in their
areas, their report handled or closed, a leader's 督办 or 催办 of a case they handle —
as a list and as a live stream.

Only the caller's own rows are ever read (the query is by their user id), so nobody
sees another person's notifications, whatever they ask for. The stream is woken the
moment the case change is committed in this process (and looks every second for rows
written by other processes), so a dispatch reaches an open desk well within 2 s.
The design: :mod:`cityeye.cases.outbox`.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from cityeye.api.auth import CurrentUser
from cityeye.api.deps import Svc
from cityeye.api.sse import MAX_SEQ, sse_response
from cityeye.api.sse import last_event_id as resume_from
from cityeye.store.outbox import BELL, desk_items, last_desk_seq

#: The stream looks at the table this often for rows other processes wrote, and says
#: it is alive this often; it rechecks the credential this often.
POLL_S = 1.0
HEARTBEAT_S = 15.0
RECHECK_S = 15.0


class NotificationItem(BaseModel):
    seq: int
    case_id: str | None  # None: the routine's (a daily reminder, a bulletin, a result)
    # dispatched | critical | escalated | handled | closed | supervised | urged;
    # reminder | bulletin | result (the routine's: cityeye.routine)
    kind: str
    title: str
    text: str
    severity: str
    area: str | None
    at: str  # ISO 8601, when it happened (the case's time)
    # where to open it: /desk#case=<id> (a resident's: /portal#track=<id>); the
    # routine's: /desk#tab=overdue, a bulletin's file, /board?period=<round>
    url: str


class NotificationPage(BaseModel):
    items: list[NotificationItem]
    last: int  # the newest seq listed (or ``after``; 0: none yet): stream after it


router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


@router.get("")
def notifications(
    user: CurrentUser,
    svc: Svc,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_SEQ, description="only those after this seq")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> NotificationPage:
    """My desk notifications, newest last: those after ``after``, or the newest
    ``limit``. ``last`` is where the stream (or the next poll) goes on from."""
    items: list[dict[str, Any]] = desk_items(svc.store, user.id, after, limit)
    if items:
        last = items[-1]["seq"]
    else:
        last = after if after is not None else last_desk_seq(svc.store, user.id)
    return NotificationPage(items=[NotificationItem(**i) for i in items], last=last)


@router.get("/stream")
async def stream(
    request: Request,
    user: CurrentUser,
    svc: Svc,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_SEQ, description="resume after this seq")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """Server-sent events: each of my desk notifications as it is made
    (``event: notification``, ``id``: its seq, ``data``: the item as listed);
    resume with ``Last-Event-ID`` or ``after`` (default: only new ones).
    ``limit`` ends the stream after that many."""
    start = resume_from(after, last_event_id)
    if start is None:
        start = await run_in_threadpool(last_desk_seq, svc.store, user.id)

    def fetch(cursor: int) -> list[tuple[int, bytes | None]]:
        return [(i["seq"], orjson.dumps(i)) for i in desk_items(svc.store, user.id, cursor, 100)]

    return sse_response(
        request,
        fetch,
        start,
        event="notification",
        limit=limit,
        poll_s=POLL_S,
        heartbeat_s=HEARTBEAT_S,
        recheck_s=RECHECK_S,
        wake=BELL,
    )
