"""Fixtures of the interop tests: the real Bluesky PDS (plain and rate-limited), fresh accounts.

Outside CI the tests skip with one line when node 22 or the PDS is not installed; with CI=true
they fail instead. Each test module sets `pytestmark = pytest.mark.interop`. After every
test that uses `account`, the PDS's own non-loopback log must be empty.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pds import MISSING, Account, Pds, from_env, installed, new_account, start


def _server(kind: str, rate_limits: bool) -> Iterator[Pds]:
    given = from_env(kind)
    if given is not None:
        yield given
        return
    if not installed():
        if os.environ.get("CI"):
            pytest.fail(MISSING + " (CI=true: .ci/run installs and starts it)")
        pytest.skip(MISSING)
    server = start(rate_limits=rate_limits)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pds() -> Iterator[Pds]:
    """The plain PDS (rate limits off)."""
    yield from _server("", rate_limits=False)


@pytest.fixture(scope="session")
def pds_limited() -> Iterator[Pds]:
    """A PDS with its own rate limits on (PDS_RATE_LIMITS_ENABLED=true)."""
    yield from _server("LIMITED_", rate_limits=True)


@pytest.fixture
def account(pds: Pds) -> Iterator[Account]:
    """A fresh account (its own repository) on the plain PDS; no non-loopback traffic after."""
    yield new_account(pds)
    assert pds.violations() == "", f"the PDS tried to leave loopback:\n{pds.violations()}"
