"""Scheduling in the store contract (SQLite and PostgreSQL): spacing under three concurrent
workers, held and embargoed deliveries never claimed, breaking news first, reschedule checks."""

from __future__ import annotations

import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from store_helpers import T0, article, item

from distributor.config import Channel
from distributor.errors import StoreError
from distributor.planning import publish
from distributor.store import open_store
from distributor.store.models import PlanItem, State
from distributor.store.store import Store
from distributor.testing import FakeClock

sys.path.insert(0, str(Path(__file__).parents[1] / "schedule"))
import itertools

from sched_helpers import Recorder, art, dispatcher, settings

GAP = 300.0


def test_spacing_holds_under_three_concurrent_workers(
    store: Store, store_url: str, clock: FakeClock
) -> None:
    channels = [Channel(f"c{k}", "mastodon", account=f"acct-{k}", min_gap=GAP) for k in range(3)]
    conf = settings(*channels)
    for n in range(10):
        publish(art(n), config=conf, store=store, clock=clock)
    rec = {c.name: Recorder(clock=clock) for c in channels}
    stores = [open_store(store_url, clock=clock) for _ in range(3)]
    workers = [dispatcher(conf, s, clock, rec, f"w{i}") for i, s in enumerate(stores)]
    claimed = [0, 0, 0]
    done = threading.Event()

    def tick() -> None:  # all three idle in a round: virtual time jumps to the next slot
        if not any(claimed):
            due = store.next_due()
            if due is None:
                done.set()
            else:
                clock.advance(max((due - clock.now()).total_seconds(), 1.0))
        claimed[:] = [0, 0, 0]

    barrier = threading.Barrier(3, action=tick)

    def work(i: int) -> None:
        while not done.is_set():
            claimed[i] = len(workers[i].run_once())
            barrier.wait(timeout=60)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for s in stores:
        s.close()
    for c in channels:
        sent = [t for _, t in rec[c.name].sent]
        assert len(sent) == len(set(rec[c.name].posts)) == 10  # each sent once
        gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent)]
        assert min(gaps) >= GAP, gaps  # no two posts of a channel closer than min_gap
        assert sent[-1] - T0 == timedelta(seconds=9 * GAP)  # and no slower than needed
    assert store.counts_by_state()[State.SENT.value] == 30


def _planned(store: Store, n: int, **kw: object) -> int:
    it = item()
    fields = {"priority": 0, "embargo_until": None, "not_before": None} | kw
    plan_item = PlanItem(it.channel, it.platform, it.account_key, it.draft, f"k{n}", **fields)  # type: ignore[arg-type]
    return store.plan(article(f"https://news.example/{n}"), [plan_item]).created[0].id


def test_claim_skips_held_and_embargoed_and_takes_breaking_first(store: Store) -> None:
    held = _planned(store, 1)
    store.set_schedule([held], actor="ed", held=True)
    _planned(store, 2, embargo_until=T0 + timedelta(hours=1))
    normal = _planned(store, 3)
    breaking = _planned(store, 4, priority=1)
    got = store.claim("w", lease_seconds=60)
    assert [c.delivery.id for c in got] == [breaking]  # one per account: the breaking one
    store.release(got[0].delivery.id, got[0].fence)
    store.set_schedule([breaking], actor="ed", held=True)
    assert [c.delivery.id for c in store.claim("w", lease_seconds=60)] == [normal]
    later = store.claim("w", lease_seconds=60, now=T0 + timedelta(hours=2))
    assert later == []  # the account is busy with `normal`
    assert store.get(held).held and not store.get(normal).held


def test_reschedule_refuses_in_flight_and_before_the_embargo(store: Store) -> None:
    emb = T0 + timedelta(hours=3)
    d = _planned(store, 1, embargo_until=emb)
    with pytest.raises(StoreError, match="under embargo until"):
        store.set_schedule([d], actor="ed", not_before=emb - timedelta(minutes=1))
    out = store.set_schedule([d], actor="ed", not_before=emb + timedelta(hours=1))
    assert out[0].not_before == emb + timedelta(hours=1)
    other = _planned(store, 2)
    c = store.claim("w", lease_seconds=60)[0]
    assert c.delivery.id == other
    with pytest.raises(StoreError, match=f"delivery {other} is claimed"):
        store.set_schedule([other], actor="ed", held=True)
    assert next(e["action"] for e in store.events(delivery_id=d)) == "reschedule"


def test_gap_reservations_are_shared(store: Store, store_url: str) -> None:
    other = open_store(store_url)
    try:
        assert store.reserve_gap("c", 60, now=T0) == 0
        assert other.reserve_gap("c", 60, now=T0, max_wait=10) == 60  # reported, not taken
        assert other.reserve_gap("c", 60, now=T0) == 60
        assert store.reserve_gap("c", 60, now=T0 + timedelta(seconds=30)) == 90
        last, nxt = store.gaps()["c"]
        assert nxt - last == timedelta(seconds=60) and last == T0 + timedelta(seconds=120)
    finally:
        other.close()


def test_next_due_reads_the_schedule(store: Store) -> None:
    assert store.next_due() is None
    _planned(store, 1, not_before=T0 + timedelta(minutes=5))
    _planned(store, 2, not_before=T0 + timedelta(minutes=1), embargo_until=T0 + timedelta(hours=1))
    assert store.next_due() == T0 + timedelta(minutes=5)
    assert isinstance(store.next_due(), datetime)
