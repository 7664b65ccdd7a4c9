"""`distributor.watch` polling: conditional GET, identity across feed churn, backlog and backfill,
one broken feed among good ones, the loop, reference feeds. A loopback feed server, a real SQLite
store, the real planning path; time only moves when the test says so."""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from watch_helpers import (
    BACKLOG,
    T0,
    FeedServer,
    Item,
    article_url,
    deliveries,
    make_settings,
    parse_items,
    poller,
    reference_feed,
    rss,
    url_feed,
    watched,
)

from distributor.errors import ConfigError
from distributor.store.models import Filters
from distributor.store.store import Store
from distributor.testing import FakeClock
from distributor.watch import PollResult, feed_for, run


def test_first_poll_records_backlog_then_304_then_one_new_item(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    server.set("/feed", rss(BACKLOG))
    p = poller(tmp_path, store, clock)
    feed = url_feed(p, server.url("/feed"))

    first = p.poll(feed)
    assert (first.first, first.items, first.remembered, first.new) == (True, 5, 5, 0)
    assert deliveries(store) == []  # no flood of the backlog
    assert all(store.known_articles([a]) == [True] for a in parse_items(BACKLOG))

    clock.advance(120)
    again = p.poll(feed)
    assert again.status == "not modified" and again.planned == ()
    assert server.seen[-1].if_none_match == server.routes["/feed"].tag
    assert server.statuses("/feed") == [200, 304]

    server.set("/feed", rss([Item(6), *BACKLOG]))
    clock.advance(120)
    new = p.poll(feed)
    assert (new.first, new.items, new.new, len(new.planned)) == (False, 6, 1, 2)
    link = Item(6).link
    assert deliveries(store) == [(link, "masto"), (link, "tg")]  # one per channel
    state = store.feed_state(feed.key)
    assert state is not None
    assert (state.etag, state.seen_count, state.polls) == (server.routes["/feed"].tag, 6, 3)

    clock.advance(120)
    assert p.poll(feed).status == "not modified"
    assert server.statuses("/feed") == [200, 304, 200, 304]
    assert len(deliveries(store)) == 2


def test_last_modified_alone_is_used_for_conditional_get(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    p, feed = watched(tmp_path, server, store, clock, etag=False)
    assert p.poll(feed).status == "not modified"
    assert server.seen[-1].if_modified_since == server.routes["/feed"].modified
    assert server.seen[-1].if_none_match is None


CHURN = {
    "re-dated": [replace(it, when=T0 + timedelta(days=30 + it.n)) for it in BACKLOG],
    "re-ordered": list(reversed(BACKLOG)),
    "utm-changed": [
        replace(it, link=f"{it.link}?utm_source=rss&utm_campaign=c{it.n}#top") for it in BACKLOG
    ],
    "edited": [
        replace(it, title=it.title + " (aktualisiert)", text="Neuer Text.") for it in BACKLOG
    ],
    "upper-case host": [
        replace(it, link=it.link.replace("news.example", "NEWS.Example")) for it in BACKLOG
    ],
}


@pytest.mark.parametrize("kind", list(CHURN))
def test_feed_churn_plans_nothing(
    kind: str, tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    p, feed = watched(tmp_path, server, store, clock, [Item(6), *BACKLOG])
    server.set("/feed", rss([Item(7), *BACKLOG]))
    p.poll(feed)
    before = deliveries(store)
    assert len(before) == 2  # item 7 on both channels

    server.set("/feed", rss([Item(7), *CHURN[kind]]))
    result = p.poll(feed)
    assert result.status == "fetched" and result.new == 0 and result.planned == ()
    assert deliveries(store) == before


def test_guid_keeps_identity_when_the_url_changes(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    items = [replace(it, guid=f"cms-{it.n}") for it in BACKLOG]
    server.set("/feed", rss(items))
    p = poller(tmp_path, store, clock, backfill=1)
    feed = url_feed(p, server.url("/feed"))
    assert p.poll(feed).new == 1
    moved = [replace(it, link=it.link + "-neue-url") for it in items]
    server.set("/feed", rss(moved))
    assert p.poll(feed).planned == ()
    assert len(deliveries(store)) == 2


def test_backfill_plans_the_two_newest_by_date(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    shuffled = [Item(3), Item(5), Item(1), Item(4), Item(2)]  # feed order is not date order
    server.set("/feed", rss(shuffled))
    p = poller(tmp_path, store, clock, backfill=2)
    result = p.poll(url_feed(p, server.url("/feed")))
    assert (result.new, result.remembered, len(result.planned)) == (2, 3, 4)
    urls = {u for u, _ in deliveries(store)}
    assert urls == {Item(5).link, Item(4).link}
    # planned oldest first, so each account posts the older story first
    ids = sorted(result.planned)
    page, _ = store.query(Filters(), limit=10)
    by_id = {d.id: article_url(store, d.article_id) for d in page}
    assert by_id[ids[0]] == Item(4).link


def test_backfill_applies_only_to_a_feeds_first_poll(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    _, feed = watched(tmp_path, server, store, clock)
    later = poller(tmp_path, store, clock, backfill=3)
    server.set("/feed", rss([Item(6), *BACKLOG]))
    assert later.poll(feed).new == 1  # only the new item, not 3 of the backlog


def test_article_known_from_another_source_is_not_planned_again(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    from distributor.planning import publish

    p, feed = watched(tmp_path, server, store, clock)
    # The CMS webhook / CLI published item 6 first; the feed then lists it with tracking.
    six = parse_items([Item(6)])[0]
    publish(six, config=p.settings, store=store)
    assert len(deliveries(store)) == 2
    server.set("/feed", rss([replace(Item(6), link=Item(6).link + "?utm_medium=rss"), *BACKLOG]))
    assert p.poll(feed).planned == ()
    assert len(deliveries(store)) == 2


def test_broken_feed_is_logged_and_the_others_keep_going(
    tmp_path: Path,
    server: FeedServer,
    store: Store,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server.set("/good", rss(BACKLOG))
    server.set("/broken", b"<?xml version='1.0'?>\n<rss version='2.0'>\n<<channel>")
    p = poller(tmp_path, store, clock, backfill=1)
    feeds = [url_feed(p, server.url(path)) for path in ("/broken", "/gone", "/good")]
    caplog.set_level(logging.INFO, logger="distributor.watch")
    results = run(p, feeds, interval=60, stop=threading.Event(), once=True)
    assert [r.ok for r in results] == [False, False, True]
    assert results[0].error is not None and "not a valid feed" in results[0].error
    assert results[1].error == f"{server.url('/gone')}: HTTP 404 Not Found"
    assert results[2].new == 1 and len(deliveries(store)) == 2
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 3  # one line per feed and poll
    assert lines[0].startswith(
        f"{server.url('/broken')}: not a valid feed (line 3, column 2: not well-formed"
    )
    assert caplog.records[0].levelno == logging.WARNING
    assert lines[2].startswith(f"{server.url('/good')}: 5 items, first poll: 4 recorded as known")


def test_loop_polls_every_interval_until_stopped(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    server.set("/feed", rss(BACKLOG))
    p = poller(tmp_path, store, clock)
    stop = threading.Event()
    rounds: list[int] = []

    def on_round(results: list[PollResult]) -> None:
        rounds.append(len(results))
        if len(rounds) == 3:
            stop.set()

    run(p, [url_feed(p, server.url("/feed"))], interval=0.01, stop=stop, on_round=on_round)
    assert rounds == [1, 1, 1] and server.statuses("/feed") == [200, 304, 304]


def test_reference_feed_files(tmp_path: Path, store: Store, clock: FakeClock) -> None:
    p = poller(tmp_path, store, clock)
    copies = []
    for name in ("heise.atom", "guardian.rss"):
        copies.append(tmp_path / name)
        shutil.copy(reference_feed(name), copies[-1])
    feeds = [feed_for(str(c), p.watch) for c in copies]
    first = [p.poll(f) for f in feeds]
    assert all(r.first and r.items > 5 and r.remembered == r.items for r in first)
    assert [p.poll(f).status for f in feeds] == ["unchanged", "unchanged"]
    for c in copies:  # rewritten by the CMS with the same items: re-read, nothing new
        c.write_bytes(c.read_bytes().replace(b"</title>", b" </title>"))
    again = [p.poll(f) for f in feeds]
    assert [(r.status, r.new) for r in again] == [("fetched", 0), ("fetched", 0)]
    assert deliveries(store) == []


def test_500_item_feed_churn_plans_nothing(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    items = [Item(n, guid=f"cms-{n}") for n in range(500, 0, -1)]
    server.set("/feed", rss(items), etag=False, last_modified=False)  # full fetch every time
    p = poller(tmp_path, store, clock)
    feed = url_feed(p, server.url("/feed"))
    first = p.poll(feed)
    assert (first.items, first.remembered, first.planned) == (500, 500, ())
    churned = [
        replace(it, when=T0 + timedelta(days=60 - it.n % 7), link=f"{it.link}?utm_source=x{it.n}")
        for it in reversed(items)
    ]
    server.set("/feed", rss([*churned[250:], *churned[:250]]), etag=False, last_modified=False)
    again = p.poll(feed)
    assert (again.items, again.new, again.planned) == (500, 0, ())
    server.set("/feed", rss([Item(501), *churned]), etag=False, last_modified=False)
    assert p.poll(feed).new == 1 and len(deliveries(store)) == 2


def test_the_same_story_twice_in_one_feed_is_planned_once(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    p, feed = watched(tmp_path, server, store, clock)
    twice = [Item(6), replace(Item(6), link=Item(6).link + "?utm_medium=teaser"), *BACKLOG]
    server.set("/feed", rss(twice))
    p.poll(feed)
    assert deliveries(store) == [(Item(6).link, "masto"), (Item(6).link, "tg")]


FRAGILE = 'timeout = "2s"\n[distributor]\ntemplates = "templates"\n' + (
    '[channels.fragile]\nplatform = "mastodon"\naccess_token_env = "MASTO_TOKEN"\n'
    'template = "fragile.txt.j2"\n'
)


def test_an_item_whose_template_fails_is_logged_and_tried_again(
    tmp_path: Path,
    server: FeedServer,
    store: Store,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "fragile.txt.j2").write_text(
        "{% if 'Boom' in title %}{{ no_such_variable }}{% endif %}{{ title }} {{ link }}\n"
    )
    p, feed = watched(tmp_path, server, store, clock, extra=FRAGILE)
    boom = Item(7, title="Boom: die Explosion im Hafen")
    server.set("/feed", rss([boom, Item(6), *BACKLOG]))
    caplog.set_level(logging.INFO, logger="distributor.watch")
    result = p.poll(feed)
    assert result.new == 1 and len(result.planned) == 3  # item 6 on three channels
    assert len(result.problems) == 1 and "fragile" in result.problems[0]
    assert store.known_articles(parse_items([boom])) == [False]  # nothing half-planned
    assert any(r.levelno == logging.WARNING and "no_such_variable" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    assert p.poll(feed).problems == result.problems  # tried again on the next poll
    assert server.statuses("/feed")[-2:] == [200, 200]  # no validators kept: a full fetch


def test_two_watchers_of_one_feed_plan_each_delivery_once(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    _, feed = watched(tmp_path, server, store, clock)
    server.set("/feed", rss([Item(8), Item(7), Item(6), *BACKLOG]))
    others = [poller(tmp_path, store, clock) for _ in range(3)]
    threads = [threading.Thread(target=o.poll, args=(feed,)) for o in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(deliveries(store)) == 6  # three items x two channels, never more


def test_watch_api_dedupes_feeds_and_needs_at_least_one(
    tmp_path: Path, store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributor.watch import watch

    shutil.copy(reference_feed("heise.atom"), tmp_path / "heise.atom")
    monkeypatch.chdir(tmp_path)
    settings = make_settings(tmp_path)
    results = watch(
        ["heise.atom", str(tmp_path / "." / "heise.atom")],
        config=settings,
        store=store,
        clock=clock,
        once=True,
    )
    assert [(r.feed, r.status, r.first) for r in results] == [
        (str(tmp_path / "heise.atom"), "fetched", True)
    ]
    with pytest.raises(ConfigError, match=r"no feeds to watch: give FEED_URL or FILE, or set"):
        watch([], config=settings, store=store, once=True)


MOVED = [replace(it, link=it.link.replace("https://news.example", "https://www.news.example"))
         for it in BACKLOG]  # fmt: skip  # a new domain: every link changed, no guids


def test_too_many_new_items_at_once_are_held_for_a_person(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    p, feed = watched(tmp_path, server, store, clock, extra='timeout = "2s"\nmax_new = 3')
    server.set("/feed", rss(MOVED))
    held = p.poll(feed)
    assert held.status == "held" and held.planned == () and held.remembered == 0
    assert held.error == (
        f"{feed.key}: 5 new items at once, more than [watch] max_new = 3; nothing planned. "
        f"If the links changed, `distributor watch {feed.key} --once --baseline` records them "
        "as known; to post them all, --max-new 0"
    )
    assert store.known_articles(parse_items(MOVED)) == [False] * 5  # nothing half-done
    assert p.poll(feed).status == "held"  # asked again every poll, never silently dropped
    state = store.feed_state(feed.key)
    assert state is not None and (state.last_status, state.failures) == ("held", 2)

    fixer = poller(tmp_path, store, clock, rebaseline=True)
    fixed = fixer.poll(feed)
    assert (fixed.first, fixed.remembered, fixed.planned) == (True, 5, ())
    server.set("/feed", rss([Item(6), *MOVED]))
    assert fixer.poll(feed).new == 1  # re-baselined once per process, then watching again
    assert len(deliveries(store)) == 2


def test_max_new_0_plans_them_all(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    _, feed = watched(tmp_path, server, store, clock, extra='timeout = "2s"\nmax_new = 3')
    server.set("/feed", rss(MOVED))
    result = poller(tmp_path, store, clock, max_new=0).poll(feed)
    assert (result.status, result.new, len(result.planned)) == ("fetched", 5, 10)
