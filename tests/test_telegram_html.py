"""Telegram HTML parse mode: what the Bot API accepts, its error texts and visible length."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from distributor.telegram_html import (
    Entity,
    TelegramHTMLError,
    parse,
    utf16_length,
    visible_length,
)


def test_supported_tags_become_entities_with_utf16_offsets() -> None:
    parsed = parse('😀 <b>fett</b> &amp; <a href="https://x.example/?a=1&amp;b=2">Link</a>')
    assert parsed.text == "😀 fett & Link"
    assert parsed.entities == [
        Entity("b", 3, 4),  # the emoji is two UTF-16 units
        Entity("a", 10, 4, "https://x.example/?a=1&b=2"),
    ]
    assert parsed.length == 14


@pytest.mark.parametrize(
    "text",
    [
        "<strong>a</strong><em>b</em><ins>c</ins><strike>d</strike><del>e</del>",
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
        '<pre><code class="language-python">x = 1</code></pre>',
        "<blockquote expandable>Zitat</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "<B>upper-case tags are fine</B>",
        "<b>nested <i>tags</i></b>",
    ],
)
def test_accepted(text: str) -> None:
    assert parse(text).text


@pytest.mark.parametrize(
    ("text", "description", "offset"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0', 0),
        ("Ä<br>", 'Unsupported start tag "br" at byte offset 2', 2),
        ("a < b", 'Unsupported start tag "" at byte offset 2', 2),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"', None),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"', 4),
        ("x</b>", "Unexpected end tag at byte offset 1", 1),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0', 0),
        ("<b", "Unclosed start tag at byte offset 0", 0),
        ("<a href=x?y>z</a>", "Unexpected end of name token at byte offset 8", 8),
    ],
)
def test_rejected_with_telegrams_text(text: str, description: str, offset: int | None) -> None:
    with pytest.raises(TelegramHTMLError) as info:
        parse(text)
    assert str(info.value) == "Bad Request: can't parse entities: " + description
    assert info.value.offset == offset


def test_only_four_named_entities_and_numeric_ones_are_decoded() -> None:
    assert parse("&lt;&gt;&amp;&quot;&#228;&#x1F600;").text == '<>&"ä😀'
    assert parse("&nbsp;&auml; & x").text == "&nbsp;&auml; & x"  # shown literally


def test_visible_length_counts_utf16_units_after_parsing() -> None:
    assert visible_length("<b>Kim</b> &amp; Putin") == len("Kim & Putin")
    assert visible_length("𝕏") == 2
    assert utf16_length("ä😀") == 3


@given(st.text())
def test_any_escaped_text_is_valid_and_round_trips(text: str) -> None:
    text = text.replace("\0", "")
    assert parse(str(escape(text))).text == text
    assert parse(f"<b>{html.escape(text)}</b>").text == text
