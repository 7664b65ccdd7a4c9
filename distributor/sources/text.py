"""Clean text out of feed and page markup: tags stripped, entities (even double-escaped) decoded.

Publishers' feeds often escape twice (`&amp;quot;` reaches the reader as `&quot;`), so entity
decoding repeats until the text is stable. HTML becomes plain text with paragraph breaks kept,
which is what teaser derivation and the templates need. Only the standard library is used:
this runs for every item of a large feed.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_BLOCK = frozenset(
    [
        "p",
        "div",
        "br",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "blockquote",
        "figure",
        "section",
        "article",
        "header",
        "footer",
        "tr",
        "table",
        "pre",
        "hr",
        "dd",
        "dt",
    ]
)
_SKIP = frozenset(["script", "style", "noscript", "figcaption", "template", "iframe", "svg"])
_PIXEL_SIZES = frozenset(["0", "1", "1px"])


def unescape(text: str) -> str:
    """Decode HTML entities, repeatedly while more appear (double-escaped feeds)."""
    for _ in range(3):
        if "&" not in text or not _ENTITY.search(text):
            break
        text = html.unescape(text)
    return text


def clean_line(text: str | None) -> str:
    """One line of plain text: entities decoded, any tags dropped, whitespace squashed."""
    if not text:
        return ""
    text = unescape(text)
    if "<" in text and _TAG.search(text):
        text = html_to_text(text)
    return " ".join(unescape(text).split())


class _TextParser(HTMLParser):
    """Collects text with paragraph breaks, and the first real image."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.image: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n")
        elif tag == "img" and self.image is None:
            found = {k: v or "" for k, v in attrs}
            sizes = {found.get("width", ""), found.get("height", "")}
            if found.get("src") and not sizes & _PIXEL_SIZES:  # skip tracking pixels
                self.image = {"url": found["src"], "alt": found.get("alt", "")}

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _parse(markup: str) -> _TextParser:
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return parser


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment; paragraphs separated by one blank line."""
    return convert(markup)[0]


def convert(markup: str) -> tuple[str, dict[str, str] | None]:
    """Plain text of an HTML fragment and its first real `<img>` ({"url", "alt"}) if any."""
    if "<" not in markup:
        markup = unescape(markup)  # "&lt;p&gt;" in an already-decoded feed: markup once more
    if not _TAG.search(markup):
        text, image = markup, None
    else:
        parser = _parse(markup)
        text, image = "".join(parser.parts), parser.image
    text = unescape(text)
    paragraphs = (" ".join(block.split()) for block in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p), image


def absolute_url(base: str | None, url: str | None) -> str | None:
    """`url` resolved against `base` if the result is an absolute http(s) URL, else None.

    Malformed URLs ("http://[::1", "host:port-abc") give None instead of a ValueError.
    """
    if not url or not url.strip():
        return None
    try:
        absolute = urljoin(base or "", url.strip())
        parts = urlsplit(absolute)
        parts.port  # noqa: B018  (validates the port)
    except ValueError:
        return None
    return absolute if parts.scheme in ("http", "https") and parts.hostname else None
