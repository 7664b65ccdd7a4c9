"""Virtual-time helpers for the scheduling tests: a recording adapter and a clock driver."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from distributor.article import Article
from distributor.config import Channel, Settings
from distributor.dispatch import Dispatcher, Policy
from distributor.platforms.base import Draft, Receipt
from distributor.store.store import Store
from distributor.testing import FakeAdapter, FakeClock

POLICY = Policy(attempts=2, backoff=1.0, max_backoff=2.0, budget=10.0, jitter=0.0)


@dataclass
class Recorder(FakeAdapter):
    """A FakeAdapter that notes when (on the injected clock) each post was made."""

    clock: Any = None
    sent: list[tuple[str, datetime]] = field(default_factory=list)

    def publish(self, draft: Draft, *, key: str, when: datetime | None = None) -> Receipt:
        receipt = super().publish(draft, key=key)
        self.sent.append((draft.article_id, self.clock.now()))
        return receipt


def settings(*channels: Channel, tz: str = "Europe/Berlin") -> Settings:
    return Settings(path=None, channels=channels, timezone=tz)


def art(n: int, **fields: Any) -> Article:
    return Article(url=f"https://news.example/s/{n}", title=f"Story {n}", **fields)


def dispatcher(
    conf: Settings, store: Store, clock: FakeClock, adapters: dict[str, Recorder], name: str = "w"
) -> Dispatcher:
    return Dispatcher(
        conf,
        store,
        adapter_for=lambda ch: adapters[ch.name],
        clock=clock,
        worker_id=name,
        policy=POLICY,
        concurrency=4,
    )


def drain(disp: Dispatcher, clock: FakeClock, *, limit: float = 30 * 86400) -> None:
    """Dispatch in virtual time until nothing waits (or `limit` seconds passed): rounds of
    claims; when nothing was due, the clock jumps to the next due moment."""
    end = clock.now() + timedelta(seconds=limit)
    while clock.now() < end:
        if disp.run_once():
            continue
        due = disp.store.next_due()
        if due is None:
            return
        clock.advance(max((due - clock.now()).total_seconds(), 1.0))
