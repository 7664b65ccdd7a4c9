"""Fit-to-limit: drop optional parts of a post until it fits, never cutting a URL or a word.

The template decides what a post looks like; fitting only changes two context values and
renders again: `hashtags` (dropped from the end first), then `teaser` (whole sentences dropped
from the end, then the first sentence shortened at a word boundary with "…", then left out).
When dropping sentences left room, hashtags are given back as far as they fit.
Title, link and everything else the template prints are fixed: if they alone are too long,
that is an error, not something to cut. Each step is a binary search, so even a post that
needs all steps costs about a dozen renders; one that fits costs one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from distributor.teaser import split_sentences

ELLIPSIS = "…"
MIN_WORDS = 3  # a teaser shorter than this says nothing; leave it out instead

Attempt = Callable[[str, str], tuple[str, int]]  # (teaser, hashtags) -> (text, length)


class FitError(Exception):
    """The fixed parts of a post alone exceed the limit."""


def _largest(lo: int, hi: int, ok: Callable[[int], bool]) -> int | None:
    """The largest i in [lo, hi] with ok(i), assuming ok is monotone (True, ..., False)."""
    if hi < lo or not ok(lo):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def shorten(words: Sequence[str], count: int) -> str:
    """The first `count` words with "…", without a dangling comma or dash before it."""
    return " ".join(words[:count]).rstrip(",;:–—-‒ ") + ELLIPSIS


def fit(
    attempt: Attempt, *, limit: int, teaser: str, hashtags: Sequence[str], german: bool
) -> tuple[str, int]:
    """The longest version of the post within `limit`; FitError if even the minimum is over."""
    results: dict[tuple[str, str], tuple[str, int]] = {}

    def ok(teaser_text: str, tags: str) -> bool:
        if (teaser_text, tags) not in results:
            results[(teaser_text, tags)] = attempt(teaser_text, tags)
        return results[(teaser_text, tags)][1] <= limit

    def done(teaser_text: str, tags: str) -> tuple[str, int]:
        return results[(teaser_text, tags)]

    def refill(teaser_text: str) -> tuple[str, int]:
        # A shorter teaser can leave room: give it back to as many hashtags as fit.
        kept = _largest(1, len(hashtags), lambda k: ok(teaser_text, " ".join(hashtags[:k])))
        tags = " ".join(hashtags[:kept]) if kept else ""
        return done(teaser_text, tags)

    all_tags = " ".join(hashtags)
    if ok(teaser, all_tags):
        return done(teaser, all_tags)
    kept = _largest(0, len(hashtags) - 1, lambda k: ok(teaser, " ".join(hashtags[:k])))
    if kept is not None:
        return done(teaser, " ".join(hashtags[:kept]))
    if teaser:
        sentences = split_sentences(teaser, german=german) or [teaser]
        count = _largest(1, len(sentences) - 1, lambda s: ok(" ".join(sentences[:s]), ""))
        if count is not None:
            return refill(" ".join(sentences[:count]))
        words = sentences[0].split()
        cut = _largest(MIN_WORDS, len(words) - 1, lambda w: ok(shorten(words, w), ""))
        if cut is not None:
            return done(shorten(words, cut), "")
    if ok("", ""):
        return refill("")
    raise FitError(
        f"the fixed parts alone are {done('', '')[1]} characters, over the limit of {limit} "
        "(hashtags and teaser already left out)"
    )
