"""`distributor publish` end to end: the real CLI in a subprocess, the real adapters, the sandbox.

Every platform whose adapter exists gets exactly one post per article; publishing again plans
nothing; three processes publishing the same articles at once plan each delivery once; under
30% 5xx and 10% 429 bursts every delivery ends sent, failed or unknown and no post is doubled.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from locations import REPO

from distributor.config import Settings
from distributor.platform import spec
from distributor.store import open_store
from distributor.store.models import State

ARTICLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
# 429s whose reset the platform states (1 s here). LinkedIn's daily limit resets at midnight UTC
# and Threads states none (60 s assumed): the delivery rightly waits that long, too long here.
SHORT_RESETS = {"x", "facebook", "mastodon", "bluesky", "telegram"}
FAST_RETRIES = "\n[dispatch]\nbackoff = 0.05\nmax_backoff = 0.2\njitter = 0.05\nbudget = 5\n"


@pytest.fixture(autouse=True)
def _twitter_text_loaded() -> None:
    """The sandbox's emulators count text with twitter_text in their request threads; a first
    import from several threads at once trips twitter_text's circular imports."""
    import twitter_text.parse_tweet  # noqa: F401


def _channels(settings: Settings) -> list[str]:
    """Every channel of the sandbox configuration that posts these tests' image-less articles
    (Instagram and Pinterest require an image)."""
    return [c.name for c in settings.channels if not spec(c.platform).requires_image]


def _command(settings: Settings) -> list[str]:
    """The console script, or the same entry point through this interpreter."""
    script = Path(sys.executable).with_name("distributor")
    head = [str(script)] if script.is_file() else [sys.executable, "-c", _MAIN]
    return [*head, "--config", str(settings.path)]


_MAIN = "from distributor.cli import main; main()"


