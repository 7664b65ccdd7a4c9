"""Planning: articles -> one delivery per (article, channel) in the outbox, and `publish`.

    from distributor import publish
    report = publish("article.json", config="distributor.toml", wait=True)
    for plan in report.plans:
        print(plan.article.title, plan.new_channels, plan.known_channels)

Routing and rendering are exactly what `preview` shows (`distributor.service.preview`). Each
article is planned in ONE store transaction: either all its channels get a delivery or, when a
template fails for one channel, none do (the error names the channel). The idempotency key is
fixed here (`platforms.keys.delivery_key`), so every later attempt, in any process, reuses it.
The same article arriving again plans nothing new and is reported as already known.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from distributor.article import Article
from distributor.config import Channel, Settings
from distributor.platforms.keys import delivery_key
from distributor.store.models import Delivery, Filters, PlanItem, PlanResult, State
from distributor.store.planning import PlanJob

if TYPE_CHECKING:
    from distributor.clock import Clock
    from distributor.service import PreviewItem
    from distributor.store.store import Store
    from distributor.store.webhooks import WebhookCall


def account_key(channel: Channel) -> str:
    """The key per-account order and rate limits are kept under (see `Channel.account_key`)."""
    return channel.account_key


@dataclass(frozen=True, slots=True)
class ArticlePlan:
    """What planning did (or, with dry_run, would do) for one article."""

    article: Article
    article_id: str
    created: tuple[Delivery, ...] = ()
    existing: tuple[Delivery, ...] = ()
    would_create: tuple[str, ...] = ()  # dry run: channels that would get a new delivery
    skipped: tuple[tuple[str, str], ...] = ()  # (channel, routing reason)
    error: str | None = None  # a template failed: nothing was planned for this article
    dry_run: bool = False

    @property
    def new_channels(self) -> list[str]:
        return [d.channel for d in self.created] + list(self.would_create)

    @property
    def known_channels(self) -> list[str]:
        return [d.channel for d in self.existing]

    def to_dict(self) -> dict[str, Any]:
        def brief(d: Delivery) -> dict[str, Any]:
            return {"id": d.id, "channel": d.channel, "state": d.state.value}

        return {
            "article_id": self.article_id,
            "url": self.article.url,
            "title": self.article.title,
            "dry_run": self.dry_run,
            "created": [brief(d) for d in self.created],
            "existing": [brief(d) for d in self.existing],
            "would_create": list(self.would_create),
            "skipped": [{"channel": c, "reason": r} for c, r in self.skipped],
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class PublishReport:
    """`publish`: the plans per article and, with `wait`, the final deliveries."""

    plans: list[ArticlePlan]
    outcomes: list[Delivery] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [p.error for p in self.plans if p.error]

    @property
    def failed(self) -> list[Delivery]:
        return [d for d in self.outcomes if d.state is State.FAILED]


def plan_previews(
    items: Sequence[PreviewItem],
    store: Store | None,
    *,
    source: str = "cli",
    dry_run: bool = False,
    now: datetime | None = None,
    webhook: WebhookCall | None = None,
    tz: str = "UTC",
    at: datetime | None = None,
) -> list[ArticlePlan]:
    """Plan rendered preview items (grouped by article, in order); `store` may be None only
    for a dry run against a database that does not exist yet. `webhook` (one article only)
    records the request id in the plan's transaction: `Store.plan`. `at` overrides every
    article's `publish_at`; `tz` is the newsroom time zone (naive times, quiet hours)."""
    groups: dict[int, list[PreviewItem]] = {}
    for item in items:
        groups.setdefault(id(item.article), []).append(item)
    return [
        _plan_article(
            group, store, source=source, dry_run=dry_run, now=now, webhook=webhook, when=(tz, at)
        )
        for group in groups.values()
    ]


def _plan_article(
    group: list[PreviewItem],
    store: Store | None,
    *,
    source: str,
    dry_run: bool,
    now: datetime | None,
    webhook: WebhookCall | None = None,
    when: tuple[str, datetime | None] = ("UTC", None),
) -> ArticlePlan:
    article = group[0].article
    ready = prepare(article, group, source=source, now=now, webhook=webhook, when=when)
    if isinstance(ready, str) or dry_run:
        aid = (
            store.article_id_for(article.identity_keys()) if store else None
        ) or article.article_id
        if isinstance(ready, str):  # nothing half-written: a broken template stops the article
            return ArticlePlan(
                article, aid, skipped=ready_skips(group), error=ready, dry_run=dry_run
            )
        known = _known(store, aid)
        items = list(ready.job.items(aid))
        return ArticlePlan(
            article,
            aid,
            existing=tuple(known[it.channel] for it in items if it.channel in known),
            would_create=tuple(it.channel for it in items if it.channel not in known),
            skipped=ready.skipped,
            dry_run=True,
        )
    assert store is not None
    (result,) = store.plan_batch([ready.job], now=now, replay_raises=True)
    assert isinstance(result, PlanResult)
    return settle(store, ready, result)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One rendered article ready for the store (`Store.plan_batch`), and what comes after."""

    job: PlanJob
    skipped: tuple[tuple[str, str], ...]  # (channel, routing reason)
    embargo_until: datetime | None


def prepare(
    article: Article,
    group: Sequence[PreviewItem],
    *,
    source: str,
    now: datetime | None,
    webhook: WebhookCall | None = None,
    when: tuple[str, datetime | None] = ("UTC", None),
) -> Prepared | str:
    """The store job for one article's rendered items (none: no channel), or the one-line
    error that stops the whole article (a template failed, a time that does not exist)."""
    errors = [_named(i.channel.name, i.error) for i in group if i.error]
    if errors:
        return f"{article.url}: not planned: " + "; ".join(errors)
    try:
        timing = Timing.of(article, *when)
    except ValueError as exc:
        return f"{article.url}: not planned: {exc}"
    drafted = [i for i in group if i.draft is not None]

    def items(aid: str) -> list[PlanItem]:
        return [_item(i, aid, now, timing) for i in drafted]

    return Prepared(
        PlanJob(article, items, source, webhook), ready_skips(group), timing.embargo_until
    )


def ready_skips(group: Sequence[PreviewItem]) -> tuple[tuple[str, str], ...]:
    return tuple((i.channel.name, i.skipped) for i in group if i.skipped)


def settle(store: Store, ready: Prepared, result: PlanResult) -> ArticlePlan:
    """After the commit: an embargo moved later holds the deliveries that still wait."""
    existing = result.existing
    if ready.embargo_until and existing:
        moved = {
            d.id: d
            for d in store.raise_embargo(
                [d.id for d in existing], ready.embargo_until, actor=ready.job.source or "plan"
            )
        }
        existing = tuple(moved.get(d.id, d) for d in existing)
    article = ready.job.article
    return ArticlePlan(article, result.article_id, result.created, existing, (), ready.skipped)


def _named(channel: str, error: str) -> str:
    return error if repr(channel) in error else f"channel {channel!r}: {error}"


@dataclass(frozen=True, slots=True)
class Timing:
    """An article's schedule in UTC: publish_at (or `--at`), embargo, priority rank."""

    tz: str
    publish_at: datetime | None
    embargo_until: datetime | None
    priority: int

    @classmethod
    def of(cls, article: Article, tz: str, at: datetime | None) -> Timing:
        from distributor.schedule.rules import as_utc, priority_rank

        pub = at or article.publish_at
        emb = article.embargo_until
        return cls(
            tz,
            as_utc(pub, tz, "publish_at") if pub else None,
            as_utc(emb, tz, "embargo_until") if emb else None,
            priority_rank(article.priority),
        )


