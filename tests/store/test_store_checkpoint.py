"""SQLite's WAL checkpoints on a thread of their own (store/checkpoint.py)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from store_helpers import article, item

from distributor.store import checkpoint
from distributor.store.checkpoint import Checkpoints
from distributor.store.store import Store


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """SQLite only: PostgreSQL has no WAL file to copy back."""
    return f"sqlite:///{tmp_path / 'distributor.db'}"


def _threshold(store: Store) -> int:
    raw = store._engine.raw_connection()
    try:
        return int(raw.cursor().execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    finally:
        raw.close()


def _threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wal-checkpoints"]


def _until(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within 10 s"
        time.sleep(0.02)


def test_commits_of_this_process_checkpoint_only_as_a_fallback(store: Store) -> None:
    assert _threshold(store) == 1000  # SQLite's default: a commit checkpoints
    store.checkpoint_in_background()
    assert _threshold(store) == checkpoint.FALLBACK_PAGES
    assert len(_threads()) == 1
    store.close()
    assert _threads() == []


def test_the_thread_copies_the_log_into_the_database(store: Store) -> None:
    points = Checkpoints(store._engine, every=0.05)
    try:
        for k in range(30):
            store.plan(article(f"https://news.example/a/{k}"), [item("masto", account=f"a{k}")])
        _until(lambda: points.last is not None and points.last[1] > 0)
        _until(lambda: points.last is not None and points.last[1] == points.last[2])
        assert points.last is not None and points.last[0] == 0  # PASSIVE: never busy-waits
    finally:
        points.stop()
    assert _threads() == []


def test_a_failing_checkpoint_is_one_warning_and_the_thread_goes_on(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def flaky(self: Checkpoints) -> tuple[int, int, int]:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk I/O error at /secret/path")
        return (0, 0, 0)

    monkeypatch.setattr(Checkpoints, "checkpoint", flaky)
    with caplog.at_level(logging.WARNING, logger="distributor.store"):
        points = Checkpoints(store._engine, every=0.02)
        try:
            _until(lambda: len(calls) >= 3)
        finally:
            points.stop()
    assert [r.getMessage() for r in caplog.records] == ["WAL checkpoint failed: OSError"]
