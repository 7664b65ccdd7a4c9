"""Store contract: claims, leases and fencing, transitions, rate reservations, pause."""

from __future__ import annotations

from datetime import timedelta

import pytest
from store_helpers import T0, article, attempt, item

from distributor.config import Rate
from distributor.errors import StaleLease, StoreError
from distributor.store.models import State
from distributor.store.store import Store
from distributor.testing import FakeClock


def _plan_two_accounts(store: Store) -> None:
    for n in range(3):
        store.plan(article(f"https://news.example/{n}"), [item("a", "acct-1"), item("b", "acct-2")])


def test_claim_one_per_account_oldest_first(store: Store, clock: FakeClock) -> None:
    _plan_two_accounts(store)
    got = store.claim("w1", lease_seconds=60, limit=10)
    assert sorted(c.delivery.account_key for c in got) == ["acct-1", "acct-2"]
    first = {c.delivery.account_key: c for c in got}
    assert first["acct-1"].delivery.article_id == store.get(1).article_id
    assert store.claim("w2", lease_seconds=60) == []  # both accounts have one in flight
    c = first["acct-1"]
    store.mark_sending(c.delivery.id, c.fence)
    store.finish(c.delivery.id, c.fence, "sent", attempt(T0), remote_id="r1", remote_url="u")
    nxt = store.claim("w2", lease_seconds=60)
    assert [x.delivery.account_key for x in nxt] == ["acct-1"]
    assert nxt[0].delivery.created_at >= c.delivery.created_at
    assert store.integrity_check() == []


def test_zombie_write_after_lease_takeover_is_rejected(store: Store, clock: FakeClock) -> None:
    store.plan(article(), [item()])
    (c,) = store.claim("w1", lease_seconds=30)
    store.mark_sending(c.delivery.id, c.fence)
    clock.advance(31)
    (stale,) = store.stale()
    assert stale.id == c.delivery.id and stale.state is State.SENDING
    store.transition(stale.id, State.UNKNOWN, actor="reconcile", reason="lease expired")
    with pytest.raises(StaleLease):
        store.finish(c.delivery.id, c.fence, "sent", attempt(T0), remote_id="r")
    assert store.get(c.delivery.id).state is State.UNKNOWN
    assert [d.id for d in store.unknown()] == [c.delivery.id]


def test_mark_sending_refused_after_lease_expiry(store: Store, clock: FakeClock) -> None:
    store.plan(article(), [item()])
    (c,) = store.claim("w1", lease_seconds=10)
    clock.advance(11)
    with pytest.raises(StaleLease, match="expired"):
        store.mark_sending(c.delivery.id, c.fence)
    renewed = store.claim("w2", lease_seconds=10)
    assert renewed == []  # still claimed (in flight) until reconcile releases it
    store.transition(c.delivery.id, State.QUEUED, actor="reconcile")
    (c2,) = store.claim("w2", lease_seconds=10)
    assert c2.fence == c.fence + 2


def test_retry_wait_becomes_due_and_records_attempts(store: Store, clock: FakeClock) -> None:
    store.plan(article(), [item()])
    (c,) = store.claim("w1", lease_seconds=60)
    store.mark_sending(c.delivery.id, c.fence)
    store.finish(
        c.delivery.id,
        c.fence,
        "retry",
        attempt(T0, "retry", "NotSent"),
        not_before=T0 + timedelta(seconds=120),
    )
    assert store.claim("w1", lease_seconds=60) == []
    clock.advance(121)
    (c2,) = store.claim("w1", lease_seconds=60)
    store.mark_sending(c2.delivery.id, c2.fence)
    store.finish(c2.delivery.id, c2.fence, "sent", attempt(T0), remote_id="r9")
    got = store.get(c.delivery.id)
    assert got.state is State.SENT and got.attempts == 2 and got.remote_id == "r9"
    assert [a.outcome for a in got.history] == ["retry", "sent"] and got.history[0].n == 1


def test_release_returns_to_queue(store: Store) -> None:
    store.plan(article(), [item()])
    (c,) = store.claim("w1", lease_seconds=60)
    assert store.release(c.delivery.id, c.fence).state is State.QUEUED
    with pytest.raises(StaleLease):
        store.release(c.delivery.id, c.fence)


