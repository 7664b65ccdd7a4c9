"""A news page -> one Article, from its OpenGraph tags, schema.org JSON-LD and canonical link.

Precedence, field by field (first non-empty wins):
title: og:title, JSON-LD headline, twitter:title, `<title>` (site suffix after " | " dropped);
teaser: og:description, JSON-LD description, twitter:description, meta description;
url: `<link rel=canonical>` (relative ones resolved), og:url, JSON-LD url/mainEntityOfPage, the
fetched URL; image: the first og:image that is not a placeholder, JSON-LD image, twitter:image;
language: JSON-LD inLanguage, og:locale, `<html lang>`. Section, tags, dates and author come from
article:* tags and JSON-LD. BeautifulSoup is imported lazily and only metadata tags are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from distributor.article import Article
from distributor.errors import ArticleError
from distributor.sources.text import absolute_url, clean_line
from distributor.teaser import fill_teaser
from distributor.untrusted import loads

_ARTICLE_TYPES = frozenset(
    [
        "NewsArticle",
        "Article",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "BlogPosting",
        "LiveBlogPosting",
        "TechArticle",
        "ScholarlyArticle",
        "Report",
    ]
)
_PLACEHOLDER = re.compile(
    r"placeholder|default[-_.]|fallback|dummy|blank\.|spacer|logo|no[-_]?image|social[-_]share",
    re.IGNORECASE,
)
_LANG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_HTML_LANG = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z_-]+)", re.IGNORECASE)


def parse_html(
    data: bytes | str, where: str, url: str | None = None, *, content_type: str = ""
) -> Article:
    """Build the Article a page describes; ArticleError if it has no usable metadata."""
    meta, canonical, title_tag, ld_blocks = _scan(data, content_type)
    ld = _article_ld(ld_blocks)
    title = _first(meta.get("og:title"), ld.get("headline"), meta.get("twitter:title"))
    title = _strip_site(title or clean_line(title_tag))
    teaser = _first(
        meta.get("og:description"),
        ld.get("description"),
        meta.get("twitter:description"),
        meta.get("description"),
    )
    if not title and not teaser and not canonical and "og:url" not in meta:
        raise ArticleError(
            f"{where}: page has no article metadata (no OpenGraph, JSON-LD or title)"
        )
    page_url = _page_url(where, url, canonical, meta, ld)
    if not title:
        raise ArticleError(f"{where}: page has no title (og:title, JSON-LD headline or <title>)")
    fields: dict[str, Any] = {
        "url": page_url,
        "title": title,
        "teaser": teaser or None,
        "section": _first(meta.get("article:section"), _one(ld.get("articleSection"))) or None,
        "tags": _keywords(meta.get("article:tag")) or _keywords(ld.get("keywords")),
        "language": _language(ld.get("inLanguage"), meta.get("og:locale"), _html_lang(data)),
        "author": _author(ld.get("author")) or None,
        "published_at": _date(meta.get("article:published_time"), ld.get("datePublished")),
        "updated_at": _date(
            meta.get("article:modified_time"), meta.get("og:updated_time"), ld.get("dateModified")
        ),
        "image": _image(meta, ld, page_url),
    }
    return fill_teaser(Article.from_dict(fields, where), _site_names(meta, ld, page_url))


def _site_names(meta: dict[str, list[str]], ld: dict[str, Any], page_url: str) -> list[str]:
    """What the site calls itself: og:site_name, JSON-LD publisher.name, application-name,
    and its host ("sz.de" names "SZ.de")."""
    publisher = _one(ld.get("publisher"))
    names = [
        _first(meta.get("og:site_name")),
        _first(publisher.get("name")) if isinstance(publisher, dict) else "",
        _first(meta.get("application-name")),
        urlsplit(page_url).hostname or "",
    ]
    return [n for n in names if n]


def _scan(data: bytes | str, content_type: str) -> tuple[dict[str, list[str]], str, str, list[str]]:
    """meta tags (name/property -> values), canonical href, <title> text, JSON-LD texts."""
    # SoupStrainer lives in bs4.filter since 4.13 but is re-exported for older releases too.
    from bs4 import BeautifulSoup, SoupStrainer  # type: ignore[attr-defined]

    charset = re.search(r"charset=([\w.:-]+)", content_type)
    only = SoupStrainer(["meta", "link", "title", "script"])
    kwargs: dict[str, Any] = {"parse_only": only}
    if isinstance(data, bytes) and charset:
        kwargs["from_encoding"] = charset.group(1)
    soup = BeautifulSoup(data, "html.parser", **kwargs)
    meta: dict[str, list[str]] = {}
    for tag in soup.find_all("meta"):
        key = str(tag.get("property") or tag.get("name") or "").strip().lower()
        value = tag.get("content")
        if key and isinstance(value, str) and value.strip():
            meta.setdefault(key, []).append(value)
    canonical = ""
    for link in soup.find_all("link", href=True):
        rel: Any = link.get("rel") or []
        if "canonical" in [str(r).lower() for r in rel] and not canonical:
            canonical = str(link["href"]).strip()
    title = soup.title.get_text() if soup.title else ""
    ld = [
        script.get_text()
        for script in soup.find_all("script", type=re.compile(r"ld\+json", re.IGNORECASE))
    ]
    return meta, canonical, title, ld


def _first(*candidates: Any) -> str:
    for value in candidates:
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str) and v.strip()), "")
        text = clean_line(value) if isinstance(value, str) else ""
        if text:
            return text
    return ""


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _strip_site(title: str) -> str:
    """ "Headline | DW | 19.01.2020" or "Headline » SciLogs": keep the headline."""
    head = re.split(r" [|»] ", title, maxsplit=1)[0].strip()
    return head if len(head) >= 12 else title


def _walk_ld(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        for item in value:
            yield from _walk_ld(item)
    elif isinstance(value, dict):
        yield value
        if isinstance(value.get("@graph"), list):
            yield from _walk_ld(value["@graph"])


def _article_ld(blocks: list[str]) -> dict[str, Any]:
    """The first schema.org *Article object in the page's JSON-LD (broken blocks ignored)."""
    for block in blocks:
        try:
            data = loads(block, strict=False)  # raw newlines in strings are common
        except ValueError:  # broken, or beyond the limits of `untrusted.loads`
            continue
        for obj in _walk_ld(data):
            types = obj.get("@type")
            types = types if isinstance(types, list) else [types]
            if any(isinstance(t, str) and t in _ARTICLE_TYPES for t in types):
                return obj
    return {}


