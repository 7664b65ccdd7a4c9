"""The post log and outbox: `open_store(url)` -> Store (SQLite or PostgreSQL; see docs/store.md).

Importing this package is cheap: SQLAlchemy loads only when a store is opened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from distributor.clock import SYSTEM, Clock

if TYPE_CHECKING:
    from distributor.store.store import Store

DEFAULT_URL = "sqlite:///distributor.db"


def open_store(
    url: str = DEFAULT_URL, *, clock: Clock = SYSTEM, migrate: bool = True, pool: int | None = None
) -> Store:
    """Open (and by default migrate) the store at `url`. `pool`: the PostgreSQL connections
    kept for reuse, at least the threads that use the store at once (store/engine.py)."""
    from distributor.store.engine import make_engine
    from distributor.store.migrations import migrate as run_migrations
    from distributor.store.schema import build
    from distributor.store.store import Store

    engine = make_engine(url, pool=pool)
    md = build()
    if migrate:
        _guard(lambda: run_migrations(engine, md), url)
    return Store(engine, md, clock)


def migrate_store(url: str) -> tuple[int, int]:
    """Apply pending migrations at `url`; returns (version before, version after)."""
    from distributor.store.engine import make_engine
    from distributor.store.migrations import migrate
    from distributor.store.schema import build

    engine = make_engine(url)
    result: list[tuple[int, int]] = []
    try:
        _guard(lambda: result.append(migrate(engine, build())), url)
    finally:
        engine.dispose()
    return result[0]


def _guard(fn: Callable[[], object], url: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from distributor.errors import StoreError
    from distributor.store.engine import safe_url

    try:
        fn()
    except SQLAlchemyError as exc:
        raise StoreError(
            f"store {safe_url(url)}: {exc.__class__.__name__}: "
            f"{str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}"
        ) from None
