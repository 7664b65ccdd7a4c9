"""Dispatch settings: the retry policy for NotSent and the worker's lease and pacing limits.

Read from an optional `[dispatch]` table in `distributor.toml`; every key has a default:

    [dispatch]
    attempts = 4          # tries per claim for NotSent (connect errors), tenacity-bounded
    backoff = 1.0         # first wait, seconds; doubles per try, with jitter
    max_backoff = 30.0    # longest single wait
    budget = 60.0         # total seconds of retrying per claim (stop_before_delay-like)
    jitter = 1.0          # up to this many seconds added to each wait
    give_up_after = 10    # NotSent attempts in all claims before the delivery fails
    lease = 300.0         # seconds a claim is leased (renewed before every try)
    pace_limit = 10.0     # wait in the worker for a rate slot at most this long, else defer
    reconcile_every = 60.0  # `distributor worker` reconciles this often (0 = only at start)
    shutdown_grace = 30.0   # on SIGTERM, in-flight sends get this long, then the worker exits
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from distributor.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Policy:
    attempts: int = 4
    backoff: float = 1.0
    max_backoff: float = 30.0
    budget: float = 60.0
    jitter: float = 1.0
    give_up_after: int = 10
    lease: float = 300.0
    pace_limit: float = 10.0
    reconcile_every: float = 60.0
    shutdown_grace: float = 30.0

    def reschedule_after(self, attempts: int) -> float:
        """Seconds before a delivery whose NotSent tries ran out in one claim is due again."""
        return float(min(3600.0, self.max_backoff * 2 ** max(0, attempts // self.attempts)))


def policy_from(raw: Mapping[str, Any], where: str = "distributor.toml") -> Policy:
    """A Policy from the `[dispatch]` table; ConfigError naming the bad key."""
    known = {f.name: f for f in fields(Policy)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"{where}: [dispatch] unknown key {key!r} (known: {', '.join(known)})"
            )
        want_int = known[key].type in ("int", int)
        ok = isinstance(value, int if want_int else (int, float)) and not isinstance(value, bool)
        if not ok or value < (1 if want_int else 0):
            kind = "a positive integer" if want_int else "a number of seconds >= 0"
            raise ConfigError(f"{where}: [dispatch] key {key!r} must be {kind}")
        values[key] = value
    return Policy(**values)
