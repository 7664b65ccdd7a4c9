"""In sandbox mode nothing leaves loopback: article images on real hosts come from the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from plain_http import draft

from distributor.platforms.http import sandbox_session
from distributor.platforms.registry import build_adapter
from distributor.sandbox.control import SAMPLE_JPEG


def _channel(settings: Any, name: str) -> Any:
    return next(c for c in settings.channels if c.name == name)


def test_images_on_a_public_host_are_served_by_the_sandbox(
    sandbox: Any, sandbox_settings: Any
) -> None:
    for name in ("mastodon_main", "x_main"):
        d = draft(sandbox_settings, name)
        assert d.image is not None
        assert d.image.url.startswith("https://www.tageblatt-beispiel.de/")  # a public host
        # The suite's socket guard would fail this test if the adapter resolved that host;
        # a failed image fetch would post without media.
        build_adapter(_channel(sandbox_settings, name), sandbox_settings).publish(d, key="k")
    [toot] = sandbox.posts("mastodon")
    [tweet] = sandbox.posts("x")
    assert toot.data["media"][0]["type"] == "image"
    assert tweet.data["media"][0]["size"] == len(SAMPLE_JPEG)


def test_loopback_urls_pass_unchanged(sandbox: Any) -> None:
    session = sandbox_session(sandbox.url)
    assert session.get(f"{sandbox.url}/__sandbox/health", timeout=5).json()["ok"] is True
    reply = session.get("https://elsewhere.example/a/b.png?x=1", timeout=5)
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/jpeg"
    with pytest.raises(requests.ConnectionError):
        sandbox_session("http://127.0.0.1:9").get("https://news.example/x.jpg", timeout=2)
