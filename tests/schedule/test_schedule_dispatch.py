"""Scheduling through the real planning and dispatch path, on SQLite, in virtual time:
publish_at and --at, the embargo beats everything, quiet hours (across a DST change), spacing
and breaking news first, approval keeping the schedule."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sched_helpers import Recorder, art, dispatcher, drain, settings

from distributor.config import Channel
from distributor.planning import publish
from distributor.schedule.rules import parse_quiet
from distributor.store import open_store
from distributor.store.models import State
from distributor.store.store import Store
from distributor.testing import FakeClock

T0 = datetime(2026, 1, 14, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def run(
    store: Store, clock: FakeClock, *channels: Channel, articles: list, **kw: object
) -> dict[str, Recorder]:
    conf = settings(*channels)
    rec = {c.name: Recorder(clock=clock) for c in channels}
    for a in articles:
        publish(a, config=conf, store=store, clock=clock, **kw)  # type: ignore[arg-type]
    drain(dispatcher(conf, store, clock, rec), clock)
    return rec


def times(rec: Recorder) -> list[datetime]:
    return [t for _, t in rec.sent]


def test_publish_at_is_kept_and_shown(store: Store, clock: FakeClock) -> None:
    at = T0 + timedelta(hours=2)
    conf = settings(Channel("a", "mastodon"))
    report = publish(art(1, publish_at=at), config=conf, store=store, clock=clock)
    d = report.plans[0].created[0]
    assert d.not_before == at  # what log/show report as "goes at"
    rec = {"a": Recorder(clock=clock)}
    drain(dispatcher(conf, store, clock, rec), clock)
    assert times(rec["a"]) == [at]


def test_at_overrides_and_naive_times_are_newsroom_wall_clock(
    store: Store, clock: FakeClock
) -> None:
    # "07:30" without an offset is Berlin time; --at wins over the article's own publish_at
    late = datetime(2026, 1, 20, 7, 30)  # naive: Berlin wall clock
    at = datetime(2026, 1, 14, 14, 0, tzinfo=UTC)
    rec = run(store, clock, Channel("a", "mastodon"), articles=[art(1, publish_at=late)], at=at)
    assert times(rec["a"]) == [at]
    rec = run(store, clock, Channel("b", "mastodon"), articles=[art(2, publish_at=late)])
    assert times(rec["b"]) == [datetime(2026, 1, 20, 6, 30, tzinfo=UTC)]


def test_embargo_beats_everything(store: Store, clock: FakeClock) -> None:
    emb = T0 + timedelta(hours=5)
    story = art(1, embargo_until=emb, publish_at=T0, priority="breaking")
    conf = settings(Channel("a", "mastodon", review=True))
    d = publish(story, config=conf, store=store, clock=clock).plans[0].created[0]
    assert d.not_before == emb and d.embargo_until == emb
    from distributor import actions
    from distributor.errors import StoreError

    actions.approve(store, d.id, "ed")  # approval keeps the schedule
    assert store.get(d.id).not_before == emb
    with pytest.raises(StoreError, match="under embargo until"):
        store.set_schedule([d.id], actor="ed", not_before=T0 + timedelta(hours=1))
    # whatever else says: even with its not_before wiped, no claim before the embargo ends
    with store._engine.begin() as conn:
        t = store._t["deliveries"]
        conn.execute(t.update().values(not_before=None))
    rec = {"a": Recorder(clock=clock)}
    drain(dispatcher(conf, store, clock, rec), clock)
    assert times(rec["a"]) == [emb]


def test_quiet_hours_hold_normal_posts_not_breaking(store: Store, clock: FakeClock) -> None:
    clock.advance(12 * 3600 + 50 * 60)  # 22:50 Berlin (21:50 UTC)
    quiet = Channel("a", "mastodon", quiet=parse_quiet("23:00-06:30"))
    conf = settings(quiet)
    rec = {"a": Recorder(clock=clock)}
    normal = publish(
        art(1, publish_at=clock.now() + timedelta(minutes=20)),
        config=conf,
        store=store,
        clock=clock,
    )
    assert normal.plans[0].created[0].not_before == datetime(2026, 1, 15, 5, 30, tzinfo=UTC)
    clock.advance(40 * 60)  # 23:30 Berlin
    publish(art(2, priority="breaking"), config=conf, store=store, clock=clock)
    drain(dispatcher(conf, store, clock, rec), clock)
    assert [aid for aid, _ in rec["a"].sent] == [art(2).article_id, art(1).article_id]
    assert times(rec["a"]) == [
        datetime(2026, 1, 14, 22, 30, tzinfo=UTC),
        datetime(2026, 1, 15, 5, 30, tzinfo=UTC),
    ]


def test_quiet_hours_across_the_spring_dst_change(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 3, 28, 21, 0, tzinfo=UTC))  # Saturday 22:00 CET
    store = open_store(f"sqlite:///{tmp_path / 'dst.db'}", clock=clock)
    quiet = Channel("a", "mastodon", quiet=parse_quiet("23:00-06:30"), delay=3600)
    rec = run(store, clock, quiet, articles=[art(1)])  # due 23:00 CET: quiet
    assert times(rec["a"]) == [datetime(2026, 3, 29, 4, 30, tzinfo=UTC)]  # 06:30 CEST
    store.close()


def test_quiet_hours_across_the_autumn_dst_change(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 10, 24, 20, 30, tzinfo=UTC))  # Saturday 22:30 CEST
    store = open_store(f"sqlite:///{tmp_path / 'dst.db'}", clock=clock)
    quiet = Channel("a", "mastodon", quiet=parse_quiet("23:00-06:30"), delay=3600)
    rec = run(store, clock, quiet, articles=[art(1), art(2, priority="breaking")])
    # the normal one waits for 06:30 CET (one hour more of night); the breaking one goes
    assert times(rec["a"]) == [
        datetime(2026, 10, 24, 21, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 5, 30, tzinfo=UTC),
    ]
    assert [aid for aid, _ in rec["a"].sent] == [art(2).article_id, art(1).article_id]
    store.close()


def test_a_rate_limit_retry_landing_in_quiet_hours_waits(store: Store, clock: FakeClock) -> None:
    from distributor.errors import RateLimited

    clock.advance(12 * 3600 + 59 * 60)  # 22:59 Berlin
    conf = settings(Channel("a", "mastodon", quiet=parse_quiet("23:00-06:30")))
    rec = {"a": Recorder(clock=clock)}
    # the platform says "come back in 2 minutes": 23:01, inside quiet hours
    rec["a"].fail_with = [RateLimited("mastodon", "a", "slow down", retry_after=120)]
    publish(art(1), config=conf, store=store, clock=clock)
    drain(dispatcher(conf, store, clock, rec), clock)
    assert times(rec["a"]) == [datetime(2026, 1, 15, 5, 30, tzinfo=UTC)]


def test_spacing_spreads_a_burst_and_breaking_goes_first(store: Store, clock: FakeClock) -> None:
    conf = settings(Channel("a", "mastodon", min_gap=600))
    rec = {"a": Recorder(clock=clock)}
    for n in range(5):
        publish(art(n), config=conf, store=store, clock=clock)
    disp = dispatcher(conf, store, clock, rec)
    disp.run_once()  # the first goes at once
    clock.advance(60)
    publish(art(99, priority="breaking"), config=conf, store=store, clock=clock)
    drain(disp, clock)
    order = [aid for aid, _ in rec["a"].sent]
    assert order[:2] == [art(0).article_id, art(99).article_id]
    assert order[2:] == [art(n).article_id for n in range(1, 5)]
    got = times(rec["a"])
    assert [b - a for a, b in itertools.pairwise(got)] == [timedelta(seconds=600)] * 5
    assert store.counts_by_state()[State.SENT.value] == 6


def test_a_spaced_queue_or_a_held_post_is_not_stuck(store: Store, clock: FakeClock) -> None:
    from distributor.review import attention

    conf = settings(Channel("a", "mastodon", min_gap=3600))
    for n in range(4):
        publish(art(n), config=conf, store=store, clock=clock)
    disp = dispatcher(conf, store, clock, {"a": Recorder(clock=clock)})
    disp.run_once()
    clock.advance(3 * 3600 + 60)  # two more went meanwhile; the last waits its turn
    disp.run_once()
    clock.advance(3600)
    disp.run_once()
    limit = timedelta(minutes=15)
    [last] = store.audit()
    assert attention(last, clock.now(), limit, store.gaps()) is None
    assert attention(last, clock.now(), limit) is not None  # without the turns it looks stuck
    clock.advance(2 * 3600)  # no worker for two hours: now it is overdue
    assert "overdue" in str(attention(last, clock.now(), limit, store.gaps()))
    store.set_schedule([last.id], actor="ed", held=True)
    assert attention(store.get(last.id), clock.now(), limit, store.gaps()) is None


def test_an_embargo_moved_later_holds_what_still_waits(store: Store, clock: FakeClock) -> None:
    conf = settings(Channel("a", "mastodon"), Channel("b", "mastodon", account="acct-b"))
    first = T0 + timedelta(hours=1)
    publish(art(1, embargo_until=first), config=conf, store=store, clock=clock, channels=["a"])
    later = T0 + timedelta(hours=3)
    again = publish(art(1, embargo_until=later), config=conf, store=store, clock=clock)
    [known] = again.plans[0].existing
    assert known.embargo_until == later and known.not_before == later
    earlier = publish(art(1, embargo_until=first), config=conf, store=store, clock=clock)
    assert earlier.plans[0].existing[0].embargo_until == later  # never lowered by a re-send
    rec = {"a": Recorder(clock=clock), "b": Recorder(clock=clock)}
    drain(dispatcher(conf, store, clock, rec), clock)
    assert times(rec["a"]) == [later] and times(rec["b"]) == [later]
    assert "embargo" in [e["action"] for e in store.events(delivery_id=known.id)]
