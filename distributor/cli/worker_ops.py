"""What `distributor worker` adds around the Dispatcher to run for real: signals and chores.

Signals: the first SIGTERM/SIGINT asks the loop to stop (no new claims; sends in flight finish
and are recorded; claimed-but-unsent deliveries go back to the queue). If the sends in flight
take longer than `[dispatch] shutdown_grace`, or a second signal arrives, the process exits at
once; what was in flight stays `sending` and the next reconcile resolves it (never a blind
resend). Chores: reconcile every `[dispatch] reconcile_every`, alert checks every
`[alerts] check_every`, both from the claim loop.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributor.dispatch import Dispatcher

log = logging.getLogger("distributor.worker")
EXIT_FORCED = 130  # what a shell reports for an interrupted program


def schedule(disp: Dispatcher, *, reconcile: Callable[[], Any] | None) -> None:
    """Register the worker's periodic chores; a bad `[alerts]` table fails here, at start."""
    from distributor.alerts import alert_targets, check
    from distributor.alerts.notify import validate

    conf = disp.settings.alerts
    validate(alert_targets(disp.settings))
    if reconcile is not None:  # the start-up reconcile ran already
        disp.every(disp.policy.reconcile_every, "reconcile", reconcile, now=False)
    disp.every(conf.check_every, "alerts", lambda: check(disp.settings, disp.store, disp.clock))


class Shutdown:
    """`with Shutdown(stop, grace):` installs the two-step signal handling, restores after."""

    def __init__(self, stop: threading.Event, grace: float) -> None:
        self.stop, self.grace = stop, grace
        self._previous: dict[int, Any] = {}
        self._timer: threading.Timer | None = None

    def __enter__(self) -> Shutdown:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

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
            _exit_now(f"second {name}: exiting now, reconcile resolves the sends in flight")
        log.warning(
            "%s: finishing sends in flight (at most %.0fs; send it again to exit now)",
            name,
            self.grace,
        )
        self.stop.set()
        self._timer = threading.Timer(
            self.grace,
            _exit_now,
            [f"sends still in flight after {self.grace:.0f}s: exiting, reconcile resolves them"],
        )
        self._timer.daemon = True
        self._timer.start()


def _exit_now(why: str) -> None:
    log.error(why)
    for handler in logging.getLogger().handlers:
        handler.flush()
    os._exit(EXIT_FORCED)
