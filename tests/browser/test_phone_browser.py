"""Every admin page on a phone (390×844) in German and English, with real store rows that make
pages wide: long German titles and URLs, long platform errors and JSON, many channels, every
kind of problem. Nothing may scroll sideways, controls are big enough for a thumb (44 px), the
filters are folded away; screenshots into test-output/phone/."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from admin_helpers import CONFIG, PASSWORD, SECRET, TOKEN, USER, build_app, password_hash, serve
from desk_helpers import seed_problems, settle

from distributor import actions
from distributor.clock import SYSTEM
from distributor.config import load_config
from distributor.planning import publish
from distributor.store import open_store

pytestmark = pytest.mark.browser
OUTPUT = Path(os.environ.get("DISTRIBUTOR_TEST_OUTPUT", "test-output")) / "phone"
PHONE = {"width": 390, "height": 844}
LOCALES = {"de": "de-DE", "en": "en-US"}
TITLE = (
    "Grundsteuerreformumsetzungsbestimmungen: Landesregierung beschließt nach monatelanger "
    "Debatte die Überarbeitung der Kommunalabgabenverordnung für Großstädte"
)
URL = (
    "https://www.tageblatt-beispiel.de/politik/landespolitik/2026/12/03/"
    "grundsteuerreformumsetzungsbestimmungen-landesregierung-beschliesst-ueberarbeitung-"
    "der-kommunalabgabenverordnung-fuer-grossstaedte-artikel-4711-0815.html"
    "?utm_source=newsletter&utm_medium=email&ref=startseite-aufmacher-position-1"
)
# A platform's answer as it is stored: one long line of JSON with no space to break at.
ERROR = json.dumps(
    {
        "error": {
            "code": 400,
            "message": "Bad_Request:_chat_not_found_or_bot_was_kicked_from_the_supergroup_chat",
            "idempotency_key": "d1e8a7c0-5f6b-4f1e-9a3c-7b2d4e6f8a90-" + "x" * 60,
        }
    },
    separators=(",", ":"),
)
# More channels with long names, as a newsroom with regional editions has them.
EXTRA = "".join(
    f"""
