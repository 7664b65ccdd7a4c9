"""Feeds: the real reference feeds (German Atom, Guardian, ISO-8859-1, content:encoded, UOL),
hand-made edge cases, broken variants and a 10,000-item feed."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from locations import reference

from distributor.article import Article
from distributor.errors import ArticleError
from distributor.sources import load, parse_feed

NAMES = {
    "heise": "heise.atom",
    "guardian": "guardian.rss",
    "encoding": "encoding.rss",
    "content-encoded": "content-encoded.rss",
    "uolNoticias": "uolNoticias.rss",
}
MARKUP = re.compile(r"<[a-zA-Z/][^>]*>|&(?:amp|quot|lt|gt|nbsp|#\d+);")


def _expected(name: str) -> list[dict[str, str]]:
    raw = reference("feeds", "rss-parser", "output", f"{name}.json").read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # rss-parser saved the ISO-8859-1 expectations as Latin-1
        text = raw.decode("latin-1")
    items: list[dict[str, str]] = json.loads(text)["feed"]["items"]
    return items


def _same(ours: str, theirs: str) -> bool:
    """Equal, where rss-parser's U+FFFD (it misread the undeclared Latin-1 feed) matches any."""
    return len(ours) == len(theirs) and all(
        a == b or b == "\ufffd" for a, b in zip(ours, theirs, strict=True)
    )


def _load(name: str) -> list[Article]:
    return load(str(reference("feeds", "rss-parser", "input", NAMES[name])))


@pytest.mark.parametrize("name", sorted(NAMES))
def test_reference_feed_matches_expected_titles_and_is_clean(name: str) -> None:
    articles = _load(name)
    expected = _expected(name)
    assert len(articles) == len(expected)
    for article, item in zip(articles, expected, strict=True):
        assert _same(article.title, " ".join(item["title"].split()))
    for article in articles:
        for text in (article.title, article.teaser or "", article.body or ""):
            assert not MARKUP.search(text), (article.url, text[:200])
        assert article.url.startswith(("http://", "https://"))
        for when in (article.published_at, article.updated_at):
            assert when is None or when.utcoffset() is not None


@pytest.mark.parametrize("name", ["heise", "guardian", "content-encoded", "uolNoticias"])
def test_reference_feed_links_match_expected(name: str) -> None:
    assert [a.url for a in _load(name)] == [e["link"].strip() for e in _expected(name)]


def test_heise_atom_german() -> None:
    articles = _load("heise")
    first = articles[0]
    assert first.title == "Java-Anwendungsserver: Red Hat gibt WildFly 10 frei"
    assert first.guid == "http://heise.de/-3088438"
    assert first.teaser is not None and first.teaser.startswith("Die nun verfügbare Version 10")
    assert first.published_at is not None and first.published_at.isoformat() == (
        "2016-02-01T16:22:00+00:00"
    )
    assert first.updated_at is not None and first.updated_at.hour == 16
    assert first.image is not None and first.image.alt == "WildFly 10"
    assert first.image.url.startswith("http://www.heise.de/scale/geometry/")
    # wt_mc is a tracking parameter: the canonical URL drops it.
    assert "wt_mc" in first.url and "wt_mc" not in first.canonical_url
    # `&amp;quot;Klasse&amp;quot;` in the feed is double-escaped text.
    klasse = next(a for a in articles if "instanceof" in (a.teaser or ""))
    assert 'der gleichen "Klasse" arbeitet.' in (klasse.teaser or "")


def test_guardian_media_credit_tags_language() -> None:
    first = _load("guardian")[0]
    assert first.language == "en"
    assert first.author == "David Smith in Washington"
    assert first.tags[:2] == ("Donald Trump", "State of the Union address")
    assert first.image is not None
    assert "w=460" in first.image.url  # the widest media:content
    assert first.image.credit == "Networ/Sipa USA/REX/Shutterstock"  # "Photograph:" split off
    assert first.teaser is not None and first.teaser.startswith("The president’s ‘new American")
    assert "Continue reading" not in first.teaser
    body = first.body or ""
    assert "\n\n" in body and "Donald Trump has promised a “new American moment”" in body


