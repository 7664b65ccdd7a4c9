"""`distributor worker` run for real: a second signal exits at once and reconcile finishes the
job without a second post; the shutdown grace bounds a slow send; a clean stop leaves no
silent-worker row; JSON log lines of the whole run carry the delivery fields and no secret.
(The first-SIGTERM-finishes-the-send case is in test_publish_flow.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from locations import REPO
from signal_helpers import signal_twice

from distributor.config import Settings
from distributor.store import open_store
from distributor.store.models import State

ARTICLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
MAIN = "from distributor.cli import main; main()"
LATENCY = 4.0  # seconds the platform takes to answer the send in flight


def _run(
    settings: Settings, secrets: dict[str, str], db: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _cmd(settings, *args), env=_env(secrets, db), capture_output=True, text=True, timeout=60
    )


def _cmd(settings: Settings, *args: str) -> list[str]:
    return [sys.executable, "-c", MAIN, "--config", str(settings.path), *args]


def _env(secrets: dict[str, str], db: Path) -> dict[str, str]:
    return {**os.environ, **secrets, "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{db}"}


def _terminate(proc: subprocess.Popen[str], signals: int) -> str:
    """Send SIGTERM `signals` times; the worker's stderr once it exited (30 s: a hang guard)."""
    if signals == 2:
        return signal_twice(proc)[1]
    try:
        proc.send_signal(signal.SIGTERM)
        return proc.communicate(timeout=30)[1]
    finally:
        if proc.poll() is None:
            proc.kill()


def _start_worker_mid_send(
    sandbox: Any, settings: Settings, secrets: dict[str, str], db: Path, dispatch: str
) -> subprocess.Popen[str]:
    """A worker process whose only send is in flight (the platform answers slowly)."""
    assert settings.path is not None
    with settings.path.open("a", encoding="utf-8") as f:
        f.write(f"\n[dispatch]\n{dispatch}\n")
    planned = _run(settings, secrets, db, "publish", str(ARTICLE), "--channel", "mastodon_main")
    assert planned.returncode == 0, planned.stderr
    sandbox.faults.add(
        platform="mastodon", route="create", kind="latency", seconds=LATENCY, count=1
    )
    proc = subprocess.Popen(
        _cmd(settings, "worker", "--poll", "0.1"),
        env=_env(secrets, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    store = open_store(f"sqlite:///{db}")
    try:
        deadline = time.monotonic() + 30
        while store.get(1).state is not State.SENDING and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.get(1).state is State.SENDING
    finally:
        store.close()
    return proc


def _assert_exited_mid_send(db: Path) -> None:
    """The worker exited without waiting for the send in flight: one that waited would have
    recorded the platform's answer (sent) before exiting."""
    store = open_store(f"sqlite:///{db}")
    try:
        assert store.get(1).state is State.SENDING  # left for reconcile, not guessed
    finally:
        store.close()


def test_second_signal_exits_at_once_and_reconcile_posts_once(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "w.db"
    proc = _start_worker_mid_send(sandbox, sandbox_settings, sandbox_secrets, db, "lease = 2")
    err = _terminate(proc, signals=2)
    assert proc.returncode == 130, err
    assert "second SIGTERM: exiting now" in err
    _assert_exited_mid_send(db)
    time.sleep(LATENCY)  # the slow send reaches the sandbox meanwhile: the post exists
    # The dead worker's lease (2 s here) has run out: reconcile queues it again with the same
    # Idempotency-Key, and Mastodon answers the resend with the post it already has.
    rec = _run(sandbox_settings, sandbox_secrets, db, "reconcile")
    assert rec.returncode == 0, rec.stderr
    again = _run(sandbox_settings, sandbox_secrets, db, "worker", "--until-idle", "--no-reconcile")
    assert again.returncode == 0, again.stderr
    store = open_store(f"sqlite:///{db}")
    try:
        assert store.get(1).state is State.SENT
    finally:
        store.close()
    assert len(sandbox.posts("mastodon")) == 1


def test_shutdown_grace_bounds_a_slow_send(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "g.db"
    proc = _start_worker_mid_send(
        sandbox, sandbox_settings, sandbox_secrets, db, "shutdown_grace = 1"
    )
    err = _terminate(proc, signals=1)
    assert proc.returncode == 130 and "still stopping after 1s" in err  # the grace timer's line
    _assert_exited_mid_send(db)


def test_clean_stop_is_recorded_and_json_logs_carry_fields(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "c.db"
    log_file = tmp_path / "worker.log"
    planned = _run(sandbox_settings, sandbox_secrets, db, "publish", str(ARTICLE))
    assert planned.returncode == 0, planned.stderr
    env = {**_env(sandbox_secrets, db), "DISTRIBUTOR_LOG_FILE": str(log_file)}
    cmd = _cmd(sandbox_settings, "--log-format", "json", "worker", "--until-idle")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(x) for x in log_file.read_text(encoding="utf-8").splitlines()]
    assert lines and [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")] == lines
    sent = [x for x in lines if x.get("state") == "sent" and x["message"] == "sent"]
    assert len(sent) == len(sandbox_settings.channels)
    for x in sent:
        assert {"delivery_id", "article_id", "channel", "platform", "attempt"} <= set(x)
        assert x["remote_id"] and x["attempt"] == 1
    text = log_file.read_text(encoding="utf-8")
    for secret in sandbox_secrets.values():
        assert secret not in text
    store = open_store(f"sqlite:///{db}")
    try:
        [w] = store.workers()
        assert w["stopped_at"] is not None  # a clean stop is not a silent worker
    finally:
        store.close()
