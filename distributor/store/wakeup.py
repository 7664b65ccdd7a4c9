"""Wake an idle worker as soon as new work is committed, instead of at its next poll.

PostgreSQL: planning sends `NOTIFY distributor_work` in its transaction (delivered at commit);
an idle worker waits on `LISTEN distributor_work`. SQLite has no notifications across
processes, but `PRAGMA data_version` changes whenever another connection commits: reading it
costs microseconds, so an idle worker checks it every few milliseconds. Either way the poll
interval stays the upper bound (a missed wake-up only delays a send until the next poll), and a
stop request ends the wait at once.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import Any, Protocol

log = logging.getLogger("distributor.store")
CHANNEL = "distributor_work"
CHECK_EVERY = 0.01  # seconds between two looks (SQLite data_version, stop flag) while idle


class Waiter(Protocol):
    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Block up to `timeout` seconds or until `stop` is set; True when new work may have
        been committed."""
        ...

    def close(self) -> None: ...


class SleepWaiter:
    """No wake-up source: wait the whole poll interval (or until stopped)."""

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        stop.wait(timeout)
        return False

    def close(self) -> None:
        pass


class SQLiteWaiter:
    """Watches `PRAGMA data_version` on a connection of its own (reads take no lock)."""

    def __init__(self, path: str) -> None:
        import sqlite3

        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._version = self._read()

    def _read(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            version = self._read()
            if version != self._version:
                self._version = version
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            stop.wait(min(CHECK_EVERY, left))
        return False

    def close(self) -> None:
        self._conn.close()


class PostgresWaiter:
    """LISTENs on an autocommit connection of its own."""

    def __init__(self, url: str) -> None:
        import psycopg

        self._conn = psycopg.connect(url, autocommit=True)
        self._conn.execute(f"LISTEN {CHANNEL}")

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            # short slices, so a stop request is seen within a tenth of a second
            if any(True for _ in self._conn.notifies(timeout=min(0.1, left), stop_after=1)):
                return True
        return False

    def close(self) -> None:
        self._conn.close()


def waiter_for(url: str) -> Waiter:
    """The best wake-up source for the store at `url`; a plain wait when there is none (the
    worker still works, it only wakes at its poll interval)."""
    try:
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            return SQLiteWaiter(url.removeprefix("sqlite:///"))
        if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            return PostgresWaiter("postgresql://" + url.split("://", 1)[1])
    except Exception as exc:  # the store itself reports real connection problems
        log.debug("no wake-up source (%s); polling only", type(exc).__name__)
    return SleepWaiter()


def notify(conn: Any) -> None:
    """Inside a planning transaction: wake listening workers at commit (PostgreSQL only;
    SQLite workers see the commit itself)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_notify_statement())


@functools.cache
def _notify_statement() -> Any:
    """Built once: the planning transaction runs it compiled once (store/hot.py)."""
    import sqlalchemy as sa

    return sa.text(f"NOTIFY {CHANNEL}")
