"""Operations commands: `distributor alerts check|list`, `backup`, `reauth`, status printing.

Exit codes: `alerts check` 1 while any incident is open (usable as a monitoring check);
`backup` 2 for a PostgreSQL store (it prints the pg_dump line to use instead) or a bad DEST,
3 when the store cannot be read; `reauth` 1 when a channel's credentials still fail.
"""

from __future__ import annotations

from typing import Any

import click

from distributor.cli.common import (
    actor_name,
    actor_option,
    console,
    echo,
    open_store_for,
    print_json,
    settings,
    store_options,
)
from distributor.review import iso


@click.group()
def alerts() -> None:
    """Alert incidents: check now, or list what was alerted (see docs/operations.md)."""


@alerts.command("check")
@store_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def check(ctx: click.Context, config: str | None, database: str | None, as_json: bool) -> None:
    """Look for incidents now and notify the `[alerts]` targets about new ones (a running
    worker does this every `check_every` by itself). Exit 1 while any incident is open."""
    from distributor.alerts import check as run_check

    with open_store_for(ctx, config, database) as store:
        report = run_check(settings(ctx), store)
    if as_json:
        print_json(
            {
                "open": [{"key": i.key, "kind": i.kind, "summary": i.summary} for i in report.open],
                "notified": [a.key for a in report.notified],
                "resolved": [a.key for a in report.resolved],
            }
        )
    else:
        for inc in report.open:
            sent = " (notified now)" if inc.key in {a.key for a in report.notified} else ""
            echo(f"OPEN {inc.key}: {inc.summary}{sent}")
        for alert in report.resolved:
            click.echo(f"resolved {alert.key}")
        if not report.open:
            click.echo("no incidents")
    if report.open:
        ctx.exit(1)


