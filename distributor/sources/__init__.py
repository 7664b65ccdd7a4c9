"""Turn an article source into `Article`s: a JSON/YAML file, stdin, a feed or an HTML page.

    load("article.json")              # one article or a list of them
    load("-", stdin=sys.stdin)        # the same from standard input
    load("https://example.org/feed")  # RSS 2.0 / Atom / RDF: one Article per item
    load("saved-page.html")           # OpenGraph / JSON-LD metadata of a news page

The format is detected from the content (the extension only breaks ties), so a feed saved as
`.txt` or JSON served as `text/plain` still loads. Every failure is one `ArticleError` line
starting with the file name, URL or `<stdin>`. feedparser, BeautifulSoup, PyYAML and requests
are imported only when their format is met, which keeps a JSON preview's start-up fast.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO, TYPE_CHECKING

from distributor.errors import ArticleError
from distributor.sources.files import (
    Raw,
    decode_text,
    fetch_url,
    parse_json,
    parse_yaml,
    read_file,
    read_stream,
)

if TYPE_CHECKING:
    from distributor.article import Article

__all__ = [
    "ArticleError",
    "detect",
    "load",
    "load_article_file",
    "load_text",
    "parse_articles",
    "parse_feed",
    "parse_html",
]

_FEED_ROOTS = ("rss", "feed", "rdf:rdf", "rdf")
# Before the root: XML declaration, comments and a DOCTYPE, whose internal subset `[...]` holds
# `>` of its own (`<!DOCTYPE rss [<!ENTITY x "y">]>`): skipping only to the first `>` would read
# the feed as an HTML page.
_XML_NOISE = re.compile(
    rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype[^>\[]*(?:\[.*?\]\s*)?>)", re.IGNORECASE | re.DOTALL
)
_ROOT = re.compile(rb"\s*<([a-zA-Z][\w:.-]*)")


def load(spec: str, *, stdin: IO[str] | None = None, fetch: bool = True) -> list[Article]:
    """Articles from a file path, `-` (stdin) or an http(s) URL; never an empty list."""
    if not spec.strip():
        raise ArticleError("no article source given (a file, a URL or - for stdin)")
    if spec == "-":
        import sys

        raw = read_stream(stdin if stdin is not None else sys.stdin)
    elif re.match(r"(?i)https?://", spec):
        if not fetch:
            raise ArticleError(f"{spec}: fetching URLs is switched off here")
        raw = fetch_url(spec)
    else:
        raw = read_file(spec)
    return parse_articles(raw)


def load_text(spec: str, url: str, *, stdin: IO[str] | None = None) -> list[Article]:
    """One article from a pasted plain text (a file or `-`), posted under `url`."""
    from distributor.sources.plaintext import parse_text

    if spec == "-":
        import sys

        raw = read_stream(stdin if stdin is not None else sys.stdin)
    else:
        raw = read_file(spec)
    return [parse_text(decode_text(raw.data, raw.where), url, raw.where)]


def load_article_file(path: str | Path) -> Article:
    """Exactly one article from a file (JSON, YAML, or a saved HTML page)."""
    articles = parse_articles(read_file(path))
    if len(articles) != 1:
        raise ArticleError(f"{path}: holds {len(articles)} articles, expected exactly one")
    return articles[0]


def parse_articles(raw: Raw) -> list[Article]:
    """Detect the format of `raw` and parse it."""
    kind = detect(raw)
    if kind == "feed":
        return parse_feed(raw.data, raw.where, base_url=raw.url, content_type=raw.content_type)
    if kind == "html":
        return [parse_html(raw.data, raw.where, url=raw.url, content_type=raw.content_type)]
    text = decode_text(raw.data, raw.where)
    if kind == "json":
        return parse_json(text, raw.where)
    return parse_yaml(text, raw.where, guessed=kind == "text")


def detect(raw: Raw) -> str:
    """ "json", "yaml", "feed" or "html", from the first bytes (extension as a tie-breaker)."""
    head = raw.data[:65536].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.strip():
        raise ArticleError(f"{raw.where}: empty input")
    if head[:1] in (b"{", b"[") and raw.suffix not in (".yaml", ".yml"):
        return "json"
    if head[:1] == b"<":
        return _markup_kind(head, raw)
    if raw.suffix == ".json" or "json" in raw.content_type:
        return "json"
    if raw.suffix in (".html", ".htm") or "html" in raw.content_type:
        return "html"
    return "yaml" if raw.suffix in (".yaml", ".yml") or "yaml" in raw.content_type else "text"


def _markup_kind(head: bytes, raw: Raw) -> str:
    rest = head
    while match := _XML_NOISE.match(rest):
        if not match.group():
            break
        rest = rest[match.end() :]
    root_match = _ROOT.match(rest)
    root = root_match.group(1).decode("ascii", "replace").lower() if root_match else ""
    if root in _FEED_ROOTS or root.endswith(":rdf"):
        return "feed"
    if head.lower().startswith(b"<?xml") and root not in ("html", ""):
        raise ArticleError(
            f"{raw.where}: XML document with root <{root}> is not an RSS, Atom or RDF feed"
        )
    return "html"


def parse_feed(
    data: bytes, where: str, *, base_url: str | None = None, content_type: str = ""
) -> list[Article]:
    """One Article per usable item of an RSS 2.0, Atom or RDF feed."""
    from distributor.sources.feeds import parse_feed as _parse_feed

    return _parse_feed(data, where, base_url=base_url, content_type=content_type)


def parse_html(
    data: bytes | str, where: str, url: str | None = None, *, content_type: str = ""
) -> Article:
    """One Article from a news page's OpenGraph, JSON-LD and `<link rel=canonical>`."""
    from distributor.sources.html import parse_html as _parse_html

    return _parse_html(data, where, url=url, content_type=content_type)
