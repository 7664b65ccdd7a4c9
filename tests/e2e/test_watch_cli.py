"""`distributor watch` end to end: the real CLI in a subprocess, a loopback feed server, the
worker and the platform sandbox. A feed's backlog posts nothing, one new item is posted exactly
once per channel, churn posts nothing; SIGTERM stops the loop with exit 0; exit codes 2 and 6."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from signal_helpers import signal_twice
from watch_helpers import T0, FeedServer, Item, feed_server, rss

from distributor.config import Channel, Settings
from distributor.platform import spec

WATCH = '\n[watch]\nallow_hosts = ["127.0.0.1"]\nallow_private = true\ntimeout = "3s"\n'
BACKLOG = [Item(n) for n in (4, 3, 2, 1)]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as srv:
        yield srv


@pytest.fixture
def settings(sandbox_settings: Settings) -> Settings:
    assert sandbox_settings.path is not None
    with sandbox_settings.path.open("a", encoding="utf-8") as f:
        f.write(WATCH)
    return sandbox_settings


def _env(secrets: dict[str, str], db: Path) -> dict[str, str]:
    return {**os.environ, **secrets, "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{db}"}


def _cmd(settings: Settings, *args: str) -> list[str]:
    script = Path(sys.executable).with_name("distributor")
    main = "from distributor.cli import main; main()"
    head = [str(script)] if script.is_file() else [sys.executable, "-c", main]
    return [*head, "--config", str(settings.path), *args]


def _run(
    settings: Settings, secrets: dict[str, str], db: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _cmd(settings, *args), env=_env(secrets, db), capture_output=True, text=True, timeout=120
    )


def _text_only(settings: Settings) -> list[Channel]:
    """The channels that take the feed's image-less items (not Instagram or Pinterest)."""
    return [c for c in settings.channels if not spec(c.platform).requires_image]


def _posts(sandbox: Any, settings: Settings) -> dict[str, list[str]]:
    platforms = {c.platform for c in _text_only(settings)}
    return {p: [post.text for post in sandbox.posts(p)] for p in sorted(platforms)}


def test_backlog_posts_nothing_new_item_once_per_channel_churn_nothing(
    sandbox: Any,
    settings: Settings,
    sandbox_secrets: dict[str, str],
    server: FeedServer,
    tmp_path: Path,
) -> None:
    db = tmp_path / "w.db"
    url = server.url("/feed")
    server.set("/feed", rss(BACKLOG))
    first = _run(settings, sandbox_secrets, db, "watch", url, "--once", "--json")
    assert first.returncode == 0, first.stderr
    [result] = json.loads(first.stdout)
    assert (result["first"], result["remembered"], result["planned"]) == (True, 4, [])
    assert f"{url}: 4 items, first poll: 4 recorded as known, 0 new" in first.stderr

    server.set("/feed", rss([Item(5), *BACKLOG]))
    second = _run(settings, sandbox_secrets, db, "watch", url, "--once", "--json")
    assert second.returncode == 0, second.stderr
    assert len(json.loads(second.stdout)[0]["planned"]) == len(_text_only(settings))
    sent = _run(settings, sandbox_secrets, db, "worker", "--until-idle", "--poll", "0.1")
    assert sent.returncode == 0, sent.stderr
    posts = _posts(sandbox, settings)
    per_platform = {c.platform: 0 for c in _text_only(settings)}
    for c in _text_only(settings):
        per_platform[c.platform] += 1
    assert {p: len(t) for p, t in posts.items()} == per_platform  # one post per channel
    assert all("Gesetz Nummer 5" in text for texts in posts.values() for text in texts)

    later = T0 + timedelta(days=3)
    churned = [replace(Item(5), when=later, link=Item(5).link + "?utm_source=rss"), *BACKLOG]
    server.set("/feed", rss(list(reversed(churned))))
    third = _run(settings, sandbox_secrets, db, "watch", url, "--once")
    assert third.returncode == 0 and "5 items, 0 new, 0 deliveries planned" in third.stderr
    _run(settings, sandbox_secrets, db, "worker", "--until-idle", "--poll", "0.1")
    assert _posts(sandbox, settings) == posts
    for secret in sandbox_secrets.values():
        assert secret not in first.stderr + second.stderr + third.stderr + sent.stderr