def _page_url(
    where: str, fetched: str | None, canonical: str, meta: dict[str, list[str]], ld: Any
) -> str:
    og_url = _first(meta.get("og:url"))
    entity = ld.get("mainEntityOfPage")
    if isinstance(entity, dict):
        entity = entity.get("@id") or entity.get("url")
    ld_url = _first(ld.get("url"), entity if isinstance(entity, str) else None)
    base = fetched or og_url or ld_url or ""
    for candidate in (canonical, og_url, ld_url, fetched or ""):
        absolute = absolute_url(base, candidate)
        if absolute:
            return absolute
    if canonical:
        raise ArticleError(
            f"{where}: canonical URL {canonical!r} is relative and the page has no og:url; "
            "load the page from its URL instead"
        )
    raise ArticleError(f"{where}: page has no URL (no canonical link, og:url or JSON-LD url)")


def _keywords(value: Any) -> list[str]:
    """Tags from a list and/or comma-separated strings ("Higher education,Academics")."""
    items = value if isinstance(value, list) else [value]
    tags = (clean_line(part) for v in items if isinstance(v, str) for part in re.split(r"[,;]", v))
    return [t for t in tags if t]


def _language(*candidates: Any) -> str | None:
    for value in candidates:
        text = _first(value)
        if text and _LANG.match(text):
            return text
    return None


def _html_lang(data: bytes | str) -> str:
    head = data[:20000] if isinstance(data, bytes) else data[:20000].encode("utf-8", "replace")
    match = _HTML_LANG.search(head)
    return match.group(1).decode("ascii") if match else ""


def _author(value: Any) -> str:
    names = []
    for item in value if isinstance(value, list) else [value]:
        name = item.get("name") if isinstance(item, dict) else item
        text = clean_line(name) if isinstance(name, str) else ""
        if text and not text.startswith(("http://", "https://")):
            names.append(text)
    return ", ".join(dict.fromkeys(names))


def _date(*candidates: Any) -> datetime | None:
    """The first candidate that parses as an ISO-8601 date (pages carry odd formats)."""
    for value in candidates:
        text = _first(value)
        # "2018-12-22T00:00:00+0100" and "...Z" are common; 3.11 wants "+01:00".
        text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
        try:
            parsed = datetime.fromisoformat(re.sub(r"Z$", "+00:00", text))
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _image(meta: dict[str, list[str]], ld: dict[str, Any], page_url: str) -> dict[str, str] | None:
    alt = _first(meta.get("og:image:alt"), meta.get("twitter:image:alt"))
    candidates = [
        *(meta.get("og:image") or []),
        *(meta.get("og:image:url") or []),
        *(meta.get("og:image:secure_url") or []),
        *_ld_images(ld.get("image")),
        *(meta.get("twitter:image") or []),
        *(meta.get("twitter:image:src") or []),
    ]
    for candidate in candidates:
        url = absolute_url(page_url, clean_line(candidate))
        if url and not _PLACEHOLDER.search(urlsplit(url).path):
            return {"url": url, "alt": alt}
    return None


def _ld_images(value: Any) -> list[str]:
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            item = item.get("url") or item.get("contentUrl")
        if isinstance(item, str) and item.strip():
            out.append(item)
    return out
