"""`distributor watch`: poll feeds and plan their new items (see docs/watch.md).

Exit codes: 0 stopped by SIGTERM/Ctrl-C, or `--once` polled every feed; 2 a bad FEED argument
or `[watch]` setting (nothing polled); 3 the store; 6 `--once` and at least one feed failed
(timeout, HTTP error, broken feed, refused address, too many new items held); the other
feeds were still polled;
130 a second SIGTERM/Ctrl-C while a poll was still running.
"""

from __future__ import annotations

from typing import Any

import click

from distributor.cli.common import print_json, settings, store_options
from distributor.cli.preview import use_config
from distributor.cli.publish import _info_logs

FEED_FAILED = 6


@click.command()
@click.argument("feeds", nargs=-1, metavar="[FEED_URL|FILE]...")
@store_options
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Seconds between polls of each feed (default: [watch] interval, else 120).",
)
@click.option(
    "--backfill",
    type=click.IntRange(min=0),
    default=0,
    metavar="N",
    help="On a feed's first poll, plan its newest N items (default 0: record the backlog only).",
)
@click.option(
    "--max-new",
    type=click.IntRange(min=0),
    metavar="N",
    help="Hold a feed with more than N new items in one poll (default [watch] max_new, 20; "
    "0: no limit).",
)
@click.option(
    "--baseline",
    is_flag=True,
    help="Treat this first poll of every feed as its first ever: record its unknown items as "
    "known (or plan the newest --backfill N). For a feed whose links all changed.",
)
@click.option("--once", is_flag=True, help="Poll every feed once, then exit (for cron).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the results as JSON.")
@click.pass_context
def watch(
    ctx: click.Context,
    feeds: tuple[str, ...],
    config: str | None,
    database: str | None,
    interval: float | None,
    backfill: int,
    max_new: int | None,
    baseline: bool,
    once: bool,
    as_json: bool,
) -> None:
    """Poll RSS/Atom feeds and plan one delivery per channel for every NEW item.

    Feeds are URLs on hosts listed in `[watch] allow_hosts`, or local files; without
    arguments, `[watch] feeds` is used. Items are new by identity (canonical URL or guid):
    re-dated, re-ordered, edited or re-tagged items are never planned again. A feed's first
    poll records its items as known and plans nothing, unless --backfill N. One log line per
    feed and poll. SIGTERM/Ctrl-C finishes the feed being polled and exits 0; a second
    one stops at once (exit 130).

    Exit codes: 0 fine; 2 bad feed argument or [watch] setting; 3 store; 6 with --once, some
    feed failed (the others were polled); 130 stopped by a second signal.
    """
    from distributor.signals import StopSignals
    from distributor.watch import watch as run_watch

    use_config(ctx, config)
    _info_logs(ctx)

    bar = BackfillBar() if backfill else None
    signals = StopSignals(finishing="finishing the poll in progress")
    try:
        with signals as stop:
            results = run_watch(
                feeds,
                config=settings(ctx),
                database=database,
                interval=interval,
                backfill=backfill,
                max_new=max_new,
                rebaseline=baseline,
                once=once,
                stop=stop,
                on_plan=bar,
            )
    finally:
        if bar is not None:
            bar.close()
    if as_json:
        print_json([r.to_dict() for r in results])
    if once and any(not r.ok for r in results):
        ctx.exit(FEED_FAILED)
    if not once:
        click.echo("watch stopped", err=True)


class BackfillBar:
    """A progress bar while a feed's backfill is planned (on a terminal; none when piped).

    It exists only during that planning: the watch loop's log lines never cross a live bar."""

    def __init__(self) -> None:
        self._open: Any = None
        self._bar: Any = None

    def __call__(self, feed: str, done: int, total: int) -> None:
        from distributor.progress import progress

        if self._bar is None:
            self._open = progress(f"backfill {feed}", total=total)
            self._bar = self._open.__enter__()
        self._bar.update(completed=done, total=total)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._open is not None:
            self._open.__exit__(None, None, None)
            self._open = self._bar = None
