"""Rendering with the packaged templates: every platform, language variants, fit-to-limit."""

from __future__ import annotations

import html
import json
from dataclasses import replace

import pytest
from locations import REPO
from platform_helpers import PLATFORMS, link_shown, title_in_text

from distributor import limits
from distributor.article import Article
from distributor.config import Channel
from distributor.errors import TemplateError
from distributor.platform import BUILTIN
from distributor.render import normalise, render
from distributor.render.fit import ELLIPSIS
from distributor.telegram_html import visible_length

# Room for three hashtags and the credit line after the text: the caption (or text) limit.
ROOMY = [p for p, row in BUILTIN.items() if (row.limits.caption or row.limits.text) >= 1000]
UTM = {"utm_source": "social", "utm_medium": "post"}


@pytest.fixture(scope="module")
def german() -> Article:
    path = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
    data = json.loads(path.read_text("utf-8"))
    return Article.from_dict(data)


def channel(platform: str, **kw: object) -> Channel:
    return Channel(name=f"{platform}-test", platform=platform, **kw)  # type: ignore[arg-type]


def visible(text: str, fmt: str) -> str:
    return html.unescape(text) if fmt == "html" else text


def assert_fits(draft: object) -> None:
    from distributor.platforms.base import Draft

    assert isinstance(draft, Draft)
    if draft.format == "html":
        assert draft.length == visible_length(draft.text)
    else:
        assert draft.length == limits.length(draft.platform, draft.text)
    assert draft.length <= draft.limit
    assert link_shown(draft.platform, draft.text, draft.link, draft.link_text), "link not intact"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_fixture_article_fits_every_platform(german: Article, platform: str) -> None:
    draft = render(german, channel(platform, utm=UTM))
    assert_fits(draft)
    assert draft.link.startswith(german.url + "?")
    assert draft.title in visible(draft.text, draft.format) or not title_in_text(platform)
    assert draft.platform == platform and draft.channel == f"{platform}-test"
    assert draft.article_id == german.article_id
    assert draft.format == ("html" if BUILTIN[platform].text_format == "html" else "text")
    assert draft.limit == limits.limit_for(platform, caption=True)
    assert draft.description.startswith("Nach fast zehn Jahren Planung")  # derived from the body
    assert "&amp;" not in draft.text or draft.format == "html"
    assert "  \n" not in draft.text and "\n\n\n" not in draft.text


def test_roomy_platforms_are_the_known_ones() -> None:
    assert {"facebook", "linkedin", "telegram", "instagram"} <= set(ROOMY)


@pytest.mark.parametrize("platform", ROOMY)
def test_roomy_platforms_carry_german_hashtags_and_credit(german: Article, platform: str) -> None:
    text = visible(render(german, channel(platform)).text, "html")
    assert text.endswith("#Radverkehr #Stadtrat #Neckar")  # three: the default cap
    assert "Foto: Stadtverwaltung/Planungsbüro Brückner" in text


@pytest.mark.parametrize("platform", [p for p, row in BUILTIN.items() if row.credit_in_text])
def test_credit_is_in_the_text_where_the_platform_has_no_field_for_it(
    german: Article, platform: str
) -> None:
    assert "Foto: Stadtverwaltung/Planungsbüro Brückner" in render(german, channel(platform)).text


def test_channel_can_turn_hashtags_off(german: Article) -> None:
    assert "#" not in render(german, channel("facebook", hashtags=False)).text


def test_english_article_gets_english_template(german: Article) -> None:
    english = replace(german, language="en")
    assert "Read more:" in render(english, channel("facebook")).text
    assert "Mehr dazu:" in render(german, channel("facebook")).text
    assert "Photo: Stadtverwaltung/Planungsbüro" in render(english, channel("linkedin")).text
    assert ">Read more</a>" in render(english, channel("telegram")).text
    # A language without its own variant gets the template without words: never a German
    # call to action under a French article.
    french = render(replace(german, language="fr"), channel("facebook")).text
    assert "Mehr" not in french and "Foto" not in french and "→ https://" in french
    assert "© Stadtverwaltung" in french


def long_article(german: Article) -> Article:
    teaser = (
        "Erster Satz mit einigen Wörtern über die Lage im Osten. "
        "Zweiter Satz, der noch mehr Hintergrund liefert und etwas länger ist als der erste. "
        "Dritter Satz zum Schluss mit einer Einordnung durch Fachleute aus Berlin."
    )
    return replace(german, teaser=teaser)


