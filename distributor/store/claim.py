"""Claiming due deliveries: index-ordered, so a claim costs the same at 1k or 100k queued.

The queue's order (priority first, then oldest) is an index of its own, partial to the two
claimable states (`ix_deliveries_claim`, migration 6). The claim reads it in order, a page at
a time (the first as long as the claim, then longer), and stops as soon as it has one delivery
for each of `limit` accounts: no sort of every due row (the `OR` over `queued`/`retry_wait`
used to defeat the index), and no history scan, since sent rows are not in the index. EXPLAIN
checks this on SQLite and PostgreSQL (tests/store/test_store_claim_plan.py).

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
from distributor.store.fenced import states_sql
from distributor.store.hot import Hot
from distributor.store.models import LEASED, Claimed, State
from distributor.store.statements import Statements, numbered, numbered_binds

_CLAIM_LOCKS = 7_240_002  # advisory lock space of the per-account claim locks
# The partial index's predicate, written out literally: SQLite uses a partial index only when
# the query repeats its WHERE term (a bound parameter would not match).
CLAIMABLE = "deliveries.state IN ('queued', 'retry_wait')"
PAGE = 200  # the longest page of the index walk (the first is as long as the claim)


class ClaimMixin(Statements):
    _engine: Any
    _hot: Hot
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
        ts = self._now(now)
        if self._engine.dialect.name == "postgresql":
            return self._claim_locked(worker, ts, lease_seconds, limit)

        def write(tx: Any) -> list[Claimed]:
            if self._is_paused(tx):
                return []
            ids = self._first_per_account(tx, self._due_page(), {"_ts": ts}, limit)
            return self._lease(tx, ids, worker, ts, lease_seconds)

        return self._hot.run(write)  # one writer at a time; shares commits (store/group.py)

    def _claim_locked(
        self, worker: str, ts: float, lease_seconds: float, limit: int
    ) -> list[Claimed]:
        """PostgreSQL: the walk under per-account advisory locks (see the module docstring)."""
        import sqlalchemy as sa

        with self._engine.begin() as conn:
            if self._is_paused(conn):
                return []
            lock = sa.text("SELECT pg_try_advisory_xact_lock(:space, hashtext(:key))")

            def take(key: str) -> bool:
                return bool(conn.execute(lock, {"space": _CLAIM_LOCKS, "key": key}).scalar())

            due, params = self._due_page(), {"_ts": ts}
            mine = self._first_per_account(conn, due, params, limit, take)
            # again under the locks: what another claim committed meanwhile is seen now
            d = self._t["deliveries"]
            again = due.where(d.c.account_key.in_(list(mine)))
            ids = self._first_per_account(conn, again, params, limit) if mine else {}
            return self._lease(conn, ids, worker, ts, lease_seconds)

    def _due_page(self) -> Any:
        """`due_query` a page at a time, built once: `_ts`, `_limit`, `_offset` are bound."""

        def build() -> Any:
            import sqlalchemy as sa

            due = self.due_query(sa.bindparam("_ts", type_=sa.Float))
            return due.limit(sa.bindparam("_limit")).offset(sa.bindparam("_offset"))

        return self._stmt("due_page", build)

    def due_query(self, ts: Any) -> Any:
        """Due deliveries in queue order (the claim's query; EXPLAIN-checked in the tests);
        `ts` is the time, or a bindparam for it."""
        import sqlalchemy as sa

        d, acc = self._t["deliveries"], self._t["accounts"]
        # states written into the SQL, not bound: the claim's statement is compiled once
        busy = sa.select(d.c.account_key).where(
            sa.or_(
                sa.text(states_sql(s.value for s in LEASED)),
                sa.and_(sa.text(states_sql([State.RETRY_WAIT.value])), d.c.not_before > ts),
            )
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
        conn: Any,
        due: Any,
        params: dict[str, Any],
        limit: int,
        take: Callable[[str], bool] | None = None,
    ) -> dict[str, int]:
        """Walk the queue a page at a time until `limit` accounts have their first delivery
        (account -> delivery id). With `take`, an account counts only if `take(account)`
        (the lock is free); one it refuses is passed over with all its deliveries."""
        first: dict[str, int] = {}
        seen: set[str] = set()
        offset, size = 0, limit
        while len(first) < limit:
            # The first page is as long as the claim: the due rows already leave out busy
            # accounts, so it usually suffices; reading a full page when one account was free
            # meant reading every row of it (5 ms at 10k queued). Then growing pages.
            page = conn.execute(due, {**params, "_limit": size, "_offset": offset}).all()
            for r in page:
                if r.account_key in seen:
                    continue
                seen.add(r.account_key)
                if take is None or take(r.account_key):
                    first[r.account_key] = r.id
                    if len(first) >= limit:
                        break
            if len(page) < size:
                break
            offset, size = offset + size, min(size * 4, PAGE)
        return first

    def _lease(
        self, conn: Any, first: dict[str, int], worker: str, ts: float, lease_seconds: float
    ) -> list[Claimed]:
        """Lock the rows still claimable (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so a row a
        cancel or hold is changing right now is left, never waited for), then lease them in
        one UPDATE."""

        if not first:
            return []
        wanted = list(first.values())
        ids = list(conn.execute(self._lockable(len(wanted)), numbered("_id", wanted)).scalars())
        if not ids:
            return []
        until = ts + lease_seconds
        found = conn.execute(
            self._leasing(len(ids)),
            {**numbered("_id", ids), "_owner": worker, "_until": until, "_ts": ts},
        ).all()
        return [
            Claimed(rows.delivery(r), r.fence, rows._dt(until))
            for r in sorted(found, key=lambda r: (r.created_at, r.id))
        ]

    def _lockable(self, n: int) -> Any:
        """The `n` rows still claimable (PostgreSQL: FOR UPDATE SKIP LOCKED); built once per n."""

        def build() -> Any:
            import sqlalchemy as sa

            d = self._t["deliveries"]
            stmt = sa.select(d.c.id).where(
                d.c.id.in_(numbered_binds("_id", n, sa.Integer)), sa.text(CLAIMABLE)
            )
            if self._engine.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            # SQLite (3.40, no statistics) scanned every queued row of an index on `state` for
            # ten ids or more: 12 ms per claim at 100,000 queued. NOT INDEXED still looks the
            # ids up by key (the INTEGER PRIMARY KEY is not an index).
            return stmt.with_hint(d, "NOT INDEXED", dialect_name="sqlite")

        return self._stmt(("lockable", n), build)

    def _leasing(self, n: int) -> Any:
        """Lease `n` rows in one UPDATE ... RETURNING; built once per n."""

        def build() -> Any:
            import sqlalchemy as sa

            d = self._t["deliveries"]
            return (
                d.update()
                .where(d.c.id.in_(numbered_binds("_id", n, sa.Integer)))
                .values(
                    state=sa.literal_column(f"'{State.CLAIMED.value}'"),
                    lease_owner=sa.bindparam("_owner"),
                    lease_until=sa.bindparam("_until"),
                    fence=d.c.fence + sa.literal_column("1"),
                    updated_at=sa.bindparam("_ts"),
                )
                .returning(*d.c)
            )

        return self._stmt(("leasing", n), build)
