"""Routing filters: sections, tags, languages, excludes, disabled channels."""

from __future__ import annotations

import pytest

from distributor.article import Article, Image
from distributor.config import Channel, RouteFilters
from distributor.routing import route, routes, skip_reason

ARTICLE = Article(
    url="https://news.example/politik/a",
    title="T",
    section="Politik",
    tags=("Ukraine-Krieg", "Russland"),
    language="de",
)


def ch(name: str = "c", enabled: bool = True, **filters: tuple[str, ...]) -> Channel:
    return Channel(name=name, platform="x", filters=RouteFilters(**filters), enabled=enabled)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, True),
        ({"sections": ("politik",)}, True),  # case-insensitive
        ({"sections": ("Sport", "Kultur")}, False),
        ({"tags": ("RUSSLAND", "Sport")}, True),  # any tag is enough
        ({"tags": ("Sport",)}, False),
        ({"languages": ("de-AT",)}, True),  # region subtags in the config are fine
        ({"languages": ("en",)}, False),
        ({"exclude_sections": ("POLITIK",)}, False),
        ({"exclude_tags": ("russland",)}, False),
        ({"sections": ("Politik",), "exclude_tags": ("Russland",)}, False),  # exclude wins
        ({"exclude_sections": ("Sport",), "exclude_tags": ("Sport",)}, True),
    ],
)
def test_filters(filters: dict[str, tuple[str, ...]], expected: bool) -> None:
    assert routes(ARTICLE, ch(**filters)) is expected


def test_article_without_language_or_section_misses_explicit_filters() -> None:
    bare = Article(url="https://news.example/b", title="T")
    assert not routes(bare, ch(languages=("de",)))
    assert not routes(bare, ch(sections=("Politik",)))
    assert routes(bare, ch(exclude_sections=("Politik",)))


def test_reasons_name_what_did_not_match() -> None:
    assert "section 'Politik'" in (skip_reason(ARTICLE, ch(sections=("Sport",))) or "")
    assert "'Russland' is excluded" in (skip_reason(ARTICLE, ch(exclude_tags=("russland",))) or "")
    assert "disabled" in (skip_reason(ARTICLE, ch(enabled=False)) or "")
    assert skip_reason(ARTICLE, ch()) is None


def test_route_keeps_config_order_and_skips_disabled() -> None:
    channels = [ch("a"), ch("b", enabled=False), ch("c", sections=("Sport",)), ch("d")]
    assert [c.name for c in route(ARTICLE, channels)] == ["a", "d"]


def test_a_platform_that_needs_an_image_skips_an_article_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Skipped, not a template error: the article's other channels are still planned."""
    from dataclasses import replace

    from distributor import platform

    monkeypatch.setitem(platform.BUILTIN, "x", replace(platform.BUILTIN["x"], requires_image=True))
    assert skip_reason(ARTICLE, ch()) == "x posts need an image and the article has none"
    with_image = replace(ARTICLE, image=Image(url="https://news.example/a.jpg"))
    assert skip_reason(with_image, ch()) is None
