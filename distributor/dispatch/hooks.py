"""Crash-test hooks: `DISTRIBUTOR_CRASH_AT=<point>` kills the worker with SIGKILL at that point.

A testing hook only (the crash tests run a worker subprocess with it and check that, after a
restart and reconcile, nothing was posted twice). Points, in the order a send passes them:

    after_claim    the delivery is claimed (leased), nothing else happened
    before_http    `sending` is committed, the platform has not been called
    after_send     the platform answered (the post exists), the outcome is not committed
    after_commit   the outcome is committed

Unset (the normal case) it costs one dictionary lookup per point.
"""

from __future__ import annotations

import os
import signal

ENV = "DISTRIBUTOR_CRASH_AT"
POINTS = ("after_claim", "before_http", "after_send", "after_commit")


def crash_point(name: str) -> None:
    """Die here, at once and without cleanup, if `DISTRIBUTOR_CRASH_AT` names this point."""
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
