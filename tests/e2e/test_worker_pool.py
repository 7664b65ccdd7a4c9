"""`distributor worker --concurrency N` on PostgreSQL: the server sees about one connection per
thread of the worker, kept for the whole run. (SQLAlchemy's default pool, 5 kept + 10 opened for
a burst and closed on return, reconnected for about every third delivery at --concurrency 50.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hook_helpers import database_url

from distributor.dispatch import store_threads
from distributor.store import open_store

pytestmark = pytest.mark.postgres
THREADS = 12  # --concurrency: sends in flight at once, one per account
ARTICLES = 6


def _config(tmp_path: Path, sandbox_url: str, database: str, pool: int | None = None) -> Path:
    """THREADS Mastodon channels on accounts of their own: THREADS sends can be in flight."""
    head = f'[distributor]\nsandbox = "{sandbox_url}"\ndatabase = "{database}"\n'
    if pool is not None:
        head += f"database_pool = {pool}\n"
    channels = "".join(
        f'\n[channels.desk{i}]\nplatform = "mastodon"\naccount = "desk-{i}"\n'
        'access_token_env = "MASTODON_ACCESS_TOKEN"\n'
        for i in range(THREADS)
    )
    path = tmp_path / "distributor.toml"
    path.write_text(head + channels, encoding="utf-8")
    return path


def _articles(tmp_path: Path) -> Path:
    items = [
        {"url": f"https://news.example/pool/{i}", "title": f"Meldung {i}", "language": "de"}
        for i in range(ARTICLES)
    ]
    path = tmp_path / "articles.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


def _cli(config: Path, secrets: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from distributor.cli import main; main()", "-c", str(config)]
    env = {**os.environ, **secrets}
    env.pop("DISTRIBUTOR_DATABASE_URL", None)
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=120)


def _sessions(url: str) -> int:
    """Connections the server has accepted into the database at `url` so far, once every one of
    them has ended (PostgreSQL counts a session when its backend reports its statistics)."""
    import psycopg

    name = url.rpartition("/")[2]
    query = "SELECT numbackends, sessions FROM pg_stat_database WHERE datname = %s"
    deadline, seen = time.monotonic() + 30, None
    with psycopg.connect(os.environ["DISTRIBUTOR_TEST_PG_URL"], autocommit=True) as conn:
        while time.monotonic() < deadline:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            row: Any = conn.execute(query, (name,)).fetchone()
            if row[0] == 0 and row[1] == seen:  # no one connected, and the count has settled
                return int(seen)
            seen = row[1] if row[0] == 0 else None
            time.sleep(0.2)
    raise AssertionError(f"{name}: connections still open after 30 s")


def _run_worker(tmp_path: Path, sandbox: Any, secrets: dict[str, str], pool: int | None) -> int:
    """Plan THREADS * ARTICLES deliveries, send them with one worker; the worker's connections."""
    url = database_url("postgres", tmp_path)
    config = _config(tmp_path, sandbox.url, url, pool)
    planned = _cli(config, secrets, "publish", str(_articles(tmp_path)))
    assert planned.returncode == 0, planned.stderr
    sandbox.faults.add(platform="mastodon", kind="latency", seconds=0.05)  # sends overlap
    before = _sessions(url)
    args = ("worker", "--until-idle", "--no-reconcile", "--concurrency", str(THREADS))
    done = _cli(config, secrets, *args)
    assert done.returncode == 0, done.stderr
    store = open_store(url, migrate=False)
    try:
        assert store.counts_by_state()["sent"] == THREADS * ARTICLES
    finally:
        store.close()
    assert len(sandbox.posts("mastodon")) == THREADS * ARTICLES
    return _sessions(url) - before


def test_worker_keeps_one_connection_per_thread(
    sandbox: Any, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    connections = _run_worker(tmp_path, sandbox, sandbox_secrets, pool=None)
    # its pool (one per sending thread, the claim loop, the lease keeper) and its LISTEN
    assert connections <= store_threads(THREADS) + 1, connections


def test_database_pool_overrides_the_pool_size(
    sandbox: Any, sandbox_secrets: dict[str, str], tmp_path: Path
) -> None:
    """`database_pool = 2`: only 2 connections are kept, the rest are opened for a burst and
    closed again (what an operator who rations connections chooses), and every post is sent."""
    connections = _run_worker(tmp_path, sandbox, sandbox_secrets, pool=2)
    assert connections > store_threads(THREADS) + 1, connections
