"""`distributor check`: verify each configured channel's credentials with one harmless API call.

Every channel's adapter is built exactly as publishing builds it (`registry.build_adapter`), so
a channel that passes here talks to the same host with the same credentials. Output shows the
account the credentials belong to, never a secret; errors are scrubbed.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import click

from distributor.cli.common import console, print_json, settings
from distributor.config import Channel, Settings
from distributor.errors import DistributorError
from distributor.redact import scrub


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One channel's verdict."""

    channel: str
    platform: str
    ok: bool
    account_id: str = ""
    account: str = ""
    url: str | None = None
    error: str = ""
    error_class: str = ""


def check_channel(channel: Channel, config: Settings, timeout: float = 10.0) -> CheckResult:
    """Build the channel's adapter and call `verify()`; every failure becomes a result."""
    from distributor.platforms.registry import build_adapter

    try:
        info = build_adapter(channel, config, timeout=timeout).verify()
    except DistributorError as exc:
        detail = exc.detail if hasattr(exc, "detail") else str(exc)
        return _failed(channel, scrub(str(detail)), type(exc).__name__)
    except Exception as exc:  # a bug or an SDK surprise: report it, keep checking the others
        return _failed(channel, scrub(f"{type(exc).__name__}: {exc}")[:300], type(exc).__name__)
    return CheckResult(channel.name, channel.platform, True, info.account_id, info.name, info.url)


def _failed(channel: Channel, error: str, kind: str) -> CheckResult:
    return CheckResult(channel.name, channel.platform, False, error=error, error_class=kind)


def check_all(
    config: Settings, names: tuple[str, ...] = (), timeout: float = 10.0
) -> list[CheckResult]:
    """Check the named channels (all enabled ones by default), a few at a time."""
    channels = config.select(names)
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(channels)))) as pool:
        return list(pool.map(lambda c: check_channel(c, config, timeout), channels))


@click.command()
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="NAME",
    help="Check only this channel (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds per request.")
@click.pass_context
def check(ctx: click.Context, channels: tuple[str, ...], as_json: bool, timeout: float) -> None:
    """Verify every configured channel's credentials (exit 1 if any fails)."""
    config = settings(ctx)
    results = check_all(config, channels, timeout)
    remember(config, results)
    if as_json:
        print_json([asdict(r) for r in results])
    elif not results:
        click.echo(f"{config.where}: no channels configured", err=True)
    else:
        _table(results, config.sandbox_url)
    if not results or not all(r.ok for r in results):
        ctx.exit(1)


def remember(config: Settings, results: list[CheckResult]) -> None:
    """Keep who each account is in the post log (the admin UI shows the handle, not the
    channel's variable names). Only into a post log that exists; a store problem is a warning:
    the check itself still counts."""
    from distributor.cli.common import require_post_log
    from distributor.store import open_store

    accounts = {c.name: c.account_key for c in config.channels}
    ok = [r for r in results if r.ok and r.account and r.channel in accounts]
    if not ok:
        return
    try:
        require_post_log(config.database_url)
    except DistributorError:
        return  # no post log here yet: nothing to annotate
    try:
        store = open_store(config.database_url)
        try:
            for r in ok:
                store.record_identity(accounts[r.channel], r.account, r.url)
        finally:
            store.close()
    except DistributorError as exc:
        click.echo(f"warning: account names not kept in the post log: {scrub(str(exc))}", err=True)


def _table(results: list[CheckResult], sandbox: str | None) -> None:
    from rich.markup import escape
    from rich.table import Table

    title = f"channels (sandbox {sandbox})" if sandbox else "channels"
    table = Table(title=title)
    for column in ("channel", "platform", "account", "status"):
        table.add_column(column)
    for r in results:
        account = escape(f"{r.account} ({r.account_id})") if r.ok else "-"
        status = "[green]OK[/]" if r.ok else f"[red]{r.error_class}[/]: {escape(r.error)}"
        table.add_row(escape(r.channel), r.platform, account, status)
    console().print(table)
