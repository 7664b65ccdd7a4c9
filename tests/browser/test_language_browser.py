"""The language in a real headless Chromium: a German browser gets German pages, the switch in
the header changes every page for good, and an editor approves a post in German."""

from __future__ import annotations

from typing import Any

import pytest
from admin_helpers import PASSWORD, USER
from test_admin_browser import OUTPUT

from distributor.store.models import State

pytestmark = pytest.mark.browser


def test_german_browser_switch_and_approve(browser: Any, site: dict[str, Any]) -> None:
    base, d, store = site["base"], site["ids"]["sky"], site["store"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="de-DE")
    page = context.new_page()
    page.goto(f"{base}/admin/deliveries/{d}")
    assert page.locator("html").get_attribute("lang") == "de"  # from Accept-Language
    page.fill("input[name=user]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Anmelden')")
    page.wait_for_url(f"**/admin/deliveries/{d}")
    assert "Zu prüfen" in page.locator("h1").inner_text()
    edited = "Haushalt 2027: was sich für Mieter ändert https://news.example/politik/rat"
    page.fill("textarea[name=text]", edited)
    page.click("button:has-text('Freigeben')")
    page.wait_for_url(f"**/admin/deliveries/{d}?done=approved")
    assert page.locator(".flash.ok").inner_text() == (
        "Freigegeben: Der Beitrag steht in der Warteschlange."
    )
    assert store.get(d).state is State.QUEUED and store.get(d).draft["text"] == edited
    assert "freigegeben" in page.locator("#events").inner_text()  # the event, in German too
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / "admin-delivery-de.png"), full_page=True)
    # The switch: English from now on, on this page and every other, whatever the browser says.
    page.click("nav.lang a:has-text('English')")
    page.wait_for_url(f"**/admin/deliveries/{d}?done=approved")
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Approved: the post is queued." in page.locator(".flash.ok").inner_text()
    page.click("nav[aria-label=Main] a:has-text('Needs attention')")
    page.wait_for_url("**/admin/attention")
    assert page.locator("h1").inner_text().startswith("Needs attention")
    page.click("nav.lang a:has-text('Deutsch')")
    page.wait_for_url("**/admin/attention")
    assert page.locator("h1").inner_text().startswith("Braucht Aufmerksamkeit")
    context.close()
