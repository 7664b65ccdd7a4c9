"""The post log read with the standard library's sqlite3: `distributor log` on an SQLite store.

A short command pays for its imports on every run, and SQLAlchemy's are about half of what
`distributor log` takes (docs/store.md). For the filters that command has, on an SQLite store
already at the current schema version, this reads the rows `Store.query` reads, in its order.
Anything else (PostgreSQL, a store to migrate, a text search) is None: open the Store instead.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import quote

from distributor.store.models import Delivery, Filters, to_ts


def deliveries(url: str, filters: Filters, limit: int | None) -> list[Delivery] | None:
    """The deliveries matching `filters`, newest first (at most `limit`), or None when the
    Store must answer. An SQLite error is None too: the Store reports it in its words."""
    from distributor.store.engine import BUSY_TIMEOUT_MS
    from distributor.store.migrations import LATEST

    path = url.removeprefix("sqlite:///")
    if path == url or path == ":memory:" or any(getattr(filters, f) for f in _STORE_ONLY):
        return None
    where, params = _where(filters)
    sql = f"SELECT * FROM deliveries{where} ORDER BY created_at DESC, id DESC"
    if limit is not None:
        sql, params = sql + " LIMIT ?", [*params, limit]
    try:
        # mode=rw: never create a file where there was none (the Store says there is no log)
        conn = sqlite3.connect(
            f"file:{quote(path)}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000
        )
    except sqlite3.Error:
        return None
    try:
        conn.row_factory = sqlite3.Row
        (version,) = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        if version != LATEST:
            return None  # the Store migrates it (or says it is newer than this distributor)
        return [_delivery(r) for r in conn.execute(sql, params)]
    except sqlite3.Error:
        return None
    finally:
        conn.close()


# The filters only the Store applies; every other field of Filters is one _where applies.
_STORE_ONLY = ("search",)


def _where(f: Filters) -> tuple[str, list[Any]]:
    """`QueriesMixin._conditions` for every filter but `search`, as SQL text and parameters."""
    found: list[str] = []
    params: list[Any] = []

    def add(sql: str, *values: Any) -> None:
        found.append(sql)
        params.extend(values)

    if f.states:
        add(f"state IN ({_marks(f.states)})", *(s.value for s in f.states))
    if f.channel:
        add("channel = ?", f.channel)
    if f.channels:
        add(f"channel IN ({_marks(f.channels)})", *f.channels)
    if f.article_id:
        add("article_id = ?", f.article_id)
    if f.since:
        add("created_at >= ?", to_ts(f.since))
    if f.platform:
        add("platform = ?", f.platform)
    if f.until:
        add("created_at < ?", to_ts(f.until))
    return (" WHERE " + " AND ".join(found) if found else ""), params


def _marks(values: tuple[Any, ...]) -> str:
    return ", ".join(["?"] * len(values))


class _Row:
    """A sqlite3 row as `rows.delivery` reads a SQLAlchemy one (the JSON column decoded)."""

    def __init__(self, row: sqlite3.Row) -> None:
        self._mapping = dict(zip(row.keys(), row, strict=True))
        self._mapping["draft"] = json.loads(self._mapping["draft"])


def _delivery(row: sqlite3.Row) -> Delivery:
    from distributor.store import rows

    return rows.delivery(_Row(row))
