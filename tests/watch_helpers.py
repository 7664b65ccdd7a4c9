"""A loopback feed server for the watch tests: feeds that change between polls, with ETag and
Last-Modified honoured (304), slow, huge, broken and redirecting routes, and a request log."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

T0 = datetime(2026, 4, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    n: int
    title: str = ""
    link: str = ""
    guid: str | None = None
    when: datetime | None = None
    text: str = ""

    def __post_init__(self) -> None:
        defaults = {
            "title": f"Meldung {self.n}: Der Landtag beschließt Gesetz Nummer {self.n}",
            "link": f"https://news.example/politik/meldung-{self.n}",
            "when": T0 + timedelta(hours=self.n),
            "text": f"Nach langer Debatte stimmte eine Mehrheit für Vorlage {self.n}.",
        }
        for key, value in defaults.items():
            if not getattr(self, key):
                object.__setattr__(self, key, value)


def rss(items: list[Item]) -> bytes:
    """An RSS 2.0 feed of `items`, in the order given."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>News</title><link>https://news.example/</link><language>de</language>"
    ]
    for it in items:
        guid = f"<guid isPermaLink='false'>{escape(it.guid)}</guid>" if it.guid else ""
        date = f"<pubDate>{format_datetime(it.when)}</pubDate>" if it.when else ""
        out.append(
            f"<item><title>{escape(it.title)}</title><link>{escape(it.link)}</link>{guid}"
            f"{date}<description>{escape(it.text)}</description></item>"
        )
    out.append("</channel></rss>")
    return "".join(out).encode()


@dataclass
class Route:
    body: bytes = b""
    etag: bool = True
    last_modified: bool = True
    status: int = 200
    delay: float = 0.0
    location: str | None = None
    modified: str = field(default_factory=lambda: format_datetime(T0, usegmt=True))

    @property
    def tag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass(frozen=True)
class Seen:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int
    host: str


class FeedServer:
    """Routes by path; `set(path, body)` changes a feed between polls."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.port = 0

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def set(self, path: str, body: bytes, **options: object) -> Route:
        old = self.routes.get(path)
        route = Route(body=body, **options)  # type: ignore[arg-type]
        if old is not None and old.body != body:  # a changed feed has a newer Last-Modified
            route.modified = format_datetime(T0 + timedelta(minutes=len(self.seen)), usegmt=True)
        elif old is not None:
            route.modified = old.modified
        self.routes[path] = route
        return route

    def statuses(self, path: str) -> list[int]:
        return [s.status for s in self.seen if s.path == path]


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            route = server.routes.get(self.path, Route(b"not here", status=404))
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            status = route.status
            if status == 200 and (
                (route.etag and inm == route.tag)
                or (route.last_modified and not route.etag and ims == route.modified)
            ):
                status = 304
            server.seen.append(Seen(self.path, inm, ims, status, self.headers.get("Host", "")))
            if route.delay:
                time.sleep(route.delay)
            self.send_response(status)
            if route.location:
                self.send_header("Location", route.location)
            if route.etag:
                self.send_header("ETag", route.tag)
            if route.last_modified:
                self.send_header("Last-Modified", route.modified)
            body = b"" if status == 304 else route.body
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
