"""Helpers shared by the CLI commands: loading settings from the group's options, output."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from distributor.config import Settings, load_config
from distributor.errors import ConfigError


def settings(ctx: click.Context) -> Settings:
    """Load the configuration named by the group options (cached on the context)."""
    root = ctx.find_root()
    obj = root.ensure_object(dict)
    if "settings" not in obj:
        obj["settings"] = load_config(obj.get("config"), env_file=obj.get("env_file"))
    result: Settings = obj["settings"]
    return result


def print_json(data: Any) -> None:
    """Write `data` as pretty JSON to stdout (UTF-8, umlauts unescaped; C1 controls and bidi
    overrides as `\\u` escapes, which JSON leaves raw and terminals would obey)."""
    from distributor.cli.escape import json_safe

    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write(json_safe(text) + "\n")


def echo(text: str, err: bool = False) -> None:
    """`click.echo` for lines that carry outside data (titles, platform errors): control
    characters are shown as escapes (`distributor.cli.escape`)."""
    from distributor.cli.escape import terminal_safe

    click.echo(terminal_safe(text), err=err)


def console() -> Any:
    """A rich console on stdout (imported lazily: rich tables cost start-up time) that shows
    control characters in printed data as escapes (`distributor.cli.escape`)."""
    from distributor.cli.escape import safe_console

    return safe_console()


def store_options(command: Any) -> Any:
    """`--config` and `--database` on a command that works on the post log."""
    command = click.option(
        "--database", metavar="URL", help="Store URL (default: config `database`)."
    )(command)
    return click.option(
        "--config",
        "-c",
        type=click.Path(dir_okay=False),
        help="Path to distributor.toml (same as the global --config).",
    )(command)


@contextlib.contextmanager
def open_store_for(
    ctx: click.Context,
    config: str | None,
    database: str | None,
    *,
    create: bool = False,
    threads: int | None = None,
) -> Iterator[Any]:
    """The store named by `--database`, else by the configuration; closed afterwards.

    Only commands that start something (`worker`, `pause`) create a missing SQLite post log:
    `log` or `retract` run in the wrong folder must say so, not answer from a new, empty file.
    `threads`: how many threads use the store at once (its PostgreSQL pool keeps as many
    connections, unless `[distributor] database_pool` says otherwise).
    """
    from distributor.store import open_store

    url = store_url(ctx, config, database, create=create)
    store = open_store(url, pool=settings(ctx).database_pool or threads)
    try:
        yield store
    finally:
        store.close()


def store_url(ctx: click.Context, config: str | None, database: str | None, *, create: bool) -> str:
    """The URL of the store `open_store_for` opens (checked as it checks it)."""
    from distributor.cli.preview import use_config

    use_config(ctx, config)
    url = database or settings(ctx).database_url
    if not create:
        require_post_log(url)
    return url


def require_post_log(url: str) -> None:
    """ConfigError unless `url` is a server database or an SQLite file that exists."""
    from pathlib import Path

    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise ConfigError(
                f"no post log at {path}: nothing was published with this configuration here "
                "(run from the right folder, or give --config or --database)"
            )


def actor_option(command: Any) -> Any:
    """`--as NAME`: who acts, recorded with every change (default: the OS user)."""
    return click.option(
        "--as",
        "actor",
        metavar="NAME",
        help="Your name for the post log (default: your operating-system user name).",
    )(command)


def actor_name(name: str | None) -> str:
    """`--as NAME` if given, else the OS user name."""
    if name is not None:
        if not name.strip() or any(c in name for c in "\r\n\0"):
            raise ConfigError(f"--as {name!r}: give a name on one line")
        return name.strip()
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


def parse_since(text: str, now: datetime, option: str = "--since") -> datetime:
    """`24h`, `30m`, `7d` (ago) or an ISO 8601 time (UTC unless it has an offset)."""
    from distributor.config import parse_duration

    value = text.strip()
    if value[:1].isdigit() and not value[-1:].isdigit() and "-" not in value:
        try:
            return now - timedelta(seconds=parse_duration(value))
        except ConfigError:
            pass
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{option} {text!r}: give a duration like 24h, 30m, 7d or an ISO time "
            "like 2026-01-31T08:00"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def delivery_id(text: str) -> int:
    """A delivery id from the command line (ConfigError, exit 2, if it is not one)."""
    value = text.strip().lstrip("#")
    if not (value.isascii() and value.isdigit()) or int(value) < 1:  # not "²" or "٤"
        raise ConfigError(
            f"delivery id {text!r}: expected a number like 42 (see `distributor log`)"
        )
    return int(value)
