"""Planning: routed + rendered articles become deliveries, once, in one transaction per article."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from locations import REPO

from distributor.article import Article
from distributor.config import Channel, Settings, load_config
from distributor.planning import ArticlePlan, account_key, plan_previews, publish
from distributor.platforms.keys import delivery_key
from distributor.service import preview
from distributor.store.models import State
from distributor.store.store import Store

T0 = datetime(2026, 4, 2, 8, 30, tzinfo=UTC)
SECRETS = {"MASTO_TOKEN": "masto-SECRET-123", "TG_TOKEN": "1:tg-SECRET-abc", "BSKY_PW": "bs-SECRET"}
CONFIG = """
[distributor]
templates = "templates"

[channels.masto]
platform = "mastodon"
access_token_env = "MASTO_TOKEN"

[channels.tg]
platform = "telegram"
chat_id = "@news"
bot_token_env = "TG_TOKEN"
review = true

[channels.sky]
platform = "bluesky"
handle = "news.example"
app_password_env = "BSKY_PW"
delay = "10m"

[channels.sport]
platform = "mastodon"
access_token_env = "MASTO_TOKEN"
sections = ["Sport"]
template = "fragile.txt.j2"
"""
# Fails (StrictUndefined) for articles whose title mentions "Boom": a per-article render error.
FRAGILE = "{% if 'Boom' in title %}{{ no_such_variable }}{% endif %}{{ title }} {{ link }}\n"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "fragile.txt.j2").write_text(FRAGILE, encoding="utf-8")
    (tmp_path / "distributor.toml").write_text(CONFIG, encoding="utf-8")
    return load_config(tmp_path / "distributor.toml", environ=SECRETS)


def _art(
    n: int = 1, section: str = "Politik", title: str = "Ein Titel", guid: str | None = None
) -> Article:
    return Article(url=f"https://news.example/p/{n}", title=title, section=section, guid=guid)


def _plan(
    settings: Settings, store: Store | None, *arts: Article, dry: bool = False
) -> list[ArticlePlan]:
    return plan_previews(preview(list(arts), config=settings), store, dry_run=dry, now=T0)


def test_plans_one_delivery_per_routed_channel(settings: Settings, store: Store) -> None:
    art = _art()
    (plan,) = _plan(settings, store, art)
    by = {d.channel: d for d in plan.created}
    assert sorted(by) == ["masto", "sky", "tg"] and plan.existing == ()
    assert plan.skipped[0][0] == "sport" and "section" in plan.skipped[0][1]
    texts = {i.channel.name: i.draft.text for i in preview(art, config=settings) if i.draft}
    for name, d in by.items():
        assert d.idem_key == delivery_key(plan.article_id, name)
        assert d.draft["text"] == texts[name]  # exactly what preview shows
    assert by["masto"].state is State.QUEUED and by["masto"].not_before is None
    assert by["tg"].state is State.AWAITING_REVIEW  # review = true
    assert by["sky"].not_before == T0 + timedelta(minutes=10)  # delay = "10m"


def test_account_keys_name_the_account_never_a_secret(settings: Settings) -> None:
    keys = {c.name: account_key(c) for c in settings.channels}
    assert keys["tg"] == "telegram:@news" and keys["sky"] == "bluesky:news.example"
    assert keys["masto"] == keys["sport"] == "mastodon:MASTO_TOKEN"  # same token, same account
    assert not any(secret in json.dumps(keys) for secret in SECRETS.values())
    assert account_key(Channel("c", "x", account="newsroom-x")) == "newsroom-x"


def test_the_same_article_again_plans_nothing(settings: Settings, store: Store) -> None:
    (first,) = _plan(settings, store, _art())
    same = Article(url="https://NEWS.example/p/1?utm_source=feed#top", title="Edited title")
    (again,) = _plan(settings, store, same)
    assert again.created == () and again.article_id == first.article_id
    assert sorted(again.known_channels) == sorted(first.new_channels)
    assert sum(store.counts_by_state().values()) == 3


def test_an_article_known_by_guid_keeps_its_id_and_keys(settings: Settings, store: Store) -> None:
    (first,) = _plan(settings, store, _art(guid="cms-42"))
    moved = Article(url="https://news.example/moved/1", title="Ein Titel", guid="cms-42")
    (again,) = _plan(settings, store, moved)
    assert again.created == () and again.article_id == first.article_id


def test_dry_run_writes_nothing_and_knows_what_exists(settings: Settings, store: Store) -> None:
    (dry,) = _plan(settings, store, _art(), dry=True)
    assert sorted(dry.would_create) == ["masto", "sky", "tg"] and dry.created == ()
    assert sum(store.counts_by_state().values()) == 0
    _plan(settings, store, _art())
    (dry,) = _plan(settings, store, _art(), dry=True)
    assert dry.would_create == () and sorted(dry.known_channels) == ["masto", "sky", "tg"]


def test_dry_run_creates_no_database(settings: Settings, tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    report = publish(_art(), config=settings, dry_run=True, database=f"sqlite:///{db}")
    assert not db.exists() and sorted(report.plans[0].new_channels) == ["masto", "sky", "tg"]


def test_a_render_error_plans_nothing_for_that_article(settings: Settings, store: Store) -> None:
    good, bad = _art(1, "Sport"), _art(2, "Sport", title="Boom im Stadion")
    plans = _plan(settings, store, good, bad)
    assert [len(p.created) for p in plans] == [4, 0]
    assert plans[1].error is not None and "'sport'" in plans[1].error
    assert "no_such_variable" in plans[1].error and plans[1].error.startswith(bad.url)
    assert store.query()[0] and {d.article_id for d in store.query()[0]} == {plans[0].article_id}


def test_publish_api_plans_through_the_configured_store(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    feed = str(REPO / "examples" / "articles" / "feed.xml")
    first = publish(feed, config=settings, database=url, channels=["masto"])
    again = publish(feed, config=settings, database=url, channels=["masto"])
    assert len(first.plans) >= 2 and all(len(p.created) == 1 for p in first.plans)
    assert all(p.created == () and p.known_channels == ["masto"] for p in again.plans)
    assert first.errors == [] and first.outcomes == []
