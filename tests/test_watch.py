"""`distributor.watch`: conditional GET, identity across feed churn, backlog and backfill, the
host guard, caps and timeouts, one broken feed among good ones. A loopback feed server, a real
SQLite store, the real planning path; time only moves when the test says so."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from locations import REFERENCE
from watch_helpers import T0, FeedServer, Item, feed_server, rss

from distributor.article import Article
from distributor.config import Settings, load_config
from distributor.errors import ArticleError, ConfigError
from distributor.sources.hosts import HostPolicy, guarded_session, is_public
from distributor.store import open_store
from distributor.store.models import Filters
from distributor.store.store import Store
from distributor.testing import FakeClock
from distributor.watch import (
    Feed,
    Poller,
    PollResult,
    feed_for,
    parse_watch,
    run,
    watch_settings,
)

FEEDS = REFERENCE / "feeds" / "rss-parser" / "input"
SECRETS = {"MASTO_TOKEN": "masto-SECRET-1", "TG_TOKEN": "1:tg-SECRET-2"}
CONFIG = """
[channels.masto]
platform = "mastodon"
access_token_env = "MASTO_TOKEN"

[channels.tg]
platform = "telegram"
chat_id = "@news"
bot_token_env = "TG_TOKEN"

[watch]
allow_hosts = ["127.0.0.1"]
allow_private = true
{extra}
"""


def make_settings(tmp_path: Path, extra: str = 'timeout = "2s"') -> Settings:
    path = tmp_path / "distributor.toml"
    path.write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return load_config(path, environ=SECRETS)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 + timedelta(days=1))


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'd.db'}", clock=clock)
    yield s
    s.close()


def poller(
    tmp_path: Path, store: Store, clock: FakeClock, extra: str = 'timeout = "2s"', backfill: int = 0
) -> Poller:
    settings = make_settings(tmp_path, extra)
    return Poller(settings, store, watch_settings(settings), clock=clock, backfill=backfill)


def url_feed(p: Poller, url: str) -> Feed:
    return feed_for(url, p.watch)


def deliveries(store: Store) -> list[tuple[str, str]]:
    """(canonical article URL, channel) of every delivery in the store."""
    page, _ = store.query(Filters(), limit=1000)
    return sorted((_url(store, d.article_id), d.channel) for d in page)


def _url(store: Store, article_id: str) -> str:
    article = store.article(article_id)
    assert article is not None
    return str(article["canonical_url"])


BACKLOG = [Item(n) for n in (5, 4, 3, 2, 1)]  # newest first, as feeds are


def watched(
    tmp_path: Path,
    server: FeedServer,
    store: Store,
    clock: FakeClock,
    items: list[Item] = BACKLOG,
    extra: str = 'timeout = "2s"',
    **route: object,
) -> tuple[Poller, Feed]:
    """A poller on the server's /feed serving `items`, after its first (baseline) poll."""
    server.set("/feed", rss(items), **route)
    p = poller(tmp_path, store, clock, extra)
    feed = url_feed(p, server.url("/feed"))
    p.poll(feed)
    return p, feed


