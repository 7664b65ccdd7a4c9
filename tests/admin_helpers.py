"""Builders shared by the admin UI tests (tests/web, tests/browser): a config with admin
accounts, the web app served by real uvicorn on a free loopback port, and signing in."""

from __future__ import annotations

import functools
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from distributor.config import Settings, load_config
from distributor.store.store import Store

USER, PASSWORD = "alice", "correct horse battery staple"
TOKEN = "tok-" + "9" * 40
SECRET = "s" * 48
CONFIG = """
[distributor]
sandbox = "{sandbox}"
database = "{db}"
[admin]
users = {{ alice = "ADMIN_ALICE_HASH", bob = "ADMIN_BOB_HASH" }}
token_env = "ADMIN_TOKEN"
[channels.masto]
platform = "mastodon"
access_token_env = "MASTODON_ACCESS_TOKEN"
[channels.sky]
platform = "bluesky"
handle = "news.example"
app_password_env = "BLUESKY_APP_PASSWORD"
review = true
[channels.tg]
platform = "telegram"
chat_id = "@news"
bot_token_env = "TELEGRAM_BOT_TOKEN"
"""


@functools.cache
def password_hash() -> str:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)  # fast in tests


def admin_settings(folder: Path, sandbox: str, db: str, *, admin: str = "", **env: str) -> Settings:
    """Settings with the masto/sky(review)/tg channels and alice's account (bob has no hash);
    `admin` adds lines to the [admin] table (e.g. `timezone = "Europe/Berlin"`)."""
    path = folder / "distributor.toml"
    text = CONFIG.format(sandbox=sandbox, db=db).replace("[admin]\n", f"[admin]\n{admin}\n", 1)
    path.write_text(text, encoding="utf-8")
    environ = {
        "ADMIN_ALICE_HASH": password_hash(),
        "ADMIN_TOKEN": TOKEN,
        "DISTRIBUTOR_SESSION_SECRET": SECRET,
        **env,
    }
    return load_config(path, environ=environ)


def build_app(settings: Settings, store: Store) -> Any:
    """The project's web app (webhook, operator endpoints, admin UI) over `store`."""
    from distributor.web.app import create_app

    return create_app(settings, store=store)


@contextmanager
def app_over_sqlite(folder: Path) -> Iterator[tuple[Any, Store]]:
    """The web app with the admin accounts over a new SQLite post log in `folder`, its sandbox
    URL a closed port: (app, store); the store is closed afterwards."""
    from review_helpers import closed_port

    from distributor.store import open_store

    db = f"sqlite:///{folder / 'log.db'}"
    settings = admin_settings(folder, f"http://127.0.0.1:{closed_port()}", db)
    store = open_store(db)
    try:
        yield build_app(settings, store), store
    finally:
        store.close()


def admin_state(app: Any) -> Any:
    """The mounted admin sub-app's state (limiter, auth, store)."""
    mounted = next(r for r in app.routes if getattr(r, "path", "") == "/admin")
    return mounted.app.state.admin


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run `app` in real uvicorn on a free 127.0.0.1 port; yields the base URL. The app's
    lifespan runs as in `serve`: its shutdown stops the webhook writer thread (without it,
    every app served left one behind)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on the page."""
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def login(
    http: requests.Session, base: str, user: str = USER, password: str = PASSWORD
) -> requests.Response:
    """Sign in through the login form, as a browser does (the session keeps the cookies)."""
    page = http.get(f"{base}/admin/login")
    return http.post(
        f"{base}/admin/login",
        data={"csrf": csrf_of(page.text), "user": user, "password": password, "next": ""},
        allow_redirects=False,
    )


def seed(settings: Settings, store: Store, title: str, url: str) -> dict[str, int]:
    """Plan an article through the real publish path (no sending): channel -> delivery id."""
    from distributor.article import Article
    from distributor.planning import publish

    article = Article(url=url, title=title, teaser="Was der Rat am Dienstag beschlossen hat.")
    report = publish(article, config=settings, store=store)
    return {d.channel: d.id for p in report.plans for d in p.created}