[channels.{name}]
platform = "{platform}"
{keys}
"""
    for name, platform, keys in (
        ("politik-mastodon-regionalausgabe-nord", "mastodon", 'access_token_env = "MASTO_NORD"'),
        ("eilmeldungen-telegram-hauptkanal", "telegram", 'chat_id = "@eil"\nbot_token_env = "TG"'),
        (
            "sport-bluesky-tageblatt-beispiel",
            "bluesky",
            'handle = "sport.example"\napp_password_env = "SKY2"',
        ),
        ("kultur-mastodon", "mastodon", 'access_token_env = "MASTO_KULTUR"'),
        ("wirtschaft-telegram", "telegram", 'chat_id = "@wirtschaft"\nbot_token_env = "TG"'),
    )
)


@pytest.fixture
def phone_site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    from distributor.sandbox import Sandbox

    db = f"sqlite:///{tmp_path / 'log.db'}"
    with Sandbox(port=0, seed=7) as box:
        toml = CONFIG.format(sandbox=box.url, db=db) + EXTRA
        toml = toml.replace("[admin]\n", '[admin]\ntimezone = "Europe/Berlin"\n', 1)
        path = tmp_path / "distributor.toml"
        path.write_text(toml, encoding="utf-8")
        env = {"ADMIN_ALICE_HASH": password_hash(), "ADMIN_TOKEN": TOKEN}
        settings = load_config(path, environ={**env, "DISTRIBUTOR_SESSION_SECRET": SECRET})
        store = open_store(db)
        now = SYSTEM.now()
        long = _long_rows(settings, store, now)  # first: seed_problems leaves a stuck post
        ids = {**seed_problems(settings, store, now), **long}
        with serve(build_app(settings, store)) as base:
            yield {"base": base, "store": store, "ids": ids}
        store.close()


def _long_rows(settings: Any, store: Any, now: Any) -> dict[str, Any]:
    """The long article posted everywhere (long live-post URLs) and failing on the extras."""
    from distributor.article import Article

    article = Article(url=URL, title=TITLE, teaser="Was sich für Mieter und Eigentümer ändert.")
    created = {
        d.channel: d.id
        for p in publish(article, config=settings, store=store).plans
        for d in p.created
    }
    actions.approve(store, created["sky"], USER)
    long_url = f"{URL}#post-" + "9" * 40
    failed = ("failed", "Rejected", ERROR)
    settle(store, {"kultur-mastodon": failed, "wirtschaft-telegram": failed}, now, url=long_url)
    later = store.get(created["politik-mastodon-regionalausgabe-nord"])
    return {"long": created, "long_article": later.article_id}


def _pages(ids: dict[str, Any]) -> dict[str, str]:
    long = ids["long"]
    return {
        "home": "/admin/",
        "attention": "/admin/attention",
        "deliveries": "/admin/deliveries",
        "delivery-failed": f"/admin/deliveries/{long['kultur-mastodon']}",
        "delivery-sent": f"/admin/deliveries/{long['politik-mastodon-regionalausgabe-nord']}",
        "delivery-unknown": f"/admin/deliveries/{ids['unknown']}",
        "delivery-review": f"/admin/deliveries/{ids['review']}",
        "article": f"/admin/articles/{ids['long_article']}",
        "scheduled": "/admin/scheduled",
        "preview": "/admin/preview",
        "compose": "/admin/compose",
        "not-found": "/admin/no-such-page",
    }


def check(page: Any, name: str, lang: str) -> None:
    """No sideways scrolling, thumb-sized controls, and a screenshot, once the page is whole:
    measured before its stylesheet and fonts are in, a page is wider and its controls smaller
    (a form's answer is waited for by a selector, which matches while the page still loads)."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"{name} ({lang}) is {width}px wide on a {inner}px screen"
    small = page.evaluate(
        """() => [...document.querySelectorAll('button, summary, select, textarea, '
              + 'input:not([type=hidden]):not([type=checkbox]), .top nav a, .pages a, a.chip')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect()])
            .filter(([, r]) => r.height < 44 || (r.width < 44))
            .map(([h, r]) => `${h} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert not small, f"{name} ({lang}): controls smaller than 44 px: {small}"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}-{lang}.png"), full_page=True)


@pytest.mark.parametrize("lang", sorted(LOCALES))
def test_every_page_fits_a_phone(browser: Any, phone_site: dict[str, Any], lang: str) -> None:
    from playwright.sync_api import expect

    base = phone_site["base"]
    context = browser.new_context(viewport=PHONE, locale=LOCALES[lang], has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/admin/login")
    assert page.locator("html").get_attribute("lang") == lang
    check(page, "login", lang)
    page.fill("input[name=user]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    for name, path in _pages(phone_site["ids"]).items():
        page.goto(base + path)
        check(page, name, lang)
    # A delivery's actions are under the thumb at once, without scrolling to them.
    page.goto(base + _pages(phone_site["ids"])["delivery-unknown"])
    for button in page.locator(".actions button").all():
        box = button.bounding_box()
        assert (
            box and PHONE["height"] / 2 < box["y"] and box["y"] + box["height"] <= PHONE["height"]
        )
    page.screenshot(path=str(OUTPUT / f"delivery-actions-{lang}.png"))
    # The filters are folded away on the post log, and open with one tap.
    page.goto(base + "/admin/")
    expect(page.locator("select[name=state]")).to_be_hidden()
    page.locator("details.more summary").tap()
    expect(page.locator("select[name=state]")).to_be_visible()
    check(page, "home-filters", lang)
    # Pages with what a person typed: a preview and a composed post with every channel.
    page.goto(base + "/admin/preview")
    page.fill("textarea[name=source]", json.dumps({"url": URL, "title": TITLE}))
    page.locator("form:has(textarea[name=source]) button[type=submit]").tap()
    page.wait_for_selector("section.preview")
    check(page, "preview-filled", lang)
    page.goto(base + "/admin/compose")
    page.fill("#compose input[name=url]", URL)
    page.fill("#compose input[name=title]", TITLE)
    page.locator("#compose button[value=show]").tap()
    page.wait_for_selector("#text-masto")
    check(page, "compose-filled", lang)
    context.close()


def test_a_long_queue_fits_a_phone(browser: Any, phone_site: dict[str, Any]) -> None:
    """Reschedule a waiting post on the phone: the Scheduled page lists it at that time."""
    store, base, ids = phone_site["store"], phone_site["base"], phone_site["ids"]
    d = ids["stuck"]
    when = (SYSTEM.now() + timedelta(days=3)).strftime("%Y-%m-%d 07:30")
    context = browser.new_context(viewport=PHONE, locale="de-DE", has_touch=True)
    page = context.new_page()
    page.goto(f"{base}/admin/login?next=/admin/deliveries/{d}")
    page.fill("input[name=user]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(f"**/admin/deliveries/{d}")
    page.fill("input[name=at]", when)
    page.locator("#reschedule button").tap()
    page.wait_for_url(f"**/admin/deliveries/{d}?done=rescheduled")
    assert "Neu geplant." in page.locator(".flash.ok").inner_text()
    assert store.get(d).not_before is not None
    page.goto(base + "/admin/scheduled")
    assert "07:30 ME" in page.locator("main").inner_text()  # MEZ or MESZ: the newsroom's zone
    check(page, "scheduled-filled", "de")
    context.close()
