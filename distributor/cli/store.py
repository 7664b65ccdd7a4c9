"""`distributor migrate` and `distributor status`: the post log's schema and the on-call view."""

from __future__ import annotations

import click

from distributor.cli.common import print_json, require_post_log, settings
from distributor.store import open_store


def _url(ctx: click.Context, database: str | None) -> str:
    return database or settings(ctx).database_url


@click.command()
@click.option("--database", metavar="URL", help="Store URL (default: config `database`).")
@click.pass_context
def migrate(ctx: click.Context, database: str | None) -> None:
    """Create or upgrade the post log's tables (safe while workers run)."""
    from distributor.store import migrate_store

    before, after = migrate_store(_url(ctx, database))
    if before == after:
        click.echo(f"store schema is up to date (version {after})")
    else:
        click.echo(f"store schema migrated from version {before} to {after}")


@click.command()
@click.option("--database", metavar="URL", help="Store URL (default: config `database`).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1, saying why on stderr, unless a worker is alive, no alert is open and no "
    "account needs re-authentication.",
)
@click.pass_context
def status(ctx: click.Context, database: str | None, as_json: bool, check: bool) -> None:
    """One screen for on-call: workers alive, deliveries by state, the oldest open one,
    channels needing re-authentication, open alerts, whether the queue is paused."""
    from distributor.clock import SYSTEM
    from distributor.status import problems, snapshot

    url = _url(ctx, database)
    require_post_log(url)
    store = open_store(url)
    try:
        snap = snapshot(settings(ctx), store, SYSTEM.now())
    finally:
        store.close()
    if as_json:
        print_json(snap)
    else:
        from distributor.cli.ops import print_status

        print_status(snap)
    failed = problems(snap) if check else []
    if failed:
        click.echo(f"check failed: {'; '.join(failed)}", err=True)
        ctx.exit(1)
