"""How ``cityeye serve`` runs the app under uvicorn: what a connection may cost, what the
access log may show, whom the server believes about a client's address, and how it stops.

* **Slow clients** (slowloris): a connection has :data:`HEADER_TIMEOUT_S` from its
  first byte — or from the end of the previous answer on a kept-alive connection — to
  send a whole request head, and :data:`BODY_TIMEOUT_S` from then to send the body;
  dripping a byte now and then does not reset either clock. An idle kept-alive
  connection is closed after :data:`KEEP_ALIVE_S`.
* **Access log**: the values of query parameters that carry secrets (``api_key``,
  ``token``, ``key``, …) are replaced by ``***`` before a line is written.
* **Forwarded headers**: believed only from the proxies ``--forwarded-allow-ips``
  names; by default from none (uvicorn would believe 127.0.0.1, which lets any local
  process, or a proxy that passes the header on unchanged, choose its address).
* **Stopping**: on SIGINT/SIGTERM the app's ``stopping`` event is set at once, so
  long-lived answers (the live alert stream) end and the server can run its shutdown
  (the engine's final snapshot) instead of waiting for every browser to go away;
  :data:`GRACEFUL_S` bounds the wait for anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any
from urllib.parse import unquote_plus

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a client has to send the request line and headers.
HEADER_TIMEOUT_S = 10.0
#: Seconds a client has, after its headers, to send the whole body (a 10 MiB photo
#: over a slow mobile link fits; a trickle that never ends does not).
BODY_TIMEOUT_S = 60.0
#: Seconds an idle kept-alive connection stays open (uvicorn's default, made explicit).
KEEP_ALIVE_S = 5
#: Seconds a clean stop waits for answers still being sent before cutting them off.
GRACEFUL_S = 10

#: Query parameter names whose values are secrets (matched case-insensitively as part
#: of the name: ``api_key``, ``access_token``, ``follow_key``, ``password``…).
SECRET_PARAM = re.compile(r"key|token|secret|passw|auth|session|csrf|signature|credential", re.I)
REDACTED = "***"
#: Paths whose last part is a secret: a survey's one-time link (``/survey/sv_…``).
SECRET_PATH = re.compile(r"^(/survey/)[^/?]+")


def redact_query(target: str) -> str:
    """``target`` (a path with its query) with the values of secret-looking query
    parameters replaced by ``***``, and a survey link's token (:data:`SECRET_PATH`);
    everything else as it was."""
    path, mark, query = target.partition("?")
    path = SECRET_PATH.sub(rf"\g<1>{REDACTED}", path)
    if not mark:
        return path
    parts = []
    for part in query.split("&"):
        name, eq, _value = part.partition("=")
        if eq and SECRET_PARAM.search(unquote_plus(name)):
            part = f"{name}={REDACTED}"
        parts.append(part)
    return f"{path}?{'&'.join(parts)}"


class RedactSecrets(logging.Filter):
    """A logging filter for uvicorn's access log: secret query values never reach it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_query(a)
                if isinstance(a, str) and ("?" in a or a.startswith("/survey/"))
                else a
                for a in record.args
            )
        return True


class TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with deadlines for a request's head and body
    (uvicorn has only the idle keep-alive timeout, which any byte resets)."""

    header_timeout_s = HEADER_TIMEOUT_S
    body_timeout_s = BODY_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for: str | None = None  # "head", "body" or None

    def _arm(self, what: str, seconds: float) -> None:
        self._disarm()
        self._waiting_for = what
        self._deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._waiting_for = None, None

    def _follow(self) -> None:
        """Arm or disarm after the parser moved on: a head is awaited while the peer's
        state is IDLE, a body while it is SEND_BODY; the clock is not reset while the
        same part is still awaited."""
        state = self.conn.their_state
        if state is h11.IDLE and self.conn.our_state is h11.IDLE:
            if self._waiting_for != "head":
                self._arm("head", self.header_timeout_s)
        elif state is h11.SEND_BODY:
            if self._waiting_for != "body":
                self._arm("body", self.body_timeout_s)
        else:
            self._disarm()

    def _too_slow(self) -> None:
        what = self._waiting_for
        self._deadline, self._waiting_for = None, None
        if self.transport.is_closing():
            return
        self.logger.info("closing a connection that was too slow sending its request %s", what)
        if what == "head":
            # no request yet, so h11 cannot answer; say why in plain bytes, then close
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
        elif self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's next receive() says so
            self.cycle.message_event.set()
        self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if not self.transport.is_closing():
            self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._follow()


class StoppingServer(uvicorn.Server):
    """uvicorn's server that also sets ``stopping`` the moment it is told to exit."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopping.set()
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's, without raising the signal again once stopped: a stop asked for
        by SIGINT or SIGTERM is a clean stop (exit 0), and the command's own clean-up
        (the MQTT subscriber's disconnect) still runs after the server returns."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def run(
    app: Any,
    *,
    host: str,
    port: int,
    forwarded_allow_ips: str | None = None,
    header_timeout_s: float = HEADER_TIMEOUT_S,
    body_timeout_s: float = BODY_TIMEOUT_S,
    keep_alive_s: int = KEEP_ALIVE_S,
    graceful_s: int = GRACEFUL_S,
) -> None:
    """Serve ``app`` (a :func:`~cityeye.api.app.create_app` app) until told to stop."""
    protocol = type(
        "CityeyeH11Protocol",
        (TimedH11Protocol,),
        {"header_timeout_s": header_timeout_s, "body_timeout_s": body_timeout_s},
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        http=protocol,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips or "",
        timeout_keep_alive=keep_alive_s,
        timeout_graceful_shutdown=graceful_s,
    )
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())  # after its dictConfig
    own = logging.getLogger("cityeye")
    if not own.handlers:  # the server's own lines (the final snapshot) beside uvicorn's
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        own.addHandler(handler)
        own.setLevel(logging.INFO)
        own.propagate = False
    services = getattr(app.state, "services", None)  # an app of create_app's
    stopping = services.stopping if services is not None else threading.Event()
    StoppingServer(config, stopping).run()
