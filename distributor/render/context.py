"""What a template sees: plain strings, lists and dicts built from an article and a channel.

Templates never get live objects (no `Article`, no `Channel`, no settings): only values that
are safe to hand to a sandbox and cheap to copy. The helpers here are also the `hashtags`,
`utm` and `teaser` filters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from distributor.article import Article
from distributor.config import Channel

# Separators a tag may contain that simply disappear in its hashtag ("Ukraine-Krieg").
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_.'’/:·]+")
_WORD = re.compile(r"\w+")
_CREDIT_LABEL = {"de": "Bild"}
DEFAULT_LANGUAGE = "de"  # the packaged base templates are German
DEFAULT_TEASER_CHARS = 280


@lru_cache(maxsize=4096)
def hashtag(tag: str) -> str | None:
    """`"Ukraine-Krieg"` -> `"#UkraineKrieg"`; None when the tag cannot be a hashtag."""
    text = unicodedata.normalize("NFC", tag.strip().lstrip("#"))
    parts = [p for p in _SEPARATORS.split(text) if p]
    if not parts or not all(_WORD.fullmatch(p) for p in parts):
        return None  # punctuation such as "C++" or "S&P" would change the meaning
    # Later parts start upper-case ("Kim Jong-un" -> KimJongUn): readable, also for screen
    # readers; the first part keeps its case ("iPhone").
    word = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    if not any(c.isalpha() for c in word):
        return None  # "#2024" is not a hashtag on any platform
    return "#" + word


@lru_cache(maxsize=1024)
def _hashtag_list(tags: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for tag in tags:
        tagged = hashtag(tag)
        if tagged is not None and tagged.casefold() not in seen:
            seen.add(tagged.casefold())
            out.append(tagged)
    return tuple(out)


def hashtag_list(tags: Iterable[str] | str) -> tuple[str, ...]:
    """Hashtags for `tags` in order, without duplicates (case-insensitive) or invalid ones."""
    return _hashtag_list((tags,) if isinstance(tags, str) else tuple(str(t) for t in tags))


def hashtags_filter(tags: Iterable[str] | str) -> str:
    """Template filter: `{{ tags|hashtags }}` -> `"#WladimirPutin #UkraineKrieg"`."""
    return " ".join(hashtag_list(tags))


@lru_cache(maxsize=4096)
def _add_utm(url: str, params: tuple[tuple[str, str], ...]) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    # Keep every other parameter byte for byte (re-encoding could change the story's URL);
    # replace existing utm_* so a link copied from a newsletter is not tagged twice.
    kept = [
        p
        for p in parts.query.split("&")
        if p and not unquote(p.split("=", 1)[0]).lower().startswith("utm_")
    ]
    kept += [f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params]
    return urlunsplit(parts._replace(query="&".join(kept)))


def add_utm(url: str, params: Mapping[str, Any] | None = None, **more: Any) -> str:
    """`url` with utm parameters set (existing utm_* replaced, fragment and other query kept)."""
    merged = {**(params or {}), **more}
    items = tuple(
        (k if k.startswith("utm_") else f"utm_{k}", str(v)) for k, v in merged.items() if v != ""
    )
    return _add_utm(url, items)


def credit_line(credit: str, language: str | None) -> str:
    """`"Bild: dpa"` for German (or unknown), `"Photo: dpa"` otherwise; "" without a credit."""
    if not credit:
        return ""
    return f"{_CREDIT_LABEL.get(language or DEFAULT_LANGUAGE, 'Photo')}: {credit}"


@lru_cache(maxsize=512)
def derived_teaser(body: str, language: str | None, max_chars: int) -> str:
    from distributor.teaser import derive_teaser

    return derive_teaser(body, language, max_chars=max_chars) or ""


def teaser_for(article: Article, max_chars: int = DEFAULT_TEASER_CHARS) -> str:
    """The article's teaser, else one derived from its body ("" when there is neither)."""
    if article.teaser:
        return article.teaser
    if article.body:
        return derived_teaser(article.body, article.language, max_chars)
    return ""


def build(article: Article, channel: Channel, *, limit: int) -> dict[str, Any]:
    """The template context for `article` on `channel` (fitting later swaps teaser/hashtags)."""
    image = article.image
    tags = list(article.tags)
    return {
        "title": article.title,
        "teaser": teaser_for(article),
        "body": article.body or "",
        "section": article.section or "",
        "tags": tags,
        "hashtags": hashtags_filter(tags) if channel.hashtags else "",
        "language": article.language or "",
        "author": article.author or "",
        "published_at": article.published_at.isoformat() if article.published_at else "",
        "url": article.url,
        "link": add_utm(article.url, channel.utm),
        "article_id": article.article_id,
        "image": ({"url": image.url, "alt": image.alt, "credit": image.credit} if image else None),
        "credit": credit_line(image.credit, article.language) if image else "",
        "channel": channel.name,
        "platform": channel.platform,
        "limit": limit,
    }
