"""Store contract under concurrency: several workers (threads) share one queue and one rate."""

from __future__ import annotations

import threading

import pytest
from store_helpers import T0, article, attempt, item

from distributor.config import Rate
from distributor.store.claim import _CLAIM_LOCKS
from distributor.store.models import State
from distributor.store.store import Store


def test_workers_share_queue_without_double_claims(store: Store) -> None:
    for n in range(6):
        store.plan(
            article(f"https://news.example/{n}"), [item(f"c{k}", f"acct-{k}") for k in range(3)]
        )
    sent: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        for _ in range(60):
            for c in store.claim(name, lease_seconds=60, limit=2):
                store.mark_sending(c.delivery.id, c.fence)
                problems = store.integrity_check()
                assert not [p for p in problems if "in flight" in p], problems
                with lock:  # recorded while still in flight, so the list shows claim order
                    sent.append(c.delivery.id)
                store.finish(c.delivery.id, c.fence, "sent", attempt(T0), remote_id=name)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(sent) == list(range(1, 19))  # each delivery sent exactly once
    assert store.counts_by_state()[State.SENT.value] == 18
    by_account: dict[str, list[int]] = {}
    for d in store.query(limit=100)[0]:
        by_account.setdefault(d.account_key, []).append(d.id)
    for ids in by_account.values():  # per-account order: sent in the order planned
        sent_order = [i for i in sent if i in ids]
        assert sent_order == sorted(sent_order)


def test_a_claim_passes_over_an_account_another_claim_is_taking(store: Store) -> None:
    """PostgreSQL claims lock per account, not all at once: while another worker is in the
    middle of claiming acct-0, a claim goes on with the other accounts instead of waiting."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite claims take the write lock: one claim at a time by design")
    import sqlalchemy as sa

    store.plan(article(), [item("c0", "acct-0"), item("c1", "acct-1")])
    with store._engine.connect() as other, other.begin():  # the other worker's claim
        lock = "SELECT pg_try_advisory_xact_lock(:space, hashtext('acct-0'))"
        assert other.execute(sa.text(lock), {"space": _CLAIM_LOCKS}).scalar()
        got = store.claim("w1", lease_seconds=60, limit=2)
        assert [c.delivery.account_key for c in got] == ["acct-1"]
    # its transaction over (it claimed nothing), acct-0 is free for the next claim
    got = store.claim("w2", lease_seconds=60, limit=2)
    assert [c.delivery.account_key for c in got] == ["acct-0"]


def test_concurrent_reservations_keep_the_rate(store: Store) -> None:
    rate = Rate(4, 60)
    slots: list[float] = []
    lock = threading.Lock()

    def reserve() -> None:
        for _ in range(5):
            wait = store.reserve_send("acct-1", rate, now=T0)
            with lock:
                slots.append(wait)

    threads = [threading.Thread(target=reserve) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    slots.sort()
    assert len(slots) == 15
    for s in slots:
        assert sum(1 for x in slots if s <= x < s + 60 - 1e-6) <= 4
    assert slots[-1] >= 3 * 60  # 15 sends at 4/min need at least three further windows