def test_transitions_allowed_and_refused(store: Store) -> None:
    res = store.plan(article(), [item(review=True)])
    d = res.created[0]
    with pytest.raises(StoreError, match="cannot go from awaiting_review to sent"):
        store.transition(d.id, State.SENT, actor="alice")
    with pytest.raises(StoreError, match="cannot go"):
        store.transition(d.id, State.QUEUED, actor="alice", from_states=[State.FAILED])
    assert store.transition(d.id, State.QUEUED, actor="alice").state is State.QUEUED
    store.transition(d.id, State.CANCELLED, actor="bob", reason="wrong story")
    with pytest.raises(StoreError):
        store.transition(d.id, State.QUEUED, actor="bob")
    actions = [(e["actor"], e["action"]) for e in store.events(delivery_id=d.id)]
    assert ("bob", "queued->cancelled") in actions and (
        "alice",
        "awaiting_review->queued",
    ) in actions


def test_blocked_and_reauth_accounts_are_skipped(store: Store, clock: FakeClock) -> None:
    _plan_two_accounts(store)
    store.block_account("acct-1", T0 + timedelta(minutes=15), "429")
    store.mark_reauth("acct-2", "token revoked")
    assert store.claim("w1", lease_seconds=60) == []
    clock.advance(15 * 60)
    assert [c.delivery.account_key for c in store.claim("w1", lease_seconds=60)] == ["acct-1"]
    assert store.account("acct-2").needs_reauth


def test_pause_stops_claims(store: Store) -> None:
    store.plan(article(), [item()])
    store.pause("alice")
    assert store.paused() and store.claim("w1", lease_seconds=60) == []
    store.resume("alice")
    assert not store.paused() and len(store.claim("w1", lease_seconds=60)) == 1


@pytest.mark.parametrize("count,per", [(3, 60.0), (1, 5.0), (5, 900.0)])
def test_rate_never_exceeds_count_in_any_window(store: Store, count: int, per: float) -> None:
    rate = Rate(count, per)
    sends: list[float] = []
    t = 0.0
    for step in range(4 * count + 3):
        wait = store.reserve_send("acct-1", rate, now=T0 + timedelta(seconds=t))
        assert wait >= 0
        sends.append(t + wait)
        t += wait + (step % 3) * per / 7  # the worker sleeps `wait`, then works a bit
    for s in sends:
        # 1 ms tolerance: the test adds floats, the store keeps microsecond datetimes
        assert sum(1 for x in sends if s <= x < s + per - 1e-3) <= count
    assert sends[count] - sends[0] >= per - 1e-3


def test_rate_reservations_respect_block(store: Store) -> None:
    store.block_account("acct-1", T0 + timedelta(seconds=90))
    assert store.reserve_send("acct-1", Rate(10, 60), now=T0) == pytest.approx(90)


def test_audit_and_keyset_pagination(store: Store, clock: FakeClock) -> None:
    for n in range(7):
        store.plan(article(f"https://news.example/{n}"), [item("a", f"acct-{n}")])
        clock.advance(1)
    store.transition(1, State.CANCELLED, actor="alice")
    assert [d.id for d in store.audit()] == [2, 3, 4, 5, 6, 7]
    seen, cursor = [], None
    while True:
        page, cursor = store.query(limit=3, after=cursor)
        seen += [d.id for d in page]
        if cursor is None:
            break
    assert seen == [7, 6, 5, 4, 3, 2, 1]


@pytest.mark.parametrize(
    "cursor",
    [
        "1.0:9223372036854775808",  # one past the largest 64-bit id
        "1.0:-1",
        "1e400:1",  # an infinite time
        "nan:1",
        "1e300:1",  # a time no datetime can hold
        "1.0:" + "9" * 5000,  # more digits than int() converts
        "",
        ":",
    ],
)
def test_a_bad_page_cursor_is_a_store_error(store: Store, cursor: str) -> None:
    """Issue 13 finding 10: a tampered cursor was a 500 (an integer overflow in the driver)."""
    store.plan(article("https://news.example/c"), [item("a", "acct")])
    if not cursor:
        assert store.query(after=cursor)[0]  # empty: the first page
        return
    with pytest.raises(StoreError, match="bad page cursor"):
        store.query(after=cursor)


def test_admin_sessions_open_expire_and_revoke(store: Store, clock: FakeClock) -> None:
    """Issue 13 finding 6: sign-ins are rows, so logout can end them for every process."""
    store.open_admin_session("k1", "alice", "fp-a", seconds=3600)
    store.open_admin_session("k2", "token", "fp-t", seconds=60)
    one = store.admin_session("k1")
    assert one is not None and (one.user, one.credential) == ("alice", "fp-a")
    assert store.admin_session("nope") is None
    assert store.revoke_admin_session("k1") and not store.revoke_admin_session("k1")
    assert store.admin_session("k1") is None
    assert store.admin_session("k2") is not None
    clock.advance(61)
    assert store.admin_session("k2") is None  # expired
    clock.advance(86400)
    store.open_admin_session("k3", "alice", "fp-a", seconds=60)  # sweeps the old rows
    assert store.admin_session("k3") is not None
