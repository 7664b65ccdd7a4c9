"""Online backup of the SQLite store (workers may keep running), and the PostgreSQL equivalent.

SQLite: `sqlite3.Connection.backup` copies the database in one step inside a read transaction;
in WAL mode writers are not blocked meanwhile and the copy is a consistent snapshot. The copy is
written next to the destination, checked (`PRAGMA integrity_check`), switched to a single file
(journal_mode DELETE) and only then renamed into place: never a half-written backup.
PostgreSQL: `pg_dump` does the same job better; `pg_dump_command` says how.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from distributor.errors import ConfigError, StoreError

SQLITE_PREFIX = "sqlite:///"
STEPS = ("copying", "checking integrity", "writing one file")  # told to `on_step`, in order


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int
    deliveries: int
    schema_version: int


def is_sqlite(url: str) -> bool:
    return url.startswith(SQLITE_PREFIX)


def pg_dump_command(url: str, dest: str) -> str:
    """The pg_dump line for a PostgreSQL store (the password left out: use ~/.pgpass)."""
    import re

    safe = re.sub(r"//([^/@:]*)(:[^/@]*)?@", r"//\1@", url).replace(
        "postgresql+psycopg", "postgresql"
    )
    return f"pg_dump --format=custom --file {shlex.quote(dest)} {shlex.quote(safe)}"


def _target(dest: str, force: bool, now: datetime) -> Path:
    path = Path(dest)
    if path.is_dir():
        path = path / f"distributor-{now:%Y%m%d-%H%M%S}.db"
    if path.exists() and not force:
        raise ConfigError(f"backup {path}: file exists (use --force to replace it)")
    if not path.parent.is_dir():
        raise ConfigError(f"backup {path}: folder {path.parent} does not exist")
    return path


def backup_sqlite(
    url: str, dest: str, *, force: bool = False, on_step: Callable[[str], None] | None = None
) -> BackupResult:
    """Copy the SQLite store at `url` to `dest` (a file, or a folder for a dated name);
    `on_step(what)` is called as each of the STEPS starts."""
    source = Path(url[len(SQLITE_PREFIX) :])
    if not source.is_file():
        raise StoreError(f"store {url}: no such database file")
    path = _target(dest, force, datetime.now(UTC))
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        _copy(source, partial, on_step or (lambda what: None))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return _describe(path)


def _copy(source: Path, partial: Path, on_step: Callable[[str], None]) -> None:
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        on_step(STEPS[0])
        src.backup(dst)  # all pages in one step: a consistent snapshot
        on_step(STEPS[1])
        problems = [r[0] for r in dst.execute("PRAGMA integrity_check")]
        if problems != ["ok"]:
            raise StoreError(f"backup of {source} failed its integrity check: {problems[0]}")
        on_step(STEPS[2])
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        dst.commit()
    except sqlite3.Error as exc:
        raise StoreError(f"backup of {source}: {exc}") from None
    finally:
        src.close()
        dst.close()
    with partial.open("rb") as f:
        os.fsync(f.fileno())


def _describe(path: Path) -> BackupResult:
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        deliveries = conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
        version = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
    except sqlite3.Error:  # an empty store that was never migrated
        deliveries, version = 0, 0
    finally:
        conn.close()
    return BackupResult(path, path.stat().st_size, int(deliveries), int(version))
