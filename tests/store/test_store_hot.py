"""The send path's driver-level transactions (store/hot.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from store_helpers import T0, article, attempt, item

from distributor.errors import StoreError
from distributor.store.hot import Tx
from distributor.store.models import Outcome, State
from distributor.store.store import Store
from distributor.testing import FakeClock


def _send_one(store: Store, clock: FakeClock, n: int) -> list[int]:
    claimed = store.claim("w1", lease_seconds=60, limit=5)
    for c in claimed:
        store.mark_sending(c.delivery.id, c.fence, gap=1.0)
        store.finish(c.delivery.id, c.fence, Outcome.SENT, attempt(clock.now()), remote_id=f"r{n}")
    clock.advance(5)
    return [c.delivery.id for c in claimed]


def test_statements_are_compiled_once_however_many_deliveries(
    store: Store, clock: FakeClock
) -> None:
    """The cache is keyed by the statement object: a statement built per call would grow it
    (and leak) with every delivery."""
    for n in range(40):
        store.plan(article(f"https://news.example/a/{n}"), [item("masto", account="a1")])
    ids = _send_one(store, clock, 0)
    after_first = len(store._hot._compiled)
    for n in range(1, 20):
        ids += _send_one(store, clock, n)
    assert len(store._hot._compiled) == after_first
    sent = [store.get(i) for i in ids]
    assert len(sent) == 20
    assert all(d.state is State.SENT and d.attempts == 1 for d in sent)
    assert all(d.draft["text"] == "hello" for d in sent)  # the JSON column, read back
    assert [d.remote_id for d in sent] == [f"r{n}" for n in range(20)]


def test_a_statement_with_a_fixed_value_is_refused(store: Store) -> None:
    d = store._t["deliveries"]
    with pytest.raises(StoreError, match="fixed value"), store._hot.begin() as tx:
        tx.execute(sa.select(d.c.id).where(d.c.id == 5))


def test_a_driver_error_rolls_back_and_is_sqlalchemys(store: Store) -> None:
    """Nothing of a failed transaction stays, and callers see the SQLAlchemy path's error."""
    a = store._t["attempts"]
    insert = a.insert().values({c.key: sa.bindparam(c.key) for c in a.c if c.key != "id"})
    plan = store.plan(article(), [item("masto", account="a1")])
    good = dict(
        delivery_id=plan.created[0].id,
        n=1,
        started_at=0.0,
        finished_at=0.0,
        outcome="sent",
        error_kind=None,
        detail="",
        remote_id=None,
        latency_ms=1,
        worker="w",
    )
    with pytest.raises(sa.exc.IntegrityError), store._hot.begin() as tx:
        tx.execute(insert, good)
        tx.execute(insert, {**good, "delivery_id": 10**9})  # no such delivery
    with store._engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(a)).scalar() == 0


def test_a_missing_parameter_is_one_line(store: Store) -> None:
    stmt = store._due_page()
    with (
        pytest.raises(StoreError, match="misses its parameter '_ts'"),
        store._hot.begin() as tx,
    ):
        tx.execute(stmt, {"_limit": 1, "_offset": 0})


def test_claim_on_the_hot_path_keeps_one_per_account_and_the_fence(
    store: Store, clock: FakeClock
) -> None:
    for n in range(3):
        store.plan(
            article(f"https://news.example/b/{n}"),
            [item("masto", account="a1"), item("tg", account="a2")],
        )
    first = store.claim("w1", lease_seconds=60, limit=10, now=T0)
    assert sorted(c.delivery.account_key for c in first) == ["a1", "a2"]
    assert all(c.fence == 1 and c.delivery.state is State.CLAIMED for c in first)
    assert store.claim("w2", lease_seconds=60, limit=10, now=T0) == []  # both accounts busy


def test_a_claim_for_one_free_account_reads_a_short_page(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """49 accounts busy, the free one has many due posts: the claim reads a page as long as
    the claim, not a full page of that account's rows (5 ms per claim at 10k queued)."""
    items = [item(f"c{i}", account=f"a{i}") for i in range(50)]
    for n in range(30):
        store.plan(article(f"https://news.example/c/{n}"), items)
    busy = store.claim("w1", lease_seconds=600, limit=49, now=T0)
    assert len(busy) == 49
    read: list[int] = []
    due = store._due_page()
    real = Tx.execute

    def spy(self: Tx, stmt: Any, params: Any = None) -> Any:
        out = real(self, stmt, params)
        if stmt is due:
            read.append(len(out.all()))
        return out

    if store.dialect == "postgresql":  # its claim runs on SQLAlchemy's Connection
        monkeypatch.setattr(
            "sqlalchemy.engine.Connection.execute", _counting(read, due), raising=True
        )
    else:
        monkeypatch.setattr(Tx, "execute", spy)
    got = store.claim("w2", lease_seconds=600, limit=1, now=T0)
    assert [c.delivery.account_key for c in got] == ["a49"]
    assert sum(read) <= 2, read  # a full page would be 30 rows of a49


def _counting(read: list[int], due: Any) -> Any:
    import sqlalchemy.engine

    real = sqlalchemy.engine.Connection.execute

    def execute(self: Any, stmt: Any, *args: Any, **kw: Any) -> Any:
        out = real(self, stmt, *args, **kw)
        if stmt is due:
            rows = out.all()
            read.append(len(rows))
            return _Rows(rows)
        return out

    return execute


class _Rows:
    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def all(self) -> list[Any]:
        return self.rows


def test_sqlite_writers_of_one_process_queue_on_a_lock(store: Store) -> None:
    """On SQLite a send-path transaction holds the process's writer lock: the other send
    threads wait on it (woken at once) rather than in SQLite's sleep-and-retry busy handler."""
    import threading

    seen: list[bool] = []
    with store._hot.begin():
        other = threading.Thread(target=lambda: seen.append(store._hot._writer.acquire(False)))
        other.start()
        other.join()
    assert seen == [store.dialect != "sqlite"]  # PostgreSQL: row locks, no process lock


def test_sqlite_reads_do_not_wait_for_a_writer(store: Store) -> None:
    """Another process holds SQLite's write lock (a worker's commit, a long import): the
    store's reads (the desk, the log, `publish --wait`) still answer, from their snapshot."""
    import sqlite3
    import threading

    plan = store.plan(article(), [item("masto", account="a1")])
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    path = str(store._engine.url.database)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    found: list[State] = []
    try:
        reader = threading.Thread(target=lambda: found.append(store.get(plan.created[0].id).state))
        reader.start()
        reader.join(10)  # a read taking the write lock would wait the busy timeout (30 s)
        assert found == [State.QUEUED]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        reader.join()
