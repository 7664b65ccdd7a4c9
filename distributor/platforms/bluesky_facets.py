"""Bluesky rich-text facets for links and #hashtags, detected as the official SDK detects them.

Mirrors `detectFacets` of `@atproto/api` (links with and without scheme, bare domains only with a
known TLD, trailing punctuation dropped; tags not all digits, at most 64 graphemes, trailing
punctuation dropped). Offsets are UTF-8 byte offsets into the text (umlauts are two bytes).
Mentions are not detected: they need the handle resolved to a DID, which a renderer can't do.
The TLD list is twitter-text's (already a dependency); the SDK uses the IANA list of `tlds`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from typing import Any

import regex

_URL = regex.compile(
    r"(?:^|(?<=\s|\())((https?://\S+)|((?P<domain>[a-z][a-z0-9]*(?:\.[a-z0-9]+)+)\S*))",
    regex.IGNORECASE | regex.MULTILINE,
)
_NOT_IN_TAG = r"\s\u00AD\u2060\u200A\u200B\u200C\u200D\u20e2"
_TAG = regex.compile(
    rf"(?:^|(?<=\s))[#＃]((?!\ufe0f)[^{_NOT_IN_TAG}]*[^0-9\p{{P}}{_NOT_IN_TAG}]+[^{_NOT_IN_TAG}]*)?"
)
_TRAILING_PUNCT = regex.compile(r"\p{P}+$")
_GRAPHEME = regex.compile(r"\X")
MAX_TAG_GRAPHEMES = 64


_TLD_LOCK = threading.Lock()


def _tld_pattern() -> regex.Pattern[str]:
    # The lock makes it one compile per process: a worker's send threads all asked at once,
    # and each compiled the large pattern itself (about a second of CPU with ten accounts).
    with _TLD_LOCK:
        return _compile_tld_pattern()


@functools.cache
def _compile_tld_pattern() -> regex.Pattern[str]:
    from distributor.limits import load_twitter_text

    load_twitter_text()  # safely (without pkg_resources), before importing from it
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld

    return regex.compile(rf"(?:{valid_gtld.pattern}|{valid_cctld.pattern})", regex.IGNORECASE)


def _valid_domain(domain: str) -> bool:
    tld = domain.rsplit(".", 1)[-1]
    return "." in domain and bool(_tld_pattern().fullmatch(tld))


def _byte_index(text: str) -> list[int]:
    """UTF-8 byte offset of every code point index (and of the end)."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + len(char.encode("utf-8")))
    return offsets


def facets(
    text: str, links: tuple[str, ...] = (), shown: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The `app.bsky.richtext.facet` list for the links and tags in `text`, in text order.

    `links` are URLs known to be links (the article's): each occurrence is linked exactly, even
    where detection would drop a trailing `.` or `)` that belongs to the URL. `shown` maps a
    display form in the text (`news.de/politik/wladi…`) to the full URL its facet links to.
    """
    at = _byte_index(text)
    known = {url: url for url in links if url}
    known.update({display: url for display, url in (shown or {}).items() if display and url})
    found: list[tuple[int, dict[str, Any]]] = []
    for start, end, uri in _exact(text, known, _links(text)):
        feature = {"$type": "app.bsky.richtext.facet#link", "uri": uri}
        found.append((start, _facet(at[start], at[end], feature)))
    for start, end, tag in _tags(text):
        feature = {"$type": "app.bsky.richtext.facet#tag", "tag": tag}
        found.append((start, _facet(at[start], at[end], feature)))
    return [facet for _, facet in sorted(found, key=lambda item: item[0])]


def _facet(byte_start: int, byte_end: int, feature: dict[str, str]) -> dict[str, Any]:
    return {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": byte_start, "byteEnd": byte_end},
        "features": [feature],
    }


def _links(text: str) -> list[tuple[int, int, str]]:
    links = []
    for match in _URL.finditer(text):
        uri = match.group(1)
        start, end = match.span(1)
        if not uri.lower().startswith("http"):
            domain = match.group("domain")
            if not domain or not _valid_domain(domain):
                continue
            uri = f"https://{uri}"
        if uri[-1] in ".,;:!?":
            uri, end = uri[:-1], end - 1
        if uri.endswith(")") and "(" not in uri:
            uri, end = uri[:-1], end - 1
        links.append((start, end, uri))
    return links


def _exact(
    text: str, known: Mapping[str, str], detected: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """Every occurrence of a known text (linked to its URL), then the detected links that do
    not overlap one."""
    spans: list[tuple[int, int, str]] = []
    for shown, uri in known.items():
        start = text.find(shown)
        while start >= 0:
            spans.append((start, start + len(shown), uri))
            start = text.find(shown, start + len(shown))
    spans = [s for s in spans if not any(_overlap(s, o) and _longer(o, s) for o in spans)]
    spans += [d for d in detected if not any(_overlap(d, s) for s in spans)]
    return sorted(spans)


def _overlap(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    return a is not b and a[0] < b[1] and b[0] < a[1]


def _longer(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    return (a[1] - a[0], a[0]) > (b[1] - b[0], b[0])


def _tags(text: str) -> list[tuple[int, int, str]]:
    tags = []
    for match in _TAG.finditer(text):
        tag = match.group(1)
        if not tag:
            continue
        tag = _TRAILING_PUNCT.sub("", tag.strip())
        if not tag or len(_GRAPHEME.findall(tag)) > MAX_TAG_GRAPHEMES:
            continue
        start = match.start()
        tags.append((start, start + 1 + len(tag), tag))
    return tags