def test_first_poll_records_backlog_then_304_then_one_new_item(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    server.set("/feed", rss(BACKLOG))
    p = poller(tmp_path, store, clock)
    feed = url_feed(p, server.url("/feed"))

    first = p.poll(feed)
    assert (first.first, first.items, first.remembered, first.new) == (True, 5, 5, 0)
    assert deliveries(store) == []  # no flood of the backlog
    assert all(store.known_articles([a]) == [True] for a in _articles(BACKLOG))

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


def _articles(items: list[Item]) -> list[Article]:
    from distributor.sources import parse_feed

    return list(parse_feed(rss(items), "feed"))


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
    by_id = {d.id: _url(store, d.article_id) for d in page}
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
    six = _articles([Item(6)])[0]
    publish(six, config=p.settings, store=store)
    assert len(deliveries(store)) == 2
    server.set("/feed", rss([replace(Item(6), link=Item(6).link + "?utm_medium=rss"), *BACKLOG]))
    assert p.poll(feed).planned == ()
    assert len(deliveries(store)) == 2


def test_disallowed_host_and_scheme_are_refused_up_front(tmp_path: Path) -> None:
    conf = watch_settings(make_settings(tmp_path))
    with pytest.raises(ConfigError) as exc:
        feed_for("https://evil.example/feed.xml", conf)
    assert str(exc.value) == (
        "https://evil.example/feed.xml: host 'evil.example' is not allowed "
        "(add it to [watch] allow_hosts)"
    )
    with pytest.raises(ConfigError, match="only http:// and https://"):
        feed_for("ftp://127.0.0.1/feed", conf)
    with pytest.raises(ConfigError, match="no such feed file"):
        feed_for(str(tmp_path / "missing.xml"), conf)


def test_private_address_is_refused_unless_allowed(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    server.set("/feed", rss(BACKLOG))
    p = poller(tmp_path, store, clock)
    p = Poller(
        p.settings,
        store,
        replace(p.watch, hosts=HostPolicy(("127.0.0.1",), allow_private=False)),
        clock=clock,
    )
    result = p.poll(url_feed(p, server.url("/feed")))
    assert result.error == (
        f"{server.url('/feed')}: host '127.0.0.1' resolves to the non-public address "
        "127.0.0.1 (set [watch] allow_private = true to allow it)"
    )
    assert server.seen == []  # refused before connecting
    state = store.feed_state(server.url("/feed"))
    assert state is not None and (state.last_status, state.failures) == ("error", 1)


def test_redirect_to_a_host_not_allowed_is_refused(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    server.set("/feed", rss(BACKLOG))
    server.set("/moved", b"", status=301, location=server.url("/feed", host="localhost"))
    p = poller(tmp_path, store, clock)
    result = p.poll(url_feed(p, server.url("/moved")))
    assert result.error is not None and "host 'localhost' is not allowed" in result.error
    assert server.statuses("/feed") == []


def test_connects_to_the_checked_address_without_a_second_lookup(server: FeedServer) -> None:
    server.set("/feed", rss(BACKLOG))
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    policy = HostPolicy(("*.example.de",), allow_private=True, resolve=resolve)
    session = guarded_session(policy)
    # The suite's socket guard refuses any real DNS lookup of feeds.example.de: this only
    # works because the connection goes to the address the policy resolved and checked.
    resp = session.get(f"http://feeds.example.de:{server.port}/feed", timeout=2)
    assert resp.status_code == 200 and resp.content == rss(BACKLOG)
    assert lookups == ["feeds.example.de"] and server.seen[-1].host.startswith("feeds.example.de")


@pytest.mark.parametrize(
    ("addresses", "refused"),
    [
        (["93.184.215.14"], None),
        (["93.184.215.14", "10.1.2.3"], "10.1.2.3"),  # one private answer is enough to refuse
        (["169.254.169.254"], "169.254.169.254"),  # cloud metadata
        (["::ffff:127.0.0.1"], "::ffff:127.0.0.1"),
        (["fe80::1%eth0"], "fe80::1%eth0"),
        (["100.64.0.1"], "100.64.0.1"),  # carrier-grade NAT
        (["0.0.0.0"], "0.0.0.0"),
    ],
)
def test_every_resolved_address_must_be_public(addresses: list[str], refused: str | None) -> None:
    from distributor.sources.hosts import HostRefused

    policy = HostPolicy(("www.example.de",), resolve=lambda h, p: addresses)
    if refused is None:
        assert policy.addresses("www.example.de", 443) == addresses
        return
    with pytest.raises(HostRefused, match=f"non-public address {refused}"):
        policy.addresses("www.example.de", 443)
    assert not is_public(refused)


def test_host_patterns() -> None:
    policy = HostPolicy(("www.example.de", "*.cdn.example.de"))
    assert policy.allows_name("WWW.Example.DE.")
    assert policy.allows_name("a.b.cdn.example.de")
    assert not policy.allows_name("cdn.example.de")  # the wildcard means subdomains
    assert not policy.allows_name("evilcdn.example.de")
    assert not policy.allows_name("example.de")
    assert HostPolicy(("*",)).allows_name("anything.example")
    assert not HostPolicy().allows_name("www.example.de")  # nothing configured: nothing allowed


def test_oversized_feed_is_capped_and_timeouts_are_errors(
    tmp_path: Path, server: FeedServer, store: Store, clock: FakeClock
) -> None:
    server.set("/huge", rss([Item(n) for n in range(300)]))
    server.set("/slow", rss(BACKLOG), delay=1.0)
    p = poller(tmp_path, store, clock, extra='max_size = "16 KiB"\ntimeout = "0.3s"')
    assert len(server.routes["/huge"].body) > 16 * 1024
    huge = p.poll(url_feed(p, server.url("/huge")))
    assert huge.error == f"{server.url('/huge')}: response is larger than 16 KiB"
    slow = p.poll(url_feed(p, server.url("/slow")))
    assert slow.error == f"{server.url('/slow')}: timed out while fetching"
    assert deliveries(store) == [] and store.known_articles(_articles(BACKLOG)) == [False] * 5


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
        shutil.copy(FEEDS / name, copies[-1])
    feeds = [feed_for(str(c), p.watch) for c in copies]
    first = [p.poll(f) for f in feeds]
    assert all(r.first and r.items > 5 and r.remembered == r.items for r in first)
    assert [p.poll(f).status for f in feeds] == ["unchanged", "unchanged"]
    for c in copies:  # rewritten by the CMS with the same items: re-read, nothing new
        c.write_bytes(c.read_bytes().replace(b"</title>", b" </title>"))
    again = [p.poll(f) for f in feeds]
    assert [(r.status, r.new) for r in again] == [("fetched", 0), ("fetched", 0)]
    assert deliveries(store) == []


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"allow_host": ["x"]}, "[watch] unknown key 'allow_host' (known: feeds, allow_hosts"),
        (
            {"allow_hosts": ["https://www.example.de/rss"]},
            "'https://www.example.de/rss' is not a host name",
        ),
        ({"allow_hosts": "www.example.de"}, "key 'allow_hosts': must be a list"),
        ({"allow_private": "yes"}, "key 'allow_private': must be true or false"),
        ({"interval": "soon"}, "key 'interval': not a duration: 'soon'"),
        ({"interval": 0.5}, "key 'interval': must be at least 1 s"),
        ({"max_size": "huge"}, "key 'max_size': not a size: 'huge'"),
        ({"feeds": [1]}, "key 'feeds': must be a list of non-empty strings"),
    ],
)
def test_watch_settings_errors(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_watch(table, "distributor.toml")
    assert str(exc.value).startswith("distributor.toml: ")
    assert message in str(exc.value)


def test_watch_settings_values() -> None:
    conf = parse_watch(
        {
            "allow_hosts": ["WWW.Example.de", "*.example.de", "[::1]"],
            "interval": "5m",
            "timeout": 10,
            "max_size": "512 KiB",
            "feeds": ["feed.xml"],
        },
        "x.toml",
    )
    assert conf.hosts.allow_hosts == ("www.example.de", "*.example.de", "::1")
    assert (conf.interval, conf.timeout, conf.max_bytes, conf.feeds) == (
        300.0,
        10.0,
        512 * 1024,
        ("feed.xml",),
    )
    assert not conf.hosts.allow_private


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
    assert store.known_articles(_articles([boom])) == [False]  # nothing half-planned
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

    shutil.copy(FEEDS / "heise.atom", tmp_path / "heise.atom")
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


def test_https_goes_through_the_same_guard(server: FeedServer) -> None:
    from distributor.sources.files import fetch_url

    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    session = guarded_session(HostPolicy(("feeds.example.de",), True, resolve=resolve))
    url = f"https://feeds.example.de:{server.port}/feed"  # a plain-HTTP server: TLS fails
    with pytest.raises(ArticleError, match=r"cannot fetch \(SSLError\)"):
        fetch_url(url, session=session, timeout=2)
    assert lookups == ["feeds.example.de"]
    refusing = guarded_session(HostPolicy(("feeds.example.de",), resolve=resolve))
    with pytest.raises(ArticleError, match=r"non-public address 127\.0\.0\.1"):
        fetch_url(url, session=refusing, timeout=2)
