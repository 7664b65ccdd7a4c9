"""Scheduling in the store: channel spacing slots, claim conditions, reschedule, hold/release.

Spacing (`min_gap`) works like the accounts' rate window: one row per channel in
`channel_gaps`, locked for the reservation, so every worker sees the same last slot. A channel
whose next slot is still ahead gets no claim at all (its due deliveries simply wait in order;
breaking news first), so nothing is claimed and put back over and over while a burst drains.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.errors import StoreError
from distributor.store import rows
from distributor.store.models import Delivery, State, from_ts, to_ts
from distributor.store.statements import Statements

# States whose schedule a person may change (nothing in flight, nothing final).
WAITING = (State.PLANNED, State.AWAITING_REVIEW, State.QUEUED, State.RETRY_WAIT)
# A spaced channel's next post may be claimed this long before its slot; the worker waits out
# the rest, so it sends on the slot even when it looks at the queue only once a second.
GAP_LEAD = 2.0


class ScheduleMixin(Statements):
    _engine: Any
    _reader: Any
    _t: Any

    if TYPE_CHECKING:  # provided by Store / QueriesMixin; declared for the type checker only

        def _now(self, now: datetime | None) -> float: ...

        def _fenced(
            self, conn: Any, id: int, fence: int, states: Iterable[State], values: dict[str, Any]
        ) -> Delivery: ...

        def _unclaim(
            self,
            id: int,
            fence: int,
            back: tuple[State, datetime, str],
            *,
            actor: str,
            reason: str,
            now: datetime | None,
        ) -> Delivery: ...

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

    def _claimable(self, ts: Any) -> list[Any]:
        """Extra claim conditions: not held, embargo over, the channel's spacing slot open.
        Filters on the rows the due index already selected, plus one small-table subquery."""
        import sqlalchemy as sa

        d, g = self._t["deliveries"], self._t["channel_gaps"]
        return [
            d.c.held.is_(False),
            d.c.embargo_until.is_(None) | (d.c.embargo_until <= ts),
            d.c.channel.not_in(
                sa.select(g.c.channel).where(g.c.next_at - sa.literal_column(repr(GAP_LEAD)) > ts)
            ),
        ]

    def _sent_at_gap(self, conn: Any, id: int, gap: float, ts: float) -> None:
        """The delivery's channel sends at `ts` (marking it `sending`): its next slot is no
        earlier than `ts + gap`, even if this send started later than its reserved slot."""

        def build() -> Any:
            import sqlalchemy as sa

            d, g = self._t["deliveries"], self._t["channel_gaps"]
            channel = sa.select(d.c.channel).where(d.c.id == sa.bindparam("_id"))
            return (
                g.update()
                .where(g.c.channel == channel.scalar_subquery(), g.c.last_at < sa.bindparam("_ts"))
                .values(last_at=sa.bindparam("_ts"), next_at=sa.bindparam("_next"))
            )

        # built once: it runs on the send path (store/hot.py)
        stmt = self._stmt("sent_at_gap", build)
        conn.execute(stmt, {"_id": id, "_ts": ts, "_next": ts + gap})

    def reserve_gap(
        self,
        channel: str,
        gap: float,
        *,
        now: datetime | None = None,
        max_wait: float | None = None,
    ) -> float:
        """Reserve the channel's next send slot, at least `gap` seconds after the last one;
        returns seconds to wait until it (0 = now). A slot further than `max_wait` away is
        only reported, not reserved (the caller puts the delivery back until then)."""
        ts = self._now(now)
        g = self._t["channel_gaps"]
        with self._engine.begin() as conn:
            conn.execute(
                rows.insert_ignore(conn, g).values(channel=channel, last_at=0.0, next_at=0.0)
            )
            sel = g.select().where(g.c.channel == channel)
            if conn.dialect.name == "postgresql":
                sel = sel.with_for_update()
            row = conn.execute(sel).one()
            slot = max(ts, row.last_at + gap)
            if max_wait is not None and slot - ts > max_wait:
                return float(slot - ts)
            conn.execute(
                g.update().where(g.c.channel == channel).values(last_at=slot, next_at=slot + gap)
            )
        return float(slot - ts)

    def gaps(self) -> dict[str, tuple[datetime, datetime]]:
        """Per channel with spacing: (last reserved slot, when the next may be claimed)."""
        g = self._t["channel_gaps"]
        with self._reader.connect() as conn:
            found = conn.execute(g.select()).all()
        return {r.channel: (rows._dt(r.last_at), rows._dt(r.next_at)) for r in found}

    def next_due(self, now: datetime | None = None) -> datetime | None:
        """When the next waiting delivery may be claimed (its not_before, embargo and channel
        spacing slot; None when nothing waits). Reads every waiting row: for views and idle
        waits, not for the claim."""
        import sqlalchemy as sa

        ts = self._now(now)
        d, g = self._t["deliveries"], self._t["channel_gaps"]
        waiting = (State.QUEUED.value, State.RETRY_WAIT.value)
        sel = (
            sa.select(d.c.not_before, d.c.embargo_until, g.c.next_at)
            .select_from(d.outerjoin(g, g.c.channel == d.c.channel))
            .where(d.c.state.in_(waiting), d.c.held.is_(False))
        )
        with self._reader.connect() as conn:
            found = [max(ts, *(t or 0.0 for t in r)) for r in conn.execute(sel)]
        return from_ts(min(found)) if found else None

    def requeue(
        self,
        id: int,
        fence: int,
        not_before: datetime,
        *,
        actor: str = "dispatch",
        reason: str = "",
        now: datetime | None = None,
    ) -> Delivery:
        """claimed -> queued until `not_before` (fenced, not an attempt): a schedule rule
        (embargo, quiet hours, spacing) says later. Unlike `defer`, the account is not kept
        busy, so other deliveries of it (breaking news) may still go."""
        back = (State.QUEUED, not_before, "rescheduled")
        return self._unclaim(id, fence, back, actor=actor, reason=reason, now=now)

    def raise_embargo(
        self, ids: Iterable[int], until: datetime, *, actor: str, now: datetime | None = None
    ) -> list[Delivery]:
        """The article came again with a later embargo: waiting deliveries whose embargo is
        earlier (or none) get `until` as embargo and as earliest time. Never lowered."""
        ts, end = self._now(now), to_ts(until)
        d = self._t["deliveries"]
        with self._engine.begin() as conn:
            sel = d.select().where(
                d.c.id.in_(list(ids)),
                d.c.state.in_([s.value for s in WAITING]),
                d.c.embargo_until.is_(None) | (d.c.embargo_until < end),
            )
            out = []
            for row in conn.execute(sel).all():
                values = {"embargo_until": end, "not_before": max(row.not_before or 0.0, end)}
                new = conn.execute(
                    d.update()
                    .where(d.c.id == row.id)
                    .values(updated_at=ts, **values)
                    .returning(*d.c)
                ).one()
                self._event(conn, ts, actor, "embargo", row.id, row.article_id, until.isoformat())
                out.append(rows.delivery(new))
        return out

    def set_schedule(
        self,
        ids: Iterable[int],
        *,
        actor: str,
        not_before: datetime | None = None,
        held: bool | None = None,
        now: datetime | None = None,
    ) -> list[Delivery]:
        """Reschedule (`not_before`) and/or hold/release (`held`) waiting deliveries; one
        transaction. StoreError naming the first delivery that is in flight or final, or whose
        embargo is later than `not_before` (the embargo beats everything)."""
        ts = self._now(now)
        d = self._t["deliveries"]
        ids = list(ids)
        with self._engine.begin() as conn:
            sel = d.select().where(d.c.id.in_(ids)).order_by(d.c.id)
            if conn.dialect.name == "postgresql":
                sel = sel.with_for_update()
            found = {r.id: r for r in conn.execute(sel)}
            out = []
            for id in ids:
                row = _check(id, found.get(id), not_before)
                values: dict[str, Any] = {"updated_at": ts}
                if not_before is not None:
                    values["not_before"] = to_ts(not_before)
                if held is not None:
                    values["held"] = held
                new = conn.execute(
                    d.update()
                    .where(d.c.id == id, d.c.state == row.state)
                    .values(**values)
                    .returning(*d.c)
                ).one()
                action = "reschedule" if not_before else "hold" if held else "release"
                when = not_before.isoformat() if not_before else ""
                self._event(conn, ts, actor, action, id, row.article_id, when)
                out.append(rows.delivery(new))
        return out


def _check(id: int, row: Any, not_before: datetime | None) -> Any:
    """`row` if it may be rescheduled or held; StoreError saying why not."""
    if row is None:
        raise StoreError(f"no delivery with id {id}")
    if State(row.state) not in WAITING:
        raise StoreError(f"delivery {id} is {row.state}: only waiting deliveries can change")
    emb = from_ts(row.embargo_until)
    if not_before is not None and emb is not None and not_before < emb:
        raise StoreError(
            f"delivery {id} is under embargo until {emb.isoformat()}: cannot go earlier"
        )
    return row
