"""Review actions (approve, cancel, retry, retract, pause) on a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from review_helpers import URL, finish, plan, write_config

from distributor import actions
from distributor.actions import ActionError
from distributor.config import Settings, load_config
from distributor.errors import NotSent, Rejected
from distributor.platforms.base import Draft, Receipt
from distributor.store.models import Attempt, Delivery, State
from distributor.store.store import Store
from distributor.testing import FakeAdapter, FakeClock

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_config(write_config(tmp_path, "sqlite:///unused.db"), environ={})


def send(store: Store, clock: FakeClock, outcome: str, **kw: object) -> list[Delivery]:
    return finish(store, outcome, clock.now(), **kw)


def test_approve_queues_and_records_the_actor(store: Store) -> None:
    [d] = plan(store, "masto", review=True)
    got = actions.approve(store, d.id, "anna")
    assert got.state is State.QUEUED
    [event] = [e for e in store.events(delivery_id=d.id) if e["action"].endswith("->queued")]
    assert event["actor"] == "anna" and event["detail"] == "approved"
    with pytest.raises(ActionError, match="not awaiting review"):
        actions.approve(store, d.id, "anna")


def test_approve_with_edited_text_is_measured_and_stored(store: Store) -> None:
    [d] = plan(store, "masto", review=True)
    url = "https://example.com/" + "x" * 200  # a Mastodon URL counts 23
    got = actions.approve(store, d.id, "anna", text=f"  Neu: {url}  ")
    assert got.draft["text"] == f"Neu: {url}" and got.draft["length"] == 5 + 23
    assert store.get(d.id).draft["channel"] == "masto"  # the rest of the draft is kept


def test_approve_refuses_text_over_the_limit_and_keeps_the_delivery(store: Store) -> None:
    [d, s] = plan(store, "masto", "sky", review=True)
    with pytest.raises(ActionError, match=r"too long for mastodon: 501/500"):
        actions.approve(store, d.id, "anna", text="a" * 501)
    with pytest.raises(ActionError, match=r"bluesky: 301/300"):
        actions.approve(store, s.id, "anna", text="ä" * 301)
    with pytest.raises(ActionError, match="empty"):
        actions.approve(store, d.id, "anna", text="   ")
    assert store.get(d.id).state is State.AWAITING_REVIEW
    assert store.get(d.id).draft["text"] == "Post [b]masto[/b]"


def test_approve_refuses_telegram_html_the_platform_would_refuse(store: Store) -> None:
    [d] = plan(store, "tg", review=True)
    with pytest.raises(ActionError, match="Telegram would refuse"):
        actions.approve(store, d.id, "anna", text="<b>unclosed")


def test_cancel_takes_a_claimed_delivery_from_its_worker(store: Store) -> None:
    [d] = plan(store, "masto")
    [claimed] = store.claim("w1", lease_seconds=60)
    assert actions.cancel(store, d.id, "bob").state is State.CANCELLED
    from distributor.errors import StaleLease

    with pytest.raises(StaleLease):
        store.mark_sending(d.id, claimed.fence)


def test_cancel_refuses_sent_and_final(store: Store, clock: FakeClock) -> None:
    [d] = plan(store, "masto")
    send(store, clock, "sent")
    with pytest.raises(ActionError, match="use `distributor retract`"):
        actions.cancel(store, d.id, "bob")
    with pytest.raises(ActionError, match="no delivery with id 999"):
        actions.cancel(store, 999, "bob")


def test_retry_failed_goes_at_once(store: Store, clock: FakeClock) -> None:
    [d] = plan(store, "masto")
    send(store, clock, "failed", error="Rejected: 422")
    got = actions.retry(store, d.id, "carla")
    assert got.state is State.QUEUED and got.not_before is None
    assert store.claim("w1", lease_seconds=60)[0].delivery.id == d.id


@pytest.mark.parametrize("outcome", ["unknown", "retry"])
def test_retry_of_what_may_be_posted_needs_force(
    store: Store, clock: FakeClock, outcome: str
) -> None:
    [d] = plan(store, "masto")
    extra = {"not_before": T0 + timedelta(hours=1)} if outcome == "retry" else {}
    send(store, clock, outcome, **extra)
    with pytest.raises(ActionError, match=r"may have been posted.*--force"):
        actions.retry(store, d.id, "carla")
    assert store.get(d.id).state in (State.UNKNOWN, State.RETRY_WAIT)
    got = actions.retry(store, d.id, "carla", force=True)
    assert got.state is State.QUEUED and got.not_before is None


def test_retry_of_sending_needs_a_dead_worker_and_force(store: Store, clock: FakeClock) -> None:
    [d] = plan(store, "masto")
    [c] = store.claim("w1", lease_seconds=60)
    store.mark_sending(d.id, c.fence)
    with pytest.raises(ActionError, match="being sent by w1 right now"):
        actions.retry(store, d.id, "carla", force=True)
    clock.advance(120)  # the lease ran out: the worker died
    with pytest.raises(ActionError, match=r"worker died while sending.*--force"):
        actions.retry(store, d.id, "carla")
    assert actions.retry(store, d.id, "carla", force=True).state is State.QUEUED
    actions_seen = [e["action"] for e in reversed(store.events(delivery_id=d.id))]
    assert actions_seen[-2:] == ["sending->unknown", "unknown->queued"]


def test_retry_refuses_sent_even_with_force(store: Store, clock: FakeClock) -> None:
    [d] = plan(store, "masto")
    send(store, clock, "sent")
    with pytest.raises(ActionError, match=r"sent: cannot retry.*posted \(https://p/"):
        actions.retry(store, d.id, "carla", force=True)
    [q] = plan(store, "sky")
    with pytest.raises(ActionError, match="has not failed"):
        actions.retry(store, q.id, "carla")


def test_retry_failed_requeues_only_failed(store: Store, clock: FakeClock) -> None:
    plan(store, "masto", "sky", "tg")
    send(store, clock, "failed", error="boom")
    [other] = plan(store, "masto", url="https://news.example/b/2")
    done = actions.retry_failed(store, "dora")
    assert sorted(d.channel for d in done) == ["masto", "sky", "tg"]
    assert store.get(other.id).state is State.QUEUED
    assert store.counts_by_state()["failed"] == 0
    assert actions.retry_failed(store, "dora") == []


def test_pause_stops_claims_until_resume(store: Store) -> None:
    plan(store, "masto")
    assert actions.pause(store, "eve") is False
    assert store.claim("w1", lease_seconds=60) == []
    assert actions.pause(store, "eve") is True
    assert actions.resume(store, "eve") is True
    assert len(store.claim("w1", lease_seconds=60)) == 1
    assert [e["actor"] for e in store.events() if e["action"] in ("pause", "resume")] == ["eve"] * 3


@pytest.mark.parametrize(
    "ref", [URL, "https://NEWS.example/politik/story-1?utm_source=x#top", "g-story-1"]
)
def test_find_article_by_id_url_or_guid(store: Store, ref: str) -> None:
    [d] = plan(store, "masto")
    plan(store, "masto", url="https://news.example/other/2")
    assert actions.find_article(store, d.article_id) == d.article_id
    assert actions.find_article(store, f"  {ref} ") == d.article_id
    with pytest.raises(ActionError, match="no article 'nope'"):
        actions.find_article(store, "nope")


def _adapters(fakes: dict[str, FakeAdapter]) -> actions.AdapterFactory:
    return lambda channel: fakes[channel.name]


def _seed_posts(store: Store, clock: FakeClock, fakes: dict[str, FakeAdapter]) -> None:
    """Publish every queued delivery through its fake adapter and record it sent."""
    for c in store.claim("w1", lease_seconds=60):
        d = c.delivery
        store.mark_sending(d.id, c.fence)
        draft = Draft(d.channel, d.platform, d.article_id, d.draft["text"], URL)
        r = fakes[d.channel].publish(draft, key=d.idem_key)
        att = Attempt("sent", clock.now(), clock.now(), "w1", remote_id=r.remote_id)
        store.finish(d.id, c.fence, "sent", att, remote_id=r.remote_id, remote_url=r.url)


def test_retract_deletes_every_post_and_cancels_the_rest(
    store: Store, clock: FakeClock, settings: Settings
) -> None:
    fakes = {c: FakeAdapter() for c in ("masto", "sky", "tg")}
    plan(store, "masto", "sky")
    _seed_posts(store, clock, fakes)
    [waiting] = plan(store, "tg", review=True)
    done = actions.retract(store, settings, URL, "fritz", adapters=_adapters(fakes))
    assert {s.delivery.channel: s.outcome for s in done} == {
        "masto": "retracted",
        "sky": "retracted",
        "tg": "cancelled",
    }
    assert fakes["masto"].posts == {} and fakes["sky"].posts == {}
    assert store.get(waiting.id).state is State.CANCELLED
    for step in done:
        [ev] = [e for e in store.events(delivery_id=step.delivery.id) if e["actor"] == "fritz"]
        assert ev["action"] in ("sent->retracted", "awaiting_review->cancelled")


def test_retract_reports_a_failed_delete_and_leaves_it_sent(
    store: Store, clock: FakeClock, settings: Settings
) -> None:
    fakes = {"masto": FakeAdapter(), "sky": FakeAdapter()}
    plan(store, "masto", "sky")
    _seed_posts(store, clock, fakes)

    def broken(receipt: Receipt) -> None:
        raise Rejected("bluesky", "sky", "403 forbidden", status=403)

    fakes["sky"].delete = broken  # type: ignore[method-assign]
    done = {
        s.delivery.channel: s
        for s in actions.retract(store, settings, URL, "fritz", adapters=_adapters(fakes))
    }
    assert done["masto"].outcome == "retracted" and done["masto"].ok
    assert done["sky"].outcome == "failed" and "403 forbidden" in done["sky"].detail
    assert not done["sky"].ok
    assert store.get(done["sky"].delivery.id).state is State.SENT
    [ev] = [e for e in store.events(delivery_id=done["sky"].delivery.id) if e["actor"] == "fritz"]
    assert ev["action"] == "retract failed" and "403" in ev["detail"]
    # a second run only tries what is still up
    fakes["sky"] = FakeAdapter(
        posts={"x": Receipt("bluesky", done["sky"].delivery.remote_id or "")}
    )
    again = actions.retract(store, settings, URL, "fritz", adapters=_adapters(fakes))
    assert {s.delivery.channel: s.outcome for s in again} == {
        "masto": "skipped",
        "sky": "retracted",
    }
    assert fakes["sky"].posts == {}


def test_retract_one_channel_and_unresolved_states(
    store: Store, clock: FakeClock, settings: Settings
) -> None:
    fakes = {"masto": FakeAdapter(), "sky": FakeAdapter()}
    plan(store, "masto", "sky")
    fakes["sky"].fail_with.append(NotSent("bluesky", "sky", "x"))
    _seed_posts_or_unknown(store, clock, fakes)
    aid, steps = actions.retract_plan(store, URL, ["sky"])
    assert [(s.delivery.channel, s.action) for s in steps] == [("sky", "unresolved")]
    done = actions.retract(store, settings, aid, "fritz", adapters=_adapters(fakes), plan=steps)
    assert done[0].outcome == "unresolved" and "reconcile" in done[0].detail
    with pytest.raises(ActionError, match="no deliveries on tg"):
        actions.retract_plan(store, URL, ["tg"])


def _seed_posts_or_unknown(store: Store, clock: FakeClock, fakes: dict[str, FakeAdapter]) -> None:
    for c in store.claim("w1", lease_seconds=60):
        d = c.delivery
        store.mark_sending(d.id, c.fence)
        if fakes[d.channel].fail_with:
            att = Attempt("unknown", clock.now(), clock.now(), "w1", error_kind="MaybeSent")
            store.finish(d.id, c.fence, "unknown", att)
        else:
            att = Attempt("sent", clock.now(), clock.now(), "w1", remote_id="1")
            store.finish(d.id, c.fence, "sent", att, remote_id="1", remote_url="u")


def test_retract_records_a_post_already_gone_as_retracted(
    store: Store, clock: FakeClock, settings: Settings
) -> None:
    fakes = {"masto": FakeAdapter()}
    [d] = plan(store, "masto")
    _seed_posts(store, clock, fakes)

    def gone(receipt: Receipt) -> None:
        raise Rejected("mastodon", "masto", "404 Record not found", status=404)

    fakes["masto"].delete = gone  # type: ignore[method-assign]
    [step] = actions.retract(store, settings, d.article_id, "fritz", adapters=_adapters(fakes))
    assert step.outcome == "retracted" and step.delivery.state is State.RETRACTED
    [ev] = [e for e in store.events(delivery_id=d.id) if e["actor"] == "fritz"]
    assert ev["detail"].startswith("already gone (404)")


def test_a_failed_delete_never_shows_a_token(
    store: Store, clock: FakeClock, settings: Settings
) -> None:
    fakes = {"tg": FakeAdapter()}
    [d] = plan(store, "tg")
    _seed_posts(store, clock, fakes)
    token = settings.credentials(settings.channel("tg"))["bot_token"].reveal()

    def leaky(receipt: Receipt) -> None:
        raise NotSent("telegram", "tg", f"connection refused: /bot{token}/deleteMessage")

    fakes["tg"].delete = leaky  # type: ignore[method-assign]
    [step] = actions.retract(store, settings, d.article_id, "fritz", adapters=_adapters(fakes))
    assert step.outcome == "failed" and "connection refused" in step.detail
    assert token not in step.detail
    assert all(token not in e["detail"] for e in store.events(delivery_id=d.id))
