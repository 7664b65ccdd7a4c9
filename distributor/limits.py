"""Per-platform text length, counted as each platform counts it.

API (stable): `length(platform, text) -> int`, `fits(platform, text, limit=None) -> bool`,
`limit_for(platform, caption=False, override=None) -> int`; `measure` gives the details.

- x: twitter-text v3 weighted length (twitter-text-parser, imported lazily). The weighted length
  is additive over tokens split at ASCII whitespace (URLs and emoji never span it), so each token's
  weight is cached and summed: repeated fitting of similar texts costs a few dict lookups.
- mastodon: grapheme clusters; URLs with a scheme count 23, `@user@domain` counts as `@user`.
- bluesky: grapheme clusters (limit 300) and UTF-8 bytes (cap 3000), both enforced by `fits`.
- telegram: the visible text of the HTML (parse_mode=HTML) in UTF-16 code units.
- threads: emoji count their UTF-8 bytes, every other grapheme 1.
- linkedin, facebook: UTF-16 code units.
- instagram: UTF-16 code units, and each hashtag beyond the 30th counts as a whole caption, so
  a caption with too many never fits (fitting drops hashtags first).
Which counter a platform uses, and its limits, are facts of its row in `distributor.platform`
(`PlatformSpec.counter`, `.limits`): this module only counts. See docs/limits.md for sources and
examples.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import types
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

from distributor.errors import ConfigError, TemplateError
from distributor.platform import BUILTIN, load, spec

URL_WEIGHT = 23  # t.co length on X; Mastodon's characters_reserved_per_url
_BUILTIN_RULES: dict[str, Callable[[str], int]] = {}
_CACHE = 65536

# X: split at ASCII whitespace only; Unicode spaces stay inside tokens (see docs/limits.md).
_X_SPLIT = re.compile(r"([ \t\n\r]+)")
# The `regex` module's patterns, compiled on first use (`_rx`): importing `regex` and compiling
# its Unicode property classes is ~20 ms of every CLI start, and ordinary news text needs none.
_RX = {
    "grapheme": r"\X",
    # Characters that can join a grapheme cluster with a neighbour; text without them has one
    # grapheme per code point (apart from CRLF), which spares the slower \X scan.
    "joining": r"[\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=RI}\p{GCB=Prepend}\p{GCB=SpacingMark}"
    r"\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}]",
    # Threads counts an emoji's UTF-8 bytes; a keycap (1️⃣: digit, VS16, U+20E3) is an emoji too.
    "emoji": r"\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3",
    # Mastodon's remote mention (Account::MENTION_RE): '@user@domain' counts as '@user'. The user
    # part is ASCII letters, digits and '_' (joined by '.' or '-'); the domain is word characters,
    # at most 253 (a longer one is not extracted and counts in full). So '@jürgen@example.de' is
    # no mention at all and counts in full (18), as Mastodon counts it.
    "remote_mention": r"(?i)(?<![=/\w])(@[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)"
    r"@[\w.-]{1,252}\w(?![\w.-]*\w)",
    # Instagram's hashtag: '#' not inside a word, then word characters with at least one letter.
    "hashtag": r"(?<![\w&#])#(?=\w*[^\W\d_])\w+",
}
_SPACES = " \t\n\r"  # what separates tokens (URLs never span it)
# Characters that are neither "joining" nor "emoji" (© ® ‼ ⁉ are emoji; U+0300 on and
# ZWNJ/ZWJ join clusters), as a `re` class: see `_plain`.
_PLAIN_TEXT = re.compile(
    r"[\x00-\xa8\xaa-\xad\xaf-\u02ff\u2000-\u200b\u200e-\u203b\u203d-\u2048\u204a-\u206f"
    r"\u20a0-\u20cf]*\Z"
)
# X tokens whose weight needs no twitter_text (whose import is most of a CLI call's start-up).
# Plain characters: below U+2100 except those that occur in emoji (©, ®, ZWJ, ‼, ⁉, the keycap
# mark) and CR (twitter-text rewrites line endings). No emoji sequence consists of plain
# characters alone, so twitter-text's emoji pattern finds none in them; each weighs 1, or 2
# outside X's weight-100 ranges (tests/test_limits_x_fast.py proves both on twitter_text's own
# emoji list and config).
# Written as the ranges it allows: the same class negated ([^©®...\u2100-\U0010ffff]) costs
# 1.3 ms to compile, on every start.
_X_PLAIN = re.compile(
    r"[\x00-\x0c\x0e-\xa8\xaa-\xad\xaf-\u200c\u200e-\u203b\u203d-\u2048\u204a-\u20e2\u20e4-\u20ff]*\Z"
)
_X_HEAVY = re.compile(r"[\u1100-\u1fff\u200e\u200f\u2020-\u2031\u2038-\u20ff]")
# A URL needs a dot followed by the first letter of a top-level domain (or of "xn--"), and every
# TLD twitter-text knows starts with a letter: without such a dot a token holds no URL.
_X_DOT_LETTER = re.compile(r"\.[^\W_]")
# A URL twitter-text takes whole (tested on its conformance data and against the library): http(s),
# lowercase host labels of at most 63 characters under a common TLD, a plain path (accented Latin
# letters too) and query that end in a character twitter-text lets a path or query end in. Any
# other URL takes the full path.
_SIMPLE_URL = re.compile(
    r"https?://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|org|net|info|news|de|at|ch|uk|eu|fr|nl|be|it|es|dk|se|no|pl|io)"
    r"(?:/(?:[A-Za-z0-9._~%/\xc0-\xd6\xd8-\xf6\xf8-\xff-]*[A-Za-z0-9_/\xc0-\xd6\xd8-\xf6\xf8-\xff-])?)?"
    r"(?:\?[A-Za-z0-9._~%&=+/-]*[A-Za-z0-9_&=/-])?\Z"
)
INSTAGRAM_CAPTION, INSTAGRAM_HASHTAGS = 2200, 30


@dataclass(frozen=True, slots=True)
class Measure:
    """A text's length on one platform, its limit, and (Bluesky) its UTF-8 byte size."""

    platform: str
    length: int
    limit: int
    byte_length: int | None = None
    byte_limit: int | None = None

    @property
    def fits(self) -> bool:
        bytes_ok = self.byte_limit is None or (self.byte_length or 0) <= self.byte_limit
        return self.length <= self.limit and bytes_ok