def test_exit_codes_for_a_refused_host_and_a_failing_feed(
    settings: Settings, sandbox_secrets: dict[str, str], server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "e.db"
    refused = _run(settings, sandbox_secrets, db, "watch", "https://www.example.org/rss", "--once")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        "error: https://www.example.org/rss: host 'www.example.org' is not allowed "
        "(add it to [watch] allow_hosts)"
    )
    server.set("/good", rss(BACKLOG))
    broken, good = server.url("/missing"), server.url("/good")
    run = _run(settings, sandbox_secrets, db, "watch", broken, good, "--once")
    assert run.returncode == 6, run.stderr
    assert f"{broken}: HTTP 404 Not Found" in run.stderr
    assert f"{good}: 4 items, first poll" in run.stderr
    assert "Traceback" not in run.stderr


def _start_watch(
    settings: Settings, secrets: dict[str, str], server: FeedServer, db: Path, *args: str
) -> subprocess.Popen[str]:
    """`distributor watch ARGS` in the background, once the server has seen its first request."""
    before = len(server.seen)
    proc = subprocess.Popen(
        _cmd(settings, "watch", *args),
        env=_env(secrets, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while len(server.seen) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(server.seen) > before, "the watcher never polled"
    return proc


def _signal(proc: subprocess.Popen[str], times: int = 1) -> str:
    """Send SIGTERM `times` times (the second once the first was handled); the process's
    stderr once it exited."""
    if times == 2:
        return signal_twice(proc)[1]
    try:
        proc.send_signal(signal.SIGTERM)
        return proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigterm_stops_the_loop_with_exit_0(
    settings: Settings, sandbox_secrets: dict[str, str], server: FeedServer, tmp_path: Path
) -> None:
    server.set("/feed", rss(BACKLOG))
    args = (server.url("/feed"), "--interval", "0.2")
    proc = _start_watch(settings, sandbox_secrets, server, tmp_path / "s.db", *args)
    deadline = time.monotonic() + 30
    while len(server.statuses("/feed")) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    err = _signal(proc)
    assert server.statuses("/feed")[:3] == [200, 304, 304]  # polling, conditionally
    assert proc.returncode == 0, err
    assert err.rstrip().endswith("watch stopped") and "Traceback" not in err


def test_sigterm_during_a_poll_finishes_it_a_second_signal_stops_at_once(
    settings: Settings, sandbox_secrets: dict[str, str], server: FeedServer, tmp_path: Path
) -> None:
    from distributor.store import open_store

    server.set("/slow", rss(BACKLOG), delay=2.0)  # the first poll is in progress when signalled
    args = (server.url("/slow"), "--interval", "60")
    db = tmp_path / "slow.db"
    proc = _start_watch(settings, sandbox_secrets, server, db, *args)
    err = _signal(proc)
    assert proc.returncode == 0, err
    assert "4 items, first poll: 4 recorded as known" in err  # the poll finished first
    store = open_store(f"sqlite:///{db}")
    try:
        state = store.feed_state(server.url("/slow"))
        assert state is not None and state.baseline_at is not None
    finally:
        store.close()

    aborted = tmp_path / "abort.db"
    proc = _start_watch(settings, sandbox_secrets, server, aborted, *args)
    err = _signal(proc, times=2)
    assert proc.returncode == 130, err
    assert "second SIGTERM: exiting now" in err and "Traceback" not in err
    assert "first poll" not in err  # did not wait for the slow answer: the poll never finished
    store = open_store(f"sqlite:///{aborted}")
    try:
        state = store.feed_state(server.url("/slow"))
        assert state is None or state.baseline_at is None
    finally:
        store.close()
