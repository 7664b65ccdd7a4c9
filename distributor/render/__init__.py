"""Rendering: article + channel -> `Draft`, through a sandboxed template, fitted to the limit.

    from distributor.render import render
    draft = render(article, channel, settings=settings)

Template lookup (first hit wins), user folder (`[distributor] templates`) before the packaged
defaults, and in each folder the article's language variant (`x.en.txt.j2`) before the plain
name: `<channel>.<ext>.j2` -> `<platform>.<ext>.j2` -> `default.<ext>.j2` (a channel's explicit
`template` replaces the chain). `<ext>` is the platform's `text_format`: `html` for Telegram
(autoescaped), `txt` elsewhere. Where the platform has no other place for the image credit
(`credit_in_text`: Facebook), the credit line is added here when the template left it out, and
fitted with the rest: `Draft.text` is exactly what is sent. Rendering is pure: same article,
channel and templates -> the same draft.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from distributor import limits
from distributor.errors import TemplateError
from distributor.hashtags import hashtag, hashtag_list, hashtags_filter
from distributor.links import DEFAULT_POLICY, add_utm
from distributor.platform import spec
from distributor.post import Draft
from distributor.render import context, engine, guard, skeleton
from distributor.render.engine import clear_cache
from distributor.render.fit import FitError, fit, shorten_title
from distributor.resources import packaged_path

if TYPE_CHECKING:
    from jinja2 import Template

    from distributor.article import Article
    from distributor.config import Channel, Settings

__all__ = [
    "add_utm",
    "clear_cache",
    "hashtag",
    "hashtag_list",
    "hashtags_filter",
    "normalise",
    "render",
    "template_names",
]

_TRAILING_SPACE = re.compile(r"[ \t\u00a0]+(?=\n|$)")
_BLANK_LINES = re.compile(r"\n{3,}")
MIN_OUTPUT_CAP = 10_000  # output cap is 10x the limit, but never below this


def normalise(text: str) -> str:
    """Trim trailing spaces and surrounding blank lines; at most one empty line in a row."""
    text = text.replace("\r\n", "\n")
    # The substitutions only where they can change something (fitting normalises every attempt).
    if " \n" in text or "\t" in text or "\u00a0" in text or text.endswith(" "):
        text = _TRAILING_SPACE.sub("", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


@lru_cache(maxsize=1)
def _packaged_templates() -> Path:
    return packaged_path("templates")


def _variant(name: str, language: str) -> str:
    """`x.txt.j2` -> `x.en.txt.j2` (the language goes before the output extension)."""
    core = name.removesuffix(".j2")
    stem, dot, ext = core.rpartition(".")
    return f"{stem}.{language}.{ext}.j2" if dot else f"{core}.{language}.j2"


def template_names(channel: Channel, language: str | None) -> list[str]:
    """The file names tried for `channel`, in order (within each folder)."""
    ext = spec(channel.platform).text_format
    if channel.template:
        explicit = channel.template
        if Path(explicit).name != explicit or explicit.startswith("."):
            raise TemplateError(
                f"channel {channel.name!r}: template {explicit!r} must be a file name "
                "in the templates folder"
            )
        base = [explicit if explicit.endswith(".j2") else f"{explicit}.{ext}.j2"]
    else:
        base = [f"{channel.name}.{ext}.j2", f"{channel.platform}.{ext}.j2", f"default.{ext}.j2"]
        if ext != "txt":
            base.append("default.txt.j2")
    names: list[str] = []
    for name in base:
        if language:
            names.append(_variant(name, language))
        names.append(name)
    return names


def _template(channel: Channel, language: str | None, settings: Settings | None) -> Template:
    folders = [_packaged_templates()]
    if settings is not None and settings.templates_dir is not None:
        folders.insert(0, settings.templates_dir)
    names = template_names(channel, language)
    try:
        template = engine.find(folders, names)
    except TemplateError as exc:
        raise TemplateError(f"channel {channel.name!r}: {exc}") from None
    if template is None:
        where = ", ".join(engine.display(str(f)) for f in folders)
        raise TemplateError(f"channel {channel.name!r}: no template {names[-1]!r} in {where}")
    return template


def counted(platform: str, text: str, filename: str) -> int:
    """`text`'s length by the platform's rule; a text the platform would refuse (Telegram's HTML)
    is a TemplateError naming the template."""
    try:
        return limits.length(platform, text)
    except TemplateError as exc:
        raise TemplateError(f"{engine.display(filename)}: {exc}") from None


def with_credit(text: str, credit: str) -> str:
    """`text` with the credit line ("© dpa") appended when the template did not write the credit
    (a language-neutral mark: the words of a post come from its template)."""
    if not credit or credit in text:
        return text
    return f"{text.rstrip()}\n\n© {credit}"


def post_title(article: Article, platform: str) -> str:
    """The title as the platform takes it in a field of its own (`Limits.title`, Pinterest: 100,
    shortened at a word), else the article's."""
    limit = spec(platform).limits.title
    if limit is None:
        return article.title
    german = article.language == "de"
    return shorten_title(article.title, limit, lambda t: limits.length(platform, t), german)


def render(article: Article, channel: Channel, *, settings: Settings | None = None) -> Draft:
    """The post for `article` on `channel`, fitted to the platform's limit."""
    if article.image is None and spec(channel.platform).requires_image:
        raise TemplateError(
            f"channel {channel.name!r}: {channel.platform} posts need an image "
            "and the article has none"
        )
    if article.language is None:
        article = replace(article, language=context.post_language(article, channel))
    template = _template(channel, article.language, settings)
    filename = template.filename or template.name or "template"
    html = filename.endswith(".html.j2")
    platform = channel.platform
    limit = limits.limit_for(platform, caption=article.image is not None, override=channel.limit)
    links = settings.links if settings is not None else DEFAULT_POLICY
    stop = settings.hashtag_stop if settings is not None else frozenset()
    values = context.build(article, channel, limit=limit, links=links, stop=stop)
    cap = max(10 * limit, MIN_OUTPUT_CAP)

    budget = guard.Budget(engine.MAX_SECONDS)  # one time budget for every fitting attempt

    credit = article.image.credit if article.image and spec(platform).credit_in_text else ""

    filler = skeleton.Filler(template, values, max_chars=cap, budget=budget)

    def attempt(teaser: str, tags: str) -> tuple[str, int]:
        raw = filler.fill(teaser, tags)
        if raw is None:
            context = {**values, "teaser": teaser, "hashtags": tags}
            raw = engine.run(template, context, max_chars=cap, budget=budget)
        text = with_credit(normalise(raw), credit)
        return text, counted(platform, text, filename)

    tags = context.channel_hashtags(article, channel, stop)
    try:
        text, length = fit(
            attempt,
            limit=limit,
            teaser=values["teaser"],
            hashtags=tags,
            german=article.language == "de",
        )
    except FitError as exc:
        raise TemplateError(
            f"channel {channel.name!r}: {engine.display(filename)}: {exc}"
        ) from None
    except TemplateError as exc:
        raise TemplateError(f"channel {channel.name!r}: {exc}") from None
    return Draft(
        channel=channel.name,
        platform=channel.platform,
        article_id=values["article_id"],
        text=text,
        link=values["posted_link"],
        link_text=values["link"] if values["link"] != values["posted_link"] else "",
        title=post_title(article, platform),
        description=values["teaser"],
        image=article.image,
        language=article.language,
        length=length,
        limit=limit,
        format="html" if html else "text",
    )
