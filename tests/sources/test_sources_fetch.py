"""Fetching pages and feeds over HTTP from a loopback server, and cross-source identity."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from locations import REFERENCE, REPO, reference

from distributor import __version__
from distributor.errors import ArticleError
from distributor.sources import files, load

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>News</title><link>{base}/</link><language>de</language>
<item><title>Putin verzweifelt</title>
<link>{base}/Politik/Putin-Kim/?utm_source=rss&amp;utm_medium=feed</link>
<guid isPermaLink="false">cms-4711</guid>
<description>Seit über fünf Monaten tobt der Krieg. Mehr dazu im Text.</description>
</item></channel></rss>"""

# A real publisher page from the shared reference data (the test serving it checks it is there).
PAGE = REFERENCE / "opengraph" / "trafilatura-cache" / "heise.de.lithium.html"
SAMPLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
RELATIVE_PAGE = b"""<!doctype html><html lang="de"><head>
<title>Eine lange Geschichte | Site</title><link rel="canonical" href="/politik/story-1">
<meta property="og:description" content="Worum es geht."></head><body></body></html>"""


class Handler(BaseHTTPRequestHandler):
    seen_agents: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, body: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.seen_agents.append(self.headers.get("User-Agent", ""))
        base = f"http://{self.headers['Host']}"
        if self.path == "/feed":
            self._send(FEED.format(base=base).encode(), "application/rss+xml; charset=utf-8")
        elif self.path == "/page":
            self._send(PAGE.read_bytes(), "text/html; charset=utf-8")
        elif self.path.startswith("/x/relative"):
            self._send(RELATIVE_PAGE, "text/html")
        elif self.path == "/article":
            body = SAMPLE.read_bytes()
            self._send(body, "text/plain")  # wrong type on purpose: content decides
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/x/relative?utm_source=redirect")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/huge-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(10 * 2**20))
            self.end_headers()
        elif self.path == "/huge-streamed":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()  # no length: HTTP/1.0 body until close
            for _ in range(64):
                self.wfile.write(b"<p>" + b"x" * 1024 + b"</p>")
        elif self.path == "/slow":
            time.sleep(1.5)
            self._send(b"{}", "application/json")
        else:
            self._send(b"not here", "text/plain", status=404)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hangs up on purpose in the size-cap tests


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_fetch_feed_sends_user_agent(server: str) -> None:
    [article] = load(f"{server}/feed")
    assert article.title == "Putin verzweifelt"
    assert article.guid == "cms-4711"
    assert article.language == "de"
    assert Handler.seen_agents[-1] == f"distributor/{__version__}"


def test_fetch_real_page_resolves_relative_canonical(server: str) -> None:
    reference(*PAGE.relative_to(REFERENCE).parts)
    [page] = load(f"{server}/page")
    assert page.title == "Lithium aus dem Schredder"
    # heise's canonical link is relative: it resolves against the URL the page came from.
    assert page.url == f"{server}/newsticker/meldung/Lithium-aus-dem-Schredder-4451133.html"


def test_fetch_json_with_wrong_content_type(server: str) -> None:
    [article] = load(f"{server}/article")
    assert article.title.startswith("Stadtrat gibt grünes Licht")


def test_relative_canonical_resolved_against_final_url_after_redirect(server: str) -> None:
    [page] = load(f"{server}/moved")
    assert page.url == f"{server}/politik/story-1"
    assert page.title == "Eine lange Geschichte"
    assert page.teaser == "Worum es geht."


def test_fetch_errors_are_one_line(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def error(spec: str) -> str:
        with pytest.raises(ArticleError) as info:
            load(spec)
        assert "\n" not in str(info.value)
        return str(info.value)

    assert error(f"{server}/missing") == f"{server}/missing: HTTP 404 Not Found"
    assert (
        error(f"{server}/huge-declared") == f"{server}/huge-declared: response is larger than 5 MiB"
    )
    monkeypatch.setattr(files, "MAX_FETCH_BYTES", 16 * 1024)
    assert error(f"{server}/huge-streamed").startswith(
        f"{server}/huge-streamed: response is larger than"
    )
    monkeypatch.setattr(files, "FETCH_DEADLINE", 0.3)
    assert error(f"{server}/slow") == f"{server}/slow: timed out while fetching (limit 0.3 s)"
    with socket.socket() as bound:  # bound but not listening: the connection is refused
        bound.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{bound.getsockname()[1]}/x"
        assert error(closed).startswith(f"{closed}: cannot fetch (ConnectionError)")


def test_same_story_from_feed_and_json_is_one_article(server: str, tmp_path: Path) -> None:
    [from_feed] = load(f"{server}/feed")
    path = tmp_path / "story.json"
    path.write_text(
        json.dumps(
            {
                # Same story: different case in the host, a fragment, trailing slash, no utm.
                "url": f"{server.upper().replace('HTTP://', 'http://')}/Politik/Putin-Kim#top",
                "title": "Putin verzweifelt (aktualisiert)",
            }
        ),
        encoding="utf-8",
    )
    [from_json] = load(str(path))
    assert from_feed.url != from_json.url
    assert from_feed.article_id == from_json.article_id
    assert from_feed.identity_keys()[0] == from_json.identity_keys()[0]
