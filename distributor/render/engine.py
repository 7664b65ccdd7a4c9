"""The sandboxed Jinja2 environment: template lookup and cache, size guards, clear errors.

Templates are data written by newsroom staff, not code: they run in Jinja2's
`ImmutableSandboxedEnvironment` (no attribute walks such as `''.__class__`, no `str.format`
gadgets, no mutation of lists or dicts) with `StrictUndefined`. On top of the sandbox the
environment caps what a template can make: template source size, the size of every string or
list an operator, call or filter produces, and the rendered output (streamed with `generate()`).
Loop counts are capped by the sandbox's `MAX_RANGE`; calls that would allocate past the caps
(format widths, `|center`, `|replace`...) are refused before they run (`guard`), and a render
that burns CPU inside the caps (nested loops that print nothing) is stopped after `MAX_SECONDS`.

Every failure becomes a `TemplateError` that names the template file and line.
"""

from __future__ import annotations

import functools
import os
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, pass_context
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from distributor.errors import TemplateError
from distributor.links import add_utm
from distributor.render import context as ctxmod
from distributor.render import guard
from distributor.render.guard import MAX_VALUE, Budget, RenderTimeout, time_limit

MAX_SOURCE_BYTES = 64 * 1024
MAX_EXPONENT = 64
MAX_SECONDS = 2.0  # wall-clock budget of one render (all fitting attempts together)


def _too_big(value: Any) -> bool:
    return isinstance(value, str | list | tuple | dict) and len(value) > MAX_VALUE


def _guard(value: Any) -> Any:
    if _too_big(value):
        raise SecurityError(f"value too large ({len(value)} > {MAX_VALUE} items)")
    if isinstance(value, int) and abs(value).bit_length() > 256:
        raise SecurityError("number too large")
    return value


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox with size checks on operators and calls (the usual amplification paths)."""

    # `%` too: intercepting it also stops Jinja folding `"%999999999d" % 1` at compile time
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and right > MAX_EXPONENT:
            raise SecurityError(f"exponent too large ({right} > {MAX_EXPONENT})")
        if operator == "*":
            seq, count = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(count, int) and hasattr(seq, "__len__") and len(seq) * count > MAX_VALUE:
                raise SecurityError(f"repetition too large (> {MAX_VALUE} items)")
        if operator == "%" and isinstance(left, str):
            guard.check_percent_format(left, right)
        return _guard(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_VALUE:
                raise SecurityError(f"argument too large ({value} > {MAX_VALUE})")
            _guard(value)
        if getattr(__obj, "__name__", "") in ("format", "format_map"):
            # the sandbox hands out `str.format` wrapped; the string sits on the original
            owner = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
            if isinstance(owner, str):
                guard.check_str_format(owner)
        return _guard(super().call(__context, __obj, *args, **kwargs))


def _capped(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    passes = getattr(func, "jinja_pass_arg", None)  # context/env/eval_ctx come first

    @functools.wraps(func)  # copies `jinja_pass_arg`, so Jinja still passes context/env
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        guard.check_filter(name, args[1:] if passes else args, kwargs)
        return _guard(func(*args, **kwargs))

    return wrapper


@pass_context
def _teaser_filter(
    context: Context, text: str, max_chars: int = ctxmod.DEFAULT_TEASER_CHARS
) -> str:
    language = context.get("language") or None
    return ctxmod.derived_teaser(str(text), language, int(max_chars)) if text else ""


def _utm_filter(url: str, **params: Any) -> str:
    return add_utm(str(url), params)


def _autoescape(name: str | None) -> bool:
    return bool(name and name.endswith(".html.j2"))  # Telegram HTML; plain text stays plain


def _make_env() -> _Sandbox:
    env = _Sandbox(
        undefined=StrictUndefined,
        autoescape=_autoescape,
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    # No accumulators (namespace) and no text generators (lipsum): nothing a teaser needs.
    for name in ("namespace", "lipsum", "cycler", "joiner"):
        env.globals.pop(name, None)
    env.filters.update(hashtags=ctxmod.hashtags_filter, utm=_utm_filter, teaser=_teaser_filter)
    env.filters = {name: _capped(name, f) for name, f in env.filters.items()}
    return env


ENV = _make_env()
_CACHE: dict[tuple[str, str], Template | None] = {}


def clear_cache() -> None:
    """Forget compiled templates (after editing templates in a long-running process)."""
    _CACHE.clear()


def display(path: str) -> str:
    """A template path as people want to read it (relative to the working directory)."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def load(folder: Path, name: str) -> Template | None:
    """The compiled template `name` in `folder` (cached), or None when there is no such file."""
    key = (str(folder), name)
    if key in _CACHE:
        return _CACHE[key]
    path = folder / name
    try:
        raw = path.read_bytes() if path.is_file() else None
    except OSError as exc:
        raise TemplateError(f"{display(str(path))}: cannot read: {exc.strerror}") from None
    template = None if raw is None else _compile(raw, name, str(path))
    _CACHE[key] = template
    return template


