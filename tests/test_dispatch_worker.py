"""The Dispatcher's worker loop on a real SQLite store: heartbeats, crash hooks, lease renewal
during a slow send, its settings, a send that breaks, waking on planned work, what it logs,
a full disk, and being freed without a GC pass."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import pytest
from dispatch_helpers import POLICY, T0  # noqa: F401  (T0: where the clock fixture starts)
from dispatch_helpers import make_dispatcher as _dispatcher
from dispatch_helpers import plan_posts as _plan
from dispatch_helpers import settings_of as _settings

from distributor.config import Channel, Settings
from distributor.config.tables import parse_dispatch
from distributor.dispatch import Dispatcher, Policy
from distributor.errors import ConfigError
from distributor.platforms.base import Draft, Receipt
from distributor.store.models import State
from distributor.store.store import Store
from distributor.testing import FakeAdapter, FakeClock


def test_heartbeat_is_recorded(store: Store, clock: FakeClock) -> None:
    disp = _dispatcher(store, clock, {})
    disp.run(until_idle=True)
    assert [w["id"] for w in store.workers()] == ["w-test"]


@pytest.mark.parametrize("point", ["after_claim", "after_commit"])
def test_crash_hook_kills_the_process(point: str) -> None:
    code = f"from distributor.dispatch import crash_point; crash_point({point!r}); print('alive')"
    env = {"DISTRIBUTOR_CRASH_AT": point, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert proc.returncode == -9 and b"alive" not in proc.stdout
    ok = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert ok.returncode == 0 and b"alive" in ok.stdout


def test_the_lease_is_renewed_during_a_slow_send(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    (i,) = _plan(store, 1)

    def renewed() -> bool:
        return any("lease renewed" in r.getMessage() for r in caplog.records)

    @dataclass
    class Slow(FakeAdapter):
        def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
            deadline = time.monotonic() + 30  # real slowness: the keeper runs on real time
            while not renewed() and time.monotonic() < deadline:  # (however loaded the CPU)
                time.sleep(0.05)
            return super().publish(draft, key=key)

    with caplog.at_level(logging.INFO, logger="distributor.dispatch"):
        _dispatcher(store, clock, {"a": Slow()}, policy=Policy(lease=0.15)).run_once()
    assert renewed()
    assert store.get(i).state is State.SENT


def test_dispatch_settings_come_from_the_config_with_clear_errors() -> None:
    assert parse_dispatch({"attempts": 2, "backoff": 0.5}, "x") == Policy(attempts=2, backoff=0.5)
    with pytest.raises(ConfigError, match=r"x.toml: \[dispatch\] key 'retries': unknown key"):
        parse_dispatch({"retries": 3}, "x.toml")
    with pytest.raises(ConfigError, match="'attempts': must be a positive integer"):
        parse_dispatch({"attempts": 0}, "x.toml")
    with pytest.raises(ConfigError, match="'budget': must be seconds >= 0"):
        parse_dispatch({"budget": "1m"}, "x.toml")
    settings = Settings(path=None, channels=(), dispatch=Policy(lease=60))
    assert Dispatcher(settings, cast(Store, None)).policy.lease == 60


def test_a_send_that_breaks_does_not_stop_the_worker(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _plan(store, 1, "a") + _plan(store, 1, "b")

    @dataclass
    class Broken(FakeAdapter):
        def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
            store.finish = None  # type: ignore[assignment,method-assign]
            raise RuntimeError("store gone")  # then recording the outcome blows up too

    adapters = {"a": Broken(), "b": FakeAdapter()}
    disp = _dispatcher(
        store, clock, adapters, Channel("a", "mastodon"), Channel("b", "mastodon"), concurrency=1
    )
    with caplog.at_level(logging.ERROR, logger="distributor.dispatch"):
        disp.run(until_idle=True)
    del store.finish
    assert store.get(ids[0]).state is State.SENDING  # left for reconcile, lease running out
    assert adapters["b"].calls  # the worker went on to the next account
    assert any("reconcile will resolve it" in r.getMessage() for r in caplog.records)


def test_an_idle_worker_wakes_on_planned_work_not_at_its_poll(
    store: Store, clock: FakeClock
) -> None:
    """Time to post: a delivery planned while the worker idles with a 60 s poll is sent at
    once (the store's wake-up), well before the next poll."""
    fake = FakeAdapter()
    disp = _dispatcher(store, clock, {"a": fake})
    stop = threading.Event()
    worker = threading.Thread(target=lambda: disp.run(stop, poll=60.0))
    worker.start()
    try:
        time.sleep(0.3)  # idle and waiting
        (i,) = _plan(store, 1)
        deadline = time.monotonic() + 10
        while store.get(i).state is not State.SENT and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.get(i).state is State.SENT
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()  # a stop ends the idle wait at once, not after 60 s


def test_at_info_a_delivery_logs_its_outcome_only(
    store: Store, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Routine steps (claimed, sending) are DEBUG; INFO carries one line per outcome."""
    _plan(store, 1)
    disp = _dispatcher(store, clock, {"a": FakeAdapter()})
    with caplog.at_level(logging.INFO, logger="distributor.dispatch"):
        disp.run_once()
    mine = [r.getMessage() for r in caplog.records if r.name == "distributor.dispatch"]
    assert mine == ["sent"]
    caplog.clear()
    (j,) = _plan(store, 1, start=1)
    with caplog.at_level(logging.DEBUG, logger="distributor.dispatch"):
        disp.run_once()
    mine = [r.getMessage() for r in caplog.records if r.name == "distributor.dispatch"]
    assert mine[0].startswith("claimed by") and "sending" in mine and mine[-1] == "sent"
    assert store.get(j).state is State.SENT


def test_a_full_disk_stops_the_worker(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 finding 12: a send whose outcome cannot be recorded because the disk is full
    stops the loop (the CLI prints one line, exit 3) instead of claiming ever more."""
    from distributor.errors import StoreFull

    _plan(store, 3)
    fake = FakeAdapter()

    def full(*args: Any, **kwargs: Any) -> Any:
        raise StoreFull("store sqlite:///x.db: the disk is full")

    monkeypatch.setattr(store, "finish", full)
    with pytest.raises(StoreFull):
        _dispatcher(store, clock, {"a": fake}).run(until_idle=True)
    assert len(fake.calls) == 1  # one send went out; no further claims after it


def test_a_finished_dispatcher_is_freed_without_a_gc_pass(store: Store, clock: FakeClock) -> None:
    """No reference cycle: the adapters (and their HTTP sessions) go when the dispatcher does,
    not at some later garbage collection."""
    import gc
    import weakref

    _plan(store, 1)
    gc.disable()
    try:
        d = Dispatcher(_settings(), store, clock=clock, worker_id="w-test", policy=POLICY)
        gone = weakref.ref(d)
        del d
        assert gone() is None
    finally:
        gc.enable()
