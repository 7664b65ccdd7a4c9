"""Builders shared by the review tests (actions, CLI, e2e retract): a small config, planned
deliveries driven to a state as a worker would, and running `distributor` in-process."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import pytest

from distributor.article import Article
from distributor.cli import main
from distributor.clock import SYSTEM
from distributor.store.models import Attempt, Delivery, PlanItem
from distributor.store.store import Store

URL = "https://news.example/politik/story-1"
PLATFORMS = {"masto": "mastodon", "sky": "bluesky", "tg": "telegram"}
CONFIG = """
[distributor]
sandbox = "http://127.0.0.1:{port}"
database = "{db}"
[channels.masto]
platform = "mastodon"
access_token_env = "MASTODON_ACCESS_TOKEN"
[channels.sky]
platform = "bluesky"
handle = "news.example"
app_password_env = "BLUESKY_APP_PASSWORD"
[channels.tg]
platform = "telegram"
chat_id = "@news"
bot_token_env = "TELEGRAM_BOT_TOKEN"
"""


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused: NotSent)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(folder: Path, db: str) -> Path:
    """masto/sky/tg channels whose API calls all go to a closed loopback port."""
    path = folder / "distributor.toml"
    path.write_text(CONFIG.format(port=closed_port(), db=db), encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`distributor ARGV` as the console script runs it: (exit code, stdout, stderr)."""
    try:
        code = int(main(list(argv)) or 0)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def plan(store: Store, *channels: str, review: bool = False, url: str = URL) -> list[Delivery]:
    """One delivery per channel for the article at `url` (guid `g-<last path segment>`)."""
    items = [
        PlanItem(
            channel=c,
            platform=PLATFORMS[c],
            account_key=f"acct-{c}-{url}",
            draft={"channel": c, "text": f"Post [b]{c}[/b]", "limit": 0},
            idem_key=f"key-{c}-{url}",
            review=review,
        )
        for c in channels
    ]
    art = Article(url=url, title="Story", guid="g-" + url.rsplit("/", 1)[-1])
    return list(store.plan(art, items, source="test").created)


def finish(store: Store, outcome: str, now: datetime | None = None, **kw: object) -> list[Delivery]:
    """Claim every due delivery and finish it with `outcome`, as a worker would."""
    now = now or SYSTEM.now()
    out = []
    for c in store.claim("w1", lease_seconds=60, now=now):
        d = c.delivery
        store.mark_sending(d.id, c.fence, now=now)
        if outcome == "sent":
            kw = {"remote_id": f"{d.id}00", "remote_url": f"https://p/{d.id}"}
        kind = "MaybeSent" if outcome == "unknown" else None
        att = Attempt(outcome, now, now, "w1", error_kind=kind)
        out.append(store.finish(d.id, c.fence, outcome, att, now=now, **kw))  # type: ignore[arg-type]
    return out
