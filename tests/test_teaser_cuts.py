"""Teaser cuts and image credits (issue 11 §6, §8), on texts written for these tests."""

from __future__ import annotations

from dataclasses import replace

import pytest

from distributor import limits
from distributor.article import Article, Image
from distributor.config import Channel
from distributor.render import render
from distributor.render.fit import ELLIPSIS, cut_points, shorten
from distributor.teaser import fill_teaser, split_caption

URL = "https://www.tageblatt-beispiel.de/politik/ukraine-krieg-kreml-a-4711"
QUOTE_TEASER = (
    "Ein führender Verteidigungsexperte in Moskau, Oberst der Reserve Igor Korotchenko, sagte "
    "im Staatsfernsehen: „Wir sollten uns nicht scheuen, die von Kim Jong-un ausgestreckte "
    "Hand zu ergreifen und seine Truppen an die Front zu holen“, erklärte Korotchenko am Abend"
)


def article(teaser: str, language: str = "de", **kw: object) -> Article:
    return Article(
        url=URL,
        title="Kreml erwägt Hilfe aus Nordkorea: Experte wirbt für Truppen von Kim Jong-un",
        teaser=teaser,
        language=language,
        **kw,  # type: ignore[arg-type]
    )


def fixed_length(a: Article, channel: Channel) -> int:
    return render(replace(a, teaser=None), channel).length


@pytest.mark.parametrize("room", range(10, 200, 7))
def test_a_cut_never_lands_inside_a_quotation_or_before_its_speaker(room: int) -> None:
    a = article(QUOTE_TEASER)
    channel = Channel(name="m", platform="mastodon", hashtags=False)
    limit = fixed_length(a, channel) + room
    draft = render(a, replace(channel, limit=limit))
    assert draft.length <= limit
    teaser = draft.text.split("\n\n")[1] if draft.text.count("\n\n") >= 2 else ""
    if teaser:
        assert teaser.endswith(" " + ELLIPSIS)
        assert teaser.count("„") == teaser.count("“")  # a quotation is whole or absent
        assert not teaser.removesuffix(" " + ELLIPSIS).endswith(("“", "“,", ":", "sagte im"))
        assert len(teaser.split()) - 1 >= 8


def test_cut_points_skip_quotations_and_speaker_joints() -> None:
    sentence = "Er sagte: „Wir kommen nicht“, erklärte er am Abend in Berlin"
    words = sentence.split()
    points = cut_points(words)
    assert 1 not in points and 2 not in points  # the speaker stays with the quotation
    assert all(p not in points for p in (3, 4, 5, 6))  # inside „…“, or before "erklärte er"
    assert points == [7, 8, 9, 10, 11]


def test_german_and_english_ellipsis_spacing() -> None:
    words = ["Seit", "über", "fünf", "Monaten", "tobt", "der", "Krieg"]
    assert shorten(words, 6, german=True) == "Seit über fünf Monaten tobt der …"
    assert shorten(["The", "war", "has", "raged", "on,", "for", "months"], 5, german=False) == (
        "The war has raged on…"
    )


def test_short_fragment_is_dropped_and_title_and_link_stay() -> None:
    teaser = "Seit über fünf Monaten tobt der von Wladimir Putin entfesselte Ukraine-Krieg weiter"
    a = article(teaser)
    channel = Channel(name="x", platform="x", hashtags=False)
    # Room for about six words only: a fragment that short is not posted.
    limit = fixed_length(a, channel) + 2 + len("Seit über fünf Monaten tobt der …")
    draft = render(a, replace(channel, limit=limit))
    assert "Seit" not in draft.text
    assert draft.text.startswith(a.title) and draft.link in draft.text


def test_english_cut_closes_up() -> None:
    teaser = (
        "Negotiators from Israel and Hamas resumed indirect talks in Cairo on Tuesday, "
        "according to officials familiar with the discussions who spoke on condition"
    )
    a = article(teaser, language="en")
    channel = Channel(name="b", platform="bluesky", hashtags=False, options={"link_text": "full"})
    limit = fixed_length(a, channel) + 2 + 90
    draft = render(a, replace(channel, limit=limit))
    cut = next(line for line in draft.text.splitlines() if line.endswith(ELLIPSIS))
    assert not cut.endswith(" " + ELLIPSIS) and teaser.startswith(cut.removesuffix(ELLIPSIS))
    assert limits.length("bluesky", draft.text) == draft.length <= limit


@pytest.mark.parametrize(
    ("caption", "alt", "credit"),
    [
        (
            "Setzt Wladimir Putin auf nordkoreanische Truppen? | picture alliance/dpa",
            "Setzt Wladimir Putin auf nordkoreanische Truppen?",
            "picture alliance/dpa",
        ),
        ("Olaf Scholz im Bundestag (Foto: dpa)", "Olaf Scholz im Bundestag", "dpa"),
        (
            "The prime minister in Downing Street (Photo: Reuters/Toby Melville)",
            "The prime minister in Downing Street",
            "Reuters/Toby Melville",
        ),
        ("Feuerwehr im Einsatz [Bild: Polizei Köln]", "Feuerwehr im Einsatz", "Polizei Köln"),
        (
            "Feuerwehr im Einsatz. Bild: picture alliance/dpa",
            "Feuerwehr im Einsatz.",
            "picture alliance/dpa",
        ),
        (
            "Vorher | nachher: so sah der Marktplatz aus, bevor die Stadt ihn umgebaut hat.",
            "Vorher | nachher: so sah der Marktplatz aus, bevor die Stadt ihn umgebaut hat.",
            "",
        ),
    ],
)
def test_image_credit_is_split_off_the_alt_text(caption: str, alt: str, credit: str) -> None:
    assert split_caption(caption) == (alt, credit)
    image = Image(url="https://www.tageblatt-beispiel.de/bild.jpg", alt=caption)
    filled = fill_teaser(article("Ein Satz.", image=image))
    assert filled.image is not None and (filled.image.alt, filled.image.credit) == (alt, credit)


def test_a_given_credit_is_never_overwritten() -> None:
    image = Image(url="https://www.tageblatt-beispiel.de/b.jpg", alt="Markt | Stadt", credit="dpa")
    filled = fill_teaser(article("Ein Satz.", image=image))
    assert filled.image == image
