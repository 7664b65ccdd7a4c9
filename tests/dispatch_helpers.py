"""What the dispatch tests share: a settings object, planned posts on a real store, a Dispatcher
with fake adapters on a fake clock, and platform errors of channel "a"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from distributor.article import Article
from distributor.config import Channel, Settings
from distributor.dispatch import Dispatcher, Policy
from distributor.platforms.base import Draft
from distributor.platforms.keys import delivery_key
from distributor.store.models import PlanItem
from distributor.store.store import Store
from distributor.testing import FakeClock

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY = Policy(attempts=3, backoff=1.0, max_backoff=8.0, budget=60.0, jitter=0.5, give_up_after=6)


def settings_of(*channels: Channel) -> Settings:
    return Settings(path=None, channels=channels or (Channel("a", "mastodon"),))


def plan_posts(
    store: Store, n: int, channel: str = "a", account: str | None = None, start: int = 0
) -> list[int]:
    """Plan `n` Mastodon posts on `channel` (one article each); their delivery ids."""
    ids = []
    for i in range(start, start + n):
        art = Article(url=f"https://news.example/{channel}/{i}", title=f"Story {i}")
        draft = Draft(channel, "mastodon", art.article_id, f"text {i}", art.url)
        key = delivery_key(art.article_id, channel)
        item = PlanItem(channel, "mastodon", account or f"acct-{channel}", draft.to_dict(), key)
        ids += [d.id for d in store.plan(art, [item]).created]
    return ids


def make_dispatcher(
    store: Store, clock: FakeClock, adapters: dict[str, Any], *channels: Channel, **kw: Any
) -> Dispatcher:
    """A Dispatcher whose channel `name` sends through `adapters[name]`."""
    return Dispatcher(
        settings_of(*channels),
        store,
        adapter_for=lambda ch: adapters[ch.name],
        clock=clock,
        worker_id="w-test",
        policy=kw.pop("policy", POLICY),
        **kw,
    )


def error_of(cls: type, detail: str = "boom", **kw: Any) -> Any:
    """A platform error of class `cls` on Mastodon channel "a"."""
    return cls("mastodon", "a", detail, **kw)
