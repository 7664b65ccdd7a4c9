"""`facets()` against the official SDK's rich-text cases (links, tags) and German text.

Mention cases are skipped: the SDK test resolves handles to DIDs through a mock, and a post
renderer cannot resolve handles offline, so `facets()` does not produce mention facets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from locations import reference, reference_params

from distributor.platforms.bluesky import facets

CASES = ("bluesky", "atproto-api-richtext-cases.json")


def _cases(key: str, mentions: bool = True) -> list[Any]:
    """The SDK's cases under `key`, parametrized (without those mentioning a handle if asked)."""

    def make(path: Path) -> list[Any]:
        cases = json.loads(path.read_text(encoding="utf-8"))[key]
        keep = [c for c in cases if mentions or "@" not in c["text"]]
        return [pytest.param(c, id=c["text"][:40]) for c in keep]

    return reference_params(CASES, make)


LINK = "app.bsky.richtext.facet#link"
TAG = "app.bsky.richtext.facet#tag"


def _sliced(text: str, facet: dict[str, Any]) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


@pytest.mark.parametrize("case", _cases("detect_facets_segments", mentions=False))
def test_link_detection_matches_the_sdk(case: dict[str, Any]) -> None:
    text = case["text"]
    expected = [(seg[0], seg[1]) for seg in case["expected_segments"] if len(seg) == 2]
    got = [(_sliced(text, f), f["features"][0]["uri"]) for f in facets(text)]
    assert got == expected
    assert all(f["features"][0]["$type"] == LINK for f in facets(text))


@pytest.mark.parametrize("case", _cases("detect_tags_inline"))
def test_tag_detection_matches_the_sdk(case: dict[str, Any]) -> None:
    got = [f for f in facets(case["text"]) if f["features"][0]["$type"] == TAG]
    assert [f["features"][0]["tag"] for f in got] == case["expected_tags"]
    assert [f["index"] for f in got] == case["expected_indices"]


def test_the_mention_cases_exist_and_are_left_alone() -> None:
    cases = json.loads(reference(*CASES).read_text(encoding="utf-8"))["detect_facets_segments"]
    mentions = [c for c in cases if "@" in c["text"]]
    assert len(mentions) >= 10
    assert facets("@handle.com middle end") == []


def test_german_text_offsets_count_umlauts_as_two_bytes() -> None:
    text = "Über 100.000 Soldaten für Putin? Mehr: zeitung.de/politik/ä #Ukraine-Krieg #Größe."
    [link, tag1, tag2] = facets(text)
    assert link["features"][0]["uri"] == "https://zeitung.de/politik/ä"
    assert _sliced(text, link) == "zeitung.de/politik/ä"
    assert _sliced(text, tag1) == "#Ukraine-Krieg"
    assert (tag2["features"][0]["tag"], _sliced(text, tag2)) == ("Größe", "#Größe")
    # byte offsets differ from code point offsets after the first umlaut
    assert link["index"]["byteStart"] == text.index("zeitung.de") + 2
    assert link["$type"] == "app.bsky.richtext.facet"
    # a bare domain needs a real TLD (".example" is reserved, not delegated), as in the SDK
    assert facets("Mehr: news.example/politik") == []


def test_full_article_link_with_scheme_and_query() -> None:
    url = "https://news.example/politik/putin-kim?utm_source=bluesky&utm_medium=social"
    text = f"Kim Jong-un soll 100.000 Soldaten schicken. {url}"
    [link] = facets(text)
    assert link["features"][0]["uri"] == url
    assert _sliced(text, link) == url


def test_the_tag_limit_counts_graphemes_not_code_points() -> None:
    decomposed = "a\u0308"  # "ä" as two code points: one grapheme
    assert [f["features"][0]["tag"] for f in facets("#" + decomposed * 64)] == [decomposed * 64]
    assert facets("#" + decomposed * 65) == []
    # a zero-width joiner ends a tag, as in the SDK (family emoji are cut at the first ZWJ)
    family = "\U0001f468\u200d\U0001f469"
    assert [f["features"][0]["tag"] for f in facets("#" + family)] == ["\U0001f468"]