def test_hashtags_are_dropped_before_the_teaser(german: Article) -> None:
    article = long_article(german)
    full = render(article, channel("mastodon", limit=5000))
    draft = render(article, channel("mastodon", limit=full.length - 1))
    assert_fits(draft)
    assert article.teaser and article.teaser in draft.text
    assert "#Radverkehr" in draft.text and "#Neckar" not in draft.text


def test_teaser_loses_whole_sentences_then_words(german: Article) -> None:
    article = long_article(german)
    assert article.teaser
    no_tags = render(article, channel("mastodon", limit=5000, hashtags=False))
    two = render(article, channel("mastodon", limit=no_tags.length - 1))
    assert_fits(two)
    assert "Zweiter Satz" in two.text and "Dritter Satz" not in two.text
    # The dropped sentence left room, which goes back to the first hashtags.
    assert "#Radverkehr" in two.text
    assert ELLIPSIS not in two.text
    # Tighter: only part of the first sentence is left, cut after a whole word.
    bare = replace(article, teaser=None, body=None)
    title_and_link = render(bare, channel("mastodon", hashtags=False))
    tight = render(article, channel("mastodon", limit=title_and_link.length + 52))
    assert_fits(tight)
    cut = next(line for line in tight.text.split("\n") if line.endswith(ELLIPSIS))
    kept = cut.removesuffix(" " + ELLIPSIS)  # German: "über die Lage …"
    assert article.teaser.startswith(kept) and article.teaser[len(kept)] == " "
    assert len(kept.split()) >= 8  # never a shorter fragment


def test_teaser_longer_than_limit_on_x(german: Article) -> None:
    article = replace(german, teaser="Wort " * 200)
    draft = render(article, channel("x", utm=UTM))
    assert_fits(draft)
    assert ELLIPSIS in draft.text


def test_no_teaser_and_no_body(german: Article) -> None:
    article = replace(german, teaser=None, body=None)
    draft = render(article, channel("x"))
    assert_fits(draft)
    assert draft.description == ""
    assert draft.text.startswith(german.title + "\n\n" + german.url)


def long_url(words: int) -> str:
    # A real TLD: twitter-text only treats known TLDs as links (news.example counts in full).
    return "https://www.news-example.de/politik/" + "-".join(["ukraine"] * words) + "?id=42&page=1"


@pytest.mark.parametrize("platform", ["x", "mastodon"])
def test_very_long_url_counts_as_a_link(german: Article, platform: str) -> None:
    url = long_url(40)  # ~360 characters, but a link counts 23 on X and Mastodon
    draft = render(replace(german, url=url), channel(platform, utm=UTM))
    assert_fits(draft)
    assert draft.link == url + "&utm_source=social&utm_medium=post"


def test_long_url_on_bluesky_costs_only_its_display_form(german: Article) -> None:
    draft = render(replace(german, url=long_url(40)), channel("bluesky", utm=UTM))
    assert_fits(draft)
    assert draft.link_text == "news-example.de/politik/ukrai…"
    assert "Nach fast zehn Jahren Planung" in draft.text  # room is left for the teaser


def test_fixed_parts_over_the_limit_are_an_error(german: Article) -> None:
    article = replace(german, title=" ".join(["Überlange Schlagzeile"] * 20))
    with pytest.raises(TemplateError) as info:
        render(article, channel("bluesky"))
    message = str(info.value)
    assert "'bluesky-test'" in message and "bluesky.de.txt.j2" in message
    assert "limit of 300" in message


def test_render_is_deterministic(german: Article) -> None:
    ch = channel("threads", utm=UTM)
    assert render(german, ch) == render(german, ch)


def test_normalise_collapses_blank_lines_and_trailing_spaces() -> None:
    assert normalise("\n\nA  \n\n\n\n B\t\n\n") == "A\n\n B"


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("Stadtrat beschließt Radbrücke", "Stadtrat beschließt Radbrücke"),  # fits: unchanged
        ("Stadtrat beschließt neue Radbrücke über den Neckar", "Stadtrat beschließt neue …"),
        ("Donaudampfschifffahrtsgesellschaftskapitän", "Donaudampfschifffahrtsgesellschaft…"),
    ],
)
def test_a_title_field_is_fitted_at_render_time(
    german: Article, title: str, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Limits.title` (Pinterest: 100) shortens `Draft.title` at a word, so the draft holds
    the title exactly as it will be sent; platforms without one keep the article's title."""
    from distributor import platform

    row = platform.BUILTIN["linkedin"]
    limited = replace(row, limits=replace(row.limits, title=35))
    monkeypatch.setitem(platform.BUILTIN, "linkedin", limited)
    draft = render(replace(german, title=title), channel("linkedin"))
    assert draft.title == shown and len(draft.title) <= 35
    assert render(replace(german, title=title), channel("x")).title == title
