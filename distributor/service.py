"""The public operations behind the CLI, web UI and Python API (`distributor.preview`).

    from distributor import preview
    for item in preview("article.json", config="distributor.toml"):
        print(item.channel.name, item.draft.text if item.draft else item.skipped or item.error)

Service functions take plain inputs, return plain results and raise `DistributorError`
subclasses for bad input; they never print.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from distributor.article import Article
from distributor.config import Channel, Settings, load_config
from distributor.errors import TemplateError
from distributor.post import Draft


@dataclass(frozen=True, slots=True)
class PreviewItem:
    """One article on one channel: the draft, or why there is none."""

    article: Article
    channel: Channel
    draft: Draft | None = None
    skipped: str | None = None  # routing said no (the reason)
    error: str | None = None  # the template failed (one line naming file and line)

    @property
    def ok(self) -> bool:
        return self.draft is not None

    def to_dict(self) -> dict[str, Any]:
        if self.draft is not None:
            return self.draft.to_dict()
        return {
            "channel": self.channel.name,
            "platform": self.channel.platform,
            "article_id": self.article.article_id,
            "skipped": self.skipped,
            "error": self.error,
        }


def _settings(config: Settings | str | Path | None) -> Settings:
    return config if isinstance(config, Settings) else load_config(config)


def _articles(source: str | Article | Iterable[Article], stdin: IO[str] | None) -> list[Article]:
    if isinstance(source, Article):
        return [source]
    if isinstance(source, str):
        from distributor.sources import load

        return load(source, stdin=stdin)
    return list(source)


def preview(
    source: str | Article | Iterable[Article],
    *,
    config: Settings | str | Path | None = None,
    channels: Sequence[str] = (),
    stdin: IO[str] | None = None,
) -> list[PreviewItem]:
    """What would be posted: every article (file, feed, URL, `-`) on every selected channel.

    Channels named in `channels` must exist (ConfigError otherwise); routing filters still
    apply to them. A failing template is reported in its item, so one bad channel does not
    hide the others.
    """
    from distributor.render import render
    from distributor.routing import skip_reason

    settings = _settings(config)
    selected = settings.select(tuple(channels))
    items: list[PreviewItem] = []
    for article in _articles(source, stdin):
        for channel in selected:
            reason = skip_reason(article, channel)
            if reason is not None:
                items.append(PreviewItem(article, channel, skipped=reason))
                continue
            try:
                items.append(
                    PreviewItem(article, channel, render(article, channel, settings=settings))
                )
            except TemplateError as exc:
                items.append(PreviewItem(article, channel, error=str(exc)))
    return items
