"""Browser-test fixtures: Debian chromium driven by Playwright, and a live admin site.

The site is real: uvicorn on a free loopback port serving the web app, a temporary SQLite
post log, and an article published through the real planning and dispatch path to the local
platform sandbox (masto and tg posted, sky waiting for review). Without chromium or
Playwright the tests skip locally with the reason, and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from admin_helpers import admin_settings, build_app, serve

from distributor.article import Article
from distributor.planning import publish
from distributor.sandbox import Sandbox
from distributor.store import open_store

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags chromium tries to reach Google hosts.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTICLE = Article(
    url="https://news.example/politik/rat-beschliesst-haushalt",
    title="Rat beschließt Haushalt <script>alert(1)</script>",
    teaser="Nach langer Debatte hat der Stadtrat den Haushalt für 2027 beschlossen.",
)


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = _unavailable()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        exe = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
        b = pw.chromium.launch(executable_path=exe, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    db = f"sqlite:///{tmp_path / 'log.db'}"
    with Sandbox(port=0, seed=7) as box:
        settings = admin_settings(tmp_path, box.url, db)
        store = open_store(db)
        report = publish(ARTICLE, config=settings, store=store, wait=True, timeout=30)
        ids = {d.channel: d.id for p in report.plans for d in p.created}
        with serve(build_app(settings, store)) as base:
            yield {"base": base, "store": store, "ids": ids, "box": box, "settings": settings}
        store.close()


def _bad(message: Any) -> bool:
    # "Failed to load resource" is also logged for deliberate 4xx pages; _broken judges those.
    return bool(message.type == "error" and "Failed to load resource" not in message.text)


def _broken(response: Any) -> bool:
    sub = response.request.resource_type != "document"
    return bool(sub and response.status >= 400 and "favicon" not in response.url)


@pytest.fixture
def page(browser: Any, site: dict[str, Any]) -> Iterator[Any]:
    """A fresh browser context (no cookies); CSP violations and broken sub-resources (the
    stylesheet) fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    problems: list[str] = []
    p.on("console", lambda m: problems.append(m.text) if _bad(m) else None)
    p.on("response", lambda r: problems.append(f"{r.status} {r.url}") if _broken(r) else None)
    p.set_default_timeout(10_000)
    yield p
    context.close()
    assert not problems, f"browser console errors: {problems}"
