"""Issue 13 finding 6: sessions outlived credentials. A cookie signed in with the admin token
kept working after the token was rotated or removed, and logout did not revoke it. Sessions are
now rows in the store: revocable, and bound to the credential that created them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import (
    PASSWORD,
    TOKEN,
    admin_settings,
    build_app,
    csrf_of,
    login,
    serve,
)
from review_helpers import closed_port

from distributor.store import open_store
from distributor.store.store import Store

SANDBOX = f"http://127.0.0.1:{closed_port()}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    yield s
    s.close()


@pytest.fixture
def servers(tmp_path: Path, store: Store) -> Iterator[Any]:
    """Start the web app over the one store with the given environment (a restart after a
    rotation, or another `--workers` process); yields the start function."""
    with ExitStack() as stack:

        def start(**env: str) -> str:
            folder = tmp_path / f"conf-{len(stack._exit_callbacks)}"
            folder.mkdir()
            settings = admin_settings(folder, SANDBOX, f"sqlite:///{tmp_path / 'log.db'}", **env)
            return stack.enter_context(serve(build_app(settings, store)))

        yield start


def token_login(base: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{base}/admin/login")
    r = http.post(
        f"{base}/admin/login",
        data={"csrf": csrf_of(page.text), "token": TOKEN, "next": ""},
        allow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return http


def signed_in(base: str, cookie: str) -> bool:
    r = requests.get(f"{base}/admin/", cookies={"distributor_admin": cookie}, allow_redirects=False)
    assert r.status_code in (200, 303)
    return r.status_code == 200


def test_a_token_session_ends_when_the_token_is_rotated_or_removed(servers: Any) -> None:
    base = servers()
    cookie = token_login(base).cookies["distributor_admin"]
    assert signed_in(base, cookie)
    assert signed_in(servers(), cookie)  # a restart with the same token keeps it
    assert not signed_in(servers(ADMIN_TOKEN="tok-" + "8" * 40), cookie)  # rotated
    assert not signed_in(servers(ADMIN_TOKEN=""), cookie)  # removed


def test_a_password_session_ends_when_the_hash_changes(servers: Any) -> None:
    from argon2 import PasswordHasher

    base = servers()
    http = requests.Session()
    assert login(http, base).status_code == 303
    cookie = http.cookies["distributor_admin"]
    new_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD + "!")
    assert signed_in(servers(), cookie)
    assert not signed_in(servers(ADMIN_ALICE_HASH=new_hash), cookie)


def test_logout_revokes_the_session_in_every_process(servers: Any, store: Store) -> None:
    one, two = servers(), servers()  # e.g. `serve --workers 2` over one store
    http = requests.Session()
    assert login(http, one).status_code == 303
    cookie = http.cookies["distributor_admin"]
    csrf = csrf_of(http.get(f"{one}/admin/").text)
    assert signed_in(two, cookie)
    r = http.post(f"{one}/admin/logout", data={"csrf": csrf}, allow_redirects=False)
    assert r.status_code == 303
    for base in (one, two):  # the old cookie, replayed: neither pages nor actions
        assert not signed_in(base, cookie)
        r = requests.post(
            f"{base}/admin/pause",
            data={"csrf": csrf, "confirm": "yes"},
            cookies={"distributor_admin": cookie},
            allow_redirects=False,
        )
        assert r.status_code == 401
    assert not store.paused()
