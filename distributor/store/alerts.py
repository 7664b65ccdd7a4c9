"""Alert incidents in the store: open once per key (across all workers), remind, resolve.

An incident key (`unknown:<channel>`, `reauth:<account>`, `stuck`, `worker:<id>`, ...) has at
most one open row, guaranteed by a partial unique index, so two workers checking at the same
moment open it once. `raise_alert` answers whether THIS caller must notify now: the incident is
new, its last notification failed (retried after `retry_after`), or a reminder is due.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from distributor.store import rows
from distributor.store.models import Outcome, from_ts

NOTIFY_RETRY_AFTER = 60.0  # seconds before a failed notification is tried again


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    key: str
    kind: str
    summary: str
    opened_at: datetime
    seen_at: datetime
    resolved_at: datetime | None
    notified_at: datetime | None
    notify_ok: bool | None
    notifications: int
    result: str

    @property
    def open(self) -> bool:
        return self.resolved_at is None


def _alert(row: Any) -> Alert:
    m = row._mapping
    return Alert(
        id=m["id"],
        key=m["key"],
        kind=m["kind"],
        summary=m["summary"],
        opened_at=rows._dt(m["opened_at"]),
        seen_at=rows._dt(m["seen_at"]),
        resolved_at=from_ts(m["resolved_at"]),
        notified_at=from_ts(m["notified_at"]),
        notify_ok=m["notify_ok"],
        notifications=m["notifications"],
        result=m["result"],
    )


class AlertsMixin:
    _engine: Any
    _reader: Any
    _t: Any

    def _now(self, now: datetime | None) -> float:
        raise NotImplementedError

    def raise_alert(
        self,
        key: str,
        kind: str,
        summary: str,
        *,
        remind_after: float | None = None,
        now: datetime | None = None,
    ) -> Alert | None:
        """Open (or keep open) incident `key`; the alert if the caller must notify now, else
        None. Claiming the notification is atomic, so one worker sends it."""
        ts = self._now(now)
        t = self._t["alerts"]
        with self._engine.begin() as conn:
            new = conn.execute(
                rows.insert_ignore(conn, t)
                .values(
                    key=key,
                    kind=kind,
                    summary=summary,
                    opened_at=ts,
                    seen_at=ts,
                    notified_at=ts,
                    notifications=0,
                    result="",
                )
                .returning(*t.c)
            ).first()
            if new is not None:
                return _alert(new)
            is_open = (t.c.key == key) & t.c.resolved_at.is_(None)
            # not (yet) confirmed sent: the last try failed or its process died while sending
            due = t.c.notify_ok.is_not(True) & (t.c.notified_at <= ts - NOTIFY_RETRY_AFTER)
            if remind_after:
                due = due | (t.c.notified_at <= ts - remind_after)
            claimed = conn.execute(
                t.update()
                .where(is_open, due)
                .values(summary=summary, seen_at=ts, notified_at=ts)
                .returning(*t.c)
            ).first()
            if claimed is None:
                conn.execute(t.update().where(is_open).values(summary=summary, seen_at=ts))
        return None if claimed is None else _alert(claimed)

    def alert_notified(self, id: int, ok: bool, result: str) -> None:
        """Record how notifying the targets about alert `id` went."""
        t = self._t["alerts"]
        values: dict[str, Any] = {"notify_ok": ok, "result": result[:1000]}
        if ok:
            values["notifications"] = t.c.notifications + 1
        with self._engine.begin() as conn:
            conn.execute(t.update().where(t.c.id == id).values(**values))

    def resolve_alerts(
        self, keep_open: Iterable[str], kinds: Iterable[str], *, now: datetime | None = None
    ) -> list[Alert]:
        """Resolve open incidents of `kinds` whose key is not in `keep_open`; returns them."""
        ts = self._now(now)
        t = self._t["alerts"]
        cond = (
            t.c.resolved_at.is_(None) & t.c.kind.in_(list(kinds)) & t.c.key.not_in(list(keep_open))
        )
        with self._engine.begin() as conn:
            done = conn.execute(t.update().where(cond).values(resolved_at=ts).returning(*t.c))
            return [_alert(r) for r in done]

    def alerts(self, *, open_only: bool = False, limit: int = 50) -> list[Alert]:
        """Incidents, newest first (only the open ones with `open_only`)."""
        t = self._t["alerts"]
        sel = t.select().order_by(t.c.opened_at.desc(), t.c.id.desc()).limit(limit)
        if open_only:
            sel = sel.where(t.c.resolved_at.is_(None))
        with self._reader.connect() as conn:
            return [_alert(r) for r in conn.execute(sel)]

    def reauth_accounts(self) -> dict[str, str]:
        """Accounts flagged as needing re-authentication: account_key -> reason."""
        acc = self._t["accounts"]
        with self._reader.connect() as conn:
            found = conn.execute(acc.select().where(acc.c.needs_reauth.is_(True))).all()
        return {r.account_key: r.reauth_reason or "" for r in found}

    def failure_counts(self, since: datetime) -> dict[tuple[str, str], int]:
        """Attempts that did not send, since `since`: (channel, error_kind) -> count."""
        import sqlalchemy as sa

        a, d = self._t["attempts"], self._t["deliveries"]
        q = (
            sa.select(d.c.channel, a.c.error_kind, sa.func.count())
            .select_from(a.join(d, a.c.delivery_id == d.c.id))
            .where(a.c.finished_at >= self._now(since), a.c.outcome != Outcome.SENT.value)
            .group_by(d.c.channel, a.c.error_kind)
        )
        with self._reader.connect() as conn:
            return {(r[0], r[1] or ""): int(r[2]) for r in conn.execute(q)}

    def worker_stopped(self, worker: str, *, now: datetime | None = None) -> None:
        """Record a clean stop: the worker is not alive, but not silent either."""
        w = self._t["workers"]
        with self._engine.begin() as conn:
            conn.execute(w.update().where(w.c.id == worker).values(stopped_at=self._now(now)))

    def forget_worker(self, worker: str) -> None:
        """Drop a worker's heartbeat row (it stopped cleanly, or it is long dead)."""
        w = self._t["workers"]
        with self._engine.begin() as conn:
            conn.execute(w.delete().where(w.c.id == worker))
