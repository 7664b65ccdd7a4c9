"""The HTTP plumbing of the sandbox: a threading HTTP/1.1 server and its request handler.

One thread per connection with keep-alive, Nagle off, and headers plus body sent in one write:
the fan-out benchmark must measure `distributor`, not this server. `reset()` aborts a
connection with a TCP RST (SO_LINGER 0, then close), as a crashed proxy would. Bodies come with
Content-Length or chunked (requests sends generators chunked); anything else is a 400.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from distributor.sandbox.emulator import Reply

if TYPE_CHECKING:
    from distributor.sandbox.core import Sandbox

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024 * 1024  # larger than any platform's media limit we emulate


class BadBody(Exception):
    """The request body's framing is broken (bad Content-Length or chunk sizes)."""


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    sandbox: Sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A crash in one connection goes to the log (not a bare traceback on stderr)."""
        log.exception("sandbox: error while serving %s", client_address)


class Server6(Server):
    address_family = socket.AF_INET6


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "distributor-sandbox"
    disable_nagle_algorithm = True
    server: Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the request log is kept in state, not printed."""

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the connection was reset on purpose
            super().finish()

    def do_GET(self) -> None:
        try:
            self.server.sandbox.dispatch(self)
        except BadBody as exc:
            self.close_connection = True
            self.send(Reply(400, {"error": f"bad request body: {exc}"}))

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def read_body(self) -> bytes:
        """The request body (Content-Length or chunked); BadBody when its framing is broken."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = self.headers.get("Content-Length") or "0"
        if not raw.strip().isdigit() or int(raw) > MAX_BODY:
            raise BadBody(f"Content-Length {raw!r}")
        length = int(raw)
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise BadBody(f"chunk size {line!r}") from None
            total += size
            if size < 0 or total > MAX_BODY:
                raise BadBody("chunked body too large")
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(16)  # the CRLF after each chunk

    def send(self, reply: Reply) -> None:
        body = reply.encode()
        self.send_response(reply.status)
        if reply.content_type:  # an empty answer may come without one (the PDS's 200s do)
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
        if self.command != "HEAD":
            self._headers_buffer.append(body)  # type: ignore[attr-defined]
        self.flush_headers()  # one write: headers and body together

    def reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0, then close)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
