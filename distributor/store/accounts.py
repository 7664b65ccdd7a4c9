"""Per-account state shared by all workers: send-rate reservations, 429 blocks, re-auth flags
(and, from SessionsMixin, platform login sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.store import rows
from distributor.store.models import AccountState, from_ts, to_ts
from distributor.store.sessions import SessionsMixin

if TYPE_CHECKING:
    from distributor.config import Rate


class AccountsMixin(SessionsMixin):
    _engine: Any
    _reader: Any
    _t: Any

    def _now(self, now: datetime | None) -> float:
        raise NotImplementedError

    def _account(self, conn: Any, key: str) -> Any:
        acc = self._t["accounts"]
        conn.execute(
            rows.insert_ignore(conn, acc).values(account_key=key, send_times=[], needs_reauth=False)
        )
        sel = acc.select().where(acc.c.account_key == key)
        if conn.dialect.name == "postgresql":
            sel = sel.with_for_update()
        return conn.execute(sel).one()

    def reserve_send(
        self,
        account_key: str,
        rate: Rate | None,
        *,
        now: datetime | None = None,
        max_wait: float | None = None,
    ) -> float:
        """Reserve the account's next send slot; returns seconds to wait until it (0 = now).

        An exact sliding window: the slot is at least `per` seconds after the `count`-th previous
        reserved slot, so no window of `per` seconds ever holds more than `count` sends, across
        all workers (the row is locked for the reservation). Also honours `blocked_until`.
        With `max_wait`, a slot further away than that is only reported, not reserved (the
        caller defers the delivery instead of wasting a slot).
        """
        ts = self._now(now)
        acc = self._t["accounts"]
        with self._engine.begin() as conn:
            row = self._account(conn, account_key)
            slot = max(ts, row.blocked_until or 0.0)
            if rate is None:
                return slot - ts
            # Only the last `count` slots matter; one more is allowed `per` after the oldest.
            times = sorted(float(t) for t in row.send_times)[-rate.count :]
            if len(times) == rate.count:
                slot = max(slot, times[0] + rate.per)
            if max_wait is not None and slot - ts > max_wait:
                return slot - ts
            times = [*times, slot][-rate.count :]
            conn.execute(
                acc.update().where(acc.c.account_key == account_key).values(send_times=times)
            )
        return slot - ts

    def block_account(self, account_key: str, until: datetime, reason: str = "") -> None:
        """No claims or sends for this account before `until` (429 / rate-limit headers)."""
        acc = self._t["accounts"]
        with self._engine.begin() as conn:
            row = self._account(conn, account_key)
            keep = max(to_ts(until), row.blocked_until or 0.0)
            conn.execute(
                acc.update()
                .where(acc.c.account_key == account_key)
                .values(blocked_until=keep, block_reason=reason)
            )

    def mark_reauth(self, account_key: str, reason: str) -> None:
        self._set_reauth(account_key, True, reason)

    def clear_reauth(self, account_key: str) -> None:
        self._set_reauth(account_key, False, None)

    def _set_reauth(self, key: str, flag: bool, reason: str | None) -> None:
        acc = self._t["accounts"]
        with self._engine.begin() as conn:
            self._account(conn, key)
            conn.execute(
                acc.update()
                .where(acc.c.account_key == key)
                .values(needs_reauth=flag, reauth_reason=reason)
            )

    def account(self, account_key: str) -> AccountState:
        acc = self._t["accounts"]
        with self._reader.connect() as conn:
            row = conn.execute(acc.select().where(acc.c.account_key == account_key)).first()
        if row is None:
            return AccountState(account_key, None, False, None)
        return AccountState(
            account_key, from_ts(row.blocked_until), bool(row.needs_reauth), row.reauth_reason
        )
