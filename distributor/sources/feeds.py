"""RSS 2.0, Atom and RDF feeds -> one Article per usable item (feedparser, imported lazily).

Per item: title, link (FeedBurner's original link preferred, relative links resolved against the
feed), guid, full content as body and summary as teaser, categories as tags, the image from
media:content / media:thumbnail / an image enclosure / the first `<img>`, dates (UTC-aware) and the
feed's language. Items without a title or a usable link are skipped with a logged note; a feed in
which no item is usable is an error, as is an empty or unparseable feed.
"""

from __future__ import annotations

import calendar
import io
import logging
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from distributor.article import Article
from distributor.errors import ArticleError
from distributor.sources.text import absolute_url, clean_line, convert
from distributor.teaser import fill_teaser, is_boilerplate, split_caption

log = logging.getLogger(__name__)

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_MAX_SUMMARY_TEASER = 400  # a longer "summary" paragraph is the article text itself
_MAX_NOTES = 5  # skipped-item notes logged one by one; the rest are counted
# Python's SAX attribute lookup is linear, so feedparser spends time quadratic in the number of
# attributes of one element: 100,000 of them in a 1 MB feed took 148 s. Real feed elements have
# a handful; more than MAX_ATTRIBUTES is refused before parsing (RELIABILITY.md has the bound).
MAX_ATTRIBUTES = 64
_LONG_TAG = re.compile(rb"<[A-Za-z_][^<>]{256,}>")  # fewer bytes cannot hold that many
_ATTRIBUTE = re.compile(rb"\s[^\s=<>/\"']+\s*=")


def parse_feed(
    data: bytes, where: str, *, base_url: str | None = None, content_type: str = ""
) -> list[Article]:
    """One Article per usable item; ArticleError for an empty, broken or unusable feed."""
    import feedparser

    _check_attributes(data, where)
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    # A stream, never a str: feedparser would treat a str as a URL or a file name.
    parsed = feedparser.parse(
        io.BytesIO(data),
        response_headers=headers,
        sanitize_html=False,  # we only take text out of the markup
        resolve_relative_uris=False,  # links and images are resolved below, once
    )
    if not parsed.entries:
        if parsed.get("bozo") and not parsed.feed.get("title"):
            raise ArticleError(
                f"{where}: not a valid feed ({_reason(parsed.get('bozo_exception'))})"
            )
        raise ArticleError(f"{where}: feed has no items")
    feed = parsed.feed
    base = absolute_url(base_url, feed.get("link")) or base_url
    language = _language(feed.get("language"))
    site = [clean_line(feed.get("title")), urlsplit(base or "").hostname or ""]
    articles: list[Article] = []
    skipped: list[str] = []
    for n, entry in enumerate(parsed.entries, 1):
        try:
            item = entry_to_dict(entry, base, language)
            articles.append(fill_teaser(Article.from_dict(item, f"{where}: item {n}"), site))
        except ArticleError as exc:
            skipped.append(str(exc))
            if len(skipped) <= _MAX_NOTES:
                log.warning("skipped feed item: %s", exc)
    if len(skipped) > _MAX_NOTES:
        log.warning("%s: skipped %d items in all", where, len(skipped))
    if not articles:
        raise ArticleError(f"{where}: no usable item in the feed (first problem: {skipped[0]})")
    return articles


def _check_attributes(data: bytes, where: str) -> None:
    """ArticleError if an element has more than MAX_ATTRIBUTES attributes (linear scan)."""
    for tag in _LONG_TAG.finditer(data):
        count = len(_ATTRIBUTE.findall(tag.group()))
        if count > MAX_ATTRIBUTES:
            raise ArticleError(
                f"{where}: not a valid feed (an element at byte {tag.start()} has {count} "
                f"attributes, more than {MAX_ATTRIBUTES})"
            )


def _reason(exc: Any) -> str:
    text = str(exc or "unreadable").splitlines()[0]
    match = re.match(r"^<unknown>:(\d+):(\d+): (.*)$", text)
    return f"line {match[1]}, column {int(match[2]) + 1}: {match[3]}" if match else text


def _language(value: Any) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else ""
    return value if _LANGUAGE.match(value) else None


