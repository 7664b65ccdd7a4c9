"""The worker's chores and log file: periodic tasks in the claim loop (reconcile, alert checks)
keep their interval and survive their own errors; --log-file rotates, survives a re-setup and
fails with one clear line when it cannot be written."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from distributor import logs
from distributor.config import Settings
from distributor.dispatch import Dispatcher
from distributor.errors import ConfigError
from distributor.store import open_store
from distributor.testing import FakeClock


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    yield
    for h in root.handlers:
        if h not in before[0]:
            h.close()
    root.handlers[:] = before[0]
    root.setLevel(before[1])


def test_periodic_tasks_keep_their_interval_and_survive_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}", clock=clock)
    disp = Dispatcher(Settings(path=None, channels=()), store, clock=clock)
    ran: list[str] = []

    def broken() -> None:
        ran.append("alerts")
        raise RuntimeError("target down")

    disp.every(60, "reconcile", lambda: ran.append("reconcile"), now=False)
    disp.every(30, "alerts", broken)
    disp.every(0, "never", lambda: ran.append("never"))  # 0 switches a chore off
    try:
        for _ in range(5):  # rounds at t = 0, 20, 40, 60, 80 s
            disp.run(until_idle=True)
            clock.advance(20)
    finally:
        store.close()
    assert ran.count("alerts") == 3  # t = 0, 40, 80
    assert ran.count("reconcile") == 1  # t = 60, not at start (the worker did that already)
    assert "never" not in ran
    assert "periodic alerts failed" in caplog.text


def test_a_slow_chore_does_not_hold_up_the_sends(tmp_path: Path) -> None:
    """An alert check waiting for its target (here: until the sends are done) runs beside the
    claim loop: the deliveries go out meanwhile, and `run` returns once the chore ended."""
    from distributor.article import Article
    from distributor.config import Channel
    from distributor.post import Draft
    from distributor.store.models import PlanItem, State
    from distributor.testing import FakeAdapter

    clock = FakeClock()
    store = open_store(f"sqlite:///{tmp_path / 'p.db'}", clock=clock)
    ids = []
    for i in range(3):
        art = Article(url=f"https://news.example/{i}", title=f"Story {i}")
        draft = Draft("a", "mastodon", art.article_id, f"text {i}", art.url).to_dict()
        item = PlanItem("a", "mastodon", "acct-a", draft, f"k{i}")
        ids += [d.id for d in store.plan(art, [item]).created]
    adapter = FakeAdapter()
    disp = Dispatcher(
        Settings(path=None, channels=(Channel("a", "mastodon"),)),
        store,
        adapter_for=lambda ch: adapter,  # type: ignore[arg-type,return-value]
        clock=clock,
    )
    saw: list[int] = []

    def slow_check() -> None:
        deadline = time.monotonic() + 10
        while len(adapter.posts) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        saw.append(len(adapter.posts))

    disp.every(30, "alerts", slow_check)
    try:
        disp.run(until_idle=True, poll=0.01)
        assert saw == [3]  # the sends did not wait for the chore (it would have timed out)
        assert {store.get(i).state for i in ids} == {State.SENT}
    finally:
        store.close()


def test_log_file_survives_a_second_setup(tmp_path: Path, restore_root: None) -> None:
    path = tmp_path / "d.log"
    logs.setup("WARNING", "json", logfile=str(path))
    logs.setup("INFO", "json")  # what `worker` does to log at INFO
    logging.getLogger("distributor.test").info("kept")
    assert '"message": "kept"' in path.read_text(encoding="utf-8")


def test_unwritable_log_file_is_one_clear_error(tmp_path: Path, restore_root: None) -> None:
    with pytest.raises(ConfigError, match=r"--log-file .*/missing/d.log: cannot write"):
        logs.setup("INFO", "json", logfile=str(tmp_path / "missing" / "d.log"))
