"""Per-feed poll state (conditional-GET validators, counters) and the "seen" side of watching.

`distributor watch` keeps one `feeds` row per feed (URL or absolute file path): the ETag and
Last-Modified of the last successful poll, when and how it was polled, how many items it held,
and when its backlog was recorded (`baseline_at`: the first successful poll). Articles a watch
only *saw* are stored like any other article, with no deliveries (`remember`), so their
identity keys keep them from ever being planned later, from any source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.store import rows
from distributor.store.models import from_ts

if TYPE_CHECKING:
    from distributor.article import Article

_KEY_CHUNK = 400  # identity keys per IN (...) query, well under SQLite's parameter limit


@dataclass(frozen=True, slots=True)
class FeedState:
    """One watched feed as the store remembers it."""

    url: str
    etag: str | None
    last_modified: str | None
    last_polled: datetime | None
    last_status: str
    last_error: str | None
    seen_count: int
    new_count: int
    polls: int
    failures: int  # consecutive failed polls
    baseline_at: datetime | None


class FeedsMixin:
    """Feed rows for `distributor watch`; mixed into `Store`."""

    _engine: Any
    _reader: Any
    _t: Any

    if TYPE_CHECKING:

        def _now(self, now: datetime | None) -> float: ...

        def _upsert_article(self, conn: Any, article: Article, source: str, ts: float) -> str: ...

    def feed_state(self, url: str) -> FeedState | None:
        """The stored state of feed `url` (None: never polled)."""
        f = self._t["feeds"]
        with self._reader.connect() as conn:
            row = conn.execute(f.select().where(f.c.url == url)).first()
        return None if row is None else _state(row)

    def feed_states(self) -> list[FeedState]:
        """Every watched feed, by URL."""
        f = self._t["feeds"]
        with self._reader.connect() as conn:
            return [_state(r) for r in conn.execute(f.select().order_by(f.c.url))]

    def record_poll(
        self,
        url: str,
        status: str,
        *,
        ok: bool,
        validators: tuple[str | None, str | None] | None = None,
        items: int | None = None,
        new: int = 0,
        error: str | None = None,
        baseline: bool = False,
        now: datetime | None = None,
    ) -> FeedState:
        """Record one poll. `validators` (etag, last_modified) replace the stored ones when
        given (a 304 or an error keeps them); `baseline` marks the backlog as recorded."""
        ts = self._now(now)
        f = self._t["feeds"]
        values: dict[str, Any] = {
            "last_polled": ts,
            "last_status": status,
            "last_error": error,
            "new_count": new,
            "polls": f.c.polls + 1,
            "failures": 0 if ok else f.c.failures + 1,
        }
        if validators is not None:
            values["etag"], values["last_modified"] = validators
        if items is not None:
            values["seen_count"] = items
        with self._engine.begin() as conn:
            conn.execute(
                rows.insert_ignore(conn, f).values(
                    url=url, last_status="new", seen_count=0, new_count=0, polls=0, failures=0
                )
            )
            if baseline:
                conn.execute(
                    f.update()
                    .where(f.c.url == url, f.c.baseline_at.is_(None))
                    .values(baseline_at=ts)
                )
            conn.execute(f.update().where(f.c.url == url).values(**values))
            return _state(conn.execute(f.select().where(f.c.url == url)).one())

    def known_articles(self, articles: Sequence[Article]) -> list[bool]:
        """For each article: is any of its identity keys already in the store?"""
        keys = list(dict.fromkeys(k for a in articles for k in a.identity_keys()))
        found: set[str] = set()
        kt = self._t["article_keys"]
        with self._reader.connect() as conn:
            for i in range(0, len(keys), _KEY_CHUNK):
                chunk = keys[i : i + _KEY_CHUNK]
                found.update(r.key for r in conn.execute(kt.select().where(kt.c.key.in_(chunk))))
        return [any(k in found for k in a.identity_keys()) for a in articles]

    def remember(
        self, articles: Iterable[Article], *, source: str, now: datetime | None = None
    ) -> int:
        """Store articles as known, with no deliveries (a feed's backlog); one transaction."""
        ts = self._now(now)
        n = 0
        with self._engine.begin() as conn:
            for article in articles:
                self._upsert_article(conn, article, source, ts)
                n += 1
        return n

    def recent_articles(self, source_prefix: str, limit: int) -> list[dict[str, Any]]:
        """The newest articles whose source starts with `source_prefix` (`watch:`: feed
        items), newest first: id, title, canonical_url, first_seen, source, and `planned`
        (whether any delivery was planned for it)."""
        import sqlalchemy as sa

        art, d = self._t["articles"], self._t["deliveries"]
        planned = sa.exists().where(d.c.article_id == art.c.id).label("planned")
        keys = ("id", "title", "canonical_url", "source")
        sel = (
            sa.select(*(art.c[k] for k in keys), art.c.first_seen, planned)
            .where(art.c.source.startswith(source_prefix, autoescape=True))
            .order_by(art.c.first_seen.desc(), art.c.id)
            .limit(limit)
        )
        with self._reader.connect() as conn:
            found = conn.execute(sel).all()
        return [
            {k: r._mapping[k] for k in keys}
            | {"first_seen": from_ts(r.first_seen), "planned": bool(r.planned)}
            for r in found
        ]

    def article_data(self, id: str) -> dict[str, Any] | None:
        """The stored article's fields as `Article.from_dict` reads them (None: unknown id)."""
        art = self._t["articles"]
        with self._reader.connect() as conn:
            data = conn.execute(art.select().with_only_columns(art.c.data).where(art.c.id == id))
            row = data.first()
        return None if row is None else dict(row[0])


def _state(row: Any) -> FeedState:
    m = row._mapping
    return FeedState(
        url=m["url"],
        etag=m["etag"],
        last_modified=m["last_modified"],
        last_polled=from_ts(m["last_polled"]),
        last_status=m["last_status"],
        last_error=m["last_error"],
        seen_count=m["seen_count"],
        new_count=m["new_count"],
        polls=m["polls"],
        failures=m["failures"],
        baseline_at=from_ts(m["baseline_at"]),
    )
