"""Admin UI pages and actions against real uvicorn: escaping, filters, pagination, approve,
retry, retract and preview, each checked in the store as well as on the page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import admin_settings, build_app, csrf_of, login, seed, serve
from review_helpers import closed_port, finish

from distributor.store import open_store
from distributor.store.models import Filters, State

HOSTILE = "<script>alert(1)</script> & \"quotes\" 'single'"
URL = "https://news.example/politik/story-{}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    settings = admin_settings(tmp_path, f"http://127.0.0.1:{closed_port()}", db)
    store = open_store(db)
    with serve(build_app(settings, store)) as base:
        http = requests.Session()
        login(http, base)
        yield {"base": base, "store": store, "settings": settings, "http": http}
    store.close()


def get(site: dict[str, Any], path: str, **params: str) -> requests.Response:
    return site["http"].get(site["base"] + "/admin" + path, params=params)  # type: ignore[no-any-return]


def post(site: dict[str, Any], path: str, page: str, **data: str) -> requests.Response:
    """Submit a form of `page` (its CSRF token) to `path`, following the redirect."""
    csrf = csrf_of(get(site, page).text)
    return site["http"].post(site["base"] + "/admin" + path, data={"csrf": csrf, **data})  # type: ignore[no-any-return]


def ids_on(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-label="#"><a href="/admin/deliveries/(\d+)"', page)]


def test_hostile_title_and_text_are_shown_as_text(site: dict[str, Any]) -> None:
    ids = seed(site["settings"], site["store"], HOSTILE, URL.format(1))
    aid = site["store"].get(ids["sky"]).article_id
    for path in ("/", "/deliveries", f"/deliveries/{ids['sky']}", f"/articles/{aid}", "/?q=script"):
        body = get(site, path).text
        assert "<script>" not in body, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, path
    # An edited text with markup is stored as typed and escaped on the page as well.
    r = post(
        site,
        f"/deliveries/{ids['sky']}/approve",
        f"/deliveries/{ids['sky']}",
        text="<img src=x onerror=alert(2)> https://news.example/politik/story-1",
    )
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(2)&gt;" in r.text
    assert site["store"].get(ids["sky"]).draft["text"].startswith("<img src=x")
    # Preview escapes a hostile pasted article too.
    r = post(
        site, "/preview", "/preview", source=json.dumps({"url": URL.format(9), "title": HOSTILE})
    )
    assert r.status_code == 200 and "<script>" not in r.text and "&lt;script&gt;" in r.text


def test_filters_narrow_the_log(site: dict[str, Any]) -> None:
    s, store = site["settings"], site["store"]
    a = seed(s, store, "Haushalt für 2027 beschlossen", URL.format(1))
    b = seed(s, store, "Wetter: Sturm erwartet", URL.format(2))
    assert set(ids_on(get(site, "/deliveries").text)) == set(a.values()) | set(b.values())
    assert ids_on(get(site, "/deliveries", state="awaiting_review").text) == [b["sky"], a["sky"]]
    assert ids_on(get(site, "/deliveries", channel="masto").text) == [b["masto"], a["masto"]]
    assert ids_on(get(site, "/deliveries", platform="telegram").text) == [b["tg"], a["tg"]]
    assert set(ids_on(get(site, "/deliveries", q="sturm").text)) == set(
        b.values()
    )  # title, any case
    assert set(ids_on(get(site, "/deliveries", q="für 2027").text)) == set(a.values())  # non-ASCII
    assert set(ids_on(get(site, "/deliveries", article=URL.format(2)).text)) == set(b.values())
    assert ids_on(get(site, "/deliveries", since="2000-01-01", until="2000-01-02").text) == []
    assert len(ids_on(get(site, "/deliveries", since="1h", state="queued").text)) == 4
    bad = get(site, "/deliveries", since="yesterday-ish")
    assert bad.status_code == 400 and "Since: not a date/time or age" in bad.text
    bad = get(site, "/deliveries", article="https://elsewhere.example/x")
    assert bad.status_code == 400 and "no article" in html.unescape(bad.text)
    assert get(site, "/deliveries", after="not-a-cursor").status_code == 400


def test_keyset_pagination_walks_every_row_once(site: dict[str, Any]) -> None:
    from distributor.article import Article
    from distributor.store.models import PlanItem

    store = site["store"]
    for n in range(40):  # 120 deliveries, straight into the store (fast)
        items = [
            PlanItem(
                c,
                p,
                f"acct-{c}",
                {"text": f"post {n} {c}", "length": 9, "limit": 500},
                f"k-{n}-{c}",
                review=c == "sky",
            )
            for c, p in (("masto", "mastodon"), ("sky", "bluesky"), ("tg", "telegram"))
        ]
        store.plan(Article(url=URL.format(n), title=f"Story {n}"), items, source="test")
    seen: list[int] = []
    page = get(site, "/deliveries").text
    while True:
        got = ids_on(page)
        assert 0 < len(got) <= 50
        seen += got
        nxt = re.search(r'<a href="\?([^"]*)" rel="next"', page)
        if not nxt:
            break
        assert "after=" in nxt.group(1)
        page = (
            site["http"].get(site["base"] + "/admin/deliveries?" + html.unescape(nxt.group(1))).text
        )
        assert "Newest" in page
    assert len(seen) == 120 == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    # Filters survive paging: 80 queued rows (sky awaits review) = a page of 50, then 30.
    first = get(site, "/deliveries", state="queued").text
    nxt = re.search(r'<a href="\?([^"]*)" rel="next"', first)
    assert nxt and "state=queued" in nxt.group(1)
    second = (
        site["http"].get(site["base"] + "/admin/deliveries?" + html.unescape(nxt.group(1))).text
    )
    assert len(ids_on(first)) == 50 and len(ids_on(second)) == 30
    assert not set(ids_on(first)) & set(ids_on(second))
    assert 'rel="next"' not in second
    assert store.query(Filters(search="post 3 "), limit=50)[0]  # text search in the store


def test_approve_with_an_edit_rechecked_against_the_limit(site: dict[str, Any]) -> None:
    ids = seed(site["settings"], site["store"], "Rat beschließt Haushalt", URL.format(1))
    d, store = ids["sky"], site["store"]
    too_long = "Lang " * 80 + "https://news.example/politik/story-1"
    r = post(site, f"/deliveries/{d}/approve", f"/deliveries/{d}", text=too_long)
    assert r.status_code == 409 and "edited text is too long for bluesky" in r.text
    assert too_long.strip() in html.unescape(r.text)  # the edit is kept for another try
    assert store.get(d).state is State.AWAITING_REVIEW
    r = post(site, f"/deliveries/{d}/approve", f"/deliveries/{d}", text="Kurz und gut.")
    assert r.status_code == 200 and "Approved: the post is queued." in r.text
    after = store.get(d)
    assert after.state is State.QUEUED and after.draft["text"] == "Kurz und gut."
    assert store.events(delivery_id=d)[0]["actor"] == "alice"
    assert "approved with edited text" in r.text  # the event is on the page
    again = post(site, f"/deliveries/{d}/approve", f"/deliveries/{d}")
    assert again.status_code == 409 and "Not waiting for review any more" in again.text


def test_approve_unchanged_multiline_text_as_a_browser_sends_it(site: dict[str, Any]) -> None:
    ids = seed(site["settings"], site["store"], "Rat beschließt Haushalt", URL.format(1))
    d, store = ids["sky"], site["store"]
    text = store.get(d).draft["text"]
    assert "\n" in text
    r = post(site, f"/deliveries/{d}/approve", f"/deliveries/{d}", text=text.replace("\n", "\r\n"))
    assert r.status_code == 200
    after = store.get(d)
    assert after.draft["text"] == text and "\r" not in after.draft["text"]
    assert store.events(delivery_id=d)[0]["detail"] == "approved"  # not "with edited text"


def test_retry_of_an_unknown_outcome_needs_force(site: dict[str, Any]) -> None:
    store = site["store"]
    ids = seed(site["settings"], store, "Rat beschließt Haushalt", URL.format(1))
    finish(store, "unknown")
    d = ids["masto"]
    page = get(site, f"/deliveries/{d}").text
    assert 'name="force"' in page and "Check platform" in page and "unknown" not in page
    r = post(site, f"/deliveries/{d}/retry", f"/deliveries/{d}")
    assert r.status_code == 409 and store.get(d).state is State.UNKNOWN
    said = html.unescape(r.text)
    assert "tick “I checked Mastodon: it was not posted; send again”" in said
    assert "--force" not in said
    r = post(site, f"/deliveries/{d}/retry", f"/deliveries/{d}", force="yes")
    assert r.status_code == 200 and store.get(d).state is State.QUEUED
    last = store.events(delivery_id=d)[0]
    assert (last["actor"], last["detail"]) == ("alice", "retry --force")
    assert [e["actor"] for e in store.events(delivery_id=d)][:1] == ["alice"]


def test_cancel_and_retract_record_who_did_it(site: dict[str, Any]) -> None:
    store = site["store"]
    ids = seed(site["settings"], store, "Rat beschließt Haushalt", URL.format(1))
    aid = store.get(ids["sky"]).article_id
    r = post(site, f"/deliveries/{ids['tg']}/cancel", f"/deliveries/{ids['tg']}")
    assert r.status_code == 200 and store.get(ids["tg"]).state is State.CANCELLED
    r = post(site, f"/articles/{aid}/retract", f"/articles/{aid}")  # not confirmed
    assert r.status_code == 409 and "Tick the box" in r.text
    assert store.get(ids["sky"]).state is State.AWAITING_REVIEW
    r = post(site, f"/articles/{aid}/retract", f"/articles/{aid}", confirm="yes")
    assert r.status_code == 200 and "Retract finished" in r.text
    assert store.get(ids["sky"]).state is State.CANCELLED  # pending: cancelled, never posted
    assert store.get(ids["masto"]).state is State.CANCELLED
    events = [e for e in store.events() if e["action"] == "cancel" or "retract" in e["detail"]]
    assert events and {e["actor"] for e in store.events(delivery_id=ids["sky"])} >= {"alice"}


def test_pause_and_resume(site: dict[str, Any]) -> None:
    r = post(site, "/pause", "/")
    assert "Queue paused" in r.text and site["store"].paused()
    r = post(site, "/resume", "/")
    assert "Resumed" in r.text and not site["store"].paused()


def test_preview_shows_every_channel_with_length_and_limit(site: dict[str, Any]) -> None:
    article = {"url": URL.format(5), "title": "Sturm über Hamburg", "teaser": "Der Hafen schließt."}
    r = post(site, "/preview", "/preview", source=json.dumps(article))
    assert r.status_code == 200
    for name, limit in (("masto", "500"), ("sky", "300"), ("tg", r"\d+")):
        assert re.search(
            rf"{name} <small>\w+</small>\s*<span class=\"count \">\d+/{limit}</span>", r.text
        ), name
    assert "Sturm über Hamburg" in r.text
    # A URL is fetched under the [watch] host rules: nothing on the server's own network.
    r = post(site, "/preview", "/preview", source=f"{site['base']}/admin/login")
    assert r.status_code == 422 and "is not allowed (add it to [watch] allow_hosts)" in r.text
    r = post(site, "/preview", "/preview", source="/etc/passwd")
    assert r.status_code == 422 and "paste an article" in r.text and "root:" not in r.text
    r = post(site, "/preview", "/preview", source='{"title": "no url"}')
    assert r.status_code == 422 and "url" in r.text
    # Hostile JSON is a 422 naming the limit, not a 500 (issue 13 finding 9).
    hostile = {
        '{"url": "https://n.example/a", "title": "T", "x": '
        + "[" * 1000
        + "]" * 1000
        + "}": "deep",
        '{"url": "https://n.example/a", "title": "T", "x": ' + "7" * 5000 + "}": "digits",
        '{"url": "https://n.example/a", "title": "\\ud800"}': "lone surrogate",
        '{"url": "https://n.example/a", "title": "T\\u0000"}': "NUL character",
    }
    for source, expected in hostile.items():
        r = post(site, "/preview", "/preview", source=source)
        assert r.status_code == 422 and expected in r.text, expected


def test_unknown_delivery_and_article_are_404(site: dict[str, Any]) -> None:
    assert get(site, "/deliveries/999999").status_code == 404
    assert get(site, "/articles/nope").status_code == 404
