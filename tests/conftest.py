"""Suite-wide guards and shared fixtures.

Guards: no socket may leave loopback, tests run from a clean directory, and threads stay within
a budget (tests/thread_guard.py). Fixtures: `clock`
(a FakeClock at the test module's `T0`) and `store` (a fresh SQLite store on it); one running
platform sandbox per session, reset before and after each test (posts, requests, faults,
limits), and `sandbox_settings` pointing one channel per platform at it (tests/sandbox_helpers.py).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings
from sandbox_helpers import CONFIG, SECRETS
from thread_guard import non_daemon_left, over_limit

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.sandbox import Sandbox
    from distributor.store.store import Store
    from distributor.testing import FakeClock

# CI runs the property tests with fixed examples, so a red build is reproducible; locally each
# run draws new examples and may find new counterexamples (HYPOTHESIS_PROFILE=ci to repeat CI).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else None):
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _check(address: Any) -> None:
    if isinstance(address, tuple) and not _is_loopback(address[0]):
        raise RuntimeError(f"test tried to open a non-loopback socket to {address!r}")


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if isinstance(host, bytes):
        host = host.decode()
    if host is not None and not _is_loopback(host):
        raise RuntimeError(f"test tried to resolve non-loopback host {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(scope="session", autouse=True)
def _no_stray_threads() -> Iterator[None]:
    """No non-daemon thread may outlive the session (it would keep the interpreter alive)."""
    at_start = threading.enumerate()
    yield
    problem = non_daemon_left(at_start)
    if problem:
        pytest.fail(problem)


@pytest.fixture(scope="session", autouse=True)
def _template_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Compiled templates go to a folder of the session's, not the user's ~/.cache."""
    previous = os.environ.get("DISTRIBUTOR_CACHE_DIR")
    os.environ["DISTRIBUTOR_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("DISTRIBUTOR_CACHE_DIR", None)
    else:
        os.environ["DISTRIBUTOR_CACHE_DIR"] = previous


@pytest.fixture(autouse=True)
def _thread_budget() -> Iterator[None]:
    """Threads a test leaves behind must not pile up for the tests after it."""
    yield
    problem = over_limit()
    if problem:
        pytest.fail(problem)


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run the test inside an empty temporary directory."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FakeClock:
    """A FakeClock at the test module's `T0` (each module fixes its own start time)."""
    from distributor.testing import FakeClock

    start = getattr(request.module, "T0", None)
    if start is None:
        pytest.fail(f"{request.module.__name__} uses the clock fixture but defines no T0")
    return FakeClock(start)


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    """A fresh SQLite store in the test's folder, on `clock`."""
    from distributor.store import open_store

    s = open_store(f"sqlite:///{tmp_path / 'd.db'}", clock=clock)
    yield s
    s.close()


@pytest.fixture(scope="session")
def _sandbox_server() -> Iterator[Sandbox]:
    from distributor.sandbox import Sandbox

    with Sandbox(port=0, seed=1234) as box:
        yield box


@pytest.fixture
def sandbox(_sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The running sandbox, freshly reset for this test; the connections the test's clients kept
    alive are closed after it (their server threads would otherwise live until the garbage
    collector happens to free the clients)."""
    _sandbox_server.reset()
    yield _sandbox_server
    _sandbox_server.reset()
    _sandbox_server.drop_connections()


@pytest.fixture
def sandbox_secrets() -> dict[str, str]:
    """The fake secret values behind `sandbox_settings` (to grep logs and output for)."""
    return dict(SECRETS)


@pytest.fixture
def sandbox_settings(sandbox: Sandbox, tmp_path: Path) -> Settings:
    """Settings with one channel per platform, every API call going to `sandbox`."""
    from distributor.config import load_config

    path = tmp_path / "distributor.toml"
    path.write_text(CONFIG.format(url=sandbox.url), encoding="utf-8")
    return load_config(path, environ=SECRETS)
