"""Worker progress writes: intermediate attempts, deferring a claim, worker heartbeats.

Used by `distributor.dispatch`: an attempt that tenacity retries is appended at once (the audit
trail shows every try, even if the worker dies before the final outcome), a claim whose rate
slot is far away goes back to `retry_wait` without counting as an attempt, and each worker
process leaves a heartbeat in `workers` so operators see who is alive.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.store import rows
from distributor.store.fenced import ATTEMPTS_PLUS_ONE
from distributor.store.models import LEASED, Attempt, Delivery, State, from_ts, to_ts


class ProgressMixin:
    _engine: Any
    _reader: Any
    _t: Any

    if TYPE_CHECKING:  # provided by Store / QueriesMixin; declared for the type checker only

        def _now(self, now: datetime | None) -> float: ...

        def _fenced(
            self, conn: Any, id: int, fence: int, states: Iterable[State], values: dict[str, Any]
        ) -> Delivery: ...

        def _append_attempt(self, conn: Any, id: int, a: Attempt, n: int) -> None: ...

        def _plan_stmt(self, name: str) -> Any: ...

        def _event(
            self,
            conn: Any,
            ts: float,
            actor: str,
            action: str,
            delivery_id: int | None,
            article_id: str | None,
            detail: str = "",
        ) -> None: ...

    def record_attempt(
        self, id: int, fence: int, attempt: Attempt, *, now: datetime | None = None
    ) -> Delivery:
        """Append an attempt that did not end the delivery (a retried NotSent); fenced, the
        state stays `claimed`/`sending`, `attempts` counts it."""
        ts = self._now(now)
        values = {
            "attempts": ATTEMPTS_PLUS_ONE,
            "error_kind": attempt.error_kind,
            "last_error": attempt.detail or None,
            "updated_at": ts,
        }
        with self._engine.begin() as conn:
            out = self._fenced(conn, id, fence, LEASED, values)
            self._append_attempt(conn, id, attempt, out.attempts)
        return out

    def defer(
        self,
        id: int,
        fence: int,
        not_before: datetime,
        *,
        actor: str = "dispatch",
        reason: str = "",
        now: datetime | None = None,
    ) -> Delivery:
        """claimed -> retry_wait until `not_before` (fenced, not an attempt): the account's
        next rate slot is too far away to wait for in the worker. The row keeps its place:
        the account stays busy until it is due again."""
        back = (State.RETRY_WAIT, not_before, "deferred")
        return self._unclaim(id, fence, back, actor=actor, reason=reason, now=now)

    def _unclaim(
        self,
        id: int,
        fence: int,
        back: tuple[State, datetime, str],
        *,
        actor: str,
        reason: str,
        now: datetime | None,
    ) -> Delivery:
        """claimed -> `back` = (state, not_before, event action), fenced, not an attempt."""
        state, not_before, action = back
        ts = self._now(now)
        values = {
            "state": state.value,
            "not_before": to_ts(not_before),
            "lease_owner": None,
            "lease_until": None,
            "updated_at": ts,
        }
        with self._engine.begin() as conn:
            out = self._fenced(conn, id, fence, [State.CLAIMED], values)
            self._event(conn, ts, actor, action, id, out.article_id, reason)
        return out

    def heartbeat(self, worker: str, *, now: datetime | None = None) -> None:
        """Record that `worker` (this process) is alive."""
        ts = self._now(now)
        w = self._t["workers"]
        with self._engine.begin() as conn:
            conn.execute(
                rows.insert_ignore(conn, w).values(
                    id=worker, heartbeat_at=ts, pid=os.getpid(), host=socket.gethostname()
                )
            )
            # a beat after a clean stop means the worker runs again
            conn.execute(
                w.update().where(w.c.id == worker).values(heartbeat_at=ts, stopped_at=None)
            )

    def workers(self) -> list[dict[str, Any]]:
        """Every worker that ever sent a heartbeat: id, heartbeat_at (datetime), pid, host,
        stopped_at (datetime of a clean stop, else None)."""
        w = self._t["workers"]
        with self._reader.connect() as conn:
            found = conn.execute(w.select().order_by(w.c.heartbeat_at.desc())).all()
        return [
            {
                **dict(r._mapping),
                "heartbeat_at": from_ts(r.heartbeat_at),
                "stopped_at": from_ts(r.stopped_at),
            }
            for r in found
        ]

    def article_id_for(self, identity_keys: Iterable[str]) -> str | None:
        """The stored id of the article known under any of these keys (None if new)."""
        with self._reader.connect() as conn:  # the planning statement, built once
            row = conn.execute(self._plan_stmt("keys"), {"keys": list(identity_keys)}).first()
        return None if row is None else str(row.article_id)
