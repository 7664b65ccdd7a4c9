"""The send path's driver-level transactions (store/hot.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from store_helpers import T0, article, attempt, item

from distributor.errors import StoreError
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
