"""Furniture, site names, invisible characters and language (issue 11 §3, §4, §5, §9).

Every input here is written for these tests in the shape real feeds and pages have.
"""

from __future__ import annotations

import pytest

from distributor.article import Article
from distributor.config import Channel
from distributor.furniture import clean_teaser, strip_site_name
from distributor.language import detect
from distributor.render import render
from distributor.sources import parse_feed, parse_html
from distributor.sources.files import parse_json

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>MEEDIA</title><link>https://www.meedia.de/</link>
<item><title>Warum die ARD ihre Talkshows umbaut › Meedia</title>
<link>https://www.meedia.de/medien/ard-talkshows-umbau-a-4711?wt_mc=rss.meedia</link>
<description>Von Anna Berger</description>
<content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/"><![CDATA[
<p>Von Anna Berger</p><p>Die ARD stellt ihr Talkshow-Angebot neu auf. Zwei Sendungen fallen
weg, eine neue kommt im Herbst. Das hat der Programmbeirat am Montag beschlossen.</p>]]>
</content:encoded></item>
<item><title>Bundestag beschließt Heizungsgesetz</title>
<link>https://www.meedia.de/politik/heizungsgesetz-a-4712</link>
<description>Nach monatelangem Streit hat der Bundestag das Gebäudeenergiegesetz
beschlossen. Die Opposition kündigte eine Klage an. [mehr]</description></item>
</channel></rss>
"""


def test_feed_title_byline_teaser_and_mehr_link_are_cleaned() -> None:
    meedia, gesetz = parse_feed(RSS.encode(), "meedia.xml")
    assert meedia.title == "Warum die ARD ihre Talkshows umbaut"
    assert meedia.teaser == (
        "Die ARD stellt ihr Talkshow-Angebot neu auf. Zwei Sendungen fallen weg, "
        "eine neue kommt im Herbst. Das hat der Programmbeirat am Montag beschlossen."
    )
    assert meedia.language == "de"  # the feed gives none: detected
    assert gesetz.teaser is not None and gesetz.teaser.endswith("eine Klage an.")


@pytest.mark.parametrize(
    ("teaser", "expected"),
    [
        (
            "Die Polizei hat den Verdächtigen festgenommen. Das bestätigte ein Sprecher. [mehr]",
            "Die Polizei hat den Verdächtigen festgenommen. Das bestätigte ein Sprecher.",
        ),
        ("Die Lage im Hafen ist unklar […] Die Feuerwehr ist vor Ort.", None),
        (
            "The death toll has risen to 42, officials said. Follow for live updates.",
            "The death toll has risen to 42, officials said.",
        ),
        (
            "Die Sanktionen wirken. Lesen Sie auch: Was der Ölpreisdeckel bringt",
            "Die Sanktionen wirken.",
        ),
        (
            "Der Kanzler reist nach Kiew. Mehr zum Thema Ukraine-Krieg",
            "Der Kanzler reist nach Kiew.",
        ),
        (
            "Der Bundestag hat das Heizungsgesetz beschlossen. Ob sich die Koalition …",
            "Der Bundestag hat das Heizungsgesetz beschlossen.",
        ),
        ("Ob sich die Koalition …", ""),
        ("Ein Kommentar von Max Muster", ""),
        (
            "Die Talkshows werden umgebaut, das Budget sinkt. Von Anna Berger und Tim Roe",
            "Die Talkshows werden umgebaut, das Budget sinkt.",
        ),
    ],
)
def test_clean_teaser(teaser: str, expected: str | None) -> None:
    cleaned = clean_teaser(teaser, "de")
    if expected is None:
        assert "[…]" not in cleaned and "Feuerwehr" in cleaned
    else:
        assert cleaned == expected


def test_a_teaser_that_merely_mentions_von_is_kept() -> None:
    text = "Die Anklage wirft ihm Betrug vor. Von Berlin aus steuerte er das Netzwerk."
    assert clean_teaser(text, "de") == text


@pytest.mark.parametrize(
    ("title", "names", "expected"),
    [
        ("Gaza ceasefire talks resume in Cairo - BBC News", ["BBC News"], None),
        ("Warum die ARD ihre Talkshows umbaut › Meedia", ["MEEDIA"], None),
        ("Bundestag beschließt Heizungsgesetz | SZ.de", ["Süddeutsche Zeitung", "www.sz.de"], None),
        ("n-tv.de: Bundestag beschließt Heizungsgesetz", ["n-tv.de"], None),
        ("Krieg in Nahost: Die Lage am Morgen - tagesschau.de", ["tagesschau.de"], None),
        (
            "Das Ende einer Ära – Der Spiegel",
            ["DER SPIEGEL – Alles Wichtige aus Politik, Wirtschaft"],
            "Das Ende einer Ära",
        ),
    ],
)
def test_site_name_is_stripped_from_either_end(
    title: str, names: list[str], expected: str | None
) -> None:
    stripped = strip_site_name(title, names)
    assert stripped == (expected or stripped)
    assert not any(n.split()[0].casefold() in stripped.casefold() for n in names if "." in n)
    assert len(stripped) < len(title)


def test_titles_that_do_not_name_the_site_stay() -> None:
    assert strip_site_name("Olaf Scholz: Wir schaffen das", ["tagesschau.de"]) == (
        "Olaf Scholz: Wir schaffen das"
    )
    assert strip_site_name("Kurz - BBC News", ["BBC News"]) == "Kurz - BBC News"  # too short


PAGE = """<!doctype html><html><head>
<title>Gaza ceasefire talks resume in Cairo - BBC News</title>
<meta property="og:title" content="Gaza ceasefire talks resume in Cairo - BBC News">
<meta property="og:site_name" content="BBC News">
<meta property="og:description" content="Negotiators from both sides met in Cairo on Tuesday,
 officials said. Follow for live updates.">
