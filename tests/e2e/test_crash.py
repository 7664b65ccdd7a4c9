"""Crash tests: a worker process is SIGKILLed at each point of the send path on every platform,
then reconcile and a fresh worker run; the sandbox must hold exactly one post per (article,
channel), or (a platform whose spec says `hold`: Telegram, which cannot look its posts up) the
delivery is `unknown` and listed by `audit`. Never two.

The crashing worker is a real `distributor worker --until-idle` subprocess with
`DISTRIBUTOR_CRASH_AT`; the restart (reconcile, then a new Dispatcher) runs in this process, and
`test_restarted_worker_process_finishes_the_job` checks the restart as a process once. Nothing
sleeps through the lease: reconcile's clock runs a lease plus the settle time ahead.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from locations import child_env
from sandbox_helpers import CHANNEL_OF

from distributor.article import Article, Image
from distributor.config import Settings, load_config
from distributor.dispatch import POINTS, Dispatcher
from distributor.planning import publish
from distributor.platform import BUILTIN, Ambiguity, load, spec
from distributor.reconcile import SETTLE, reconcile
from distributor.sandbox import Sandbox
from distributor.store import open_store
from distributor.store.models import State
from distributor.store.store import Store

LEASE = 5.0  # seconds; the worker renews it before every try, and none of ours takes long
CHANNELS = {platform: CHANNEL_OF[platform] for platform in BUILTIN}
AHEAD = LEASE + SETTLE + 1  # reconcile's clock: every lease expired, every post settled
# no idempotency key, no history API: a human decides (Telegram)
HELD = {p for p, row in BUILTIN.items() if row.ambiguity is Ambiguity.HOLD}
_SCRIPT = Path(sys.executable).with_name("distributor")
CLI = (
    [str(_SCRIPT)]
    if _SCRIPT.is_file()
    else [sys.executable, "-c", "from distributor.cli import main; main()"]
)


class AheadClock:
    """The wall clock plus `ahead` seconds: every lease taken before now has expired."""

    def __init__(self, ahead: float) -> None:
        self.ahead = timedelta(seconds=ahead)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def monotonic(self) -> float:
        import time

        return time.monotonic() + self.ahead.total_seconds()

    def sleep(self, seconds: float) -> None:
        raise AssertionError("reconcile must not sleep")


@pytest.fixture
def crash_settings(
    sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> Settings:
    """The e2e sandbox configuration with its own database and a short lease."""
    assert sandbox_settings.path is not None
    path = tmp_path / "crash.toml"
    text = sandbox_settings.path.read_text(encoding="utf-8")
    path.write_text(text + f"\n[dispatch]\nlease = {LEASE}\nattempts = 1\n", encoding="utf-8")
    env = {**sandbox_secrets, "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'crash.db'}"}
    return load_config(path, environ=env)


def run_worker(settings: Settings, secrets: dict[str, str], crash_at: str | None = None) -> int:
    """`distributor worker --until-idle` in a subprocess (killing itself at `crash_at`)."""
    assert settings.path is not None
    env = child_env()
    env.update(secrets, DISTRIBUTOR_DATABASE_URL=settings.database_url)
    if crash_at:
        env["DISTRIBUTOR_CRASH_AT"] = crash_at
    args = ["-c", str(settings.path), "worker", "--until-idle", "--concurrency", "1"]
    done = subprocess.run(CLI + args, env=env, capture_output=True, timeout=60, check=False)
    if crash_at is None:
        assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.returncode


def posting_route(platform: str) -> str:
    """The route after which the post exists: "publish" after a container (Threads, Instagram)."""
    from distributor.sandbox.state import SandboxState

    names = {r.name for r in load(BUILTIN[platform].emulator)(SandboxState()).routes()}
    return "publish" if "publish" in names else "create"


def expected_decisions(point: str, platform: str) -> list[str]:
    """What reconcile must decide after a crash at `point`."""
    if point == "after_commit":
        return []  # the outcome was committed: nothing to reconcile
    if point == "after_claim":
        return ["released"]  # `sending` was never committed: nothing was sent
    if platform in HELD:
        return ["held"]
    if BUILTIN[platform].ambiguity is Ambiguity.RESEND_WITH_KEY:
        return ["requeued"]  # the same Idempotency-Key within the hour (Mastodon)
    return ["found" if point == "after_send" else "absent"]


def plan_one(
    settings: Settings,
    store: Store,
    channel: str,
    url: str = "https://news.example.com/2026/03/crash-test",
) -> int:
    # only where the platform needs one (Instagram, Pinterest): it changes the others' send path
    needs_image = spec(settings.channel(channel).platform).requires_image
    article = Article(
        url=url,
        title="Wie ein Absturz nie doppelt postet",
        image=Image(url="https://news.example.com/bilder/crash.jpg") if needs_image else None,
    )
    report = publish(article, config=settings, channels=[channel], store=store)
    [plan] = report.plans
    assert plan.error is None, plan.error
    [delivery] = plan.created
    return delivery.id


@pytest.mark.parametrize("platform", list(CHANNELS))
@pytest.mark.parametrize("point", POINTS)
def test_crash_at_every_point_never_posts_twice(
    sandbox: Sandbox,
    crash_settings: Settings,
    sandbox_secrets: dict[str, str],
    point: str,
    platform: str,
) -> None:
    store = open_store(crash_settings.database_url)
    try:
        delivery_id = plan_one(crash_settings, store, CHANNELS[platform])
        assert run_worker(crash_settings, sandbox_secrets, point) == -signal.SIGKILL
        crashed = store.get(delivery_id)
        # the restart: reconcile (one lease later), then a new worker
        report = reconcile(crash_settings, store, clock=AheadClock(AHEAD))
        Dispatcher(crash_settings, store, concurrency=1).run(until_idle=True, poll=0.05)
        again = reconcile(crash_settings, store, clock=AheadClock(AHEAD))
        final = store.get(delivery_id)
        posts = sandbox.posts(platform)

        assert len(posts) <= 1, f"{platform} after a crash at {point}: {len(posts)} posts"
        assert [d.action for d in report.decisions] == expected_decisions(point, platform)
        if final.state is State.UNKNOWN:
            assert platform in HELD, f"{platform}/{point}: left unknown: {report.to_dict()}"
            assert crashed.state is State.SENDING
            assert [d.id for d in store.audit()] == [delivery_id]
            assert [d.delivery_id for d in again.needs_human] == [delivery_id]
            assert len(posts) == (1 if point == "after_send" else 0)
        else:
            assert final.state is State.SENT, (
                f"{platform}/{point}: {final.state} {final.last_error}"
            )
            assert len(posts) == 1
            assert final.remote_id is not None
            # Bluesky names the record by its rkey, LinkedIn by a URN ending in the id
            named = {final.remote_id, final.remote_id.rsplit(":", 1)[-1]}
            assert posts[0].data.get("rkey", posts[0].id) in named
            assert store.audit() == []
        assert [d.action for d in again.decisions] == (
            ["held"] if final.state is State.UNKNOWN else []
        )
    finally:
        store.close()


def test_restarted_worker_process_finishes_the_job(
    sandbox: Sandbox, crash_settings: Settings, sandbox_secrets: dict[str, str]
) -> None:
    """Crash after Mastodon stored the status; reconcile requeues it; a new worker process
    resends with the same Idempotency-Key and records the one status the sandbox holds."""
    store = open_store(crash_settings.database_url)
    try:
        delivery_id = crash_after_send(crash_settings, sandbox_secrets, store, "mastodon_main")
        assert len(sandbox.posts("mastodon")) == 1
        report = reconcile(crash_settings, store, clock=AheadClock(AHEAD))
        assert [d.action for d in report.decisions] == ["requeued"]
        assert run_worker(crash_settings, sandbox_secrets) == 0
        final = store.get(delivery_id)
        [post] = sandbox.posts("mastodon")
        assert (final.state, final.remote_id) == (State.SENT, post.id)
        creates = [r for r in sandbox.requests("mastodon") if r.get("route") == "create"]
        assert len(creates) == 2  # the crashed send and the keyed resend: one status
    finally:
        store.close()


def crash_after_send(
    settings: Settings, secrets: dict[str, str], store: Store, channel: str
) -> int:
    delivery_id = plan_one(settings, store, channel)
    assert run_worker(settings, secrets, "after_send") == -signal.SIGKILL
    return delivery_id


def test_mastodon_past_the_key_window_is_looked_up_not_resent(
    sandbox: Sandbox, crash_settings: Settings, sandbox_secrets: dict[str, str]
) -> None:
    store = open_store(crash_settings.database_url)
    try:
        delivery_id = crash_after_send(crash_settings, sandbox_secrets, store, "mastodon_main")
        report = reconcile(crash_settings, store, clock=AheadClock(3600 + AHEAD))
        [decision] = report.decisions
        assert decision.action == "found", decision.reason
        assert "idempotency key may be forgotten" in decision.reason
        [post] = sandbox.posts("mastodon")
        assert store.get(delivery_id).remote_id == post.id
        assert len([r for r in sandbox.requests("mastodon") if r.get("route") == "create"]) == 1
    finally:
        store.close()


def test_failed_lookup_waits_for_the_next_run(
    sandbox: Sandbox, crash_settings: Settings, sandbox_secrets: dict[str, str]
) -> None:
    from distributor.sandbox.faults import FaultRule

    store = open_store(crash_settings.database_url)
    try:
        delivery_id = crash_after_send(crash_settings, sandbox_secrets, store, "bluesky_main")
        sandbox.faults.add(FaultRule("bluesky", "lookup", count=1, status=503))
        first = reconcile(crash_settings, store, clock=AheadClock(AHEAD))
        assert [d.action for d in first.decisions] == ["lookup_failed"]
        assert store.get(delivery_id).state is State.UNKNOWN
        # the first run moved it to `unknown` just now: the next lookup waits to settle again
        second = reconcile(crash_settings, store, clock=AheadClock(2 * AHEAD))
        assert [d.action for d in second.decisions] == ["found"]
        [post] = sandbox.posts("bluesky")
        assert store.get(delivery_id).remote_id == post.data["rkey"]
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["reset", "504"])
@pytest.mark.parametrize("platform", list(CHANNELS))
def test_lost_response_is_reconciled_without_a_second_post(
    sandbox: Sandbox, crash_settings: Settings, platform: str, mode: str
) -> None:
    """The platform stores the post but the answer is lost (connection reset, or a proxy's 504):
    the worker records `unknown`, reconcile resolves it, a worker run finishes: one post."""
    from distributor.sandbox.faults import FaultRule

    route = posting_route(platform)
    sandbox.faults.add(FaultRule(platform, route, kind="lost", count=1, mode=mode))
    store = open_store(crash_settings.database_url)
    try:
        delivery_id = plan_one(crash_settings, store, CHANNELS[platform])
        Dispatcher(crash_settings, store, concurrency=1).run(until_idle=True, poll=0.05)
        assert store.get(delivery_id).state is State.UNKNOWN
        report = reconcile(crash_settings, store, clock=AheadClock(AHEAD))
        Dispatcher(crash_settings, store, concurrency=1).run(until_idle=True, poll=0.05)
        final = store.get(delivery_id)
        assert len(sandbox.posts(platform)) == 1
        expected = expected_decisions("after_send", platform)
        assert [d.action for d in report.decisions] == expected
        assert final.state is (State.UNKNOWN if platform in HELD else State.SENT)
    finally:
        store.close()


AMPERSAND_URL = "https://news.example.com/2026/03/crash-test?ressort=politik&id=42&seite=2"


@pytest.mark.parametrize("platform", [p for p in CHANNELS if p not in HELD])
def test_link_with_ampersand_lost_after_the_key_window_is_found_not_resent(
    sandbox: Sandbox, crash_settings: Settings, platform: str
) -> None:
    """The article link carries `&` (every link with two query parameters does), the answer is
    lost and reconcile runs after Mastodon forgot the key: lookup must find the post by its
    link as the platform really shows it (Mastodon: `&amp;` in an HTML href), never resend."""
    from distributor.sandbox.faults import FaultRule

    route = posting_route(platform)
    sandbox.faults.add(FaultRule(platform, route, kind="lost", count=1, mode="reset"))
    store = open_store(crash_settings.database_url)
    try:
        delivery_id = plan_one(crash_settings, store, CHANNELS[platform], url=AMPERSAND_URL)
        Dispatcher(crash_settings, store, concurrency=1).run(until_idle=True, poll=0.05)
        assert store.get(delivery_id).state is State.UNKNOWN
        assert "&" in store.get(delivery_id).draft["link"]
        sandbox.state.kv["mastodon"].pop("idempotency", None)  # the hour has passed
        report = reconcile(crash_settings, store, clock=AheadClock(3600 + AHEAD))
        Dispatcher(crash_settings, store, concurrency=1).run(until_idle=True, poll=0.05)
        assert len(sandbox.posts(platform)) == 1, f"{platform}: posted twice"
        [post] = sandbox.posts(platform)
        assert [d.action for d in report.decisions] == ["found"], report.to_dict()
        final = store.get(delivery_id)
        assert final.state is State.SENT
        named = {final.remote_id, (final.remote_id or "").rsplit(":", 1)[-1]}
        assert post.data.get("rkey", post.id) in named
    finally:
        store.close()
