"""Builders shared by the store contract tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from distributor.article import Article
from distributor.store.models import Attempt, PlanItem

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def article(url: str = "https://news.example/a/1", guid: str | None = None) -> Article:
    return Article(url=url, title="A story", guid=guid)


def item(
    channel: str = "masto", account: str = "acct-1", review: bool = False, generation: int = 0
) -> PlanItem:
    return PlanItem(
        channel=channel,
        platform="mastodon",
        account_key=account,
        draft={"channel": channel, "text": "hello"},
        idem_key=f"k-{channel}-{generation}",
        generation=generation,
        review=review,
    )


def attempt(at: datetime, outcome: str = "sent", kind: str | None = None) -> Attempt:
    return Attempt(
        outcome=outcome,
        started_at=at,
        finished_at=at + timedelta(seconds=1),
        worker="w1",
        error_kind=kind,
        detail=kind or "",
        latency_ms=1000,
    )
