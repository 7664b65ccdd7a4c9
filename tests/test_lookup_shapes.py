"""Every adapter's lookup against the platform's real representation of a post.

Each case starts from a recorded real answer (../shared/reference) and puts our link into it the
way the platform writes it: Mastodon's status HTML (`&amp;`, the URL split into spans), X's t.co
text with `entities.urls[].expanded_url`, Bluesky's link facet and `embed.external.uri`. The
match must be on the normalised URL, never on a substring of the text.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from locations import reference

from distributor.platforms.base import Draft
from distributor.platforms.links import html_links, html_text, normal_url, same_url

LINK = "https://news.example.com/2026/03/wahl?ressort=politik&id=42&utm_source=mastodon"
OTHER = "https://news.example.com/2026/03/wahl?ressort=politik&id=43&utm_source=mastodon"
TEXT = f"Landtag beschließt Haushalt {LINK}"
# Mastodon's formatter: href HTML-escaped, "https://" hidden, 30 characters shown, rest hidden.
MASTODON_HTML = (
    '<p>Landtag beschließt Haushalt <a href="https://news.example.com/2026/03/wahl?ressort='
    'politik&amp;id=42&amp;utm_source=mastodon" target="_blank" rel="nofollow noopener" '
    'translate="no"><span class="invisible">https://</span><span class="ellipsis">'
    'news.example.com/2026/03/wahl?</span><span class="invisible">ressort=politik&amp;id=42'
    "&amp;utm_source=mastodon</span></a></p>"
)


def reference_json(*parts: str) -> Any:
    return json.loads(reference(*parts).read_text(encoding="utf-8"))


def draft(platform: str, text: str = TEXT, link: str = LINK) -> Draft:
    return Draft(channel="c", platform=platform, article_id="a1", text=text, link=link)


def mastodon_status() -> dict[str, Any]:
    """The status a real Mastodon 4.x returned for `POST /api/v1/statuses` (recorded)."""
    cassette = reference_json(
        "mastodon", "mastodonpy-cassettes", "decoded", "test_status_post(None-public).decoded.json"
    )
    body = cassette["interactions"][0]["response"]["body"]
    assert body["content"].startswith("<p>") and "card" in body  # the shape we rely on
    return copy.deepcopy(body)


# -- normalisation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://News.Example.COM:443/a?x=1&y=2", "https://news.example.com/a?x=1&y=2"),
        ("https://news.example.com", "https://news.example.com/"),
        ("https://news.example.com/%C3%BCber", "https://news.example.com/über"),
        ("https://news.example.com/a?q=a%20b", "https://news.example.com/a?q=a+b"),
        ("news.example.com/a", "http://news.example.com/a"),
    ],
)
def test_same_address_in_other_spellings_is_the_same_url(a: str, b: str) -> None:
    assert same_url(a, b)


@pytest.mark.parametrize(
    "b",
    [
        OTHER,
        LINK.replace("utm_source=mastodon", "utm_source=x"),  # another channel's link
        LINK.replace("https://", "https://www."),
        "",
    ],
)
def test_different_links_never_match(b: str) -> None:
    assert not same_url(LINK, b)
    assert normal_url(LINK) == normal_url(LINK)


# -- Mastodon -------------------------------------------------------------------------------
def test_mastodon_status_html_is_matched_by_its_href() -> None:
    from distributor.platforms.mastodon import is_ours

    status = mastodon_status()
    status["content"] = MASTODON_HTML
    assert LINK not in status["content"]  # the old substring test missed exactly this
    assert html_links(MASTODON_HTML) == [LINK]
    assert html_text(MASTODON_HTML) == TEXT
    assert is_ours(draft("mastodon"), status)
    assert not is_ours(draft("mastodon", text="anders", link=OTHER), status)


def test_mastodon_card_url_matches_when_the_text_has_no_link() -> None:
    from distributor.platforms.mastodon import is_ours

    status = mastodon_status()
    status["content"] = "<p>Landtag beschließt Haushalt</p>"
    status["card"] = {"url": LINK.replace("&", "&"), "title": "Wahl", "type": "link"}
    assert is_ours(draft("mastodon", text="nicht unser Text"), status)
    status["card"] = None
    assert not is_ours(draft("mastodon", text="nicht unser Text"), status)
    assert is_ours(draft("mastodon", text="Landtag beschließt\nHaushalt", link=""), status)


def test_mastodon_sandbox_writes_links_as_mastodon_does() -> None:
    from distributor.sandbox.mastodon import linkify

    assert f"<p>{linkify(TEXT)}</p>" == MASTODON_HTML
