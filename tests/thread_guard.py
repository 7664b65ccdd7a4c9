"""The suite's thread budget (tests/conftest.py runs it): threads a test leaves behind pile up
for the tests after it, and a non-daemon thread left at the end keeps the interpreter from
exiting. Late tests once saw 57 live threads: the platform sandbox kept one thread per
kept-alive connection until the garbage collector freed the client that held it.

After every test at most `LIMIT` threads may be alive (the suite's own steady state is about
ten: the shared sandbox, the render watchdog, the lease keeper, library pools); at the end of
the session no non-daemon thread may be left that was not there at its start, except the
bounded pools libraries keep on purpose. Threads that are just finishing get a few seconds.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection

LIMIT = 40


def _library_pools() -> set[threading.Thread]:
    """Pools a library keeps for the life of the process, bounded by design: Apprise's shared
    executor (apprise.apprise.get_shared_executor, at most min(32, cpus + 4) threads)."""
    executor = getattr(sys.modules.get("apprise.apprise"), "_shared_executor", None)
    return set(getattr(executor, "_threads", ()))


def describe(threads: Collection[threading.Thread]) -> str:
    """`3 x Thread-N (process_request_thread) [Server]`, one line per kind, most first."""

    def kind(t: threading.Thread) -> str:
        owner = getattr(getattr(t, "_target", None), "__self__", None)
        where = f" [{type(owner).__qualname__}]" if owner is not None else ""
        return re.sub(r"\d+", "N", t.name) + ("" if t.daemon else " (non-daemon)") + where

    counts = Counter(kind(t) for t in threads)
    return "; ".join(f"{n} x {name}" for name, n in counts.most_common())


def _settle(strays: Callable[[], list[threading.Thread]], seconds: float) -> list[threading.Thread]:
    """`strays()` once it is empty, or as it is after `seconds` (threads may be finishing)."""
    deadline = time.monotonic() + seconds
    left = strays()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = strays()
    return left


def over_limit() -> str | None:
    """Why too many threads are alive now, or None."""

    def excess() -> list[threading.Thread]:
        alive = threading.enumerate()
        return alive if len(alive) > LIMIT else []

    if threading.active_count() <= LIMIT:  # the cheap test first: this runs after every test
        return None
    alive = _settle(excess, 5.0)
    if not alive:
        return None
    return f"{len(alive)} threads alive after this test (limit {LIMIT}): {describe(alive)}"


def non_daemon_left(at_start: Collection[threading.Thread]) -> str | None:
    """Why the session leaves non-daemon threads behind, or None."""

    def strays() -> list[threading.Thread]:
        keep = set(at_start) | _library_pools()
        return [t for t in threading.enumerate() if not t.daemon and t not in keep]

    left = _settle(strays, 10.0)
    if not left:
        return None
    return f"non-daemon threads outlive the test session: {describe(left)}"
