"""Fetching an article image for upload (Mastodon media, Bluesky blobs): the one seam for bytes.

A missing or broken image must not block a post: `fetch_image` returns None (and logs why)
instead of raising, and the adapter posts without it. The download is capped in size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests

from distributor.redact import scrub

log = logging.getLogger(__name__)
MAX_IMAGE_BYTES = 16 * 1024 * 1024  # Mastodon's default image_size_limit


@dataclass(frozen=True, slots=True)
class ImageData:
    data: bytes
    content_type: str
    filename: str


def fetch_image(
    session: requests.Session, url: str, *, timeout: float = 10.0, max_bytes: int = MAX_IMAGE_BYTES
) -> ImageData | None:
    """GET `url`; None when it fails, is not an image, or is larger than `max_bytes`."""
    try:
        with session.get(url, timeout=(min(5.0, timeout), timeout), stream=True) as response:
            ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if response.status_code != 200 or not ctype.startswith("image/"):
                log.warning(
                    "image %s not usable: HTTP %s %s", scrub(url), response.status_code, ctype
                )
                return None
            data = b""
            for chunk in response.iter_content(65536):
                data += chunk
                if len(data) > max_bytes:
                    log.warning("image %s larger than %d bytes: skipped", scrub(url), max_bytes)
                    return None
    except requests.RequestException as exc:
        log.warning("image %s not fetched: %s", scrub(url), type(exc).__name__)
        return None
    name = url.rsplit("/", 1)[-1].split("?")[0] or "image"
    return ImageData(data, ctype, name)
