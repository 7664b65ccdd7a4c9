"""Hostile feeds (issue 13 findings 5 and 7): a NUL entity in one item, a DOCTYPE with an
internal entity; on SQLite and on a real PostgreSQL (which refuses NUL in text)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hook_helpers import database_url
from watch_helpers import BACKLOG, FeedServer, Item, deliveries, poller, rss, url_feed

from distributor.store import open_store
from distributor.store.store import Store
from distributor.testing import FakeClock


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    s = open_store(database_url(request.param, tmp_path), clock=clock)
    yield s
    s.close()


def test_an_item_with_a_nul_entity_is_skipped_and_newer_items_are_planned(
    tmp_path: Path, server: FeedServer, any_store: Store, clock: FakeClock
) -> None:
    p = poller(tmp_path, any_store, clock)
    feed = url_feed(p, server.url("/feed"))
    server.set("/feed", rss(BACKLOG))
    assert p.poll(feed).ok  # the baseline
    newest = [Item(7), Item(6, title="Kaputt &#0; Meldung"), *BACKLOG]
    server.set("/feed", rss(newest).replace(b"&amp;#0;", b"&#0;"))
    for _ in range(2):  # every later poll too: the broken item never blocks the feed
        result = p.poll(feed)
        assert result.ok and result.error is None, result.error
    assert [url for url, _ in deliveries(any_store)] == [
        "https://news.example/politik/meldung-7"
    ] * 2
