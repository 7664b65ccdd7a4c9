"""JSON log lines of a whole publish with retries, against the sandbox with faults: one line per
state change and per retry, each with the delivery's fields (remote id/url once known, the wait
and the reason on retries), and no secret value anywhere."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from locations import REPO

from distributor import logs
from distributor.config import Settings, load_config
from distributor.planning import publish
from distributor.store import open_store
from distributor.store.models import State

ARTICLE = REPO / "examples" / "articles" / "radbruecke-stadtrat.json"
FIELDS = {"delivery_id", "article_id", "channel", "platform", "attempt", "state"}
FAST = "\n[dispatch]\nbackoff = 0.05\nmax_backoff = 0.1\njitter = 0.01\nbudget = 5\n"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    before = (list(root.handlers), root.level)
    out = io.StringIO()
    logs.setup("DEBUG", "json", stream=out)  # claimed/sending are DEBUG; outcomes are INFO
    yield out
    root.handlers[:] = before[0]
    root.setLevel(before[1])


def _settings(base: Settings, secrets: dict[str, str]) -> Settings:
    assert base.path is not None
    with base.path.open("a", encoding="utf-8") as f:
        f.write(FAST)
    return load_config(base.path, environ=secrets)


def test_publish_with_retries_logs_every_state_change_with_its_fields(
    sandbox: Any,
    sandbox_settings: Settings,
    sandbox_secrets: dict[str, str],
    tmp_path: Path,
    json_log: io.StringIO,
) -> None:
    settings = _settings(sandbox_settings, sandbox_secrets)
    # a failed media upload is proven not sent: retried at once, with backoff
    sandbox.faults.add(platform="mastodon", route="media", kind="error", status=503, count=2)
    sandbox.faults.add(platform="telegram", route="create", kind="rate_limit", seconds=1, count=1)
    store = open_store(f"sqlite:///{tmp_path / 'l.db'}")
    try:
        report = publish(
            str(ARTICLE),
            config=settings,
            channels=["mastodon_main", "telegram_channel"],
            wait=True,
            timeout=60,
            store=store,
        )
    finally:
        store.close()
    assert {d.state for d in report.outcomes} == {State.SENT}
    lines = [json.loads(x) for x in json_log.getvalue().splitlines()]
    mine = [x for x in lines if x["logger"] == "distributor.dispatch"]
    for x in mine:
        assert set(x) >= FIELDS, x
    by = {c: [x for x in mine if x["channel"] == c] for c in ("mastodon_main", "telegram_channel")}

    retries = [x for x in by["mastodon_main"] if x["message"].startswith("retrying")]
    assert len(retries) == 2  # one line per retry, with the wait and the reason
    assert [x["attempt"] for x in retries] == [1, 2]
    assert all(x["wait_seconds"] > 0 and "503" in x["reason"] for x in retries)
    sent = [x for x in by["mastodon_main"] if x["message"] == "sent"]
    assert len(sent) == 1 and sent[0]["remote_id"] and sent[0]["remote_url"]
    assert sent[0]["attempt"] == 3 and sent[0]["state"] == "sent"
    states = [x["state"] for x in by["mastodon_main"] if not x["message"].startswith("retrying")]
    assert states == ["claimed", "sending", "sent"]

    tg = by["telegram_channel"]
    limited = [x for x in tg if x["message"].startswith("rate limited until")]
    assert len(limited) == 1 and limited[0]["not_before"] and "RateLimited" in limited[0]["reason"]
    waiting = [x for x in tg if x["state"] == "retry_wait"]
    assert waiting and waiting[0]["not_before"] and waiting[0]["error_kind"] == "RateLimited"
    assert [x["state"] for x in tg][-1] == "sent" and tg[-1]["attempt"] == 2

    text = json_log.getvalue()
    for secret in sandbox_secrets.values():
        assert secret not in text
