"""Store contract for the social desk: the article-centred log (one row per article with all
its deliveries, filtered and keyset-paged in one statement) and account identities."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from store_helpers import T0

from distributor.article import Article
from distributor.errors import StoreError
from distributor.store.models import Filters, PlanItem, State
from distributor.store.store import Store


def _plan(store: Store, n: int, title: str, section: str | None = None, minutes: int = 0) -> str:
    art = Article(url=f"https://news.example/a/{n}", title=title, section=section)
    items = [
        PlanItem(c, p, f"acct-{c}", {"text": f"{title} on {c}"}, f"k-{n}-{c}", review=c == "sky")
        for c, p in (("masto", "mastodon"), ("sky", "bluesky"), ("tg", "telegram"))
    ]
    at = T0 + timedelta(minutes=minutes if minutes else n)
    return store.plan(art, items, source="test", now=at).article_id


def _statements(store: Store) -> list[str]:
    import sqlalchemy as sa

    seen: list[str] = []
    sa.event.listen(store._engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_one_row_per_article_with_every_channel(store: Store) -> None:
    a = _plan(store, 1, "Haushalt beschlossen", "Politik")
    b = _plan(store, 2, "Sturm erwartet")
    page, after = store.article_log(limit=10)
    assert [r.id for r in page] == [b, a] and after is None  # newest first
    assert page[1].title == "Haushalt beschlossen" and page[1].section == "Politik"
    assert page[0].section is None and page[0].url == "https://news.example/a/2"
    assert [d.channel for d in page[1].deliveries] == ["masto", "sky", "tg"]
    assert {d.state for d in page[1].deliveries} == {State.QUEUED, State.AWAITING_REVIEW}


def test_filters_pick_articles_but_rows_keep_all_channels(store: Store) -> None:
    a = _plan(store, 1, "Haushalt beschlossen")
    b = _plan(store, 2, "Sturm erwartet")
    sky = next(d for d in store.article_log()[0][0].deliveries if d.channel == "sky")
    store.transition(sky.id, State.CANCELLED, actor="test")
    found = store.article_log(Filters(states=(State.AWAITING_REVIEW,)))[0]
    assert [r.id for r in found] == [a]  # b's review was cancelled
    assert len(found[0].deliveries) == 3  # the row still shows every channel
    assert [r.id for r in store.article_log(Filters(search="sturm"))[0]] == [b]
    assert [r.id for r in store.article_log(Filters(search="on tg"))[0]] == [b, a]
    assert store.article_log(Filters(channel="nope"))[0] == []


def test_pages_neither_skip_nor_repeat_and_take_one_statement(store: Store) -> None:
    made = {_plan(store, n, f"Story {n}", minutes=1 + n // 3) for n in range(11)}  # equal times
    seen: list[str] = []
    after: str | None = None
    statements = _statements(store)
    pages = 0
    while True:
        page, after = store.article_log(limit=4, after=after)
        pages += 1
        seen += [r.id for r in page]
        assert all(len(r.deliveries) == 3 for r in page)
        if after is None:
            break
    assert len(seen) == 11 and set(seen) == made
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == pages


@pytest.mark.parametrize("bad", ["x", "1.5:", "nan:abc", "-1:abc", "1.0:a'b", "9e99:abc"])
def test_a_tampered_cursor_is_a_store_error(store: Store, bad: Any) -> None:
    with pytest.raises(StoreError, match="bad page cursor"):
        store.article_log(after=bad)


def test_titles_of_a_page_in_one_query(store: Store) -> None:
    a = _plan(store, 1, "Haushalt beschlossen")
    b = _plan(store, 2, "Sturm erwartet")
    statements = _statements(store)
    assert store.titles([a, b, a, "nope"]) == {a: "Haushalt beschlossen", b: "Sturm erwartet"}
    assert store.titles([]) == {}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_identity_from_check_is_kept_per_account(store: Store) -> None:
    assert store.accounts() == {}
    store.record_identity("acct-masto", "@desk@social.example", "https://social.example/@desk")
    store.mark_reauth("acct-sky", "token expired")
    store.record_identity("acct-masto", "@news@social.example", None, now=T0)
    got = store.accounts()
    assert got["acct-masto"].handle == "@news@social.example"
    assert got["acct-masto"].profile_url is None and got["acct-masto"].checked_at == T0
    assert got["acct-sky"].handle is None and got["acct-sky"].state.needs_reauth
