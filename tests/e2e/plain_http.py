"""Helpers for the e2e tests of the plain-HTTP adapters (Telegram, LinkedIn, Threads)."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from typing import Any

from locations import REPO

from distributor.article import Article
from distributor.config import Settings
from distributor.platforms.base import Draft
from distributor.platforms.registry import build_adapter

ARTICLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"


def article() -> Article:
    return Article.from_dict(json.loads(ARTICLE.read_text(encoding="utf-8")))


def draft(settings: Settings, channel: str) -> Draft:
    """The fixture article rendered for `channel` exactly as publishing renders it."""
    from distributor.render import render

    return render(article(), settings.channel(channel), settings=settings)


def adapter(settings: Settings, channel: str, timeout: float = 2.0, **options: str) -> Any:
    """The channel's adapter as `build_adapter` makes it, with options overridden."""
    chan = settings.channel(channel)
    if options:
        chan = replace(chan, options={**chan.options, **options})
    return build_adapter(chan, settings, timeout=timeout)


def closed_port_url(platform: str) -> str:
    """A loopback URL nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/{platform}"
