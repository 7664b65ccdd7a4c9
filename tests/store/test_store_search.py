"""Store contract for the text search index (migration 10): SQLite answers from FTS5 trigram
tables, PostgreSQL from pg_trgm indexes; stored rows are indexed by the migration, new rows by
the next search (not by planning), edits by triggers, and a store without the index finds the
same."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from store_helpers import T0

from distributor.article import Article
from distributor.store.migrations import LATEST, migrate
from distributor.store.models import Filters, PlanItem, State
from distributor.store.schema import build
from distributor.store.search import create_index
from distributor.store.store import Store


def _plan(store: Store, n: int, title: str, text: str, review: bool = False) -> str:
    art = Article(url=f"https://news.example/a/{n}", title=title)
    item = PlanItem(f"c{n}", "mastodon", f"acct-{n}", {"text": text}, f"k-{n}", review=review)
    return store.plan(art, [item], source="test", now=T0 + timedelta(minutes=n)).article_id


def _found(store: Store, text: str) -> set[str]:
    return {d.article_id for d in store.query(Filters(search=text), limit=50)[0]}


def _fill(store: Store) -> tuple[str, str, str]:
    return (
        _plan(store, 1, "Haushalt für 2027", "Der Rat hat beschlossen"),
        _plan(store, 2, "Wetter", 'Sturm über 50% der Brücke_1, "Orkan" sagt der DWD'),
        _plan(store, 3, "Zitat", "Text", review=True),
    )


def _same_answers(store: Store, a: str, b: str, c: str) -> None:
    assert _found(store, "HAUSHALT") == {a}  # title, any case
    assert _found(store, "für 2027") == {a}
    assert _found(store, "über 50%") == {b} and _found(store, "50%") == {b}
    assert _found(store, '"Orkan"') == {b}  # quotes are text, not query syntax
    assert _found(store, "e_1") == {b} and _found(store, "_") == {b} and _found(store, "%") == {b}
    assert _found(store, "rat hat") == {a}
    assert _found(store, "Orkan sagt") == set()  # a substring, not words near each other
    assert _found(store, "nothing like it") == set()
    assert [r.id for r in store.article_log(Filters(search="sturm"))[0]] == [b]


def test_search_answers_from_the_index(store: Store) -> None:
    a, b, c = _fill(store)
    _same_answers(store, a, b, c)
    with store._engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert _found(store, "ÜBER 50") == {b}  # FTS5 folds non-ASCII letters too
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT rowid FROM deliveries_fts WHERE deliveries_fts MATCH ?",
                ('"sturm"',),
            ).all()
            assert "VIRTUAL TABLE INDEX" in str(plan)
        else:
            names = conn.exec_driver_sql("SELECT indexname FROM pg_indexes").scalars().all()
            assert {"ix_deliveries_text_trgm", "ix_articles_title_trgm"} <= set(names)


def _indexed(store: Store) -> int:
    with store._engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return -1
        return int(conn.exec_driver_sql("SELECT count(*) FROM deliveries_fts").scalar_one())


@pytest.mark.parametrize("searched_first", [True, False])
def test_edits_and_new_rows_are_found_old_text_not(store: Store, searched_first: bool) -> None:
    a, _, c = _fill(store)
    planned = _indexed(store)
    assert planned in (0, -1)  # planning indexed nothing: the next search does
    if searched_first:  # the rows are indexed before the edit (else: after it)
        assert _found(store, "Text") == {c}
    (review,) = store.query(Filters(article_id=c), limit=5)[0]
    store.transition(review.id, State.QUEUED, actor="test", draft={"text": "Neu geschrieben"})
    art = store._t["articles"]
    with store._engine.begin() as conn:
        conn.execute(art.update().where(art.c.id == a).values(title="Etat 2028"))
    assert _found(store, "neu geschrieben") == {c} and _found(store, "Text") == set()
    assert _found(store, "etat 2028") == {a} and _found(store, "Haushalt") == set()
    assert _indexed(store) in (3, -1)  # each delivery once
    d = _plan(store, 4, "Später", "Nachtrag")
    assert _found(store, "nachtrag") == {d} and _found(store, "später") == {d}
    assert _indexed(store) in (4, -1)


def test_the_migration_indexes_what_is_stored(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, c = _fill(store)
    with store._engine.begin() as conn:  # the store as migration 9 left it, with its rows
        if conn.dialect.name == "sqlite":
            for name in ("deliveries_fts", "articles_fts"):
                conn.exec_driver_sql(f"DROP TABLE {name}")
            for t in ("deliveries", "articles"):
                for op in ("update", "delete"):
                    conn.exec_driver_sql(f"DROP TRIGGER {t}_fts_{op}")
        else:
            conn.exec_driver_sql("DROP INDEX ix_deliveries_text_trgm, ix_articles_title_trgm")
        conn.exec_driver_sql("DELETE FROM schema_version WHERE version >= 10")
    assert migrate(store._engine, build()) == (9, LATEST)
    _same_answers(store, a, b, c)
    indexed = _indexed(store)
    with store._engine.begin() as conn, caplog.at_level(logging.WARNING):
        create_index(conn)  # the step once more (a store re-migrated from an older version)
    assert not caplog.records and _indexed(store) == indexed
    _same_answers(store, a, b, c)


def test_without_the_index_the_same_answers(store: Store) -> None:
    """An SQLite without FTS5's trigram tokenizer: the migration leaves the index out."""
    a, b, c = _fill(store)
    store._search_index = False
    _same_answers(store, a, b, c)
