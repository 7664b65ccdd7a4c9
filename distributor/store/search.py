"""The text search of the post log (`Filters.search`): a piece of the article title or the post
text, in any case, answered from an index instead of reading every post.

SQLite: FTS5 tables with the trigram tokenizer, `deliveries_fts` over each draft's text and
`articles_fts` over the titles (rowid: the delivery id, the article's rowid), made and filled
by migration 10. New rows are indexed by the next search (`catch_up`: everything past the
highest rowid indexed, in one statement), not when they are planned: trigram indexing costs
about 0.25 ms per post, which planning (webhook, publish, compose) would pay for every channel.
Edits of indexed rows (approve with a new text, a title changed) are kept by triggers. A piece
of 3 characters or more is a phrase query, which with trigrams is exactly "contains"; a shorter
one is a LIKE over the post texts. Without FTS5's trigram tokenizer (an old SQLite) the
migration leaves the tables out and search is a LIKE.

PostgreSQL: ILIKE on the title and on `draft ->> 'text'`, with pg_trgm GIN indexes on both
(migration 10; without the extension, which needs CREATE privilege, the same query scans).
"""

from __future__ import annotations

import logging
import re
from typing import Any

log = logging.getLogger(__name__)

_TEXT = "coalesce(json_extract({row}.draft, '$.text'), '')"
_TOP = "(SELECT rowid FROM {fts} ORDER BY rowid DESC LIMIT 1)"  # FTS5 reads this from the end
_NEW = {  # FTS table -> the rows it lacks: (rowid, text) past its highest rowid
    "deliveries_fts": f"SELECT id, {_TEXT.format(row='deliveries')} FROM deliveries "
    f"WHERE id > coalesce({_TOP.format(fts='deliveries_fts')}, 0)",
    "articles_fts": "SELECT rowid, title FROM articles "
    f"WHERE rowid > coalesce({_TOP.format(fts='articles_fts')}, 0)",
}
_SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5(title, tokenize = 'trigram')",
    # Edits of rows indexed already; rows past the top are indexed by catch_up as they are then.
    f"""CREATE TRIGGER IF NOT EXISTS deliveries_fts_update AFTER UPDATE OF draft ON deliveries
    WHEN old.id <= {_TOP.format(fts="deliveries_fts")} BEGIN
    DELETE FROM deliveries_fts WHERE rowid = old.id;
    INSERT INTO deliveries_fts (rowid, text) VALUES (new.id, {_TEXT.format(row="new")}); END""",
    """CREATE TRIGGER IF NOT EXISTS deliveries_fts_delete AFTER DELETE ON deliveries BEGIN
    DELETE FROM deliveries_fts WHERE rowid = old.id; END""",
    f"""CREATE TRIGGER IF NOT EXISTS articles_fts_update AFTER UPDATE OF title ON articles
    WHEN old.rowid <= {_TOP.format(fts="articles_fts")} BEGIN
    UPDATE articles_fts SET title = new.title WHERE rowid = old.rowid; END""",
    """CREATE TRIGGER IF NOT EXISTS articles_fts_delete AFTER DELETE ON articles BEGIN
    DELETE FROM articles_fts WHERE rowid = old.rowid; END""",
]
_POSTGRES = [
    "CREATE INDEX IF NOT EXISTS ix_deliveries_text_trgm ON deliveries "
    "USING gin ((draft ->> 'text') gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_articles_title_trgm ON articles USING gin (title gin_trgm_ops)",
]


def create_index(conn: Any) -> None:
    """Migration 10: the search index of this backend, with what is stored already in it
    (again harmless: a store migrated from an older version twice). Where the backend cannot
    have one, a warning says so and search keeps scanning."""
    from sqlalchemy.exc import DBAPIError

    if conn.dialect.name == "sqlite":
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS deliveries_fts "
                    "USING fts5(text, tokenize = 'trigram')"
                )
        except DBAPIError as exc:
            log.warning("no search index: this SQLite has no FTS5 trigram tokenizer (%s)", exc)
            return
        for ddl in _SQLITE:
            conn.exec_driver_sql(ddl)
        _fill(conn)
        return
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        log.warning("no search index: cannot create extension pg_trgm (%s)", exc.orig)
        return
    for ddl in _POSTGRES:
        conn.exec_driver_sql(ddl)


