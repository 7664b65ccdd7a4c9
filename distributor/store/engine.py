"""Engines: SQLite with WAL, busy timeout and BEGIN IMMEDIATE; PostgreSQL via psycopg 3."""

from __future__ import annotations

from typing import Any

from distributor.errors import ConfigError, StoreError, StoreFull

BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "distributor_read_only"  # execution option of the store's read-only engine
FULL_BELOW_BYTES = 1 << 20  # free space under which an I/O error means "disk full"
DEFAULT_POOL = 5  # SQLAlchemy's own: plenty for a command that uses the store from one thread
# Connections opened past the pool for a burst; each is closed when it is given back, so a pool
# smaller than the threads using it reconnects all the time (docs/operations.md).
POOL_OVERFLOW = 10


def make_engine(url: str, *, pool: int | None = None) -> Any:
    """An SQLAlchemy engine for `url`; ConfigError (exit 2, a typo) for an unsupported URL.

    `pool`: the connections to PostgreSQL kept open for reuse, one per thread that uses the
    store at once (`distributor worker`: its sends plus its own threads); default DEFAULT_POOL.
    """
    import sqlalchemy as sa

    if url.startswith("sqlite:///"):
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _sqlite_hooks(engine)
        _sqlite_table_hints()
        _full_disk_hook(engine, url)
        return engine
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise StoreError(
                "PostgreSQL needs the 'postgres' extra: "
                "pip install 'newsroom-distributor[postgres]'"
            ) from None
        driver_url = "postgresql+psycopg://" + url.split("://", 1)[1]
        engine = sa.create_engine(
            driver_url,
            pool_pre_ping=True,
            pool_size=pool or DEFAULT_POOL,
            max_overflow=POOL_OVERFLOW,
        )
        _full_disk_hook(engine, url)
        return engine
    raise ConfigError(f"store URL {url!r}: use sqlite:///FILE or postgresql://...")


def _sqlite_table_hints() -> None:
    """Let `select().with_hint(table, "INDEXED BY ix", dialect_name="sqlite")` render: SQLite
    supports it, SQLAlchemy's SQLite compiler ignores table hints. The claim names its index
    this way (store/claim.py), and the admin's article log its per-article probe (store/desk.py)."""
    from sqlalchemy.dialects.sqlite.base import SQLiteCompiler

    def hint(self: Any, table: Any, text: str | None) -> str | None:
        return text

    SQLiteCompiler.get_from_hint_text = hint  # type: ignore[method-assign]


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
        # A store's reads (Store._reader) begin deferred: in WAL mode they read a snapshot and
        # need no write lock, so the desk, `publish --wait` and the log do not queue behind
        # (or hold up) the workers' writes.
        read = conn.get_execution_options().get(READ_ONLY)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def safe_url(url: str) -> str:
    """The URL without its password."""
    import re

    return re.sub(r"//[^/@]*@", "//***@", url)


def _full_disk_hook(engine: Any, url: str) -> None:
    """A full disk is a StoreFull (one line, exit 3), whichever statement ran into it."""
    from sqlalchemy import event

    @event.listens_for(engine, "handle_error")
    def _full(ctx: Any) -> None:
        message = full_disk(ctx.original_exception, url)
        if message is not None:
            raise StoreFull(message) from None


def full_disk(exc: BaseException | None, url: str) -> str | None:
    """The StoreFull message when `exc` means the store's disk is full, else None (the send
    path's driver-level transactions ask this too: store/hot.py)."""
    if not (is_disk_full(exc) or _io_error_on_full_disk(exc, _sqlite_folder(url))):
        return None
    first = (str(exc).strip().splitlines() or ["no space left"])[0]
    return (
        f"store {safe_url(url)}: the disk is full ({first}); "
        "nothing of this change was saved: free space, then run it again"
    )


def is_disk_full(exc: BaseException | None) -> bool:
    """SQLITE_FULL, PostgreSQL's disk_full (SQLSTATE 53100) or ENOSPC, anywhere in the chain."""
    import errno

    seen = 0
    while exc is not None and seen < 10:
        if (
            getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL"
            or getattr(exc, "sqlstate", "") == "53100"
        ):
            return True
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _sqlite_folder(url: str) -> str | None:
    import os

    if not url.startswith("sqlite:///"):
        return None
    return os.path.dirname(os.path.abspath(url.removeprefix("sqlite:///"))) or "."


def _io_error_on_full_disk(exc: BaseException | None, folder: str | None) -> bool:
    """SQLite reports ENOSPC on its WAL index (`-shm`) as SQLITE_IOERR_*: a "disk I/O error"
    while the database's file system has no room left is a full disk as well."""
    import shutil

    name = str(getattr(exc, "sqlite_errorname", ""))
    if folder is None or not name.startswith("SQLITE_IOERR"):
        return False
    try:
        return shutil.disk_usage(folder).free < FULL_BELOW_BYTES
    except OSError:
        return False
