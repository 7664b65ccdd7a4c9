"""The social desk in a real headless Chromium with real store rows: the article-centred home
page (dense, chips that say their state and link to the live post), the "Needs attention" page
with each kind of problem and its empty state; screenshots into test-output/desk/."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from admin_helpers import seed
from desk_helpers import ALERT, HANDLE, seed_problems
from test_admin_browser import sign_in

from distributor.clock import SYSTEM

pytestmark = pytest.mark.browser
OUTPUT = Path(os.environ.get("DISTRIBUTOR_TEST_OUTPUT", "test-output")) / "desk"
DESKTOP = {"width": 1280, "height": 800}


def shot(page: Any, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    target = OUTPUT / f"{name}.png"
    page.screenshot(path=str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_home_is_one_dense_row_per_article(browser: Any, site: dict[str, Any]) -> None:
    store, settings, base = site["store"], site["settings"], site["base"]
    ids = seed_problems(settings, store, SYSTEM.now())
    for n in range(12):
        seed(settings, store, f"Meldung {n}: Stadtrat tagt", f"https://news.example/m/{n}")
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, base)
    rows = page.locator("table.articles tbody tr")
    assert rows.count() == 16  # 1 published in the sandbox + 3 with problems + 12
    # Dense: at least 10 articles fully on the first desktop screen, panel and filters included.
    bottoms = page.evaluate(
        "[...document.querySelectorAll('table.articles tbody tr')]"
        ".map(r => r.getBoundingClientRect().bottom)"
    )
    shot(page, "home-desktop")
    on_screen = sum(1 for b in bottoms if b <= DESKTOP["height"])
    assert on_screen >= 10, f"only {on_screen} articles on a 1280x800 screen"
    # A chip says its state in words (an icon and a colour only repeat it) ...
    trouble = page.locator(f"tr#a-{store.get(ids['failed']).article_id}")
    chips = [" ".join(t.split()) for t in trouble.locator("a.chip").all_inner_texts()]
    assert chips == ["? masto Check platform", "✎ sky Needs review", "✕ tg Failed"]
    # ... and a posted one links to the live post on the platform.
    posted = page.locator(f"tr#a-{store.get(ids['posted']['masto']).article_id}")
    link = posted.locator("a.chip", has_text="masto")
    assert link.get_attribute("href") == store.get(ids["posted"]["masto"]).remote_url
    # The panel counts what needs someone; a click opens the list.
    panel = page.locator("section.panel")
    assert "14 to review" in panel.inner_text() and "1 failed" in panel.inner_text()
    panel.locator("a", has_text="failed").click()
    page.wait_for_url("**/admin/attention#failed")
    # The per-delivery table is one click away.
    page.goto(base + "/admin/")
    page.click("text=Every delivery as a table")
    page.wait_for_url("**/admin/deliveries*")
    assert page.locator("table.log tbody tr").count() >= 20
    context.close()


def test_attention_page_shows_each_kind_of_problem(browser: Any, site: dict[str, Any]) -> None:
    store, base = site["store"], site["base"]
    ids = seed_problems(site["settings"], store, SYSTEM.now())
    context = browser.new_context(viewport={"width": 1280, "height": 1600})
    page = context.new_page()
    sign_in(page, base, "/admin/attention")
    sections = {
        "review": "Review",
        "unknown": "did not answer in time; the post may exist",
        "failed": "Telegram refused the post",
        "stuck": "Due since",
        "paused": "The queue is paused",
        "accounts": "the platform no longer accepts the login",
        "workers": "No worker is running",
        "alerts": ALERT,
    }
    for anchor, words in sections.items():
        section = page.locator(f"section:has(h2#{anchor})")
        assert words in section.inner_text(), anchor
    unknown = page.locator("section:has(h2#unknown)")
    assert HANDLE in unknown.inner_text()  # the account as check saw it
    shot(page, "attention-desktop")
    page.goto(base + "/admin/")
    shot(page, "home-problems")
    page.goto(base + "/admin/attention")
    # Each list links to where it is acted on: the unclear post's page asks for the tick box.
    unknown.locator("a", has_text="Check").first.click()
    page.wait_for_url(f"**/admin/deliveries/{ids['unknown']}")
    page.click("button:has-text('Retry')")
    assert "tick “I checked Mastodon" in page.locator(".flash.error").inner_text()
    shot(page, "delivery-unclear")
    page.check("input[name=force]")
    page.click("button:has-text('Retry')")
    page.wait_for_url(f"**/admin/deliveries/{ids['unknown']}?done=retried")
    page.goto(base + "/admin/attention")
    page.click("section:has(h2#paused) >> xpath=/ancestor::main//button[text()='Resume']")
    page.wait_for_url("**/admin/?done=resumed")
    assert not store.paused()
    context.close()


def test_nothing_needs_you(browser: Any, site: dict[str, Any]) -> None:
    store, base = site["store"], site["base"]
    store.heartbeat("worker-1")
    from distributor import actions

    actions.cancel(store, site["ids"]["sky"], "alice")  # the sandbox article's review
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, base, "/admin/attention")
    assert "Nothing needs you" in page.locator("#all-fine").inner_text()
    shot(page, "attention-fine")
    page.goto(base + "/admin/")
    assert "Nothing needs you" in page.locator("section.panel").inner_text()
    context.close()


def test_desk_pages_with_every_problem_pass_axe(browser: Any, site: dict[str, Any]) -> None:
    from axe_audit import audit, axe_source

    source = axe_source()
    ids = seed_problems(site["settings"], site["store"], SYSTEM.now())
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, site["base"])
    found = {"home": audit(page, source)}
    for name, path in (
        ("attention", "/admin/attention"),
        ("deliveries", "/admin/deliveries"),
        ("unclear delivery", f"/admin/deliveries/{ids['unknown']}"),
        ("failed delivery", f"/admin/deliveries/{ids['failed']}"),
    ):
        page.goto(site["base"] + path)
        found[name] = audit(page, source)
    context.close()
    problems = [f"{name}: {line}" for name, lines in found.items() for line in lines]
    assert not problems, "axe found:\n" + "\n".join(problems)


def test_desk_pages_fit_a_phone_with_every_problem(browser: Any, site: dict[str, Any]) -> None:
    ids = seed_problems(site["settings"], site["store"], SYSTEM.now())
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, site["base"])
    for path in (
        "/admin/",
        "/admin/attention",
        "/admin/deliveries",
        f"/admin/deliveries/{ids['unknown']}",
    ):
        page.goto(site["base"] + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide at 390px"
    shot(page, "delivery-unclear-phone")
    page.goto(site["base"] + "/admin/")
    shot(page, "home-phone")
    context.close()
