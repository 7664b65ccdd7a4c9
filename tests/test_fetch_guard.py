"""The fetch guard (`distributor.fetch`, issue 13 findings 1 and 8), on loopback only.

Address policy for the spellings of internal addresses (numeric forms, IPv4 inside IPv6), on
every redirect hop; a total deadline against servers that drip bytes (headers or body); the
content-type check and the size cap. Policies with `allow_private` stand in for the sandbox's
loopback exemption, since tests never leave loopback.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from distributor.fetch import FetchError, Rules, fetch
from distributor.platforms.media import fetch_image
from distributor.sources.hosts import HostPolicy, HostRefused, is_public

LOOPBACK = HostPolicy(("127.0.0.1",), allow_private=True)
DRIP_SECONDS = 10.0  # how long a drip server would keep a fetch busy without a deadline
DRIPS: queue.Queue[tuple[str, bool]] = queue.Queue()  # (path, dripped to the end) per drip


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/drip-body":
            self._head("application/rss+xml", 200)
            self._drip(b"<rss>" + b" " * 190 + b"</rss>")
        elif self.path == "/drip-headers":
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            self._drip(b"X-Slow: " + b"a" * 200 + b"\r\n")
        elif self.path == "/image-drip":
            self._head("image/jpeg", 200)
            self._drip(b"\xff\xd8" + b"\x00" * 198)
        elif self.path == "/page":
            self._send(b"<html></html>", "text/html")
        elif self.path == "/image":
            self._send(b"\xff\xd8" + b"\x00" * 4096, "image/jpeg")
        elif self.path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", "http://" + self.path[4:])
            self.send_header("Content-Length", "0")
            self.end_headers()

    def _head(self, ctype: str, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", "200")
        self.end_headers()

    def _send(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _drip(self, data: bytes) -> None:
        pause = DRIP_SECONDS / len(data)
        try:
            for i in range(len(data)):
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
                time.sleep(pause)
        except OSError:
            DRIPS.put((self.path, False))  # the client gave up, as it should
        else:
            DRIPS.put((self.path, True))

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("address", "inside"),
    [
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # NAT64 to the metadata service
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4
        ("2002:a00:1::1", "10.0.0.1"),
        ("::127.0.0.1", "127.0.0.1"),  # IPv4-compatible
        ("::ffff:0:7f00:1", "127.0.0.1"),  # SIIT
        ("::ffff:0:a00:1", "10.0.0.1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),  # IPv4-mapped
    ],
)
def test_ipv6_forms_carrying_a_private_ipv4_are_private(address: str, inside: str) -> None:
    assert not is_public(address) and not is_public(inside)
    policy = HostPolicy(("*",), resolve=lambda h, p: [address])
    with pytest.raises(HostRefused, match="non-public address"):
        policy.addresses("cdn.example.de", 443)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::", "::ffff:8.8.8.8"])
def test_ipv6_forms_carrying_a_public_ipv4_are_public(address: str) -> None:
    assert is_public(address)


@pytest.mark.parametrize(
    "host", ["0x7f000001", "2130706433", "127.1", "0177.0.0.1", "0x7f.1", "[::ffff:7f00:1]"]
)
def test_numeric_spellings_of_loopback_are_judged_without_a_lookup(host: str) -> None:
    def resolve(host: str, port: int) -> list[str]:
        raise AssertionError("a numeric host must not be looked up")

    with pytest.raises(HostRefused, match=r"non-public address (127\.0\.0\.1|::ffff:7f00:1)"):
        HostPolicy(("*",), resolve=resolve).addresses(host, 80)


def test_every_redirect_hop_is_checked(base: str) -> None:
    port = base.rsplit(":", 1)[1]
    rules = Rules(HostPolicy(("127.0.0.1",), allow_private=True), deadline=5)
    assert fetch(f"{base}/to/127.0.0.1:{port}/page", rules).data == b"<html></html>"
    with pytest.raises(FetchError, match="host 'localhost' is not allowed"):
        fetch(f"{base}/to/localhost:{port}/page", rules)
    with pytest.raises(FetchError, match=r"non-public address 127\.0\.0\.1"):
        fetch(f"{base}/to/0x7f000001:{port}/page", Rules(HostPolicy(("*",)), deadline=5))


def _cut_off(*paths: str) -> list[bool]:
    """For each drip of `paths` in turn: did the client hang up before its end? (A client that
    waited would have read the whole drip: a per-read timeout restarts with every byte.)"""
    drips = [DRIPS.get(timeout=DRIP_SECONDS + 20) for _ in paths]  # a hang guard only
    assert [path for path, _ in drips] == list(paths)
    return [not finished for _, finished in drips]


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_a_drip_server_cannot_stretch_the_deadline(base: str, path: str) -> None:
    with pytest.raises(FetchError, match=r"timed out while fetching \(limit 0.5 s\)"):
        fetch(f"{base}{path}", Rules(LOOPBACK, deadline=0.5))
    assert _cut_off(path) == [True]


def test_feeds_pages_and_images_keep_the_deadline(base: str, tmp_path: Path) -> None:
    from distributor.errors import ArticleError
    from distributor.sources.files import fetch_url

    with pytest.raises(ArticleError, match="timed out"):
        fetch_url(f"{base}/drip-body", rules=Rules(LOOPBACK, deadline=0.5))
    session = type("SandboxSession", (), {"distributor_sandbox": base})()
    assert fetch_image(session, f"{base}/image-drip", timeout=0.5) is None
    assert _cut_off("/drip-body", "/image-drip") == [True, True]


def test_content_type_and_size_are_checked(base: str) -> None:
    image_rules = Rules(LOOPBACK, deadline=5, types=("image/",))
    with pytest.raises(FetchError, match="content type 'text/html' is not image/"):
        fetch(f"{base}/page", image_rules)
    assert len(fetch(f"{base}/image", image_rules).data) == 4098
    with pytest.raises(FetchError, match="response is larger than 1 KiB"):
        fetch(f"{base}/image", Rules(LOOPBACK, deadline=5, max_bytes=1024))


def test_images_in_production_refuse_loopback(base: str) -> None:
    session = object()  # an adapter's API session without the sandbox mark: production
    assert fetch_image(session, f"{base}/image") is None
    sandbox = type("SandboxSession", (), {"distributor_sandbox": base})()
    got = fetch_image(sandbox, f"{base}/image")
    assert got is not None and got.content_type == "image/jpeg" and len(got.data) == 4098
