"""What `distributor watch` refuses: hosts not allowed, non-http(s) schemes, private addresses
(every resolved one, no second lookup), redirects elsewhere, oversized and slow feeds; and the
`[watch]` settings with their one-line errors."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from watch_helpers import (
    BACKLOG,
    FeedServer,
    Item,
    deliveries,
    make_settings,
    parse_items,
    poller,
    rss,
    url_feed,
)

from distributor.config.tables import parse_watch
from distributor.errors import ArticleError, ConfigError
from distributor.fetch import Rules, fetch
from distributor.sources.hosts import HostPolicy, is_public
from distributor.store.store import Store
from distributor.testing import FakeClock
from distributor.watch import Poller, feed_for


def test_disallowed_host_and_scheme_are_refused_up_front(tmp_path: Path) -> None:
    conf = make_settings(tmp_path).watch
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
    # The suite's socket guard refuses any real DNS lookup of feeds.example.de: this only
    # works because the connection goes to the address the policy resolved and checked.
    got = fetch(f"http://feeds.example.de:{server.port}/feed", Rules(policy, deadline=2))
    assert got.status == 200 and got.data == rss(BACKLOG)
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
    # the size cap with a generous deadline (a loaded machine must not turn it into a timeout)
    (tmp_path / "capped").mkdir()
    capped = poller(tmp_path / "capped", store, clock, extra='max_size = "16 KiB"\ntimeout = "20s"')
    assert len(server.routes["/huge"].body) > 16 * 1024
    huge = capped.poll(url_feed(capped, server.url("/huge")))
    assert huge.error == f"{server.url('/huge')}: response is larger than 16 KiB"
    p = poller(tmp_path, store, clock, extra='max_size = "16 KiB"\ntimeout = "0.3s"')
    slow = p.poll(url_feed(p, server.url("/slow")))
    assert slow.error == f"{server.url('/slow')}: timed out while fetching (limit 0.3 s)"
    assert deliveries(store) == [] and store.known_articles(parse_items(BACKLOG)) == [False] * 5


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"allow_host": ["x"]},
            "[watch] key 'allow_host': unknown key (did you mean 'allow_hosts'?)",
        ),
        (
            {"allow_hosts": ["https://www.example.de/rss"]},
            "'https://www.example.de/rss' is not a host name",
        ),
        ({"allow_hosts": 5}, "key 'allow_hosts': must be a list"),
        ({"allow_private": "yes"}, "key 'allow_private': must be true or false"),
        ({"interval": "soon"}, "key 'interval': not a duration: 'soon'"),
        ({"interval": 0.5}, "key 'interval': must be at least 1 s"),
        ({"max_size": "huge"}, "key 'max_size': not a size: 'huge'"),
        ({"feeds": [1]}, "key 'feeds': must be a list of non-empty strings"),
        ({"max_new": -1}, "key 'max_new': must be a whole number >= 0"),
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


def test_https_goes_through_the_same_guard(server: FeedServer) -> None:
    from distributor.sources.files import fetch_url

    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    allowing = Rules(HostPolicy(("feeds.example.de",), True, resolve=resolve), deadline=2)
    url = f"https://feeds.example.de:{server.port}/feed"  # a plain-HTTP server: TLS fails
    with pytest.raises(ArticleError, match=r"cannot fetch \(SSLError\)"):
        fetch_url(url, rules=allowing)
    assert lookups == ["feeds.example.de"]
    refusing = Rules(HostPolicy(("feeds.example.de",), resolve=resolve), deadline=2)
    with pytest.raises(ArticleError, match=r"non-public address 127\.0\.0\.1"):
        fetch_url(url, rules=refusing)
