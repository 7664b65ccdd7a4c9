"""Reads for the social desk (the admin home page): the post log one row per article with
all its deliveries, and the accounts with who they belong to (as `distributor check` saw it)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.errors import StoreError
from distributor.store import rows
from distributor.store.models import AccountState, Delivery, Filters, from_ts

_ARTICLE_ID = re.compile(r"[0-9A-Za-z_-]{1,32}")
_MAX_TS = 253402300800.0  # 9999-12-31


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """One article of the desk's log with every delivery it has (by channel)."""

    id: str
    title: str
    url: str
    section: str | None
    first_seen: datetime
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True, slots=True)
class Account:
    """An account's state with its identity on the platform (None until `check` ran)."""

    state: AccountState
    handle: str | None
    profile_url: str | None
    checked_at: datetime | None


class DeskMixin:
    _engine: Any
    _reader: Any
    _t: Any

    if TYPE_CHECKING:  # from QueriesMixin and Store

        def _conditions(self, filters: Filters) -> list[Any]: ...

        def _now(self, now: datetime | None) -> float: ...

        def _searched(self, text: str) -> Any: ...

    def article_log(
        self, filters: Filters | None = None, *, limit: int = 50, after: str | None = None
    ) -> tuple[list[ArticleRow], str | None]:
        """Articles newest first (by first seen) that have a delivery matching `filters`, each
        with all its deliveries; keyset pages by (first_seen, id). One SQL statement a page."""
        import sqlalchemy as sa

        art, d = self._t["articles"], self._t["deliveries"]
        # Probe each article's own deliveries (on SQLite, without statistics, the planner
        # otherwise scans every delivery in the filtered state once per article: 10 s at 300k).
        match = (
            sa.select(d.c.id)
            .where(d.c.article_id == art.c.id, *self._conditions(filters or Filters()))
            .with_hint(d, "INDEXED BY ix_deliveries_article", dialect_name="sqlite")
            .exists()
        )
        ids = (
            sa.select(art.c.id, art.c.first_seen)
            .where(match)
            .order_by(art.c.first_seen.desc(), art.c.id.desc())
            .limit(limit)
        )
        hits = self._searched(filters.search) if filters and filters.search else None
        if hits is not None:  # the articles the index found, not a probe of every article
            ids = ids.where(art.c.id.in_(hits))
        if after:
            ts, aid = _cursor(after)
            ids = ids.where(art.c.first_seen <= ts).where(
                (art.c.first_seen < ts) | (art.c.id < aid)
            )
        page = ids.subquery("page")
        sel = (
            sa.select(
                page.c.id.label("a_id"),
                page.c.first_seen.label("a_first_seen"),
                art.c.title.label("a_title"),
                art.c.canonical_url.label("a_url"),
                art.c.data["section"].as_string().label("a_section"),
                *d.c,
            )
            .select_from(page.join(art, art.c.id == page.c.id).join(d, d.c.article_id == page.c.id))
            .order_by(page.c.first_seen.desc(), page.c.id.desc(), d.c.channel, d.c.id)
        )
        found: dict[str, ArticleRow] = {}
        seen: dict[str, float] = {}  # id -> first_seen as stored, for the cursor (not rounded)
        with self._reader.connect() as conn:
            for r in conn.execute(sel):
                m = r._mapping
                seen[m["a_id"]] = m["a_first_seen"]
                have = found.get(m["a_id"])
                deliveries = (*have.deliveries, rows.delivery(r)) if have else (rows.delivery(r),)
                found[m["a_id"]] = ArticleRow(
                    id=m["a_id"],
                    title=m["a_title"] or "",
                    url=m["a_url"],
                    section=m["a_section"] or None,
                    first_seen=rows._dt(m["a_first_seen"]),
                    deliveries=deliveries,
                )
        out = list(found.values())
        last = out[-1] if len(out) == limit else None
        return out, f"{seen[last.id]!r}:{last.id}" if last else None

    def titles(self, ids: Iterable[str]) -> dict[str, str]:
        """Article id -> title, for the given ids (one query)."""
        import sqlalchemy as sa

        art = self._t["articles"]
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        with self._reader.connect() as conn:
            found = conn.execute(sa.select(art.c.id, art.c.title).where(art.c.id.in_(wanted)))
            return {r.id: r.title or "" for r in found}

    def record_identity(
        self, account_key: str, handle: str, profile_url: str | None, *, now: datetime | None = None
    ) -> None:
        """Remember who the credentials of `account_key` belong to (`distributor check`)."""
        acc = self._t["accounts"]
        with self._engine.begin() as conn:
            conn.execute(
                rows.insert_ignore(conn, acc).values(
                    account_key=account_key, send_times=[], needs_reauth=False
                )
            )
            conn.execute(
                acc.update()
                .where(acc.c.account_key == account_key)
                .values(handle=handle, profile_url=profile_url, checked_at=self._now(now))
            )

    def accounts(self) -> dict[str, Account]:
        """Every account the store knows: account_key -> its state and identity."""
        acc = self._t["accounts"]
        with self._reader.connect() as conn:
            found = conn.execute(acc.select()).all()
        return {
            r.account_key: Account(
                AccountState(
                    r.account_key, from_ts(r.blocked_until), bool(r.needs_reauth), r.reauth_reason
                ),
                r.handle,
                r.profile_url,
                from_ts(r.checked_at),
            )
            for r in found
        }


def _cursor(text: str) -> tuple[float, str]:
    """`<first_seen>:<article id>` from a page link; anything else is a StoreError."""
    ts_text, _, aid = text.rpartition(":")
    try:
        ts = float(ts_text)
    except ValueError:
        ts = math.nan
    if not (0 <= ts <= _MAX_TS and _ARTICLE_ID.fullmatch(aid)):
        raise StoreError(f"bad page cursor {text[:40]!r}")
    return ts, aid
