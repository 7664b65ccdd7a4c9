"""`distributor preview`: show exactly what would be posted, channel by channel.

The `--json` path imports neither rich nor any platform SDK, so scripts get their answer fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from distributor.cli.common import echo, print_json, settings

if TYPE_CHECKING:
    from distributor.service import PreviewItem


def use_config(ctx: click.Context, config: str | None) -> None:
    """Let `--config` after the command override the group's `--config`."""
    if config:
        obj = ctx.find_root().ensure_object(dict)
        obj["config"] = config
        obj.pop("settings", None)


def text_options(command: Any) -> Any:
    """`--url` and `--format`: read SOURCE as a pasted plain-text article (docs/sources.md)."""
    command = click.option(
        "--format",
        "source_format",
        type=click.Choice(["auto", "text"]),
        default="auto",
        show_default=True,
        help="text: SOURCE is a plain-text article (needs --url).",
    )(command)
    return click.option(
        "--url",
        metavar="URL",
        help="The article's address, for a plain-text SOURCE (implies --format text).",
    )(command)


def article_source(source: str, url: str | None, source_format: str) -> Any:
    """SOURCE as the service takes it: the spec itself, or the article of a plain text."""
    if url is None and source_format == "auto":
        return source
    if url is None:
        from distributor.errors import ArticleError

        raise ArticleError("--format text needs --url URL (a pasted text has no address)")
    from distributor.sources import load_text

    return load_text(source, url)


@click.command()
@click.argument("source", metavar="ARTICLE_OR_FEED")
@click.option(
    "--config",
    "-c",
    type=click.Path(dir_okay=False),
    help="Path to distributor.toml (same as the global --config).",
)
@click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="NAME",
    help="Only this channel (repeatable; default: every enabled channel).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of posts instead.")
@text_options
@click.pass_context
def preview(
    ctx: click.Context,
    source: str,
    config: str | None,
    channels: tuple[str, ...],
    as_json: bool,
    url: str | None,
    source_format: str,
) -> None:
    """Render ARTICLE_OR_FEED for every channel and show the posts, fitted and counted.

    ARTICLE_OR_FEED is a JSON or YAML article file, an RSS/Atom feed, a saved HTML page, an
    http(s) URL of any of these, or `-` for standard input; with --url URL, a plain-text
    article (file or `-`) pasted from the CMS. Channels whose routing filters
    (sections, tags, languages) do not match are listed as skipped (and left out of --json).

    With --json: one object per post with channel, platform, article_id, text, link, title,
    description, image, language, length, limit and format ("html" for Telegram).

    Exit code 2 when the input, the configuration or a template is wrong; a broken template
    is reported for its channel while the other channels are still shown.
    """
    from distributor.service import preview as run_preview

    use_config(ctx, config)
    articles = article_source(source, url, source_format)
    items = run_preview(articles, config=settings(ctx), channels=channels)
    if as_json:
        print_json([item.to_dict() for item in items if item.ok])
    else:
        show(items)
    report_errors(ctx, items)


def report_errors(ctx: click.Context, items: Sequence[PreviewItem]) -> None:
    """One line per failed channel on stderr, then exit 2 if there was any."""
    failed = [item for item in items if item.error]
    for item in failed:
        echo(f"error: {item.error}", err=True)
    if failed:
        ctx.exit(2)


def _colour(length: int, limit: int) -> str:
    if length > limit:
        return "bold red"
    return "yellow" if length > 0.9 * limit else "green"


def show(items: Sequence[PreviewItem], out: Any = None) -> None:
    """Rich panels per article and channel: the post text and `length/limit`."""
    from rich.panel import Panel
    from rich.rule import Rule
    from rich.text import Text

    from distributor.cli.common import console

    out = out or console()
    current = None
    for item in items:
        if item.article is not current:
            current = item.article
            out.print(Rule(Text(f"{current.title}  [{current.article_id}]", style="bold")))
        name = f"{item.channel.name} · {item.channel.platform}"
        if item.draft is not None:
            d = item.draft
            count = Text(f"{d.length}/{d.limit}", style=_colour(d.length, d.limit))
            out.print(
                Panel(
                    Text(d.text),
                    title=Text(name, style="bold"),
                    title_align="left",
                    subtitle=count + Text(f" · {d.format}", style="dim"),
                    subtitle_align="right",
                )
            )
        elif item.skipped:
            out.print(Text(f"  skipped {name}: {item.skipped}", style="dim"))
        else:
            out.print(Text(f"  failed  {name}: see the error below", style="red"))
