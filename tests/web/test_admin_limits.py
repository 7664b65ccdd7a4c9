"""Issue 13 finding 2: a login flood with fresh user names stalled the whole server (argon2 ran
on the event loop, and only (user, address) pairs were limited). Real uvicorn, real argon2."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from admin_helpers import PASSWORD, admin_state, app_over_sqlite, csrf_of, serve

from distributor.testing import FakeClock
from distributor.web.admin.limits import LoginLimiter


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
        r = self.http.post(f"{self.base}/admin/login", data=data, allow_redirects=False)
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


def one_hash_seconds() -> float:
    """What one check against the server's dummy hash (argon2 defaults) costs here, now."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerifyMismatchError

    hasher = PasswordHasher()
    hashed = hasher.hash("x")
    started = time.perf_counter()
    with pytest.raises(VerifyMismatchError):
        hasher.verify(hashed, "y")
    return time.perf_counter() - started


def test_a_login_flood_does_not_stall_the_server(site: dict[str, Any]) -> None:
    """4 clients with fresh user names while /healthz is polled: health answers stay far below
    one hash's time (hashes run in threads), and hashes beyond the cap are refused with 429."""
    site["admin"].limiter = LoginLimiter(per_address=10**6, overall=10**6)
    base, stop = site["base"], threading.Event()
    codes: list[int] = []

    def flood(n: int) -> None:
        form = LoginForm(base)
        i = 0
        while not stop.is_set():
            codes.append(form.post(f"fresh-{n}-{i}").status_code)
            i += 1

    health = requests.Session()
    health.get(f"{base}/healthz")
    with ThreadPoolExecutor(4) as pool:
        for n in range(4):
            pool.submit(flood, n)
        time.sleep(0.3)
        latencies = []
        for _ in range(15):
            started = time.perf_counter()
            assert health.get(f"{base}/healthz", timeout=30).status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.05)
        stop.set()
    hash_time = one_hash_seconds()
    assert codes.count(401) >= 4, codes  # hashes really ran meanwhile
    assert 429 in codes  # more than two at once were refused, not queued
    assert set(codes) <= {401, 429}
    assert statistics.median(latencies) < hash_time / 2, (latencies, hash_time)