def _compile(raw: bytes, name: str, filename: str) -> Template:
    if len(raw) > MAX_SOURCE_BYTES:
        raise TemplateError(
            f"{display(filename)}: template too large ({len(raw)} > {MAX_SOURCE_BYTES} bytes)"
        )
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TemplateError(f"{display(filename)}: not UTF-8 text") from None
    try:
        code = ENV.compile(source, name, filename)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{display(filename)}:{exc.lineno}: {exc.message}") from None
    except RecursionError:
        raise TemplateError(f"{display(filename)}: expressions nested too deeply") from None
    except (MemoryError, SecurityError) as exc:  # constant folding at compile time
        raise TemplateError(f"{display(filename)}: {_describe(exc)}") from None
    return ENV.template_class.from_code(ENV, code, ENV.make_globals(None), None)


def find(folders: Iterable[Path], names: Iterable[str]) -> Template | None:
    """The first template found: every name in the first folder, then the next folder."""
    names = list(names)
    for folder in folders:
        for name in names:
            template = load(folder, name)
            if template is not None:
                return template
    return None


def run(
    template: Template,
    values: Mapping[str, Any],
    *,
    max_chars: int,
    budget: Budget | None = None,
) -> str:
    """Render `template`, stopping once the output passes `max_chars` characters or the time
    runs out (`budget`: shared by the renders of one post; else `MAX_SECONDS` for this one)."""
    filename = template.filename or template.name or "template"
    budget = budget or Budget(MAX_SECONDS)
    if budget.left <= 0:
        raise TemplateError(timed_out(filename))
    size = 0
    chunks: list[str] = []
    started = time.monotonic()
    try:
        with time_limit(budget.left):
            for chunk in template.generate(values):
                size += len(chunk)
                if size > max_chars:
                    raise TemplateError(
                        f"{display(filename)}: output too large (more than {max_chars} characters)"
                    )
                chunks.append(chunk)
    except TemplateError:
        raise
    except RenderTimeout:
        raise TemplateError(timed_out(filename)) from None
    except Exception as exc:  # any failure inside a template is the template's fault
        raise TemplateError(f"{where(exc, filename)}: {_describe(exc)}") from None
    finally:
        budget.left -= time.monotonic() - started
    return "".join(chunks)


def timed_out(filename: str) -> str:
    return f"{display(filename)}: rendering took longer than {MAX_SECONDS:g} s (stopped)"


def where(exc: BaseException, filename: str) -> str:
    """`file:line` of the innermost template frame in `exc`'s traceback."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    return f"{display(filename)}:{line}" if line else display(filename)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, SecurityError):
        return f"not allowed in templates: {text}"
    return text if type(exc).__module__.startswith("jinja2") else f"{type(exc).__name__}: {text}"
