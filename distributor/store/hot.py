"""The send path's transactions on the driver connection, with statements compiled once.

A delivery costs three short transactions (claim, `sending`, outcome). Through SQLAlchemy's
Connection each statement also pays for a connection wrapper, transaction objects, event
dispatch, a cache key, parameter and result processing: in the fan-out profile that was several
times the cost of the statements themselves (bench/profile_fanout.py). Here the same statements,
still built with SQLAlchemy from the one schema, are compiled once per store and run on the
pooled driver connection (`engine.raw_connection()`: the pool, its connect hooks and PostgreSQL's
pre-ping still apply). Only statements built once with named `bindparam`s may run here; one
carrying literal values is refused, since compiling it once would freeze its values.

Errors keep the Store's contract: a driver error is raised as SQLAlchemy's wrapped `DBAPIError`
(what the SQLAlchemy path raises), and a full disk as `StoreFull`, as the engine's
`handle_error` hook does for every other statement (store/engine.py).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from distributor.errors import StoreError
from distributor.store.group import GroupCommit

T = TypeVar("T")

Processor = Callable[[Any], Any] | None
Converter = tuple[str, Callable[[Any], Any]]


class Row(dict[str, Any]):
    """A result row: by name (`row.fence`, `row["fence"]`) and as `row._mapping`, like
    SQLAlchemy's rows, so the store's row converters take either."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return self


@dataclass
class Compiled:
    """One statement for one dialect: its SQL, how to order and convert its parameters, and
    how to convert its result columns."""

    sql: str
    order: tuple[str, ...] | None  # positional drivers (SQLite's qmark): the parameters' order
    binds: dict[str, Processor]
    types: tuple[tuple[str, Any], ...]  # result columns: name, the type's dialect implementation
    dialect: Any
    keep: Any  # the statement itself: its id() keys the cache, so it must stay alive
    # from the first result's cursor: column names, and the columns that need converting
    columns: tuple[tuple[str, ...], tuple[Converter, ...]] | None = None

    def params(self, given: Mapping[str, Any]) -> Any:
        try:
            values = {
                k: (p(given[k]) if p is not None else given[k]) for k, p in self.binds.items()
            }
        except KeyError as exc:
            raise StoreError(f"store statement misses its parameter {exc.args[0]!r}") from None
        return tuple(values[k] for k in self.order) if self.order is not None else values

    def rows(self, cursor: Any) -> list[Row]:
        if cursor.description is None:
            return []
        if self.columns is None:  # result processors depend on the driver's type codes
            self.columns = self._processors(cursor.description)
        names, convert = self.columns
        out = [Row(zip(names, r, strict=True)) for r in cursor.fetchall()]
        for row in out:
            for name, proc in convert:
                if row[name] is not None:
                    row[name] = proc(row[name])
        return out

    def _processors(self, description: Any) -> tuple[tuple[str, ...], tuple[Converter, ...]]:
        names = tuple(d[0] for d in description)
        if len(self.types) != len(description):  # a text() statement: no types known
            return names, ()
        procs = (
            (n, impl.result_processor(self.dialect, d[1]))
            for (n, impl), d in zip(self.types, description, strict=True)
        )
        return tuple(n for n, _ in self.types), tuple((n, p) for n, p in procs if p is not None)


class Result:
    """What `Tx.execute` returns: the rows, with the few accessors the store uses."""

    def __init__(self, rows: list[Row]) -> None:
        self._rows = rows

    def all(self) -> list[Row]:
        return self._rows

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row:
        if len(self._rows) != 1:
            raise StoreError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self) -> Any:
        return next(iter(self._rows[0].values())) if self._rows else None

    def scalars(self) -> list[Any]:
        return [next(iter(r.values())) for r in self._rows]

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)


