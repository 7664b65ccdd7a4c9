"""Long-running processes (`worker`, `serve`) settle their heap once start-up is done.

A full collection of CPython's cyclic GC walks every tracked object of the oldest generation,
and start-up leaves a few hundred thousand that live as long as the process (FastAPI,
SQLAlchemy, the platform SDKs, compiled templates). In `serve` such a collection took 43 to
77 ms with the GIL held (bench/webhook_bench.py with gc callbacks): every webhook arriving
meanwhile waited, which alone is past the 50 ms p99 goal. `gc.freeze()` moves what exists to a
permanent generation that collections skip; what is made later is collected as before.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable

log = logging.getLogger("distributor.heap")


def settle(warm: Callable[[], object] | None = None) -> None:
    """Run `warm` (the first request's lazy imports and caches, made now instead), collect
    start-up's garbage once, then freeze every object left.

    `warm` is only a head start: the work it does would happen on first use anyway, so any
    error in it is logged at DEBUG and left for that first use to report."""
    if warm is not None:
        try:
            warm()
        except Exception as exc:  # the real first use reports it, in context
            log.debug("warm-up skipped: %s", type(exc).__name__)
    gc.collect()
    gc.freeze()
