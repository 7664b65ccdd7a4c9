"""Hashtags (issue 11 §7): caps per channel, stop list, most specific first, faithful tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from distributor.article import Article
from distributor.config import Channel, load_config
from distributor.errors import ConfigError
from distributor.hashtags import BUILTIN_STOP, hashtag, ranked
from distributor.render import render

# Tags as a CMS exports them: names with party, compounds, generic site labels, the section.
TAGS = (
    "News",
    "Politik",
    "Russland",
    "Wladimir Putin",
    "Story",
    "Kim Jong-un",
    "Standard",
    "Ukraine-Krieg",
    "dpa",
    "Olaf Scholz (SPD)",
    "Nordkorea",
)
ARTICLE = Article(
    url="https://www.tageblatt-beispiel.de/politik/kreml-nordkorea-a-4711",
    title="Kreml erwägt Hilfe aus Nordkorea",
    teaser="Der Kreml prüft nach Medienberichten ein Angebot aus Pjöngjang.",
    section="Politik",
    tags=TAGS,
    language="de",
)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("McDonald's", "#McDonalds"),
        ("McDonald’s", "#McDonalds"),
        ("Olaf Scholz (SPD)", "#OlafScholz"),
        ("Kim Jong-un", "#KimJongUn"),
        ("Bundesländer", "#Bundesländer"),
        ("iPhone 16", "#iPhone16"),
        ("C++", None),
        ("2024", None),
    ],
)
def test_hashtag_spelling(tag: str, expected: str | None) -> None:
    assert hashtag(tag) == expected


def test_ranked_drops_generic_labels_and_puts_specific_tags_first() -> None:
    assert ranked(TAGS, "Politik") == (
        "#WladimirPutin",
        "#KimJongUn",
        "#UkraineKrieg",
        "#OlafScholz",
        "#Russland",
        "#Nordkorea",
        "#Politik",
    )
    assert {"news", "story", "standard", "dpa"} <= BUILTIN_STOP


@pytest.mark.parametrize(
    ("platform", "count"),
    [("x", 2), ("bluesky", 3), ("mastodon", 3), ("facebook", 3), ("linkedin", 3), ("telegram", 3)],
)
def test_default_cap_per_platform(platform: str, count: int) -> None:
    text = render(ARTICLE, Channel(name=platform, platform=platform)).text
    tags = [w for w in text.split() if w.startswith("#")]
    assert tags == ["#WladimirPutin", "#KimJongUn", "#UkraineKrieg"][:count]


def test_threads_uses_the_most_specific_tag_only() -> None:
    text = render(ARTICLE, Channel(name="t", platform="threads")).text
    assert [w for w in text.split() if w.startswith("#")] == ["#WladimirPutin"]


def test_channel_setting_overrides_the_cap(tmp_path: Path) -> None:
    cfg = tmp_path / "distributor.toml"
    cfg.write_text(
        "[hashtags]\nstop = ['Wladimir Putin', 'ukraine-krieg']\n"
        "[channels.fb]\nplatform = 'facebook'\npage_id = '1'\npage_token_env = 'T'\nhashtags = 1\n"
        "[channels.x]\nplatform = 'x'\nhashtags = false\nconsumer_key_env = 'A'\n"
        "consumer_secret_env = 'B'\naccess_token_env = 'C'\naccess_token_secret_env = 'D'\n",
        encoding="utf-8",
    )
    settings = load_config(cfg, environ={})
    fb = render(ARTICLE, settings.channel("fb"), settings=settings).text
    assert [w for w in fb.split() if w.startswith("#")] == ["#KimJongUn"]
    x = render(ARTICLE, settings.channel("x"), settings=settings).text
    assert "#" not in x


FB = "[channels.fb]\nplatform = 'facebook'\npage_id = '1'\npage_token_env = 'T'\n"


@pytest.mark.parametrize(
    "toml",
    [
        FB + "hashtags = 'two'\n",
        FB + "hashtags = -1\n",
        "[hashtags]\nstop = 'News'\n",
        "[hashtags]\nblock = ['News']\n",
    ],
)
def test_bad_hashtag_settings_are_one_clear_error(tmp_path: Path, toml: str) -> None:
    cfg = tmp_path / "distributor.toml"
    cfg.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hashtags"):
        load_config(cfg, environ={})
