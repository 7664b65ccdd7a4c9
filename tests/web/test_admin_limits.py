"""Issue 13 finding 2: a login flood with fresh user names stalled the whole server (argon2 ran
on the event loop, and only (user, address) pairs were limited). Real uvicorn, real argon2."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import PASSWORD, admin_state, app_over_sqlite, csrf_of, serve

from distributor.testing import FakeClock
from distributor.web.admin.limits import HASHING, LoginLimiter


@pytest.fixture
def site(tmp_path: Path) -> Iterator[dict[str, Any]]:
    with app_over_sqlite(tmp_path) as (app, _), serve(app) as base:
        yield {"base": base, "admin": admin_state(app)}


class LoginForm:
    """One browser-like client: posts the form, then the form of the page it got back."""

    def __init__(self, base: str) -> None:
        self.base, self.http = base, requests.Session()
        self.csrf = csrf_of(self.http.get(f"{base}/admin/login").text)

    def post(self, user: str, password: str = "guess") -> requests.Response:
        data = {"csrf": self.csrf, "user": user, "password": password, "next": ""}
        url = f"{self.base}/admin/login"
        r = self.http.post(url, data=data, allow_redirects=False, timeout=30)  # a hang guard
        if 'name="csrf"' in r.text:
            self.csrf = csrf_of(r.text)
        return r


def test_fresh_user_names_are_limited_per_address(site: dict[str, Any]) -> None:
    site["admin"].limiter = LoginLimiter(per_address=3)
    form = LoginForm(site["base"])
    codes = [form.post(f"nobody-{n}").status_code for n in range(4)]
    assert codes == [401, 401, 401, 429]
    refused = form.post("alice", PASSWORD)  # even the right password, from this address
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_limits_per_pair_per_address_and_overall() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(limit=2, per_address=3, overall=5, clock=clock.monotonic)
    for _ in range(2):
        limiter.failed("alice", "10.0.0.1")
    assert limiter.retry_after("ALICE", "10.0.0.1") > 0  # the pair
    assert limiter.retry_after("bob", "10.0.0.1") == 0
    limiter.failed("bob", "10.0.0.1")
    assert limiter.retry_after("carol", "10.0.0.1") > 0  # the address
    assert limiter.retry_after("carol", "10.0.0.2") == 0
    limiter.failed("x", "10.0.0.2")
    limiter.failed("y", "10.0.0.3")
    assert limiter.retry_after("carol", "10.0.0.9") > 0  # everybody together
    clock.advance(61)
    assert limiter.retry_after("alice", "10.0.0.1") == 0


def test_a_login_flood_does_not_stall_the_server(
    site: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While every hashing slot holds a password check (real argon2, held open here), /healthz
    answers and one more login is refused with 429 instead of queueing: the checks run in
    threads, never on the event loop (one check there would stop both answers)."""
    admin, base = site["admin"], site["base"]
    admin.limiter = LoginLimiter(per_address=10**6, overall=10**6)
    release, entered = threading.Event(), threading.Semaphore(0)
    check = admin.auth.check_password

    def held(user: str, password: str) -> bool:
        entered.release()
        release.wait(30)  # a hang guard only
        return bool(check(user, password))

    monkeypatch.setattr(admin.auth, "check_password", held)
    forms = [LoginForm(base) for _ in range(HASHING + 1)]
    with ThreadPoolExecutor(HASHING) as pool:
        try:
            logins = [pool.submit(forms[n].post, f"fresh-{n}") for n in range(HASHING)]
            assert all(entered.acquire(timeout=30) for _ in range(HASHING))  # all slots busy
            assert requests.get(f"{base}/healthz", timeout=30).status_code == 200
            assert forms[HASHING].post("one-more").status_code == 429  # refused, not queued
        finally:
            release.set()
        assert [login.result(timeout=30).status_code for login in logins] == [401] * HASHING
