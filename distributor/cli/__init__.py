"""The `distributor` command line: a click group whose subcommands load on first use.

Subcommands live in sibling modules and are imported only when invoked (or when `--help`
lists them), so start-up stays fast. Each command is thin: parse, call a service function,
print, exit code. User errors (`DistributorError`) become one line on stderr, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from distributor.cli.escape import terminal_safe
from distributor.errors import DistributorError

# name -> "module:function". A command that does not import is an error, never a missing command.
COMMANDS: dict[str, str] = {
    "preview": "distributor.cli.preview:preview",
    "publish": "distributor.cli.publish:publish",
    "worker": "distributor.cli.publish:worker",
    "reconcile": "distributor.cli.publish:reconcile",
    "watch": "distributor.cli.watch:watch",
    "serve": "distributor.cli.serve:serve",
    "hook": "distributor.cli.serve:hook",
    "log": "distributor.cli.review:log",
    "show": "distributor.cli.review:show",
    "audit": "distributor.cli.review:audit",
    "retry": "distributor.cli.actions:retry",
    "approve": "distributor.cli.actions:approve",
    "cancel": "distributor.cli.actions:cancel",
    "retract": "distributor.cli.actions:retract",
    "pause": "distributor.cli.actions:pause",
    "reschedule": "distributor.cli.schedule:reschedule",
    "hold": "distributor.cli.schedule:hold",
    "release": "distributor.cli.schedule:release",
    "scheduled": "distributor.cli.schedule:scheduled",
    "resume": "distributor.cli.actions:resume",
    "check": "distributor.cli.check:check",
    "sandbox": "distributor.cli.sandbox:sandbox",
    "demo": "distributor.cli.demo:demo",
    "migrate": "distributor.cli.store:migrate",
    "status": "distributor.cli.store:status",
    "admin": "distributor.cli.admin:admin",
    "alerts": "distributor.cli.ops:alerts",
    "backup": "distributor.cli.ops:backup",
    "reauth": "distributor.cli.ops:reauth",
}

# name -> the command's short help, so `distributor --help` lists the commands without importing
# every command module (and config, the store, the renderer behind them). A test keeps these
# equal to the commands' own docstrings.
SUMMARIES: dict[str, str] = {
    "admin": "Set up the admin UI: password hashes and the session secret (see docs/admin.md).",
    "alerts": "Alert incidents: check now, or list what was alerted (see docs/operations.md).",
    "approve": "Release delivery ID (a channel with `review = true`) to be sent.",
    "audit": "Every delivery not in a final state, oldest first, with its age.",
    "backup": (
        "Copy the SQLite store to DEST (a file, or a folder for a dated file) while workers run."
    ),
    "cancel": "Stop delivery ID before it is posted.",
    "check": "Verify every configured channel's credentials (exit 1 if any fails).",
    "demo": (
        "Publish the sample articles and feed to every example channel, in the built-in sandbox."
    ),
    "hold": "Keep a waiting delivery (or all of an article's) from being sent until `release`.",
    "hook": "Sign and send webhook requests the way `distributor serve` checks them.",
    "log": "The post log, newest first: every delivery with its state, attempts and post.",
    "migrate": "Create or upgrade the post log's tables (safe while workers run).",
    "pause": "Stop all workers from sending (they obey within one poll); `resume` undoes it.",
    "preview": "Render ARTICLE_OR_FEED for every channel and show the posts, fitted and counted.",
    "publish": (
        "Plan one delivery per channel for every article in ARTICLE_OR_FEED (and send them)."
    ),
    "reauth": "After new credentials: verify each CHANNEL's account and let it send again.",
    "reconcile": (
        "Resolve deliveries left `sending` by a dead worker or `unknown` after an ambiguous send."
    ),
    "release": "Let held deliveries go again: at their schedule, or at once if it has passed.",
    "reschedule": (
        "Move a waiting delivery (or every waiting delivery of an article) to --at TIME."
    ),
    "resume": "Let workers send again after `pause`.",
    "retract": "Delete ARTICLE's posts everywhere (ARTICLE = article id, URL or guid).",
    "retry": "Queue delivery ID (or every failed one) to be sent again.",
    "sandbox": "Run the local platform sandbox (loopback only) until Ctrl-C or SIGTERM.",
    "scheduled": "Upcoming posts by channel, in the order they will go, with the expected time.",
    "serve": "Serve the signed webhook, /healthz, /metrics and the admin UI (extra `web`).",
    "show": "One delivery: its post, every attempt and every action taken on it.",
    "status": (
        "One screen for on-call: workers alive, deliveries by state, the oldest open one, "
        "channels needing re-authentication, open alerts, whether the queue is paused."
    ),
    "watch": "Poll RSS/Atom feeds and plan one delivery per channel for every NEW item.",
    "worker": (
        "Send due deliveries until stopped (SIGTERM/Ctrl-C: finish in-flight sends, exit 0)."
    ),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when the subcommand is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from SUMMARIES, laid out as click would (no command is imported)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        # a bare Command shortens the summary exactly as it shortens a real command's help
        rows = [
            (n, click.Command(n, help=self._summary(n)).get_short_help_str(limit)) for n in names
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self._load(cmd_name)
        return None if command is None else _with_global_options(command, self.params)

    def _summary(self, name: str) -> str:
        if name in SUMMARIES:
            return SUMMARIES[name]
        command = self._load(name)  # not summarised yet: import it, as click would
        return "" if command is None else command.get_short_help_str(limit=10**6)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


GLOBAL_OPTIONS = ("config", "env_file", "log_level", "log_format", "log_file")


def _with_global_options(command: click.Command, params: list[click.Parameter]) -> click.Command:
    """Give `command` (and its subcommands) the group's options, so they work after it too.

    `distributor log --log-level debug` then means what `distributor --log-level debug log`
    means. A command's own option of the same name (`--config` on store commands) is kept.
    """
    if getattr(command, "_global_options", False):
        return command
    taken = {opt for p in command.params for opt in p.opts}
    for param in params:
        if isinstance(param, click.Option) and param.name in GLOBAL_OPTIONS:
            free = [opt for opt in param.opts if opt not in taken]
            if len(free) == len(param.opts) or (free and free[0].startswith("--")):
                command.params.append(_late_copy(param, free))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_global_options(sub, params)
    command._global_options = True  # type: ignore[attr-defined]
    return command


def _late_copy(option: click.Option, opts: list[str]) -> click.Option:
    """The group option as a command option: no default or envvar (those were read already)."""
    return click.Option(
        opts,
        type=option.type,
        help=option.help,
        expose_value=False,
        callback=_set_late_global,
    )


def _set_late_global(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Record a global option given after the command; re-read config or logging as needed."""
    if value is None or param.name is None:
        return value
    obj = ctx.find_root().ensure_object(dict)
    obj[param.name] = value
    if param.name in ("config", "env_file"):
        obj.pop("settings", None)
    else:
        from distributor import logs

        logs.setup(obj.get("log_level"), obj.get("log_format"), logfile=obj.get("log_file"))
    return value


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "-c",
    "config",
    type=click.Path(dir_okay=False),
    envvar="DISTRIBUTOR_CONFIG",
    help="Path to distributor.toml (default: ./distributor.toml, else the built-in "
    "sandbox example).",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    help="Path to the .env file (default: .env next to the config file, else ./.env).",
)
@click.option(
    "--log-level",
    default=None,
    envvar="DISTRIBUTOR_LOG_LEVEL",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    help="Log level (default WARNING, or INFO for worker/serve/watch).",
)
@click.option(
    "--log-format",
    default=None,
    envvar="DISTRIBUTOR_LOG_FORMAT",
    type=click.Choice(["console", "json"]),
    help="Log lines for people or for machines.",
)
@click.option(
    "--log-file",
    default=None,
    envvar="DISTRIBUTOR_LOG_FILE",
    type=click.Path(dir_okay=False),
    help="Also write log lines to this file (rotated at 10 MB, 5 kept).",
)
@click.version_option(package_name="newsroom-distributor")
@click.pass_context
def cli(
    ctx: click.Context,
    config: str | None,
    env_file: str | None,
    log_level: str | None,
    log_format: str | None,
    log_file: str | None,
) -> None:
    """Turn news articles into fitted teaser posts and deliver them to social platforms.

    Start with `distributor preview ARTICLE` to see what would be posted on every channel.
    """
    from distributor import logs

    ctx.ensure_object(dict)
    ctx.obj.update(
        config=config,
        env_file=env_file,
        log_level=log_level,
        log_format=log_format,
        log_file=log_file,
    )
    logs.setup(log_level, log_format, logfile=log_file)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: one line on stderr and a non-zero exit for user errors."""
    try:
        return cli.main(args=argv, prog_name="distributor", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _show_escaped(exc)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except DistributorError as exc:
        from distributor.redact import scrub

        click.echo(terminal_safe(f"error: {scrub(str(exc))}"), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


def _show_escaped(exc: click.ClickException) -> None:
    """click's own error output (usage line included), control characters escaped: an
    argument echoed back may carry them."""
    import io

    buf = io.StringIO()
    exc.show(file=buf)
    click.echo(terminal_safe(buf.getvalue()), err=True, nl=False)
