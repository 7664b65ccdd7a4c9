"""The tries of one send: tenacity retries `NotSent` (never `RateLimited` or `MaybeSent`),
within `Policy.attempts` and `Policy.budget`, sleeping through the injected clock.

Most sends succeed on their first try, so that try runs without tenacity, which is entered
only after it failed with a retryable error: a `tenacity.Retrying` is a reference cycle (its
iteration state holds its own bound methods), so one per delivery was garbage that only the
cycle collector frees, about 24 objects a send and three times the collections in the worker.
The retries then run exactly as if tenacity had made the first try: it replays that failure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import tenacity

from distributor.errors import NotSent, PublishError, RateLimited
from distributor.post import Receipt

if TYPE_CHECKING:
    from distributor.clock import Clock
    from distributor.dispatch.send import Context
    from distributor.store.models import Delivery

# Told of each failed try that will be retried: (error, when that try began, seconds to wait).
OnRetry = Callable[[PublishError, datetime, float], None]


class _Budget(tenacity.stop.stop_base):
    """Stop when the next sleep would end past the budget, measured on the injected clock
    from `start` (before the first try)."""

    def __init__(self, clock: Clock, budget: float, start: float) -> None:
        self.clock, self.budget, self.start = clock, budget, start

    def __call__(self, state: tenacity.RetryCallState) -> bool:
        upcoming = state.upcoming_sleep or 0.0
        return self.clock.monotonic() - self.start + upcoming >= self.budget


def retryable(exc: BaseException) -> bool:
    return isinstance(exc, NotSent) and not isinstance(exc, RateLimited)


def with_retries(
    ctx: Context, d: Delivery, fence: int, call: Callable[[], Receipt], on_retry: OnRetry
) -> Receipt:
    """`call()` until it returns, or raises what is not retried, or the tries or the budget
    are spent (then its last error is raised). Before a retry the lease is renewed (the last
    try may have taken a while) and `on_retry` hears why."""
    start, began = ctx.clock.monotonic(), [ctx.clock.now()]
    try:
        return call()
    except Exception as exc:
        if not retryable(exc) or ctx.policy.attempts <= 1:
            raise
        replay: list[Exception] = [exc]

    def attempt() -> Receipt:
        if replay:  # tenacity's first try is the one made above
            raise replay.pop()
        ctx.store.renew_lease(d.id, fence, lease_seconds=ctx.policy.lease)
        began.append(ctx.clock.now())
        return call()

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        assert isinstance(exc, PublishError)
        on_retry(exc, began[-1], state.next_action.sleep if state.next_action else 0.0)

    return _retrying(ctx, start, before_sleep)(attempt)


def _retrying(
    ctx: Context, start: float, before_sleep: Callable[[tenacity.RetryCallState], None]
) -> tenacity.Retrying:
    p = ctx.policy
    return tenacity.Retrying(
        sleep=ctx.clock.sleep,
        stop=tenacity.stop_after_attempt(p.attempts) | _Budget(ctx.clock, p.budget, start),
        # exponential with jitter: backoff * 2**n capped at max_backoff, plus 0..jitter s
        wait=tenacity.wait_exponential(multiplier=p.backoff, max=p.max_backoff)
        + tenacity.wait_random(0, p.jitter),
        retry=tenacity.retry_if_exception(retryable),
        before_sleep=before_sleep,
        reraise=True,
    )
