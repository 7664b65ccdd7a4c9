"""Claiming due deliveries: index-ordered, so a claim costs the same at 1k or 100k queued.

The queue's order (priority first, then oldest) is an index of its own, partial to the two
claimable states (`ix_deliveries_claim`, migration 6). The claim reads it in order, a page at
a time, and stops as soon as it has one delivery for each of `limit` accounts: no sort of every
due row (the `OR` over `queued`/`retry_wait` used to defeat the index), and no history scan,
since sent rows are not in the index. EXPLAIN checks this on SQLite and PostgreSQL
(tests/store/test_store_claim_plan.py).

"One delivery in flight per account" across workers on PostgreSQL: a claim takes a transaction
advisory lock per account it is about to lease (`pg_try_advisory_xact_lock`, skipping accounts
another claim holds), then reads those accounts' first due rows again under the locks. A claim
that committed in between is visible to that second read (READ COMMITTED: a new snapshot per
statement), so its account is busy and skipped. An earlier single lock for every claim kept
this too, but made all claims of all workers wait in one line: under CPU load a claimer that
was descheduled while holding it stalled every worker (bench/scaleout_bench.py: 4 processes
sent less than 2 did).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.clock import Clock
from distributor.store import rows
from distributor.store.models import LEASED, Claimed, State

_CLAIM_LOCKS = 7_240_002  # advisory lock space of the per-account claim locks
# The partial index's predicate, written out literally: SQLite uses a partial index only when
# the query repeats its WHERE term (a bound parameter would not match).
CLAIMABLE = "deliveries.state IN ('queued', 'retry_wait')"
PAGE = 200  # rows read per step of the index walk


class ClaimMixin:
    _engine: Any
    _t: Any
    _clock: Clock

    if TYPE_CHECKING:  # provided by Store and its other mixins (declared for mypy only)

        def _now(self, now: datetime | None) -> float: ...

        def _is_paused(self, conn: Any) -> bool: ...

        def _claimable(self, ts: float) -> list[Any]: ...

    def claim(
        self, worker: str, *, lease_seconds: float, limit: int = 10, now: datetime | None = None
    ) -> list[Claimed]:
        """Lease up to `limit` due deliveries: at most one per account (its highest priority,
        then oldest), none for paused queue, blocked or re-auth accounts, none where one is
        already in flight; none held, under embargo or whose channel's spacing slot is ahead."""
        import sqlalchemy as sa

        ts = self._now(now)
        with self._engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, one claim at a time
            if self._is_paused(conn):
                return []
            due = self.due_query(ts)
            if conn.dialect.name != "postgresql":
                ids = self._first_per_account(conn, due, limit)
            else:
                lock = sa.text("SELECT pg_try_advisory_xact_lock(:space, hashtext(:key))")

                def take(key: str) -> bool:
                    return bool(conn.execute(lock, {"space": _CLAIM_LOCKS, "key": key}).scalar())

                mine = self._first_per_account(conn, due, limit, take)
                # again under the locks: what another claim committed meanwhile is seen now
                d = self._t["deliveries"]
                again = due.where(d.c.account_key.in_(list(mine)))
                ids = self._first_per_account(conn, again, limit) if mine else {}
            return self._lease(conn, ids, worker, ts, lease_seconds)

    def due_query(self, ts: float) -> Any:
        """Due deliveries in queue order (the claim's query; EXPLAIN-checked in the tests)."""
        import sqlalchemy as sa

        d, acc = self._t["deliveries"], self._t["accounts"]
        busy = sa.select(d.c.account_key).where(
            d.c.state.in_([s.value for s in LEASED])
            | ((d.c.state == State.RETRY_WAIT.value) & (d.c.not_before > ts))
        )
        held = sa.select(acc.c.account_key).where(
            (acc.c.blocked_until > ts) | acc.c.needs_reauth.is_(True)
        )
        return (
            sa.select(d.c.id, d.c.account_key)
            .where(
                sa.text(CLAIMABLE),
                # retry_wait always carries its not_before (store.finish, defer insist)
                d.c.not_before.is_(None) | (d.c.not_before <= ts),
                d.c.account_key.not_in(busy),
                d.c.account_key.not_in(held),
                *self._claimable(ts),
            )
            .order_by(d.c.priority.desc(), d.c.created_at, d.c.id)
            # SQLite without ANALYZE statistics (no store runs it) prefers the state index and
            # a sort of every due row; name the claim index. PostgreSQL plans it by itself.
            .with_hint(d, "INDEXED BY ix_deliveries_claim", dialect_name="sqlite")
        )

    @staticmethod
    def _first_per_account(
        conn: Any, due: Any, limit: int, take: Callable[[str], bool] | None = None
    ) -> dict[str, int]:
        """Walk the queue a page at a time until `limit` accounts have their first delivery
        (account -> delivery id). With `take`, an account counts only if `take(account)`
        (the lock is free); one it refuses is passed over with all its deliveries."""
        first: dict[str, int] = {}
        seen: set[str] = set()
        offset = 0
        while len(first) < limit:
            page = conn.execute(due.limit(PAGE).offset(offset)).all()
            for r in page:
                if r.account_key in seen:
                    continue
                seen.add(r.account_key)
                if take is None or take(r.account_key):
                    first[r.account_key] = r.id
                    if len(first) >= limit:
                        break
            if len(page) < PAGE:
                break
            offset += PAGE
        return first

    def _lease(
        self, conn: Any, first: dict[str, int], worker: str, ts: float, lease_seconds: float
    ) -> list[Claimed]:
        """Lock the rows still claimable (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so a row a
        cancel or hold is changing right now is left, never waited for), then lease them in
        one UPDATE."""
        import sqlalchemy as sa

        d = self._t["deliveries"]
        if not first:
            return []
        sel = sa.select(d.c.id).where(d.c.id.in_(list(first.values())), sa.text(CLAIMABLE))
        if conn.dialect.name == "postgresql":
            sel = sel.with_for_update(skip_locked=True)
        ids = list(conn.execute(sel).scalars())
        if not ids:
            return []
        until = ts + lease_seconds
        found = conn.execute(
            d.update()
            .where(d.c.id.in_(ids))
            .values(
                state=State.CLAIMED.value,
                lease_owner=worker,
                lease_until=until,
                fence=d.c.fence + 1,
                updated_at=ts,
            )
            .returning(*d.c)
        ).all()
        return [
            Claimed(rows.delivery(r), r.fence, rows._dt(until))
            for r in sorted(found, key=lambda r: (r.created_at, r.id))
        ]
