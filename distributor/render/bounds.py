"""Size bounds for what a template computes: every value, method call and buffer.

`guard.py` refuses the amplifying *filters* before they run; this module does the same for
everything else a sandboxed template can reach (issue 13 found `('x'*10000).join(...)`,
`.expandtabs(100000)` and `.replace('', big)` allocating gigabytes):

* `weight(value)`: characters and items a value holds, counted *through* containers, so
  `["x" * 200000] * 100000` (a small list of references) weighs 2e10, not 100000;
* `check_method(owner, name, args, kwargs)`: the result size of the str/bytes methods that
  can outgrow their inputs (join, replace, expandtabs, format, format_map, translate),
  computed before they run;
* `bounded(iterable)`: an iterator argument (a generator from `|map`) turned into a list while
  its weight is counted, so a C function such as `str.join` never gets an unbounded stream;
* `BoundedBuffer`: the output buffer of macros, `{% set %}`, `{% filter %}` and call blocks.
"""

from __future__ import annotations

import string
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jinja2.exceptions import SecurityError

from distributor.render.guard import MAX_VALUE, NUMBER, PERCENT_SPEC, check_str_format

_CONTAINERS = (list, tuple, set, frozenset, dict)
_LAZY = (types.GeneratorType, map, filter, zip, reversed, enumerate)  # what filters return
_TEXT = (str, bytes)
TEXT_PER_WEIGHT = 8  # str() of a container: quotes, separators, escapes per counted unit
MAX_DECORATION = 100  # wrapstring, urlize target/rel, tojson indent: short by nature


def too_large(what: str) -> SecurityError:
    return SecurityError(f"{what} too large (> {MAX_VALUE})")


def weight(value: Any, limit: int = MAX_VALUE) -> int:
    """Characters of strings plus items of containers, nested; stops counting past `limit`."""
    if isinstance(value, _TEXT):
        return len(value)
    if not isinstance(value, _CONTAINERS):
        return 1
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, _TEXT):
            total += len(item)
        elif isinstance(item, dict):
            total += len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            total += len(item)
            stack.extend(item)
        else:
            total += 1
    return total


def check(value: Any) -> Any:
    """`value` itself, or SecurityError when it weighs more than `MAX_VALUE`."""
    if isinstance(value, (*_TEXT, *_CONTAINERS)) and weight(value) > MAX_VALUE:
        raise too_large("value")
    if isinstance(value, int) and abs(value).bit_length() > 256:
        raise SecurityError("number too large")
    return value


def text_size(value: Any) -> int:
    """An upper bound of `len(str(value))` for a value that passed `check`."""
    if isinstance(value, _TEXT):
        return len(value)
    return weight(value) * TEXT_PER_WEIGHT + 2


def bounded(value: Any) -> Any:
    """A lazy iterator (a generator from `|map`...) as a list, counted while it is read;
    anything else as is."""
    if not isinstance(value, _LAZY):
        return value
    items, total = [], 0
    for item in value:
        total += weight(item) + 1
        if total > MAX_VALUE:
            raise too_large("sequence")
        items.append(item)
    return items


def _refuse_over(size: int, what: str) -> None:
    if size > MAX_VALUE:
        raise too_large(what)


def join_size(sep: Any, items: Sequence[Any]) -> int:
    return sum(text_size(i) for i in items) + text_size(sep) * max(len(items) - 1, 0)


def replace_size(subject: Any, old: Any, new: Any, count: Any = -1) -> int:
    subject, old, new = (s if isinstance(s, _TEXT) else str(s) for s in (subject, old, new))
    found = len(subject) + 1 if not old else subject.count(old)
    if isinstance(count, int) and count >= 0:
        found = min(found, count)
    return len(subject) + found * max(len(new) - len(old), 0)


def fields_size(fmt: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> int:
    """`str.format`: automatic fields use each value once; named or numbered ones may
    repeat one, so each may print the largest."""
    check_str_format(fmt)
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(fmt) if name is not None]
    except ValueError:
        return len(fmt)  # str.format itself refuses it
    sizes = [text_size(v) for v in (*args, *kwargs.values())]
    widths = sum(_numbers(spec) for _, _, spec, _ in string.Formatter().parse(fmt) if spec)
    if all(name == "" for name in names):
        return len(fmt) + widths + sum(sizes)
    return len(fmt) + widths + len(names) * max(sizes, default=0)


