"""Which channels get an article: section, tag and language filters, and exclude lists.

Filters compare case-insensitively. An empty include-list means "everything"; a non-empty one
must match (any tag is enough for `tags`). Excludes win over includes. An article without a
language never matches a channel that lists `languages`, so a German-only channel does not
receive an untagged story by accident. Disabled channels get nothing. A platform that cannot
post without an image (`PlatformSpec.requires_image`: Pinterest) gets no article without one:
the channel is skipped with that reason, the article's other channels still get it.
"""

from __future__ import annotations

from collections.abc import Iterable

from distributor.article import Article
from distributor.config import Channel
from distributor.errors import N_, Say
from distributor.platform import spec


def _fold(values: Iterable[str]) -> set[str]:
    return {v.casefold() for v in values}


def skip_reason(article: Article, channel: Channel) -> str | None:
    """Why `channel` does not get `article`, or None when it does."""
    why = skip_say(article, channel)
    return str(why) if why else None


def skip_say(article: Article, channel: Channel) -> Say | None:
    """`skip_reason` as a message the admin UI shows in the reader's language."""
    if not channel.enabled:
        return Say(N_("channel is disabled"))
    f = channel.filters
    section = (article.section or "").casefold()
    tags = _fold(article.tags)
    if f.sections and section not in _fold(f.sections):
        got = repr(article.section or "(none)")
        return Say(N_("section %(got)s is not in %(want)s"), {"got": got, "want": list(f.sections)})
    if f.exclude_sections and section and section in _fold(f.exclude_sections):
        return Say(N_("section %(got)r is excluded"), {"got": article.section})
    if f.tags and not tags & _fold(f.tags):
        return Say(N_("no tag in %(want)s"), {"want": list(f.tags)})
    excluded = sorted(t for t in article.tags if t.casefold() in _fold(f.exclude_tags))
    if excluded:
        return Say(N_("tag %(got)r is excluded"), {"got": excluded[0]})
    if f.languages and (article.language or "").casefold() not in _language_set(f.languages):
        got = repr(article.language or "(none)")
        return Say(
            N_("language %(got)s is not in %(want)s"), {"got": got, "want": list(f.languages)}
        )
    if article.image is None and spec(channel.platform).requires_image:
        return Say(
            N_("%(platform)s posts need an image and the article has none"),
            {"platform": channel.platform},
        )
    return None


def _language_set(languages: Iterable[str]) -> set[str]:
    # Accept "de-AT" or "de_DE" in the config; articles carry the primary subtag only.
    return {lang.replace("_", "-").split("-")[0].casefold() for lang in languages}


def routes(article: Article, channel: Channel) -> bool:
    """True when `channel` should receive `article`."""
    return skip_reason(article, channel) is None


def route(article: Article, channels: Iterable[Channel]) -> list[Channel]:
    """The channels (in configuration order) that receive `article`."""
    return [c for c in channels if routes(article, c)]
