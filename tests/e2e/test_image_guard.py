"""Issue 13 finding 1: article images go through the fetch guard (no SSRF via `image.url`).

In production mode (no `sandbox` setting) an image on a loopback or private address must not be
fetched, let alone uploaded as media of a public post: the post goes out without the picture and
the internal server never sees a request. In sandbox mode loopback stays reachable (the demo's
exemption), which the other e2e tests rely on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from image_server import JPEG
from plain_http import draft

from distributor.article import Image
from distributor.config import load_config
from distributor.platforms.registry import build_adapter


class _Metadata(BaseHTTPRequestHandler):
    """Stands in for an internal service (a cloud metadata endpoint) that answers with an image."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(JPEG)))
        self.end_headers()
        self.wfile.write(JPEG)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def internal() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Metadata,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def _production(sandbox: Any, settings: Any, secrets: dict[str, str]) -> Any:
    """The sandbox settings without `sandbox`: Mastodon's `base_url` points at its emulator."""
    path = Path(settings.where)
    text = path.read_text(encoding="utf-8").replace(f'sandbox = "{sandbox.url}"', "")
    text = text.replace(
        'platform = "mastodon"', f'platform = "mastodon"\nbase_url = "{sandbox.url}/mastodon"'
    )
    path.write_text(text, encoding="utf-8")
    production = load_config(path, environ=secrets)
    assert production.sandbox_url is None
    return production


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0x7f000001", "2130706433", "127.1"],
)
def test_production_image_on_an_internal_address_is_not_fetched(
    sandbox: Any,
    sandbox_settings: Any,
    sandbox_secrets: dict[str, str],
    internal: tuple[str, list[str]],
    host: str,
) -> None:
    address, seen = internal
    port = address.rsplit(":", 1)[1]
    settings = _production(sandbox, sandbox_settings, sandbox_secrets)
    d = draft(settings, "mastodon_main")
    image = Image(f"http://{host}:{port}/latest/meta-data/iam.jpg", "alt", "")
    adapter = build_adapter(settings.channel("mastodon_main"), settings, timeout=2.0)
    adapter.publish(replace(d, image=image), key="k-ssrf")
    [post] = sandbox.posts("mastodon")
    assert post.data["media"] == []  # posted without the picture
    assert seen == []  # and the internal server was never asked


def test_sandbox_mode_keeps_the_loopback_exemption(
    sandbox: Any, sandbox_settings: Any, internal: tuple[str, list[str]]
) -> None:
    address, seen = internal
    d = draft(sandbox_settings, "mastodon_main")
    image = Image(f"http://{address}/img/a.jpg", "alt", "")
    adapter = build_adapter(sandbox_settings.channel("mastodon_main"), sandbox_settings)
    adapter.publish(replace(d, image=image), key="k-sandbox")
    [post] = sandbox.posts("mastodon")
    assert [m["size"] for m in post.data["media"]] == [len(JPEG)]
    assert seen == ["/img/a.jpg"]
