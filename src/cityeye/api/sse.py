"""Server-sent event streams read from a table by sequence number: the live alert
stream and the desk's notification stream share this one loop.

What each stream gets: a ``retry`` hint; every row after the cursor as ``id: <seq>`` +
``event: <name>`` + ``data: <json>`` (resume with ``Last-Event-ID`` or ``after``);
a heartbeat comment when quiet, so proxies keep the connection; the end when the
server is stopping (the browser reconnects to the next one), when the client has
gone, or when the credential it opened with has been revoked (checked every
``recheck_s``: reconnecting then gets 401).
"""

# no `from __future__ import annotations`: kept like the routers that call it

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from cityeye.api.auth import still_signed_in

#: ``fetch(cursor)`` → rows after it, oldest first: (seq, JSON bytes, or ``None`` for
#: a row this stream skips — the cursor still moves past it).
Fetch = Callable[[int], Sequence[tuple[int, bytes | None]]]


class Wake(Protocol):
    """Something that says new rows were committed in this process
    (:class:`cityeye.store.outbox.Bell`)."""

    @property
    def generation(self) -> int: ...

    async def wait(self, generation: int, timeout_s: float) -> None: ...


#: The largest cursor a stream may be asked to resume after: the database's 64-bit
#: integer (a larger one was a 500 from the driver, found by the API's fuzz test).
MAX_SEQ = 2**63 - 1


def last_event_id(after: int | None, header: str | None) -> int | None:
    """``after``, else the ``Last-Event-ID`` header a reconnecting browser sends (one
    that is no sequence number, or beyond :data:`MAX_SEQ`, is ignored)."""
    if after is None and header is not None and header.isdigit() and len(header) < 20:
        value = int(header)
        return value if value <= MAX_SEQ else None
    return after


def sse_response(
    request: Request,
    fetch: Fetch,
    cursor: int,
    *,
    event: str,
    limit: int | None = None,
    poll_s: float = 1.0,
    heartbeat_s: float = 15.0,
    recheck_s: float = 15.0,
    wake: Wake | None = None,
) -> StreamingResponse:
    """The stream of ``fetch``'s rows after ``cursor``; ``limit`` ends it after that
    many rows. ``wake``: waits end as soon as rows are committed in this process
    (otherwise the table is looked at every ``poll_s``)."""
    services = request.app.state.services  # cityeye.api.deps.Services
    store, stopping = services.store, services.stopping

    async def events() -> AsyncIterator[bytes]:
        nonlocal cursor
        sent, quiet = 0, 0.0
        checked = time.monotonic()
        name = event.encode()
        yield b"retry: 3000\n\n"
        while not stopping.is_set():
            if await request.is_disconnected():
                return
            if time.monotonic() - checked >= recheck_s:
                if not await run_in_threadpool(still_signed_in, store, request):
                    return
                checked = time.monotonic()
            seen = wake.generation if wake is not None else 0
            rows = await run_in_threadpool(fetch, cursor)
            for seq, data in rows:
                cursor = seq
                if data is None:
                    continue
                yield b"id: %d\nevent: %s\ndata: %s\n\n" % (seq, name, data)
                sent += 1
                if limit is not None and sent >= limit:
                    return
            if rows:
                quiet = 0.0
                continue
            if quiet >= heartbeat_s:
                yield b": ping\n\n"  # keeps proxies from closing an idle stream
                quiet = 0.0
            started = time.monotonic()
            if wake is not None:
                await wake.wait(seen, poll_s)
            else:
                await asyncio.sleep(poll_s)
            quiet += time.monotonic() - started

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)
