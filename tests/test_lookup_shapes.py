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


# -- X --------------------------------------------------------------------------------------
def x_tweet(text: str, urls: list[dict[str, Any]]) -> dict[str, Any]:
    """A v2 tweet: the recorded create answer's `data` with `entities.urls` entries shaped as
    the recorded v1.1 entity (url, expanded_url, display_url) at v2's start/end offsets."""
    created = reference_json(
        "tweepy", "decoded", "test_client_create_and_delete_tweet.decoded.json"
    )
    data = next(
        i["response"]["body"]["data"]
        for i in created["interactions"]
        if i["request"]["method"] == "POST"
    )
    media = reference_json("tweepy", "decoded", "testupdatestatuswithmedia.decoded.json")
    entity = media["interactions"][-1]["response"]["body"]["entities"]["media"][0]
    assert {"url", "expanded_url", "display_url"} <= set(entity)
    return {**data, "text": text, "entities": {"urls": urls}}


def test_x_tweet_with_tco_and_escaped_ampersand_is_matched_by_expanded_url() -> None:
    from distributor.platforms.x import same_post

    tco = "https://t.co/kIbedWfwG2"
    shown = f"Landtag &amp; Haushalt {tco}"
    url = {"start": 23, "end": 46, "url": tco, "display_url": "news.example.com/2026/03/w…"}
    ours = draft("x", text=f"Landtag & Haushalt {LINK}")
    assert same_post(ours.text, x_tweet(shown, [{**url, "expanded_url": LINK}]))
    upper = LINK.replace("news.example.com", "News.Example.com")
    assert same_post(ours.text, x_tweet(shown, [{**url, "expanded_url": upper}]))
    assert not same_post(ours.text, x_tweet(shown, [{**url, "expanded_url": OTHER}]))


# -- Facebook -------------------------------------------------------------------------------
def facebook_post(message: str, attachments: list[dict[str, Any]]) -> dict[str, Any]:
    post = reference_json(
        "facebook", "python-facebook-testdata", "facebook_apidata_posts_single_post_data.json"
    )
    assert {"id", "message", "created_time", "permalink_url"} <= set(post)
    return {**post, "message": message, "attachments": {"data": attachments}}


def test_facebook_post_is_matched_by_its_attachment_behind_the_link_shim() -> None:
    from urllib.parse import quote

    from distributor.platforms.facebook import is_ours

    shim = f"https://l.facebook.com/l.php?u={quote(LINK, safe='')}&h=AT3x9"
    ours = draft("facebook", text="Landtag beschließt Haushalt")
    shared = {"type": "share", "url": shim, "target": {"url": shim}, "title": "Wahl"}
    assert is_ours(ours, facebook_post("Andere Worte", [shared]), {"x"})
    assert is_ours(ours, facebook_post("Andere Worte", [{"unshimmed_url": LINK}]), {"x"})
    assert is_ours(ours, facebook_post(f"Lesen: {LINK}", []), {"x"})
    other = {**shared, "url": shim.replace("id%3D42", "id%3D43"), "target": {}}
    assert not is_ours(ours, facebook_post("Andere Worte", [other]), {"x"})


# -- LinkedIn, Threads (shapes from the API references in ../shared/docs) -------------------
def test_linkedin_post_is_matched_by_its_article_source() -> None:
    from distributor.platforms.linkedin import escape_commentary, is_ours

    source = LINK.replace("https://news.example.com", "https://NEWS.example.com:443")
    post = {
        "id": "urn:li:share:1",
        "commentary": "anders",
        "content": {"article": {"source": source}},
    }
    ours = draft("linkedin", text="Landtag (Haushalt)")
    commentary = escape_commentary(ours.text)
    assert is_ours(ours, post, commentary)
    assert is_ours(ours, {"id": "urn:li:share:2", "commentary": commentary}, commentary)
    assert not is_ours(ours, {**post, "content": {"article": {"source": OTHER}}}, commentary)


def test_threads_post_is_matched_by_link_attachment_or_the_link_in_its_text() -> None:
    from distributor.platforms.threads import is_ours

    ours = draft("threads")
    base = {"id": "1", "permalink": "https://www.threads.net/@news/post/C1", "timestamp": "x"}
    assert is_ours(ours, {**base, "text": "anders", "link_attachment_url": LINK})
    assert is_ours(ours, {**base, "text": f"Neu:\n{LINK}", "link_attachment_url": None})
    assert is_ours(ours, {**base, "text": TEXT.replace(" ", "  ")})
    assert not is_ours(ours, {**base, "text": "anders", "link_attachment_url": OTHER})


# -- Bluesky --------------------------------------------------------------------------------
def test_bluesky_record_is_matched_by_its_link_facet_or_card_not_its_display_text() -> None:
    from distributor.platforms.bluesky import LINK_FEATURE, is_ours

    lexicon = reference_json("bluesky", "lexicons", "app.bsky.richtext.facet.json")
    assert (
        f"{lexicon['id']}#link" == LINK_FEATURE and "uri" in lexicon["defs"]["link"]["properties"]
    )
    item = reference_json("bluesky", "marshalx", "post_record.json")
    shown = "Landtag beschließt Haushalt news.example.com/2026/03/wahl…"
    facet = {
        "index": {"byteStart": 29, "byteEnd": 61},
        "features": [{"$type": LINK_FEATURE, "uri": LINK}],
    }
    record = {**item["value"], "text": shown, "facets": [facet]}
    ours = draft("bluesky")
    assert is_ours(ours, record)
    card = {
        "$type": "app.bsky.embed.external",
        "external": {"uri": LINK, "title": "", "description": ""},
    }
    assert is_ours(ours, {**item["value"], "text": "anders", "embed": card})
    assert not is_ours(draft("bluesky", text=shown, link=OTHER), {**record, "text": "x"})
    assert not is_ours(ours, item["value"])
