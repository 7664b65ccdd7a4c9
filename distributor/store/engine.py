"""Engines: SQLite with WAL, busy timeout and BEGIN IMMEDIATE; PostgreSQL via psycopg 3."""

from __future__ import annotations

from typing import Any

from distributor.errors import ConfigError, StoreError

BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str) -> Any:
    """An SQLAlchemy engine for `url`; ConfigError (exit 2, a typo) for an unsupported URL."""
    import sqlalchemy as sa

    if url.startswith("sqlite:///"):
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _sqlite_hooks(engine)
        return engine
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise StoreError(
                "PostgreSQL needs the 'postgres' extra: pip install 'distributor[postgres]'"
            ) from None
        driver_url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return sa.create_engine(driver_url, pool_pre_ping=True)
    raise ConfigError(f"store URL {url!r}: use sqlite:///FILE or postgresql://...")


def _sqlite_hooks(engine: Any) -> None:
    # pysqlite's own BEGIN handling is broken for our needs; the SQLAlchemy docs recipe turns it
    # off and emits BEGIN IMMEDIATE ourselves, so writers queue on busy_timeout instead of failing
    # with "database is locked" on lock upgrade.
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