class Tx:
    """One transaction on a driver connection; `execute(stmt, params)` like a Connection's."""

    def __init__(self, hot: Hot, cursor: Any) -> None:
        self.hot, self.cursor, self.dialect = hot, cursor, hot.dialect

    def execute(
        self, stmt: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> Result:
        """`stmt` with `params`; with a list of them, once per item in one driver call (an
        executemany, returning no rows), as a SQLAlchemy Connection does."""
        compiled = self.hot.compiled(stmt)
        if isinstance(params, Sequence):
            self.cursor.executemany(compiled.sql, [compiled.params(p) for p in params])
            return Result([])
        self.cursor.execute(compiled.sql, compiled.params(params or {}))
        return Result(compiled.rows(self.cursor))


class Hot:
    """Compiled statements and driver-level transactions for one engine."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.sqlite = engine.dialect.name == "sqlite"
        self._compiled: dict[int, Compiled] = {}
        self._lock = threading.Lock()
        # SQLite has one writer at a time anyway; this process's send threads queue here and
        # are woken as soon as the lock is free, instead of in SQLite's sleep-and-retry busy
        # handler (other processes still meet that one). In the fan-out benchmark those retries
        # cost about a quarter of a delivery's CPU. Re-entrant: a nested transaction by mistake
        # fails on SQLite's busy timeout instead of hanging.
        self._writer = threading.RLock()
        self._group = GroupCommit(self._batch)

    def compiled(self, stmt: Any) -> Compiled:
        found = self._compiled.get(id(stmt))
        if found is None:
            with self._lock:
                found = self._compiled[id(stmt)] = _compile(stmt, self.dialect)
        return found

    @contextlib.contextmanager
    def begin(self) -> Iterator[Tx]:
        """A transaction (SQLite: BEGIN IMMEDIATE, as the engine's hook does) committed at the
        end, rolled back on any error."""
        with self._writer if self.sqlite else contextlib.nullcontext():
            yield from self._transaction()

    def run(self, job: Callable[[Tx], T]) -> T:
        """`job(tx)` in a write transaction, committed before this returns. On SQLite it shares
        the transaction with the other threads' writes waiting at the time (store/group.py)."""
        if not self.sqlite:
            with self.begin() as tx:
                return job(tx)
        return self._group.run(job)

    def _batch(self, slots: list[Any]) -> None:
        """Run the slots' jobs in one transaction. Jobs almost never fail, so they first run
        without savepoints (two statements fewer per write, each releasing and taking back the
        GIL); if one raises, everything is rolled back and they run again, each in a savepoint,
        so only the failing one fails. If the batch itself fails (its commit, the connection),
        every job runs alone, so each thread sees its own outcome."""
        if len(slots) > 1:
            done = self._together(slots)
            if done or (done is False and self._in_savepoints(slots)):
                return
        for slot in slots:
            slot.error = None
            try:
                with self.begin() as tx:
                    slot.result = slot.job(tx)
            except Exception as exc:
                slot.error = exc

    def _together(self, slots: list[Any]) -> bool | None:
        """Every job in one transaction: True once committed, False when a job raised (all
        rolled back), None when the transaction itself failed."""
        raised = False
        try:
            with self.begin() as tx:
                for slot in slots:
                    try:
                        slot.result = slot.job(tx)
                    except Exception:
                        raised = True
                        raise
            return True
        except Exception:
            return False if raised else None

    def _in_savepoints(self, slots: list[Any]) -> bool:
        """Every job in a savepoint of its own in one transaction: True once committed."""
        try:
            with self.begin() as tx:
                for slot in slots:
                    _in_savepoint(tx, slot, self._translated)
            return True
        except Exception:
            return False

    def _transaction(self) -> Iterator[Tx]:
        raw = self._checkout()
        try:
            cursor = raw.cursor()
            try:
                if self.sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                yield Tx(self, cursor)
                raw.commit()
            except BaseException as exc:
                self._discard_if_gone(raw, exc)
                _rollback(raw)
                translated = self._translated(exc)
                if translated is exc:
                    raise
                raise translated from None
            finally:
                cursor.close()
        finally:
            raw.close()  # back to the pool

    def _discard_if_gone(self, raw: Any, exc: BaseException) -> None:
        """A lost server connection is not given back to the pool (SQLAlchemy's own path
        invalidates it the same way)."""
        if isinstance(exc, self.dialect.loaded_dbapi.Error) and self.dialect.is_disconnect(
            exc, raw.dbapi_connection, None
        ):
            raw.invalidate(exc)

    def _checkout(self) -> Any:
        return self.engine.raw_connection()  # connect errors: already SQLAlchemy's (its pool)

    def _translated(self, exc: BaseException) -> BaseException:
        """A driver error as the SQLAlchemy path would raise it; anything else unchanged."""
        import sqlalchemy as sa

        from distributor.errors import StoreFull
        from distributor.store.engine import full_disk

        dbapi = self.dialect.loaded_dbapi
        if not isinstance(exc, dbapi.Error):
            return exc
        full = full_disk(exc, str(self.engine.url))
        if full is not None:
            return StoreFull(full)
        wrapped: BaseException = sa.exc.DBAPIError.instance(None, None, exc, dbapi.Error)
        return wrapped


def _in_savepoint(tx: Tx, slot: Any, translated: Callable[[BaseException], BaseException]) -> None:
    """One write of a batch: its error undoes only its own changes."""
    tx.cursor.execute("SAVEPOINT job")
    try:
        slot.result = slot.job(tx)
    except Exception as exc:
        tx.cursor.execute("ROLLBACK TO job")  # raises if the connection is gone: batch fails
        slot.error = translated(exc)
    tx.cursor.execute("RELEASE job")


def _rollback(raw: Any) -> None:
    with contextlib.suppress(Exception):  # the connection may be gone; the pool discards it
        raw.rollback()


def _compile(stmt: Any, dialect: Any) -> Compiled:
    compiled = stmt.compile(dialect=dialect)
    binds: dict[str, Processor] = {}
    for name, bind in compiled.binds.items():
        if (bind.value is not None and not bind.required) or bind.expanding:
            raise StoreError(f"store statement with a fixed value for {name!r}: use a bindparam")
        binds[name] = bind.type.dialect_impl(dialect).bind_processor(dialect)
    types = tuple(
        (c.key, c.type.dialect_impl(dialect)) for c in getattr(stmt, "exported_columns", ())
    )
    order = tuple(compiled.positiontup) if compiled.positiontup is not None else None
    return Compiled(str(compiled), order, binds, types, dialect, stmt)
