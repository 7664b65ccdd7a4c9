"""Reliability notes §10, test 1: the same article arrives at once through an RSS feed, a signed
webhook sent twice and the CLI, and two workers dispatch: one delivery and one post per channel;
the extra triggers are "already known" (or a replay), never an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hook_helpers import ENV, signed
from sandbox_helpers import CONFIG, SECRETS
from watch_helpers import Item, rss

from distributor.config import load_config
from distributor.dispatch import Dispatcher
from distributor.planning import publish
from distributor.platform import spec
from distributor.sandbox import Sandbox
from distributor.store import open_store

URL = "https://news.example/politik/meldung-1"
TITLE = "Meldung 1: Der Landtag beschließt das Gesetz"
_MAIN = "from distributor.cli import main; main()"


def test_feed_webhook_twice_and_cli_at_once_post_once(sandbox: Sandbox, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from distributor.web.app import create_app

    path = tmp_path / "distributor.toml"
    path.write_text(CONFIG.format(url=sandbox.url) + "\n[webhook]\nfetch = false\n", "utf-8")
    db = f"sqlite:///{tmp_path / 'race.db'}"
    env = {**SECRETS, **ENV, "DISTRIBUTOR_DATABASE_URL": db}
    conf = load_config(path, environ=env)
    feed = tmp_path / "feed.xml"  # the feed's link carries tracking parameters: same story
    feed.write_bytes(rss([Item(1, title=TITLE, link=URL + "?utm_source=rss&utm_medium=feed")]))
    article = tmp_path / "article.json"
    article.write_text(json.dumps({"url": URL + "#top", "title": TITLE}), "utf-8")
    body = json.dumps({"url": URL, "title": TITLE}).encode()
    now = datetime.now(UTC)
    headers = {**signed(body, at=now, msg_id="cms-42"), "content-type": "application/json"}
    store = open_store(db)
    app = create_app(conf, store=store)
    results: dict[str, Any] = {}
    start = threading.Barrier(4)

    def from_feed() -> None:
        own = open_store(db)
        try:
            start.wait()
            results["feed"] = publish(str(feed), config=conf, store=own)
        finally:
            own.close()

    def from_webhook(name: str) -> None:
        with TestClient(app) as client:
            start.wait()
            results[name] = client.post("/hooks/articles", content=body, headers=headers)

    def from_cli() -> None:
        cmd = [sys.executable, "-c", _MAIN, "-c", str(path), "publish", str(article), "--json"]
        start.wait()
        results["cli"] = subprocess.run(
            cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=60
        )

    threads = [
        threading.Thread(target=from_feed),
        threading.Thread(target=from_webhook, args=("hook1",)),
        threading.Thread(target=from_webhook, args=("hook2",)),
        threading.Thread(target=from_cli),
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=90)
        text_only = [c for c in conf.channels if not spec(c.platform).requires_image]
        channels = [c.name for c in text_only]  # no image: no Instagram, Pinterest
        assert results["feed"].errors == []
        assert results["cli"].returncode == 0, results["cli"].stderr
        assert [results[h].status_code for h in ("hook1", "hook2")] == [202, 202]
        created = [d.channel for d in results["feed"].plans[0].created]
        created += [
            d["channel"]
            for a in json.loads(results["cli"].stdout)["articles"]
            for d in a["created"]
        ]
        first, second = sorted((results["hook1"].json(), results["hook2"].json()), key=str)
        assert first == second  # the second copy is a replay: the first answer, nothing done
        created += [d["channel"] for d in first["created"]]
        assert sorted(created) == sorted(channels)  # each channel planned exactly once
        page, _ = store.query(limit=100)
        assert sorted(d.channel for d in page) == sorted(channels)
        assert len({d.article_id for d in page}) == 1
        workers = [Dispatcher(conf, store, concurrency=4) for _ in range(2)]
        runs = [
            threading.Thread(target=w.run, kwargs={"until_idle": True, "poll": 0.05})
            for w in workers
        ]
        for t in runs:
            t.start()
        for t in runs:
            t.join(timeout=60)
        for channel in text_only:
            assert len(sandbox.posts(channel.platform)) == 1, channel.platform
        assert {store.get(d.id).state.value for d in page} == {"sent"}
    finally:
        store.close()