def _numbers(spec: str) -> int:
    return sum(int(n) for n in NUMBER.findall(spec))


def percent_size(fmt: str, args: Any) -> int:
    """`%`: a tuple's values are used once each; a mapping's may repeat."""
    widths = sum(_numbers(w + " " + p) for w, p in PERCENT_SPEC.findall(fmt))
    if isinstance(args, Mapping):
        most = max((text_size(v) for v in args.values()), default=0)
        return len(fmt) + widths + fmt.count("%") * most
    values = args if isinstance(args, tuple) else (args,)
    stars = sum(abs(v) for v in values if isinstance(v, int)) if "*" in fmt else 0
    return len(fmt) + widths + stars + sum(text_size(v) for v in values)


def check_method(owner: Any, name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Refuse a str/bytes method call whose result would pass `MAX_VALUE`."""
    if not isinstance(owner, _TEXT):
        return
    if name == "join" and args:
        _refuse_over(join_size(owner, args[0]), "join result")
    elif name == "replace" and len(args) >= 2:
        _refuse_over(replace_size(owner, *args[:3]), "replace result")
    elif name == "expandtabs":
        tab = args[0] if args else kwargs.get("tabsize", 8)
        tabs = owner.count("\t" if isinstance(owner, str) else b"\t")  # type: ignore[arg-type]
        _refuse_over(len(owner) + tabs * (tab if isinstance(tab, int) else 0), "expandtabs")
    elif name == "format" and isinstance(owner, str):
        _refuse_over(fields_size(owner, args, kwargs), "format result")
    elif name == "format_map" and isinstance(owner, str) and args:
        mapping = args[0] if isinstance(args[0], Mapping) else {}
        _refuse_over(fields_size(owner, (), mapping), "format result")
    elif name == "translate":
        table = args[0] if args else None
        if not isinstance(table, Mapping):
            raise SecurityError("translate() needs a dict in templates")
        longest = max((text_size(v) for v in table.values() if v is not None), default=1)
        _refuse_over(len(owner) * max(longest, 1), "translate result")


def check_decoration(name: str, kwargs: Mapping[str, Any], args: Sequence[Any]) -> None:
    """Filters that repeat a short argument per line or link: keep that argument short."""
    keys = {"wordwrap": ("wrapstring",), "urlize": ("target", "rel"), "tojson": ("indent",)}
    for key in keys.get(name, ()):
        value = kwargs.get(key)
        size = value if isinstance(value, int) else text_size(value) if value else 0
        if size > MAX_DECORATION:
            raise SecurityError(f"{name}: {key} too long (> {MAX_DECORATION})")
    if name == "wordwrap" and len(args) >= 4 and text_size(args[3]) > MAX_DECORATION:
        raise SecurityError(f"wordwrap: wrapstring too long (> {MAX_DECORATION})")
    if name == "sum" and not isinstance(kwargs.get("start", 0), int | float):
        raise SecurityError("sum: only numbers can be added up")


class BoundedBuffer(list[str]):
    """An output buffer that refuses to grow past `MAX_VALUE` characters."""

    size = 0

    def append(self, item: str) -> None:
        self._count(item)
        super().append(item)

    def extend(self, items: Iterable[str]) -> None:
        for item in items:
            self.append(item)

    def _count(self, item: Any) -> None:
        self.size += len(item) if isinstance(item, str) else text_size(item)
        if self.size > MAX_VALUE:
            raise too_large("block output")


def bounded_concat(parts: Iterable[Any]) -> str:
    """`environment.concat` (joins a buffer): the parts together stay under `MAX_VALUE`."""
    items = parts if isinstance(parts, list) else list(parts)
    _refuse_over(sum(len(p) if isinstance(p, str) else text_size(p) for p in items), "output")
    return "".join(items)
