"""What tests may expect of any platform's rendered post, so tests that loop over every platform
(`PLATFORMS`, from `distributor.platform.BUILTIN`) cover a new one without being edited.

By default a post shows the article link (or Bluesky's shortened display text) intact in its
text; the platforms that do otherwise are listed in `LINK_SHOWN`, so a new platform is held to
the strict default until its own tests say why not."""

from __future__ import annotations

import html

from distributor.platform import BUILTIN, spec

PLATFORMS = tuple(BUILTIN)
# "address": captions cannot link, the post shows host and path as text (Instagram);
# "field": the link is a field of the post of its own, not part of the text (Pinterest).
LINK_SHOWN = {"instagram": "address", "pinterest": "field"}


def visible(platform: str, text: str) -> str:
    """The text as a reader sees it (an HTML post unescaped)."""
    return html.unescape(text) if spec(platform).text_format == "html" else text


def link_shown(platform: str, text: str, link: str, link_text: str | None = None) -> bool:
    """Whether the post's text shows its link the way the platform shows links."""
    how = LINK_SHOWN.get(platform, "link")
    if how == "field":
        return True
    if how == "address":
        return link.split("://", 1)[1].split("?")[0] in text
    return (link_text or link) in visible(platform, text)


def title_in_text(platform: str) -> bool:
    """False where the title is a field of its own (a spec with a title limit: Pinterest)."""
    return spec(platform).limits.title is None
