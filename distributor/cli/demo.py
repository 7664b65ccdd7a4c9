"""`distributor demo`: the sample articles on every example channel, no setup needed."""

from __future__ import annotations

import click

from distributor.cli.common import console, settings
from distributor.cli.preview import report_errors, show, use_config
from distributor.resources import packaged_path

SAMPLES = ("putin-kim-soldaten.json", "council-heat-pumps.json")


def next_steps(article: str, config: str) -> list[tuple[str, str]]:
    """Commands worth trying after the demo, with what they show."""
    return [
        (f"distributor preview {article} --json", "the same posts as JSON"),
        ("distributor preview ARTICLE.json --channel x-news", "one channel only"),
        ("distributor preview https://example.org/feed.xml", "every item of a feed"),
        (f"cp {config} distributor.toml", "your own channels: docs/configuration.md"),
        ('[distributor] templates = "templates"', "your own templates: docs/templates.md"),
    ]


@click.command()
@click.option(
    "--config",
    "-c",
    type=click.Path(dir_okay=False),
    help="Use this distributor.toml instead of the built-in example.",
)
@click.pass_context
def demo(ctx: click.Context, config: str | None) -> None:
    """Preview the sample articles (German and English) on every example channel.

    Uses the built-in example configuration (one channel per platform, pointed at the local
    sandbox), so it works on a fresh install without credentials.
    """
    from rich.text import Text

    from distributor.render.engine import display
    from distributor.service import preview

    example = packaged_path("examples/distributor.toml")
    use_config(ctx, config or ctx.find_root().ensure_object(dict).get("config") or str(example))
    cfg = settings(ctx)
    articles = [str(packaged_path(f"examples/articles/{name}")) for name in SAMPLES]
    items = [item for path in articles for item in preview(path, config=cfg)]
    out = console()
    show(items, out)
    ok = sum(1 for item in items if item.ok)
    where = display(cfg.where)
    out.print(f"\n[green]{ok} posts rendered[/green] for {len(cfg.channels)} channels ({where}).")
    out.print(Text("\nTry next:", style="bold"))
    for command, what in next_steps(display(articles[0]), display(str(example))):
        out.print(
            Text(f"  {command}", style="cyan") + Text(f"  # {what}", style="dim"), soft_wrap=True
        )
    report_errors(ctx, items)
