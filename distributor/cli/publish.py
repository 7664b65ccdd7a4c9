"""`distributor publish`, `worker` and `reconcile`: plan deliveries, send them, resolve unknowns.

Exit codes: 0 fine; 2 bad input, configuration or template (that article planned nothing);
3 the store; 4 `publish --wait` ended with a failed delivery; 5 it ended with an unknown one
(nothing failed, but a person or `distributor reconcile` must decide); 7 it ended with a
delivery not sent yet (the timeout, or a platform unreachable; a worker sends it later).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from distributor.cli.common import (
    console,
    echo,
    open_store_for,
    print_json,
    settings,
    store_options,
)
from distributor.cli.preview import article_source, text_options, use_config
from distributor.cli.schedule import at_option, parse_at_option

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.dispatch import Dispatcher
    from distributor.planning import ArticlePlan
    from distributor.store.models import Delivery
    from distributor.store.store import Store


@click.command()
@click.argument("source", metavar="ARTICLE_OR_FEED")
@store_options
@click.option(
    "--channel", "channels", multiple=True, metavar="NAME", help="Only this channel (repeatable)."
)
@click.option("--dry-run", is_flag=True, help="Show what would be planned; write nothing.")
@click.option("--wait", is_flag=True, help="Send now, in this process, and show the outcomes.")
@click.option("--timeout", type=click.FloatRange(min=0), help="With --wait: give up after N s.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan (and outcomes) as JSON.")
@at_option
@text_options
@click.pass_context
def publish(
    ctx: click.Context,
    source: str,
    config: str | None,
    database: str | None,
    channels: tuple[str, ...],
    dry_run: bool,
    wait: bool,
    timeout: float | None,
    as_json: bool,
    at: str | None,
    url: str | None,
    source_format: str,
) -> None:
    """Plan one delivery per channel for every article in ARTICLE_OR_FEED (and send them).

    ARTICLE_OR_FEED is what `preview` takes: an article file (JSON/YAML), a feed, a saved page,
    a URL or `-`, or with --url URL a plain-text article. An article planned before (any
    source, any process) plans nothing new and is reported as already known. Without --wait,
    a running `distributor worker` sends them. Channels with `review = true` wait for
    `distributor approve`.

    --at TIME posts no earlier than then (the article's `publish_at` otherwise); times
    without an offset are the newsroom's (`[distributor] timezone`). See docs/scheduling.md.

    Exit code 4 if --wait ended with a failed delivery, 5 with one whose outcome is unknown,
    7 with one not sent yet (--timeout passed, or the platform is unreachable).
    """
    from distributor.cli.waiting import sending_progress
    from distributor.planning import publish as run_publish

    use_config(ctx, config)
    when = parse_at_option(ctx, at) if at else None
    with sending_progress(ctx, wait) as on_progress:
        report = run_publish(
            article_source(source, url, source_format),
            config=settings(ctx),
            channels=channels,
            dry_run=dry_run,
            wait=wait,
            timeout=timeout,
            database=database,
            at=when,
            on_progress=on_progress,
        )
    _report(ctx, report.plans, report.outcomes, as_json)


def _clock() -> Any:
    from distributor.clock import SYSTEM

    return SYSTEM


def _dispatcher(conf: Settings, store: Store, concurrency: int = 4) -> Dispatcher:
    from distributor.dispatch import Dispatcher

    return Dispatcher(conf, store, concurrency=concurrency)


def _report(
    ctx: click.Context, plans: Sequence[ArticlePlan], outcomes: list[Delivery], as_json: bool
) -> None:
    from distributor.cli.waiting import EXIT_NOT_SENT, not_sent_line
    from distributor.review import row
    from distributor.store.models import State

    if as_json:
        print_json(
            {"articles": [p.to_dict() for p in plans], "outcomes": [row(d) for d in outcomes]}
        )
    else:
        for plan in plans:
            echo(_plan_line(plan))
        if outcomes:
            _outcome_table(outcomes)
    errors = [p.error for p in plans if p.error]
    for error in errors:
        echo(f"error: {error}", err=True)
    not_sent = not_sent_line(outcomes, settings(ctx))
    if not_sent:
        echo(f"error: {not_sent}", err=True)
    states = {d.state for d in outcomes}
    if errors:
        ctx.exit(2)
    if State.FAILED in states:
        ctx.exit(4)
    if State.UNKNOWN in states:
        click.echo("some outcomes are unknown: run `distributor reconcile`, then `audit`", err=True)
        ctx.exit(5)
    if not_sent:
        ctx.exit(EXIT_NOT_SENT)


def _plan_line(plan: ArticlePlan) -> str:
    head = f"{plan.article.title} [{plan.article_id}]"
    parts = []
    if plan.error:
        return f"{head}: nothing planned (see the error below)"
    if plan.new_channels:
        verb = "would plan" if plan.dry_run else "planned"
        parts.append(f"{verb} {', '.join(plan.new_channels)}" + _goes(plan))
    if plan.known_channels:
        parts.append(f"already known on {', '.join(plan.known_channels)}")
    if plan.skipped:
        parts.append("skipped " + ", ".join(f"{c} ({r})" for c, r in plan.skipped))
    return f"{head}: " + ("; ".join(parts) if parts else "no channel takes it")


def _goes(plan: ArticlePlan) -> str:
    """` (goes at ...)` when the new deliveries wait for a time (publish_at, embargo, quiet)."""
    from distributor.review import goes_at, iso

    times = sorted({str(iso(t)) for t in map(goes_at, plan.created) if t})
    return f" (goes at {', '.join(times)})" if times else ""


def _outcome_table(outcomes: list[Delivery]) -> None:
    from rich.table import Table

    table = Table("id", "channel", "state", "tries", "post / reason")
    for d in outcomes:
        where = d.remote_url or d.remote_id or d.last_error or ""
        table.add_row(str(d.id), d.channel, d.state.value, str(d.attempts), where)
    console().print(table)


@click.command()
@store_options
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Sends in flight at once (one per account).",
)
@click.option("--once", is_flag=True, help="One round of claims, then exit.")
@click.option("--until-idle", is_flag=True, help="Exit when nothing is due.")
@click.option(
    "--poll",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between looks at the queue when it is idle.",
)
@click.option("--no-reconcile", is_flag=True, help="Skip reconciling at start-up.")
@click.pass_context
def worker(
    ctx: click.Context,
    config: str | None,
    database: str | None,
    concurrency: int,
    once: bool,
    until_idle: bool,
    poll: float,
    no_reconcile: bool,
) -> None:
    """Send due deliveries until stopped (SIGTERM/Ctrl-C: finish in-flight sends, exit 0).

    Reconciles deliveries a dead worker left behind first, and again every
    `[dispatch] reconcile_every` seconds; checks for alert incidents every `[alerts] check_every`.
    A second signal exits at once (reconcile resolves what was in flight). Any number of workers
    may share one database: each account sends one post at a time, in order, within its `rate`.
    """
    from distributor.cli.worker_ops import schedule
    from distributor.signals import StopSignals

    if once and until_idle:
        raise click.UsageError(
            "--once (one round of claims) and --until-idle (run until nothing is due) "
            "exclude each other: choose one"
        )
    _info_logs(ctx)
    from distributor.dispatch import store_threads

    threads = store_threads(concurrency)
    with open_store_for(ctx, config, database, create=True, threads=threads) as store:
        disp = _dispatcher(settings(ctx), store, concurrency)
        if not no_reconcile:
            _reconcile(settings(ctx), store, disp)
        if once:
            done = disp.run_once()
            click.echo(f"{len(done)} deliveries handled")
            return
        schedule(
            disp, reconcile=None if no_reconcile else lambda: _reconcile(settings(ctx), store, disp)
        )
        signals = StopSignals(
            grace=disp.policy.shutdown_grace,
            finishing=f"finishing sends in flight (at most {disp.policy.shutdown_grace:g}s)",
            forced="reconcile resolves the sends in flight",
        )
        from distributor import heap

        heap.settle()  # what start-up built is out of the GC's full collections
        store.checkpoint_in_background()  # not inside the send threads' group commits
        with signals as stop:
            claims = disp.run(stop, until_idle=until_idle, poll=poll)
        store.worker_stopped(disp.worker_id)  # a clean stop is not a silent worker
        click.echo(f"worker {disp.worker_id} stopped after {claims} claims")


def _info_logs(ctx: click.Context) -> None:
    """Workers log at INFO unless --log-level says otherwise."""
    from distributor import logs

    obj = ctx.find_root().ensure_object(dict)
    if not obj.get("log_level"):
        logs.setup("INFO", obj.get("log_format"), logfile=obj.get("log_file"))


def _reconcile(conf: Settings, store: Store, disp: Dispatcher | None) -> Any:
    from distributor.reconcile import reconcile as run

    if disp is None:
        return run(conf, store, clock=_clock(), actor="reconcile")
    # The worker's own adapters (one per channel) and its name on every decision it records.
    adapter_for = lambda ch: disp.adapter(ch.name)[1]  # noqa: E731
    return run(conf, store, adapter_for=adapter_for, clock=_clock(), actor=disp.worker_id)


@click.command()
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print the decisions as JSON.")
@click.pass_context
def reconcile(ctx: click.Context, config: str | None, database: str | None, as_json: bool) -> None:
    """Resolve deliveries left `sending` by a dead worker or `unknown` after an ambiguous send.

    Per platform: Mastodon resends with the same idempotency key; Bluesky, X, Facebook,
    LinkedIn and Threads look up their own recent posts; Telegram is held for a person
    (`distributor audit` lists it). Never posts twice.
    """
    with open_store_for(ctx, config, database) as store:
        report = _reconcile(settings(ctx), store, None)
    if as_json:
        print_json(report.to_dict())
        return
    for x in report.decisions:
        echo(f"{x.delivery_id} {x.channel}: {x.before} -> {x.after} ({x.action}): {x.reason}")
    counts = ", ".join(f"{n} {a}" for a, n in sorted(report.counts.items())) or "nothing to do"
    click.echo(f"reconciled: {counts}")
    if report.needs_human:
        ids = ", ".join(str(x.delivery_id) for x in report.needs_human)
        click.echo(f"needs a person: {ids} (see distributor show ID)", err=True)