def limit_for(platform: str, *, caption: bool = False, override: int | None = None) -> int:
    """The platform's limit (Telegram's caption limit with `caption`); a channel override wins."""
    limits = spec(platform).limits
    if override:
        return override
    return limits.caption if caption and limits.caption else limits.text


def length(platform: str, text: str) -> int:
    """`text`'s length as `platform` counts it (its spec's `counter`)."""
    rule = _BUILTIN_RULES.get(platform)  # fitting counts many times per post: one dict lookup
    if rule is None:
        rule = counter(spec(platform).counter)
        if platform in BUILTIN:
            _BUILTIN_RULES[platform] = rule
    return rule(text)


@lru_cache(maxsize=64)
def counter(ref: str) -> Callable[[str], int]:
    """The counting function a spec's "module:function" names; ConfigError when there is none."""
    try:
        found = load(ref)
    except (ImportError, AttributeError, ValueError):
        found = None
    if not callable(found):
        raise ConfigError(f"no length rule {ref!r}: not a function")
    rule: Callable[[str], int] = found
    return rule


def fits(platform: str, text: str, limit: int | None = None) -> bool:
    """Whether `text` fits `limit` (default: the platform's text limit); Bluesky also bytes."""
    return measure(platform, text, limit).fits


def measure(platform: str, text: str, limit: int | None = None) -> Measure:
    """Length, limit and (Bluesky) byte size of `text` on `platform`."""
    n = length(platform, text)
    lim = limit or limit_for(platform)
    byte_cap = spec(platform).limits.byte_cap
    if byte_cap is not None:
        return Measure(platform, n, lim, len(text.encode("utf-8")), byte_cap)
    return Measure(platform, n, lim)


def _plain(text: str) -> bool:
    """Whether every character of `text` is one that joins no grapheme cluster and is no emoji
    (Latin, Greek, Cyrillic letters, general punctuation, currency signs): most news text, tested
    for with `re`, far faster than a `regex` property scan (tests/test_limits_x_fast.py)."""
    return _PLAIN_TEXT.match(text) is not None


@cache
def _rx(name: str) -> Any:
    """The `regex` pattern `_RX[name]`, compiled once."""
    import regex

    return regex.compile(_RX[name])


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters)."""
    if text.isascii() or _plain(text) or not _rx("joining").search(text):
        return len(text) - text.count("\r\n")  # CRLF is one grapheme
    return len(_rx("grapheme").findall(text))


def utf16_units(text: str) -> int:
    """Length in UTF-16 code units, as JavaScript and Telegram count."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def x_length(text: str) -> int:
    """twitter-text v3 weighted length, summed over cached per-token weights."""
    if not text:
        return 0
    text = unicodedata.normalize("NFC", text)
    pieces = _X_SPLIT.split(text)
    # Whether a URL may start with the token's first letter depends on what precedes it (start of
    # text or whitespace: twitter-text treats them differently), so that context is part of the key.
    return _x_piece(pieces[0], False) + sum(map(_x_piece, pieces[1:], repeat(True)))


_IMPORT_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _twitter_text() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """twitter_text's parser and URL extractor, imported once (lazily: it costs ~170 ms).

    The lock matters: threads that import twitter_text at the same moment see a partially
    initialised module and fail, which a threaded worker or the web server would hit.
    """
    with _IMPORT_LOCK, _pkg_resources_stand_in():
        from twitter_text import parse_tweet
        from twitter_text.extract_urls import extract_urls_with_indices
    return parse_tweet, extract_urls_with_indices


def load_twitter_text() -> None:
    """Import twitter_text safely (see `_twitter_text`); do this before importing from it."""
    _twitter_text()


def extract_urls(text: str) -> list[dict[str, Any]]:
    """twitter-text's URLs in `text`, each `{"url": ..., "indices": [start, end]}`."""
    return list(_twitter_text()[1](text))


@contextmanager
def _pkg_resources_stand_in() -> Iterator[None]:
    """Let twitter_text read its emoji list without importing pkg_resources (~60 ms of start-up).

    Its `regexp/emoji.py` only calls `pkg_resources.resource_string(__name__, file)`; a stand-in
    module with that one function is present while twitter_text imports, then removed, so code
    that really wants pkg_resources later still gets the real one. It is also why setuptools
    (which provides pkg_resources, and dropped it in 81) is no dependency: every import of
    twitter_text goes through here (`load_twitter_text`, `extract_urls`).
    """
    if "pkg_resources" in sys.modules:
        yield
        return
    stand_in = types.ModuleType("pkg_resources")

    def resource_string(module: str, name: str) -> bytes:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None
        return (Path(spec.origin).parent / name).read_bytes()

    stand_in.resource_string = resource_string  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("pkg_resources") is stand_in:
            del sys.modules["pkg_resources"]


def x_length_full(text: str) -> int:
    """twitter-text v3 weighted length from one full parse (the reference for `x_length`)."""
    return int(_twitter_text()[0](text).weightedLength)


@lru_cache(maxsize=_CACHE)
def _x_piece(piece: str, after_space: bool) -> int:
    weight = x_plain_weight(piece)
    if weight is not None:
        return weight
    if after_space and not piece[0].isspace():
        return x_length_full(" " + piece) - 1  # a space weighs 1
    return x_length_full(piece)