<link rel="canonical" href="https://www.bbc.com/news/articles/c0123456789o">
</head><body></body></html>"""


def test_page_without_language_gets_detected_language_and_english_post() -> None:
    article = parse_html(PAGE, "bbc.html")
    assert article.title == "Gaza ceasefire talks resume in Cairo"
    assert article.teaser == "Negotiators from both sides met in Cairo on Tuesday, officials said."
    assert article.language == "en"
    post = render(article, Channel(name="fb", platform="facebook")).text
    assert "Read more:" in post and "Mehr" not in post


def test_language_comes_from_the_page_before_the_text() -> None:
    page = PAGE.replace("<html>", '<html lang="de-DE">')
    assert parse_html(page, "bbc.html").language == "de"


def test_detect_is_none_for_short_or_empty_text() -> None:
    assert detect("Eilmeldung: Explosion") is None
    assert detect("") is None
    assert detect("Le président a annoncé mardi une réforme des retraites très contestée.") == "fr"


def test_channel_language_when_nothing_says() -> None:
    article = Article(url="https://www.example.de/a", title="Eilmeldung: Explosion")
    english = Channel(name="x-en", platform="facebook", language="en")
    assert render(article, english).language == "en"
    routed = Channel(name="x-en", platform="facebook", filters=_languages("en"))
    assert render(article, routed).language == "en"
    assert render(article, Channel(name="fb", platform="facebook")).language == "de"


def _languages(*codes: str) -> object:
    from distributor.config import RouteFilters

    return RouteFilters(languages=codes)


def test_invisible_and_control_characters_are_stripped_at_the_source() -> None:
    raw = (
        '{"url": "https://www.example.de/a", "title": "\\ufeffBundestag\\u200b beschlie\\u00dft'
        '\\u202e Gesetz\\r\\n", "teaser": "Erster Satz\\u00ad.\\r\\nZweiter Satz mit'
        ' Familie \\ud83d\\udc68\\u200d\\ud83d\\udc69\\u200d\\ud83d\\udc67.", "language": "de"}'
    )
    [article] = parse_json(raw, "a.json")
    assert article.title == "Bundestag beschließt Gesetz"
    assert article.teaser == "Erster Satz. Zweiter Satz mit Familie 👨\u200d👩\u200d👧."
