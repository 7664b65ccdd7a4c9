"""Property: X's token-summed weighted length equals twitter-text's full parse of the whole text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from distributor import limits

_WORDS = [
    "Grüße", "Grüße", "München", "„Zitat“", "Straße", "ÄÖÜäöüß", "日本語", "中国",
    "한국어", "👍🏽", "👨‍👩‍👧‍👧", "🇩🇪", "🇺🇦", "🏳️‍⚧️", "✨", "❤️", "#️⃣", "1️⃣", "©", "—", "…",
    "example.com", "www.tagesschau.de/inland", "https://www.news-example.de/politik/a-1.html",
    "http://t.co/abc", "https://例え.jp/x", "news-example.de?utm_source=x", "foo.bar.", "a.b",
    "@user", "#Ukraine", "$TSLA", "e\u0301", "\u202a", "\ufffe", "x@example.com", "(example.com)",
    "„https://example.org/a“", "mailto:a@b.de", "ftp://example.com", "http://", ".", ":", "/",
]  # fmt: skip
_SEPS = [" ", "  ", "\n", "\t", "\r\n", "\r", "\n\n", "\u00a0", "\u3000", "\u2009", ""]
_ALPHABET = st.characters(
    codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs"), exclude_characters="\x00"
)


@st.composite
def _texts(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.one_of(st.sampled_from(_WORDS), st.text(_ALPHABET, max_size=8))))
    seps = draw(st.lists(st.sampled_from(_SEPS), min_size=len(parts), max_size=len(parts)))
    return "".join(p + s for p, s in zip(parts, seps, strict=True))


@settings(max_examples=400, deadline=None)
@given(_texts())
def test_token_sum_equals_full_parse(text: str) -> None:
    assert limits.length("x", text) == limits.x_length_full(text)


@settings(max_examples=200, deadline=None)
@given(st.text(st.one_of(_ALPHABET, st.sampled_from(" \n\t\r.:/@#")), max_size=60))
def test_random_characters(text: str) -> None:
    assert limits.length("x", text) == limits.x_length_full(text)


def test_nfd_umlauts_count_like_nfc() -> None:
    nfc, nfd = "Grüße aus Köln", "Gru\u0308ße aus Ko\u0308ln"
    assert limits.length("x", nfd) == limits.length("x", nfc) == 14
    assert limits.x_length_full(nfd) == 14


@settings(max_examples=300, deadline=None)
@given(_texts())
def test_mastodon_token_urls_equal_full_extraction(text: str) -> None:
    assert limits.length("mastodon", text) == limits.mastodon_length_full(text)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_texts(), st.text(max_size=40)))
def test_grapheme_fast_path_equals_full_scan(text: str) -> None:
    import regex

    assert limits.graphemes(text) == len(regex.findall(r"\X", text))
