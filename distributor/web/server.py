"""How `distributor serve` runs uvicorn: proxy headers only when trusted, request deadlines.

    uvicorn.run(app, **server_options(host, port, grace=10, forwarded_allow_ips=None))

uvicorn trusts `X-Forwarded-For` from 127.0.0.1 by default, so any local client could pick the
address the login limits and the audit log see; here proxy headers count only from the
addresses named in `--forwarded-allow-ips`. uvicorn has no deadline for reading a request:
a client that drips its headers or body one byte at a time held a connection for as long as it
liked. `DeadlineH11Protocol` gives each request `request_timeout` seconds from its first byte
(from the connection for the first request) to its last body byte, then closes the
connection; an idle keep-alive connection is closed after `KEEP_ALIVE` seconds.
`share_gil()` sets the interval at which CPython hands the GIL on (see `SWITCH_INTERVAL`).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)
REQUEST_TIMEOUT = 20.0  # seconds to send one request's headers and body
KEEP_ALIVE = 5  # seconds an idle connection stays open between requests
MAX_HEADER_BYTES = 16 * 1024  # request line + headers (h11's incomplete event size)
# The event loop and the webhook's writer thread (web/intake.py) share one GIL. The writer
# gives it up for every SQLite statement, and getting it back meant waiting for the loop to
# block or for CPython's 5 ms switch interval to pass: a batch of a dozen statements waited
# several times over while requests kept arriving. In bench/webhook_bench.py's open loop at
# 80% of capacity, eleven alternating runs each: median p99 47 ms with 1 ms, 69 ms with 5 ms.
SWITCH_INTERVAL = 0.001


def share_gil() -> None:
    """Hand the GIL on after `SWITCH_INTERVAL` seconds instead of 5 ms (this process)."""
    sys.setswitchinterval(SWITCH_INTERVAL)


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a total deadline for reading each request."""

    request_timeout = REQUEST_TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.DONE or self.transport.is_closing():
            self._disarm()
        else:
            self._arm()

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

    def _too_slow(self) -> None:
        self._deadline = None
        if self.conn.their_state is not h11.DONE and not self.transport.is_closing():
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
        "http": DeadlineH11Protocol,
        "timeout_keep_alive": KEEP_ALIVE,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }
