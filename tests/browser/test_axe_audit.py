"""axe-core on every admin page in a real headless Chromium: no critical and no serious
violation, signed out (login) and signed in, with real data, forms filled and errors shown."""

from __future__ import annotations

from typing import Any

import pytest
from axe_audit import audit, axe_source
from test_admin_browser import sign_in

pytestmark = pytest.mark.browser
# Pages that other parts of the desk add; audited as soon as they answer.
OPTIONAL = ("attention", "deliveries")


def pages(site: dict[str, Any]) -> list[tuple[str, str]]:
    ids, store = site["ids"], site["store"]
    aid = store.get(ids["masto"]).article_id
    return [
        ("log", "/admin/"),
        ("log with a bad filter", "/admin/?state=nope"),
        ("deliveries", "/admin/deliveries"),
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


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_no_critical_or_serious_violation_on_any_page(
    browser: Any, site: dict[str, Any], width: int
) -> None:
    source = axe_source()
    base = site["base"]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    found: dict[str, list[str]] = {}
    page.goto(base + "/admin/login")
    found["login"] = audit(page, source)
    sign_in(page, base)
    audited = ["login"]
    for name, path in pages(site):
        response = page.goto(base + path)
        if name in OPTIONAL and response.status == 404:
            continue  # not there (yet)
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue  # no HTML page to audit (a bare error text)
        found[name] = audit(page, source)
        audited.append(name)
    page.goto(base + "/admin/compose")
    page.fill("#compose input[name=url]", "https://news.example/politik/neuer-artikel")
    page.fill("#compose input[name=title]", "Neuer Artikel")
    page.click("button:has-text('Show every channel')")
    page.wait_for_selector("#text-masto")
    found["compose with posts"] = audit(page, source)
    page.goto(base + "/admin/preview")
    page.fill("textarea[name=source]", '{"url": "https://news.example/a", "title": "Ein Titel"}')
    page.click("button:has-text('Preview every channel')")
    found["preview with posts"] = audit(page, source)
    context.close()
    problems = [f"{name}: {line}" for name, lines in found.items() for line in lines]
    assert not problems, "axe found:\n" + "\n".join(problems)
    assert {"login", "log", "delivery", "article", "compose"} <= set(audited)
    pages_done = ", ".join([*audited, "forms filled"])
    print(f"\naxe at {width}px: no critical/serious violation on {pages_done}")


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