def _not_before(channel: Channel, now: datetime | None, t: Timing) -> datetime | None:
    """When the delivery may go first (None: at once): delay, publish_at, embargo, quiet."""
    from distributor.schedule.rules import earliest

    if now is None:
        return t.embargo_until or t.publish_at
    ready = now + timedelta(seconds=channel.delay)
    at = earliest(
        ready,
        publish_at=t.publish_at,
        embargo_until=t.embargo_until,
        quiet=channel.quiet,
        tz_name=t.tz,
        breaking=t.priority > 0,
    )
    return at if at > now else None


def _item(item: PreviewItem, article_id: str, now: datetime | None, timing: Timing) -> PlanItem:
    channel, draft = item.channel, item.draft
    assert draft is not None
    not_before = _not_before(channel, now, timing)
    return PlanItem(
        channel=channel.name,
        platform=channel.platform,
        account_key=account_key(channel),
        draft={**draft.to_dict(), "article_id": article_id},
        idem_key=delivery_key(article_id, channel.name),
        review=channel.review,
        not_before=not_before,
        priority=timing.priority,
        embargo_until=timing.embargo_until,
    )


def _known(store: Store | None, article_id: str) -> dict[str, Delivery]:
    if store is None:
        return {}
    page, _ = store.query(Filters(article_id=article_id), limit=1000)
    return {d.channel: d for d in page if d.generation == 0}


def publish(
    source: str | Article | Iterable[Article],
    *,
    config: Settings | str | Path | None = None,
    channels: Sequence[str] = (),
    dry_run: bool = False,
    wait: bool = False,
    timeout: float | None = None,
    store: Store | None = None,
    database: str | None = None,
    clock: Clock | None = None,
    stdin: IO[str] | None = None,
    at: datetime | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> PublishReport:
    """Plan `source` (file, feed, URL, `-`, Article(s)) for every routed channel; with `wait`,
    dispatch in this process until its deliveries are final, unknown or awaiting review.

    Uses `store` if given, else opens `database` (default: the configuration's). A dry run
    writes nothing, not even a new database file. `at` (aware) overrides every article's
    `publish_at` (docs/scheduling.md). With `wait`, `on_progress(settled, total)` is told how
    far the sends are, about every 0.2 s.
    """
    from distributor.clock import SYSTEM
    from distributor.dispatch.worker import DEFAULT_CONCURRENCY, store_threads
    from distributor.service import _settings, preview
    from distributor.store import open_store

    settings = _settings(config)
    clock = clock or SYSTEM
    items = preview(source, config=settings, channels=channels, stdin=stdin)
    url = database or settings.database_url
    pool = settings.database_pool or (store_threads(DEFAULT_CONCURRENCY) if wait else None)
    db = store
    if db is None:
        db = open_existing(url, clock) if dry_run else open_store(url, clock=clock, pool=pool)
    try:
        plans = plan_previews(
            items,
            db,
            source=_source_name(source),
            dry_run=dry_run,
            now=clock.now(),
            tz=settings.timezone,
            at=at,
        )
        if not wait or dry_run or db is None:
            return PublishReport(plans)
        from distributor.dispatch import Dispatcher

        ids = [d.id for p in plans for d in (*p.created, *p.existing)]
        dispatcher = Dispatcher(settings, db, clock=clock)
        outcomes = dispatcher.wait_for(ids, timeout=timeout, on_progress=on_progress)
        return PublishReport(plans, outcomes)
    finally:
        if db is not None and db is not store:
            db.close()


def open_existing(url: str, clock: Clock) -> Store | None:
    """The store at `url` without creating or migrating it (None: an SQLite file that does
    not exist yet, so a dry run writes nothing at all)."""
    from distributor.store import open_store

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    return open_store(url, clock=clock, migrate=False)


def _source_name(source: object) -> str:
    return f"publish:{source}"[:200] if isinstance(source, str) else "publish:api"
