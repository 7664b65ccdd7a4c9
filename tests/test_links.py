"""Link hygiene (issue 11 §1, §2): posted links lose click ids; Bluesky shows a short link."""

from __future__ import annotations

from pathlib import Path

import pytest
from platform_helpers import PLATFORMS

from distributor.article import Article, Image
from distributor.config import Channel, load_config
from distributor.config.tables import parse_links
from distributor.errors import ConfigError
from distributor.links import clean_url, display_link, posted_link
from distributor.platforms.bluesky_facets import facets
from distributor.render import render

# Real-shaped: a news.de article URL as it arrives from a Facebook click, with Webtrekk,
# Mailchimp and AT Internet parameters and an anchor.
LONG = (
    "https://www.news.de/politik/856441233/wladimir-putin-verzweifelt-kim-jong-un-soll-100000-"
    "soldaten-fuer-sieg-im-ukraine-krieg-schicken-nordkorea-hilfe-fuer-russland/1/"
    "?fbclid=IwAR2xKq9mZ3bVtYpL0sQe7RkD4nHw8JfUa1cXo6TgBiEy5rNvMl3PdWsZ_k"
    "&wt_mc=sm.facebook.politik&mc_cid=5a1b2c3d4e&mc_eid=f00ba12345&at_medium=social"
    "&gclid=Cj0KCQiA&ocid=msedgntp#kommentare"
)
CLEAN = LONG.split("?", 1)[0]
UTM = {"utm_source": "bluesky", "utm_medium": "social"}


def article(url: str = LONG, **kw: object) -> Article:
    fields: dict[str, object] = {
        "title": "Wladimir Putin verzweifelt: Kim Jong-un soll 100.000 Soldaten schicken",
        "teaser": "Seit über fünf Monaten tobt der von Wladimir Putin entfesselte Ukraine-Krieg.",
        "language": "de",
    }
    fields.update(kw)
    return Article(url=url, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (LONG, CLEAN),
        (
            "https://www.theguardian.com/world/2026/feb/10/story?CMP=share_btn_tw&page=2&gclid=x",
            "https://www.theguardian.com/world/2026/feb/10/story?CMP=share_btn_tw&page=2",
        ),
        (
            "https://WWW.Tagesschau.DE:443/inland/a-100.html#top",
            "https://www.tagesschau.de/inland/a-100.html",
        ),
        ("https://example.org/a?id=7&igshid=abc&_hsenc=p2&mkt_tok=q", "https://example.org/a?id=7"),
        (
            "https://www.courier-example.co.uk/news/local/grants?ref=homepage&page=2",
            "https://www.courier-example.co.uk/news/local/grants?page=2",
        ),
    ],
)
def test_clean_url_drops_click_ids_and_fragment_keeps_story_parameters(
    url: str, expected: str
) -> None:
    assert clean_url(url) == expected


def test_posted_link_is_the_cleaned_url_plus_the_channel_utm() -> None:
    posted = posted_link(LONG + "&utm_source=newsletter", UTM)
    assert posted == CLEAN + "?utm_source=bluesky&utm_medium=social"


def test_strip_and_keep_are_configurable() -> None:
    policy = parse_links({"strip": ["CMP"], "keep": ["ocid"]}, "t.toml")
    url = "https://example.org/a?CMP=share&ocid=portal&fbclid=x"
    assert clean_url(url, policy) == "https://example.org/a?ocid=portal"


def test_links_table_is_read_from_the_config(tmp_path: Path) -> None:
    cfg = tmp_path / "distributor.toml"
    cfg.write_text('[links]\nstrip = ["sc_cid"]\nkeep = ["wt_mc"]\n', encoding="utf-8")
    settings = load_config(cfg, environ={})
    assert settings.links.strips("sc_cid") and not settings.links.strips("wt_mc")
    x = Channel(name="x-news", platform="x", utm={"utm_source": "twitter"})
    draft = render(
        article("https://example.org/a?wt_mc=nl&sc_cid=1&fbclid=2"), x, settings=settings
    )
    assert "https://example.org/a?wt_mc=nl&utm_source=twitter" in draft.text


@pytest.mark.parametrize(
    "table",
    [
        '[links]\nstrip = "fbclid"\n',
        "[links]\nstrip = [1]\n",
        '[links]\ndrop = ["x"]\n',
        "links = 3\n",
    ],
)
def test_bad_links_table_is_one_clear_error(tmp_path: Path, table: str) -> None:
    cfg = tmp_path / "distributor.toml"
    cfg.write_text(table, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"distributor\.toml: \[links\]"):
        load_config(cfg, environ={})


def test_every_platform_posts_the_clean_link() -> None:
    image = Image(url="https://www.news.de/bilder/putin.jpg")  # the platforms that need one
    for platform in PLATFORMS:
        draft = render(article(image=image), Channel(name=platform, platform=platform, utm=UTM))
        assert "fbclid" not in draft.text and "#kommentare" not in draft.text
        assert draft.link == CLEAN + "?utm_source=bluesky&utm_medium=social"


def test_display_link_is_host_and_start_of_path() -> None:
    assert display_link(CLEAN + "?utm_source=x") == "news.de/politik/85644…"
    assert display_link("https://www.bbc.co.uk/news") == "bbc.co.uk/news"
    assert display_link("https://example.org/") == "example.org"


def test_bluesky_text_shows_the_short_link_and_the_facet_links_the_full_url() -> None:
    bluesky = Channel(name="bsky", platform="bluesky", utm=UTM)
    draft = render(article(), bluesky)
    assert draft.link == CLEAN + "?utm_source=bluesky&utm_medium=social"
    assert draft.link_text == "news.de/politik/85644…"
    assert draft.text.splitlines()[-1] == draft.link_text
    assert draft.length <= 300
    links = [f for f in facets(draft.text, (draft.link,), {draft.link_text: draft.link})]
    link_facets = [f for f in links if f["features"][0]["$type"].endswith("#link")]
    assert [f["features"][0]["uri"] for f in link_facets] == [draft.link]
    span = link_facets[0]["index"]
    raw = draft.text.encode("utf-8")
    assert raw[span["byteStart"] : span["byteEnd"]].decode("utf-8") == draft.link_text


def test_a_very_long_url_never_makes_a_bluesky_post_impossible() -> None:
    url = "https://www.news.de/" + "/".join(["politik-und-gesellschaft-im-ueberblick"] * 40)
    draft = render(article(url), Channel(name="bsky", platform="bluesky"))
    assert draft.length <= 300 and len(draft.text.encode("utf-8")) <= 3000
    assert draft.link == url and draft.link_text in draft.text


def test_bluesky_link_text_none_leaves_the_url_to_the_card() -> None:
    bluesky = Channel(name="bsky", platform="bluesky", options={"link_text": "none"})
    draft = render(article(), bluesky)
    assert "news.de" not in draft.text and draft.link == CLEAN
    images = Channel(
        name="bsky", platform="bluesky", options={"link_text": "none", "embed": "images"}
    )
    assert "news.de/politik" in render(article(), images).text  # no card: the link stays


def test_bluesky_link_text_full_and_bad_value() -> None:
    full = Channel(name="bsky", platform="bluesky", options={"link_text": "full"})
    draft = render(article(), full)
    assert draft.link in draft.text and not draft.link_text
    bad = Channel(name="bsky", platform="bluesky", options={"link_text": "tiny"})
    with pytest.raises(ConfigError, match="channel 'bsky' key 'link_text'"):
        render(article(), bad)
