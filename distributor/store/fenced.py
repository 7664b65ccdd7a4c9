"""Fenced writes of the send path, with their statements built once per store.

Every worker write names the delivery's fence: a worker whose lease was taken over cannot
overwrite what reconcile decided (docs/store.md). These run once or twice per delivery, so
their SQLAlchemy statements are built once and reused with bound parameters: building and
hashing a fresh statement per call was a large share of a delivery's CPU in the fan-out profile.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.errors import StaleLease, StoreError
from distributor.store import rows
from distributor.store.hot import Hot
from distributor.store.models import Attempt, Delivery, State, to_ts
from distributor.store.statements import Statements

# Values that are SQL, not data: written into the statement itself (the same every call).
ATTEMPTS_PLUS_ONE = object()


def states_sql(states: Iterable[str]) -> str:
    """`deliveries.state IN (...)` with the states written in: they are the store's own
    constants, and an expanding parameter would have to be rendered again on every call."""
    names = list(states)
    assert all(n.isidentifier() for n in names), names
    return "deliveries.state IN (" + ", ".join(f"'{n}'" for n in names) + ")"


class FencedMixin(Statements):
    _engine: Any
    _hot: Hot
    _t: Any

    if TYPE_CHECKING:

        def _now(self, now: datetime | None) -> float: ...

        def _sent_at_gap(self, conn: Any, id: int, gap: float, ts: float) -> None: ...

    def _fenced_stmt(self, states: tuple[str, ...], keys: tuple[str, ...], live: bool) -> Any:
        """UPDATE ... WHERE id, fence, state (and, with `live`, an unexpired lease) RETURNING *,
        built on first use for this combination of states and columns."""

        def build() -> Any:
            import sqlalchemy as sa

            d = self._t["deliveries"]
            where = [
                d.c.id == sa.bindparam("_id"),
                d.c.fence == sa.bindparam("_fence"),
                sa.text(states_sql(states)),  # constants in the SQL: compiled once (store/hot.py)
            ]
            if live:
                where.append(d.c.lease_until >= sa.bindparam("_ts"))
            values = {
                k.removesuffix("+1"): d.c[k.removesuffix("+1")] + sa.literal_column("1")
                if k.endswith("+1")
                else sa.bindparam(f"v_{k}")
                for k in keys
            }
            return d.update().where(*where).values(values).returning(*d.c)

        return self._stmt(("fenced", states, keys, live), build)

    def _fenced(
        self,
        conn: Any,
        id: int,
        fence: int,
        states: Iterable[State],
        values: dict[str, Any],
        *,
        live_at: float | None = None,
    ) -> Delivery:
        """Update the delivery if its fence and state still match; StaleLease otherwise.
        `values["attempts"] = ATTEMPTS_PLUS_ONE` adds one in the statement itself."""
        keys = tuple(sorted(k + "+1" if v is ATTEMPTS_PLUS_ONE else k for k, v in values.items()))
        stmt = self._fenced_stmt(tuple(s.value for s in states), keys, live_at is not None)
        params = {f"v_{k}": v for k, v in values.items() if v is not ATTEMPTS_PLUS_ONE}
        params.update(_id=id, _fence=fence, _ts=live_at)
        row = conn.execute(stmt, params).first()
        if row is None:
            raise self._why_stale(conn, id, fence, live_at)
        return rows.delivery(row)

    def _why_stale(self, conn: Any, id: int, fence: int, live_at: float | None) -> Exception:
        def build() -> Any:
            import sqlalchemy as sa

            d = self._t["deliveries"]
            return d.select().where(d.c.id == sa.bindparam("_id"))

        cur = conn.execute(self._stmt("by_id", build), {"_id": id}).first()
        if cur is None:
            return StoreError(f"delivery {id} does not exist")
        if live_at is not None and cur.fence == fence and (cur.lease_until or 0) < live_at:
            return StaleLease(f"delivery {id}: lease expired before sending")
        return StaleLease(
            f"delivery {id}: fence {fence} is stale (now {cur.fence}, state {cur.state})"
        )

    def mark_sending(
        self, id: int, fence: int, *, now: datetime | None = None, gap: float = 0.0
    ) -> Delivery:
        """claimed -> sending, committed BEFORE the HTTP call; refused once the lease expired.
        With `gap` (min_gap), the channel's next post is spaced from now."""
        ts = self._now(now)
        values = {"state": State.SENDING.value, "updated_at": ts}

        def write(conn: Any) -> Delivery:
            if gap > 0:
                self._sent_at_gap(conn, id, gap, ts)
            return self._fenced(conn, id, fence, [State.CLAIMED], values, live_at=ts)

        return self._hot.run(write)  # shares its commit with other sends' (store/group.py)

    def _append_attempt(self, conn: Any, id: int, a: Attempt, n: int) -> None:
        def build() -> Any:
            import sqlalchemy as sa

            a_t = self._t["attempts"]
            names = [c.key for c in a_t.c if c.key != "id"]
            return a_t.insert().values({k: sa.bindparam(k) for k in names})

        conn.execute(
            self._stmt("attempt", build),
            {
                "delivery_id": id,
                "n": n,
                "started_at": to_ts(a.started_at),
                "finished_at": to_ts(a.finished_at),
                "outcome": str(a.outcome),
                "error_kind": a.error_kind,
                "detail": a.detail,
                "remote_id": a.remote_id,
                "latency_ms": a.latency_ms,
                "worker": a.worker,
            },
        )
