"""HTML pages: all 11 saved real news pages, cross-checked with og_extracted.json, and the
traps (placeholder images, relative canonical, double-escaped entities, no metadata)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from locations import reference

from distributor.errors import ArticleError
from distributor.sources import load, parse_html


def page(name: str = "") -> Path:
    """A saved real page of the shared reference data (the folder when no name is given)."""
    return reference("opengraph", "trafilatura-cache", *([name] if name else []))


@cache
def og() -> dict[str, Any]:
    """The meta tags extracted mechanically from the saved pages."""
    data: dict[str, Any] = json.loads(reference("opengraph", "og_extracted.json").read_text())
    return data


# url, title, teaser start, image url start (None: no real image), language, section
EXPECTED: dict[str, tuple[str, str, str | None, str | None, str | None, str | None]] = {
    "dw.com.colonial.html": (
        "https://www.dw.com/en/berlin-confronts-germanys-colonial-past-with-new-initiative/a-52060881",
        "Berlin confronts Germany's colonial past with new initiative",
        "The German capital has launched a five-year project",
        "https://www.dw.com/image/43470564_304.jpg",
        "en",
        None,
    ),
    "faz.net.streaming.html": (
        "https://www.faz.net/aktuell/wirtschaft/nutzerbasierte-abrechnung-musik-stars-fordern-neues-streaming-modell-16604622.html",
        "Nutzerbasierte Abrechnung: Musik-Stars fordern neues Streaming-Modell",
        "Die Abogebühr eines Nutzers soll nur noch unter den Künstlern verteilt werden",
        "https://media0.faz.net/ppmedia/aktuell/wirtschaft/",
        "de",
        None,
    ),
    "heise.de.lithium.html": (
        "https://www.heise.de/newsticker/meldung/Lithium-aus-dem-Schredder-4451133.html",
        "Lithium aus dem Schredder",
        "Eine niedersächsische Firma hat die Wiederverwertung ausgedienter Akkus optimiert.",
        "https://heise.cloudimg.io/bound/1200x1200/",
        "de",
        None,
    ),
    "reuters.com.parasite.html": (
        "https://www.reuters.com/article/us-awards-sag-idUSKBN1ZI0EH",
        "'Parasite' scores historic upset at SAG awards, boosting Oscar chances",
        'South Korean thriller "Parasite" was the upset winner',
        "https://static.reuters.com/resources/r/?m=02&d=20200120",
        "en",
        "Media Industry",
    ),
    "rnz.de.witzel.html": (
        "https://www.rnz.de/nachrichten_artikel,-zz-dpa-Schlaglichter-Frank-Witzel-erhaelt-Deutschen-Buchpreis-2015-_arid,133484.html",
        "Frank Witzel erhält Deutschen Buchpreis 2015",
        "Frankfurt/Main (dpa) - Für einen Roman über die alte Bundesrepublik",
        None,  # only a social_placeholder.png
        "de",  # the page does not say: detected from the text
        None,
    ),
    "spektrum.de.engelbart.html": (
        "https://scilogs.spektrum.de/engelbart-galaxis/die-ablehnung-der-gendersprache/",
        "Die Ablehnung der Gendersprache",
        "Kann es eine Geschlechtergerechte Sprache geben?",
        "https://scilogs.spektrum.de/engelbart-galaxis/files/Meldung-1-1024x301.jpg",
        "de",
        "Originalbeitrag",
    ),
    "spiegel.de.albtraum.html": (
        "https://www.spiegel.de/spiegel/print/d-161500790.html",
        "Ein Albtraum",
        None,
        "https://www.spiegel.de/images/image-1099770-galleryV9-fcbd-1099770.jpg",
        "de",
        "Heftarchiv / DER SPIEGEL",
    ),
    "sueddeutsche.de.flixtrain.html": (
        "https://www.sueddeutsche.de/wirtschaft/bahn-flixbus-flixtrain-deutschlandtakt-fernverkehr-1.4445845",
        "Flixbus attackiert Deutsche Bahn",
        "Mehrere Bahn-Konkurrenten fürchten durch den geplanten Deutschlandtakt große Nachteile",
        "https://media-cdn.sueddeutsche.de/image/sz.1.3919259/1200x675",
        "de",
        None,
    ),
    "theguardian.com.academics.html": (
        "https://www.theguardian.com/education/2020/jan/20/thousands-of-uk-academics-treated-as-second-class-citizens",
        "Thousands of UK academics 'treated as second-class citizens'",
        "Report claims higher education institutions have created pool of low-paid staff",
        "https://i.guim.co.uk/img/media/a7884d60aab75b870e3c7e26898b42750a38feb8/",
        "en",
        "Education",
    ),
    "theverge.com.ios13.html": (
        "https://www.theverge.com/2019/7/3/20680681/ios-13-beta-3-facetime-attention-correction-eye-contact",
        "iOS 13 will fix the FaceTime eye contact problem",
        "Fake eye contact for improved intimacy",
        "https://cdn.vox-cdn.com/thumbor/E3Z7nv0iFjl6ztUEK-xF1QWI2rc=/",
        "en",  # the page does not say: detected from the text
        None,
    ),
    "zeit.de.zugverkehr.html": (
        "https://www.zeit.de/mobilitaet/2020-01/zugverkehr-christian-lindner-hochgeschwindigkeitsstrecke-eu-kommission",
        "Zugverkehr: Im ICE von Frankfurt nach Barcelona",
        "Mit Schnellzugtrassen durch Europa will die FDP zum Klimaschutz beitragen.",
        "https://img.zeit.de/mobilitaet/2020-01/",
        "de",
        None,
    ),
}


def test_every_saved_page_has_an_expectation() -> None:
    assert sorted(p.name for p in page().glob("*.html")) == sorted(EXPECTED) == sorted(og())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_page(name: str) -> None:
    url, title, teaser, image, language, section = EXPECTED[name]
    [article] = load(str(page(name)))
    assert article.url == url
    assert article.title == title
    if teaser is None:
        assert article.teaser is None
    else:
        assert article.teaser is not None and article.teaser.startswith(teaser)
    if image is None:
        assert article.image is None
    else:
        assert article.image is not None and article.image.url.startswith(image)
    assert article.language == language
    assert article.section == section
    for text in (article.title, article.teaser or ""):
        assert not re.search(r"&(?:[a-z]+|#\d+);|<[a-z/]", text), text
        assert "\ufffd" not in text and "Ã" not in text  # no mojibake: umlauts decoded right


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_saved_page_agrees_with_extracted_meta_tags(name: str) -> None:
    """Cross-check against the mechanically extracted tags (independent of our parser)."""
    [article] = load(str(page(name)))
    meta = og()[name]["meta"]
    canonical = og()[name]["canonical"]
    if canonical and canonical.startswith("http"):
        assert article.url == canonical
    elif "og:url" in meta:
        assert article.url == meta["og:url"][0]
    if "og:title" in meta:
        assert meta["og:title"][0].startswith(article.title)
    if "og:description" in meta:
        description = " ".join(meta["og:description"][0].split())
        if description.endswith(("...", "…")):  # cut by the publisher: whole sentences only
            assert article.teaser and description.startswith(article.teaser)
            assert article.teaser.endswith(".")
        else:
            assert article.teaser == description
    images = [i for i in meta.get("og:image", []) if "placeholder" not in i]
    if images:
        assert article.image is not None and article.image.url == images[0]


def test_dates_tags_and_author_from_meta_and_json_ld() -> None:
    [zeit] = load(str(page("zeit.de.zugverkehr.html")))
    assert zeit.author == "Caspar Schwietering"
    assert zeit.published_at is not None and zeit.published_at.isoformat() == (
        "2020-01-14T09:21:29+01:00"
    )
    assert zeit.tags[:3] == ("Christian Lindner", "Greta Thunberg", "EU-Kommission")
    [guardian] = load(str(page("theguardian.com.academics.html")))
    assert guardian.tags[:3] == ("Higher education", "Academics", "Lecturers' pay")
    assert guardian.published_at is not None and guardian.published_at.tzinfo is not None
    [spiegel] = load(str(page("spiegel.de.albtraum.html")))  # "+0100" offset, JSON-LD only
    assert spiegel.published_at is not None and spiegel.published_at.isoformat() == (
        "2018-12-22T00:00:00+01:00"
    )


def _page(head: str, html_attrs: str = 'lang="de"') -> str:
    return (
        f"<!doctype html><html {html_attrs}><head><meta charset='utf-8'>{head}</head>"
        "<body>x</body></html>"
    )


def test_placeholder_image_skipped_alt_credit_split_and_entities() -> None:
    page = _page(
        '<meta property="og:title" content="Gr&amp;uuml;&amp;szlig;e &amp;amp; Co">'
        '<meta property="og:url" content="https://example.org/a?utm_medium=social">'
        '<meta property="og:image" content="/img/placeholder.png">'
        '<meta property="og:image" content="/img/real.jpg">'
        '<meta property="og:image:alt" content="Olaf Scholz in Berlin. Foto: dpa/Kay Nietfeld">'
        '<meta property="og:description" content="&amp;quot;Zitat&amp;quot; und mehr.">'
        '<meta property="article:tag" content="Politik"><meta property="article:tag" content="SPD">'
    )
    article = parse_html(page, "page.html")
    assert article.title == "Grüße & Co"
    assert article.teaser == '"Zitat" und mehr.'
    assert article.canonical_url == "https://example.org/a"
    assert article.tags == ("Politik", "SPD")
    assert article.language == "de"
    assert article.image is not None
    assert article.image.url == "https://example.org/img/real.jpg"
    assert (article.image.alt, article.image.credit) == (
        "Olaf Scholz in Berlin.",
        "dpa/Kay Nietfeld",
    )


def test_json_ld_graph_image_list_keywords() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "X"},
            {
                "@type": ["NewsArticle"],
                "headline": "Headline from JSON-LD",
                "description": "Described.\nWith a raw newline.",
                "image": [{"@type": "ImageObject", "url": "https://cdn.example/i.jpg"}, "b.jpg"],
                "keywords": ["Ukraine", "Krieg"],
                "articleSection": ["Politik", "Ausland"],
                "datePublished": "2024-02-03T04:05:06Z",
                "author": [{"@type": "Person", "name": "A. Autor"}, {"name": "B. Autorin"}],
                "mainEntityOfPage": {"@id": "https://example.org/story"},
                "inLanguage": "de-AT",
            },
        ],
    }
    raw = json.dumps(ld).replace("\\n", "\n")  # the raw newline real pages carry
    page = _page(f'<script type="application/ld+json">{raw}</script>', html_attrs="")
    article = parse_html(page.encode(), "ld.html")
    assert article.url == "https://example.org/story"
    assert article.title == "Headline from JSON-LD"
    assert article.image is not None and article.image.url == "https://cdn.example/i.jpg"
    assert article.tags == ("Ukraine", "Krieg")
    assert article.section == "Politik"
    assert article.language == "de"
    assert article.author == "A. Autor, B. Autorin"
    assert article.published_at is not None and article.published_at.hour == 4


def test_relative_canonical_resolved_against_fetched_url() -> None:
    page = _page(
        '<link rel="canonical" href="/politik/story-1"><title>Eine lange Geschichte | Site</title>'
    )
    article = parse_html(
        page, "https://example.org/x/y", url="https://example.org/x/y?utm_source=a"
    )
    assert article.url == "https://example.org/politik/story-1"
    assert article.title == "Eine lange Geschichte"  # <title> as last resort, site suffix dropped


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("", "page has no article metadata (no OpenGraph, JSON-LD or title)"),
        (
            "<title>Nur ein Titel</title>",
            "page has no URL (no canonical link, og:url or JSON-LD url)",
        ),
        (
            '<link rel="canonical" href="/a"><title>T</title>',
            "canonical URL '/a' is relative and the page has no og:url; "
            "load the page from its URL instead",
        ),
        (
            '<meta property="og:url" content="https://e.org/a">'
            '<meta name="description" content="d">',
            "page has no title (og:title, JSON-LD headline or <title>)",
        ),
        ('<script type="application/ld+json">{broken</script>', "page has no article metadata"),
    ],
)
def test_pages_without_usable_metadata(tmp_path: Path, head: str, expected: str) -> None:
    path = tmp_path / "page.html"
    path.write_text(_page(head), encoding="utf-8")
    with pytest.raises(ArticleError) as info:
        load(str(path))
    assert str(info.value).startswith(f"{path}: {expected}")