def x_plain_weight(token: str) -> int | None:
    """An NFC token's X weight when it needs no twitter_text (see `_X_PLAIN`), else None."""
    if len(token) <= 2000 and _SIMPLE_URL.match(token):
        return URL_WEIGHT
    if not _X_PLAIN.match(token) or _X_DOT_LETTER.search(token):
        return None  # maybe an emoji, a URL or a line ending twitter-text rewrites
    return len(token) if token.isascii() else len(token) + len(_X_HEAVY.findall(token))


def mastodon_length(text: str) -> int:
    """Mastodon's countable length: URLs with a scheme are 23, remote mentions lose the domain."""
    if "@" in text:
        text = _rx("remote_mention").sub(r"\1", text)
    total, pos = 0, 0
    for start, end in _scheme_urls(text):
        total += graphemes(text[pos:start]) + URL_WEIGHT
        pos = end
    return total + graphemes(text[pos:])


def _scheme_urls(text: str) -> list[tuple[int, int]]:
    """Spans of URLs with a scheme, found per whitespace-separated token (cached)."""
    if "://" not in text:
        return []
    spans: list[tuple[int, int]] = []
    found = text.find("://")
    while found != -1:  # the token around each "://" (most tokens have none: no scan of them)
        start = max(text.rfind(space, 0, found) for space in _SPACES) + 1
        ends = [text.find(space, found) for space in _SPACES]
        end = min((e for e in ends if e != -1), default=len(text))
        spans.extend((start + s, start + e) for s, e in _token_urls(text[start:end]))
        found = text.find("://", end)
    return spans


@lru_cache(maxsize=_CACHE)
def _token_urls(token: str) -> tuple[tuple[int, int], ...]:
    if len(token) <= 2000 and _SIMPLE_URL.match(token):
        return ((0, len(token)),)
    found = _twitter_text()[1](token, extract_urls_without_protocol=False)
    return tuple((url["indices"][0], url["indices"][1]) for url in found)


def mastodon_length_full(text: str) -> int:
    """Mastodon's length from one URL extraction over the whole text (reference for tests)."""
    extract_urls_with_indices = _twitter_text()[1]
    text = _rx("remote_mention").sub(r"\1", text)
    total, pos = 0, 0
    for url in extract_urls_with_indices(text, extract_urls_without_protocol=False):
        start, end = url["indices"]
        total += graphemes(text[pos:start]) + URL_WEIGHT
        pos = end
    return total + graphemes(text[pos:])


def threads_length(text: str) -> int:
    """Threads: a grapheme containing an emoji counts its UTF-8 bytes, any other grapheme 1."""
    text = unicodedata.normalize("NFC", text)
    if text.isascii() or _plain(text) or not _rx("emoji").search(text):
        return graphemes(text)
    total = 0
    for cluster in _rx("grapheme").findall(text):
        total += len(cluster.encode("utf-8")) if _rx("emoji").search(cluster) else 1
    return total


def instagram_hashtags(text: str) -> int:
    """How many hashtags Instagram sees in a caption."""
    return len(_rx("hashtag").findall(text)) if "#" in text else 0


def instagram_length(text: str) -> int:
    """Instagram's caption length: UTF-16 code units, plus a whole caption per hashtag beyond
    the 30 Instagram allows (the limit counts both)."""
    # Every hashtag has its own "#": with no more "#" than allowed, none is in excess.
    tags = instagram_hashtags(text) if text.count("#") > INSTAGRAM_HASHTAGS else 0
    excess = max(0, tags - INSTAGRAM_HASHTAGS)
    return utf16_units(text) + excess * INSTAGRAM_CAPTION


def telegram_length(html_text: str) -> int:
    """Visible length of Telegram HTML in UTF-16 code units; TemplateError for HTML it refuses."""
    if "<" not in html_text and "&" not in html_text:
        return utf16_units(html_text)  # no tags, no entities: the text is what is shown
    from distributor.telegram_html import TelegramHTMLError, visible_length

    try:
        return visible_length(html_text)
    except TelegramHTMLError as exc:
        raise TemplateError(f"Telegram would refuse the HTML: {exc.reason}") from None
