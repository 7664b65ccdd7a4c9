"""Fetching an article image for upload (X, Mastodon, Bluesky): through the fetch guard.

The image URL comes from the article (a feed's media:content, a page's og:image), so it is
untrusted: the download goes through `distributor.fetch` like every other outbound fetch, never
through the adapter's API session. In production any public host is allowed, no loopback or
private address (no SSRF into the internal network); in sandbox mode only loopback is reachable
and other hosts are answered by the sandbox's stand-in image. Only `image/*` answers are kept,
within a size cap and a total deadline.

A missing or refused image must not block a post: `fetch_image` returns None (and logs why)
instead of raising, and the adapter posts without it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from distributor.redact import scrub

log = logging.getLogger(__name__)
MAX_IMAGE_BYTES = 16 * 1024 * 1024  # Mastodon's default image_size_limit


@dataclass(frozen=True, slots=True)
class ImageData:
    data: bytes
    content_type: str
    filename: str


def fetch_image(
    session: Any, url: str, *, timeout: float = 10.0, max_bytes: int = MAX_IMAGE_BYTES
) -> ImageData | None:
    """GET `url` (total deadline `timeout`); None when refused, failed, not an image or too big.

    `session` is the adapter's API session: it is not used for the download, it only tells
    sandbox mode (`platforms.http.sandbox_session`) from production.
    """
    from distributor.fetch import FetchError, Rules, fetch
    from distributor.sources.hosts import HostPolicy

    public = HostPolicy(("*",), allow_private=False, table="")
    sandbox = getattr(session, "distributor_sandbox", None)
    rules = Rules(public, timeout, max_bytes, types=("image/",), sandbox=sandbox)
    try:
        got = fetch(url, rules)
    except FetchError as exc:
        log.warning("image %s not used: %s", scrub(url), exc)
        return None
    if got.status != 200:
        log.warning("image %s not used: HTTP %s", scrub(url), got.status)
        return None
    name = url.rsplit("/", 1)[-1].split("?")[0] or "image"
    return ImageData(got.data, got.content_type.split(";")[0].strip(), name)
