"""SQLite's WAL checkpoints on a thread of their own, for the long-running processes.

SQLite copies the write-ahead log back into the database file (a checkpoint) inside whichever
commit makes the log pass 1,000 pages, and syncs the file there: about 10 ms on the commit's
thread. For `serve` that is the webhook writer with a batch waiting to be answered, for a
`worker` the group commit with every send thread's write waiting on it (store/group.py).
Single-threaded, 3% of the webhook's two-request batches took over 5 ms with those
checkpoints and 0.1% without (bench/NOTES.md, 2026-12-03).

`Checkpoints` runs a PASSIVE checkpoint every `every` seconds on a thread of its own (it
never blocks a writer or a reader), and raises this process's own threshold to
`FALLBACK_PAGES`, so a commit checkpoints only if the thread has stopped keeping up. Other
processes on the same file keep SQLite's default.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger("distributor.store")
EVERY = 0.5  # seconds between checkpoints
FALLBACK_PAGES = 10_000  # a commit checkpoints itself past this (about 40 MB of log)
_MARK = "distributor_checkpoints"  # on a pooled connection's record: threshold already set


class Checkpoints:
    """The checkpoint thread of one SQLite engine; `stop()` ends it (idempotent)."""

    def __init__(self, engine: Any, every: float = EVERY) -> None:
        from sqlalchemy import event

        self.engine, self.every = engine, every
        self._stop = threading.Event()
        self.last: tuple[int, int, int] | None = None  # the last checkpoint's answer
        event.listen(engine, "checkout", _raise_threshold)
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.last = self.checkpoint()
            except Exception as exc:  # the commits' own threshold still bounds the log
                log.warning("WAL checkpoint failed: %s", type(exc).__name__)

    def checkpoint(self) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (busy, pages in the log, pages copied)."""
        raw = self.engine.raw_connection()
        try:
            row = raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return int(row[0]), int(row[1]), int(row[2])
        finally:
            raw.close()


def _raise_threshold(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    """Once per pooled connection of this process: checkpoint in a commit only as a fallback."""
    if not record.info.get(_MARK):
        dbapi_conn.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
        record.info[_MARK] = True
