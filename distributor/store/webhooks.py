"""Webhook replay protection and the numbers `/metrics` reports, read from the store.

A signed webhook's `webhook-id` is recorded in the SAME transaction as the deliveries it plans,
together with the answer the sender got (`Store.plan(..., webhook=WebhookCall(id, respond))`).
A second request with that id finds the row and gets the stored answer back: nothing is planned
twice, even when two copies race (the primary key decides; the loser raises `WebhookReplay`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributor.store.models import PlanResult

KEEP_IDS_SECONDS = 7 * 86400  # far beyond the signature tolerance: older ids cannot come back


class WebhookReplay(Exception):
    """The webhook id was seen before: `response` is the answer the first request got."""

    def __init__(self, response: Mapping[str, Any]) -> None:
        super().__init__("webhook id seen before")
        self.response = dict(response)


@dataclass(frozen=True, slots=True)
class WebhookCall:
    """A webhook request being planned: its id and how to turn the plan into its answer."""

    id: str
    respond: Callable[[PlanResult], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class LatencyHistogram:
    """Send latencies of all attempts: cumulative counts per upper bound (seconds)."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    count: int
    total_seconds: float


class WebhooksMixin:
    """Replay-protected webhook ids and metric reads; mixed into `Store`."""

    _engine: Any
    _t: Any

    if TYPE_CHECKING:

        def _now(self, now: datetime | None) -> float: ...

    def webhook_response(self, id: str) -> dict[str, Any] | None:
        """The stored answer for webhook `id` (None: never seen)."""
        w = self._t["webhook_ids"]
        with self._engine.connect() as conn:
            row = conn.execute(w.select().where(w.c.id == id)).first()
        return None if row is None else dict(row.response or {})

    def _claim_webhook(self, conn: Any, id: str, ts: float) -> None:
        """Record `id` inside the plan transaction; WebhookReplay if it was there already."""
        from distributor.store import rows

        w = self._t["webhook_ids"]
        conn.execute(w.delete().where(w.c.seen_at < ts - KEEP_IDS_SECONDS))
        stmt = rows.insert_ignore(conn, w).values(id=id, seen_at=ts).returning(w.c.id)
        if conn.execute(stmt).scalar() is None:
            row = conn.execute(w.select().where(w.c.id == id)).first()
            raise WebhookReplay(row.response or {})

    def _answer_webhook(self, conn: Any, id: str, response: Mapping[str, Any]) -> None:
        w = self._t["webhook_ids"]
        conn.execute(w.update().where(w.c.id == id).values(response=dict(response)))

    # -- metrics ------------------------------------------------------------------------
    def attempt_counts(self) -> dict[tuple[str, str], int]:
        """Every attempt ever made: (outcome, error_kind) -> count (append-only: monotonic)."""
        import sqlalchemy as sa

        a = self._t["attempts"]
        q = sa.select(a.c.outcome, a.c.error_kind, sa.func.count()).group_by(
            a.c.outcome, a.c.error_kind
        )
        with self._engine.connect() as conn:
            return {(r[0], r[1] or ""): int(r[2]) for r in conn.execute(q)}

    def latency_histogram(self, bounds: Sequence[float]) -> LatencyHistogram:
        """Send latency of every attempt with a measured latency, in ONE scan of attempts."""
        import sqlalchemy as sa

        a = self._t["attempts"]
        ms = a.c.latency_ms
        cols = [sa.func.sum(sa.case((ms <= b * 1000, 1), else_=0)) for b in bounds]
        q = sa.select(sa.func.count(ms), sa.func.sum(ms), *cols).where(ms.is_not(None))
        with self._engine.connect() as conn:
            row = conn.execute(q).one()
        return LatencyHistogram(
            tuple(bounds),
            tuple(int(v or 0) for v in row[2:]),
            int(row[0] or 0),
            float(row[1] or 0) / 1000,
        )
