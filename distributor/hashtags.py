"""Hashtags from an article's tags: faithful, specific, few, never a site's generic label.

    hashtag("Ukraine-Krieg")        # "#UkraineKrieg"
    hashtag("McDonald's")           # "#McDonalds"
    hashtag("Olaf Scholz (SPD)")    # "#OlafScholz"
    for_channel(article, channel, stop)  # capped and ordered for one channel

A channel posts at most `hashtags = N` of them (`true`: the platform's default below, `false`:
none). Generic labels that CMSs attach to everything (`News`, `Story`, `Standard`, `dpa`) are
never hashtags (the built-in stop list plus `[hashtags] stop`). The most specific tags come
first: names and compounds of several words before single words, the article's section last.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from distributor.platform import BUILTIN, platforms

# `hashtags = true` on a platform nobody knows (a test's made-up one); known ones say in their spec.
DEFAULT_CAP = 3
# Labels CMSs attach to every story; compared as hashtags, case-insensitive ("Top News" too).
BUILTIN_STOP = frozenset(
    {
        "news", "nachrichten", "story", "stories", "standard", "aktuell", "aktuelles", "top",
        "topnews", "topthema", "topthemen", "home", "startseite", "homepage", "artikel", "article",
        "articles", "breaking", "breakingnews", "eilmeldung", "video", "videos", "bilder", "bild",
        "fotos", "foto", "bildergalerie", "galerie", "gallery", "photos", "newsletter", "liveblog",
        "live", "ticker", "newsticker", "liveticker", "headlines", "schlagzeilen", "meldung",
        "meldungen", "paid", "plus", "premium", "sponsored", "anzeige", "werbung", "advertorial",
        "dpa", "afp", "reuters", "ap", "epd", "kna", "sid", "ddp", "misc", "sonstiges", "allgemein",
        "general", "default", "uncategorized", "unkategorisiert",
    }
)  # fmt: skip

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_./:·]+")  # disappear; the next word starts upper-case
_APOSTROPHES = re.compile(r"['’ʼ`´]")  # disappear without a capital: "McDonald's" -> McDonalds
_QUALIFIER = re.compile(r"\s*\([^()]*\)\s*$")  # "Olaf Scholz (SPD)" -> "Olaf Scholz"
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def hashtag(tag: str) -> str | None:
    """`"Ukraine-Krieg"` -> `"#UkraineKrieg"`; None when the tag cannot be a hashtag."""
    text = unicodedata.normalize("NFC", tag.strip().lstrip("#"))
    text = _APOSTROPHES.sub("", _QUALIFIER.sub("", text))
    parts = [p for p in _SEPARATORS.split(text) if p]
    if not parts or not all(_WORD.fullmatch(p) for p in parts):
        return None  # punctuation such as "C++" or "S&P" would change the meaning
    # Later parts start upper-case ("Kim Jong-un" -> KimJongUn): readable, also for screen
    # readers; the first part keeps its case ("iPhone").
    word = parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
    if not any(c.isalpha() for c in word):
        return None  # "#2024" is not a hashtag on any platform
    return "#" + word


def _parts(tag: str) -> int:
    return len([p for p in _SEPARATORS.split(_QUALIFIER.sub("", tag)) if p])


@lru_cache(maxsize=1024)
def ranked(
    tags: tuple[str, ...], section: str = "", stop: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    """Hashtags for `tags`, most specific first, without duplicates or stop-listed labels.

    Specific: a tag of two or more words (a name, a compound) before a single word; a tag that
    is only the article's section last; otherwise the article's order.
    """
    stopped = BUILTIN_STOP | stop
    section_key = (hashtag(section) or "").casefold()
    seen: set[str] = set()
    ranks: list[tuple[tuple[bool, int, int], str]] = []
    for index, tag in enumerate(tags):
        tagged = hashtag(tag)
        key = tagged.casefold() if tagged else ""
        if not tagged or key in seen or key[1:] in stopped:
            continue
        seen.add(key)
        ranks.append(((key == section_key, -min(_parts(tag), 2), index), tagged))
    return tuple(tagged for _, tagged in sorted(ranks))


def hashtag_list(tags: Iterable[str] | str) -> tuple[str, ...]:
    """Hashtags for `tags` in order, without duplicates (case-insensitive) or invalid ones."""
    items = (tags,) if isinstance(tags, str) else tuple(str(t) for t in tags)
    seen: set[str] = set()
    out: list[str] = []
    for tag in items:
        tagged = hashtag(tag)
        if tagged is not None and tagged.casefold() not in seen:
            seen.add(tagged.casefold())
            out.append(tagged)
    return tuple(out)


def hashtags_filter(tags: Iterable[str] | str) -> str:
    """Template filter: `{{ tags|hashtags }}` -> `"#WladimirPutin #UkraineKrieg"`."""
    return " ".join(hashtag_list(tags))


def cap(platform: str, setting: bool | int) -> int:
    """How many hashtags a channel posts: `hashtags = N`, `true` (platform default), `false`."""
    if setting is True:
        row = BUILTIN.get(platform) or platforms().get(platform)  # plugins: scan only for them
        return row.hashtags if row is not None else DEFAULT_CAP
    return max(0, int(setting))
