"""Statements built once per store and reused with bound parameters (the hot paths' SQL).

Building and hashing a fresh SQLAlchemy statement per call was a large share of a delivery's
CPU in the fan-out profile, and `store/hot.py` compiles each statement object once: so the
send and plan paths ask for their statements by key, and each is built on first use and kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any


class Statements:
    """The statement cache the store's mixins share (`Store.__init__` creates `_stmts`)."""

    _stmts: dict[Any, Any]

    def _stmt(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The statement kept under `key`, built by `build()` (which imports SQLAlchemy itself)
        on first use. Two threads may both build it (harmless: the same SQL); `setdefault`
        keeps the first one, so every caller then runs that one object."""
        stmt = self._stmts.get(key)
        if stmt is None:
            stmt = self._stmts.setdefault(key, build())
        return stmt
