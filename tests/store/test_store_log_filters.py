"""Store contract for the admin post log's filters: platform, until, title/text search, and
keyset pages that neither skip nor repeat rows with equal creation times."""

from __future__ import annotations

from datetime import timedelta

from store_helpers import T0

from distributor.article import Article
from distributor.store.models import Filters, PlanItem
from distributor.store.store import Store


def _plan(store: Store, n: int, title: str, text: str, platform: str = "mastodon") -> str:
    art = Article(url=f"https://news.example/a/{n}", title=title)
    item = PlanItem(f"c{n}", platform, f"acct-{n}", {"text": text}, f"k-{n}")
    return store.plan(art, [item], source="test", now=T0 + timedelta(minutes=n)).article_id


def _found(store: Store, **filters: object) -> set[str]:
    page, _ = store.query(Filters(**filters), limit=50)  # type: ignore[arg-type]
    return {d.article_id for d in page}


def test_search_title_and_text_any_case_with_literal_wildcards(store: Store) -> None:
    a = _plan(store, 1, "Haushalt für 2027", "Der Rat hat beschlossen")
    b = _plan(store, 2, "Wetter", "Sturm über 50% der Brücke_1", platform="bluesky")
    assert _found(store, search="HAUSHALT") == {a}  # title, case-insensitive
    assert _found(store, search="für 2027") == {a}  # non-ASCII in the title
    assert _found(store, search="über 50%") == {b}  # non-ASCII in the JSON post text
    assert _found(store, search="50%") == {b} and _found(store, search="%") == {b}
    assert _found(store, search="e_1") == {b} and _found(store, search="_") == {b}
    assert _found(store, search="nothing like it") == set()
    assert _found(store, platform="bluesky") == {b}
    assert _found(store, until=T0 + timedelta(minutes=2)) == {a}
    assert _found(store, since=T0 + timedelta(minutes=2), search="Sturm") == {b}


def test_pages_with_equal_creation_times_neither_skip_nor_repeat(store: Store) -> None:
    art = Article(url="https://news.example/same", title="Same time")
    items = [PlanItem(f"c{i}", "mastodon", f"acct-{i}", {"text": "x"}, f"k{i}") for i in range(7)]
    store.plan(art, items, source="test", now=T0)
    seen, after = [], None
    while True:
        page, after = store.query(Filters(), limit=3, after=after)
        seen += [d.id for d in page]
        if after is None:
            break
    assert len(seen) == 7 == len(set(seen)) and seen == sorted(seen, reverse=True)
