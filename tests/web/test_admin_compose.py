"""The desk's Compose page against real uvicorn: a URL fetched only under the host rules, a
feed item picked, every channel counted as its platform counts, edits kept and re-counted,
an edit over the limit refused in one line, and publishing recorded with the signed-in user."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from admin_helpers import USER, csrf_of
from test_admin_pages import get, post, site

from distributor.article import Article
from distributor.store.models import Filters, State

__all__ = ["site"]  # the fixture, shared with the admin page tests

ARTICLE = {
    "url": "https://news.example/politik/rat-beschliesst-haushalt",
    "title": "Rat & Stadt beschließen den Haushalt",
    "teaser": "Nach langer Debatte hat der Stadtrat den Haushalt für 2027 beschlossen.",
}


def compose(site: dict[str, Any], action: str, **data: str) -> Any:
    return post(site, "/compose", "/compose", action=action, **data)


def texts_of(page: str) -> dict[str, str]:
    found = re.findall(r'<textarea name="text-([\w-]+)"[^>]*>(.*?)</textarea>', page, re.S)
    return {c: html.unescape(t) for c, t in found}


def shown(site: dict[str, Any], **changes: str) -> dict[str, str]:
    """The form as the page sends it back after `show`: fields, texts, every channel ticked."""
    r = compose(site, "show", **ARTICLE)
    assert r.status_code == 200, r.text
    texts = texts_of(r.text)
    form = {**ARTICLE, "shown": "1", **{f"text-{c}": t for c, t in texts.items()}}
    form.update({f"send-{c}": "yes" for c in texts})
    return {**form, **changes}


def test_every_channel_counted_and_telegram_shown_formatted(site: dict[str, Any]) -> None:
    r = compose(site, "show", **ARTICLE)
    assert r.status_code == 200
    texts = texts_of(r.text)
    assert set(texts) == {"masto", "sky", "tg"}
    counts = dict(re.findall(r'id="count-(\w+)"[^>]*>(\d+/\d+)<', r.text))
    assert counts["sky"].endswith("/300") and counts["masto"].endswith("/500")
    assert counts["tg"].endswith("/4096")
    # Telegram's HTML is shown as it looks: "&" once escaped, never the raw `&amp;` markup.
    view = re.search(r'id="view-tg">(.*?)</div>', r.text, re.S)
    assert view and "Rat &amp; Stadt" in view.group(1) and "&amp;amp;" not in view.group(1)
    assert "<strong>" in view.group(1) or "<a href=" in view.group(1)
    assert 'class="link-card"' in r.text and "news.example" in r.text  # Bluesky's card
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]


def test_a_private_host_is_never_fetched(site: dict[str, Any]) -> None:
    for target in ("http://127.0.0.1:9/story", "http://10.0.0.7/story", "http://localhost/x"):
        r = compose(site, "load", url=target)
        assert r.status_code == 422
        assert target in html.unescape(r.text)
    assert "not a public address" in r.text or "not allowed" in r.text or "refused" in r.text
    r = compose(site, "load", url="file:///etc/passwd")
    assert r.status_code == 422 and "web address (http or https)" in html.unescape(r.text)
    refused = [e for e in site["store"].events() if e["action"] == "compose fetch refused"]
    assert len(refused) == 4 and {e["actor"] for e in refused} == {USER}  # who tried what
    assert any("10.0.0.7" in e["detail"] for e in refused)


def test_recount_keeps_the_edit_and_counts_it(site: dict[str, Any]) -> None:
    edited = "Haushalt steht: was sich ändert 😀 https://www.example.com/politik/rat"
    form = shown(site, **{"text-masto": edited})
    r = compose(site, "recount", **form)
    assert r.status_code == 200
    assert texts_of(r.text)["masto"] == edited
    # Mastodon counts a URL as 23: 34 characters before it (the emoji is one) + 23.
    assert re.search(r'id="count-masto"[^>]*>57/500<', r.text)
    # The count endpoint (compose.js) answers the same, with the look.
    r = post(site, "/compose/count", "/compose", channel="masto", **form)
    assert r.json()["counts"] == "57/500" and not r.json()["over"]
    r = post(site, "/compose/count", "/compose", channel="nope", **form)
    assert r.status_code == 422 and "nope" in r.json()["problem"]


def test_an_edit_over_the_limit_is_refused_in_one_line(site: dict[str, Any]) -> None:
    store = site["store"]
    form = shown(site, **{"text-sky": "Viel zu lang " * 40})
    r = compose(site, "publish", **form)
    assert r.status_code == 422
    error = html.unescape(re.search(r'class="flash error"[^>]*>(.*?)</p>', r.text, re.S).group(1))
    assert error == "sky: the text is too long for bluesky: 519/300"
    site["http"].headers["Accept-Language"] = "de-DE"  # the same refusal, in German
    r = compose(site, "publish", **form)
    error = html.unescape(re.search(r'class="flash error"[^>]*>(.*?)</p>', r.text, re.S).group(1))
    assert error == "sky: Der Text ist zu lang für bluesky: 519/300"
    del site["http"].headers["Accept-Language"]
    assert texts_of(r.text)["sky"].startswith("Viel zu lang")  # the edit is not lost
    assert store.query(Filters(), limit=10)[0] == []  # nothing planned, not even masto
    r = post(site, "/compose/count", "/compose", channel="sky", **form)
    assert r.json()["over"] and "519/300" in r.json()["problem"]


def test_publish_plans_the_shown_texts_with_the_user_as_actor(site: dict[str, Any]) -> None:
    store = site["store"]
    edited = "<b>Haushalt steht</b> &amp; was sich ändert"
    form = shown(site, **{"text-tg": edited})
    del form["send-masto"]  # not ticked
    r = compose(site, "publish", **form)
    assert r.status_code == 200 and "/admin/articles/" in r.url and "Published" in r.text
    found = {d.channel: d for d in store.query(Filters(), limit=10)[0]}
    assert set(found) == {"sky", "tg"}
    tg = found["tg"]
    assert tg.draft["text"] == edited
    assert tg.draft["length"] == len("Haushalt steht & was sich ändert")  # as Telegram counts
    assert found["sky"].state is State.AWAITING_REVIEW and tg.state is State.QUEUED
    events = store.events(delivery_id=tg.id)
    assert any(e["actor"] == USER and e["action"] == "planned" for e in events)
    article = store.article(tg.article_id)
    assert article is not None and article["title"] == ARTICLE["title"]
    # The same channels again plan nothing new, and say so.
    r = compose(site, "publish", **form)
    assert r.status_code == 422 and "planned before on" in html.unescape(r.text)


def test_publish_at_a_time_and_pick_a_feed_item(site: dict[str, Any]) -> None:
    store = site["store"]
    item = Article(
        url="https://news.example/feed/one",
        title="Aus dem Feed",
        teaser="Kurz.",
        guid="cms-1",
        section="politik",
        embargo_until=datetime(2030, 2, 1, tzinfo=UTC),
    )
    store.remember([item], source="watch:https://news.example/rss")
    page = get(site, "/compose").text
    assert "Aus dem Feed" in page and "already planned" not in page
    r = compose(site, "pick", pick=item.article_id)
    assert r.status_code == 200 and 'value="https://news.example/feed/one"' in r.text
    assert set(texts_of(r.text)) == {"masto", "sky", "tg"}
    texts = texts_of(r.text)
    more = re.search(r'name="more" value="([^"]*)"', r.text)
    assert more and "cms-1" in html.unescape(more.group(1))  # what the feed said, kept
    form = {"url": item.url, "title": item.title, "teaser": "Kurz.", "shown": "1"}
    form["more"] = html.unescape(more.group(1))
    form |= {f"text-{c}": t for c, t in texts.items()} | {"send-masto": "yes"}
    bad = compose(site, "schedule", **form, at="tomorrow")
    assert bad.status_code == 422 and "not a date and time" in bad.text
    r = compose(site, "schedule", **form, at="2030-01-05T08:30+00:00")
    assert "Scheduled" in r.text
    (d,) = store.query(Filters(), limit=10)[0]
    assert d.channel == "masto" and d.embargo_until == datetime(2030, 2, 1, tzinfo=UTC)
    assert d.not_before == datetime(2030, 2, 1, tzinfo=UTC)  # the feed's embargo still wins
    assert "already planned" in get(site, "/compose").text
    # "Publish now" means now, even when the feed item named a later publish_at.
    later = '{"publish_at": "2030-03-01T08:00:00+00:00"}'
    now = {**form, "url": "https://news.example/feed/two", "more": later, "send-tg": "yes"}
    del now["send-masto"]
    assert compose(site, "publish", **now).status_code == 200
    (tg,) = [d for d in store.query(Filters(), limit=10)[0] if d.channel == "tg"]
    assert tg.not_before is None and tg.state is State.QUEUED
    tampered = compose(site, "show", **{**form, "more": '{"body": "x"}'})
    assert tampered.status_code == 422 and "changed outside this page" in tampered.text
    assert d.article_id == item.article_id  # the feed item itself, not a new article


PAGE = """<html lang="de"><head><meta property="og:title" content="Vom Server geholt">
<meta property="og:description" content="Der Teaser der Seite.">
<meta property="og:image" content="https://news.example/bild.jpg">
<meta property="og:url" content="https://news.example/geholt"></head><body></body></html>"""


def test_a_page_on_an_allowed_host_fills_the_fields(tmp_path: Path) -> None:
    """With `[watch]` allowing it (here loopback, as a test server must be), the page is
    fetched and its OpenGraph fills link, title, teaser and image."""
    from dataclasses import replace

    from admin_helpers import admin_settings, build_app, login, serve
    from hook_helpers import page_server
    from review_helpers import closed_port

    from distributor.config.tables import parse_watch
    from distributor.store import open_store

    db = f"sqlite:///{tmp_path / 'log.db'}"
    settings = admin_settings(tmp_path, f"http://127.0.0.1:{closed_port()}", db)
    watch = parse_watch({"allow_hosts": ["127.0.0.1"], "allow_private": True}, "test")
    store = open_store(db)
    with (
        page_server(PAGE.encode()) as pages,
        serve(build_app(replace(settings, watch=watch), store)) as base,
    ):
        http = requests.Session()
        login(http, base)
        page = http.get(f"{base}/admin/compose").text
        r = http.post(
            f"{base}/admin/compose",
            data={"csrf": csrf_of(page), "action": "load", "url": f"{pages}/geholt"},
        )
    assert r.status_code == 200, r.text
    assert 'value="Vom Server geholt"' in r.text and "Der Teaser der Seite." in r.text
    assert 'value="https://news.example/bild.jpg"' in r.text
    assert set(texts_of(r.text)) == {"masto", "sky", "tg"}  # and every channel's post
    fetched = [e for e in store.events() if e["action"] == "compose fetch"]
    assert [(e["actor"], e["detail"]) for e in fetched] == [(USER, f"{pages}/geholt")]
    store.close()


def test_hostile_fields_and_texts_stay_text(site: dict[str, Any]) -> None:
    hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    form = shown(site, title=f"Rat {hostile}", **{"text-masto": hostile, "text-tg": hostile})
    r = compose(site, "recount", **form)
    assert r.status_code == 200
    page = r.text.replace('<script src="/admin/static/compose.js" defer></script>', "")
    assert "<script" not in page and "<img" not in page  # escaped everywhere, looks included
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Telegram would refuse that text as HTML: it is shown as text, and the count says why.
    problem = re.search(r'id="problem-tg"[^>]*>(.*?)</p>', r.text, re.S)
    assert problem and "Telegram" in html.unescape(problem.group(1))