def test_iso_8859_1_feed_decodes_and_prefers_original_link() -> None:
    articles = _load("encoding")
    first = articles[0]
    assert first.title == "Mãe de utente é a nova presidente da Raríssimas"
    assert first.language == "pt"
    assert first.tags == ("Nacional",)
    assert first.url.startswith("https://www.jn.pt/nacional/")  # feedburner:origLink
    assert first.image is None  # the 1x1 FeedBurner tracking pixel is not an image
    assert first.teaser is not None and "Sónia Laygue" in first.teaser


def test_undeclared_windows_1252_feed() -> None:
    first = _load("uolNoticias")[0]
    assert (
        first.title == "Ibope: Bolsonaro perde de Haddad, Ciro e Alckmin em simulações de 2º turno"
    )
    assert first.image is not None and first.image.url.endswith("_142x100.jpg")


def test_content_encoded_is_body_with_paragraphs() -> None:
    first = _load("content-encoded")[0]
    expected = _expected("content-encoded")[0]["content:encodedSnippet"]
    body = first.body or ""
    assert body.count("\n\n") > 5
    assert " ".join(body.split())[:300] == " ".join(expected.split())[:300]
    assert first.author == "Jeremy Puma"
    assert first.guid == "https://medium.com/p/125af37d838f"
    assert first.teaser is not None and len(first.teaser) <= 280
    assert first.image is not None and first.image.url.endswith(".jpeg")


MEDIA_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>T</title><link>https://example.org/news/</link><language>de-DE</language>
<item><title>Fischer &amp;amp; Co: &amp;quot;Hallo&amp;quot;</title>
<link>/a/b?utm_source=rss</link><guid isPermaLink="false">abc-1</guid>
<description>&lt;p&gt;Kurz &amp;amp;amp; gut.&lt;/p&gt;</description>
<content:encoded><![CDATA[<p>Erster Absatz &amp;quot;x&amp;quot;.</p>
<p>Zweiter.</p>]]></content:encoded>
<category>Politik</category><category>Ukraine-Krieg</category>
<media:content url="https://example.org/m.jpg" medium="image" width="800">
<media:description>Kiew am Abend</media:description><media:credit>Foto: dpa</media:credit>
</media:content>
<media:thumbnail url="https://example.org/t.jpg"/>
</item>
<item><title>Nur Vorschau</title><link>https://example.org/c</link>
<media:thumbnail url="/thumb.jpg"/></item>
<item><title>Anhang</title><link>https://example.org/d</link>
<enclosure url="https://example.org/e.mp3" type="audio/mpeg" length="1"/>
<enclosure url="https://example.org/e.jpg" type="image/jpeg" length="1"/></item>
<item><title></title><link>https://example.org/no-title</link></item>
<item><title>Ohne Link</title></item>
<item><title>Kaputter Link</title><link>http://[::1/x</link></item>
</channel></rss>"""


def test_hand_made_feed_entities_media_relative_links(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        articles = parse_feed(MEDIA_FEED.encode(), "media.xml")
    first, thumb, enclosure = articles
    assert first.title == 'Fischer & Co: "Hallo"'
    assert first.url == "https://example.org/a/b?utm_source=rss"
    assert first.canonical_url == "https://example.org/a/b"
    assert first.guid == "abc-1"
    assert first.teaser == "Kurz & gut."
    assert first.body == 'Erster Absatz "x".\n\nZweiter.'
    assert first.tags == ("Politik", "Ukraine-Krieg")
    assert first.language == "de"
    assert first.image is not None
    assert (first.image.url, first.image.alt, first.image.credit) == (
        "https://example.org/m.jpg",
        "Kiew am Abend",
        "dpa",
    )
    assert thumb.image is not None and thumb.image.url == "https://example.org/thumb.jpg"
    assert enclosure.image is not None and enclosure.image.url == "https://example.org/e.jpg"
    notes = [r.getMessage() for r in caplog.records]
    assert any("has no title" in n for n in notes)
    assert any("'Ohne Link' has no link" in n for n in notes)
    assert any("'http://[::1/x' is not an absolute http(s) URL" in n for n in notes)


def test_atom_relative_links_resolved_against_feed_link() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">
<title>A</title><link rel="alternate" href="https://example.org/blog/"/><id>x</id>
<updated>2024-03-01T10:00:00+01:00</updated>
<entry><title type="html">Eins &amp;lt;b&amp;gt;fett&amp;lt;/b&amp;gt;</title>
<link rel="alternate" href="eins.html#kommentare"/><id>urn:1</id>
<updated>2024-03-01T10:00:00+01:00</updated><summary>Kurz.</summary></entry></feed>"""
    [article] = parse_feed(atom, "a.atom")
    assert article.title == "Eins fett"
    assert article.url == "https://example.org/blog/eins.html#kommentare"
    assert article.canonical_url == "https://example.org/blog/eins.html"
    assert article.language == "de"
    assert article.published_at is not None and article.published_at.hour == 9


