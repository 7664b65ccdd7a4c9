"""Group commit of the send path's writes on SQLite (store/group.py): writes waiting together
share one transaction, and each still gets its own outcome."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from store_helpers import T0, article, attempt, item

from distributor.errors import StaleLease, StoreError
from distributor.store import group
from distributor.store.group import GroupCommit
from distributor.store.models import Claimed, Outcome, State
from distributor.store.store import Store

# A failure only at COMMIT: a deferred foreign key broken by an attempt whose detail says so.
POISON = """
CREATE TABLE poison (article_id TEXT REFERENCES articles(id) DEFERRABLE INITIALLY DEFERRED);
CREATE TRIGGER fails_at_commit AFTER INSERT ON attempts WHEN NEW.detail = 'fails at commit'
BEGIN INSERT INTO poison VALUES ('no such article'); END;
"""


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """SQLite only: PostgreSQL runs each write in its own transaction (store/hot.py)."""
    return f"sqlite:///{tmp_path / 'distributor.db'}"


def _claimed(store: Store, n: int) -> list[Claimed]:
    for k in range(n):
        store.plan(article(f"https://news.example/a/{k}"), [item("masto", account=f"a{k}")])
    claimed = store.claim("w1", lease_seconds=60, limit=n)
    assert len(claimed) == n
    return claimed


def _statements(store: Store) -> list[str]:
    """Every statement SQLite runs for the store from now on (its trace callback)."""
    seen: list[str] = []

    def traced(dbapi: Any, *_: Any) -> None:
        dbapi.set_trace_callback(seen.append)

    sa.event.listen(store._engine, "checkout", traced)
    return seen


def _together(store: Store, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run `calls` on threads of their own while a write holds the line, so that they all wait
    and then run as one batch; each call's result or exception."""
    held, release = threading.Event(), threading.Event()

    def hold(tx: Any) -> None:
        held.set()
        release.wait(10)

    holder = threading.Thread(target=store._hot.run, args=(hold,))
    holder.start()
    assert held.wait(10)
    out: list[Any] = [None] * len(calls)

    def call(k: int) -> None:
        try:
            out[k] = calls[k]()
        except Exception as exc:
            out[k] = exc

    threads = [threading.Thread(target=call, args=(k,)) for k in range(len(calls))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(store._hot._group._line) < len(calls) and time.monotonic() < deadline:
        time.sleep(0.001)
    release.set()
    for t in [holder, *threads]:
        t.join(10)
    return out


def test_writes_waiting_together_share_one_commit(store: Store) -> None:
    claimed = _claimed(store, 5)
    statements = _statements(store)
    calls = [lambda c=c: store.mark_sending(c.delivery.id, c.fence) for c in claimed]
    out = _together(store, calls)
    assert [d.state for d in out] == [State.SENDING] * 5
    assert [s for s in statements if s.startswith(("BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",  # the write holding the line
        "COMMIT",
        "BEGIN IMMEDIATE",  # the five that waited for it
        "COMMIT",
    ]
    assert not [s for s in statements if s.startswith("SAVEPOINT")]  # none failed: none needed
    assert {store.get(c.delivery.id).state for c in claimed} == {State.SENDING}


def test_a_write_failing_in_a_batch_fails_alone(store: Store) -> None:
    """A stale fence, and a write that changed a row before it raised: only their own changes
    are undone, and the writes beside them in the batch are committed."""
    claimed = _claimed(store, 4)
    stale, half, good = claimed[0], claimed[1], claimed[2:]
    d = store._t["deliveries"]
    note = d.update().where(d.c.id == sa.bindparam("_id")).values(last_error=sa.bindparam("_e"))

    def half_done(tx: Any) -> None:
        tx.execute(note, {"_id": half.delivery.id, "_e": "written, then undone"})
        raise ValueError("a write that fails after changing a row")

    calls: list[Callable[[], Any]] = [
        lambda: store.mark_sending(stale.delivery.id, stale.fence + 1),
        lambda: store._hot.run(half_done),
        *[lambda c=c: store.mark_sending(c.delivery.id, c.fence) for c in good],
    ]
    statements = _statements(store)
    out = _together(store, calls)
    assert statements.count("ROLLBACK") == 1  # the batch without savepoints, undone whole
    assert statements.count("SAVEPOINT job") == 4  # then each write in its own
    assert isinstance(out[0], StaleLease) and "stale" in str(out[0])
    assert isinstance(out[1], ValueError)
    assert [o.state for o in out[2:]] == [State.SENDING] * 2
    assert store.get(half.delivery.id).last_error is None
    assert store.get(stale.delivery.id).state is State.CLAIMED


def test_a_batch_failing_at_commit_runs_its_writes_one_by_one(store: Store) -> None:
    """Nothing of the failed batch was kept; each write runs again alone, so only the one
    that breaks the commit fails, with its own error."""
    with store._engine.begin() as conn:
        for statement in POISON.split(";\n")[:-1]:
            conn.exec_driver_sql(statement)
    claimed = _claimed(store, 3)
    for c in claimed:
        store.mark_sending(c.delivery.id, c.fence)
    details = ["", "fails at commit", ""]
    calls = [
        lambda c=c, x=x: store.finish(
            c.delivery.id, c.fence, Outcome.SENT, replace(attempt(T0), detail=x), remote_id="r"
        )
        for c, x in zip(claimed, details, strict=True)
    ]
    statements = _statements(store)
    out = _together(store, calls)
    assert not [s for s in statements if s.startswith("SAVEPOINT")]  # no job raised
    assert isinstance(out[1], sa.exc.IntegrityError)
    assert [out[0].state, out[2].state] == [State.SENT, State.SENT]
    assert [store.get(c.delivery.id).state for c in claimed] == [
        State.SENT,
        State.SENDING,
        State.SENT,
    ]
    assert [len(store.get(c.delivery.id).history) for c in claimed] == [1, 0, 1]


def test_a_write_inside_a_write_is_refused_not_hung(store: Store) -> None:
    (c,) = _claimed(store, 1)
    with pytest.raises(StoreError, match="inside another write"):
        store._hot.run(lambda tx: store.mark_sending(c.delivery.id, c.fence))
    assert store.mark_sending(c.delivery.id, c.fence).state is State.SENDING  # line still free


def test_a_batch_is_at_most_limit_writes_and_leadership_passes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(group, "LIMIT", 2)
    batches: list[list[int]] = []
    first, release = threading.Event(), threading.Event()

    def batch(slots: list[Any]) -> None:
        batches.append([s.job(None) for s in slots])
        for s in slots:
            s.result = s.job(None) * 10
        if len(batches) == 1:
            first.set()
            release.wait(10)

    line = GroupCommit(batch)
    results: dict[int, int] = {}

    def start(k: int) -> threading.Thread:
        thread = threading.Thread(target=lambda: results.update({k: line.run(lambda _: k)}))
        thread.start()
        return thread

    threads = [start(0)]
    assert first.wait(10)
    for k in range(1, 6):  # one at a time: the line's order is known
        threads.append(start(k))
        while len(line._line) < k:
            time.sleep(0.001)
    release.set()
    for t in threads:
        t.join(10)
    assert batches == [[0], [1, 2], [3, 4], [5]]
    assert results == {k: 10 * k for k in range(6)}
    assert not line._leading and not line._line
