"""Issue 13 findings 5, 9 and 14: control characters, NUL, bidi overrides, credentials in
links and hostile JSON, refused or cleaned at the source whatever the door."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from locations import REPO

from distributor.article import Article, Image
from distributor.cli import main
from distributor.errors import ArticleError
from distributor.sources import parse_html
from distributor.sources.feeds import parse_feed
from distributor.sources.files import parse_json

CONFIG = REPO / "examples" / "distributor.toml"
HOSTILE_TITLE = "Rat\x1b[31m beschließt\u202egpj.exe\u200b Haus\x7f\x85 \u2066x\u2069"


def _article(**changes: object) -> Article:
    data: dict[str, object] = {"url": "https://news.example/a", "title": "T", **changes}
    return Article.from_dict(data)


def test_controls_bidi_and_invisible_characters_are_removed_from_every_text_field() -> None:
    a = _article(
        title=HOSTILE_TITLE,
        teaser="Erst\u202d dann\x07",
        body="Absatz\x0c eins\n\nzwei\tdrei",
        author="A\u200bB",
        tags=["Po\x1blitik"],
        image={"url": "https://news.example/i.jpg", "alt": "Bild\u202e", "credit": "dpa\x1b"},
    )
    assert a.title == "Rat[31m beschließtgpj.exe Haus x"
    assert (a.teaser, a.body, a.author, a.tags) == (
        "Erst dann",
        "Absatz eins\n\nzwei\tdrei",
        "AB",
        ("Politik",),
    )
    assert a.image == Image("https://news.example/i.jpg", "Bild", "dpa")
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # joined by ZWJ
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a ZWNJ
    kept = f"Familie {family} {persian} \u200f"
    assert _article(title=kept).title == kept  # ZWJ, ZWNJ and RLM are kept


def test_the_constructor_applies_the_same_rule() -> None:
    a = Article("https://news.example/a", "A\u202eB\x00"[:-1], teaser="x\x1b")
    assert (a.title, a.teaser) == ("AB", "x")
    with pytest.raises(ArticleError, match="'title' contains a NUL"):
        Article("https://news.example/a", "A\x00B")


@pytest.mark.parametrize("key", ["title", "teaser", "body", "author", "guid"])
def test_nul_is_refused_naming_the_field(key: str) -> None:
    with pytest.raises(ArticleError) as exc:
        Article.from_dict({"url": "https://news.example/a", "title": "T", key: "a\x00b"}, "f.json")
    assert str(exc.value) == f"f.json: field {key!r} contains a NUL character (\\u0000)"


def test_credentials_are_dropped_from_links_and_control_characters_refused() -> None:
    a = _article(
        url="https://user:secret@news.example/a?x=1", image="https://u:p@img.example/i.jpg"
    )
    assert a.url == "https://news.example/a?x=1"
    assert a.image is not None and a.image.url == "https://img.example/i.jpg"
    assert "secret" not in json.dumps(a.to_dict())
    with pytest.raises(ArticleError, match="'url' contains a control character"):
        _article(url="https://news.example/a\x1b[2J")
    with pytest.raises(ArticleError, match="'url' contains a control character"):
        _article(url="https://news.example/\u202egpj.exe")


FEED = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>https://news.example/</link>
<item><title>Neu</title><link>https://news.example/new</link></item>
<item><title>Kaputt &#0; Meldung</title><link>https://news.example/bad</link></item>
<item><title>Alt \x1b[31m\xe2\x80\xae</title><link>https://a:b@news.example/old</link></item>
</channel></rss>"""


def test_a_feed_item_with_nul_is_skipped_and_the_others_are_clean() -> None:
    articles = parse_feed(FEED, "feed.xml")
    assert [(a.title, a.url) for a in articles] == [
        ("Neu", "https://news.example/new"),
        ("Alt [31m", "https://news.example/old"),
    ]


def _deep(n: int) -> str:
    return '{"url": "https://news.example/a", "title": "T", "tags": ' + "[" * n + "]" * n + "}"


HOSTILE_JSON = [
    (_deep(1000), "nested more than 64 levels deep"),
    (_deep(70), "nested more than 64 levels deep"),
    ('{"url": "https://news.example/a", "title": "T", "x": ' + "9" * 5000 + "}", "digits"),
    ('{"url": "https://news.example/a", "title": "T\\ud800"}', "lone surrogate"),
    ('{"url": "https://news.example/a", "title": "T\\udc00 x"}', "lone surrogate"),
]


@pytest.mark.parametrize(("text", "expected"), HOSTILE_JSON)
def test_hostile_json_is_one_line(text: str, expected: str) -> None:
    with pytest.raises(ArticleError) as exc:
        parse_json(text, "a.json")
    assert str(exc.value).startswith("a.json: not valid JSON: ") and expected in str(exc.value)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(("text", "expected"), HOSTILE_JSON[::2])
def test_hostile_json_on_the_command_line_is_exit_2(
    capsys: pytest.CaptureFixture[str], in_tmp: Path, text: str, expected: str
) -> None:
    Path("a.json").write_text(text, encoding="utf-8")
    try:
        code = int(main(["preview", "a.json", "--config", str(CONFIG)]) or 0)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("error: a.json: not valid JSON") and expected in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "ld",
    [
        "[" * 5000 + "]" * 5000,
        '{"@type": "NewsArticle", "wordCount": ' + "1" * 5000 + "}",
        '{"@type": "NewsArticle", "headline": "\\ud800", "author": {"name": "\\udfff"}}',
    ],
)
def test_hostile_json_ld_is_ignored_and_the_page_still_reads(ld: str) -> None:
    page = (
        '<html><head><meta property="og:title" content="Seite">'
        '<meta property="og:url" content="https://news.example/p">'
        f'<script type="application/ld+json">{ld}</script></head><body></body></html>'
    )
    article = parse_html(page.encode(), "page.html")
    assert (article.title, article.url, article.author) == ("Seite", "https://news.example/p", None)
