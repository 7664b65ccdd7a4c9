"""What the web routes share: settings, store, clock, webhook settings and request counters.

Kept free of FastAPI so `distributor hook` and the tests can build one without the web stack.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from distributor.clock import Clock
    from distributor.config import Settings
    from distributor.store.store import Store
    from distributor.web.hook_settings import HookSettings

# Every outcome a webhook request can have (the `outcome` label of /metrics, all always shown).
OUTCOMES = ("accepted", "replayed", "unauthorized", "too_large", "invalid", "unavailable")


@dataclass
class WebContext:
    """One per app; `count` is thread-safe (sync routes run in a thread pool)."""

    settings: Settings
    store: Store
    clock: Clock
    hooks: HookSettings
    stuck_after: float
    outcomes: Counter[str] = field(default_factory=Counter)
    # also told every outcome: /metrics' shared counter under `serve --workers N`
    on_count: Callable[[str], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
        if self.on_count is not None:
            self.on_count(outcome)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {o: self.outcomes[o] for o in OUTCOMES}
