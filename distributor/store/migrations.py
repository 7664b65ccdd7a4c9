"""Versioned schema migrations with a `schema_version` table; safe to run while workers run."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from distributor.errors import StoreError

_LOCK_ID = 7_240_001  # pg advisory lock key for migrations


def _v1(conn: Any, md: Any) -> None:
    md.create_all(conn, checkfirst=True)


def _v2(conn: Any, md: Any) -> None:
    # A fresh store got both from step 1's create_all already (md is the latest schema).
    import sqlalchemy as sa

    md.tables["alerts"].create(conn, checkfirst=True)  # with its indexes
    if "stopped_at" not in {c["name"] for c in sa.inspect(conn).get_columns("workers")}:
        conn.execute(sa.text("ALTER TABLE workers ADD COLUMN stopped_at FLOAT"))


def _v3(conn: Any, md: Any) -> None:
    md.tables["feeds"].create(conn, checkfirst=True)


def _v4(conn: Any, md: Any) -> None:
    import sqlalchemy as sa

    # A fresh store got the column from step 1's create_all already.
    if "response" not in {c["name"] for c in sa.inspect(conn).get_columns("webhook_ids")}:
        conn.execute(sa.text("ALTER TABLE webhook_ids ADD COLUMN response JSON"))


def _v5(conn: Any, md: Any) -> None:
    import sqlalchemy as sa

    md.tables["channel_gaps"].create(conn, checkfirst=True)
    have = {c["name"] for c in sa.inspect(conn).get_columns("deliveries")}
    false = "false" if conn.dialect.name == "postgresql" else "0"
    for name, ddl in (
        ("priority", "INTEGER NOT NULL DEFAULT 0"),
        ("embargo_until", "FLOAT"),
        ("held", f"BOOLEAN NOT NULL DEFAULT {false}"),
    ):
        if name not in have:  # a fresh store got them from step 1's create_all already
            conn.execute(sa.text(f"ALTER TABLE deliveries ADD COLUMN {name} {ddl}"))


def _v6(conn: Any, md: Any) -> None:
    (index,) = [i for i in md.tables["deliveries"].indexes if i.name == "ix_deliveries_claim"]
    index.create(conn, checkfirst=True)  # a fresh store got it from step 1's create_all


def _v7(conn: Any, md: Any) -> None:
    md.tables["sessions"].create(conn, checkfirst=True)


def _v8(conn: Any, md: Any) -> None:
    md.tables["admin_sessions"].create(conn, checkfirst=True)  # with its index


def _v9(conn: Any, md: Any) -> None:
    import sqlalchemy as sa

    (index,) = [i for i in md.tables["articles"].indexes if i.name == "ix_articles_first_seen"]
    index.create(conn, checkfirst=True)  # a fresh store got it (and the columns) from step 1
    have = {c["name"] for c in sa.inspect(conn).get_columns("accounts")}
    for name, ddl in (("handle", "TEXT"), ("profile_url", "TEXT"), ("checked_at", "FLOAT")):
        if name not in have:
            conn.execute(sa.text(f"ALTER TABLE accounts ADD COLUMN {name} {ddl}"))


def _v10(conn: Any, md: Any) -> None:
    from distributor.store.search import create_index

    create_index(conn)  # not in md: FTS5 tables and triggers, pg_trgm indexes


def _v11(conn: Any, md: Any) -> None:
    import sqlalchemy as sa

    # Nothing reads deliveries by (account, state), but every state change moved the row in
    # that index: one page per account in each commit (a claim of ten accounts wrote twenty
    # more pages), which made a delivery about 10 % dearer at 100,000 queued than at 1,000.
    conn.execute(sa.text("DROP INDEX IF EXISTS ix_deliveries_account"))


# (version, description, step). Append only; never edit a released step.
MIGRATIONS: list[tuple[int, str, Callable[[Any, Any], None]]] = [
    (1, "initial post log", _v1),
    (2, "alert incidents, clean worker stops", _v2),
    (3, "watched feeds", _v3),
    (4, "webhook answers for replays", _v4),
    (5, "scheduling: priority, embargo, hold, channel spacing", _v5),
    (6, "claim index in queue order over claimable rows", _v6),
    (7, "platform login sessions shared by processes", _v7),
    (8, "admin UI sign-ins, revocable", _v8),
    (9, "article-centred admin log, account handles from check", _v9),
    (10, "text search index: SQLite FTS5 trigram, PostgreSQL pg_trgm", _v10),
    (11, "no per-account index on deliveries (written on every state change, never read)", _v11),
]
LATEST = MIGRATIONS[-1][0]


def current_version(conn: Any) -> int:
    import sqlalchemy as sa

    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    return int(
        conn.execute(sa.text("SELECT COALESCE(MAX(version), 0) FROM schema_version")).scalar()
    )


def migrate(engine: Any, md: Any) -> tuple[int, int]:
    """Apply pending migrations in one transaction; returns (before, after).

    SQLite's BEGIN IMMEDIATE and PostgreSQL's advisory transaction lock serialise concurrent
    runs; each step is transactional DDL, so workers see either the old or the new schema.
    """
    import sqlalchemy as sa

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
        before = current_version(conn)
        if before > LATEST:
            raise StoreError(
                f"store schema version {before} is newer than this distributor ({LATEST})"
            )
        vt = md.tables["schema_version"]
        if before == 0:
            vt.create(conn, checkfirst=True)
        for version, _desc, step in MIGRATIONS:
            if version > before:
                step(conn, md)
                conn.execute(vt.insert().values(version=version, applied_at=time.time()))
    return before, LATEST
