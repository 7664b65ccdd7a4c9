"""The tries of one send (dispatch/retries.py): tenacity only after a failed first try, and the
retries then as if tenacity had made that try (its error, its start, the budget from before it)."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from distributor.article import Article
from distributor.config import Channel, Settings
from distributor.dispatch import Dispatcher, Policy
from distributor.dispatch.retries import with_retries
from distributor.dispatch.send import Context
from distributor.errors import MaybeSent, NotSent, PublishError
from distributor.platforms.base import Draft, Receipt
from distributor.platforms.keys import delivery_key
from distributor.store.models import Delivery, PlanItem, State
from distributor.store.store import Store
from distributor.testing import FakeAdapter, FakeClock

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY = Policy(attempts=3, backoff=2.0, max_backoff=8.0, budget=60.0, jitter=0.0)


def _planned(store: Store) -> Delivery:
    art = Article(url="https://news.example/retries", title="Versuche")
    draft = Draft("a", "mastodon", art.article_id, "Text", art.url)
    item = PlanItem("a", "mastodon", "acct", draft.to_dict(), delivery_key(art.article_id, "a"))
    [d] = store.plan(art, [item]).created
    return d


def test_a_send_that_succeeds_first_leaves_no_cyclic_garbage(
    store: Store, clock: FakeClock
) -> None:
    """A tenacity.Retrying per send was a reference cycle: garbage for the collector."""
    d = _planned(store)
    disp = Dispatcher(
        Settings(path=None, channels=(Channel("a", "mastodon"),)),
        store,
        adapter_for=lambda ch: FakeAdapter(),
        clock=clock,
        worker_id="w-test",
        policy=POLICY,
    )
    disp.adapter("a")  # built before: only the send itself is under watch
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        disp.run_once()
        gc.collect()
        kept = [type(o).__module__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert store.get(d.id).state is State.SENT
    assert not [m for m in kept if m.startswith(("tenacity", "distributor"))], kept


class _Tries:
    """`call` for with_retries: raises `errors` in turn, then answers; advances the clock."""

    def __init__(self, clock: FakeClock, *errors: PublishError) -> None:
        self.clock, self.errors, self.n = clock, list(errors), 0

    def __call__(self) -> Receipt:
        self.n += 1
        self.clock.advance(5.0)  # each try takes 5 s
        if self.errors:
            raise self.errors.pop(0)
        return Receipt("mastodon", "1", "https://social.example/1")


def _ctx(store: Store, clock: FakeClock, policy: Policy = POLICY) -> Context:
    return Context(store, clock, "w-test", policy, threading.Event())


def _claimed(store: Store) -> tuple[Delivery, int]:
    _planned(store)
    [c] = store.claim("w-test", lease_seconds=60, limit=1)
    return c.delivery, c.fence


def test_retries_replay_the_first_failure_with_its_start(store: Store, clock: FakeClock) -> None:
    d, fence = _claimed(store)
    first_began = clock.now()
    heard: list[tuple[str, datetime, float]] = []
    tries = _Tries(clock, NotSent("mastodon", "a", "refused"))
    receipt = with_retries(
        _ctx(store, clock), d, fence, tries, lambda e, b, w: heard.append((e.detail, b, w))
    )
    assert receipt.remote_id == "1" and tries.n == 2  # one failure, one success: no extra try
    assert heard == [("refused", first_began, 2.0)]  # backoff * 2**0, no jitter
    assert clock.sleeps == [2.0]


def test_the_budget_counts_from_before_the_first_try(store: Store, clock: FakeClock) -> None:
    d, fence = _claimed(store)
    policy = Policy(attempts=10, backoff=2.0, max_backoff=8.0, budget=10.0, jitter=0.0)
    tries = _Tries(clock, *(NotSent("mastodon", "a", f"refused {i}") for i in range(10)))
    with pytest.raises(NotSent, match="refused 1"):
        with_retries(_ctx(store, clock, policy), d, fence, tries, lambda *a: None)
    # try 1 (5 s), sleep 2 s, try 2 (5 s): 12 s > 10 s, so no further sleep
    assert tries.n == 2 and clock.sleeps == [2.0]


@pytest.mark.parametrize(
    ("error", "attempts"),
    [(MaybeSent("mastodon", "a", "read timeout"), 3), (NotSent("mastodon", "a", "no"), 1)],
)
def test_what_is_not_retried_raises_after_one_try(
    store: Store, clock: FakeClock, error: PublishError, attempts: int
) -> None:
    d, fence = _claimed(store)
    policy = Policy(attempts=attempts, backoff=1.0, max_backoff=8.0, budget=60.0, jitter=0.0)
    tries, heard = _Tries(clock, error), list[Any]()
    with pytest.raises(type(error)):
        with_retries(_ctx(store, clock, policy), d, fence, tries, lambda *a: heard.append(a))
    assert tries.n == 1 and heard == [] and clock.sleeps == []
