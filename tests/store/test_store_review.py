"""Store contract for the review side: channel lists in `query`, `article`, edited drafts."""

from __future__ import annotations

import pytest
from store_helpers import T0, article, item

from distributor.errors import StoreError
from distributor.store.models import Filters, State
from distributor.store.store import Store


def test_query_filters_by_any_of_several_channels(store: Store) -> None:
    store.plan(article(), [item("masto", "a1"), item("x", "a2"), item("sky", "a3")])
    page, _ = store.query(Filters(channels=("masto", "sky")), limit=10)
    assert sorted(d.channel for d in page) == ["masto", "sky"]
    page, _ = store.query(Filters(channels=("masto", "sky"), channel="sky"), limit=10)
    assert [d.channel for d in page] == ["sky"]


def test_article_returns_the_stored_story(store: Store) -> None:
    res = store.plan(article(guid="g-1"), [item()], source="feed")
    got = store.article(res.article_id)
    assert got is not None
    assert got["canonical_url"] == "https://news.example/a/1" and got["guid"] == "g-1"
    assert got["title"] == "A story" and got["source"] == "feed" and got["first_seen"] == T0
    assert store.article("nope") is None


def test_transition_replaces_the_draft_atomically(store: Store) -> None:
    [d] = store.plan(article(), [item(review=True)]).created
    new = {**d.draft, "text": "edited"}
    got = store.transition(
        d.id, State.QUEUED, actor="ed", draft=new, from_states=[State.AWAITING_REVIEW]
    )
    assert got.draft["text"] == "edited" and store.get(d.id).draft == new
    with pytest.raises(StoreError):  # a refused transition leaves the draft alone
        store.transition(
            d.id,
            State.QUEUED,
            actor="ed",
            draft={"text": "no"},
            from_states=[State.AWAITING_REVIEW],
        )
    assert store.get(d.id).draft["text"] == "edited"
