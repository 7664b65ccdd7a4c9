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
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import CodeType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, Macro, markup_join
from jinja2.sandbox import ImmutableSandboxedEnvironment

from distributor.errors import TemplateError
from distributor.hashtags import hashtags_filter
from distributor.links import add_utm
from distributor.render import bounds, codecache, guard, slots
from distributor.render import context as ctxmod
from distributor.render.guard import MAX_VALUE, Budget, RenderTimeout, time_limit

MAX_SOURCE_BYTES = 64 * 1024
MAX_EXPONENT = 64
MAX_SECONDS = 2.0  # wall-clock budget of one render (all fitting attempts together)
MAX_MACRO_DEPTH = 20


class _Compiler(CodeGenerator):
    """Jinja's code generator with bounded joins: `~` and the buffers of macros and blocks
    (Jinja joins both with a plain `"".join`, which no sandbox hook sees)."""

    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.new_buffer()")

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.join_parts(context.eval_ctx, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox with size checks on operators, calls, `~` and block buffers."""

    code_generator_class = _Compiler
    concat = staticmethod(bounds.bounded_concat)
    new_buffer = bounds.BoundedBuffer
    # `%` too: intercepting it also stops Jinja folding `"%999999999d" % 1` at compile time
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and right > MAX_EXPONENT:
            raise SecurityError(f"exponent too large ({right} > {MAX_EXPONENT})")
        if operator == "*":
            seq, count = (left, right) if isinstance(right, int) else (right, left)
            big = isinstance(count, int) and bounds.weight(seq) * count > MAX_VALUE
            if big and hasattr(seq, "__len__"):
                raise SecurityError(f"repetition too large (> {MAX_VALUE} items)")
        if operator == "%" and isinstance(left, str):
            guard.check_percent_format(left, right)
            if bounds.percent_size(left, right) > MAX_VALUE:
                raise bounds.too_large("% result")
        return bounds.check(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        args = tuple(bounds.bounded(a) for a in args)
        kwargs = {k: bounds.bounded(v) for k, v in kwargs.items()}
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool) and value > MAX_VALUE:
                raise SecurityError(f"argument too large ({value} > {MAX_VALUE})")
            bounds.check(value)
        # the sandbox hands out `str.format` wrapped; the string sits on the original
        method = getattr(__obj, "__wrapped__", __obj)
        name = getattr(method, "__name__", "")
        bounds.check_method(getattr(method, "__self__", None), name, args, kwargs)
        with _macro_depth(__obj):
            return bounds.check(super().call(__context, __obj, *args, **kwargs))

    @staticmethod
    def join_parts(eval_ctx: EvalContext, parts: tuple[Any, ...]) -> str:
        """`a ~ b`: Jinja's `str_join`/`markup_join`, with the total size checked first."""
        texts = [p if isinstance(p, str) else str(p) for p in parts]
        if sum(map(len, texts)) > MAX_VALUE:
            raise bounds.too_large("~ result")
        return markup_join(texts) if eval_ctx.autoescape else "".join(texts)


_depth = threading.local()


@contextmanager
def _macro_depth(obj: Any) -> Iterator[None]:
    """Macros may nest `MAX_MACRO_DEPTH` deep: every level keeps its arguments alive."""
    if not isinstance(obj, Macro):
        yield
        return
    depth = getattr(_depth, "n", 0)
    if depth >= MAX_MACRO_DEPTH:
        raise SecurityError(f"macros nested too deeply (> {MAX_MACRO_DEPTH})")
    _depth.n = depth + 1
    try:
        yield
    finally:
        _depth.n = depth


def _capped(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    passes = getattr(func, "jinja_pass_arg", None)  # context/env/eval_ctx come first

    @functools.wraps(func)  # copies `jinja_pass_arg`, so Jinja still passes context/env
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        first = 1 if passes else 0
        args = (*args[:first], *(bounds.bounded(a) for a in args[first:]))
        own = args[first:]
        bounds.check_decoration(name, kwargs, own)
        guard.check_filter(name, own, kwargs)
        return bounds.check(func(*args, **kwargs))

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
    env.filters.update(hashtags=hashtags_filter, utm=_utm_filter, teaser=_teaser_filter)
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
    where = codecache.folder()  # None: no cache (turned off, or not safe to use)
    cached = codecache.load(where, name, filename, source) if where else None
    code, fillable = cached or _compile_source(source, name, filename)
    if where and cached is None:
        codecache.store(where, name, filename, source, code, fillable)
    template = ENV.template_class.from_code(ENV, code, ENV.make_globals(None), None)
    slots.remember(template, fillable)
    return template


def _compile_source(source: str, name: str, filename: str) -> tuple[CodeType, frozenset[str]]:
    try:
        tree = ENV.parse(source, name, filename)
        code = ENV.compile(tree, name, filename)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{display(filename)}:{exc.lineno}: {exc.message}") from None
    except RecursionError:
        raise TemplateError(f"{display(filename)}: expressions nested too deeply") from None
    except (MemoryError, SecurityError) as exc:  # constant folding at compile time
        raise TemplateError(f"{display(filename)}: {_describe(exc)}") from None
    return code, slots.fillable(tree)


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