@alerts.command("list")
@store_options
@click.option("--open", "open_only", is_flag=True, help="Only incidents still open.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_context
def list_alerts(
    ctx: click.Context,
    config: str | None,
    database: str | None,
    open_only: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Alert incidents, newest first: when they opened and resolved, whether people were told."""
    with open_store_for(ctx, config, database) as store:
        found = [alert_row(a) for a in store.alerts(open_only=open_only, limit=limit)]
    if as_json:
        print_json(found)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("opened (UTC)", "incident", "summary", "resolved", "told")
    for a in found:
        told = f"{a['notifications']}x" if a["notify_ok"] else Text("not yet", style="red")
        table.add_row(a["opened_at"], Text(a["key"]), Text(a["summary"]), a["resolved_at"], told)
    console().print(table if found else "no alerts recorded")


def alert_row(a: Any) -> dict[str, Any]:
    """An incident as the stable JSON object (`alerts list --json`, `audit --json`)."""
    return {
        "key": a.key,
        "kind": a.kind,
        "summary": a.summary,
        "open": a.open,
        "opened_at": iso(a.opened_at),
        "last_seen_at": iso(a.seen_at),
        "resolved_at": iso(a.resolved_at),
        "notifications": a.notifications,
        "notify_ok": a.notify_ok,
        "result": a.result,
    }


@click.command()
@click.argument("dest", metavar="DEST")
@click.option("--database", metavar="URL", help="Store URL (default: config `database`).")
@click.option("--force", is_flag=True, help="Replace DEST if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.pass_context
def backup(ctx: click.Context, dest: str, database: str | None, force: bool, as_json: bool) -> None:
    """Copy the SQLite store to DEST (a file, or a folder for a dated file) while workers run.

    For a PostgreSQL store it prints the pg_dump command to use and exits 2.
    """
    from distributor.backup import backup_sqlite, is_sqlite, pg_dump_command

    url = database or settings(ctx).database_url
    if not is_sqlite(url):
        click.echo(pg_dump_command(url, dest))
        click.echo(
            "error: backup copies SQLite stores; use pg_dump (above) for PostgreSQL", err=True
        )
        ctx.exit(2)
    from distributor.backup import STEPS
    from distributor.progress import progress

    with progress("backup", total=len(STEPS)) as bar:

        def on_step(what: str) -> None:
            bar.update(completed=STEPS.index(what), description=f"backup: {what}")

        done = backup_sqlite(url, dest, force=force, on_step=on_step)
    if as_json:
        print_json({**done.__dict__, "path": str(done.path)})
    else:
        click.echo(
            f"backup written to {done.path} ({done.bytes} bytes, {done.deliveries} deliveries, "
            f"schema version {done.schema_version})"
        )


@click.command()
@click.argument("channels", nargs=-1, required=True, metavar="CHANNEL...")
@store_options
@actor_option
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per request.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one object per channel as a JSON array."
)
@click.pass_context
def reauth(
    ctx: click.Context,
    channels: tuple[str, ...],
    config: str | None,
    database: str | None,
    actor: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """After new credentials: verify each CHANNEL's account and let it send again.

    An account whose credentials the platform refused sends nothing until this succeeds.
    Put the new token in .env first; restart running workers so they use it. Exit 1 when a
    channel's credentials are still refused.
    """
    with open_store_for(ctx, config, database) as store:
        conf = settings(ctx)
        results = [
            _reauth_one(store, conf, conf.channel(name), timeout, actor_name(actor))
            for name in channels
        ]
    if as_json:
        print_json(results)
    else:
        for r in results:
            if not r["ok"]:
                echo(f"{r['channel']}: still refused: {r['error']}", err=True)
                continue
            verdict = (
                "can send again" if r["was_waiting"] else "was not waiting for re-authentication"
            )
            echo(f"{r['channel']}: credentials OK ({r['verified_as']}); {verdict}")
    if not all(r["ok"] for r in results):
        ctx.exit(1)


def _reauth_one(store: Any, conf: Any, channel: Any, timeout: float, who: str) -> dict[str, Any]:
    """Verify one channel's credentials; clear its account's re-auth mark if they work."""
    from distributor.cli.check import check_channel

    result = check_channel(channel, conf, timeout)
    was = store.account(channel.account_key).needs_reauth
    out = {"action": "reauth", "by": who, "channel": channel.name}
    out |= {"account": channel.account_key, "ok": result.ok, "was_waiting": bool(was)}
    out |= {"verified_as": result.account if result.ok else None}
    out |= {"error": None if result.ok else result.error}
    if result.ok:
        store.clear_reauth(channel.account_key)
        store.record_event(who, "reauth cleared", detail=channel.account_key)
    return out


def print_status(snap: dict[str, Any]) -> None:
    """The `status` screen for people."""
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print(
        "[bold yellow]queue is PAUSED[/] (distributor resume)"
        if snap["paused"]
        else "queue is running"
    )
    alive = snap["workers_alive"]
    out.print(
        f"workers: {alive} alive of {len(snap['workers'])} known", style="" if alive else "bold red"
    )
    for w in snap["workers"]:
        state = (
            "alive" if w["alive"] else f"stopped {w['stopped_at']}" if w["stopped_at"] else "SILENT"
        )
        out.print(
            Text(f"  {w['id']}  last heartbeat {w['heartbeat_age_seconds']:.0f}s ago  {state}")
        )
    table = Table("state", "deliveries")
    for state, n in snap["counts"].items():
        if n:
            table.add_row(state, str(n))
    out.print(table if any(snap["counts"].values()) else "no deliveries yet")
    if snap["oldest_open"]:
        o = snap["oldest_open"]
        out.print(
            f"oldest open: #{o['delivery_id']} {o['channel']} {o['state']} since {o['created_at']}"
        )
    for r in snap["needs_reauth"]:
        out.print(
            Text(
                f"needs re-auth: {r['account']} ({', '.join(r['channels'])}): {r['reason']}",
                style="red",
            )
        )
    for a in snap["alerts"]:
        out.print(Text(f"ALERT {a['key']} since {a['since']}: {a['summary']}", style="bold red"))
