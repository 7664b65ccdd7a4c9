"""The HTTP plumbing of the sandbox: a threading HTTP/1.1 server and its request handler.

One thread per connection with keep-alive, Nagle off, and headers plus body sent in one write:
the fan-out benchmark must measure `distributor`, not this server. `reset()` aborts a
connection with a TCP RST (SO_LINGER 0, then close), as a crashed proxy would. Bodies come with
Content-Length or chunked (requests sends generators chunked); anything else is a 400. The
server keeps its open connections, so `drop_idle()` can end the ones waiting for a next request.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        # Every open connection: the thread serving it, and whether it is answering just now.
        self.connections: dict[socket.socket, tuple[threading.Thread, bool]] = {}
        self.closing: set[socket.socket] = set()  # to close after the answer they are giving
        self.stopping = False  # set: every connection closes after its answer

    def drop_idle(self, wait: float = 2.0) -> None:
        """Close every kept-alive connection (as a restarted server would): the idle ones now,
        giving their threads up to `wait` seconds to end, the busy ones after their answer.
        Their threads end now, not when the client that keeps them is garbage-collected."""
        with self.lock:
            self.closing.update(s for s, (_, busy) in self.connections.items() if busy)
            idle = [(s, thread) for s, (thread, busy) in self.connections.items() if not busy]
        for sock, _ in idle:
            with contextlib.suppress(OSError):  # the client closed it meanwhile
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + wait
        for _, thread in idle:
            thread.join(max(0.0, deadline - time.monotonic()))

    def mark(self, sock: socket.socket, busy: bool | None) -> None:
        """Record this thread's connection as answering (True), waiting (False) or gone (None)."""
        with self.lock:
            if busy is None:
                self.connections.pop(sock, None)
                self.closing.discard(sock)
            else:
                self.connections[sock] = (threading.current_thread(), busy)

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

    def setup(self) -> None:
        super().setup()
        self.server.mark(self.connection, False)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def finish(self) -> None:
        self.server.mark(self.connection, None)
        with contextlib.suppress(OSError, ValueError):  # the connection was reset on purpose
            super().finish()

    def do_GET(self) -> None:
        self.server.mark(self.connection, True)
        try:
            self.server.sandbox.dispatch(self)
        except BadBody as exc:
            self.close_connection = True
            self.send(Reply(400, {"error": f"bad request body: {exc}"}))
        finally:
            self.server.mark(self.connection, False)
            if self.server.stopping or self.connection in self.server.closing:
                self.close_connection = True

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
