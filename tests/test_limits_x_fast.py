"""X's fast path (no twitter_text import) equals twitter-text: proofs on the library's own data,
its conformance data, and properties against the library."""

from __future__ import annotations

import re
import unicodedata

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from locations import reference

from distributor import limits

_PLAIN_CHARS = [chr(c) for c in range(0x2100) if limits._X_PLAIN.match(chr(c))]


def test_plain_characters_are_all_below_u2100_but_emoji_parts_and_cr() -> None:
    """The pattern spells out the ranges it allows; this is the rule they must add up to."""
    barred = {0xA9, 0xAE, 0x200D, 0x203C, 0x2049, 0x20E3, 0x0D}
    for c in range(0x110000):
        expected = c < 0x2100 and c not in barred
        assert bool(limits._X_PLAIN.match(chr(c))) is expected, hex(c)
    assert limits._X_PLAIN.match("Straße „Zitat“ – 100 €")
    assert not limits._X_PLAIN.match("Straße ©")


def test_no_emoji_sequence_is_made_of_plain_characters() -> None:
    from twitter_text.regexp.emoji import emoji, emoji_list

    for entry in emoji_list:
        assert not limits._X_PLAIN.match(entry.emoji), entry
    assert not [c for c in _PLAIN_CHARS if emoji.search(c)]


def test_plain_characters_weigh_as_x_config_v3_says() -> None:
    from twitter_text.config import config
    from twitter_text.get_character_weight import get_character_weight

    for c in _PLAIN_CHARS:
        expected = get_character_weight(c, config["defaults"]) // 100
        assert limits.x_plain_weight(c) == expected, hex(ord(c))


def test_every_top_level_domain_starts_with_a_letter() -> None:
    # A token without "." followed by a letter or digit can then hold no URL.
    from twitter_text.regexp.valid_cctld import valid_cctld
    from twitter_text.regexp.valid_gtld import valid_gtld

    for pattern in (valid_gtld.pattern, valid_cctld.pattern):
        body = pattern[pattern.index("(?:(?:") + 6 : pattern.rindex(")(?=")]
        tlds = re.sub(r"['+\s]", "", body).split("|")
        assert len(tlds) > 200
        assert all(limits._X_DOT_LETTER.match("." + tld) for tld in tlds), pattern[:40]
    assert limits._X_DOT_LETTER.match(".xn--p1ai")


def test_simple_url_top_level_domains_are_twitter_texts() -> None:
    for tld in re.findall(r"[a-z]+", limits._SIMPLE_URL.pattern.split("(?:com|")[1].split(")")[0]):
        assert limits.x_length_full(f"https://news-example.{tld}/a") == 23, tld
    assert limits.x_length_full("https://news-example.com/a") == 23


_EXTRACT = yaml.safe_load(
    (reference("twitter-text") / "conformance_extract.yml").read_text(encoding="utf-8")
)["tests"]


@pytest.mark.parametrize("section", ["urls", "urls_with_indices", "tco_urls_with_params"])
def test_simple_urls_in_conformance_texts_are_extracted_whole(section: str) -> None:
    checked = 0
    for case in _EXTRACT[section]:
        expected = [u if isinstance(u, str) else u["url"] for u in case["expected"]]
        for token in re.split(r"[ \t\n\r]+", case["text"]):
            if limits.x_plain_weight(token) == 23:
                assert token in expected, case["description"]
                checked += 1
    assert checked or section == "tco_urls_with_params"


def test_conformance_texts_count_alike_token_by_token() -> None:
    validate = yaml.safe_load(
        (reference("twitter-text") / "conformance_validate.yml").read_text(encoding="utf-8")
    )["tests"]
    texts = [c["text"] for cases in (*validate.values(), *_EXTRACT.values()) for c in cases]
    fast = 0
    for text in texts:
        for token in re.split(r"[ \t\n\r]+", unicodedata.normalize("NFC", text)):
            weight = limits.x_plain_weight(token)
            if token and weight is not None:
                assert weight == limits.x_length_full(" " + token) - 1, repr(token)
                fast += 1
    assert fast > 300


_HOST = st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?\Z")
_TLD = st.sampled_from(["com", "org", "net", "info", "news", "de", "at", "ch", "uk", "eu", "io"])
_PATH = st.from_regex(r"\A(?:/(?:[A-Za-z0-9._~%/äöüßé-]*[A-Za-z0-9_/ÄÖÜßé-])?)?\Z")
_QUERY = st.from_regex(r"\A(?:\?[A-Za-z0-9._~%&=+/-]*[A-Za-z0-9_&=/-])?\Z")


@st.composite
def _simple_urls(draw: st.DrawFn) -> str:
    hosts = ".".join(draw(st.lists(_HOST, min_size=1, max_size=3)))
    scheme = draw(st.sampled_from(["http", "https"]))
    return f"{scheme}://{hosts}.{draw(_TLD)}{draw(_PATH)}{draw(_QUERY)}"


@settings(max_examples=300, deadline=None)
@given(_simple_urls(), st.sampled_from(["", "Lesen: ", "a\n", "„", "(x) "]))
def test_simple_urls_weigh_23_as_twitter_text_says(url: str, before: str) -> None:
    assert limits.x_plain_weight(url) == 23
    assert limits.x_length_full(before + url) - limits.x_length_full(before) == 23
    assert [u["url"] for u in limits.extract_urls(url)] == [url]


_PLAIN_TEXT = st.text(
    st.one_of(st.sampled_from(_PLAIN_CHARS), st.sampled_from(".:/-_#@©™…€„“–’\u200d\ufe0f")),
    max_size=30,
)


@settings(max_examples=500, deadline=None)
@given(_PLAIN_TEXT)
def test_plain_tokens_weigh_as_twitter_text_says(text: str) -> None:
    for token in re.split(r"[ \t\n\r]+", unicodedata.normalize("NFC", text)):
        weight = limits.x_plain_weight(token)
        if token and weight is not None:
            assert weight == limits.x_length_full(token)
            assert weight == limits.x_length_full(" " + token) - 1


def test_news_words_need_no_twitter_text() -> None:
    words = "Grüße „Zitat“ – Debatte. Ende… 4 €, £4m 2,000 https://www.courier-example.co.uk/a?x=1"
    words += " https://www.example.de/lokales/1-bürgermeisterin-förderung"
    assert all(limits.x_plain_weight(w) is not None for w in words.split())
    assert all(limits.x_plain_weight(w) is None for w in ("z.B.", "example.com", "©", "✨", "a\r"))


def test_plain_text_characters_join_nothing_and_are_no_emoji() -> None:
    # The `re` shortcut of graphemes() and threads_length() against the `regex` properties.
    plain = [chr(c) for c in range(0x3000) if limits._plain(chr(c))]
    assert len(plain) > 800 and "„" in plain and "€" in plain and "ä" in plain
    assert not [c for c in plain if limits._rx("joining").match(c) or limits._rx("emoji").match(c)]
    assert not limits._plain("e\u0301") and not limits._plain("©") and not limits._plain("a\u200d")
