"""What `distributor worker` adds around the Dispatcher to run for real: its chores.

Reconcile every `[dispatch] reconcile_every`, alert checks every `[alerts] check_every`, both
from the claim loop. (Signals: `distributor.signals`, with `[dispatch] shutdown_grace`.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from distributor.dispatch import Dispatcher


def schedule(disp: Dispatcher, *, reconcile: Callable[[], Any] | None) -> None:
    """Register the worker's periodic chores; a bad `[alerts]` table fails here, at start."""
    from distributor.alerts import alert_targets, check
    from distributor.alerts.notify import validate

    conf = disp.settings.alerts
    validate(alert_targets(disp.settings))
    if reconcile is not None:  # the start-up reconcile ran already
        disp.every(disp.policy.reconcile_every, "reconcile", reconcile, now=False)
    disp.every(conf.check_every, "alerts", lambda: check(disp.settings, disp.store, disp.clock))
