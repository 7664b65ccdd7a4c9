"""Keyset pages neither skip nor repeat a row when the stored times have more digits than a
datetime keeps (time.time() has them): the cursor carries the stored time, not a rounded one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_helpers import T0

from distributor.article import Article
from distributor.store.models import PlanItem, to_ts
from distributor.store.store import Store

CHANNELS = ("a", "b", "c", "d", "e")


def _plan(store: Store, articles: int, offset: float) -> None:
    """Every article's deliveries share one creation time `offset` past a whole microsecond."""
    d, art = store._t["deliveries"], store._t["articles"]
    for n in range(articles):
        article = Article(url=f"https://news.example/a/{n}", title=f"Story {n}")
        items = [PlanItem(c, "mastodon", f"acct-{c}", {"text": c}, f"k-{n}-{c}") for c in CHANNELS]
        planned = store.plan(article, items, source="test", now=T0 + timedelta(seconds=n))
        ts = to_ts(T0 + timedelta(seconds=n)) + offset
        with store._engine.begin() as conn:
            conn.execute(
                d.update().where(d.c.article_id == planned.article_id).values(created_at=ts)
            )
            conn.execute(art.update().where(art.c.id == planned.article_id).values(first_seen=ts))


@pytest.mark.parametrize("offset", [0.0000004, 0.0000006])  # rounds down / up to a microsecond
def test_delivery_pages_keep_every_row_once(store: Store, offset: float) -> None:
    _plan(store, 4, offset)
    seen: list[int] = []
    after: str | None = None
    for _ in range(20):  # a cursor that repeats a row would page for ever
        page, after = store.query(limit=3, after=after)  # edges fall inside an article's group
        seen += [d.id for d in page]
        if after is None:
            break
    assert sorted(seen) == list(range(1, 21))
    assert len(seen) == 20


@pytest.mark.parametrize("offset", [0.0000004, 0.0000006])
def test_article_pages_keep_every_article_once(store: Store, offset: float) -> None:
    _plan(store, 7, offset)
    art = store._t["articles"]
    with store._engine.begin() as conn:  # two articles first seen at the very same time
        conn.execute(art.update().values(first_seen=to_ts(T0) + offset))
    seen: list[str] = []
    after: str | None = None
    for _ in range(20):
        page, after = store.article_log(limit=2, after=after)
        seen += [r.id for r in page]
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 7
