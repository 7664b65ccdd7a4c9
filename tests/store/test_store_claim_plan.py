"""The claim reads the queue in index order: its cost does not grow with the backlog or the
history (EXPLAIN on SQLite and PostgreSQL), and it still finds accounts behind a long run of
one account's deliveries."""

from __future__ import annotations

from typing import Any

import pytest
from store_helpers import T0, article, item

from distributor.store.claim import PAGE
from distributor.store.models import to_ts
from distributor.store.store import Store


def _fill(store: Store, queued: int, sent: int, accounts: int = 50, analyze: bool = True) -> None:
    """`queued` claimable and `sent` finished deliveries of one article (bulk insert)."""
    aid = store.plan(article(), [item("seed")]).created[0].article_id
    d, ts = store._t["deliveries"], to_ts(T0)

    def row(i: int, state: str) -> dict[str, Any]:
        return {
            "article_id": aid,
            "channel": f"{state}-{i}",
            "platform": "mastodon",
            "account_key": f"acct-{i % accounts}",
            "generation": 0,
            "state": state,
            "draft": {"text": "x"},
            "idem_key": f"k-{state}-{i}",
            "fence": 0,
            "attempts": 0,
            "created_at": ts + i,
            "updated_at": ts + i,
        }

    with store._engine.begin() as conn:
        for state, n in (("sent", sent), ("queued", queued)):
            if n:
                conn.execute(d.insert(), [row(i, state) for i in range(n)])
        if not analyze:
            return
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE deliveries")
        else:
            conn.exec_driver_sql("ANALYZE")


def _plan(store: Store) -> str:
    query = store.due_query(to_ts(T0) + 10**6).limit(PAGE)
    with store._engine.connect() as conn:
        sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN QUERY PLAN " if conn.dialect.name == "sqlite" else "EXPLAIN "
        found = conn.exec_driver_sql(explain + sql).all()
    return "\n".join(" ".join(str(c) for c in r) for r in found)


@pytest.mark.parametrize("analyze", [True, False], ids=["analyzed", "no-statistics"])
def test_claim_walks_the_claim_index_without_sorting(store: Store, analyze: bool) -> None:
    """With and without planner statistics (a store never runs ANALYZE by itself)."""
    _fill(store, queued=3000, sent=20000, analyze=analyze)
    if store.dialect == "postgresql" and not analyze:
        pytest.skip("PostgreSQL's autovacuum gathers statistics itself")
    plan = _plan(store)
    assert "ix_deliveries_claim" in plan, plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan  # SQLite: no sort of the due rows
    top = plan.split("  ->  ")[:2]  # PostgreSQL: Limit over an index scan, not over a Sort
    assert not any(node.lstrip().startswith("Sort") for node in top), plan


def test_claim_finds_accounts_behind_one_accounts_long_run(store: Store) -> None:
    """More than a page of one account's deliveries first: the other account is still
    claimed in the same round (the walk goes on to the next page)."""
    _fill(store, queued=PAGE * 2 + 5, sent=0, accounts=1)
    late = store.plan(article("https://news.example/late"), [item("late", account="acct-late")])
    with store._engine.begin() as conn:  # the last in queue order
        d = store._t["deliveries"]
        conn.execute(
            d.update().where(d.c.id == late.created[0].id).values(created_at=to_ts(T0) + 10**6)
        )
    claimed = store.claim("w1", lease_seconds=60, limit=5, now=None)
    assert {c.delivery.account_key for c in claimed} >= {"acct-0", "acct-late"}


@pytest.mark.parametrize("n", [1, 10, 50])
def test_the_claimed_rows_are_looked_up_by_key_not_by_state(store: Store, n: int) -> None:
    """The lease re-reads the rows it picked by their ids. Without statistics, SQLite planned
    that (with the ids bound, as the claim runs it) as a scan of every queued row on an index
    of `state` once there were ten ids or more. Each database as it runs: SQLite without
    statistics (a store never runs ANALYZE), PostgreSQL with them (autovacuum gathers them)."""
    _fill(store, queued=3000, sent=0, analyze=store.dialect == "postgresql")
    compiled = store._hot.compiled(store._lockable(n))
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    raw = store._engine.raw_connection()
    try:
        cursor = raw.cursor()
        ids = {f"_id{i}": i + 1 for i in range(n)}
        cursor.execute(explain + compiled.sql, compiled.params(ids))
        plan = "\n".join(str(r) for r in cursor.fetchall())
    finally:
        raw.close()
    if store.dialect == "sqlite":
        assert "INTEGER PRIMARY KEY" in plan, plan
    else:
        assert "deliveries_pkey" in plan, plan
