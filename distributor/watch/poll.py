"""One poll of one feed: conditional fetch, parse, plan what is new, remember what was seen.

What counts as new is decided by the store's identity keys (canonical URL, guid), never by the
feed's order or dates: an item re-dated, moved to the top, edited or given other `utm_*`
parameters is the same article and is not planned again. The first successful poll of a feed
records its backlog as known (articles with no deliveries) unless `backfill` asks to plan the
newest N. Validators (ETag, Last-Modified) are stored only after the items are planned, so a
crash in between re-reads the feed instead of losing its new items behind a 304; they are not
stored at all when an item failed to plan (a template error), so the next poll tries it again.
More than `max_new` new items in one later poll are held (nothing planned or recorded, an error
each poll) until a person re-baselines the feed or raises the limit: a feed whose links all
changed must not flood the channels.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from distributor.errors import ArticleError, ConfigError
from distributor.sources.hosts import HostRefused

if TYPE_CHECKING:
    from collections.abc import Callable

    from distributor.article import Article
    from distributor.clock import Clock
    from distributor.config import Settings, WatchSettings
    from distributor.sources.files import Raw
    from distributor.store.feeds import FeedState
    from distributor.store.store import Store

log = logging.getLogger("distributor.watch")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed to watch: `key` is its URL, or the absolute path of a local file."""

    key: str
    is_url: bool


