"""Which language an article is in, when its source does not say: detected from its text.

The pages and feeds say it most of the time (`<html lang>`, `og:locale`, JSON-LD `inLanguage`,
the feed's `<language>`); only without that is the text asked. Detection uses CLD2 (`pycld2`,
Google's compact language detector in C, no model to download), imported on first use: about
2 ms to import and well under a millisecond per teaser, so a preview of an article that carries
its language never pays for it. A text too short or too mixed to be sure gives None, and the
post then takes the channel's language.
"""

from __future__ import annotations

from functools import lru_cache

MIN_CHARS = 40  # below this, a guess is a coin toss ("Eilmeldung: Explosion in Berlin")
MIN_PERCENT = 60  # share of the text in the top language


@lru_cache(maxsize=1024)
def detect(text: str) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, or None when unsure."""
    text = " ".join(text.split())
    if len(text) < MIN_CHARS:
        return None
    import pycld2

    try:
        reliable, _, details = pycld2.detect(text)
    except pycld2.error:  # invalid UTF-8 after surrogates: nothing to say about it
        return None
    _, code, percent, _ = details[0]
    if not reliable or percent < MIN_PERCENT or code in ("un", "xxx"):
        return None
    return str(code).split("-")[0].lower()