def catch_up(engine: Any) -> None:
    """Index the rows planned since the last search (SQLite; nothing to do: no write)."""
    with engine.connect() as conn:
        behind = any(
            conn.exec_driver_sql(f"SELECT EXISTS ({sql})").scalar() for sql in _NEW.values()
        )
    if behind:
        with engine.begin() as conn:  # BEGIN IMMEDIATE: one indexer at a time, rows stay put
            _fill(conn)


def _fill(conn: Any) -> None:
    for fts, rows in _NEW.items():
        column = "text" if fts == "deliveries_fts" else "title"
        conn.exec_driver_sql(f"INSERT INTO {fts} (rowid, {column}) {rows}")


def has_index(conn: Any) -> bool:
    """Whether this SQLite store has the FTS tables (PostgreSQL needs no other query)."""
    found = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'deliveries_fts'"
    )
    return found.first() is not None


def matches(t: Any, dialect: str, text: str, indexed: bool) -> Any:
    """The condition on `deliveries` (t: the store's tables): its article's title or its post
    text contains `text`. Each side is a set of ids from its index, looked up per row."""
    import sqlalchemy as sa

    d, art = t["deliveries"], t["articles"]
    if dialect == "sqlite" and indexed and len(text) >= 3:
        return sa.or_(
            d.c.id.in_(sa.text(_POSTS).bindparams(post=_phrase(text)).columns(rowid=sa.Integer)),
            d.c.article_id.in_(_titles(text).columns(id=sa.String)),
        )
    pattern = like(text)
    titles = sa.select(art.c.id).where(art.c.title.ilike(pattern, escape="\\"))
    if dialect == "sqlite":  # no index, or too short a piece for trigrams: read every post
        post = sa.func.json_extract(d.c.draft, "$.text").ilike(pattern, escape="\\")
        return sa.or_(d.c.article_id.in_(titles), post)
    hit = d.alias("hit")  # not correlated with the outer deliveries: its own index scan
    return sa.or_(d.c.id.in_(_pg_posts(hit, hit.c.id, pattern)), d.c.article_id.in_(titles))


def articles(t: Any, dialect: str, text: str, indexed: bool) -> Any:
    """The ids of the articles whose title or one of whose post texts contains `text`, from
    the index (None without one: then the article log checks article by article)."""
    import sqlalchemy as sa

    d, art = t["deliveries"], t["articles"]
    if dialect == "sqlite" and indexed and len(text) >= 3:
        posts = f"SELECT article_id FROM deliveries WHERE id IN ({_POSTS})"
        both = sa.text(f"{posts} UNION {_TITLES}").bindparams(
            post=_phrase(text), title=_phrase(text)
        )
        return both.columns(article_id=sa.String)
    if dialect == "sqlite":
        return None
    pattern = like(text)
    hit = d.alias("hit")
    titles = sa.select(art.c.id).where(art.c.title.ilike(pattern, escape="\\"))
    return sa.union(_pg_posts(hit, hit.c.article_id, pattern), titles)


_FTS = "SELECT rowid FROM {t} WHERE {t} MATCH :{p}"
_POSTS = _FTS.format(t="deliveries_fts", p="post")
_TITLES = f"SELECT id FROM articles WHERE rowid IN ({_FTS.format(t='articles_fts', p='title')})"


def _phrase(text: str) -> str:
    """An FTS5 phrase: with trigrams exactly "contains `text`" (quotes in it doubled)."""
    return '"' + text.replace('"', '""') + '"'


def _titles(text: str) -> Any:
    import sqlalchemy as sa

    return sa.text(_TITLES).bindparams(title=_phrase(text))


def _pg_posts(hit: Any, column: Any, pattern: str) -> Any:
    """PostgreSQL: `column` of the deliveries whose text matches, by the pg_trgm index (its
    expression written literally: a bound 'text' would not match the index)."""
    import sqlalchemy as sa

    text = sa.literal_column(f"{hit.name}.draft ->> 'text'", sa.Text)
    return sa.select(column).where(text.ilike(pattern, escape="\\"))


def like(text: str) -> str:
    """A LIKE pattern for `text` anywhere, its own % _ \\ taken literally."""
    return "%" + re.sub(r"([%_\\])", r"\\\1", text) + "%"
