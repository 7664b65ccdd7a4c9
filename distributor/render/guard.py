"""Resource guards for template rendering: a wall-clock limit and checks before amplifying calls.

The sandbox caps what an expression *returns*; these checks refuse a call before it allocates:
format widths and precisions (`"%999999999d" % 1`, `"{:>999999999}".format(x)`, `|format`),
filters whose output grows with an argument (`|center`, `|indent`, `|replace`, `|join`).

`time_limit()` stops a render that burns CPU without producing output (nested loops over
`range(100000)`): a watchdog timer raises `RenderTimeout` inside the rendering thread
(`PyThreadState_SetAsyncExc`, delivered between bytecodes, so it also works in worker threads,
where signals cannot). A pending exception is withdrawn before the block is left, so it can
never surface in unrelated code.
"""

from __future__ import annotations

import os
import re
import string
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from jinja2.exceptions import SecurityError

MAX_VALUE = 200_000  # longest string/list any expression may produce
NUMBER = re.compile(r"\d+")
PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(\*|\d+)?(?:\.(\*|\d+))?")
_local = threading.local()


class Budget:
    """Seconds of rendering left, shared by the attempts that fit one post."""

    def __init__(self, seconds: float) -> None:
        self.left = seconds


class RenderTimeout(BaseException):
    """Raised inside the rendering thread when its time is up (BaseException: templates and
    Jinja's own `except Exception` cannot swallow it)."""


def _refuse(what: str) -> SecurityError:
    return SecurityError(f"{what} too large (> {MAX_VALUE})")


def _check_numbers(spec: str, what: str) -> None:
    if any(int(n) > MAX_VALUE for n in NUMBER.findall(spec)):
        raise _refuse(what)


def check_str_format(fmt: str) -> None:
    """`str.format` strings: no width/precision above the cap, no nested `{}` in a spec."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format itself will refuse it
    for _, _, spec, _ in fields:
        if spec and "{" in spec:
            raise SecurityError("nested replacement fields in a format spec are not allowed")
        if spec:
            _check_numbers(spec, "format width")


def check_percent_format(fmt: str, args: Any) -> None:
    """`%` formatting: widths and precisions, including `*` ones taken from the arguments."""
    for width, precision in PERCENT_SPEC.findall(fmt):
        _check_numbers(width + " " + precision, "format width")
    values = args if isinstance(args, tuple) else (args,)
    for v in values:
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_VALUE:
            raise _refuse("format argument")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | Sequence | Mapping) else len(str(value))


def check_filter(name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Refuse a filter call whose result would pass the cap before it is computed."""
    values = (*args, *kwargs.values())
    for v in values:
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) > MAX_VALUE:
            raise _refuse(f"{name} argument")
    if not args:
        return
    subject, rest = args[0], list(args[1:])
    size = 0
    if name == "replace" and len(rest) >= 2:
        size = (_length(subject) + 1) * (_length(rest[1]) + 1)
    elif name == "join" and hasattr(subject, "__len__"):
        sep = rest[0] if rest else kwargs.get("d", "")
        size = len(subject) * _length(sep)
    elif name == "indent":
        width = rest[0] if rest else kwargs.get("width", 4)
        lines = str(subject).count("\n") + 1
        size = lines * (width if isinstance(width, int) else _length(width))
    elif name == "format" and isinstance(subject, str):
        check_percent_format(subject, tuple(rest))
    if size > MAX_VALUE:
        raise _refuse(f"{name} result")


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    import ctypes  # only when a render overruns: not on every CLI start

    obj = ctypes.py_object(exc) if exc is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), obj)


IDLE_WAIT = 0.5  # seconds between two looks of the idle watchdog (render budgets are longer)


class _Watchdog:
    """One daemon thread for every render's deadline (a `threading.Timer` per render started a
    thread each time: 60% of the render time in the benchmark profile). Firing and leaving a
    block both happen under the one lock, so a timeout is raised or withdrawn, never lost."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.due: dict[int, tuple[float, int, dict[str, bool]]] = {}
        self.waiting_until: float | None = None
        self.thread: threading.Thread | None = None
        self.next_key = 0

    def add(self, seconds: float, thread_id: int, state: dict[str, bool]) -> int:
        deadline = time.monotonic() + seconds
        with self.lock:
            self.next_key += 1
            self.due[self.next_key] = (deadline, thread_id, state)
            if self.thread is None or not self.thread.is_alive():  # first use, or after fork
                self.thread = threading.Thread(target=self._run, name="render-watchdog")
                self.thread.daemon = True
                self.thread.start()
            elif self.waiting_until is None or deadline < self.waiting_until:
                self.lock.notify()
            return self.next_key

    def _run(self) -> None:
        with self.lock:
            while True:
                now = time.monotonic()
                for key, (deadline, thread_id, state) in list(self.due.items()):
                    if deadline <= now:
                        del self.due[key]
                        state["fired"] = True
                        _set_async_exc(thread_id, RenderTimeout)
                # Idle, it still looks every IDLE_WAIT seconds: a render whose deadline lies beyond
                # that then needs no wake-up (`add`), which cost each lone render a thread switch.
                self.waiting_until = min(
                    (d for d, _, _ in self.due.values()), default=now + IDLE_WAIT
                )
                self.lock.wait(self.waiting_until - now)


_watchdog = _Watchdog()
os.register_at_fork(after_in_child=lambda: globals().update(_watchdog=_Watchdog()))


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `RenderTimeout` in this thread if the block runs longer than `seconds`.

    Nested use keeps the outer (earlier) deadline: one render, one budget.
    """
    if getattr(_local, "active", False):
        yield
        return
    state = {"fired": False}
    thread_id = threading.get_ident()
    watchdog = _watchdog
    _local.active = True
    key = watchdog.add(seconds, thread_id, state)
    try:
        yield
    finally:
        try:
            with watchdog.lock:
                watchdog.due.pop(key, None)
                if state["fired"]:
                    _set_async_exc(thread_id, None)  # withdraw it if not raised yet
        finally:  # runs even if the timeout lands just before the lock (it fires once)
            _local.active = False
