"""One rule for untrusted text and JSON, whatever the door (file, stdin, feed, page, webhook,
admin preview, Python API).

Characters (`clean_text`, applied by `Article` to every text field):
- NUL is refused (`check_text` raises ArticleError naming the field): no text store holds it
  (PostgreSQL refuses it) and it only comes from broken or binary data;
- removed: the other C0 controls except tab and line breaks, DEL, the C1 controls, lone UTF-16
  surrogates (not characters; nothing can encode them), the bidi embedding, override and
  isolate controls U+202A-U+202E and U+2066-U+2069 (they reorder what readers see: a link that
  reads "gpj.exe"), and invisible characters that only hide text: U+200B zero-width space,
  U+2060 word joiner, U+FEFF byte-order mark, U+180E, the invisible operators U+2061-U+2064 and
  soft hyphens U+00AD (a post is never hyphenated, yet every platform counts them and some show
  them as "-"). Kept: ZWJ/ZWNJ (emoji sequences, Persian and Indic scripts) and the LRM/RLM
  marks (they cannot reorder text).
Links (`clean_url`): control characters are refused, `user:password@` is dropped (a link is
posted publicly; credentials in it would be published).

JSON (`loads`): nesting deeper than `MAX_DEPTH`, integers longer than `MAX_DIGITS` digits and
lone surrogates (`"\\ud800"`) are refused with one line, like any other invalid JSON (Python's
own limits would otherwise surface as RecursionError, ValueError or UnicodeEncodeError later).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from distributor.errors import ArticleError

MAX_DEPTH = 64  # an article is 3 levels deep; a JSON-LD @graph a few more
MAX_DIGITS = 100  # an id or a timestamp, never a 4,300-digit number
_REMOVED = [*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
_REMOVED += [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x2060, 0xFEFF, 0x180E]
_REMOVED += [0x00AD, *range(0x2061, 0x2065)]
_REMOVED += range(0xD800, 0xE000)
_TABLE: dict[int, None] = dict.fromkeys(_REMOVED)
_FOUND = re.compile("[" + "".join(re.escape(chr(c)) for c in _REMOVED if c < 0xD800) + "]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(value: str, key: str) -> None:
    """ArticleError if `value` holds a NUL character."""
    if "\x00" in value:
        raise ArticleError(f"field {key!r} contains a NUL character (\\u0000)")


def clean_text(value: str, key: str = "text") -> str:
    """`value` without the characters removed by the rule above; NUL refused."""
    check_text(value, key)
    if _FOUND.search(value) is None and _SURROGATE.search(value) is None:
        return value  # the common case: nothing to copy
    return value.translate(_TABLE)


def clean_url(url: str, key: str) -> str:
    """`url` without `user:password@`; ArticleError if it holds a control character."""
    if "\x00" in url or _FOUND.search(url) or _SURROGATE.search(url):
        raise ArticleError(f"field {key!r} contains a control character: {url.encode()!r}")
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url  # check_url reports it
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class _Refused(ValueError):
    pass


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"a number with more than {MAX_DIGITS} digits")
    return int(digits)


def loads(text: str, *, strict: bool = True) -> Any:
    """`json.loads` within the limits above; json.JSONDecodeError-like ValueError otherwise.

    Raises `JSONRefused` (a ValueError with `.msg`) for what the limits refuse and
    json.JSONDecodeError for broken syntax, so callers report both in one line.
    """
    try:
        data = json.loads(text, parse_int=_parse_int, strict=strict)
    except RecursionError:
        raise JSONRefused(f"nested more than {MAX_DEPTH} levels deep") from None
    except _Refused as exc:
        raise JSONRefused(str(exc)) from None
    _check_tree(data)
    return data


class JSONRefused(ValueError):
    """Valid JSON syntax that the limits refuse; `msg` says which limit."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


def _check_tree(data: Any) -> None:
    """Depth and lone surrogates, without recursion (a deep document must not recurse)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise JSONRefused("a lone surrogate (\\ud800-\\udfff) is not a character")
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise JSONRefused(f"nested more than {MAX_DEPTH} levels deep")
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
