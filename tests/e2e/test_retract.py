"""`distributor retract` end to end: real posts in the sandbox, deleted by the real adapters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from plain_http import article, draft
from review_helpers import run

from distributor.config import Settings
from distributor.platforms.base import Draft
from distributor.platforms.keys import delivery_key
from distributor.platforms.registry import build_adapter
from distributor.store import open_store
from distributor.store.models import Attempt, PlanItem, State
from distributor.store.store import Store

CHANNELS = {"mastodon_main": "mastodon", "bluesky_main": "bluesky", "telegram_channel": "telegram"}


@pytest.fixture
def db(
    tmp_path: Path, sandbox_secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Store]]:
    """An empty post log, and the sandbox credentials in the environment for the CLI."""
    for var, value in sandbox_secrets.items():
        monkeypatch.setenv(var, value)
    url = f"sqlite:///{tmp_path / 'log.db'}"
    store = open_store(url)
    yield url, store
    store.close()


def publish_all(store: Store, settings: Settings) -> dict[str, str]:
    """Plan the fixture article on every channel and post it through the real adapters."""
    art = article()
    items = []
    for name, platform in CHANNELS.items():
        post = replace(draft(settings, name), image=None)  # no image fetch from the internet
        channel = settings.channel(name)
        key = delivery_key(art.article_id, name)
        items.append(PlanItem(name, platform, channel.account_key, post.to_dict(), key))
    store.plan(art, items, source="e2e")
    posted = {}
    for c in store.claim("e2e", lease_seconds=60):
        d = c.delivery
        store.mark_sending(d.id, c.fence)
        adapter: Any = build_adapter(settings.channel(d.channel), settings, timeout=5)
        kw = {"when": d.created_at} if d.platform == "bluesky" else {}
        receipt = adapter.publish(Draft.from_dict(d.draft), key=d.idem_key, **kw)
        now = d.created_at
        att = Attempt("sent", now, now, "e2e", remote_id=receipt.remote_id)
        store.finish(
            d.id, c.fence, "sent", att, remote_id=receipt.remote_id, remote_url=receipt.url
        )
        posted[d.platform] = receipt.remote_id
    return posted


def test_retract_deletes_every_post_in_the_sandbox(
    sandbox: Any,
    sandbox_settings: Settings,
    sandbox_secrets: dict[str, str],
    db: tuple[str, Store],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db_url, store = db
    posted = publish_all(store, sandbox_settings)
    assert set(posted) == set(CHANNELS.values())
    for platform in posted:
        [post] = sandbox.posts(platform)
        assert not post.deleted

    config = str(sandbox_settings.path)
    url = article().url
    code, out, err = run(
        capsys, "retract", url, "--config", config, "--database", db_url, "--yes", "--as", "fritz"
    )
    assert code == 0, err
    assert out.count(": retracted") == 3, out
    for platform in posted:
        assert sandbox.posts(platform) == []
        [gone] = sandbox.posts(platform, include_deleted=True)
        assert gone.deleted

    code, out, _ = run(capsys, "log", "--article", url, "--database", db_url, "--json")
    rows = json.loads(out)
    assert code == 0 and {r["state"] for r in rows} == {State.RETRACTED.value}
    for r in rows:
        code, out, _ = run(capsys, "show", str(r["delivery_id"]), "--database", db_url, "--json")
        [event] = [e for e in json.loads(out)["events"] if e["action"] == "sent->retracted"]
        assert event["actor"] == "fritz" and r["remote_url"] in event["detail"]

    code, out, err = run(capsys, "retract", url, "--database", db_url, "--yes", "--config", config)
    assert code == 0 and out.count("skipped") == 3  # nothing left to delete
    everything = out + err
    assert not any(secret in everything for secret in sandbox_secrets.values())


def test_a_refused_delete_is_reported_and_retried_next_time(
    sandbox: Any,
    sandbox_settings: Settings,
    db: tuple[str, Store],
    capsys: pytest.CaptureFixture[str],
) -> None:
    db_url, store = db
    publish_all(store, sandbox_settings)
    sandbox.faults.add(platform="telegram", route="delete", kind="error", status=403, count=1)
    argv = ["retract", article().url, "--config", str(sandbox_settings.path)]
    code, out, err = run(capsys, *argv, "--database", db_url, "--yes", "--json")
    assert code == 4, err
    got = {r["platform"]: r for r in json.loads(out)}
    assert got["telegram"]["outcome"] == "failed" and got["telegram"]["state"] == "sent"
    assert "telegram/telegram_channel" in got["telegram"]["detail"]
    assert {got[p]["outcome"] for p in ("mastodon", "bluesky")} == {"retracted"}
    assert len(sandbox.posts("telegram")) == 1  # still up, still on record as sent

    code, out, err = run(capsys, *argv, "--database", db_url, "--yes", "--json")
    assert code == 0, err
    assert {r["platform"]: r["outcome"] for r in json.loads(out)}["telegram"] == "retracted"
    assert sandbox.posts("telegram") == []
