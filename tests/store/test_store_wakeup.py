"""Idle workers wake when work is committed (SQLite data_version, PostgreSQL LISTEN/NOTIFY)."""

from __future__ import annotations

import threading
import time

import pytest
from store_helpers import article, item

from distributor.store import open_store
from distributor.store.models import State
from distributor.store.store import Store


def _waits(store_url: str, action: object, timeout: float = 5.0) -> tuple[bool, float]:
    """Start waiting in a thread, run `action` in another store, report (woken, seconds)."""
    other = open_store(store_url, migrate=False)
    waiter = other.waiter()
    result: list[tuple[bool, float]] = []

    def wait() -> None:
        start = time.monotonic()
        result.append((waiter.wait(timeout, threading.Event()), time.monotonic() - start))

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.2)  # the waiter is listening before the commit
    if callable(action):
        action()
    thread.join(timeout + 5)
    waiter.close()
    other.close()
    return result[0]


def test_planning_wakes_a_waiting_worker(store: Store, store_url: str) -> None:
    woken, _ = _waits(store_url, lambda: store.plan(article(), [item("masto")]))
    assert woken  # True only for a commit: a wait that runs out or is stopped answers False


def test_no_commit_no_wake_up(store: Store, store_url: str) -> None:
    woken, took = _waits(store_url, None, timeout=0.5)
    assert not woken
    assert took >= 0.45


def test_approving_wakes_a_waiting_worker(store: Store, store_url: str) -> None:
    planned = store.plan(article(), [item("masto", review=True)])
    (delivery,) = planned.created

    def approve() -> None:
        store.transition(delivery.id, State.QUEUED, actor="editor")

    woken, _ = _waits(store_url, approve)
    assert woken


@pytest.mark.timeout(30)  # a hang guard: only the stop request can end this wait in time
def test_a_stop_request_ends_the_wait(store: Store, store_url: str) -> None:
    waiter = store.waiter()
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    assert not waiter.wait(3600.0, stop)
    waiter.close()
