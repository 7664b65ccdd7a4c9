"""Planning in the store: one transaction upserts the article and inserts its deliveries.

A webhook's or a feed item's whole cost on the store side is this transaction, so its
statements are built once per store and executed with bound parameters: the article's
identity keys are looked up in one statement and inserted in one executemany, as are the
`planned` events; created deliveries come back from the INSERT's RETURNING, so no second read
is needed for them.

`plan_batch` plans several articles in ONE transaction (the webhook's group commit, see
web/intake.py): each job's deliveries are built once its stored article id is known, a replayed
webhook id comes back as that job's `WebhookReplay`, and any other error rolls back the whole
batch (the caller then plans the jobs one by one, so one bad request fails alone).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.store import rows
from distributor.store.models import Delivery, PlanItem, PlanResult, State, to_ts
from distributor.store.statements import Statements, numbered, numbered_binds
from distributor.store.wakeup import notify

if TYPE_CHECKING:
    from distributor.article import Article
    from distributor.store.webhooks import WebhookCall, WebhookReplay

DELIVERY_COLUMNS = (
    "article_id",
    "channel",
    "platform",
    "account_key",
    "generation",
    "state",
    "draft",
    "idem_key",
    "not_before",
    "priority",
    "embargo_until",
    "fence",
    "attempts",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class PlanJob:
    """One article to plan in a shared transaction; `items(article_id)` builds its deliveries
    from the stored id (an article known under another key keeps its first id)."""

    article: Article
    items: Callable[[str], Iterable[PlanItem]]
    source: str = ""
    webhook: WebhookCall | None = None


ARTICLE_COLUMNS = ("id", "canonical_url", "guid", "title", "data", "first_seen", "source")
EVENT_COLUMNS = ("at", "actor", "action", "delivery_id", "article_id", "detail")


class PlanMixin(Statements):
    _engine: Any
    _hot: Any
    _t: Any

    if TYPE_CHECKING:

        def _now(self, now: datetime | None) -> float: ...

        def _claim_webhook(self, conn: Any, id: str, ts: float) -> None: ...

        def _answer_webhook(self, conn: Any, id: str, response: Any) -> None: ...

    def _plan_stmt(self, name: str) -> Any:
        """The planning statement `name`, built once per store (bound parameters)."""
        return self._stmt(("plan", name), lambda: self._build_plan_stmt(name))

    def _build_plan_stmt(self, name: str) -> Any:
        import sqlalchemy as sa

        t = self._t
        d = t["deliveries"]

        def ignore(table: Any, columns: Iterable[str]) -> Any:
            binds = {c: sa.bindparam(c, type_=table.c[c].type) for c in columns}
            return rows.insert_ignore(self._engine, table).values(binds)

        if name == "delivery":
            return ignore(d, DELIVERY_COLUMNS).returning(*d.c)
        if name == "existing":
            return d.select().where(
                d.c.article_id == sa.bindparam("a"),
                d.c.channel == sa.bindparam("c"),
                d.c.generation == sa.bindparam("g"),
            )
        if name == "keys":
            k = t["article_keys"]
            return k.select().where(k.c.key.in_(sa.bindparam("keys", expanding=True)))
        if name == "article":
            return ignore(t["articles"], ARTICLE_COLUMNS)
        if name == "key":
            return ignore(t["article_keys"], ("key", "article_id"))
        assert name == "event"
        e = t["events"]
        binds = {c: sa.bindparam(c, type_=e.c[c].type) for c in EVENT_COLUMNS}
        return e.insert().values(binds)

    def plan(
        self,
        article: Article,
        items: Iterable[PlanItem],
        *,
        source: str = "",
        now: datetime | None = None,
        webhook: WebhookCall | None = None,
    ) -> PlanResult:
        """Upsert the article (a match on ANY identity key is the same article) and insert one
        delivery per item, skipping those that exist; one transaction, race-safe.

        With `webhook`, its id is recorded in the same transaction (WebhookReplay if known)."""
        planned = list(items)
        job = PlanJob(article, lambda _aid: planned, source, webhook)
        (result,) = self.plan_batch([job], now=now, replay_raises=True)
        assert not isinstance(result, Exception)
        return result

    def plan_batch(
        self,
        jobs: Sequence[PlanJob],
        *,
        now: datetime | None = None,
        replay_raises: bool = False,
    ) -> list[PlanResult | WebhookReplay]:
        """Plan every job in ONE transaction (committed when this returns); a job whose
        webhook id was seen before gets its WebhookReplay in its place and writes nothing."""
        from distributor.store.webhooks import WebhookReplay

        ts = self._now(now)
        results: list[PlanResult | WebhookReplay] = []
        with self._hot.begin() as conn:  # on the driver connection, compiled once (store/hot.py)
            for job in jobs:
                try:
                    results.append(self._plan_job(conn, job, ts))
                except WebhookReplay as replay:  # its first statement: nothing to undo
                    if replay_raises:
                        raise
                    results.append(replay)
            if any(isinstance(r, PlanResult) and r.created for r in results):
                notify(conn)
        return results

    def _plan_job(self, conn: Any, job: PlanJob, ts: float) -> PlanResult:
        if job.webhook is not None:
            self._claim_webhook(conn, job.webhook.id, ts)
        aid = self._upsert_article(conn, job.article, job.source, ts)
        created: list[Delivery] = []
        existing: list[Delivery] = []
        for it in job.items(aid):
            row = conn.execute(self._plan_stmt("delivery"), _delivery_row(aid, it, ts)).first()
            if row is not None:
                created.append(rows.delivery(row))
            else:
                key = {"a": aid, "c": it.channel, "g": it.generation}
                old = conn.execute(self._plan_stmt("existing"), key).one()
                existing.append(rows.delivery(old))
        if created:
            actor = job.source or "plan"
            events = [_event(ts, actor, d, aid) for d in created]
            conn.execute(self._plan_stmt("event"), events)  # one executemany
        result = PlanResult(aid, tuple(created), tuple(existing))
        if job.webhook is not None:
            self._answer_webhook(conn, job.webhook.id, job.webhook.respond(result))
        return result

    def _upsert_article(self, conn: Any, article: Article, source: str, ts: float) -> str:
        keys = list(article.identity_keys())
        known = {
            r.key: r.article_id
            for r in conn.execute(self._keys_of(len(keys)), numbered("_k", keys))
        }
        # a match on any key is the same article; the first key that matches names it
        aid = next((known[k] for k in keys if k in known), article.article_id)
        values = {
            "id": aid,
            "canonical_url": article.canonical_url,
            "guid": article.guid,
            "title": article.title,
            "data": article.to_dict(),
            "first_seen": ts,
            "source": source,
        }
        conn.execute(self._plan_stmt("article"), values)
        conn.execute(self._plan_stmt("key"), [{"key": k, "article_id": aid} for k in keys])
        return str(aid)

    def _keys_of(self, n: int) -> Any:
        """The stored article of any of `n` identity keys (one statement); built once per n."""

        def build() -> Any:
            import sqlalchemy as sa

            k = self._t["article_keys"]
            binds = numbered_binds("_k", n, k.c.key.type)
            return sa.select(k.c.key, k.c.article_id).where(k.c.key.in_(binds))

        return self._stmt(("plan", "keys_of", n), build)


def _delivery_row(aid: str, it: PlanItem, ts: float) -> dict[str, Any]:
    state = State.AWAITING_REVIEW if it.review else State.QUEUED
    return {
        "article_id": aid,
        "channel": it.channel,
        "platform": it.platform,
        "account_key": it.account_key,
        "generation": it.generation,
        "state": state.value,
        "draft": it.draft,
        "idem_key": it.idem_key,
        "not_before": to_ts(it.not_before) if it.not_before else None,
        "priority": it.priority,
        "embargo_until": to_ts(it.embargo_until) if it.embargo_until else None,
        "fence": 0,
        "attempts": 0,
        "created_at": ts,
        "updated_at": ts,
    }


def _event(ts: float, actor: str, d: Delivery, aid: str) -> dict[str, Any]:
    return {
        "at": ts,
        "actor": actor,
        "action": "planned",
        "delivery_id": d.id,
        "article_id": aid,
        "detail": d.channel,
    }
