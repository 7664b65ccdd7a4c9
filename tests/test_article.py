"""Article.from_dict validation (one line naming the field) and canonical identity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from distributor.article import Article, Image, canonical_url
from distributor.errors import ArticleError

BASE: dict[str, Any] = {"url": "https://example.org/a", "title": "Titel"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": None}, "missing title"),
        ({"title": "   "}, "missing title"),
        ({"url": ""}, "missing url"),
        ({"title": ["a"]}, "field 'title' must be a string, got a list"),
        ({"teaser": {"x": 1}}, "field 'teaser' must be a string, got an object"),
        ({"body": True}, "field 'body' must be a string, got a boolean"),
        (
            {"url": "/relative/path"},
            "field 'url' must be an absolute http(s) URL, got '/relative/path'",
        ),
        ({"url": "ftp://example.org/a"}, "field 'url' must be an absolute http(s) URL"),
        ({"url": "https://example.org/a b"}, "field 'url' contains whitespace"),
        ({"url": "https://e.org:abc/x"}, "field 'url' is not a valid URL (Port could not be cast"),
        ({"url": "https://[::1/x"}, "field 'url' is not a valid URL (Invalid IPv6 URL)"),
        ({"tags": 3}, "field 'tags' must be a list of strings, got a number"),
        ({"tags": ["ok", 5]}, "field 'tags' must be a list of strings, found a number"),
        ({"language": "deutsch"}, "field 'language' must be a language code like 'de' or 'en-GB'"),
        ({"published_at": "gestern"}, "field 'published_at' is not an ISO-8601 date: 'gestern'"),
        ({"updated_at": 17}, "field 'updated_at' must be an ISO-8601 date, got a number"),
        ({"image": 5}, "field 'image' must be an object or a URL, got a number"),
        ({"image": {"alt": "x"}}, "missing image.url"),
        ({"image": {"url": "https://e.org/i.jpg", "size": 1}}, "unknown field 'image.size'"),
        ({"image": "/img/a.jpg"}, "field 'image.url' must be an absolute http(s) URL"),
        ({"image": {"url": "https://e.org/i.jpg", "alt": 1.5}}, None),
        ({"headline": "x"}, "unknown field 'headline' (known: "),
    ],
)
def test_from_dict_errors_are_one_line_naming_the_field(
    changes: dict[str, Any], message: str | None
) -> None:
    data = {**BASE, **changes}
    if message is None:  # numbers are accepted as text (YAML turns "1.5" into a float)
        article = Article.from_dict(data, "a.json")
        assert article.image is not None and article.image.alt == "1.5"
        return
    with pytest.raises(ArticleError) as info:
        Article.from_dict(data, "a.json")
    text = str(info.value)
    assert text.startswith("a.json: " + message), text
    assert "\n" not in text


def test_from_dict_rejects_non_objects() -> None:
    with pytest.raises(
        ArticleError, match=r"^x: expected an object with 'url' and 'title', got a list$"
    ):
        Article.from_dict([BASE], "x")


def test_from_dict_normalises() -> None:
    article = Article.from_dict(
        {
            **BASE,
            "title": "  Viel   Raum \n",
            "teaser": "  ",
            "tags": "Politik, SPD,Politik",
            "language": "de_AT",
            "published_at": "2024-01-02T03:04:05",
            "image": "https://example.org/i.jpg",
            "id": 42,
        }
    )
    assert article.title == "Viel Raum"
    assert article.teaser is None
    assert article.tags == ("Politik", "SPD")
    assert article.language == "de"
    assert article.published_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert article.image == Image(url="https://example.org/i.jpg")
    assert article.guid == "42"


def test_to_dict_round_trip() -> None:
    article = Article.from_dict(
        {
            **BASE,
            "tags": ["A"],
            "published_at": "2024-01-02T03:04:05+01:00",
            "image": {"url": "https://example.org/i.jpg", "alt": "Alt", "credit": "dpa"},
            "guid": "cms-1",
        }
    )
    assert Article.from_dict(article.to_dict()) == article


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.org/politik/story",
        "HTTPS://Example.ORG/politik/story/",
        "https://example.org:443/politik/story#comments",
        "https://example.org/politik/story?utm_source=twitter&utm_medium=social",
        "https://example.org/politik/story?fbclid=abc&wt_mc=rss.x",
        "https://example.org./politik/story",
    ],
)
def test_same_story_same_identity(variant: str) -> None:
    reference = Article(url="https://example.org/politik/story", title="T")
    assert Article(url=variant, title="T").article_id == reference.article_id
    assert canonical_url(variant) == "https://example.org/politik/story"


def test_identity_keeps_real_query_and_path_case() -> None:
    a = canonical_url("https://example.org/Story?b=2&a=1&utm_campaign=x")
    assert a == "https://example.org/Story?a=1&b=2"
    assert canonical_url("https://example.org/story") != canonical_url("https://example.org/Story")
    assert canonical_url("http://example.org:8080/") == "http://example.org:8080/"


def test_identity_keys_add_guid() -> None:
    article = Article(url="https://example.org/a?utm_source=x", title="T", guid=" cms-9 ")
    assert article.identity_keys() == ("url:https://example.org/a", "guid:cms-9")
