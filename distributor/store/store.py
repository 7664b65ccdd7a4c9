"""The Store: every method is one short committed transaction (never held across HTTP)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.clock import SYSTEM, Clock
from distributor.errors import StoreError
from distributor.store import rows
from distributor.store.admin_sessions import AdminSessionsMixin
from distributor.store.alerts import AlertsMixin
from distributor.store.claim import ClaimMixin
from distributor.store.desk import DeskMixin
from distributor.store.engine import READ_ONLY
from distributor.store.feeds import FeedsMixin
from distributor.store.fenced import ATTEMPTS_PLUS_ONE, FencedMixin
from distributor.store.hot import Hot
from distributor.store.models import (
    LEASED,
    Attempt,
    Delivery,
    Outcome,
    State,
    allowed,
    to_ts,
)
from distributor.store.planning import PlanMixin
from distributor.store.progress import ProgressMixin
from distributor.store.queries import QueriesMixin
from distributor.store.schedule import ScheduleMixin
from distributor.store.wakeup import Waiter, notify, waiter_for
from distributor.store.webhooks import WebhooksMixin

if TYPE_CHECKING:
    pass

_OUTCOMES = {
    Outcome.SENT: State.SENT,
    Outcome.RETRY: State.RETRY_WAIT,
    Outcome.UNKNOWN: State.UNKNOWN,
    Outcome.FAILED: State.FAILED,
}


class Store(
    PlanMixin,
    FencedMixin,
    ClaimMixin,
    ScheduleMixin,
    ProgressMixin,
    AlertsMixin,
    FeedsMixin,
    WebhooksMixin,
    AdminSessionsMixin,
    DeskMixin,
    QueriesMixin,
):
    """The post log and outbox on SQLite or PostgreSQL (see docs/store.md)."""

    def __init__(self, engine: Any, md: Any, clock: Clock = SYSTEM) -> None:
        self._engine = engine
        # reads: the same pool, but a plain (deferred) BEGIN on SQLite (store/engine.py)
        self._reader = engine.execution_options(**{READ_ONLY: True})
        self._t = md.tables
        self._clock = clock
        self._stmts: dict[Any, Any] = {}  # hot statements, built once (store/statements.py)
        self._hot = Hot(engine)  # ...and run on the driver connection (store/hot.py)
        self._checkpoints: Any = None  # store/checkpoint.py, once asked for

    @property
    def dialect(self) -> str:
        return str(self._engine.dialect.name)

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None
        self._engine.dispose()

    def checkpoint_in_background(self) -> None:
        """SQLite: WAL checkpoints on a thread of their own until `close`, not inside this
        process's commits (store/checkpoint.py). PostgreSQL: nothing to do."""
        if self.dialect == "sqlite" and self._checkpoints is None:
            from distributor.store.checkpoint import Checkpoints

            self._checkpoints = Checkpoints(self._engine)

    def waiter(self) -> Waiter:
        """A wake-up source for idle workers (see store/wakeup.py)."""
        return waiter_for(self._engine.url.render_as_string(hide_password=False))

    def _now(self, now: datetime | None) -> float:
        return to_ts(now if now is not None else self._clock.now())

    def renew_lease(
        self, id: int, fence: int, *, lease_seconds: float, now: datetime | None = None
    ) -> Delivery:
        ts = self._now(now)
        with self._engine.begin() as conn:
            return self._fenced(
                conn, id, fence, LEASED, {"lease_until": ts + lease_seconds, "updated_at": ts}
            )

    def release(self, id: int, fence: int, *, now: datetime | None = None) -> Delivery:
        """claimed -> queued (worker shutting down before sending)."""
        ts = self._now(now)
        with self._engine.begin() as conn:
            return self._fenced(
                conn,
                id,
                fence,
                [State.CLAIMED],
                {
                    "state": State.QUEUED.value,
                    "lease_owner": None,
                    "lease_until": None,
                    "updated_at": ts,
                },
            )

    def finish(
        self,
        id: int,
        fence: int,
        outcome: Outcome,
        attempt: Attempt,
        *,
        remote_id: str | None = None,
        remote_url: str | None = None,
        not_before: datetime | None = None,
        error: str | None = None,
        now: datetime | None = None,
    ) -> Delivery:
        """Record the attempt and move to sent | retry_wait | unknown | failed (fenced)."""
        if outcome not in _OUTCOMES:
            raise StoreError(f"finish: unknown outcome {outcome!r} (use {', '.join(_OUTCOMES)})")
        outcome = Outcome(outcome)  # the plain value ("sent") is accepted from untyped callers
        if outcome is Outcome.RETRY and not_before is None:
            raise StoreError("finish: outcome 'retry' needs not_before")
        ts = self._now(now)
        to = _OUTCOMES[outcome]
        values: dict[str, Any] = {
            "state": to.value,
            "lease_owner": None,
            "lease_until": None,
            "updated_at": ts,
            "attempts": ATTEMPTS_PLUS_ONE,
            "error_kind": attempt.error_kind,
            "last_error": error if error is not None else (attempt.detail or None),
        }
        if to is State.SENT:
            values.update(
                remote_id=remote_id,
                remote_url=remote_url,
                sent_at=ts,
                last_error=None,
                error_kind=None,
            )
        if not_before is not None:
            values["not_before"] = to_ts(not_before)
        src = [s for s in LEASED if allowed(s, to)]

        def write(conn: Any) -> Delivery:
            out = self._fenced(conn, id, fence, src, values)
            self._append_attempt(conn, id, attempt, out.attempts)
            return out

        done: Delivery = self._hot.run(write)  # shares its commit (store/group.py)
        return done

    # -- human / reconcile transitions --------------------------------------------------
    def transition(
        self,
        id: int,
        to: State,
        *,
        actor: str,
        reason: str = "",
        from_states: Iterable[State] | None = None,
        not_before: datetime | None = None,
        remote_id: str | None = None,
        remote_url: str | None = None,
        draft: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Delivery:
        """Move a delivery (approve, cancel, retry, reconcile); checks the transition table and
        `from_states`, bumps the fence when leaving a leased state, records an event. `draft`
        replaces the post (approve with an edited text) in the same transaction."""
        ts = self._now(now)
        d = self._t["deliveries"]
        with self._engine.begin() as conn:
            sel = d.select().where(d.c.id == id)
            if conn.dialect.name == "postgresql":
                sel = sel.with_for_update()
            cur = conn.execute(sel).first()
            if cur is None:
                raise StoreError(f"delivery {id} does not exist")
            src = State(cur.state)
            if (from_states is not None and src not in set(from_states)) or not allowed(src, to):
                raise StoreError(f"delivery {id}: cannot go from {src} to {to}")
            values: dict[str, Any] = {"state": to.value, "updated_at": ts}
            if src in LEASED or to is State.QUEUED:
                values.update(fence=cur.fence + 1, lease_owner=None, lease_until=None)
            if not_before is not None or to is State.QUEUED:
                # approving keeps the schedule (a post planned for 07:30 must not go now)
                keep = cur.not_before if src is State.AWAITING_REVIEW else None
                values["not_before"] = to_ts(not_before) if not_before else keep
            if to is State.SENT:
                values.update(remote_id=remote_id, remote_url=remote_url, sent_at=ts)
            if draft is not None:
                values["draft"] = draft
            row = conn.execute(
                d.update()
                .where(d.c.id == id, d.c.state == src.value)
                .values(**values)
                .returning(*d.c)
            ).one()
            self._event(conn, ts, actor, f"{src}->{to}", id, cur.article_id, reason)
            if to is State.QUEUED:
                notify(conn)
        return rows.delivery(row)
