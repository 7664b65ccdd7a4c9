"""The Store: every method is one short committed transaction (never held across HTTP)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.clock import SYSTEM, Clock
from distributor.errors import StoreError
from distributor.store import rows
from distributor.store.admin_sessions import AdminSessionsMixin
from distributor.store.alerts import AlertsMixin
from distributor.store.claim import ClaimMixin
from distributor.store.feeds import FeedsMixin
from distributor.store.fenced import ATTEMPTS_PLUS_ONE, FencedMixin
from distributor.store.models import (
    LEASED,
    Attempt,
    Delivery,
    PlanItem,
    PlanResult,
    State,
    allowed,
    to_ts,
)
from distributor.store.progress import ProgressMixin
from distributor.store.queries import QueriesMixin
from distributor.store.schedule import ScheduleMixin
from distributor.store.wakeup import Waiter, notify, waiter_for
from distributor.store.webhooks import WebhookCall, WebhooksMixin

if TYPE_CHECKING:
    from distributor.article import Article

_OUTCOMES = {
    "sent": State.SENT,
    "retry": State.RETRY_WAIT,
    "unknown": State.UNKNOWN,
    "failed": State.FAILED,
}


class Store(
    FencedMixin,
    ClaimMixin,
    ScheduleMixin,
    ProgressMixin,
    AlertsMixin,
    FeedsMixin,
    WebhooksMixin,
    AdminSessionsMixin,
    QueriesMixin,
):
    """The post log and outbox on SQLite or PostgreSQL (see docs/store.md)."""

    def __init__(self, engine: Any, md: Any, clock: Clock = SYSTEM) -> None:
        self._engine = engine
        self._t = md.tables
        self._clock = clock
        self._stmts: dict[Any, Any] = {}  # hot statements, built once (store/fenced.py)

    @property
    def dialect(self) -> str:
        return str(self._engine.dialect.name)

    def close(self) -> None:
        self._engine.dispose()

    def waiter(self) -> Waiter:
        """A wake-up source for idle workers (see store/wakeup.py)."""
        return waiter_for(self._engine.url.render_as_string(hide_password=False))

    def _now(self, now: datetime | None) -> float:
        return to_ts(now if now is not None else self._clock.now())

    # -- planning -----------------------------------------------------------------------
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
        ts = self._now(now)
        items = list(items)
        with self._engine.begin() as conn:
            if webhook is not None:
                self._claim_webhook(conn, webhook.id, ts)
            aid = self._upsert_article(conn, article, source, ts)
            d = self._t["deliveries"]
            created: list[int] = []
            existing: list[int] = []
            for it in items:
                state = State.AWAITING_REVIEW if it.review else State.QUEUED
                nb = to_ts(it.not_before) if it.not_before else None
                stmt = (
                    rows.insert_ignore(conn, d)
                    .values(
                        article_id=aid,
                        channel=it.channel,
                        platform=it.platform,
                        account_key=it.account_key,
                        generation=it.generation,
                        state=state.value,
                        draft=it.draft,
                        idem_key=it.idem_key,
                        not_before=nb,
                        priority=it.priority,
                        embargo_until=to_ts(it.embargo_until) if it.embargo_until else None,
                        fence=0,
                        attempts=0,
                        created_at=ts,
                        updated_at=ts,
                    )
                    .returning(d.c.id)
                )
                new_id = conn.execute(stmt).scalar()
                if new_id is not None:
                    created.append(new_id)
                    self._event(conn, ts, source or "plan", "planned", new_id, aid, it.channel)
                else:
                    existing.append(
                        conn.execute(
                            d.select()
                            .with_only_columns(d.c.id)
                            .where(
                                d.c.article_id == aid,
                                d.c.channel == it.channel,
                                d.c.generation == it.generation,
                            )
                        ).scalar_one()
                    )
            got = {
                r.id: rows.delivery(r)
                for r in conn.execute(d.select().where(d.c.id.in_(created + existing)))
            }
            result = PlanResult(
                aid, tuple(got[i] for i in created), tuple(got[i] for i in existing)
            )
            if webhook is not None:
                self._answer_webhook(conn, webhook.id, webhook.respond(result))
            if created:
                notify(conn)
        return result

    def _upsert_article(self, conn: Any, article: Article, source: str, ts: float) -> str:
        keys_t, art_t = self._t["article_keys"], self._t["articles"]
        keys = list(article.identity_keys())
        found = conn.execute(keys_t.select().where(keys_t.c.key.in_(keys))).first()
        aid = found.article_id if found else article.article_id
        conn.execute(
            rows.insert_ignore(conn, art_t).values(
                id=aid,
                canonical_url=article.canonical_url,
                guid=article.guid,
                title=article.title,
                data=article.to_dict(),
                first_seen=ts,
                source=source,
            )
        )
        for key in keys:
            conn.execute(rows.insert_ignore(conn, keys_t).values(key=key, article_id=aid))
        return str(aid)

    def renew_lease(
        self, id: int, fence: int, *, lease_seconds: float, now: datetime | None = None
    ) -> Delivery:
        ts = self._now(now)
        with self._engine.begin() as conn:
            return self._fenced(
                conn, id, fence, LEASED, {"lease_until": ts + lease_seconds, "updated_at": ts}
            )

    def release(self, id: int, fence: int, *, now: datetime | None = None) -> Delivery:
        """claimed -> queued (worker shutting down before sending)."""
        ts = self._now(now)
        with self._engine.begin() as conn:
            return self._fenced(
                conn,
                id,
                fence,
                [State.CLAIMED],
                {
                    "state": State.QUEUED.value,
                    "lease_owner": None,
                    "lease_until": None,
                    "updated_at": ts,
                },
            )

    def finish(
        self,
        id: int,
        fence: int,
        outcome: str,
        attempt: Attempt,
        *,
        remote_id: str | None = None,
        remote_url: str | None = None,
        not_before: datetime | None = None,
        error: str | None = None,
        now: datetime | None = None,
    ) -> Delivery:
        """Record the attempt and move to sent | retry_wait | unknown | failed (fenced)."""
        if outcome not in _OUTCOMES:
            raise StoreError(f"finish: unknown outcome {outcome!r} (use {', '.join(_OUTCOMES)})")
        if outcome == "retry" and not_before is None:
            raise StoreError("finish: outcome 'retry' needs not_before")
        ts = self._now(now)
        to = _OUTCOMES[outcome]
        values: dict[str, Any] = {
            "state": to.value,
            "lease_owner": None,
            "lease_until": None,
            "updated_at": ts,
            "attempts": ATTEMPTS_PLUS_ONE,
            "error_kind": attempt.error_kind,
            "last_error": error if error is not None else (attempt.detail or None),
        }
        if to is State.SENT:
            values.update(
                remote_id=remote_id,
                remote_url=remote_url,
                sent_at=ts,
                last_error=None,
                error_kind=None,
            )
        if not_before is not None:
            values["not_before"] = to_ts(not_before)
        src = [s for s in LEASED if allowed(s, to)]
        with self._engine.begin() as conn:
            out = self._fenced(conn, id, fence, src, values)
            self._append_attempt(conn, id, attempt, out.attempts)
        return out

    # -- human / reconcile transitions --------------------------------------------------
    def transition(
        self,
        id: int,
        to: State,
        *,
        actor: str,
        reason: str = "",
        from_states: Iterable[State] | None = None,
        not_before: datetime | None = None,
        remote_id: str | None = None,
        remote_url: str | None = None,
        draft: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Delivery:
        """Move a delivery (approve, cancel, retry, reconcile); checks the transition table and
        `from_states`, bumps the fence when leaving a leased state, records an event. `draft`
        replaces the post (approve with an edited text) in the same transaction."""
        ts = self._now(now)
        d = self._t["deliveries"]
        with self._engine.begin() as conn:
            sel = d.select().where(d.c.id == id)
            if conn.dialect.name == "postgresql":
                sel = sel.with_for_update()
            cur = conn.execute(sel).first()
            if cur is None:
                raise StoreError(f"delivery {id} does not exist")
            src = State(cur.state)
            if (from_states is not None and src not in set(from_states)) or not allowed(src, to):
                raise StoreError(f"delivery {id}: cannot go from {src} to {to}")
            values: dict[str, Any] = {"state": to.value, "updated_at": ts}
            if src in LEASED or to is State.QUEUED:
                values.update(fence=cur.fence + 1, lease_owner=None, lease_until=None)
            if not_before is not None or to is State.QUEUED:
                # approving keeps the schedule (a post planned for 07:30 must not go now)
                keep = cur.not_before if src is State.AWAITING_REVIEW else None
                values["not_before"] = to_ts(not_before) if not_before else keep
            if to is State.SENT:
                values.update(remote_id=remote_id, remote_url=remote_url, sent_at=ts)
            if draft is not None:
                values["draft"] = draft
            row = conn.execute(
                d.update()
                .where(d.c.id == id, d.c.state == src.value)
                .values(**values)
                .returning(*d.c)
            ).one()
            self._event(conn, ts, actor, f"{src}->{to}", id, cur.article_id, reason)
            if to is State.QUEUED:
                notify(conn)
        return rows.delivery(row)
