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


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when the subcommand is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = self._load(cmd_name)
        return None if command is None else _with_global_options(command, self.params)

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
@click.version_option(package_name="distributor")
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
