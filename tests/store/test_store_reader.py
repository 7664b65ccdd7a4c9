"""The SQLAlchemy-free read of an SQLite post log (`distributor log`): the same deliveries in
the same order as `Store.query` for every filter it takes, and None (open the Store) for what
it does not answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from store_helpers import T0

from distributor.actions import all_deliveries
from distributor.article import Article
from distributor.store import open_store, reader
from distributor.store.models import Filters, PlanItem, State
from distributor.store.store import Store

CHANNELS = (("masto", "mastodon"), ("sky", "bluesky"), ("tg", "telegram"))


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('reader') / 'log.db'}"
    store = open_store(url)
    for n in range(260):  # 780 deliveries: more than one of the Store's pages of 500
        art = Article(url=f"https://news.example/a/{n}", title=f"Story {n}")
        items = [
            PlanItem(c, p, f"acct-{c}", {"text": f"Story {n} on {c}", "n": n}, f"k-{n}-{c}")
            for c, p in CHANNELS
        ]
        store.plan(art, items, source="test", now=T0 + timedelta(minutes=n // 2))
    for i in range(1, 781, 7):
        store.transition(i, State.CANCELLED, actor="test")
    yield store, url
    store.close()


CASES = [
    Filters(),
    Filters(states=(State.CANCELLED,)),
    Filters(states=(State.CANCELLED, State.QUEUED), channels=("sky", "tg")),
    Filters(channel="masto", since=T0 + timedelta(minutes=30)),
    Filters(platform="telegram", until=T0 + timedelta(minutes=60)),
    Filters(since=T0 + timedelta(minutes=10), until=T0 + timedelta(minutes=11)),
    Filters(channel="nope"),
]


@pytest.mark.parametrize("limit", [None, 1, 50, 600])
@pytest.mark.parametrize("filters", CASES)
def test_the_same_deliveries_as_the_store(
    filled: tuple[Store, str], filters: Filters, limit: int | None
) -> None:
    store, url = filled
    if filters == Filters():
        aid = store.query(limit=1)[0][0].article_id  # an article's own deliveries too
        assert reader.deliveries(url, Filters(article_id=aid), limit) == list(
            all_deliveries(store, Filters(article_id=aid), limit)
        )
    got = reader.deliveries(url, filters, limit)
    assert got == list(all_deliveries(store, filters, limit))
    assert got is not None and (got or filters.channel == "nope")


def test_every_filter_is_applied_or_left_to_the_store() -> None:
    import inspect

    source = inspect.getsource(reader._where)
    for field in dataclasses.fields(Filters):
        assert f"f.{field.name}" in source or field.name in reader._STORE_ONLY, field.name


def test_what_only_the_store_answers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    store = open_store(url)
    assert reader.deliveries(url, Filters(), 10) == []
    assert reader.deliveries(url, Filters(search="Story 1"), 10) is None
    assert reader.deliveries("postgresql://u@127.0.0.1/x", Filters(), 10) is None
    assert reader.deliveries("sqlite:///:memory:", Filters(), 10) is None
    missing = tmp_path / "nothing.db"
    assert reader.deliveries(f"sqlite:///{missing}", Filters(), 10) is None
    assert not missing.exists()  # not created by looking
    with store._engine.begin() as conn:  # a store from before the last migration
        conn.exec_driver_sql(
            "DELETE FROM schema_version WHERE version = (SELECT MAX(version) FROM schema_version)"
        )
    assert reader.deliveries(url, Filters(), 10) is None
    store.close()
