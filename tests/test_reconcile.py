"""Reconciliation on a real SQLite store with fake adapters and a fake clock: every policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from distributor.article import Article
from distributor.config import Channel, Settings
from distributor.errors import ConfigError, MaybeSent, NotSent, RateLimited
from distributor.planning import account_key
from distributor.platform import Ambiguity, PlatformSpec
from distributor.platforms.base import Adapter
from distributor.platforms.keys import delivery_key
from distributor.post import Draft, Receipt
from distributor.reconcile import LOOKUP_MARGIN, SETTLE, ReconcileReport, reconcile
from distributor.store.models import Attempt, Delivery, PlanItem, State
from distributor.store.store import Store
from distributor.testing import FAKE_SPEC, FakeAdapter, FakeClock

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEASE = 60.0


class KeyAdapter(FakeAdapter):
    spec: ClassVar[PlatformSpec] = replace(
        FAKE_SPEC, ambiguity=Ambiguity.RESEND_WITH_KEY, key_window=timedelta(hours=1)
    )


class HoldAdapter(FakeAdapter):
    spec: ClassVar[PlatformSpec] = replace(FAKE_SPEC, ambiguity=Ambiguity.HOLD)


@dataclass
class LookupAdapter(FakeAdapter):
    """Records every lookup; `lookup_fails` raises those errors in turn before answering."""

    lookups: list[tuple[str, datetime]] = field(default_factory=list)
    lookup_fails: list[BaseException] = field(default_factory=list)
    whens: list[datetime | None] = field(default_factory=list)
    during_lookup: Callable[[], None] | None = None

    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        self.lookups.append((key, since))
        self.whens.append(when)
        if self.during_lookup is not None:
            self.during_lookup()
        if self.lookup_fails:
            raise self.lookup_fails.pop(0)
        return super().lookup(draft, key=key, since=since)


class NoLookupAdapter(FakeAdapter):
    def lookup(
        self, draft: Draft, *, key: str, since: datetime, when: datetime | None = None
    ) -> Receipt | None:
        raise NotImplementedError("no history API")


CHANNELS = {
    "masto": ("mastodon", KeyAdapter),
    "sky": ("bluesky", LookupAdapter),
    "tg": ("telegram", HoldAdapter),
    "li": ("linkedin", NoLookupAdapter),
}


@pytest.fixture
def settings() -> Settings:
    return Settings(path=None, channels=tuple(Channel(n, p) for n, (p, _) in CHANNELS.items()))


class Adapters:
    """adapter_for: one fake per channel, counting how often reconcile builds one."""

    def __init__(self) -> None:
        self.by_channel: dict[str, FakeAdapter] = {n: cls() for n, (_, cls) in CHANNELS.items()}
        self.builds: list[str] = []

    def __call__(self, channel: Channel) -> Adapter:
        self.builds.append(channel.name)
        return self.by_channel[channel.name]

    def __getitem__(self, name: str) -> FakeAdapter:
        return self.by_channel[name]


@pytest.fixture
def adapters() -> Adapters:
    return Adapters()


def plan(
    store: Store, channel: str, url: str = "https://news.example/a/1", account: str = ""
) -> Delivery:
    platform = CHANNELS[channel][0]
    article = Article(url=url, title="A story")
    key = delivery_key(article.article_id, channel)
    draft = Draft(channel, platform, article.article_id, f"A story {url}", url)
    result = store.plan(
        article,
        [PlanItem(channel, platform, account or f"{platform}:{channel}", draft.to_dict(), key)],
        source="test",
    )
    return (result.created or result.existing)[0]


def crash_while_sending(
    store: Store, clock: FakeClock, d: Delivery, adapter: FakeAdapter | None
) -> Delivery:
    """A worker claims `d`, commits `sending`, (maybe) posts, then dies; its lease ran out a
    while ago (long enough for the post to show in the platform's timeline)."""
    [claimed] = store.claim("w1", lease_seconds=LEASE)
    assert claimed.delivery.id == d.id
    store.mark_sending(d.id, claimed.fence)
    if adapter is not None:
        adapter.publish(Draft.from_dict(d.draft), key=d.idem_key)
    clock.advance(LEASE + SETTLE)
    return store.get(d.id)


def maybe_sent(store: Store, clock: FakeClock, d: Delivery, adapter: FakeAdapter | None) -> None:
    """A worker's send ended in MaybeSent (after `adapter` did or did not create the post), a
    minute ago."""
    [claimed] = store.claim("w1", lease_seconds=LEASE)
    store.mark_sending(d.id, claimed.fence)
    if adapter is not None:
        adapter.publish(Draft.from_dict(d.draft), key=d.idem_key)
    now = clock.now()
    attempt = Attempt("unknown", now, now, "w1", "MaybeSent", "HTTP 504: the post may exist")
    store.finish(d.id, claimed.fence, "unknown", attempt)
    clock.advance(SETTLE)


def run(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock, grace: float = 0.0
) -> ReconcileReport:
    return reconcile(settings, store, adapter_for=adapters, clock=clock, grace=grace)


def actions(store: Store, id: int) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in reversed(store.events(delivery_id=id))]


