"""A post as it will look on its platform, as safe HTML for the compose page.

Telegram posts are Telegram's HTML subset: they are parsed the way the Bot API parses them
(`telegram_html.parse`) and rebuilt from the visible text and its entities, so the page shows
bold, links and quotes instead of raw `&amp;` markup, and nothing from the post (no attribute,
no tag Telegram would not render) reaches the page unescaped. Bluesky posts show their link
card (title, teaser, domain) under the text; every other platform is its plain text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from markupsafe import Markup, escape

if TYPE_CHECKING:
    from distributor.platforms.base import Draft
    from distributor.telegram_html import Entity

# Telegram tag -> (HTML element, class); links are handled apart (only http/https hrefs).
_TAGS = {
    "b": ("strong", ""),
    "strong": ("strong", ""),
    "i": ("em", ""),
    "em": ("em", ""),
    "u": ("u", ""),
    "ins": ("u", ""),
    "s": ("s", ""),
    "strike": ("s", ""),
    "del": ("s", ""),
    "code": ("code", ""),
    "pre": ("pre", ""),
    "blockquote": ("blockquote", ""),
    "span": ("span", "spoiler"),
    "tg-spoiler": ("span", "spoiler"),
    "tg-emoji": ("span", ""),
}


def render(draft: Draft | None, text: str) -> Markup:
    """`text` (the post as it stands, edited or not) rendered for `draft`'s platform."""
    if draft is None:
        return Markup("")
    if draft.format == "html":
        return telegram(text)
    if draft.platform == "bluesky":
        return shown_link(text, draft) + card(draft)
    return Markup(escape(text))


def shown_link(text: str, draft: Draft) -> Markup:
    """Bluesky's text with its short display link (`link_text`) as the link it stands for."""
    shown = draft.link_text
    scheme = urlsplit(draft.link).scheme
    if not shown or shown not in text or scheme not in ("http", "https"):
        return Markup(escape(text))
    before, _, after = text.partition(shown)
    link = f'<a href="{escape(draft.link)}" rel="noopener">{escape(shown)}</a>'
    return Markup(f"{escape(before)}{link}{escape(after)}")


def telegram(html_text: str) -> Markup:
    """Telegram HTML as it shows: the visible text with its formatting; HTML Telegram would
    refuse is shown as plain text (the count says why)."""
    from distributor.telegram_html import TelegramHTMLError, parse

    try:
        parsed = parse(html_text)
    except TelegramHTMLError:
        return Markup(escape(html_text))
    return _rebuild(parsed.text, parsed.entities)


def _rebuild(text: str, entities: list[Entity]) -> Markup:
    """Nested HTML from entities (UTF-16 offsets, properly nested as the parser made them)."""
    index = _utf16_index(text)
    spans = sorted(
        ((index[e.offset], index[e.offset + e.length], e) for e in entities),
        key=lambda s: (s[0], -s[1]),  # outermost first where several start together
    )
    out: list[str] = []
    stack: list[tuple[int, Entity]] = []  # (end, entity) of the open elements
    pos = 0
    for start, end, e in spans:
        pos = _close_until(text, pos, start, stack, out)
        out.append(_open(e))
        stack.append((end, e))
    _close_until(text, pos, len(text), stack, out)
    return Markup("".join(out))


def _close_until(
    text: str, pos: int, target: int, stack: list[tuple[int, Entity]], out: list[str]
) -> int:
    """Write the text from `pos` to `target`, closing every element that ends on the way."""
    while stack and stack[-1][0] <= target:
        end, e = stack.pop()
        out.append(str(escape(text[pos:end])) + _close(e))
        pos = end
    out.append(str(escape(text[pos:target])))
    return target


def _utf16_index(text: str) -> dict[int, int]:
    """UTF-16 offset -> Python string index, for every character boundary."""
    index, units = {0: 0}, 0
    for i, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        index[units] = i + 1
    return index


def _open(e: Entity) -> str:
    if e.tag == "a":
        href = e.argument if urlsplit(e.argument).scheme in ("http", "https") else ""
        return f'<a href="{escape(href)}" rel="noopener">' if href else "<span>"
    element, cls = _TAGS.get(e.tag, ("span", ""))
    return f'<{element} class="{cls}">' if cls else f"<{element}>"


def _close(e: Entity) -> str:
    if e.tag == "a":
        href = e.argument if urlsplit(e.argument).scheme in ("http", "https") else ""
        return "</a>" if href else "</span>"
    return f"</{_TAGS.get(e.tag, ('span', ''))[0]}>"


def card(draft: Draft) -> Markup:
    """Bluesky's link card: the linked page's title, teaser and domain (no remote image is
    loaded into the admin page: the card names the picture by its alt text instead)."""
    domain = urlsplit(draft.link).hostname or ""
    image = ""
    if draft.image is not None:
        alt = draft.image.alt or "article image"
        image = f'<span class="card-image">{escape(alt)}</span>'
    return Markup(
        '<span class="link-card">'
        f"{image}"
        f'<span class="card-title">{escape(draft.title)}</span>'
        f'<span class="card-text">{escape(draft.description)}</span>'
        f'<span class="card-domain">{escape(domain)}</span>'
        "</span>"
    )
