"""Derive a teaser from an article body: whole sentences, never boilerplate.

Newsroom bodies carry lines that must never reach a social post: "Lesen Sie auch: ...",
"Folgen Sie News.de bei Facebook ...", photo captions ("... Bild: picture alliance/dpa"),
share buttons, subheads. `derive_teaser` skips those and returns the first sentences of the
first prose paragraph, split with German and English abbreviations, ordinals ("1.", "4. August")
and numbers ("100.000") in mind. The renderer shortens further if a platform needs it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from distributor.article import Article, Image

# Lines that are page furniture, not article text (matched at the start, case-insensitive).
_BOILERPLATE = re.compile(
    r"""^(?:
        lesen\s+sie\s+(?:auch|mehr|hier)|mehr\s+zum\s+thema|mehr\s+dazu|auch\s+interessant
        |folgen\s+sie\b|jetzt\s+abonnieren|hier\s+(?:geht|finden|lesen)|zum\s+thema\b
        |artikel\s+teilen|teilen\s*:|themen\s*:?$|schlagworte\s*:|anzeige$|werbung$
        |bild\s*:|foto\s*:|fotos\s*:|quelle\s*:|video\s*:|©
        |read\s+more|related\s*:|sign\s+up\s+for|share\s+this|follow\s+us|advertisement$
        |photograph\s*:|image\s*:|credit\s*:|see\s+also\b|follow\s+(?:for|our)\s+live
        |\[(?:mehr|more|…|\.\.\.)\]$|das\s+könnte\s+sie\s+auch
        |\#{1,6}\s|[•·▪►>*+-]\s
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# A credit embedded in a caption: "Setzt Putin ...? Bild: picture alliance/dpa".
_CREDIT = re.compile(
    r"(?:^|\s)(?:Bild|Foto|Fotos|Quelle|Image|Photo|Photograph|Credit)\s*:\s*(?P<credit>\S.*)$"
    r"|\s*(?:©|\(c\))\s*(?P<copy>\S.*)$",
    re.IGNORECASE,
)

# "… (Foto: dpa)", "… [Bild: Reuters]", "… (© AFP)" at the end of a caption.
_PAREN_CREDIT = re.compile(
    r"\s*[(\[](?:(?:Bild|Foto|Fotos|Quelle|Image|Photo|Photograph|Credit)\s*:\s*|©\s*|\(c\)\s*)"
    r"(?P<credit>[^()\[\]]+)[)\]]\s*$",
    re.IGNORECASE,
)
_PIPE_CREDIT = re.compile(r"\s+\|\s+(?P<credit>[^|]{2,80})$")  # "Alt text | dpa"

# Tokens ending in "." that do not end a sentence (compared lower-case, without the dot).
_ABBREVIATIONS = frozenset(
    re.split(
        r"\s+",
        "dr prof bzw nr ca vgl usw etc inkl exkl evtl ggf sog zzgl abs art bd bzgl dipl hr hrsg "
        "fr frl jh jhd mio mrd tel str st max min mind rd urspr verh zit ff ebd allg geb gest "
        "jan feb mär apr jun jul aug sep sept okt nov dez "
        "mr mrs ms jr sr vs inc ltd co corp gen sen rep gov lt col capt sgt no approx est dept",
    )
)

_MONTHS = frozenset(
    re.split(
        r"\s+",
        "januar februar märz april mai juni juli august september oktober november dezember "
        "jänner january february march may june july october december",
    )
)

# Candidate sentence end: terminal punctuation with closing quotes/brackets around it.
_END = re.compile(r"""[.!?…]+["'“”„»«’)\]]*|["“”»«’)\]]+[.!?…]+""")
_OPENERS = "\"'„“‚‘»«([¿¡"
_SENTENCE_END = (".", "!", "?", "…", ":")


def derive_teaser(body: str, language: str | None = None, max_chars: int = 280) -> str | None:
    """Whole leading sentences of the first prose paragraph, up to `max_chars`.

    At least one sentence is returned even if it alone is longer (the renderer shortens it);
    None when the body holds no prose at all.
    """
    german = language is None or language.lower().startswith("de")
    out: list[str] = []
    total = 0
    for paragraph in prose_paragraphs(body):
        for sentence in split_sentences(paragraph, german=german):
            extra = len(sentence) + (1 if out else 0)
            if out and total + extra > max_chars:
                return " ".join(out)
            out.append(sentence)
            total += extra
        if out:
            # A teaser is the lead: do not run on into the next paragraph.
            return " ".join(out)
    return " ".join(out) or None


def prose_paragraphs(body: str) -> list[str]:
    """The body's paragraphs without boilerplate, captions and subheads, whitespace squashed.

    A body of nothing but short unpunctuated lines ("Eilmeldung: Explosion in Berlin") keeps
    them: a bare line is a better teaser than none.
    """
    kept_blocks: list[str] = []
    for block in re.split(r"\n\s*\n", body):
        lines = [" ".join(line.split()) for line in block.splitlines()]
        text = " ".join(line for line in lines if line and not is_boilerplate(line))
        if text:
            kept_blocks.append(text)
    prose = [text for text in kept_blocks if not _is_heading(text)]
    return prose or kept_blocks[:1]


def is_boilerplate(line: str) -> bool:
    """True for page furniture: share/follow/read-more lines, captions, headings, bullets."""
    line = line.strip()
    return bool(_BOILERPLATE.match(line)) or _ends_like_caption(line)


def _ends_like_caption(line: str) -> bool:
    # "…? Bild: picture alliance/dpa" is a caption; a sentence that merely quotes "Bild:" and
    # goes on is not (credits are short and carry no sentence end).
    match = _CREDIT.search(line)
    if match is None:
        return False
    credit = match.group("credit") or match.group("copy") or ""
    return len(credit) <= 160 and not credit.rstrip().endswith((".", "!", "?"))


def _is_heading(text: str) -> bool:
    """A short line without sentence punctuation: a subhead, section label or headline."""
    stripped = text.rstrip("\"'“”»«’) ")
    return not stripped.endswith(_SENTENCE_END) and len(text) < 160


def split_sentences(text: str, *, german: bool = True) -> list[str]:
    """Split one paragraph into sentences (linear; abbreviation- and ordinal-aware)."""
    return list(_sentences(text, german))


@lru_cache(maxsize=1024)
def _sentences(text: str, german: bool) -> tuple[str, ...]:
    # Cached: fitting splits the same teaser for every channel that has to shorten it.
    sentences: list[str] = []
    start = 0
    for match in _END.finditer(text):
        end = match.end()
        if end < len(text) and not text[end].isspace():
            continue
        rest = text[end:].lstrip()
        if rest and not _starts_sentence(rest):
            continue
        if match.group().startswith(".") and _is_abbreviation(text, match.start(), rest, german):
            continue
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return tuple(sentences)


def _starts_sentence(rest: str) -> bool:
    first = rest[0]
    return first.isupper() or first.isdigit() or first in _OPENERS


def _is_abbreviation(text: str, dot: int, rest: str, german: bool) -> bool:
    """Whether the "." at `dot` belongs to the word before it rather than ending a sentence."""
    word_start = dot
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip(_OPENERS)
    if not word:
        return False
    if len(word) == 1 and word.isalpha():
        return True  # "z. B.", "u. a.", initials "J. R. R."
    if "." in word and all(part.isalpha() and len(part) <= 3 for part in word.split(".")):
        return True  # "z.B.", "u.a.", "U.S."
    if word.lower() in _ABBREVIATIONS:
        return True
    if word.isdigit():
        next_word = rest.split(" ", 1)[0].strip(".,").lower()
        if next_word in _MONTHS:
            return True  # "4. August"
        return german and len(word) <= 2  # German ordinals: "1. weiblicher Oberst", "3. Liga"
    return False


def split_caption(caption: str, *, pipes: bool = True) -> tuple[str, str]:
    """Split a caption into (alt, credit); credit may be "".

    Forms: "Alt text. Bild: picture alliance/dpa", "Alt text (Foto: dpa)", "Alt text © dpa"
    and, with `pipes`, "Alt text | dpa" (a short credit-like piece after the last " | ").
    """
    text = " ".join(caption.split())
    for pattern in (_PAREN_CREDIT, _CREDIT, *((_PIPE_CREDIT,) if pipes else ())):
        match = pattern.search(text)
        if match is None:
            continue
        credit = (match.group("credit") or match.groupdict().get("copy") or "").strip()
        if pattern is _PIPE_CREDIT and not _credit_like(credit):
            continue
        return text[: match.start()].strip(), credit
    return text, ""


def _credit_like(text: str) -> bool:
    """ "dpa", "picture alliance/dpa", "Reuters/Fabian Bimmer": short, no sentence in it."""
    return len(text.split()) <= 8 and not text.rstrip().endswith((".", "!", "?", ":"))


def fill_teaser(article: Article, site_names: Iterable[str] = ()) -> Article:
    """The article as posts need it, whatever its source: the site name out of the title, the
    language detected when the source gave none, the teaser cleaned of furniture (or derived
    from the body), and a credit split off the image's alt text."""
    from distributor.furniture import clean_teaser, strip_site_name
    from distributor.language import detect

    title = strip_site_name(article.title, site_names)
    language = article.language or detect(
        " ".join(filter(None, (title, article.teaser, (article.body or "")[:2000])))
    )
    teaser = clean_teaser(article.teaser, language) if article.teaser else ""
    if not teaser and article.body:
        teaser = clean_teaser(derive_teaser(article.body, language) or "", language)
    image = split_image_credit(article.image) if article.image is not None else None
    return replace(article, title=title, teaser=teaser or None, language=language, image=image)


def split_image_credit(image: Image) -> Image:
    """Move a credit embedded in the alt text ("... Foto: dpa") into `credit`."""
    if image.credit or not image.alt:
        return image
    alt, credit = split_caption(image.alt)
    return replace(image, alt=alt, credit=credit) if credit else image
