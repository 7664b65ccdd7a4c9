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

from distributor.store.statements import Statements

if TYPE_CHECKING:
    from distributor.store.models import PlanResult

KEEP_IDS_SECONDS = 7 * 86400  # far beyond the signature tolerance: older ids cannot come back
PURGE_EVERY_SECONDS = 60.0  # old ids are deleted at most this often (a scan of the table)


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


class WebhooksMixin(Statements):
    """Replay-protected webhook ids and metric reads; mixed into `Store`."""

    _engine: Any
    _reader: Any
    _t: Any
    _hook_purged_at: float = float("-inf")  # when this process last deleted old ids

    if TYPE_CHECKING:

        def _now(self, now: datetime | None) -> float: ...

    def webhook_response(self, id: str) -> dict[str, Any] | None:
        """The stored answer for webhook `id` (None: never seen)."""
        with self._reader.connect() as conn:
            row = conn.execute(self._hook_stmt("read"), {"i": id}).first()
        return None if row is None else dict(row.response or {})

    def _hook_stmt(self, name: str) -> Any:
        """The webhook id statements, built once per store (bound parameters `i`, `t`, `r`)."""
        return self._stmt(("hook", name), lambda: self._build_hook_stmt(name))

    def _build_hook_stmt(self, name: str) -> Any:
        import sqlalchemy as sa

        from distributor.store import rows

        w = self._t["webhook_ids"]
        i = sa.bindparam("i", type_=w.c.id.type)
        t = sa.bindparam("t", type_=w.c.seen_at.type)
        if name == "read":
            return w.select().where(w.c.id == i)
        if name == "claim":
            return rows.insert_ignore(self._engine, w).values(id=i, seen_at=t).returning(w.c.id)
        if name == "answer":
            return (
                w.update()
                .where(w.c.id == i)
                .values(response=sa.bindparam("r", type_=w.c.response.type))
            )
        assert name == "purge"
        return w.delete().where(w.c.seen_at < t)

    def _claim_webhook(self, conn: Any, id: str, ts: float) -> None:
        """Record `id` inside the plan transaction; WebhookReplay if it was there already."""
        if abs(ts - self._hook_purged_at) >= PURGE_EVERY_SECONDS:
            conn.execute(self._hook_stmt("purge"), {"t": ts - KEEP_IDS_SECONDS})
            self._hook_purged_at = ts
        if conn.execute(self._hook_stmt("claim"), {"i": id, "t": ts}).scalar() is None:
            row = conn.execute(self._hook_stmt("read"), {"i": id}).first()
            raise WebhookReplay(row.response or {})

    def _answer_webhook(self, conn: Any, id: str, response: Mapping[str, Any]) -> None:
        conn.execute(self._hook_stmt("answer"), {"i": id, "r": dict(response)})

    # -- metrics ------------------------------------------------------------------------
    def attempt_counts(self) -> dict[tuple[str, str], int]:
        """Every attempt ever made: (outcome, error_kind) -> count (append-only: monotonic)."""
        import sqlalchemy as sa

        a = self._t["attempts"]
        q = sa.select(a.c.outcome, a.c.error_kind, sa.func.count()).group_by(
            a.c.outcome, a.c.error_kind
        )
        with self._reader.connect() as conn:
            return {(r[0], r[1] or ""): int(r[2]) for r in conn.execute(q)}

    def latency_histogram(self, bounds: Sequence[float]) -> LatencyHistogram:
        """Send latency of every attempt with a measured latency, in ONE scan of attempts."""
        import sqlalchemy as sa

        a = self._t["attempts"]
        ms = a.c.latency_ms
        cols = [sa.func.sum(sa.case((ms <= b * 1000, 1), else_=0)) for b in bounds]
        q = sa.select(sa.func.count(ms), sa.func.sum(ms), *cols).where(ms.is_not(None))
        with self._reader.connect() as conn:
            row = conn.execute(q).one()
        return LatencyHistogram(
            tuple(bounds),
            tuple(int(v or 0) for v in row[2:]),
            int(row[0] or 0),
            float(row[1] or 0) / 1000,
        )
