"""What a template sees: plain strings, lists and dicts built from an article and a channel.

Templates never get live objects (no `Article`, no `Channel`, no settings): only values that
are safe to hand to a sandbox and cheap to copy.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from distributor.article import Article
from distributor.config import Channel
from distributor.errors import ConfigError
from distributor.hashtags import cap, ranked
from distributor.links import (
    DEFAULT_POLICY,
    LinkPolicy,
    clean_url,
    display_link,
    posted_link,
)
from distributor.platform import spec

DEFAULT_LANGUAGE = "de"  # the packaged base templates are German
DEFAULT_TEASER_CHARS = 280


def channel_hashtags(
    article: Article, channel: Channel, stop: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """The hashtags `channel` posts for `article`: ranked, stop-listed, capped (`hashtags`)."""
    count = cap(channel.platform, channel.hashtags)
    if not count:
        return ()
    return ranked(tuple(article.tags), article.section or "", stop)[:count]


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


LINK_TEXT = ("short", "full", "none")  # the `link_text` option (Bluesky's spec has it)


def link_text(channel: Channel, link: str) -> str:
    """What the post's text shows for `link`: the URL, or where the platform's spec has the
    `link_text` option (Bluesky) its short display form (`"short"`, the default) or nothing
    (`"none"`: the link card carries it)."""
    if "link_text" not in spec(channel.platform).optional_options:
        return link
    choice = channel.options.get("link_text", "short")
    if choice not in LINK_TEXT:
        raise ConfigError(
            f"channel {channel.name!r} key 'link_text': must be one of {', '.join(LINK_TEXT)}, "
            f"not {choice!r}"
        )
    if choice == "none" and channel.options.get("embed", "external") == "external":
        return ""
    return link if choice == "full" else display_link(link)


def post_language(article: Article, channel: Channel) -> str:
    """The language a post is written in: the article's, else the channel's `language`, else
    the one language the channel routes (`languages = ["en"]`), else German."""
    if article.language:
        return article.language
    if channel.language:
        return channel.language
    routed = channel.filters.languages
    return routed[0].lower() if len(routed) == 1 else DEFAULT_LANGUAGE


def build(
    article: Article,
    channel: Channel,
    *,
    limit: int,
    links: LinkPolicy = DEFAULT_POLICY,
    stop: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The template context for `article` on `channel` (fitting later swaps teaser/hashtags)."""
    image = article.image
    tags = list(article.tags)
    posted = posted_link(article.url, channel.utm, links)
    return {
        "title": article.title,
        "teaser": teaser_for(article),
        "body": article.body or "",
        "section": article.section or "",
        "tags": tags,
        "hashtags": " ".join(channel_hashtags(article, channel, stop)),
        "language": article.language or "",
        "author": article.author or "",
        "published_at": article.published_at.isoformat() if article.published_at else "",
        "url": clean_url(article.url, links),
        "link": link_text(channel, posted),
        "posted_link": posted,
        "article_id": article.article_id,
        "image": ({"url": image.url, "alt": image.alt, "credit": image.credit} if image else None),
        "credit": image.credit if image else "",
        "channel": channel.name,
        "platform": channel.platform,
        "options": dict(channel.options),  # the platform options (Instagram's `link_hint`)
        "limit": limit,
    }