# -- stale leases -------------------------------------------------------------------------
def test_expired_claim_goes_back_to_queue_without_any_platform_call(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    d = plan(store, "sky")
    store.claim("w1", lease_seconds=LEASE)
    clock.advance(LEASE + 1)
    report = run(store, settings, adapters, clock)
    assert store.get(d.id).state is State.QUEUED
    assert report.counts == {"released": 1}
    assert (
        report.decisions[0].before == "claimed" and "nothing was sent" in report.decisions[0].reason
    )
    assert adapters.builds == [] and adapters["sky"].calls == []
    assert actions(store, d.id)[-1] == ("reconcile", "claimed->queued")


def test_live_leases_and_the_grace_period_are_left_alone(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    d = plan(store, "sky")
    [c] = store.claim("w1", lease_seconds=LEASE)
    store.mark_sending(d.id, c.fence)
    clock.advance(LEASE - 1)
    assert run(store, settings, adapters, clock).decisions == []
    clock.advance(10)  # expired 9 s ago
    assert run(store, settings, adapters, clock, grace=30).decisions == []
    assert store.get(d.id).state is State.SENDING
    report = run(store, settings, adapters, clock)
    assert report.counts == {"settling": 1} and store.get(d.id).state is State.UNKNOWN


def test_lookup_waits_until_the_post_would_show(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    sky = adapters["sky"]
    assert isinstance(sky, LookupAdapter)
    d = plan(store, "sky")
    [claimed] = store.claim("w1", lease_seconds=LEASE)
    store.mark_sending(d.id, claimed.fence)
    now = clock.now()
    attempt = Attempt("unknown", now, now, "w1", "MaybeSent", "read timeout")
    store.finish(d.id, claimed.fence, "unknown", attempt)
    clock.advance(SETTLE - 1)
    report = run(store, settings, adapters, clock)
    assert report.counts == {"settling": 1} and sky.lookups == []
    assert report.needs_human == [] and store.get(d.id).state is State.UNKNOWN
    clock.advance(1)
    assert run(store, settings, adapters, clock).counts == {"absent": 1}
    assert len(sky.lookups) == 1


# -- LOOKUP ---------------------------------------------------------------------------------
def test_lookup_finds_the_post_of_a_dead_worker_and_never_resends(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    sky = adapters["sky"]
    d = crash_while_sending(store, clock, plan(store, "sky"), sky)
    report = run(store, settings, adapters, clock)
    got = store.get(d.id)
    assert got.state is State.SENT
    assert (got.remote_id, got.remote_url) == (
        sky.posts[d.idem_key].remote_id,
        sky.posts[d.idem_key].url,
    )
    assert report.decisions[0].action == "found" and report.decisions[0].before == "sending"
    assert report.decisions[0].remote_id == got.remote_id
    assert sky.calls == [d.idem_key] and len(sky.posts) == 1  # only the dead worker's send
    assert actions(store, d.id)[-2:] == [
        ("reconcile", "sending->unknown"),
        ("reconcile", "unknown->sent"),
    ]


def test_lookup_proving_absence_requeues(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    d = plan(store, "sky")
    maybe_sent(store, clock, d, None)
    report = run(store, settings, adapters, clock)
    assert store.get(d.id).state is State.QUEUED
    assert report.decisions[0].action == "absent" and report.decisions[0].before == "unknown"
    assert adapters["sky"].calls == []  # reconcile never posts: the worker will


def test_lookup_searches_from_before_the_delivery_was_planned(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    d = plan(store, "sky")
    maybe_sent(store, clock, d, None)
    clock.advance(3600)
    run(store, settings, adapters, clock)
    sky = adapters["sky"]
    assert isinstance(sky, LookupAdapter)
    assert sky.lookups == [(d.idem_key, d.created_at - LOOKUP_MARGIN)]
    # like publish, lookup gets the delivery's creation time (Bluesky's record key is minted
    # from the key and that time)
    assert sky.whens == [d.created_at]


@pytest.mark.parametrize(
    "error",
    [
        MaybeSent("bluesky", "sky", "read timeout"),
        NotSent("bluesky", "sky", "connection refused"),
        RateLimited("bluesky", "sky", "slow down", retry_after=60),
        RuntimeError("adapter bug"),
    ],
)
def test_failed_lookup_keeps_unknown_until_a_later_run_succeeds(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock, error: Exception
) -> None:
    sky = adapters["sky"]
    assert isinstance(sky, LookupAdapter)
    sky.lookup_fails.append(error)
    d = plan(store, "sky")
    maybe_sent(store, clock, d, sky)
    first = run(store, settings, adapters, clock)
    assert store.get(d.id).state is State.UNKNOWN
    assert first.decisions[0].action == "lookup_failed"
    assert type(error).__name__ in first.decisions[0].reason
    assert first.needs_human == []  # the next run retries by itself
    assert actions(store, d.id)[-1] == ("reconcile", "kept unknown: lookup_failed")
    second = run(store, settings, adapters, clock)
    assert second.counts == {"found": 1} and store.get(d.id).state is State.SENT
    assert len(sky.calls) == 1 and len(sky.posts) == 1


# -- RESEND_WITH_KEY ------------------------------------------------------------------------
def test_key_platform_is_requeued_within_the_window_and_the_resend_dedupes(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    masto = adapters["masto"]
    d = crash_while_sending(store, clock, plan(store, "masto"), masto)
    report = run(store, settings, adapters, clock)
    assert store.get(d.id).state is State.QUEUED
    decision = report.decisions[0]
    assert (decision.before, decision.action) == ("sending", "requeued")
    assert "same idempotency key" in decision.reason
    # the worker's resend carries the same key: the platform answers with the first post
    [c] = store.claim("w2", lease_seconds=LEASE)
    assert c.delivery.idem_key == d.idem_key
    masto.publish(Draft.from_dict(c.delivery.draft), key=c.delivery.idem_key)
    assert len(masto.posts) == 1 and masto.calls == [d.idem_key, d.idem_key]


@pytest.mark.parametrize("posted", [True, False])
def test_key_platform_past_the_window_is_looked_up_instead(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock, posted: bool
) -> None:
    masto = adapters["masto"]
    d = plan(store, "masto")
    maybe_sent(store, clock, d, masto if posted else None)
    clock.advance(51 * 60)  # the key is kept 1 h; leave the worker 10 minutes to resend
    report = run(store, settings, adapters, clock)
    decision = report.decisions[0]
    assert decision.action == ("found" if posted else "absent")
    assert "idempotency key may be forgotten" in decision.reason
    assert store.get(d.id).state is (State.SENT if posted else State.QUEUED)
    assert len(masto.calls) == int(posted)  # reconcile itself never posted


def test_key_platform_blocked_past_the_window_is_looked_up(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    masto = adapters["masto"]
    d = plan(store, "masto")
    maybe_sent(store, clock, d, masto)
    store.block_account(d.account_key, clock.now() + timedelta(hours=2), "429")
    report = run(store, settings, adapters, clock)
    assert report.decisions[0].action == "found"
    assert "cannot send before the key window ends" in report.decisions[0].reason


# -- HOLD and no lookup ---------------------------------------------------------------------
def test_hold_platform_stays_unknown_for_a_human_and_is_audited(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    tg = adapters["tg"]
    d = crash_while_sending(store, clock, plan(store, "tg"), tg)
    report = run(store, settings, adapters, clock)
    assert store.get(d.id).state is State.UNKNOWN
    assert [x.delivery_id for x in report.needs_human] == [d.id]
    assert f"distributor retry {d.id} --force" in report.decisions[0].reason
    assert [a.id for a in store.audit()] == [d.id]
    assert tg.calls == [d.idem_key] and len(tg.posts) == 1


def test_adapter_without_lookup_is_held(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    d = plan(store, "li")
    maybe_sent(store, clock, d, None)
    report = run(store, settings, adapters, clock)
    assert report.decisions[0].action == "held"
    assert "cannot look its posts up" in report.decisions[0].reason
    assert store.get(d.id).state is State.UNKNOWN


# -- the channel -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("channels", "says"),
    [
        ((), "no longer in"),
        ((Channel("sky", "mastodon"),), "now on mastodon"),
        ((Channel("sky", "bluesky", account="other"),), "now posts as other"),
    ],
)
def test_channel_gone_or_changed_keeps_the_delivery_unknown(
    store: Store,
    adapters: Adapters,
    clock: FakeClock,
    channels: tuple[Channel, ...],
    says: str,
) -> None:
    d = plan(store, "sky")
    maybe_sent(store, clock, d, None)
    report = run(store, Settings(path=None, channels=channels), adapters, clock)
    assert report.decisions[0].action == "no_channel" and says in report.decisions[0].reason
    assert store.get(d.id).state is State.UNKNOWN and report.needs_human
    assert adapters.builds == []


def test_adapter_that_cannot_be_built_keeps_unknown(
    store: Store, settings: Settings, clock: FakeClock
) -> None:
    d = plan(store, "sky")
    maybe_sent(store, clock, d, None)

    def broken(channel: Channel) -> Adapter:
        raise ConfigError("environment variable BLUESKY_APP_PASSWORD is not set")

    report = reconcile(settings, store, adapter_for=broken, clock=clock)
    assert report.decisions[0].action == "lookup_failed"
    assert "BLUESKY_APP_PASSWORD is not set" in report.decisions[0].reason
    assert store.get(d.id).state is State.UNKNOWN


def test_default_builder_uses_the_registry(store: Store, clock: FakeClock) -> None:
    """No adapter_for: the real Telegram adapter is built from the settings (sandbox mode) and
    its HOLD policy keeps the delivery for a human, without any network call."""
    channel = Channel(
        "tg", "telegram", options={"chat_id": "@news"}, credentials={"bot_token": "TG"}
    )
    settings = Settings(path=None, channels=(channel,), sandbox_url="http://127.0.0.1:9")
    d = plan(store, "tg", account=account_key(channel))
    maybe_sent(store, clock, d, None)
    report = reconcile(settings, store, clock=clock)
    assert report.decisions[0].action == "held"
    assert "telegram has no way to find its own posts" in report.decisions[0].reason


# -- the pass as a whole ---------------------------------------------------------------------
def test_every_policy_in_one_pass_then_idempotent(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    ids = {}
    for n, name in enumerate(("sky", "masto", "tg")):
        d = plan(store, name, f"https://news.example/a/{n}")
        maybe_sent(store, clock, d, adapters[name])
        ids[name] = d.id
    second_sky = plan(store, "sky", "https://news.example/a/9")
    maybe_sent(store, clock, second_sky, None)
    report = run(store, settings, adapters, clock)
    assert report.counts == {"found": 1, "requeued": 1, "held": 1, "absent": 1}
    assert adapters.builds.count("sky") == 1  # one adapter per channel per pass
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["needs_human"] == [ids["tg"]]
    assert {x["delivery_id"] for x in payload["decisions"]} == {*ids.values(), second_sky.id}
    events_before = len(store.events(limit=1000))
    again = run(store, settings, adapters, clock)
    assert [(x.delivery_id, x.action) for x in again.decisions] == [(ids["tg"], "held")]
    assert len(store.events(limit=1000)) == events_before  # nothing new to note
    assert all(len(a.calls) == 1 for a in (adapters["sky"], adapters["masto"], adapters["tg"]))


def test_delivery_moved_during_the_lookup_is_skipped(
    store: Store, settings: Settings, adapters: Adapters, clock: FakeClock
) -> None:
    """A human cancels (or another reconcile resolves) the delivery while lookup runs: the stale
    lookup answer must not move it again."""
    sky = adapters["sky"]
    assert isinstance(sky, LookupAdapter)
    d = plan(store, "sky")
    maybe_sent(store, clock, d, None)

    def human_cancels() -> None:
        store.transition(d.id, State.CANCELLED, actor="alice", reason="posted by hand")

    sky.during_lookup = human_cancels
    report = run(store, settings, adapters, clock)
    assert report.decisions[0].action == "skipped"
    assert store.get(d.id).state is State.CANCELLED
