"""Compose in a real headless Chromium: an article filled in by hand, every channel's post
counted and shown as it will look, an edit re-counted while typing (and by the Re-count button
without JavaScript), an edit over the limit refused, publish, a worker sends through the
platform sandbox, and the live post links on the article page. Screenshots in test-output/."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_admin_browser import OUTPUT, sign_in

from distributor.dispatch import Dispatcher
from distributor.store.models import Filters, State

pytestmark = pytest.mark.browser
URL = "https://news.example/wirtschaft/markt-oeffnet"
EDITED = "Der Wochenmarkt öffnet wieder 🎉 https://www.example.com/markt"


def fill_article(page: Any) -> None:
    page.fill("#compose input[name=url]", URL)
    page.fill("#compose input[name=title]", "Markt & Mühle öffnen wieder")
    page.fill("#compose textarea[name=teaser]", "Ab Samstag gibt es wieder frisches Gemüse.")
    page.click("button:has-text('Show every channel')")
    page.wait_for_selector("#text-masto")


def test_compose_publish_and_the_live_post_links(page: Any, site: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    base, store, box = site["base"], site["store"], site["box"]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    sign_in(page, base, "/admin/compose")
    fill_article(page)
    # Telegram shows formatted: the `&` once, as a character; never the `&amp;` markup.
    tg = page.locator("#view-tg").inner_text()
    assert "Markt & Mühle" in tg and "&amp;" not in tg
    assert page.locator("#view-tg strong, #view-tg b, #view-tg a").count() > 0
    assert "news.example" in page.locator("#view-sky .link-card").inner_text()
    page.screenshot(path=str(OUTPUT / "admin-compose-desktop.png"), full_page=True)
    # Typing re-counts on the server (compose.js): 32 characters, the emoji one, + 23 per URL.
    page.fill("#text-masto", EDITED)
    expect(page.locator("#count-masto")).to_have_text("55/500")
    page.fill("#text-sky", "Viel zu lang " * 40)
    expect(page.locator("#count-sky")).to_have_class(re.compile(r"\bover\b"))
    assert "519/300" in page.locator("#problem-sky").inner_text()
    page.click("button:has-text('Publish now')")
    assert (
        "sky: the text is too long for bluesky: 519/300"
        in page.locator(".flash.error").inner_text()
    )
    assert _article_id(store) == ""  # nothing planned: not even the article is stored
    page.uncheck("input[name=send-sky]")
    page.click("button:has-text('Publish now')")
    page.wait_for_url("**/admin/articles/*?done=composed")
    assert "Published" in page.locator(".flash.ok").inner_text()
    made = {d.channel: d for d in store.query(Filters(article_id=_article_id(store)), limit=10)[0]}
    assert set(made) == {"masto", "tg"} and made["masto"].draft["text"] == EDITED
    # A worker sends them to the platform sandbox.
    done = Dispatcher(site["settings"], store).wait_for([d.id for d in made.values()], timeout=30)
    assert {d.state for d in done} == {State.SENT}
    assert any(p.text == EDITED for p in box.posts("mastodon"))
    page.reload()
    links = page.locator("#live-posts a.remote")
    assert sorted(links.evaluate_all("as => as.map(a => a.href)")) == sorted(
        d.remote_url for d in done
    )
    events = store.events(delivery_id=made["masto"].id)
    assert any(e["actor"] == "alice" and e["action"] == "planned" for e in events)
    page.screenshot(path=str(OUTPUT / "admin-compose-published-desktop.png"), full_page=True)


def _article_id(store: Any) -> str:
    from distributor.article import Article

    return store.article_id_for(Article(url=URL, title="x").identity_keys()) or ""


def test_compose_without_javascript_and_on_a_phone(browser: Any, site: dict[str, Any]) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, site["base"], "/admin/compose")
    fill_article(page)
    page.fill("#text-masto", EDITED)
    page.click("button:has-text('Re-count')")
    assert page.locator("#count-masto").inner_text() == "55/500"
    assert page.locator("#text-masto").input_value() == EDITED
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"compose is {width}px wide at 390px"
    page.screenshot(path=str(OUTPUT / "admin-compose-phone.png"), full_page=True)
    context.close()
