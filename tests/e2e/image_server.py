"""A loopback HTTP server handing out one test JPEG, for adapters that upload the article image."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# a minimal JPEG header and filler: the adapters upload bytes, no decoder looks inside
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 2048
    + b"\xff\xd9"
)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path.startswith("/img/")
        body = JPEG if found else b"not found"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "image/jpeg" if found else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def image_server() -> Iterator[str]:
    """Yields the base URL; `<base>/img/<name>.jpg` is the test JPEG."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
