"""Helpers for the watch tests: a loopback feed server (feeds that change between polls, ETag and
Last-Modified honoured with 304, slow, huge, broken and redirecting routes, a request log), RSS
built from `Item`s, and a Poller on a two-channel configuration with a real store."""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from locations import reference

from distributor.article import Article
from distributor.config import Settings, load_config
from distributor.store.models import Filters
from distributor.store.store import Store
from distributor.testing import FakeClock
from distributor.watch import Feed, Poller, feed_for

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


class _Quiet(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # The client gave up on purpose (size cap, timeout): not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    httpd = _Quiet(("127.0.0.1", 0), _handler(server))
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


def reference_feed(name: str) -> Path:
    """A real publisher feed from the shared reference data (skips when it is absent)."""
    return reference("feeds", "rss-parser", "input", name)


SECRETS = {"MASTO_TOKEN": "masto-SECRET-1", "TG_TOKEN": "1:tg-SECRET-2"}


CONFIG = """
[channels.masto]
platform = "mastodon"
access_token_env = "MASTO_TOKEN"

[channels.tg]
platform = "telegram"
chat_id = "@news"
bot_token_env = "TG_TOKEN"

[watch]
allow_hosts = ["127.0.0.1"]
allow_private = true
{extra}
"""


def make_settings(tmp_path: Path, extra: str = 'timeout = "2s"') -> Settings:
    path = tmp_path / "distributor.toml"
    path.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return load_config(path, environ=SECRETS)


def poller(
    tmp_path: Path,
    store: Store,
    clock: FakeClock,
    extra: str = 'timeout = "2s"',
    backfill: int = 0,
    **options: Any,
) -> Poller:
    """A Poller on the two-channel configuration (`options`: max_new, rebaseline)."""
    settings = make_settings(tmp_path, extra)
    return Poller(settings, store, settings.watch, clock=clock, backfill=backfill, **options)


def url_feed(p: Poller, url: str) -> Feed:
    return feed_for(url, p.watch)


def deliveries(store: Store) -> list[tuple[str, str]]:
    """(canonical article URL, channel) of every delivery in the store."""
    page, _ = store.query(Filters(), limit=1000)
    return sorted((article_url(store, d.article_id), d.channel) for d in page)


def article_url(store: Store, article_id: str) -> str:
    article = store.article(article_id)
    assert article is not None
    return str(article["canonical_url"])


BACKLOG = [Item(n) for n in (5, 4, 3, 2, 1)]  # newest first, as feeds are


def watched(
    tmp_path: Path,
    server: FeedServer,
    store: Store,
    clock: FakeClock,
    items: list[Item] = BACKLOG,
    extra: str = 'timeout = "2s"',
    **route: object,
) -> tuple[Poller, Feed]:
    """A poller on the server's /feed serving `items`, after its first (baseline) poll."""
    server.set("/feed", rss(items), **route)
    p = poller(tmp_path, store, clock, extra)
    feed = url_feed(p, server.url("/feed"))
    p.poll(feed)
    return p, feed


def parse_items(items: list[Item]) -> list[Article]:
    from distributor.sources import parse_feed

    return list(parse_feed(rss(items), "feed"))
