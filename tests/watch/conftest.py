"""Fixtures of the watch tests: a loopback feed server, and a clock a day after the feeds' T0
(the shared `store` of tests/conftest.py runs on it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from watch_helpers import T0, FeedServer, feed_server

from distributor.testing import FakeClock


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    """A day after the feeds' T0 (the shared `store` runs on this clock)."""
    return FakeClock(T0 + timedelta(days=1))
