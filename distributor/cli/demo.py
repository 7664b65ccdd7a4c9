"""`distributor demo`: the whole pipeline on the embedded defaults, with nothing to set up.

It starts the platform sandbox in this process (a free port on 127.0.0.1), publishes the sample
article and the sample feed to every example channel through the real adapters and the durable
SQLite post log, then shows the outcomes and the log. Nothing leaves the machine: every channel
is pointed at the sandbox, whatever the configuration says.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import click

from distributor.cli.common import console, echo
from distributor.resources import packaged_path

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.planning import PublishReport

SAMPLES = (
    "articles/radbruecke-stadtrat.json",
    "articles/council-heat-pumps.json",
    "articles/feed.xml",
)


def next_steps() -> list[tuple[str, str]]:
    """Commands worth trying after the demo, with what they show.

    They must work wherever the demo ran: from a checkout and from an installed wheel alike, so
    the sample article is named by where it really is and the rerun is `distributor demo`.
    """
    article = shown_path(packaged_path(f"examples/{SAMPLES[0]}"))
    return [
        ("distributor log", "the post log (add --json or --csv for machines)"),
        ("distributor show 1", "one delivery with every attempt"),
        ("distributor audit", "what is not finished yet, oldest first"),
        (f"distributor preview {article}", "posts without sending"),
        ("distributor sandbox", "the platform emulators on :8900, to try channels by hand"),
        ("distributor demo", "again: the same articles plan nothing new, nothing is posted twice"),
    ]


def shown_path(path: Path) -> str:
    """`path` as a user types it here: relative below the working folder, else absolute."""
    try:
        return shlex.quote(str(path.relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(path))


@click.command()
@click.option(
    "--config",
    "-c",
    type=click.Path(dir_okay=False),
    help="Use this distributor.toml's channels instead of the built-in example "
    "(still only against the in-process sandbox).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=120,
    show_default=True,
    help="Give up waiting for the deliveries after this many seconds.",
)
@click.pass_context
def demo(ctx: click.Context, config: str | None, timeout: float) -> None:
    """Publish the sample articles and feed to every example channel, in the built-in sandbox.

    Starts local emulators of every platform API, plans and sends one post per article and
    channel through the real client libraries, records everything in the post log
    (`sqlite:///distributor.db` by default) and shows the outcome. Run it twice: the second run
    finds every article already known and posts nothing again.
    """
    from distributor.sandbox import Sandbox

    config = config or ctx.find_root().ensure_object(dict).get("config")
    out = console()
    with Sandbox(host="127.0.0.1", port=0) as box:
        settings = _settings(config, box.url, ctx.find_root().ensure_object(dict))
        out.print(f"[bold]sandbox[/bold] running at {box.url} (every platform API, emulated)")
        out.print(f"[bold]post log[/bold] {settings.database_url}\n")
        failed = _publish_samples(settings, timeout)
        _show_log(settings)
        posts = sum(len(box.posts(name)) for name in box.emulators)
    out.print(f"\nThe sandbox received {posts} posts in this run.")
    _say_next()
    if failed:
        ctx.exit(4)


def _settings(config: str | None, sandbox_url: str, obj: dict[str, object]) -> Settings:
    from distributor.config import load_config

    path = config or str(packaged_path("examples/distributor.toml"))
    environ = {**os.environ, "DISTRIBUTOR_SANDBOX_URL": sandbox_url}
    env_file = obj.get("env_file")
    return load_config(path, env_file=str(env_file) if env_file else None, environ=environ)


def _publish_samples(settings: Settings, timeout: float) -> bool:
    """Publish each sample with --wait semantics; True if any delivery failed."""
    from distributor.cli.publish import _outcome_table, _plan_line
    from distributor.planning import publish
    from distributor.store.models import State

    failed = False
    for sample in SAMPLES:
        path = packaged_path(f"examples/{sample}")
        console().print(f"[bold cyan]publish[/bold cyan] {sample}")
        report: PublishReport = publish(str(path), config=settings, wait=True, timeout=timeout)
        for plan in report.plans:
            echo("  " + _plan_line(plan))
        if report.outcomes:
            _outcome_table(report.outcomes)
        failed = failed or any(d.state is State.FAILED for d in report.outcomes)
    return failed


def _show_log(settings: Settings) -> None:
    from distributor.cli.review import log_table
    from distributor.store import open_store
    from distributor.store.models import Filters

    store = open_store(settings.database_url)
    try:
        page, _ = store.query(Filters(), limit=10)
        counts = store.counts_by_state()
    finally:
        store.close()
    summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()) if n)
    console().print(f"\n[bold]post log[/bold]: {summary or 'empty'}; the newest 10:")
    log_table(page)


def _say_next() -> None:
    from rich.text import Text

    con = console()
    con.print(Text("\nTry next:", style="bold"))
    for command, what in next_steps():
        line = Text(f"  {command}", style="cyan") + Text(f"  # {what}", style="dim")
        con.print(line, soft_wrap=True)
