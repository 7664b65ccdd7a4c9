"""What the CLI prints from outside (article text, platform errors, feed titles) is shown,
never executed: control characters become visible escapes, CSV cells never start a formula.

A terminal obeys escape sequences in whatever it is sent: `\\x1b]0;...\\x07` retitles the
window, `\\x1b[2J` clears it, the 8-bit CSI `\\x9b` does the same on some terminals, and bidi
overrides (U+202E) make text read differently from what it is. `terminal_safe` turns C0 (but
newline and tab), DEL, C1 and the bidi embedding/override/isolate characters into `\\x1b` /
`\\u202e`. Spreadsheets run a cell that starts with `=`, `+`, `-`, `@`, tab or CR as a formula
(OWASP "CSV injection"): `csv_cell` puts a `'` in front of such cells.
"""

from __future__ import annotations

import re
from typing import Any

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """`text` with every control character shown as an escape (newline and tab kept)."""
    return _CONTROL.sub(_escape, text)


def json_safe(text: str) -> str:
    """JSON text with the control characters JSON leaves raw (DEL, C1, bidi) `\\u`-escaped:
    they only occur inside strings, where the escape means the same character."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def csv_cell(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula; non-strings unchanged."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA):
        value = "'" + value
    return terminal_safe(value)


def safe_renderable(renderable: Any) -> Any:
    """`renderable` (anything rich prints) with control characters in its text escaped."""
    from rich.segment import Segment

    class Escaped:
        def __rich_console__(self, console: Any, options: Any) -> Any:
            for seg in console.render(renderable, options):
                text = seg.text if seg.control else terminal_safe(seg.text)
                yield Segment(text, seg.style, seg.control)

    return Escaped()


def safe_console() -> Any:
    """A rich console on stdout whose printed text never carries raw control characters."""
    from rich.console import Console, RenderHook

    class Hook(RenderHook):
        def process_renderables(self, renderables: list[Any]) -> list[Any]:
            return [safe_renderable(r) for r in renderables]

    console = Console(highlight=False)
    console.push_render_hook(Hook())
    return console
