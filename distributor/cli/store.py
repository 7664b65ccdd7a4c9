"""`distributor migrate` and `distributor status`: the post log's schema and a count by state."""

from __future__ import annotations

import click

from distributor.cli.common import console, print_json, settings


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
@click.pass_context
def status(ctx: click.Context, database: str | None, as_json: bool) -> None:
    """Deliveries by state, whether the queue is paused."""
    from distributor.store import open_store

    store = open_store(_url(ctx, database))
    counts, paused = store.counts_by_state(), store.paused()
    store.close()
    if as_json:
        print_json({"paused": paused, "counts": counts})
        return
    from rich.table import Table

    table = Table("state", "deliveries")
    for state, n in counts.items():
        table.add_row(state, str(n))
    out = console()
    out.print(table)
    out.print("queue is PAUSED (distributor resume)" if paused else "queue is running")
