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
MIN_WORDS = 8  # a shortened teaser under this says nothing: post title and link instead
# Quotation marks: each toggles "inside a quotation" („…“, “…”, "…", »…«, «…»).
_QUOTES = frozenset('„“”"»«')
_OPENERS = frozenset('„“"»«')

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


def shorten(words: Sequence[str], count: int, german: bool = True) -> str:
    """The first `count` words with the ellipsis, without a dangling comma or dash before it;
    German sets it apart ("tobt der …"), English closes up ("rages on…")."""
    head = " ".join(words[:count]).rstrip(",;:–—-‒ ")
    return f"{head} {ELLIPSIS}" if german else head + ELLIPSIS


def shorten_title(title: str, limit: int, length: Callable[[str], int], german: bool) -> str:
    """A separate post title (Pinterest's 100) within `limit`: cut at a word with the ellipsis,
    inside a word only when the first word alone is too long. Titles are never dropped."""
    if length(title) <= limit:
        return title
    words = title.split()
    count = _largest(1, len(words) - 1, lambda n: length(shorten(words, n, german)) <= limit)
    if count is not None:
        return shorten(words, count, german)
    chars = _largest(0, len(title), lambda n: length(title[:n] + ELLIPSIS) <= limit)
    return title[: chars or 0] + ELLIPSIS


def cut_points(words: Sequence[str]) -> list[int]:
    """Word counts after which a teaser may be cut: never inside a quotation, never between a
    quotation and its speaker ("…“, erklärte er" / "Korotchenko sagte im Fernsehen: „…")."""
    blocked: set[int] = set()
    inside = False
    for i, word in enumerate(words):
        for char in word:
            if char in _QUOTES:
                inside = not inside
        if inside:
            blocked.add(i + 1)
        if word.rstrip(",;:.!?")[-1:] in _QUOTES:  # "…“," then the speaker: "erklärte er"
            blocked.update((i + 1, i + 2))
        if word.endswith(":") and i + 1 < len(words) and words[i + 1][:1] in _OPENERS:
            clause = max((j for j in range(i) if words[j].endswith(",")), default=-1)
            blocked.update(range(clause + 2, i + 2))  # the speaker's clause stays with it
    return [n for n in range(1, len(words) + 1) if n not in blocked]


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
        points = [p for p in cut_points(words) if MIN_WORDS <= p < len(words)]
        pick = _largest(0, len(points) - 1, lambda i: ok(shorten(words, points[i], german), ""))
        if pick is not None:
            return done(shorten(words, points[pick], german), "")
    if ok("", ""):
        return refill("")
    raise FitError(
        f"the fixed parts alone are {done('', '')[1]} characters, over the limit of {limit} "
        "(hashtags and teaser already left out)"
    )
