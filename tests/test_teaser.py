"""Teaser derivation: sentence splitting (German abbreviations, ordinals, numbers), boilerplate
skipping on the real news.de article, caption/credit splitting."""

from __future__ import annotations

import json

import pytest
from locations import fixture

from distributor.article import Article, Image
from distributor.teaser import (
    derive_teaser,
    fill_teaser,
    is_boilerplate,
    split_caption,
    split_sentences,
)


def news_de(suffix: str) -> str:
    """The real news.de article of the shared fixtures (skips when they are not there)."""
    return fixture("articles", f"putin-kim-soldaten.{suffix}").read_text("utf-8")


LEAD = (
    "Seit über fünf Monaten tobt der von Wladimir Putin entfesselte Ukraine-Krieg. "
    'Wie erfolgreich die "militärische Spezialoperation" aus Kreml-Sicht wirklich verläuft, '
    "kann Wladimir Putin wohl nur selbst beurteilen."
)


def test_fixture_body_gives_first_whole_sentences() -> None:
    teaser = derive_teaser(json.loads(news_de("json"))["body"], "de")
    assert teaser == LEAD
    assert len(teaser) <= 280


def test_plain_text_version_skips_labels_caption_and_share_line() -> None:
    # The .txt starts with "Politik", the headline, the photo caption and "• Artikel teilen:".
    assert derive_teaser(news_de("txt"), "de") == LEAD


def test_plain_text_boilerplate_lines_are_recognised() -> None:
    lines = [line.strip() for line in news_de("txt").splitlines() if line.strip()]
    furniture = [line for line in lines if is_boilerplate(line)]
    assert any(line.startswith("Lesen Sie auch:") for line in furniture)
    assert any(line.startswith("Folgen Sie News.de") for line in furniture)
    assert any(line.startswith("• Artikel teilen") for line in furniture)
    assert any("Bild: picture alliance/dpa" in line for line in furniture)
    assert "Themen" in furniture
    assert not any(line.startswith("Seit über fünf Monaten") for line in furniture)


def test_teaser_never_contains_boilerplate_even_when_it_comes_first() -> None:
    body = (
        "Lesen Sie auch: Olaf Scholz in Kiew. Mehr dazu hier.\n\n"
        "Folgen Sie uns bei Facebook und Twitter!\n\n"
        "## Die Lage\n\n"
        "Bild: dpa\n\n"
        "Der Kanzler reist nach Kiew. Er trifft dort Selenskyj."
    )
    assert derive_teaser(body, "de") == "Der Kanzler reist nach Kiew. Er trifft dort Selenskyj."


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Es kamen z. B. Dr. Müller und Prof. Schmidt. Danach ging es los.", None),
        ("Am 4. August kamen ca. 100.000 Menschen. Danach ging es los.", None),
        (
            "Der 1. FC Köln gewann u. a. gegen Nr. 5 bzw. den Tabellenführer. Danach ging es los.",
            None,
        ),
        ("Die Quote lag bei 3,5 Prozent, d.h. höher als 2021. Danach ging es los.", None),
        ('Er sagte: "Wir kommen wieder." Danach ging es los.', 'Er sagte: "Wir kommen wieder."'),
        ('"Wir sollten ihnen grünes Licht geben.", erklärte er. Danach ging es los.', None),
        ("Kommt er? Niemand weiß es. Danach ging es los.", "Kommt er?"),
    ],
)
def test_german_sentence_boundaries(text: str, first: str | None) -> None:
    sentences = split_sentences(text, german=True)
    expected_first = first or text[: text.index(" Danach")]
    assert sentences[0] == expected_first
    assert sentences[-1] == "Danach ging es los."


def test_english_sentences_with_abbreviations() -> None:
    text = "Mr. Smith met U.S. officials at 10 a.m. on Monday. It went well. Then he left."
    assert split_sentences(text, german=False) == [
        "Mr. Smith met U.S. officials at 10 a.m. on Monday.",
        "It went well.",
        "Then he left.",
    ]
    assert split_sentences("Prices rose by 12. The end.", german=False) == [
        "Prices rose by 12.",
        "The end.",
    ]


def test_limit_keeps_whole_sentences_and_at_least_one() -> None:
    body = "Erster Satz ist hier. Zweiter Satz folgt sogleich. Dritter."
    assert derive_teaser(body, "de", max_chars=45) == "Erster Satz ist hier."
    assert (
        derive_teaser(body, "de", max_chars=50)
        == "Erster Satz ist hier. Zweiter Satz folgt sogleich."
    )
    long_first = "Ein sehr langer erster Satz " + "mit vielen Wörtern " * 30 + "am Ende."
    assert derive_teaser(long_first + " Kurz.", "de", max_chars=100) == long_first


def test_english_boilerplate_and_empty_bodies() -> None:
    body = "Read more: Other story\n\nSign up for our newsletter\n\nThe vote passed. It was close."
    assert derive_teaser(body, "en") == "The vote passed. It was close."
    assert derive_teaser("Lesen Sie auch: X\n\nThemen", "de") is None
    assert derive_teaser("", "de") is None


def test_teaser_stays_in_the_lead_paragraph() -> None:
    body = "Kurzer Vorspann.\n\nZweiter Absatz mit mehr Text."
    assert derive_teaser(body, "de") == "Kurzer Vorspann."


@pytest.mark.parametrize(
    ("caption", "alt", "credit"),
    [
        (
            "Setzt Wladimir Putin demnächst auf nordkoreanische Truppen im Ukraine-Krieg? "
            "Bild: picture alliance/dpa/Planet Pix via ZUMA Press Wire | "
            "Mikhail Klimentyev/Kremlin Pool",
            "Setzt Wladimir Putin demnächst auf nordkoreanische Truppen im Ukraine-Krieg?",
            "picture alliance/dpa/Planet Pix via ZUMA Press Wire | Mikhail Klimentyev/Kremlin Pool",
        ),
        ("Foto: dpa", "", "dpa"),
        ("Photograph: Networ/Sipa USA/REX/Shutterstock", "", "Networ/Sipa USA/REX/Shutterstock"),
        ("Der Reichstag im Nebel © Jens Büttner", "Der Reichstag im Nebel", "Jens Büttner"),
        ("Nur ein Bildtext ohne Quelle", "Nur ein Bildtext ohne Quelle", ""),
    ],
)
def test_split_caption(caption: str, alt: str, credit: str) -> None:
    assert split_caption(caption) == (alt, credit)


def test_fill_teaser_derives_and_splits_embedded_credit() -> None:
    article = Article(
        url="https://example.org/a",
        title="T",
        body="Erster Satz. Zweiter Satz.",
        image=Image(url="https://example.org/i.jpg", alt="Ein Bild. Foto: AP"),
    )
    filled = fill_teaser(article)
    assert filled.teaser == "Erster Satz. Zweiter Satz."
    assert filled.image == Image(url="https://example.org/i.jpg", alt="Ein Bild.", credit="AP")
    kept = fill_teaser(article.with_teaser("Eigener Teaser."))
    assert kept.teaser == "Eigener Teaser."


def test_body_of_only_a_bare_line_still_gives_a_teaser() -> None:
    assert derive_teaser("Eilmeldung: Explosion in Berlin\n\nFoto: dpa", "de") == (
        "Eilmeldung: Explosion in Berlin"
    )
