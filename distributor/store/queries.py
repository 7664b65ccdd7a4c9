"""Read side of the store (log, show, audit, reconcile lists) plus events and the kill switch."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from distributor.clock import Clock
from distributor.errors import StoreError
from distributor.store import rows
from distributor.store.accounts import AccountsMixin
from distributor.store.models import FINAL, LEASED, Delivery, Filters, State, to_ts
from distributor.store.statements import Statements


class QueriesMixin(AccountsMixin, Statements):
    _engine: Any
    _reader: Any
    _t: Any
    _clock: Clock
    _search_index: bool | None = None  # whether the text search has its index (None: unknown)

    def _now(self, now: datetime | None) -> float:
        raise NotImplementedError

    def _event(
        self,
        conn: Any,
        ts: float,
        actor: str,
        action: str,
        delivery_id: int | None,
        article_id: str | None,
        detail: str = "",
    ) -> None:
        conn.execute(
            self._t["events"]
            .insert()
            .values(
                at=ts,
                actor=actor,
                action=action,
                delivery_id=delivery_id,
                article_id=article_id,
                detail=detail,
            )
        )

    def record_event(
        self,
        actor: str,
        action: str,
        *,
        delivery_id: int | None = None,
        article_id: str | None = None,
        detail: str = "",
        now: datetime | None = None,
    ) -> None:
        with self._engine.begin() as conn:
            self._event(conn, self._now(now), actor, action, delivery_id, article_id, detail)

    def events(self, *, delivery_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
        e = self._t["events"]
        sel = e.select().order_by(e.c.id.desc()).limit(limit)
        if delivery_id is not None:
            sel = sel.where(e.c.delivery_id == delivery_id)
        with self._reader.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sel)]

    # -- kill switch --------------------------------------------------------------------
    def _is_paused(self, conn: Any) -> bool:
        def build() -> Any:
            import sqlalchemy as sa

            c = self._t["controls"]
            return (
                c.select()
                .with_only_columns(c.c.value)
                .where(c.c.name == sa.literal_column("'paused'"))
            )

        stmt = self._stmt("paused", build)  # built once: every claim asks (store/hot.py)
        return bool(conn.execute(stmt).scalar())

    def _set_paused(self, value: bool, actor: str, now: datetime | None) -> None:
        ts = self._now(now)
        c = self._t["controls"]
        with self._engine.begin() as conn:
            conn.execute(
                rows.insert_ignore(conn, c).values(name="paused", value=False, actor=actor, at=ts)
            )
            conn.execute(
                c.update().where(c.c.name == "paused").values(value=value, actor=actor, at=ts)
            )
            self._event(conn, ts, actor, "pause" if value else "resume", None, None)

    def pause(self, actor: str, *, now: datetime | None = None) -> None:
        self._set_paused(True, actor, now)

    def resume(self, actor: str, *, now: datetime | None = None) -> None:
        self._set_paused(False, actor, now)

    def paused(self) -> bool:
        with self._reader.connect() as conn:
            return self._is_paused(conn)

    # -- reads --------------------------------------------------------------------------
    def get(self, id: int) -> Delivery:
        """The delivery with its attempts (oldest first); StoreError if there is none."""
        d, a = self._t["deliveries"], self._t["attempts"]
        if not 0 < id < 2**63:  # a 64-bit key: larger ids overflow the driver (a traceback)
            raise StoreError(f"no delivery with id {id}")
        with self._reader.connect() as conn:
            row = conn.execute(d.select().where(d.c.id == id)).first()
            if row is None:
                raise StoreError(f"no delivery with id {id}")
            hist = tuple(
                rows.attempt(r)
                for r in conn.execute(
                    a.select().where(a.c.delivery_id == id).order_by(a.c.n, a.c.id)
                )
            )
        return rows.delivery(row, hist)

    def query(
        self, filters: Filters | None = None, *, limit: int = 50, after: str | None = None
    ) -> tuple[list[Delivery], str | None]:
        """Newest first, keyset-paginated by (created_at, id); returns (page, next cursor)."""
        filters = filters or Filters()
        d = self._t["deliveries"]
        sel = d.select().order_by(d.c.created_at.desc(), d.c.id.desc()).limit(limit)
        sel = sel.where(*self._conditions(filters))
        if after:
            ts, cid = _cursor(after)
            # `created_at <= ts` first: an index range seek, so a deep page is as fast as page 1.
            sel = sel.where(d.c.created_at <= ts).where((d.c.created_at < ts) | (d.c.id < cid))
        with self._reader.connect() as conn:
            found = conn.execute(sel).all()
        # The cursor carries the stored time itself: a datetime has microseconds only, so a
        # time rounded through it skipped or repeated the rows at a page's edge.
        last = found[-1] if len(found) == limit else None
        return [rows.delivery(r) for r in found], f"{last.created_at!r}:{last.id}" if last else None

    def _conditions(self, filters: Filters) -> list[Any]:
        """The WHERE conditions on `deliveries` that `filters` ask for."""
        d = self._t["deliveries"]
        found: list[Any] = []
        if filters.states:
            found.append(d.c.state.in_([s.value for s in filters.states]))
        if filters.channel:
            found.append(d.c.channel == filters.channel)
        if filters.channels:
            found.append(d.c.channel.in_(filters.channels))
        if filters.article_id:
            found.append(d.c.article_id == filters.article_id)
        if filters.since:
            found.append(d.c.created_at >= to_ts(filters.since))
        if filters.platform:
            found.append(d.c.platform == filters.platform)
        if filters.until:
            found.append(d.c.created_at < to_ts(filters.until))
        if filters.search:
            found.append(self._matches(filters.search))
        return found

    def _matches(self, text: str) -> Any:
        """Title or post text contains `text`, in any case (store/search.py)."""
        from distributor.store import search

        return search.matches(self._t, self._engine.dialect.name, text, self._indexed())

    def _searched(self, text: str) -> Any:
        """The ids of the articles `_matches` finds, from the index (None without one)."""
        from distributor.store import search

        return search.articles(self._t, self._engine.dialect.name, text, self._indexed())

    def _indexed(self) -> bool:
        """Whether search has its index, with every row in it (store/search.py)."""
        from distributor.store import search

        dialect = self._engine.dialect.name
        indexed: bool | None = self._search_index
        if indexed is None:  # asked once: migration 10 may have found no FTS5
            with self._reader.connect() as conn:
                indexed = self._search_index = dialect != "sqlite" or search.has_index(conn)
        if indexed and dialect == "sqlite":
            search.catch_up(self._engine)
        return indexed

    def article(self, id: str) -> dict[str, Any] | None:
        """The stored article (id, canonical_url, guid, title, first_seen, source), or None."""
        art = self._t["articles"]
        with self._reader.connect() as conn:
            row = conn.execute(art.select().where(art.c.id == id)).first()
        if row is None:
            return None
        m = dict(row._mapping)
        return {k: m[k] for k in ("id", "canonical_url", "guid", "title", "source")} | {
            "first_seen": rows._dt(m["first_seen"])
        }

    def _by_states(self, states: Any, extra: Any = None) -> list[Delivery]:
        d = self._t["deliveries"]
        sel = (
            d.select()
            .where(d.c.state.in_([s.value for s in states]))
            .with_hint(d, _BY_STATE, "sqlite")
        )
        if extra is not None:
            sel = sel.where(extra)
        with self._reader.connect() as conn:
            return [rows.delivery(r) for r in conn.execute(sel.order_by(d.c.created_at, d.c.id))]

    def audit(self, since: datetime | None = None) -> list[Delivery]:
        """Every delivery not in a final state (created since `since`), oldest first."""
        d = self._t["deliveries"]
        extra = d.c.created_at >= to_ts(since) if since else None
        return self._by_states([s for s in State if s not in FINAL], extra)

    def stale(self, now: datetime | None = None) -> list[Delivery]:
        """claimed/sending rows whose lease expired (their worker died): for reconcile."""
        d = self._t["deliveries"]
        return self._by_states(LEASED, d.c.lease_until < self._now(now))

    def unknown(self) -> list[Delivery]:
        return self._by_states([State.UNKNOWN])

    def stuck(self, now: datetime, after: timedelta, *, limit: int) -> tuple[int, list[Delivery]]:
        """What `review.attention` calls stuck, leaving out `unknown` (the desk lists those on
        their own): a lease that ran out, or waiting, not held and due for longer than `after`
        (a channel's spacing slot counts as due). Returns (how many, the oldest `limit`),
        decided in SQL: a long queue is neither read nor turned into objects row by row."""
        import sqlalchemy as sa

        d, g = self._t["deliveries"], self._t["channel_gaps"]
        ts = self._now(now)
        cutoff = ts - after.total_seconds()
        lost = sa.and_(d.c.state.in_([s.value for s in LEASED]), d.c.lease_until < ts)
        overdue = sa.and_(
            d.c.state.in_([s.value for s in _WAITING]),
            d.c.held.is_(False),
            sa.func.coalesce(d.c.not_before, d.c.updated_at) < cutoff,
            sa.or_(g.c.next_at.is_(None), g.c.next_at < cutoff),
        )
        open_states = d.c.state.in_([s.value for s in (*LEASED, *_WAITING)])
        src = d.outerjoin(g, g.c.channel == d.c.channel)
        where = (open_states, sa.or_(lost, overdue))
        count = sa.select(sa.func.count()).select_from(src).where(*where)
        oldest = sa.select(d).select_from(src).where(*where).order_by(d.c.created_at, d.c.id)
        with self._reader.connect() as conn:
            n = int(conn.execute(count.with_hint(d, _BY_STATE, "sqlite")).scalar_one())
            found = conn.execute(oldest.with_hint(d, _BY_STATE, "sqlite").limit(limit)) if n else []
            return n, [rows.delivery(r) for r in found]

    def counts_by_state(self, states: Iterable[State] | None = None) -> dict[str, int]:
        """Deliveries per state: every state, or only `states` (an index range each, instead
        of counting the whole log)."""
        import sqlalchemy as sa

        d = self._t["deliveries"]
        wanted = list(State) if states is None else list(states)
        q = sa.select(d.c.state, sa.func.count()).group_by(d.c.state)
        if states is not None:
            q = q.where(d.c.state.in_([s.value for s in wanted]))
        with self._reader.connect() as conn:
            got = {r[0]: r[1] for r in conn.execute(q)}
        return {s.value: int(got.get(s.value, 0)) for s in wanted}

    def integrity_check(self, now: datetime | None = None) -> list[str]:
        """Problems found (empty = healthy): SQLite integrity_check, invariants on both."""
        import sqlalchemy as sa

        d = self._t["deliveries"]
        problems: list[str] = []
        with self._reader.connect() as conn:
            if conn.dialect.name == "sqlite":
                res = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                problems += [f"sqlite: {r}" for r in res if r != "ok"]
            checks = {
                "leased without lease": sa.and_(
                    d.c.state.in_([s.value for s in LEASED]), d.c.lease_until.is_(None)
                ),
                "sent without remote id": sa.and_(
                    d.c.state == State.SENT.value, d.c.remote_id.is_(None)
                ),
                "unknown state": d.c.state.not_in([s.value for s in State]),
            }
            for name, cond in checks.items():
                for r in conn.execute(sa.select(d.c.id).where(cond).limit(20)):
                    problems.append(f"delivery {r.id}: {name}")
            busy = (
                conn.execute(
                    sa.select(d.c.account_key)
                    .where(d.c.state.in_([s.value for s in LEASED]))
                    .group_by(d.c.account_key)
                    .having(sa.func.count() > 1)
                )
                .scalars()
                .all()
            )
            problems += [f"account {k}: more than one delivery in flight" for k in busy]
        return problems


_WAITING = (State.QUEUED, State.RETRY_WAIT, State.PLANNED)  # due unless held
# Reads by state name their index on SQLite: with statistics (ANALYZE), SQLite otherwise walks
# every delivery in creation order to save the sort, 0.3 s at 1,000,000 rows for a few open ones.
_BY_STATE = "INDEXED BY ix_deliveries_state_created"


_MAX_ID = 2**63 - 1  # BIGINT / SQLite INTEGER
_MAX_TS = 253402300800.0  # 9999-12-31: past any creation time a store holds


def _cursor(text: str) -> tuple[float, int]:
    """`<created_at>:<id>` from a page link; anything else (tampered) is a StoreError."""
    ts_text, _, id_text = text.rpartition(":")
    try:
        ts, cid = float(ts_text), int(id_text) if id_text.isascii() else -1
    except ValueError:
        ts, cid = math.nan, -1
    if not (0 <= ts <= _MAX_TS and 0 < cid <= _MAX_ID):
        raise StoreError(f"bad page cursor {text[:40]!r}")
    return ts, cid
