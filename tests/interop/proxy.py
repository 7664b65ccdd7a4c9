"""A loopback HTTP proxy that forwards to the PDS and loses the answer of one chosen call.

The first request whose path contains `drop` is forwarded and processed by the PDS, then the
connection is closed without an answer: exactly the "did my post go through?" case.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

import requests

_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}


class LosingProxy:
    """`with LosingProxy(upstream, drop=nsid) as proxy:` then send to `proxy.url`."""

    def __init__(self, upstream: str, drop: str, times: int = 1) -> None:
        self.upstream, self.drop, self.times, self.dropped = upstream, drop, times, 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                answer = requests.request(
                    self.command,
                    proxy.upstream + self.path,
                    headers=headers,
                    data=body,
                    timeout=30,
                )
                if proxy.lose(self.path):
                    self.close_connection = True  # processed upstream, answer lost here
                    return
                self.send_response(answer.status_code)
                for name, value in answer.headers.items():
                    if name.lower() not in _HOP | {"content-encoding"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def lose(self, path: str) -> bool:
        with self._lock:
            if self.drop in path and self.dropped < self.times:
                self.dropped += 1
                return True
        return False

    def __enter__(self) -> LosingProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