def _error(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ArticleError) as info:
        load(str(path))
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path) + ": ")
    return message[len(str(path)) + 2 :]


def test_broken_feeds(tmp_path: Path) -> None:
    empty = '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
    assert _error(tmp_path, "empty.rss", empty) == "feed has no items"
    assert _error(tmp_path, "empty.atom", '<feed xmlns="http://www.w3.org/2005/Atom"/>') == (
        "feed has no items"
    )
    broken = '<?xml version="1.0"?>\n<rss version="2.0">\n<<<channel> & </rss>'
    assert _error(tmp_path, "broken.rss", broken).startswith("not a valid feed (line 3, column ")
    no_links = (
        '<rss version="2.0"><channel><title>T</title>'
        "<item><title>A</title></item><item><title>B</title><link>/rel</link></item>"
        "</channel></rss>"
    )
    message = _error(tmp_path, "nolinks.rss", no_links)
    assert message.startswith("no usable item in the feed (first problem: item 'A' has no link")
    bad_date = (
        '<rss version="2.0"><channel><title>T</title><item><title>A</title>'
        "<link>https://e.org/a</link><pubDate>gestern</pubDate></item></channel></rss>"
    )
    (tmp_path / "baddate.rss").write_text(bad_date, encoding="utf-8")
    [article] = load(str(tmp_path / "baddate.rss"))  # an unreadable date is dropped, not fatal
    assert article.published_at is None


def test_ten_thousand_items_complete(tmp_path: Path) -> None:
    item = (
        "<item><title>Titel {i} &amp;amp; mehr</title>"
        "<link>https://example.org/a/{i}?utm_source=rss</link><guid>g{i}</guid>"
        "<description>&lt;p&gt;Erster Satz {i}. Zweiter Satz, z. B. hier.&lt;/p&gt;</description>"
        "<category>Politik</category><pubDate>Mon, 01 Jan 2024 10:00:00 +0100</pubDate></item>"
    )
    body = "".join(item.format(i=i) for i in range(10_000))
    path = tmp_path / "big.rss"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>'
        f"<link>https://example.org/</link>{body}</channel></rss>",
        encoding="utf-8",
    )
    articles = load(str(path))  # how fast: bench/, not a timed assertion here
    assert len(articles) == 10_000
    assert articles[-1].title == "Titel 9999 & mehr"
    assert articles[-1].teaser == "Erster Satz 9999. Zweiter Satz, z. B. hier."
    assert len({a.article_id for a in articles}) == 10_000


def test_rdf_feed_and_long_summary_gives_sentence_teaser() -> None:
    long_para = "Der erste Satz ist kurz. " + "Danach folgt sehr viel mehr Text ohne Ende. " * 12
    rdf = f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.org/"><title>R</title><link>https://example.org/</link>
<dc:language>de</dc:language></channel>
<item rdf:about="https://example.org/r1"><title>RDF-Meldung</title>
<link>https://example.org/r1</link><description>{long_para}</description>
<dc:date>2024-05-06T07:08:09+02:00</dc:date><dc:subject>Wissenschaft</dc:subject></item>
</rdf:RDF>""".encode()
    [article] = parse_feed(rdf, "r.rdf")
    assert article.url == "https://example.org/r1"
    assert article.language == "de"
    assert article.tags == ("Wissenschaft",)
    assert article.published_at is not None and article.published_at.hour == 5
    teaser = article.teaser or ""
    assert teaser.startswith("Der erste Satz ist kurz. Danach folgt")
    assert teaser.endswith("Ende.") and len(teaser) <= 280
