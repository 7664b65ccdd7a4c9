"""Login sessions kept in the store, shared by every process that posts as an account.

`SessionCache` is what an adapter sees: `get`, `put`, `drop` by key. It opens the store only
for those calls (at log-in and refresh, rarely) and closes it again, never creates a missing
SQLite post log, and never lets a store problem stop a post: a failed read is a miss (the
adapter logs in), a failed write is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributor.store.store import Store

log = logging.getLogger(__name__)
_CACHES: dict[str, SessionCache] = {}
_LOCK = threading.Lock()


class SessionCache:
    """Sessions in the store at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, key: str) -> dict[str, str] | None:
        try:
            with self._open() as store:
                return store.load_session(key)
        except FileNotFoundError:
            return None
        except Exception as exc:  # no store, no table yet, locked: log in instead
            log.warning("session cache unavailable (%s): logging in", type(exc).__name__)
            return None

    def put(self, key: str, data: dict[str, str]) -> None:
        try:
            with self._open() as store:
                store.save_session(key, data)
        except FileNotFoundError:
            return
        except Exception as exc:
            log.warning("session not kept for other processes (%s)", type(exc).__name__)

    def drop(self, key: str) -> None:
        try:
            with self._open() as store:
                store.drop_session(key)
        except FileNotFoundError:
            return
        except Exception as exc:
            log.warning("stale session not dropped (%s)", type(exc).__name__)

    @contextmanager
    def _open(self) -> Iterator[Store]:
        from pathlib import Path

        from distributor.store import open_store

        sqlite = self.url.startswith("sqlite:///") and self.url != "sqlite:///:memory:"
        if sqlite and not Path(self.url.removeprefix("sqlite:///")).is_file():
            # no post log here yet (e.g. `check` before any publish): do not create one
            raise FileNotFoundError("no post log yet")
        store = open_store(self.url)
        try:
            yield store
        finally:
            store.close()


def session_cache(url: str | None) -> SessionCache | None:
    """The process's cache for the store at `url` (None without a store URL)."""
    if not url:
        return None
    with _LOCK:
        return _CACHES.setdefault(url, SessionCache(url))
