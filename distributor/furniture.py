"""Text that must never reach a post: page furniture, site names, bylines.

Every source (file, feed, page, plain text, webhook) passes titles and teasers through here;
invisible and control characters are already gone by then (`distributor.untrusted`):

- `clean_teaser`: inline furniture out (tagesschau's `[mehr]`, `[…]`, "Lesen Sie auch: …",
  "Mehr zum Thema", "Follow for live updates"), a trailing byline ("Von Anna Berger"), and a
  sentence the publisher cut off ("Ob sich …"); "" when nothing of the teaser is left;
- `strip_site_name`: " - BBC News", " › Meedia", "SZ.de | " at either end of a title, when
  it names the site (`og:site_name`, JSON-LD `publisher.name`, the feed title or the host).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_INLINE = re.compile(
    r"\s*(?:\[(?:mehr|more|…|\.\.\.)\]|\((?:mehr|more)\))", re.IGNORECASE
)  # "… bestätigt. [mehr]" or a "[…]" left by the publisher
# A marker after which the rest of a teaser is a link list, not the story.
_TAIL = re.compile(
    r"""(?:^|(?<=[.!?…"“”»«]\s))(?:
        lesen\s+sie\s+(?:auch|mehr|hier)\b|mehr\s+zum\s+thema\b|mehr\s+dazu\s*:|auch\s+interessant\b
        |zum\s+thema\s*:|das\s+könnte\s+sie\s+auch\s+interessieren
        |follow\s+(?:for|our)\s+live\s+updates?\b|follow\s+live\b|live\s+updates\s*:
        |read\s+more\s*:|related\s*:|see\s+also\s*:|sign\s+up\s+for\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_NAME = r"[A-ZÄÖÜ][\w'’.-]+"
# "Von Anna Berger", "Ein Kommentar von Max Muster", "By Jane Doe and John Roe" at the end.
_BYLINE = re.compile(
    rf"(?:^|(?<=[.!?…\"“”»«]\s))(?:(?:Ein\s+)?(?:Kommentar|Gastbeitrag|Beitrag|Analyse|Essay)"
    rf"\s+von|Von|By|Autor(?:in)?:|Text:)\s+{_NAME}(?:\s+(?:und|and|&|,)?\s*{_NAME}){{0,5}}"
    r"\s*(?:\(\w[\w ]*\))?\s*$"
)
_SEPARATORS = r"\s+[-–—|›»·:]\s+|\s+[|›»]\s*"
_PIECE = rf"(?:(?!{_SEPARATORS}).){{2,60}}"  # a site name: no separator inside ("n-tv.de")
_SITE_TAIL = re.compile(rf"^(?P<head>.+)(?:{_SEPARATORS})(?P<site>{_PIECE})$")
_SITE_HEAD = re.compile(rf"^(?P<site>{_PIECE})(?:{_SEPARATORS}|:\s+)(?P<head>.+)$")
MIN_TRUNCATED_WORDS = 8  # a publisher-cut teaser shorter than this is a fragment, not a teaser


def clean_teaser(text: str, language: str | None = None) -> str:
    """The teaser without inline furniture, a trailing byline or a cut-off last sentence."""
    from distributor.teaser import split_sentences

    text = " ".join(_INLINE.sub("", text).split())
    tail = _TAIL.search(text)
    if tail is not None:
        text = text[: tail.start()].rstrip()
    text = _BYLINE.sub("", text).rstrip(" -–—|,;:")
    if not text.endswith(("…", "...")):
        return text
    sentences = split_sentences(text, german=language in (None, "de"))
    if len(sentences) > 1:
        return " ".join(sentences[:-1])  # drop "Ob sich …", keep the whole sentences
    return text if len(text.split()) >= MIN_TRUNCATED_WORDS else ""


def _same(a: str, b: str) -> bool:
    a, b = a.casefold().strip(), b.casefold().strip()
    return bool(a) and (a == b or a.removeprefix("www.") == b.removeprefix("www."))


def _names_site(candidate: str, names: Iterable[str]) -> bool:
    """Whether a title's end piece is the site: equal to a known name, or its first words
    ("MEEDIA" for "MEEDIA – Medien, Marketing, Werbung"), or the host ("SZ.de" for sz.de)."""
    piece = candidate.strip()
    for name in names:
        name = name.strip()
        if not name:
            continue
        if _same(piece, name) or name.casefold().startswith(piece.casefold() + " "):
            return True
        short = re.split(_SEPARATORS, name, maxsplit=1)[0]
        if _same(piece, short):
            return True
    return False


def strip_site_name(title: str, names: Iterable[str]) -> str:
    """`title` without a site name at either end ("Headline - BBC News" -> "Headline")."""
    known = [n for n in names if n and n.strip()]
    if not known:
        return title
    for pattern in (_SITE_TAIL, _SITE_HEAD):
        match = pattern.match(title)
        if match and _names_site(match.group("site"), known) and len(match.group("head")) >= 12:
            return match.group("head").strip()
    return title
