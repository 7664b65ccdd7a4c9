"""`distributor watch`: poll RSS/Atom feeds and plan every new item like any other source.

    from distributor.watch import watch
    results = watch(["https://www.example.de/rss"], config="distributor.toml", once=True)

Each round polls every feed once (conditional GET, timeouts, size cap, allowed hosts only; see
`poll.py`), then waits until `interval` seconds after the round started. A feed that fails is
logged and retried next round; the others go on. `stop` (SIGTERM in the CLI) ends the loop
between two feeds, so a poll in progress finishes and records what it planned.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from distributor.watch.poll import Feed, Poller, PollResult, feed_for

if TYPE_CHECKING:
    from distributor.clock import Clock
    from distributor.config import Settings
    from distributor.store.store import Store

__all__ = [
    "Feed",
    "PollResult",
    "Poller",
    "feed_for",
    "run",
    "watch",
]

log = logging.getLogger("distributor.watch")


def run(
    poller: Poller,
    feeds: Sequence[Feed],
    *,
    interval: float,
    stop: threading.Event,
    once: bool = False,
    on_round: Callable[[list[PollResult]], None] | None = None,
) -> list[PollResult]:
    """Poll `feeds` every `interval` seconds until `stop` is set (or one round with `once`);
    returns the last round's results."""
    results: list[PollResult] = []
    while not stop.is_set():
        started = poller.clock.monotonic()
        results = []
        for feed in feeds:
            if stop.is_set():
                break
            results.append(_poll_safely(poller, feed))
        if on_round is not None:
            on_round(results)
        if once:
            break
        stop.wait(max(0.0, interval - (poller.clock.monotonic() - started)))
    return results


def _poll_safely(poller: Poller, feed: Feed) -> PollResult:
    """A store or program error on one feed is logged; the other feeds and rounds go on."""
    from distributor.errors import DistributorError

    try:
        return poller.poll(feed)
    except DistributorError as exc:
        log.error("%s: %s", feed.key, exc, extra={"ctx": {"feed": feed.key}})
        return PollResult(feed.key, "error", error=f"{feed.key}: {exc}")
    except Exception as exc:  # a bug must not stop the other feeds of a long-running watcher
        log.exception("%s: unexpected error", feed.key, extra={"ctx": {"feed": feed.key}})
        return PollResult(feed.key, "error", error=f"{feed.key}: {type(exc).__name__}")


def watch(
    sources: Sequence[str] = (),
    *,
    config: Settings | str | Path | None = None,
    store: Store | None = None,
    database: str | None = None,
    interval: float | None = None,
    backfill: int = 0,
    max_new: int | None = None,
    rebaseline: bool = False,
    once: bool = False,
    stop: threading.Event | None = None,
    clock: Clock | None = None,
    on_plan: Callable[[str, int, int], None] | None = None,
) -> list[PollResult]:
    """Watch `sources` (else `[watch] feeds`) until `stop`; with `once`, one round.

    Every source is checked before the first poll (scheme, allowed host, file exists):
    ConfigError names the first bad one. Returns the last round's results. `on_plan(feed,
    done, total)` follows the planning of a backfill (for a progress bar).
    """
    from distributor.clock import SYSTEM
    from distributor.errors import ConfigError
    from distributor.service import _settings
    from distributor.store import open_store

    settings = _settings(config)
    conf = settings.watch
    names = list(sources) or list(conf.feeds)
    if not names:
        raise ConfigError(
            f"{settings.where}: no feeds to watch: give FEED_URL or FILE, or set [watch] feeds"
        )
    feeds = list({f.key: f for f in (feed_for(name, conf) for name in names)}.values())
    clock = clock or SYSTEM
    db = store or open_store(database or settings.database_url, clock=clock)
    try:
        poller = Poller(
            settings,
            db,
            conf,
            clock=clock,
            backfill=backfill,
            max_new=max_new,
            rebaseline=rebaseline,
            on_plan=on_plan,
        )
        every = conf.interval if interval is None else interval
        return run(poller, feeds, interval=every, stop=stop or threading.Event(), once=once)
    finally:
        if db is not store:
            db.close()
