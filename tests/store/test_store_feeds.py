"""Store contract for `distributor watch`: feed poll state, known articles, the remembered
backlog, and migration 3 on an existing store (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import timedelta

from store_helpers import T0, article, item

from distributor.store import open_store
from distributor.store.models import Filters
from distributor.store.store import Store
from distributor.testing import FakeClock

URL = "https://www.example.de/rss"


def test_poll_state_keeps_validators_through_304_and_errors(store: Store) -> None:
    assert store.feed_state(URL) is None
    first = store.record_poll(
        URL, "fetched", ok=True, validators=('"v1"', "Wed, 01 Apr 2026 08:00:00 GMT"),
        items=20, new=0, baseline=True, now=T0,
    )  # fmt: skip
    assert (first.etag, first.seen_count, first.polls, first.baseline_at) == ('"v1"', 20, 1, T0)
    later = T0 + timedelta(minutes=2)
    same = store.record_poll(URL, "not modified", ok=True, now=later)
    assert (same.etag, same.last_modified, same.seen_count) == (
        '"v1"', "Wed, 01 Apr 2026 08:00:00 GMT", 20,
    )  # fmt: skip
    assert (same.last_status, same.polls, same.last_polled) == ("not modified", 2, later)
    failed = store.record_poll(URL, "error", ok=False, error="x: timed out")
    failed = store.record_poll(URL, "error", ok=False, error="x: timed out")
    assert (failed.failures, failed.last_error, failed.etag) == (2, "x: timed out", '"v1"')
    again = store.record_poll(
        URL, "fetched", ok=True, validators=(None, None), items=21, new=1, baseline=True
    )
    assert (again.failures, again.etag, again.new_count, again.baseline_at) == (0, None, 1, T0)
    assert [s.url for s in store.feed_states()] == [URL]


def test_error_before_any_success_leaves_the_feed_without_baseline(store: Store) -> None:
    state = store.record_poll(URL, "error", ok=False, error="HTTP 404")
    assert state.baseline_at is None and state.failures == 1 and state.seen_count == 0


def test_remembered_articles_are_known_by_every_identity_key(store: Store) -> None:
    seen = [article(f"https://news.example/a/{n}", guid=f"cms-{n}") for n in range(3)]
    assert store.known_articles(seen) == [False] * 3
    assert store.remember(seen, source="watch:feed") == 3
    assert store.query(Filters(), limit=10)[0] == []  # known, but nothing to deliver
    same_guid = article("https://news.example/moved", guid="cms-1")
    tracked = article("https://NEWS.example/a/2?utm_source=rss#top")
    new = article("https://news.example/a/9")
    assert store.known_articles([same_guid, tracked, new]) == [True, True, False]
    again = store.remember([seen[0]], source="watch:other")
    assert again == 1 and store.article_id_for(seen[0].identity_keys()) == seen[0].article_id


def test_remembered_article_keeps_its_id_when_planned_later(store: Store) -> None:
    a = article("https://news.example/a/1", guid="cms-1")
    store.remember([a], source="watch:feed")
    result = store.plan(article("https://news.example/renamed", guid="cms-1"), [item()])
    assert result.article_id == a.article_id and len(result.created) == 1


def test_known_articles_in_chunks(store: Store) -> None:
    many = [article(f"https://news.example/a/{n}", guid=f"g{n}") for n in range(700)]
    store.remember(many[::2], source="watch:feed")
    assert store.known_articles(many) == [n % 2 == 0 for n in range(700)]


def test_recent_feed_items_newest_first_with_their_fields(store: Store) -> None:
    """The compose page's "recent feed item" list and the article it picks."""
    for n in range(4):
        when = T0 + timedelta(minutes=n)
        store.remember([article(f"https://news.example/a/{n}")], source="watch:feed", now=when)
    store.remember([article("https://news.example/cli")], source="publish:file.json")
    store.remember([article("https://news.example/pct")], source="watch%:odd")  # no wildcard
    recent = store.recent_articles("watch:", 3)
    assert [r["canonical_url"] for r in recent] == [
        f"https://news.example/a/{n}" for n in (3, 2, 1)
    ]
    assert recent[0]["first_seen"] == T0 + timedelta(minutes=3)
    assert not any(r["planned"] for r in recent)
    store.plan(article("https://news.example/a/2"), [item()])
    assert [r["planned"] for r in store.recent_articles("watch:", 3)] == [False, True, False]
    data = store.article_data(recent[0]["id"])
    assert data is not None and data["url"] == "https://news.example/a/3"
    assert store.article_data("nope") is None


def test_migration_3_adds_the_feeds_table_to_an_older_store(store_url: str) -> None:
    import sqlalchemy as sa

    clock = FakeClock(T0)
    s = open_store(store_url, clock=clock)
    with s._engine.begin() as conn:  # make it a version-2 store
        conn.execute(sa.text("DROP TABLE feeds"))
        conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 3"))
        conn.execute(
            sa.text("INSERT INTO schema_version (version, applied_at) VALUES (2, 0)")
            if not conn.execute(sa.text("SELECT 1 FROM schema_version WHERE version = 2")).first()
            else sa.text("SELECT 1")
        )
    s.close()
    s = open_store(store_url, clock=clock)
    try:
        assert s.record_poll(URL, "fetched", ok=True, items=1).polls == 1
    finally:
        s.close()
