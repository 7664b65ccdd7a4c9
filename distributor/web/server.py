"""How `distributor serve` runs uvicorn: proxy headers only when trusted, request deadlines.

    uvicorn.run(app, **server_options(host, port, grace=10, forwarded_allow_ips=None))

uvicorn trusts `X-Forwarded-For` from 127.0.0.1 by default, so any local client could pick the
address the login limits and the audit log see; here proxy headers count only from the
addresses named in `--forwarded-allow-ips`. uvicorn has no deadline for reading a request:
a client that drips its headers or body one byte at a time held a connection for as long as it
liked. `DeadlineProtocol` gives each request `request_timeout` seconds from its first byte
(from the connection for the first request) to its last body byte, then closes the
connection; an idle keep-alive connection is closed after `KEEP_ALIVE` seconds. Request
headers still incomplete after `MAX_HEADER_BYTES` get a 431 and the connection is closed.
It is uvicorn's httptools protocol (llhttp, in C): h11, in Python, cost the event loop a
quarter of its time per webhook (bench/NOTES.md, 2026-12-03).
`share_gil()` sets the interval at which CPython hands the GIL on (see `SWITCH_INTERVAL`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = 20.0  # seconds to send one request's headers and body
KEEP_ALIVE = 5  # seconds an idle connection stays open between requests
MAX_HEADER_BYTES = 16 * 1024  # request line + headers, while they are incomplete
TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\ncontent-length: 29\r\n"
    b"connection: close\r\n\r\nrequest headers are too large"
)
# The event loop and the webhook's writer thread (web/intake.py) share one GIL. The writer
# gives it up for every SQLite statement, and getting it back meant waiting for the loop to
# block or for CPython's 5 ms switch interval to pass: a batch of a dozen statements waited
# several times over while requests kept arriving. In bench/webhook_bench.py's open loop at
# 80% of capacity, eleven alternating runs each: median p99 47 ms with 1 ms, 69 ms with 5 ms.
SWITCH_INTERVAL = 0.001


def share_gil() -> None:
    """Hand the GIL on after `SWITCH_INTERVAL` seconds instead of 5 ms (this process)."""
    sys.setswitchinterval(SWITCH_INTERVAL)


class DeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a total deadline for reading each request and a
    limit on incomplete request headers."""

    request_timeout = REQUEST_TIMEOUT
    max_header_bytes = MAX_HEADER_BYTES

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._reading = True  # a request is being read: the first one, from the connection
        self._head: int | None = 0  # bytes received while the headers are incomplete
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._head is not None:
            self._head += len(data)
        super().data_received(data)  # the parser's callbacks below run in here
        if self.transport.is_closing() or not self._reading:
            self._disarm()
        elif self._head is not None and self._head > self.max_header_bytes:
            self._refuse_head()
        else:
            self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading = True

    def on_headers_complete(self) -> None:
        self._head = None  # complete: what follows is body, limited by the app
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading, self._head = False, 0  # the next request's headers count afresh

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse_head(self) -> None:
        log.warning(
            "closed a connection whose request headers passed %d bytes", self.max_header_bytes
        )
        self._disarm()
        self.transport.write(TOO_LARGE)
        self.transport.close()

    def _too_slow(self) -> None:
        self._deadline = None
        if self._reading and not self.transport.is_closing():
            log.warning(
                "closed a connection that sent no complete request within %g s",
                self.request_timeout,
            )
            self.transport.close()  # connection_lost: the app's receive() sees a disconnect


def server_options(
    host: str,
    port: int,
    *,
    grace: float = 10.0,
    forwarded_allow_ips: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run`/`uvicorn.Config`."""
    trusted = (forwarded_allow_ips or "").strip()
    return {
        "host": host,
        "port": port,
        "log_config": None,  # keep our (redacting) logging setup
        "timeout_graceful_shutdown": grace,
        "server_header": False,
        "access_log": False,  # uvicorn.access logs at WARNING at most (logs.NOISY): never shown
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "http": DeadlineProtocol,
        "timeout_keep_alive": KEEP_ALIVE,
    }
