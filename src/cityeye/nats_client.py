"""A NATS client for the bus (:mod:`cityeye.live.bus`) and for NATS's MQTT server
(:mod:`cityeye.ingest.mqtt_nats`): one way to connect, retry and say what went wrong.

Below both of them (layers import downwards only: docs/architecture.md). nats-py is
imported when a connection is made, so a district without NATS never loads it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from cityeye.errors import ServiceError

#: Seconds between attempts to reach NATS while it is away (one line each).
RETRY_S = 5
#: Seconds one attempt may take (a host that does not answer at all).
CONNECT_TIMEOUT_S = 5
#: How long a start waits for NATS before it goes on without it.
CONNECT_WAIT_S = CONNECT_TIMEOUT_S + 1.0
#: A connection that stops answering is given up after two pings this far apart
#: (nats-py's default, 2 minutes, would leave publishes timing out for 4).
PING_S = 10
T = TypeVar("T")
log = logging.getLogger("cityeye.bus")


class BusError(ServiceError, RuntimeError):
    """The bus is set up differently (or, for a caller that will not wait, away)."""


def reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def shown(url: str) -> str:
    """``url`` fit for a log line or the status page: a user and password in it
    (``nats://user:secret@host``) are left out."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


async def connect(url: str, name: str, failed: Callable[[BaseException], None]) -> Any:
    """A client of ``url`` that keeps reconnecting for ever. Returns once connected,
    trying every :data:`RETRY_S` seconds meanwhile; ``failed`` hears of each failed
    attempt (and of the client's later asynchronous errors) instead of nats-py's
    default, which logs a traceback per attempt. A malformed URL raises at once."""
    import nats

    where = shown(url)
    client: list[Any] = []

    async def error_cb(exc: Exception) -> None:
        failed(exc)

    async def disconnected_cb() -> None:
        if client and not client[0].is_closed:  # not our own close
            log.warning("lost NATS at %s; reconnecting every %s s", where, RETRY_S)

    async def reconnected_cb() -> None:
        log.info("NATS at %s is back", where)

    try:
        nc = await nats.connect(
            url,
            name=name,
            connect_timeout=CONNECT_TIMEOUT_S,
            reconnect_time_wait=RETRY_S,
            ping_interval=PING_S,
            max_outstanding_pings=2,
            max_reconnect_attempts=-1,
            allow_reconnect=True,
            error_cb=error_cb,
            disconnected_cb=disconnected_cb,
            reconnected_cb=reconnected_cb,
        )
    except Exception as exc:  # not a refused or lost connection (those are retried)
        raise BusError(f"cannot use NATS at {where}: {reason(exc)}") from None
    client.append(nc)
    return nc


class AsyncLoop:
    """An asyncio loop on a thread of its own, for a synchronous caller."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return self.submit(coro).result(timeout)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        """Cancel what the client left running (its reader, pinger, flusher), then
        stop and close the loop: nothing is left to be collected half-done."""

        async def cancel_rest() -> None:
            me = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not me]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.run(cancel_rest(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()
