"""How the compose page shows a post: Telegram's HTML rebuilt from its entities (formatting
kept, nothing else from the post reaches the page unescaped), Bluesky's display link and card."""

from __future__ import annotations

from distributor.platforms.base import Draft
from distributor.web.admin.postview import render, telegram


def draft(platform: str, text: str, **extra: str) -> Draft:
    fmt = "html" if platform == "telegram" else "text"
    return Draft(channel="c", platform=platform, article_id="a", text=text, format=fmt, **extra)


def test_telegram_formatting_is_rebuilt_with_utf16_offsets() -> None:
    text = (
        '<b>Rat &amp; 😀 <i>Stadt</i></b>\n<a href="https://x.de/a?b=1&amp;c=2">mehr</a> &lt;p&gt;'
    )
    assert str(telegram(text)) == (
        "<strong>Rat &amp; 😀 <em>Stadt</em></strong>\n"
        '<a href="https://x.de/a?b=1&amp;c=2" rel="noopener">mehr</a> &lt;p&gt;'
    )


def test_telegram_never_passes_a_script_or_a_script_link() -> None:
    shown = str(telegram('<a href="javascript:alert(1)">x</a><blockquote>q</blockquote>'))
    assert shown == "<span>x</span><blockquote>q</blockquote>"
    refused = str(telegram("<b>open <script>alert(1)</script>"))  # Telegram refuses it
    assert refused == "&lt;b&gt;open &lt;script&gt;alert(1)&lt;/script&gt;"
    spoiler = str(telegram("<tg-spoiler>geheim</tg-spoiler>"))
    assert spoiler == '<span class="spoiler">geheim</span>'


def test_bluesky_display_link_and_card() -> None:
    d = draft(
        "bluesky",
        "Titel <b>\n\nnews.de/politik/rat…",
        link="https://news.de/politik/rat?utm_source=bsky",
        link_text="news.de/politik/rat…",
        title="Titel & mehr",
        description="Kurz",
    )
    shown = str(render(d, d.text))
    assert shown.startswith(
        'Titel &lt;b&gt;\n\n<a href="https://news.de/politik/rat?utm_source=bsky"'
    )
    assert '<span class="card-title">Titel &amp; mehr</span>' in shown
    assert '<span class="card-domain">news.de</span>' in shown


def test_other_platforms_are_their_escaped_text() -> None:
    d = draft("mastodon", "<b>nicht fett</b>", link="https://news.de/a")
    assert str(render(d, d.text)) == "&lt;b&gt;nicht fett&lt;/b&gt;"
