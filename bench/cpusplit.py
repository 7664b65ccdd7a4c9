"""Where a delivery's CPU goes with the fan-out's send threads (run by bench/profile_fanout.py).

Each thread's CPU time (`time.thread_time`) is summed around three parts of a real Dispatcher
sending planned deliveries to the sandbox with `concurrency` threads: the adapters' `publish`
(the platform client libraries: requests, urllib3, tweepy, facebook-sdk, and the adapters'
own code), every call the dispatcher makes on the store (claim, `sending`, outcome, lease
renewals; a group-commit leader's CPU counts for the writes it runs), and the log handlers.
The rest is the process's CPU time less those: the thread pool, the claim loop, the lease
keeper, building log context, garbage collection. A pyinstrument profile samples one thread
only, so it cannot show what 50 threads sharing one GIL cost; this can.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

PARTS = ("publish", "store", "log handlers")


class Split:
    """CPU seconds per part, summed over threads; an inner timed call counts for the outer."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._inside = threading.local()

    def timed(self, part: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            if getattr(self._inside, "yes", False):
                return fn(*args, **kwargs)
            self._inside.yes, start = True, time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.thread_time() - start
                self._inside.yes = False
                with self._lock:
                    self.seconds[part] += spent

        return run


class _Timed:
    """`target` with every callable attribute (or only `only`) timed as `part`."""

    def __init__(self, target: Any, split: Split, part: str, only: str | None = None) -> None:
        self._target, self._split, self._part, self._only = target, split, part, only

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if callable(value) and (self._only is None or name == self._only):
            return self._split.timed(self._part, value)
        return value


def cpu_split(config: Any, secrets: dict[str, str], database: str, concurrency: int) -> list[str]:
    """Send every delivery planned in `database` with `concurrency` threads; the table lines."""
    from distributor import logs
    from distributor.config import load_config
    from distributor.dispatch import Dispatcher
    from distributor.platforms.registry import build_adapter
    from distributor.store import open_store

    settings = load_config(config, environ=secrets)
    split, store = Split(), open_store(database)
    with open(os.devnull, "w", encoding="utf-8") as devnull:
        logs.setup("INFO", stream=devnull)  # as a worker logs: each outcome at INFO
        for handler in logging.getLogger().handlers:
            handler.handle = split.timed("log handlers", handler.handle)  # type: ignore[method-assign]
        dispatcher = Dispatcher(
            settings,
            _Timed(store, split, "store"),  # type: ignore[arg-type]
            adapter_for=lambda ch: _Timed(build_adapter(ch, settings), split, "publish", "publish"),
            concurrency=concurrency,
        )
        dispatcher.run_once()  # adapters built, first connections opened: not measured
        split.seconds.clear()
        sent0, cpu0 = store.counts_by_state().get("sent", 0), time.process_time()
        dispatcher.run(until_idle=True, poll=0.05)
        cpu = time.process_time() - cpu0
        sent = store.counts_by_state().get("sent", 0) - sent0
        logs.setup("WARNING")
    store.close()
    return _table(split.seconds, cpu, sent, concurrency)


def _table(seconds: Counter[str], cpu: float, sent: int, concurrency: int) -> list[str]:
    rest = cpu - sum(seconds.values())
    rows = [(part, seconds[part]) for part in PARTS] + [("rest", rest)]
    lines = [
        f"CPU split: {sent} deliveries, {concurrency} send threads, no latency: "
        f"{1000 * cpu / max(sent, 1):.2f} ms CPU per delivery",
    ]
    for part, spent in rows:
        share = spent / cpu if cpu else 0.0
        lines.append(f"  {part:14s} {1000 * spent / max(sent, 1):6.2f} ms  {share:4.0%}")
    return lines
