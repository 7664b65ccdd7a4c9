"""Long-running commands settle their heap after start-up (distributor.heap)."""

from __future__ import annotations

import gc
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from review_helpers import run

from distributor import heap
from distributor.web.server import SWITCH_INTERVAL


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    """Every test starts and ends with nothing frozen (the test process lives on)."""
    gc.unfreeze()
    yield
    gc.unfreeze()


class Made:
    """An object the warm-up makes: tracked by the GC, so it can be frozen."""


def _tracked(obj: object) -> bool:
    """In a collected generation (frozen objects are in none of them)."""
    return any(o is obj for o in gc.get_objects())


def test_settle_freezes_what_start_up_and_the_warm_up_made() -> None:
    made: list[Made] = []
    before = Made()
    assert _tracked(before)
    heap.settle(lambda: made.append(Made()))
    assert made, "the warm-up ran"
    assert not _tracked(before) and not _tracked(made[0])
    assert gc.get_freeze_count() > 0
    after = Made()
    assert _tracked(after), "what is made later is collected as before"


def test_a_failing_warm_up_is_logged_at_debug_and_settle_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def warm() -> None:
        raise ValueError("token=abc123 in a message")

    with caplog.at_level(logging.DEBUG, logger="distributor.heap"):
        heap.settle(warm)
    assert gc.get_freeze_count() > 0
    assert [r.getMessage() for r in caplog.records] == ["warm-up skipped: ValueError"]


def _checkpoint_threads() -> int:
    return sum(t.name == "wal-checkpoints" for t in threading.enumerate())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_settles_after_rendering_every_channel_and_checkpoints_aside(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from distributor.cli import serve

    seen: dict[str, Any] = {}
    warmed: list[list[Any]] = []
    real_warm_up = serve.warm_up
    monkeypatch.setattr(serve, "warm_up", lambda conf: warmed.append(real_warm_up(conf)))

    def fake_run(uvicorn: Any, app: Any, **options: Any) -> None:
        seen["frozen"] = gc.get_freeze_count()
        seen["switch"] = sys.getswitchinterval()
        seen["checkpoints"] = _checkpoint_threads()
        seen["app"] = app

    monkeypatch.setattr(serve, "_run", fake_run)
    interval = sys.getswitchinterval()
    try:
        code, _, err = run(capsys, "serve", "--port", str(_free_port()))
    finally:
        sys.setswitchinterval(interval)
    assert code == 0, err
    assert seen["frozen"] > 0, "the heap is settled before the server starts"
    assert seen["switch"] == SWITCH_INTERVAL != interval
    assert seen["checkpoints"] == 1, "SQLite's checkpoints run on a thread of their own"
    (items,) = warmed
    assert all(i.error is None for i in items)
    assert sum(i.skipped is None for i in items) > 1, "rendered (routing may skip some)"
    assert {i.channel.name for i in items} == {
        c.name for c in seen["app"].state.web.settings.channels
    }
    seen["app"].state.web.store.close()


def test_worker_settles_and_checkpoints_aside_before_its_first_claim(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from distributor.dispatch import Dispatcher

    frozen: list[int] = []
    checkpoints: list[int] = []

    def fake_run(self: Any, *args: Any, **kwargs: Any) -> int:
        frozen.append(gc.get_freeze_count())
        checkpoints.append(_checkpoint_threads())
        return 0

    monkeypatch.setattr(Dispatcher, "run", fake_run)
    code, out, err = run(capsys, "worker", "--until-idle", "--database", "sqlite:///w.db")
    assert code == 0, err
    assert frozen and frozen[0] > 0
    assert checkpoints == [1] and _checkpoint_threads() == 0  # the store's close ended it
    assert "stopped after 0 claims" in out