def _cli(
    settings: Settings, secrets: dict[str, str], db: Path, *args: str, wait: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **secrets, "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{db}"}
    cmd = [*_command(settings), *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def _articles(tmp_path: Path, n: int) -> Path:
    items = [
        {
            "url": f"https://news.example/politik/story-{i}",
            "title": f"Meldung Nummer {i}: Der Landtag beschließt das Gesetz {i}",
            "teaser": f"Nach langer Debatte stimmte eine Mehrheit für Vorlage {i}.",
            "section": "Politik",
            "language": "de",
        }
        for i in range(n)
    ]
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    return path


def _with_fast_retries(settings: Settings) -> None:
    assert settings.path is not None
    with settings.path.open("a", encoding="utf-8") as f:
        f.write(FAST_RETRIES)


def _no_duplicates(sandbox: Any, platforms: set[str]) -> dict[str, int]:
    counts = {}
    for platform in platforms:
        texts = Counter(p.text for p in sandbox.posts(platform))
        assert not texts or max(texts.values()) == 1, f"{platform} has a post twice: {texts}"
        counts[platform] = len(texts)
    return counts


def test_publish_wait_posts_once_everywhere_and_again_plans_nothing(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    names = _channels(sandbox_settings)
    assert {"mastodon_main", "bluesky_main", "telegram_channel"} <= set(names)
    picked = [a for n in names for a in ("--channel", n)]
    db = tmp_path / "d.db"
    run = _cli(sandbox_settings, sandbox_secrets, db, "publish", str(ARTICLE), *picked, "--wait")
    assert run.returncode == 0, run.stderr
    assert "planned" in run.stdout and "sent" in run.stdout
    js = _cli(
        sandbox_settings, sandbox_secrets, db, "publish", str(ARTICLE), *picked, "--wait", "--json"
    )
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["articles"][0]["created"] == []
    assert sorted(d["channel"] for d in data["articles"][0]["existing"]) == sorted(names)
    assert {o["state"] for o in data["outcomes"]} == {"sent"}
    assert all(o["remote_id"] and o["remote_url"] for o in data["outcomes"])
    platforms = {sandbox_settings.channel(n).platform for n in names}
    assert _no_duplicates(sandbox, platforms) == dict.fromkeys(platforms, 1)
    again = _cli(sandbox_settings, sandbox_secrets, db, "publish", str(ARTICLE), *picked)
    assert "already known on" in again.stdout and "planned" not in again.stdout
    for secret in sandbox_secrets.values():
        assert secret not in run.stdout + run.stderr + js.stdout + js.stderr
    # each --wait ran a worker in its process and recorded its clean stop: not SILENT
    status = _cli(sandbox_settings, sandbox_secrets, db, "status", "--json")
    workers = json.loads(status.stdout)["workers"]
    assert workers and all(w["stopped_at"] for w in workers), workers
    assert "SILENT" not in _cli(sandbox_settings, sandbox_secrets, db, "status").stdout


def test_three_processes_publishing_at_once_plan_each_delivery_once(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    source = _articles(tmp_path, 6)
    db = tmp_path / "race.db"
    env = {**os.environ, **sandbox_secrets, "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{db}"}
    cmd = [*_command(sandbox_settings), "publish", str(source), "--json"]
    procs = [
        subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    created = Counter(
        (a["article_id"], d["channel"])
        for out, _ in outs
        for a in json.loads(out)["articles"]
        for d in a["created"]
    )
    channels = _channels(sandbox_settings)
    assert len(created) == 6 * len(channels) and set(created.values()) == {1}
    store = open_store(f"sqlite:///{db}")
    try:
        assert store.counts_by_state()["queued"] == 6 * len(channels)
    finally:
        store.close()


def test_faults_end_every_delivery_in_a_known_state_without_duplicates(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    _with_fast_retries(sandbox_settings)
    names = _channels(sandbox_settings)
    picked = [a for n in names for a in ("--channel", n)]
    sandbox.faults.add(platform="mastodon", kind="rate_limit", seconds=1, count=2)  # a burst
    sandbox.faults.add(kind="error", status=503, rate=0.3)
    for platform in SHORT_RESETS & {sandbox_settings.channel(n).platform for n in names}:
        sandbox.faults.add(platform=platform, kind="rate_limit", seconds=1, rate=0.1)
    source = _articles(tmp_path, 4)
    db = tmp_path / "faults.db"
    run = _cli(
        sandbox_settings, sandbox_secrets, db, "publish", str(source), *picked, "--wait", "--json"
    )
    assert run.returncode in (0, 4, 5), run.stderr
    outcomes = json.loads(run.stdout)["outcomes"]
    assert len(outcomes) == 4 * len(names)
    states = Counter(o["state"] for o in outcomes)
    assert set(states) <= {"sent", "failed", "unknown"}, states
    assert states["sent"] > 0
    assert all(o["error"] for o in outcomes if o["state"] == "failed")
    faults = Counter(r["fault"] for r in sandbox.requests())
    assert faults["error"] >= 5 and faults["rate_limit"] >= 1, faults  # the faults did fire
    platforms = {sandbox_settings.channel(n).platform for n in names}
    _no_duplicates(sandbox, platforms)
    # Reconcile and a worker resolve what they can; still never a post twice.
    sandbox.faults.clear()
    assert _cli(sandbox_settings, sandbox_secrets, db, "reconcile").returncode == 0
    worker = _cli(sandbox_settings, sandbox_secrets, db, "worker", "--until-idle", "--no-reconcile")
    assert worker.returncode == 0, worker.stderr
    posted = _no_duplicates(sandbox, platforms)
    store = open_store(f"sqlite:///{db}")
    try:
        sent = [d for d in store.query(limit=1000)[0] if d.state is State.SENT]
        for platform in platforms:  # a post per sent delivery; at most one per article
            mine = [d for d in sent if d.platform == platform]
            assert len(mine) <= posted[platform] <= 4
    finally:
        store.close()


def test_worker_finishes_in_flight_sends_on_sigterm(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    import signal
    import time

    db = tmp_path / "w.db"
    planned = _cli(
        sandbox_settings, sandbox_secrets, db, "publish", str(ARTICLE), "--channel", "mastodon_main"
    )
    assert planned.returncode == 0, planned.stderr
    sandbox.faults.add(platform="mastodon", route="create", kind="latency", seconds=1.5)
    env = {**os.environ, **sandbox_secrets, "DISTRIBUTOR_DATABASE_URL": f"sqlite:///{db}"}
    cmd = [*_command(sandbox_settings), "worker", "--poll", "0.1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    store = open_store(f"sqlite:///{db}")
    try:
        deadline = time.monotonic() + 30
        while store.get(1).state is not State.SENDING and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.get(1).state is State.SENDING  # the platform is answering slowly now
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopped" in out
        assert store.get(1).state is State.SENT  # finished and recorded, not abandoned
        assert store.integrity_check() == [] and store.workers()
    finally:
        store.close()
        if proc.poll() is None:
            proc.kill()
    assert len(sandbox.posts("mastodon")) == 1


def test_publish_wait_exits_non_zero_when_a_delivery_failed(
    sandbox: Any, sandbox_settings: Settings, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    sandbox.faults.add(platform="telegram", kind="error", status=400, count=1)
    db = tmp_path / "f.db"
    args = ("publish", str(ARTICLE), "--channel", "telegram_channel", "--channel", "mastodon_main")
    run = _cli(sandbox_settings, sandbox_secrets, db, *args, "--wait", "--json")
    assert run.returncode == 4, run.stderr
    states = {o["channel"]: (o["state"], o["error"]) for o in json.loads(run.stdout)["outcomes"]}
    assert states["mastodon_main"][0] == "sent" and states["telegram_channel"][0] == "failed"
    assert states["telegram_channel"][1]  # the platform's reason is on record
    assert sandbox.posts("telegram") == []
