"""What every request and every response goes through, whatever the endpoint: a body
limit enforced before anything parses the body, and the browser security headers.

Both are plain ASGI middleware (no request object is built), added by
:func:`~cityeye.api.app.create_app`, so tests and ``cityeye serve`` get the same.

Body limits (docs/security.md): ``POST /api/v1/events`` takes batches up to 16 MiB,
photo uploads (``/api/v1/attachments``, ``/api/v1/portal/photos``) up to the photo
limit (10 MiB), everything else :data:`DEFAULT_BODY_LIMIT` (1 MiB: the longest form in
the API — meeting minutes, a suggestion — is a few KB of text). A declared
``Content-Length`` over the limit is refused at once (413, nothing read); a body sent
without one (chunked) is counted as it arrives and refused the moment it passes the
limit. Either way the connection is closed, so the rest is never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cityeye.api.events import MAX_BODY as EVENTS_MAX_BODY
from cityeye.attachments import MAX_BYTES as PHOTO_MAX_BYTES
from cityeye.errors import CityeyeError

#: The body limit of every endpoint not named in :data:`BODY_LIMITS` (bytes).
DEFAULT_BODY_LIMIT = 1024 * 1024
#: Paths that take more than the default: event batches and photos.
BODY_LIMITS: Mapping[str, int] = {
    "/api/v1/events": EVENTS_MAX_BODY,
    "/api/v1/attachments": PHOTO_MAX_BYTES,
    "/api/v1/portal/photos": PHOTO_MAX_BYTES,
}


class BodyTooLarge(CityeyeError):
    """Raised to the application when its body passed the limit (the 413 is sent). In
    no family of :mod:`cityeye.errors`, so no handler answers it a second time."""


async def _send_413(send: Send, limit: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail, "limit": limit})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),  # the rest of the body is never read
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse a request body over its path's limit before the application reads it."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Mapping[str, int] = BODY_LIMITS,
        default: int = DEFAULT_BODY_LIMIT,
    ) -> None:
        self.app = app
        self.limits = dict(limits)
        self.default = default

    def limit_for(self, path: str) -> int:
        return self.limits.get(path.rstrip("/") or "/", self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                detail = f"body is {int(value)} bytes; at most {limit} accepted here"
                await _send_413(send, limit, detail)
                return
        received = 0
        answered = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    answered = True
                    if not started:
                        await _send_413(send, limit, f"body is over {limit} bytes; refused")
                    raise BodyTooLarge(f"body over {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the 413 went out; the application's late answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not answered:
                raise
            # what the application made of a body cut short (BodyTooLarge, or a
            # framework's wrapper of it) does not matter: the client has its 413


def content_security_policy(tiles: str = "") -> str:
    """The CSP of every page: scripts and styles only from this server's files (no
    inline script, no ``eval``, no ``<style>`` an injection could add), pictures also
    from ``data:``/``blob:`` (a photo preview) and the configured map tile server,
    never framed. Style *attributes* stay allowed: ECharts' tooltips and Leaflet's
    panes are laid out with them (they cannot read the page, unlike a stylesheet's
    selectors)."""
    images = ["'self'", "data:", "blob:"]
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "*"))
        if parts.scheme in ("http", "https") and parts.hostname:
            host = parts.netloc.rsplit("@", 1)[-1]
            images.append(f"{parts.scheme}://{host}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


#: Sent with every response, whatever it is (a page, JSON, a photo, an error).
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
#: Only over TLS (directly, or from a trusted proxy's X-Forwarded-Proto): a browser
#: told this over plain HTTP would refuse a site that has no TLS at all.
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    """Add the CSP, framing, sniffing and referrer headers (and HSTS over TLS) to every
    response that does not set them itself."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.headers = (*SECURITY_HEADERS, (b"content-security-policy", csp.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers + ((HSTS,) if scope.get("scheme") == "https" else ())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in have]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
