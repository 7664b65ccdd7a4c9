"""The crash matrix for scheduled deliveries: a worker process is SIGKILLed at each point of the
send path of a post due a moment later (publish_at) on a channel with spacing; after reconcile and
a fresh worker the sandbox holds exactly one post, made no earlier than its time and on time.

The crashing worker is a real `distributor worker` subprocess with `DISTRIBUTOR_CRASH_AT`, started
before the post is due, so it claims the delivery when its time comes and dies there.
"""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from locations import child_env
from test_crash import CLI, AheadClock

from distributor.article import Article
from distributor.config import Settings, load_config
from distributor.dispatch import POINTS, Dispatcher
from distributor.planning import publish
from distributor.reconcile import SETTLE, reconcile
from distributor.sandbox import Sandbox
from distributor.store import open_store
from distributor.store.models import State

LEASE = 5.0
AHEAD = LEASE + SETTLE + 1
DUE_IN = 3.0  # seconds from planning to the post's publish_at
GAP = 5.0  # min_gap: a crash after `sending` counts as a post (it may exist), the resend waits
ON_TIME = 15.0  # the post exists within this long of its time (a restart, reconcile, the gap)
CHANNELS = {"mastodon": "mastodon_main", "bluesky": "bluesky_main"}


@pytest.fixture
def settings(
    sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> Settings:
    assert sandbox_settings.path is not None
    path = tmp_path / "sched.toml"
    text = sandbox_settings.path.read_text(encoding="utf-8")
    for name in CHANNELS.values():  # spacing on the channels under test
        text = text.replace(f"[channels.{name}]\n", f'[channels.{name}]\nmin_gap = "{GAP:g}s"\n')
    path.write_text(text + f"\n[dispatch]\nlease = {LEASE}\nattempts = 1\n", encoding="utf-8")
    env = {**sandbox_secrets, "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'sched.db'}"}
    return load_config(path, environ=env)


def crash_worker(settings: Settings, secrets: dict[str, str], point: str) -> int:
    env = child_env()
    env.update(secrets, DISTRIBUTOR_DATABASE_URL=settings.database_url, DISTRIBUTOR_CRASH_AT=point)
    args = ["-c", str(settings.path), "worker", "--poll", "0.1", "--concurrency", "1"]
    done = subprocess.run(CLI + args, env=env, capture_output=True, timeout=60, check=False)
    return done.returncode


@pytest.mark.parametrize("platform", list(CHANNELS))
@pytest.mark.parametrize("point", POINTS)
def test_crash_around_the_due_time_sends_once_on_time(
    sandbox: Sandbox,
    settings: Settings,
    sandbox_secrets: dict[str, str],
    point: str,
    platform: str,
) -> None:
    store = open_store(settings.database_url)
    try:
        due = datetime.now(UTC) + timedelta(seconds=DUE_IN)
        story = Article(
            url=f"https://news.example.com/2026/plan-{point}", title="Um sieben", publish_at=due
        )
        report = publish(story, config=settings, channels=[CHANNELS[platform]], store=store)
        [delivery] = report.plans[0].created
        assert delivery.not_before == due
        assert crash_worker(settings, sandbox_secrets, point) == -signal.SIGKILL
        assert datetime.now(UTC) >= due  # it died at its point, which comes only once due
        reconcile(settings, store, clock=AheadClock(AHEAD))
        Dispatcher(settings, store, concurrency=1).wait_for([delivery.id], timeout=30, poll=0.1)
        reconcile(settings, store, clock=AheadClock(AHEAD))
        final = store.get(delivery.id)
        posts = sandbox.posts(platform)
        assert len(posts) == 1, f"{platform} after a crash at {point}: {len(posts)} posts"
        assert final.state is State.SENT, f"{platform}/{point}: {final.state} {final.last_error}"
        made = datetime.fromtimestamp(posts[0].created_at, UTC)
        assert due <= made <= due + timedelta(seconds=ON_TIME), (due, made)
        assert all(a.started_at >= due for a in final.history)  # never tried before its time
    finally:
        store.close()
