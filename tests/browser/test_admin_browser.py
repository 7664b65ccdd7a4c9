"""The admin UI in a real headless Chromium: sign in, filter, open a delivery, approve with an
edit, retract an article, and screenshots at phone and desktop width."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from admin_helpers import PASSWORD, USER

from distributor.store.models import State

pytestmark = pytest.mark.browser
OUTPUT = Path(os.environ.get("DISTRIBUTOR_TEST_OUTPUT", "test-output")) / "admin-screenshots"


def sign_in(page: Any, base: str, path: str = "/admin/") -> None:
    page.goto(base + path)
    assert "/admin/login" in page.url  # the gate sends strangers to the login form
    page.fill("input[name=user]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}{path}*")


def test_sign_in_filter_and_open_a_delivery(page: Any, site: dict[str, Any]) -> None:
    base, ids, store = site["base"], site["ids"], site["store"]
    sign_in(page, base, "/admin/deliveries")
    assert page.locator("table.log tbody tr").count() == 3
    # The hostile title is text on the page, not a script element.
    assert page.locator("script").count() == 0
    assert "<script>alert(1)</script>" in page.locator("table.log").inner_text()
    page.click("summary:has-text('More filters')")  # folded away until a filter is set
    page.select_option("select[name=state]", "sent")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**state=sent**")
    rows = page.locator("table.log tbody tr")
    assert rows.count() == 2 and "Needs review" not in page.locator("table.log").inner_text()
    page.fill("input[name=q]", "haushalt")
    page.select_option("select[name=channel]", "masto")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**channel=masto**")
    assert page.locator("table.log tbody tr").count() == 1
    page.click(f"a[href='/admin/deliveries/{ids['masto']}']")
    page.wait_for_url(f"**/admin/deliveries/{ids['masto']}")
    sent = store.get(ids["masto"])
    assert page.locator("#post-text").inner_text() == sent.draft["text"]
    link = page.locator("a.remote")
    assert link.get_attribute("href") == sent.remote_url and sent.remote_url
    assert "posted" in page.locator("table.log").first.inner_text()  # the attempt
    assert "publish:api\tplanned" in page.locator("#events").inner_text()  # who planned it


def test_approve_a_post_awaiting_review_with_an_edit(page: Any, site: dict[str, Any]) -> None:
    base, d, store = site["base"], site["ids"]["sky"], site["store"]
    sign_in(page, base, f"/admin/deliveries/{d}")
    assert "Needs review" in page.locator("h1").inner_text()
    page.fill("textarea[name=text]", "Viel zu lang " * 40)
    page.click("button:has-text('Approve')")
    assert "edited text is too long for bluesky" in page.locator(".flash.error").inner_text()
    assert store.get(d).state is State.AWAITING_REVIEW
    edited = "Haushalt 2027 beschlossen: was sich ändert https://news.example/politik/rat"
    page.fill("textarea[name=text]", edited)
    page.click("button:has-text('Approve')")
    page.wait_for_url(f"**/admin/deliveries/{d}?done=approved")
    assert "Approved" in page.locator(".flash.ok").inner_text()
    assert "Queued" in page.locator("h1").inner_text()
    assert page.locator("#post-text").inner_text() == edited
    assert "alice" in page.locator("#events").inner_text()
    after = store.get(d)
    assert after.state is State.QUEUED and after.draft["text"] == edited


def test_retract_an_article(page: Any, site: dict[str, Any]) -> None:
    base, ids, store, box = site["base"], site["ids"], site["store"], site["box"]
    aid = store.get(ids["masto"]).article_id
    assert len(box.posts("mastodon")) == 1 and len(box.posts("telegram")) == 1
    sign_in(page, base, f"/admin/articles/{aid}")
    page.check("input[name=confirm]")
    page.click("button:has-text('Retract article')")
    results = page.locator("ul.results").inner_text()
    assert "masto: deleted" in results and "tg: deleted" in results
    assert "sky: cancelled" in results
    assert box.posts("mastodon") == [] and box.posts("telegram") == []  # gone on the platforms
    assert {store.get(i).state for i in ids.values()} == {State.RETRACTED, State.CANCELLED}
    page.goto(f"{base}/admin/deliveries/{ids['masto']}")
    assert "Deleted" in page.locator("h1").inner_text()
    assert "alice" in page.locator("#events").inner_text()


def test_screenshots_phone_and_desktop(browser: Any, site: dict[str, Any]) -> None:
    base, d, review = site["base"], site["ids"]["masto"], site["ids"]["sky"]
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shots = []
    for name, size in (("phone", (375, 812)), ("desktop", (1280, 900))):
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        page = context.new_page()
        sign_in(page, base)
        pages = (
            ("home", "/admin/"),
            ("attention", "/admin/attention"),
            ("deliveries", "/admin/deliveries"),
            ("delivery", f"/admin/deliveries/{d}"),
            ("review", f"/admin/deliveries/{review}"),
        )
        for what, path in pages:
            page.goto(base + path)
            # Readable at 375 px: nothing wider than the screen, so no sideways scrolling.
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size[0], f"{what} is {width}px wide at {size[0]}px"
            # The stylesheet loaded under the CSP (the header is styled white).
            bg = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
            assert bg == "rgb(255, 255, 255)"
            target = OUTPUT / f"admin-{what}-{name}.png"
            page.screenshot(path=str(target), full_page=True)
            shots.append(target)
        context.close()
    for shot in shots:
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5000
    print(f"\nadmin screenshots in {OUTPUT.resolve()}")


def test_sign_out_ends_the_session_for_good(page: Any, site: dict[str, Any]) -> None:
    """Issue 13 finding 6: the cookie of a signed-out browser, replayed, opens nothing."""
    import requests

    base = site["base"]
    sign_in(page, base)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "distributor_admin"]
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/admin/login*")
    page.context.add_cookies([cookie])  # put the old cookie back, as a thief would
    page.goto(base + "/admin/")
    assert "/admin/login" in page.url
    r = requests.get(
        base + "/admin/", cookies={cookie["name"]: cookie["value"]}, allow_redirects=False
    )
    assert r.status_code == 303
