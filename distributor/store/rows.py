"""Row <-> dataclass conversion and the small helpers every store module shares."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from distributor.store.models import Attempt, Delivery, Outcome, State, from_ts


def _dt(ts: Any) -> datetime:
    out = from_ts(ts)
    assert out is not None
    return out


def delivery(row: Any, history: tuple[Attempt, ...] = ()) -> Delivery:
    m = row._mapping
    return Delivery(
        id=m["id"],
        article_id=m["article_id"],
        channel=m["channel"],
        platform=m["platform"],
        account_key=m["account_key"],
        generation=m["generation"],
        state=State(m["state"]),
        draft=dict(m["draft"]),
        idem_key=m["idem_key"],
        not_before=from_ts(m["not_before"]),
        lease_owner=m["lease_owner"],
        lease_until=from_ts(m["lease_until"]),
        fence=m["fence"],
        remote_id=m["remote_id"],
        remote_url=m["remote_url"],
        last_error=m["last_error"],
        error_kind=m["error_kind"],
        attempts=m["attempts"],
        created_at=_dt(m["created_at"]),
        updated_at=_dt(m["updated_at"]),
        sent_at=from_ts(m["sent_at"]),
        history=history,
        priority=m["priority"],
        embargo_until=from_ts(m["embargo_until"]),
        held=bool(m["held"]),
    )


def attempt(row: Any) -> Attempt:
    m = row._mapping
    return Attempt(
        outcome=Outcome(m["outcome"]),
        started_at=_dt(m["started_at"]),
        finished_at=_dt(m["finished_at"]),
        worker=m["worker"],
        error_kind=m["error_kind"],
        detail=m["detail"],
        remote_id=m["remote_id"],
        latency_ms=m["latency_ms"],
        n=m["n"],
    )


def insert_ignore(conn: Any, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING for the dialect of `conn` (a connection or engine)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()
