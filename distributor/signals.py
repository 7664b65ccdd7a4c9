"""SIGTERM and SIGINT for the long-running commands: `worker`, `watch`, `serve`, `sandbox`.

One behaviour for all four (docs/operations.md, "Stopping"):

- the first SIGTERM or SIGINT (Ctrl-C) asks the command to stop: `stop` is set and `on_stop`
  runs; the command finishes what it is doing (the worker its sends in flight, `watch` the feed
  being polled, `serve` the requests in flight, the sandbox nothing) and exits 0;
- a second signal exits at once with status 130, what a shell reports for an interrupted
  program; every store write is a transaction, so nothing is half-written, and what was in
  flight is resolved by reconcile (never a blind resend);
- with `grace`, a stop that takes longer than `grace` seconds exits with 130 the same way.

    with StopSignals(grace=30.0) as stop:
        while not stop.is_set(): ...
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

EXIT_FORCED = 130  # what a shell reports for an interrupted program
SIGNALS = (signal.SIGTERM, signal.SIGINT)
log = logging.getLogger("distributor")


class StopSignals:
    """`with StopSignals(...) as stop:` installs the two-step handling, restores it after."""

    def __init__(
        self,
        *,
        grace: float | None = None,
        on_stop: Callable[[], object] | None = None,
        on_force: Callable[[], object] | None = None,
        finishing: str = "finishing what is in flight",
        forced: str = "",
    ) -> None:
        self.stop = threading.Event()
        self.grace, self.on_stop, self.on_force = grace, on_stop, on_force
        self.finishing = finishing  # what the first signal's log line says happens now
        self.forced = f", {forced}" if forced else ""  # what becomes of it on a forced exit
        self._previous: dict[int, Any] = {}
        self._timer: threading.Timer | None = None

    def __enter__(self) -> threading.Event:
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self.stop

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.stop.is_set():
            self._force(f"second {name}: exiting now{self.forced}")
        # Set before the log line: a second signal can interrupt this handler while it logs,
        # and must find the first one already counted.
        self.stop.set()
        log.warning("%s: %s (send it again to exit now)", name, self.finishing)
        if self.grace is not None:
            why = f"still stopping after {self.grace:g}s: exiting now{self.forced}"
            self._timer = threading.Timer(self.grace, self._force, [why])
            self._timer.daemon = True
            self._timer.start()
        if self.on_stop is not None:
            self.on_stop()

    def _force(self, why: str) -> None:
        """Exit with 130 at once, from a signal handler or the grace timer's thread."""
        if self.on_force is not None:
            self.on_force()
        exit_now(why)


def exit_now(why: str) -> None:
    """Log `why`, flush every log handler, and end the process with 130 (no cleanup runs)."""
    log.error(why)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(EXIT_FORCED)
