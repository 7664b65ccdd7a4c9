"""Dispatch: the ONLY retry layer. Claims due deliveries, sends each once, records the outcome.

    from distributor.dispatch import Dispatcher
    Dispatcher(settings, store, concurrency=4).run(stop_event)        # `distributor worker`
    Dispatcher(settings, store).wait_for(delivery_ids)                 # `publish --wait`

Modules: `worker` (claim loop, thread pool, adapters per channel, heartbeat), `send` (one
delivery: pacing, `sending` committed before HTTP, tenacity for NotSent, error class -> state),
`hooks` (crash-test points). The retry/lease/pacing `Policy` is the `[dispatch]` table of the
configuration (`settings.dispatch`).
"""

from __future__ import annotations

from distributor.config import Policy
from distributor.dispatch.hooks import POINTS, crash_point
from distributor.dispatch.worker import SETTLED, Dispatcher, store_threads

__all__ = ["POINTS", "SETTLED", "Dispatcher", "Policy", "crash_point", "store_threads"]
