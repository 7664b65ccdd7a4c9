"""Dispatch on a real SQLite store with FakeAdapter and FakeClock: every error class -> its state,
tenacity for NotSent only (bounded, no real sleeping), rate limits, per-account order, pause.
The worker loop around it (heartbeats, leases, crashes, wake-ups) is in test_dispatch_worker.py."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from dispatch_helpers import T0
from dispatch_helpers import error_of as _err
from dispatch_helpers import make_dispatcher as _dispatcher
from dispatch_helpers import plan_posts as _plan

from distributor.config import Channel, Rate
from distributor.dispatch import Policy
from distributor.errors import (
    AuthFailed,
    DuplicateContent,
    MaybeSent,
    NotSent,
    RateLimited,
    Rejected,
)
from distributor.platforms.base import Draft, Receipt
from distributor.store.models import State
from distributor.store.store import Store
from distributor.testing import FakeAdapter, FakeClock


def test_success_records_sent_with_remote_id_and_key(store: Store, clock: FakeClock) -> None:
    (i,) = _plan(store, 1)
    fake = FakeAdapter()
    (out,) = _dispatcher(store, clock, {"a": fake}).run_once()
    assert out is not None and out.state is State.SENT
    d = store.get(i)
    assert fake.calls == [d.idem_key]
    assert d.remote_id == fake.posts[d.idem_key].remote_id and d.remote_url
    assert [(a.n, a.outcome, a.worker) for a in d.history] == [(1, "sent", "w-test")]


def test_notsent_is_retried_with_backoff_through_the_clock(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    (i,) = _plan(store, 1)
    fake = FakeAdapter(fail_with=[_err(NotSent, "refused"), _err(NotSent, "refused")])

    def real_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s on the wall clock")

    monkeypatch.setattr(time, "sleep", real_sleep)
    _dispatcher(store, clock, {"a": fake}).run_once()
    assert len(clock.sleeps) == 2 and all(s > 0 for s in clock.sleeps)  # backoff: the fake clock
    d = store.get(i)
    assert d.state is State.SENT and len(fake.calls) == 3 and len(set(fake.calls)) == 1
    assert [a.outcome for a in d.history] == ["retry", "retry", "sent"]
    assert [a.error_kind for a in d.history[:2]] == ["NotSent", "NotSent"]
    first, second = clock.sleeps
    assert 1.0 <= first <= 1.5 and 2.0 <= second <= 2.5  # exponential, with jitter


def test_notsent_is_bounded_then_rescheduled_then_failed(store: Store, clock: FakeClock) -> None:
    (i,) = _plan(store, 1)
    fake = FakeAdapter(fail_with=[_err(NotSent, "refused") for _ in range(20)])
    disp = _dispatcher(store, clock, {"a": fake})
    disp.run_once()
    d = store.get(i)
    assert len(fake.calls) == 3 and d.state is State.RETRY_WAIT and d.attempts == 3
    assert d.not_before is not None and d.not_before > clock.now()
    assert disp.run_once() == []  # not due yet
    clock.advance((d.not_before - clock.now()).total_seconds() + 1)
    disp.run_once()
    d = store.get(i)
    assert d.state is State.FAILED and len(fake.calls) == 6
    assert d.last_error is not None and "gave up after 6 tries" in d.last_error


def test_retry_budget_stops_before_the_deadline(store: Store, clock: FakeClock) -> None:
    _plan(store, 1)
    fake = FakeAdapter(fail_with=[_err(NotSent) for _ in range(10)])
    policy = Policy(attempts=10, backoff=4.0, max_backoff=100, budget=10.0, jitter=0.0)
    _dispatcher(store, clock, {"a": fake}, policy=policy).run_once()
    assert clock.sleeps == [4.0]  # a second sleep (8 s) would end past the 10 s budget
    assert len(fake.calls) == 2


@pytest.mark.parametrize(
    ("error", "state", "kind"),
    [
        (_err(MaybeSent, "read timeout"), State.UNKNOWN, "MaybeSent"),
        (_err(DuplicateContent, "duplicate"), State.UNKNOWN, "DuplicateContent"),
        (_err(Rejected, "text too long", status=422), State.FAILED, "Rejected"),
        (_err(AuthFailed, "invalid token", status=401), State.FAILED, "AuthFailed"),
    ],
)
def test_each_error_class_ends_in_its_state_without_retry(
    store: Store, clock: FakeClock, error: Exception, state: State, kind: str
) -> None:
    (i,) = _plan(store, 1)
    fake = FakeAdapter(fail_with=[error])  # type: ignore[list-item]
    _dispatcher(store, clock, {"a": fake}).run_once()
    d = store.get(i)
    assert (d.state, d.error_kind, len(fake.calls)) == (state, kind, 1)
    assert clock.sleeps == []
    assert d.last_error and str(error).split(": ", 1)[1] in d.last_error


def test_auth_failed_marks_reauth_and_stops_the_account(store: Store, clock: FakeClock) -> None:
    _plan(store, 2)
    fake = FakeAdapter(fail_with=[_err(AuthFailed, "expired", status=401)])
    disp = _dispatcher(store, clock, {"a": fake})
    disp.run_once()
    assert store.account("acct-a").needs_reauth
    assert disp.run_once() == [] and len(fake.calls) == 1


def test_unexpected_adapter_error_goes_to_unknown(store: Store, clock: FakeClock) -> None:
    (i,) = _plan(store, 1)
    fake = FakeAdapter(fail_with=[lambda: KeyError("id")])  # type: ignore[list-item,return-value]
    _dispatcher(store, clock, {"a": fake}).run_once()
    assert store.get(i).state is State.UNKNOWN and store.get(i).error_kind == "KeyError"


def test_rate_limited_blocks_the_account_and_others_proceed(store: Store, clock: FakeClock) -> None:
    (a1,) = _plan(store, 1, "a")
    (b1,) = _plan(store, 1, "b")
    fa = FakeAdapter(fail_with=[_err(RateLimited, "429", retry_after=120)])
    fb = FakeAdapter()
    disp = _dispatcher(
        store, clock, {"a": fa, "b": fb}, Channel("a", "mastodon"), Channel("b", "mastodon")
    )
    disp.run_once()
    d = store.get(a1)
    assert d.state is State.RETRY_WAIT and d.not_before == T0 + timedelta(seconds=120)
    assert store.account("acct-a").blocked_until == T0 + timedelta(seconds=120)
    assert store.get(b1).state is State.SENT and clock.sleeps == []
    clock.advance(119)
    assert disp.run_once() == [] and len(fa.calls) == 1  # nothing to the account before reset
    clock.advance(2)
    disp.run_once()
    assert store.get(a1).state is State.SENT and len(fa.calls) == 2


def test_one_account_posts_in_order(store: Store, clock: FakeClock) -> None:
    ids = _plan(store, 4)
    fake = FakeAdapter()
    disp = _dispatcher(store, clock, {"a": fake}, concurrency=4)
    assert disp.run(until_idle=True) == 4
    assert fake.calls == [store.get(i).idem_key for i in ids]


def test_accounts_are_sent_in_parallel(store: Store, clock: FakeClock) -> None:
    names = ["a", "b", "c"]
    for n in names:
        _plan(store, 1, n)
    barrier = threading.Barrier(3, timeout=5)

    @dataclass
    class Meeting(FakeAdapter):
        def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
            barrier.wait()  # only passes if all three sends run at the same time
            return super().publish(draft, key=key)

    adapters = {n: Meeting() for n in names}
    disp = _dispatcher(store, clock, adapters, *(Channel(n, "mastodon") for n in names))
    out = disp.run_once()
    assert [d.state for d in out if d] == [State.SENT] * 3


def test_rate_pacing_waits_briefly_and_defers_long_waits(store: Store, clock: FakeClock) -> None:
    ids = _plan(store, 3)
    fake = FakeAdapter()
    paced = Channel("a", "mastodon", rate=Rate(2, 60))
    policy = Policy(pace_limit=10.0)
    disp = _dispatcher(store, clock, {"a": fake}, paced, policy=policy)
    disp.run_once()
    clock.advance(55)
    disp.run_once()  # second slot is free: sent at once
    disp.run_once()  # third slot is 5 s away (60 s after the first): paced on the clock
    assert [store.get(i).state for i in ids] == [State.SENT] * 3
    assert clock.sleeps == [pytest.approx(5)]
    more = _plan(store, 1, "a", start=3)
    clock.advance(1)
    disp.run_once()  # next slot is 59 s away: deferred, not slept, not an attempt
    d = store.get(more[0])
    assert d.state is State.RETRY_WAIT and d.attempts == 0 and len(fake.calls) == 3
    clock.advance((d.not_before - clock.now()).total_seconds())  # type: ignore[operator]
    disp.run_once()
    assert store.get(more[0]).state is State.SENT
    sent = sorted(t for i in [*ids, *more] if (t := store.get(i).sent_at) is not None)
    assert len(sent) == 4
    assert all((b - a).total_seconds() >= 60 for a, b in zip(sent, sent[2:], strict=False))


def test_rate_headers_in_the_receipt_block_the_account(store: Store, clock: FakeClock) -> None:
    _plan(store, 2)
    reset = T0 + timedelta(minutes=5)

    @dataclass
    class Exhausted(FakeAdapter):
        def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
            r = super().publish(draft, key=key)
            extra = {"rate_remaining": "0", "rate_reset": reset.isoformat()}
            return Receipt(r.platform, r.remote_id, r.url, extra=extra)

    fake = Exhausted()
    disp = _dispatcher(store, clock, {"a": fake})
    disp.run_once()
    assert store.account("acct-a").blocked_until == reset
    assert disp.run_once() == [] and len(fake.calls) == 1


def test_pause_is_obeyed_on_every_claim(store: Store, clock: FakeClock) -> None:
    (i,) = _plan(store, 1)
    fake = FakeAdapter()
    disp = _dispatcher(store, clock, {"a": fake})
    store.pause("ops")
    assert disp.run_once() == [] and disp.run(until_idle=True) == 0 and fake.calls == []
    store.resume("ops")
    disp.run_once()
    assert store.get(i).state is State.SENT


def test_stopping_releases_a_claim_before_sending(store: Store, clock: FakeClock) -> None:
    (i,) = _plan(store, 1)
    fake = FakeAdapter()
    disp = _dispatcher(store, clock, {"a": fake})
    stop = threading.Event()
    stop.set()
    disp._stop = stop
    (claimed,) = disp.claim(1)
    assert disp.deliver(claimed) is None
    assert store.get(i).state is State.QUEUED and fake.calls == []


def test_a_channel_missing_from_the_config_fails_clearly(store: Store, clock: FakeClock) -> None:
    (i,) = _plan(store, 1, "gone")
    _dispatcher(store, clock, {}).run_once()
    d = store.get(i)
    assert d.state is State.FAILED and "no channel named 'gone'" in (d.last_error or "")


def test_bluesky_style_adapters_get_the_creation_time(store: Store, clock: FakeClock) -> None:
    (i,) = _plan(store, 1)
    seen: list[datetime | None] = []

    @dataclass
    class WithWhen(FakeAdapter):
        whens: list[datetime | None] = field(default_factory=list)

        def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
            seen.append(when)
            return super().publish(draft, key=key)

    clock.advance(30)
    _dispatcher(store, clock, {"a": WithWhen()}).run_once()
    assert seen == [store.get(i).created_at] and seen[0] == T0


def test_log_lines_carry_delivery_context(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    (i,) = _plan(store, 1)
    fake = FakeAdapter(fail_with=[_err(NotSent, "refused")])
    with caplog.at_level(logging.DEBUG, logger="distributor.dispatch"):
        _dispatcher(store, clock, {"a": fake}).run_once()
    ctxs = [getattr(r, "ctx", {}) for r in caplog.records]
    assert [c["state"] for c in ctxs if "state" in c][:2] == ["claimed", "sending"]
    retry = [r for r in caplog.records if r.getMessage().startswith("retrying in")]
    assert len(retry) == 1 and "NotSent" in retry[0].getMessage()
    sent = ctxs[-1]
    assert sent["delivery_id"] == i and sent["state"] == "sent" and sent["remote_id"]
    assert {"article_id", "channel", "platform", "attempt"} <= set(sent)
