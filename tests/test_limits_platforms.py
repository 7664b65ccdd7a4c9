"""Per-platform counting by hand: German text, emoji, CJK, URLs without scheme, boundaries."""

from __future__ import annotations

import pytest
from platform_helpers import PLATFORMS

from distributor import limits
from distributor.errors import ConfigError, TemplateError

FAMILY = "👨‍👩‍👧‍👧"  # ZWJ sequence: 7 code points, 11 UTF-16 units, 25 UTF-8 bytes
FLAG = "🇩🇪"
THUMB = "👍🏽"  # skin tone modifier
GERMAN = "Grüße aus München: „Zitat“"
GERMAN_NFD = "Gru\u0308ße aus Mu\u0308nchen: „Zitat“"

CASES = [
    # platform, text, expected
    ("x", GERMAN, 26),
    ("x", GERMAN_NFD, 26),
    ("x", "日本語のテキスト", 16),
    ("x", FAMILY + FLAG + THUMB, 6),
    ("x", "tagesschau.de", 23),
    ("x", "Mehr: www.news-example.de/politik/artikel-1.html?utm_source=x", 29),
    ("x", "https://www.news-example.de/" + "a" * 100, 23),
    ("mastodon", GERMAN_NFD, 26),
    ("mastodon", "tagesschau.de", 13),  # bare domains are not discounted
    ("mastodon", "Mehr: https://www.news-example.de/politik/artikel-1.html", 29),
    ("mastodon", FAMILY + FLAG + THUMB, 3),
    ("mastodon", "Hallo @alice@social.example.org!", 13),
    ("mastodon", "日本語", 3),
    ("bluesky", GERMAN_NFD, 26),
    ("bluesky", "https://www.news-example.de/x", 29),  # full URL text counts
    ("bluesky", FAMILY + FLAG + THUMB, 3),
    ("telegram", "<b>Grüße</b> &amp; <a href='https://e.de'>mehr</a>", 12),
    ("telegram", FAMILY, 11),  # UTF-16 code units
    ("telegram", "日本語", 3),
    ("threads", "😀", 4),
    ("threads", FAMILY, 25),
    ("threads", FLAG + THUMB, 16),
    ("threads", GERMAN_NFD, 26),
    ("threads", "日本語 example.com", 15),
    ("linkedin", GERMAN, 26),
    ("linkedin", FAMILY, 11),
    ("linkedin", "日本語 example.com", 15),
    ("facebook", "😀 Grüße", 8),
    ("instagram", FAMILY, 11),  # UTF-16 code units
    ("instagram", " ".join(["#tag"] * 30), 149),
    ("instagram", " ".join(["#tag"] * 31), 154 + 2200),  # the 31st hashtag weighs a caption
    ("pinterest", FAMILY + " Grüße", 17),
]


@pytest.mark.parametrize(("platform", "text", "expected"), CASES)
def test_hand_cases(platform: str, text: str, expected: int) -> None:
    assert limits.length(platform, text) == expected


@pytest.mark.parametrize("platform", PLATFORMS)
def test_empty_string(platform: str) -> None:
    assert limits.length(platform, "") == 0
    assert limits.fits(platform, "")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_fits_exactly_at_limit_and_one_over(platform: str) -> None:
    limit = limits.limit_for(platform)
    assert limits.fits(platform, "ä" * limit)
    assert not limits.fits(platform, "ä" * (limit + 1))


def test_x_boundary_with_weighted_characters() -> None:
    assert limits.fits("x", "日" * 140)
    assert not limits.fits("x", "日" * 140 + "a")
    assert limits.fits("x", "a" * 256 + " " + "https://example.com/" + "b" * 300)
    assert not limits.fits("x", "a" * 257 + " " + "example.com")


def test_telegram_caption_limit_and_visible_text() -> None:
    assert limits.limit_for("telegram") == 4096
    assert limits.limit_for("telegram", caption=True) == 1024
    assert limits.limit_for("x", caption=True) == 280  # no caption limit: the text limit
    assert limits.fits("telegram", "&amp;" * 4096)
    assert not limits.fits(
        "telegram", "<b>" + "a" * 1025 + "</b>", limits.limit_for("telegram", caption=True)
    )


def test_bluesky_byte_cap_is_enforced_by_fits() -> None:
    text = FAMILY * 300  # 300 graphemes, 7500 bytes
    assert limits.length("bluesky", text) == 300
    m = limits.measure("bluesky", text)
    assert (m.byte_length, m.byte_limit) == (7500, 3000)
    assert not limits.fits("bluesky", text)
    assert limits.fits("bluesky", FAMILY * 120)  # 3000 bytes exactly
    assert not limits.fits("bluesky", FAMILY * 120 + "a")


def test_threads_limit_counts_emoji_bytes() -> None:
    assert limits.fits("threads", "😀" * 125)
    assert not limits.fits("threads", "😀" * 125 + "a")


def test_channel_override() -> None:
    assert limits.limit_for("mastodon", override=1000) == 1000
    assert limits.fits("mastodon", "a" * 1000, limit=limits.limit_for("mastodon", override=1000))
    assert not limits.fits("mastodon", "a" * 501)


@pytest.mark.parametrize("call", [limits.length, limits.fits])
def test_unknown_platform_is_a_config_error(call: object) -> None:
    with pytest.raises(ConfigError, match=r"unknown platform 'myspace' \(known: .*x"):
        call("myspace", "text")  # type: ignore[operator]
    with pytest.raises(ConfigError, match="unknown platform 'myspace'"):
        limits.limit_for("myspace")


def test_telegram_html_that_telegram_refuses() -> None:
    with pytest.raises(TemplateError, match="Telegram would refuse the HTML"):
        limits.length("telegram", "<marquee>x</marquee>")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_very_long_text(platform: str) -> None:
    words = ("Grüße " + FAMILY + " 日本 https://example.com/a ") * 20_000
    n = limits.length(platform, words)
    assert n > 100_000
    assert not limits.fits(platform, words)