def feed_for(source: str, watch: WatchSettings) -> Feed:
    """Check a FEED argument up front: http(s) on an allowed host, or an existing file."""
    from urllib.parse import urlsplit

    scheme = _SCHEME.match(source)
    if scheme is None:
        path = Path(source).expanduser()
        if not path.is_file():
            raise ConfigError(f"{source}: no such feed file (give an http(s) URL or a file)")
        return Feed(str(path.resolve()), is_url=False)
    if scheme.group(1).lower() not in ("http", "https"):
        raise ConfigError(f"{source}: only http:// and https:// feeds can be watched")
    host = urlsplit(source).hostname
    if not host:
        raise ConfigError(f"{source}: the URL has no host")
    try:
        watch.hosts.check_name(host)
    except HostRefused as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return Feed(source, is_url=True)


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll of one feed did (`line()` is the log line)."""

    feed: str
    status: str  # "fetched", "not modified", "unchanged", "held", "error"
    items: int = 0
    new: int = 0  # articles planned
    remembered: int = 0  # articles recorded as known without deliveries (backlog)
    planned: tuple[int, ...] = ()  # delivery ids created
    first: bool = False
    error: str | None = None
    problems: tuple[str, ...] = field(default=())  # articles that failed to plan (templates)
    ms: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        if self.error is not None:
            return f"{self.error} ({self.ms} ms)"
        if self.status != "fetched":
            return f"{self.feed}: {self.status} ({self.ms} ms)"
        head = f"{self.feed}: {self.items} items"
        if self.first:
            head += f", first poll: {self.remembered} recorded as known"
        return f"{head}, {self.new} new, {len(self.planned)} deliveries planned ({self.ms} ms)"

    def to_dict(self) -> dict[str, Any]:
        return {
            "feed": self.feed,
            "status": self.status,
            "items": self.items,
            "new": self.new,
            "remembered": self.remembered,
            "planned": list(self.planned),
            "first": self.first,
            "error": self.error,
            "problems": list(self.problems),
            "ms": self.ms,
        }


class Poller:
    """Polls feeds into one store; one instance per `distributor watch` process."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        watch: WatchSettings,
        *,
        clock: Clock,
        backfill: int = 0,
        max_new: int | None = None,
        rebaseline: bool = False,
        on_plan: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.settings, self.store, self.watch, self.clock = settings, store, watch, clock
        self.backfill = backfill
        self.on_plan = on_plan  # (feed, planned so far, to plan): a progress bar's feed
        self.max_new = watch.max_new if max_new is None else max_new
        self.rebaseline = rebaseline  # treat each feed's first poll here as its first ever
        self._polled: set[str] = set()

    def poll(self, feed: Feed) -> PollResult:
        """Poll `feed` once; a fetch or parse failure is a result, never an exception."""
        started = self.clock.monotonic()
        state = self.store.feed_state(feed.key)
        try:
            result = self._poll(feed, state)
        except ArticleError as exc:
            self.store.record_poll(feed.key, "error", ok=False, error=str(exc))
            result = PollResult(feed.key, "error", error=str(exc))
        ms = int((self.clock.monotonic() - started) * 1000)
        result = _with_ms(result, ms)
        level = logging.WARNING if not result.ok or result.problems else logging.INFO
        log.log(level, "%s", result.line())
        for problem in result.problems:
            log.warning("%s", problem)
        return result

    def _poll(self, feed: Feed, state: FeedState | None) -> PollResult:
        first = state is None or state.baseline_at is None
        first = first or (self.rebaseline and feed.key not in self._polled)
        raw, validators = self._read(feed, None if first else state)
        if raw is None:
            status = "not modified" if feed.is_url else "unchanged"
            self.store.record_poll(feed.key, status, ok=True)
            return PollResult(feed.key, status)
        from distributor.sources import parse_articles

        articles = parse_articles(raw)
        result = self._ingest(feed, articles, first)
        if result.error is not None:  # held: nothing stored, asked again next poll
            self.store.record_poll(feed.key, "held", ok=False, error=result.error)
            return result
        self._polled.add(feed.key)
        if result.problems:  # no validators: the next poll re-reads the feed and tries again
            validators = (None, None)
        self.store.record_poll(
            feed.key,
            "fetched",
            ok=True,
            validators=validators,
            items=len(articles),
            new=result.new,
            baseline=True,
        )
        return result

    def _read(
        self, feed: Feed, state: FeedState | None
    ) -> tuple[Raw | None, tuple[str | None, str | None]]:
        """The feed's bytes (None: not modified since `state`) and its new validators."""
        from distributor.sources.files import fetch_url, read_file

        if not feed.is_url:
            stamp = _file_stamp(feed.key)
            if state is not None and state.etag == stamp:
                return None, (stamp, None)
            return read_file(feed.key), (stamp, None)
        headers = {}
        if state is not None and state.etag:
            headers["If-None-Match"] = state.etag
        if state is not None and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        raw = fetch_url(feed.key, rules=self.watch.rules(), headers=headers)
        if raw.status == 304:
            return None, (raw.etag, raw.last_modified)
        return raw, (raw.etag, raw.last_modified)

    def _ingest(self, feed: Feed, articles: list[Article], first: bool) -> PollResult:
        known = self.store.known_articles(articles)
        fresh = [a for a, k in zip(articles, known, strict=True) if not k]
        chosen = fresh
        if not first and 0 < self.max_new < len(fresh):
            return PollResult(feed.key, "held", items=len(articles), error=self._held(feed, fresh))
        if first:
            newest = {id(a) for a in _newest_first(articles)[: self.backfill]}
            chosen = [a for a in fresh if id(a) in newest]
        chosen_ids = {id(a) for a in chosen}
        backlog = [a for a in fresh if id(a) not in chosen_ids]
        source = f"watch:{feed.key}"[:200]
        remembered = self.store.remember(backlog, source=source, now=self.clock.now())
        plans = self._plan(_oldest_first(chosen), source) if chosen else []
        return PollResult(
            feed.key,
            "fetched",
            items=len(articles),
            new=sum(1 for p in plans if not p.error),
            remembered=remembered,
            planned=tuple(d.id for p in plans for d in p.created),
            first=first,
            problems=tuple(p.error for p in plans if p.error),
        )

    def _held(self, feed: Feed, fresh: list[Article]) -> str:
        # Many "new" items at once is more often a feed that changed all its links (new domain,
        # https, new CMS) than real news: a person decides instead of the channels being flooded.
        return (
            f"{feed.key}: {len(fresh)} new items at once, more than [watch] max_new = "
            f"{self.max_new}; nothing planned. If the links changed, `distributor watch "
            f"{feed.key} --once --baseline` records them as known; to post them all, "
            "--max-new 0"
        )

    def _plan(self, articles: list[Article], source: str) -> list[Any]:
        """Route, render and plan exactly as `publish` does (one article at a time when
        someone follows the progress)."""
        from distributor.planning import plan_previews
        from distributor.service import preview

        tz = self.settings.timezone
        batches = [articles] if self.on_plan is None else [[a] for a in articles]
        plans: list[Any] = []
        for done, batch in enumerate(batches):
            self._progress(source, done, len(batches))
            items = preview(batch, config=self.settings)
            plans += plan_previews(items, self.store, source=source, now=self.clock.now(), tz=tz)
        self._progress(source, len(batches), len(batches))
        return plans

    def _progress(self, source: str, done: int, total: int) -> None:
        if self.on_plan is not None:
            self.on_plan(source.removeprefix("watch:"), done, total)


def _file_stamp(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ArticleError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    return f"file:{st.st_mtime_ns}:{st.st_size}"


_EPOCH = datetime.min.replace(tzinfo=UTC)


def _newest_first(articles: list[Article]) -> list[Article]:
    """By publication time, newest first; undated items keep the feed's (newest-first) order."""
    indexed = list(enumerate(articles))
    indexed.sort(key=lambda p: (p[1].published_at or p[1].updated_at or _EPOCH, -p[0]))
    return [a for _, a in reversed(indexed)]


def _oldest_first(articles: list[Article]) -> list[Article]:
    """Plan in publication order, so each account posts the older story first."""
    return list(reversed(_newest_first(articles)))


def _with_ms(result: PollResult, ms: int) -> PollResult:
    from dataclasses import replace

    return replace(result, ms=ms)
