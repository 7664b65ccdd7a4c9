"""Counting edge cases found against the platforms' own counters (issue 11 §9)."""

from __future__ import annotations

import pytest

from distributor import limits
from distributor.article import Article


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Mastodon's user part is ASCII only: no mention, so the whole text counts.
        ("@jürgen@example.de", 18),
        ("Danke an @jürgen@example.de!", 28),
        # Remote mentions count as the local part.
        ("@alice@social.example.org", 6),
        ("Mit @anna.berg@bsky.social und @tom_k@mastodon.social", 25),
        # An e-mail-like string after a word character is not a mention.
        ("mail@alice@x.de", 15),
    ],
)
def test_mastodon_mentions_count_as_mastodon_counts(text: str, expected: int) -> None:
    assert limits.length("mastodon", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1️⃣", 7),  # "1" + U+FE0F + U+20E3: its UTF-8 bytes, the documented emoji rule
        ("#️⃣", 7),
        ("Platz 1️⃣ für Berlin", 6 + 7 + 11),
        ("1", 1),
        ("😀", 4),
    ],
)
def test_threads_keycaps_are_emoji(text: str, expected: int) -> None:
    assert limits.length("threads", text) == expected


def test_invisible_characters_never_reach_a_post() -> None:
    article = Article.from_dict(
        {
            "url": "https://www.tageblatt-beispiel.de/a",
            "title": "\ufeffBundestag beschließt\u00ad Gesetz\u200b",
            "teaser": "Der Bundestag hat das Gesetz beschlossen.\r\nDie Opposition klagt.",
        }
    )
    assert article.title == "Bundestag beschließt Gesetz"
    assert limits.length("x", article.title) == limits.x_length_full(article.title)
    assert not article.title.startswith("\ufeff")
