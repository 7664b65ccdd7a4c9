"""Store contract: intermediate attempts, deferring a claim, reserve_send(max_wait), heartbeats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_helpers import T0, article, attempt, item

from distributor.config import Rate
from distributor.errors import StaleLease
from distributor.store.models import State
from distributor.store.store import Store
from distributor.testing import FakeClock


def test_record_attempt_appends_and_keeps_state(store: Store, clock: FakeClock) -> None:
    store.plan(article(), [item()])
    (c,) = store.claim("w1", lease_seconds=60)
    store.mark_sending(c.delivery.id, c.fence)
    mid = store.record_attempt(c.delivery.id, c.fence, attempt(T0, "retry", "NotSent"))
    assert mid.state is State.SENDING and mid.attempts == 1 and mid.error_kind == "NotSent"
    done = store.finish(c.delivery.id, c.fence, "sent", attempt(T0), remote_id="r", remote_url="u")
    assert done.attempts == 2
    hist = store.get(c.delivery.id).history
    assert [(a.n, a.outcome) for a in hist] == [(1, "retry"), (2, "sent")]
    with pytest.raises(StaleLease):
        store.record_attempt(c.delivery.id, c.fence, attempt(T0, "retry", "NotSent"))


def test_defer_keeps_the_account_busy_until_due(store: Store, clock: FakeClock) -> None:
    store.plan(article("https://news.example/1"), [item("a", "acct-1")])
    store.plan(article("https://news.example/2"), [item("a", "acct-1")])
    (c,) = store.claim("w1", lease_seconds=60)
    out = store.defer(c.delivery.id, c.fence, T0 + timedelta(seconds=30), reason="rate")
    assert out.state is State.RETRY_WAIT and out.attempts == 0 and out.lease_owner is None
    assert store.claim("w1", lease_seconds=60) == []  # order: the newer one must not jump
    clock.advance(31)
    (again,) = store.claim("w1", lease_seconds=60)
    assert again.delivery.id == c.delivery.id
    assert any(e["action"] == "deferred" for e in store.events(delivery_id=c.delivery.id))


def test_reserve_send_max_wait_reports_without_reserving(store: Store, clock: FakeClock) -> None:
    rate = Rate(1, 60)
    assert store.reserve_send("acct", rate) == 0
    assert store.reserve_send("acct", rate, max_wait=10) == pytest.approx(60)
    assert store.reserve_send("acct", rate, max_wait=10) == pytest.approx(60)  # nothing taken
    clock.advance(60)
    assert store.reserve_send("acct", rate, max_wait=10) == 0


def test_heartbeat_and_article_lookup(store: Store, clock: FakeClock) -> None:
    store.heartbeat("w1")
    clock.advance(5)
    store.heartbeat("w1")
    (w,) = store.workers()
    assert w["id"] == "w1" and w["heartbeat_at"] == T0 + timedelta(seconds=5)
    a = article("https://news.example/x", guid="g-1")
    assert store.article_id_for(a.identity_keys()) is None
    res = store.plan(a, [item()])
    assert store.article_id_for(["guid:g-1"]) == res.article_id
