"""The social desk against real uvicorn: the article-centred home page, "Needs attention" with
each kind of problem (and its empty state), plain words instead of developer words, HTML error
pages with the security headers, the favicon and unique landmark labels."""

from __future__ import annotations

import html
import re
from typing import Any

from admin_helpers import seed
from desk_helpers import ALERT, FAILED_DETAIL, HANDLE, seed_problems
from test_admin_pages import URL, get, post, site

from distributor.clock import SYSTEM
from distributor.web.headers import HEADERS

__all__ = ["site"]  # the fixture, shared with the admin page tests
DEVELOPER_WORDS = (
    "MaybeSent",
    "NotSent",
    "Rejected",
    "AuthFailed",
    "--force",
    "_TOKEN",
    "HTTP 503",
)


def text_of(page: str) -> str:
    """The visible text (tags dropped, entities decoded, white space as single spaces)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def rows_of(page: str) -> list[str]:
    body = page.split('<table class="articles">', 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr id=\"a-[^\"]+\">(.*?)</tr>", body, re.S)


def test_home_has_one_row_per_article_with_a_chip_per_channel(site: dict[str, Any]) -> None:
    ids = seed_problems(site["settings"], site["store"], SYSTEM.now())
    page = get(site, "/")
    assert page.status_code == 200
    rows = rows_of(page.text)
    assert len(rows) == 3  # three articles, seven deliveries
    trouble, posted, stuck = rows  # newest first
    assert "Rat beschließt Haushalt" in trouble and "Wahl: das Ergebnis &amp; die Folgen" in posted
    chips = re.findall(r'<a class="chip t-(\w+)" href="([^"]+)"[^>]*>(.*?)</a>', page.text, re.S)
    by_channel = {
        (text_of(c[2]).split()[1], c[1]): (c[0], " ".join(text_of(c[2]).split())) for c in chips
    }
    # A posted chip links to the live post; it says "Posted" with an icon, not colour alone.
    sent = store_get(site, ids["posted"]["masto"])
    assert by_channel[("masto", sent.remote_url)] == ("ok", "✓ masto Posted")
    assert ("bad", "? masto Check platform") in by_channel.values()
    assert ("bad", "✕ tg Failed") in by_channel.values()
    assert ("warn", "✎ sky Needs review") in by_channel.values()
    # A chip of a post not sent opens its delivery.
    assert f'href="/admin/deliveries/{ids["failed"]}"' in trouble
    assert "Wetter" in stuck and "Sturm erwartet" in stuck  # the section
    # Filters pick articles; every row keeps all its channels.
    review = rows_of(get(site, "/", state="awaiting_review").text)
    assert len(review) == 1 and review[0].count('class="chip ') == 3
    assert len(rows_of(get(site, "/", q="sturm").text)) == 1
    bad = get(site, "/", since="soon-ish")
    assert bad.status_code == 400 and "Since: not a date/time or age" in bad.text
    assert get(site, "/", after="1.0:no'pe").status_code == 400
    assert 'href="/admin/deliveries"' in page.text  # the per-delivery table, one click away


def store_get(site: dict[str, Any], id: int) -> Any:
    return site["store"].get(id)


def test_home_pages_by_article_without_skipping(site: dict[str, Any]) -> None:
    for n in range(35):
        seed(site["settings"], site["store"], f"Story {n}", URL.format(n))
    page, seen = get(site, "/").text, []
    while True:
        seen += re.findall(r'<tr id="a-([^"]+)">', page)
        nxt = re.search(r'<a href="\?([^"]*)" rel="next"', page)
        if not nxt:
            break
        page = site["http"].get(site["base"] + "/admin/?" + html.unescape(nxt.group(1))).text
    assert len(seen) == 35 == len(set(seen))


def test_attention_lists_each_kind_of_problem_with_a_way_to_act(site: dict[str, Any]) -> None:
    ids = seed_problems(site["settings"], site["store"], SYSTEM.now())
    page = get(site, "/attention")
    assert page.status_code == 200
    said = text_of(page.text)
    for anchor, count in (("review", 1), ("unknown", 1), ("failed", 1), ("stuck", 1)):
        assert re.search(rf'<h2 id="{anchor}">[^<]*<span class="n">{count}</span>', page.text), (
            anchor
        )
    for kind in ("review", "unknown", "failed", "stuck"):
        assert f'href="/admin/deliveries/{ids[kind]}"' in page.text, kind
    assert "social.example did not answer" not in said  # the platform's name, not a host
    assert (
        f"Mastodon did not answer in time; the post may exist — check {HANDLE} on Mastodon" in said
    )
    assert "Telegram refused the post. It was not sent: retry or cancel it." in said
    assert "Due since" in said and "is a worker running" in said
    assert "The queue is paused" in said and 'action="/admin/resume"' in page.text
    assert "tg · Telegram: the platform asked us to pause until" in said  # rate-limited
    assert "sky · Bluesky: the platform no longer accepts the login" in said
    assert "No worker is running" in said and "Silent: worker-1" in said
    assert ALERT in said
    assert not [w for w in DEVELOPER_WORDS if w in said]
    # The home page's panel counts the same and links to each list.
    home = get(site, "/").text
    for anchor in (
        "review",
        "unknown",
        "failed",
        "stuck",
        "paused",
        "accounts",
        "workers",
        "alerts",
    ):
        assert f'href="/admin/attention#{anchor}"' in home, anchor


def test_nothing_needs_you_says_what_is_fine(site: dict[str, Any]) -> None:
    site["store"].heartbeat("worker-1")
    for path in ("/", "/attention"):
        page = get(site, path).text
        assert 'id="all-fine"' in page and "Nothing needs you" in page, path
    assert "1 worker running" in text_of(get(site, "/attention").text)


def test_plain_words_on_the_delivery_page(site: dict[str, Any]) -> None:
    ids = seed_problems(site["settings"], site["store"], SYSTEM.now())
    unknown = get(site, f"/deliveries/{ids['unknown']}").text
    said = text_of(unknown)
    assert f"account {HANDLE}" in said  # the handle `check` saw, never variable names
    assert "MASTODON_ACCESS_TOKEN" not in said and "mastodon:" not in said
    assert "Check platform" in said and "did not answer in time" in said
    assert "I checked Mastodon: it was not posted; send again" in said
    failed = text_of(get(site, f"/deliveries/{ids['failed']}").text)
    assert "Telegram refused the post" in failed and FAILED_DETAIL in failed  # what it said
    assert "channel tg on Telegram" not in failed and "tg on Telegram" in failed
    for path in (f"/deliveries/{ids['unknown']}", f"/deliveries/{ids['failed']}", "/deliveries"):
        assert not [
            w
            for w in ("MaybeSent", "Rejected", "awaiting_review")
            if w in text_of(get(site, path).text)
        ]
    r = post(site, f"/deliveries/{ids['unknown']}/retry", f"/deliveries/{ids['unknown']}")
    assert r.status_code == 409 and "tick “I checked Mastodon" in html.unescape(r.text)


def test_the_failed_row_shows_its_error_and_posts_keep_line_breaks(site: dict[str, Any]) -> None:
    ids = seed_problems(site["settings"], site["store"], SYSTEM.now())
    table = get(site, "/deliveries").text
    row = next(r for r in table.split("<tr>") if f'/admin/deliveries/{ids["failed"]}"' in r)
    assert "Telegram refused the post" in html.unescape(row)
    stuck = get(site, f"/deliveries/{ids['stuck']}").text
    assert '<pre class="post" id="post-text">Sturm\nerwartet</pre>' in stuck
    css = site["http"].get(site["base"] + "/admin/static/admin.css").text
    assert "td.text { white-space: pre-line; }" in css


def test_error_pages_are_html_with_the_security_headers(site: dict[str, Any]) -> None:
    for path in ("/no/such/page", "/deliveries/999999", "/articles/nope"):
        r = get(site, path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
        assert "<h1>" in r.text and 'aria-label="Main"' in r.text, path
        for name, value in HEADERS.items():
            assert r.headers[name] == value, (path, name)
    anonymous = site["http"].__class__().get(site["base"] + "/admin/no/such/page")
    assert anonymous.status_code == 404 and "Sign out" not in anonymous.text


def test_a_crash_is_an_html_500_with_the_headers_and_no_detail(site: dict[str, Any]) -> None:
    store = site["store"]
    original = store.counts_by_state
    store.counts_by_state = lambda: (_ for _ in ()).throw(RuntimeError("secret detail"))
    try:
        r = get(site, "/")
    finally:
        store.counts_by_state = original
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in r.text and "secret detail" not in r.text
    for name, value in HEADERS.items():
        assert r.headers[name] == value, name


def test_favicon_and_unique_landmark_labels(site: dict[str, Any]) -> None:
    home = get(site, "/").text
    icon = re.search(r'<link rel="icon" href="([^"]+)"', home)
    assert icon
    r = site["http"].get(site["base"] + icon.group(1))
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg")
    labels = re.findall(r'<nav[^>]* aria-label="([^"]+)"', home)
    assert labels == ["Main", "Language", "Pages"] and len(set(labels)) == len(labels)
    assert "<nav>" not in get(site, "/deliveries").text


def test_refused_cancel_and_approve_speak_the_desks_words(site: dict[str, Any]) -> None:
    ids = seed_problems(site["settings"], site["store"], SYSTEM.now())
    sent = ids["posted"]["masto"]
    r = post(site, f"/deliveries/{sent}/cancel", f"/deliveries/{sent}")
    said = text_of(r.text)
    assert r.status_code == 409 and "Already posted on Mastodon" in said
    assert "retract the article on its page" in said and "distributor retract" not in said
    r = post(site, f"/deliveries/{ids['stuck']}/cancel", f"/deliveries/{ids['stuck']}")
    assert r.status_code == 200
    r = post(site, f"/deliveries/{ids['stuck']}/cancel", f"/deliveries/{ids['stuck']}")
    assert r.status_code == 409 and "Nothing to cancel" in text_of(r.text)
    queued = ids["posted"]["sky"]  # approved and posted
    r = post(site, f"/deliveries/{queued}/approve", f"/deliveries/{queued}")
    assert r.status_code == 409 and "Not waiting for review any more" in text_of(r.text)
    german = {"Accept-Language": "de"}
    page = site["http"].get(f"{site['base']}/admin/deliveries/{sent}", headers=german).text
    from admin_helpers import csrf_of

    r = site["http"].post(
        f"{site['base']}/admin/deliveries/{sent}/cancel",
        data={"csrf": csrf_of(page)},
        headers=german,
    )
    assert "Schon auf Mastodon veröffentlicht" in text_of(r.text)


def test_the_home_page_makes_the_same_queries_for_3_or_30_articles(site: dict[str, Any]) -> None:
    """No query per article or per delivery (N+1): the count stays the same as the page fills."""
    import sqlalchemy as sa

    store, seen = site["store"], []

    def count(*args: Any) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            seen.append(args[2])

    def selects() -> int:
        seen.clear()
        assert get(site, "/").status_code == 200
        assert get(site, "/deliveries").status_code == 200
        return len(seen)

    seed_problems(site["settings"], store, SYSTEM.now())
    sa.event.listen(store._engine, "before_cursor_execute", count)
    try:
        few = selects()
        sa.event.remove(store._engine, "before_cursor_execute", count)
        for n in range(27):
            seed(site["settings"], store, f"Story {n}", URL.format(n))
        sa.event.listen(store._engine, "before_cursor_execute", count)
        assert selects() == few, few
    finally:
        if sa.event.contains(store._engine, "before_cursor_execute", count):
            sa.event.remove(store._engine, "before_cursor_execute", count)


def test_switched_off_channels_are_named_on_the_attention_page(site: dict[str, Any]) -> None:
    from dataclasses import replace

    from distributor.web.admin.attention import gather

    settings = site["settings"]
    off = tuple(replace(c, enabled=False) if c.name == "tg" else c for c in settings.channels)
    found = gather(site["store"], replace(settings, channels=off), SYSTEM.now())
    assert found.switched_off == ["tg"] and "tg" not in found.problems  # information, no alarm
    assert gather(site["store"], settings, SYSTEM.now()).switched_off == []
    import requests
    from admin_helpers import build_app, login, serve

    with serve(build_app(replace(settings, channels=off), site["store"])) as base:
        http = requests.Session()
        login(http, base)
        page = text_of(http.get(f"{base}/admin/attention").text)
    assert "Switched off in the configuration (enabled = false)" in page and "them: tg." in page
