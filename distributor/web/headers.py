"""Security headers on every answer of the web app, error pages included.

`SecureHeaders` is a pure ASGI middleware (no BaseHTTPMiddleware: it sees every response start,
streamed or not). An unhandled exception is answered by Starlette's outermost error middleware,
which no user middleware wraps, so `server_error` (the app's 500 handler) sets them itself and
says nothing about the exception (it is logged).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# No scripts, no inline styles, no third-party origin anywhere; the admin UI works without JS.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
_RAW = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]


class SecureHeaders:
    """Adds `HEADERS` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                have = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in _RAW if k not in have]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_secured)


async def server_error(request: Request, exc: Exception) -> Response:
    """The 500 answer: a fixed text with the security headers; the exception goes to the log."""
    from starlette.responses import PlainTextResponse

    log.error("%s %s: unhandled %s", request.method, request.url.path, type(exc).__name__)
    return PlainTextResponse("internal error (see the server log)", 500, headers=HEADERS)


def secure(app: Any) -> None:
    """Install the headers middleware and the 500 handler on a FastAPI/Starlette app."""
    app.add_middleware(SecureHeaders)
    app.add_exception_handler(Exception, server_error)
