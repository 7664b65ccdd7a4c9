"""Statements built once per store and reused with bound parameters (the hot paths' SQL).

Building and hashing a fresh SQLAlchemy statement per call was a large share of a delivery's
CPU in the fan-out profile, and `store/hot.py` compiles each statement object once: so the
send and plan paths ask for their statements by key, and each is built on first use and kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
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


def numbered_binds(prefix: str, n: int, type_: Any) -> list[Any]:
    """`n` bind parameters `<prefix>0` .. for an IN list of a statement built once per length
    (hot.py refuses SQLAlchemy's expanding binds: a statement compiled once must not grow)."""
    import sqlalchemy as sa

    return [sa.bindparam(f"{prefix}{i}", type_=type_) for i in range(n)]


def numbered(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of `numbered_binds(prefix, len(values), ...)`."""
    return {f"{prefix}{i}": v for i, v in enumerate(values)}
