"""axe-core on every admin page in a real headless Chromium: no critical and no serious
violation, signed out (login) and signed in, with real data, forms filled and errors shown."""

from __future__ import annotations

from typing import Any

import pytest
from axe_audit import audit, axe_source
from test_admin_browser import sign_in

pytestmark = pytest.mark.browser


def pages(site: dict[str, Any]) -> list[tuple[str, str]]:
    ids, store = site["ids"], site["store"]
    aid = store.get(ids["masto"]).article_id
    return [
        ("home", "/admin/"),
        ("home with a search", "/admin/?q=haushalt"),
        ("deliveries", "/admin/deliveries"),
        ("deliveries with a bad filter", "/admin/deliveries?state=nope"),
        ("delivery", f"/admin/deliveries/{ids['masto']}"),
        ("delivery awaiting review", f"/admin/deliveries/{ids['sky']}"),
        ("article", f"/admin/articles/{aid}"),
        ("preview", "/admin/preview"),
        ("scheduled", "/admin/scheduled"),
        ("compose", "/admin/compose"),
        ("attention", "/admin/attention"),
        ("no such delivery", "/admin/deliveries/999999"),
        ("no such page", "/admin/no-such-page"),
    ]


@pytest.mark.parametrize(
    ("width", "locale"),
    [(1280, "en-GB"), (390, "en-GB"), (1280, "de-DE")],
    ids=["desktop", "phone", "german"],
)
def test_no_critical_or_serious_violation_on_any_page(
    browser: Any, site: dict[str, Any], width: int, locale: str
) -> None:
    source = axe_source()
    base = site["base"]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    found: dict[str, list[str]] = {}
    page.goto(base + "/admin/login")
    found["login"] = audit(page, source)
    sign_in(page, base)
    audited = ["login"]
    for name, path in pages(site):
        response = page.goto(base + path)
        assert response.headers.get("content-type", "").startswith("text/html"), name
        found[name] = audit(page, source)
        audited.append(name)
    found["server error"] = _crashed(page, site, source)
    page.goto(base + "/admin/compose")
    assert page.evaluate("document.documentElement.lang") == locale[:2]  # the reader's language
    page.fill("#compose input[name=url]", "https://news.example/politik/neuer-artikel")
    page.fill("#compose input[name=title]", "Neuer Artikel")
    page.click("#compose button[value=show]")
    page.wait_for_selector("#text-masto")
    found["compose with posts"] = audit(page, source)
    page.goto(base + "/admin/preview")
    page.fill("textarea[name=source]", '{"url": "https://news.example/a", "title": "Ein Titel"}')
    page.click("main form button[type=submit]")
    page.wait_for_selector("section.preview")  # the answer's page, not the one being left
    found["preview with posts"] = audit(page, source)
    context.close()
    problems = [f"{name}: {line}" for name, lines in found.items() for line in lines]
    assert not problems, "axe found:\n" + "\n".join(problems)
    pages_done = ", ".join([*audited, "server error", "forms filled"])
    print(f"\naxe at {width}px, {locale}: no critical/serious violation on {pages_done}")


def _crashed(page: Any, site: dict[str, Any], source: str) -> list[str]:
    """The 500 page: the home page while the store fails (as test_admin_desk makes it)."""
    store = site["store"]
    original = store.counts_by_state
    store.counts_by_state = lambda *_: (_ for _ in ()).throw(RuntimeError("store down"))
    try:
        response = page.goto(site["base"] + "/admin/")
    finally:
        store.counts_by_state = original
    assert response.status == 500
    return audit(page, source)


def test_the_audit_finds_what_it_should(browser: Any) -> None:
    """The check above can fail: a nameless button and an image without alt text are caught."""
    source = axe_source()
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><button></button><img src="x.png">')
    found = audit(page, source)
    context.close()
    assert any("button-name" in line for line in found), found
    assert any("image-alt" in line for line in found), found