def entry_to_dict(entry: Any, base: str | None, language: str | None) -> dict[str, Any]:
    """The fields of one feedparser entry as an `Article.from_dict` mapping."""
    title = clean_line(entry.get("title"))
    link = _link(entry, base)
    if not title:
        raise ArticleError(f"item {link or entry.get('id') or '?'} has no title")
    if not link:
        raise ArticleError(f"item {title[:60]!r} has no link")
    body, body_image = _html(_content(entry))
    summary, summary_image = _html(entry.get("summary") or "")
    teaser = _teaser(summary, body)
    # dict.get skips FeedParserDict's deprecated updated->published fallback (and its warning).
    published = _when(dict.get(entry, "published_parsed"))
    updated = _when(dict.get(entry, "updated_parsed"))
    published = published or updated
    item_language = _language((entry.get("title_detail") or {}).get("language")) or language
    return {
        "url": link,
        "title": title,
        "teaser": teaser,
        "body": body or summary or None,
        "tags": _tags(entry),
        "language": item_language,
        "author": clean_line(entry.get("author")) or None,
        "published_at": published,
        "updated_at": updated if updated != published else None,
        "image": _image(entry, base or link, body_image or summary_image),
        "guid": clean_line(entry.get("id")) or None,
    }


def _link(entry: Any, base: str | None) -> str | None:
    # FeedBurner rewrites links to its redirector; the original link is the story's identity.
    link = entry.get("feedburner_origlink") or entry.get("link")
    if not link and entry.get("guidislink"):
        link = entry.get("id")
    link = str(link or "").strip()
    if not link:
        return None
    absolute = absolute_url(base, link)
    if absolute is None:
        raise ArticleError(f"item link {link!r} is not an absolute http(s) URL")
    return absolute


def _content(entry: Any) -> str:
    """The richest full-text value (content:encoded, Atom content), or ""."""
    values = [c.get("value") or "" for c in entry.get("content") or []]
    return max(values, key=len, default="")


def _html(markup: str) -> tuple[str, dict[str, str] | None]:
    return convert(markup) if markup else ("", None)


def _teaser(summary: str, body: str) -> str | None:
    """The summary's lead paragraph, unless the summary only repeats the full-text body."""
    if not summary or (body and body.startswith(summary[:200])):
        return None
    paragraphs = [p for p in summary.split("\n\n") if not is_boilerplate(p)]
    if not paragraphs or len(paragraphs[0]) > _MAX_SUMMARY_TEASER:
        return None  # body text rather than a teaser: derive whole sentences from the body
    return paragraphs[0]


def _tags(entry: Any) -> list[str]:
    tags = (clean_line(t.get("label") or t.get("term")) for t in entry.get("tags") or [])
    return [t for t in tags if t]


def _when(parsed: Any) -> datetime | None:
    # feedparser normalises every date it understands to a UTC struct_time.
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _image(entry: Any, base: str, inline: dict[str, str] | None) -> dict[str, str] | None:
    """media:content, media:thumbnail, an image enclosure, or the first inline `<img>`."""
    candidates = [
        m for m in entry.get("media_content") or [] if _is_image(m.get("medium"), m.get("type"))
    ]
    url = _largest(candidates) or _largest(entry.get("media_thumbnail") or [])
    if not url:
        enclosures = [e for e in entry.get("enclosures") or [] if _is_image("", e.get("type"))]
        url = enclosures[0].get("href") if enclosures else None
    alt = ""
    if url:
        # feedparser stores media:description in summary_detail without touching summary.
        detail = (entry.get("summary_detail") or {}).get("value") or ""
        alt = clean_line(detail) if detail and detail != entry.get("summary") else ""
    elif inline:
        url, alt = inline["url"], clean_line(inline.get("alt"))
    if not url:
        return None
    absolute = absolute_url(base, url)
    if absolute is None:
        return None
    credit = clean_line(entry.get("credit") or _first(entry.get("media_credit"), "content"))
    # "Photograph: X/Reuters" -> "X/Reuters"; a " | " inside a credit is part of it
    credit = split_caption(credit, pipes=False)[1] or credit
    return {"url": absolute, "alt": alt, "credit": credit}


def _is_image(medium: Any, mime: Any) -> bool:
    return medium == "image" or str(mime or "").startswith("image/") or (not medium and not mime)


def _largest(media: list[Any]) -> str | None:
    def width(m: Any) -> int:
        value = str(m.get("width") or "0")
        return int(value) if value.isdigit() else 0

    with_url = [m for m in media if m.get("url")]
    return str(max(with_url, key=width)["url"]) if with_url else None


def _first(items: Any, key: str) -> str:
    return str(items[0].get(key) or "") if items else ""
