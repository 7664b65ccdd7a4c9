"""Fixtures of the watch tests: a loopback feed server, a fake clock, a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from watch_helpers import T0, FeedServer, feed_server

from distributor.store import open_store
from distributor.store.store import Store
from distributor.testing import FakeClock


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0 + timedelta(days=1))


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'd.db'}", clock=clock)
    yield s
    s.close()
