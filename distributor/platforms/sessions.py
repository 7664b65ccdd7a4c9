"""Login sessions kept in the store, shared by every process that posts as an account.

`SessionCache` is what an adapter sees: `get`, `put`, `drop` by key. It opens (and migrates)
the store once per process, on its first use, and keeps it for every later call, because
opening and migrating costs more than a Bluesky post itself; `close_all` (also run at exit)
closes it. It never creates a missing SQLite post log, and never lets a store problem stop a
post: a failed read is a miss (the adapter logs in), a failed write is logged; after a failure
the store is closed and opened afresh on the next call.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributor.store.store import Store

log = logging.getLogger(__name__)
_CACHES: dict[str, SessionCache] = {}
_LOCK = threading.Lock()
_INHERITED: list[Store] = []  # a parent's stores after fork: never closed here (see _forked)


class SessionCache:
    """Sessions in the store at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Store | None = None
        self._lock = threading.Lock()

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

    def close(self) -> None:
        """Close the store (the next call opens it again)."""
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    @contextmanager
    def _open(self) -> Iterator[Store]:
        store = self._opened()
        try:
            yield store
        except Exception:
            self.close()  # a broken connection or a store swapped underneath: reopen next time
            raise

    def _opened(self) -> Store:
        from pathlib import Path

        from distributor.store import open_store

        with self._lock:
            if self._store is None:
                sqlite = self.url.startswith("sqlite:///") and self.url != "sqlite:///:memory:"
                if sqlite and not Path(self.url.removeprefix("sqlite:///")).is_file():
                    # no post log here yet (e.g. `check` before any publish): do not create one
                    raise FileNotFoundError("no post log yet")
                self._store = open_store(self.url)
            return self._store


def session_cache(url: str | None) -> SessionCache | None:
    """The process's cache for the store at `url` (None without a store URL)."""
    if not url:
        return None
    with _LOCK:
        return _CACHES.setdefault(url, SessionCache(url))


def close_all() -> None:
    """Close every cache's store (at exit; tests that want no open store left behind)."""
    with _LOCK:
        caches = list(_CACHES.values())
    for cache in caches:
        cache.close()


def _forked() -> None:
    # A child must not use, nor close, its parent's connections (closing a PostgreSQL one would
    # end the parent's session): keep them referenced, unused, and open fresh ones on demand.
    for cache in _CACHES.values():
        if cache._store is not None:
            _INHERITED.append(cache._store)
        cache._store, cache._lock = None, threading.Lock()


atexit.register(close_all)
os.register_at_fork(after_in_child=_forked)
