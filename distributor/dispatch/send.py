"""One claimed delivery, from lease to recorded outcome (the send path).

    claimed ─pace─> (defer | release) ─mark_sending─> one publish, tenacity for NotSent ─> finish

Order matters: `sending` (with the delivery's idempotency key, fixed at plan time) is committed
before the platform is called, and the outcome is committed right after it answered. Only
`NotSent` is retried in the same claim (dispatch/retries.py); `RateLimited` reschedules by the
platform's reset time and `MaybeSent` goes to `unknown` for reconcile.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from distributor.clock import Clock
from distributor.config import Channel, Policy
from distributor.dispatch.hooks import crash_point
from distributor.dispatch.retries import OnRetry, with_retries
from distributor.dispatch.timing import on_time, spaced
from distributor.errors import (
    AuthFailed,
    DistributorError,
    DuplicateContent,
    MaybeSent,
    NotSent,
    PublishError,
    RateLimited,
    StaleLease,
)
from distributor.platforms.base import Adapter
from distributor.post import Draft, Receipt
from distributor.redact import scrub
from distributor.store.models import Attempt, Claimed, Delivery, Outcome, State
from distributor.store.store import Store

log = logging.getLogger("distributor.dispatch")
AdapterFor = Callable[[str], tuple[Channel, Adapter]]


@dataclass(frozen=True)
class Context:
    """What every send of one dispatcher shares."""

    store: Store
    clock: Clock
    worker: str
    policy: Policy
    stop: threading.Event
    tz: str = "UTC"  # the newsroom time zone: quiet hours are wall-clock hours there


def ctx_of(d: Delivery, **more: Any) -> dict[str, Any]:
    """The `extra={"ctx": ...}` fields of a log line about `d` (see distributor.logs)."""
    base = {
        "delivery_id": d.id,
        "article_id": d.article_id,
        "channel": d.channel,
        "platform": d.platform,
        "attempt": d.attempts,
        "state": d.state.value,
    }
    return {**base, **more}


def _state(d: Delivery, message: str, *args: Any, level: int = logging.INFO) -> None:
    if not log.isEnabledFor(level):  # the context below costs more than a skipped line
        return
    more: dict[str, Any] = (
        {"remote_id": d.remote_id, "remote_url": d.remote_url} if d.remote_id else {}
    )
    if d.state is State.RETRY_WAIT and d.not_before:  # when it is due again, and why
        more["not_before"] = d.not_before.isoformat()
    if d.error_kind and d.state is not State.SENT:
        more["error_kind"] = d.error_kind
    log.log(level, message, *args, extra={"ctx": ctx_of(d, **more)})


def deliver(ctx: Context, claimed: Claimed, adapter_for: AdapterFor) -> Delivery | None:
    """Send one claimed delivery; the recorded delivery, or None if it went back unsent or
    its lease was taken over (reconcile owns it then)."""
    d, fence = claimed.delivery, claimed.fence
    _state(d, "claimed by %s", ctx.worker, level=logging.DEBUG)
    crash_point("after_claim")
    try:
        channel, adapter = adapter_for(d.channel)
    except DistributorError as exc:  # channel gone from the config, credentials missing
        return _finish(ctx, d, fence, _attempt(ctx, Outcome.FAILED, exc), error=str(exc))
    args = (ctx, d, fence, channel)  # embargo/quiet hours, then rate, then spacing
    try:
        if not (on_time(*args) and _pace(*args) and spaced(*args)):
            return None
        sending = ctx.store.mark_sending(d.id, fence, gap=channel.min_gap)
    except StaleLease as exc:
        _state(d, "not sent: %s", exc, level=logging.WARNING)
        return None
    _state(sending, "sending", level=logging.DEBUG)
    crash_point("before_http")
    return _send(ctx, sending, fence, adapter)


def _pace(ctx: Context, d: Delivery, fence: int, channel: Channel) -> bool:
    """Take the account's next rate slot: wait for it if it is near, else defer the delivery.
    False when the delivery went back to the queue (stopping) or was deferred."""
    # Without a rate there is no slot to take: the claim already skipped blocked accounts
    # (429, rate headers), and only this send of the account is in flight.
    wait = (
        ctx.store.reserve_send(d.account_key, channel.rate, max_wait=ctx.policy.pace_limit)
        if channel.rate is not None
        else 0.0
    )
    if wait > ctx.policy.pace_limit:
        until = ctx.clock.now() + timedelta(seconds=wait)
        out = ctx.store.defer(d.id, fence, until, actor=ctx.worker, reason=f"rate {channel.rate}")
        _state(out, "deferred %.0fs for the account's rate (%s)", wait, channel.rate)
        return False
    if wait > 0:
        log.info("pacing %.1fs for the account's rate", wait, extra={"ctx": ctx_of(d)})
        ctx.clock.sleep(wait)
    if ctx.stop.is_set():
        out = ctx.store.release(d.id, fence)
        _state(out, "released: worker stopping")
        return False
    return True


def _send(ctx: Context, d: Delivery, fence: int, adapter: Adapter) -> Delivery | None:
    draft = Draft.from_dict(d.draft)
    started = d.updated_at  # the committed `sending` time: the post's time in the log
    try:
        with _lease_kept(ctx, d, fence):
            call = functools.partial(_publish, adapter, draft, d)
            receipt = with_retries(ctx, d, fence, call, _retry_noted(ctx, d, fence))
    except StaleLease as exc:
        _state(d, "lease lost between tries, not sent again: %s", exc, level=logging.WARNING)
        return None
    except PublishError as exc:
        return _failure(ctx, d, fence, exc, started)
    except (
        Exception
    ) as exc:  # an adapter bug after the request may have gone out: the post may exist
        log.exception("unexpected error from the adapter", extra={"ctx": ctx_of(d)})
        kind = type(exc).__name__
        detail = f"unexpected {kind}: {scrub(str(exc))[:200]}"
        return _finish(
            ctx,
            d,
            fence,
            _attempt(ctx, Outcome.UNKNOWN, None, started, detail, kind),
        )
    crash_point("after_send")
    _obey_rate_headers(ctx, d, receipt)
    attempt = _attempt(ctx, Outcome.SENT, None, started, remote_id=receipt.remote_id)
    return _finish(ctx, d, fence, attempt, remote_id=receipt.remote_id, remote_url=receipt.url)


class _Keeper:
    """One thread renews the leases of every send in flight that runs long (a thread per send
    cost 14% of a delivery in the fan-out benchmark profile). Real time: it guards against
    real slowness. A send whose lease was taken over is dropped from the watch."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.sends: dict[int, tuple[Context, Delivery, int, float]] = {}  # key -> ..., due
        self.thread: threading.Thread | None = None
        self.next_key = 0
        self.wakes_at = math.inf  # when the keeper wakes next (inf: when told)

    def add(self, ctx: Context, d: Delivery, fence: int) -> int:
        due = time.monotonic() + ctx.policy.lease / 3
        with self.lock:
            self.next_key += 1
            self.sends[self.next_key] = (ctx, d, fence, due)
            if self.thread is None or not self.thread.is_alive():  # first use, or after fork
                self.thread = threading.Thread(target=self._run, name="lease-keeper")
                self.thread.daemon = True
                self.thread.start()
            elif due < self.wakes_at:  # only then: waking it for every send cost a thread
                self.lock.notify()  # switch per delivery, and sends mostly come due later
            return self.next_key

    def remove(self, key: int) -> None:
        with self.lock:
            self.sends.pop(key, None)

    def _run(self) -> None:
        while True:
            with self.lock:
                now = time.monotonic()
                due = [(k, v) for k, v in self.sends.items() if v[3] <= now]
                for key, (ctx, d, fence, _) in due:
                    self.sends[key] = (ctx, d, fence, now + ctx.policy.lease / 3)
                if not due:
                    self.wakes_at = min((v[3] for v in self.sends.values()), default=math.inf)
                    self.lock.wait(None if self.wakes_at == math.inf else self.wakes_at - now)
                    self.wakes_at = -math.inf  # awake: an `add` meanwhile is seen next round
                    continue
            for key, (ctx, d, fence, _) in due:  # database calls outside the lock
                self._renew(key, ctx, d, fence)

    def _renew(self, key: int, ctx: Context, d: Delivery, fence: int) -> None:
        with self.lock:
            if key not in self.sends:  # the send finished meanwhile
                return
        try:
            ctx.store.renew_lease(d.id, fence, lease_seconds=ctx.policy.lease)
        except StaleLease:
            self.remove(key)
            return
        except Exception:  # the store went away: the send itself will notice
            log.exception("lease renewal failed", extra={"ctx": ctx_of(d)})
            return
        log.info("lease renewed during a long send", extra={"ctx": ctx_of(d)})


_keeper = _Keeper()
os.register_at_fork(after_in_child=lambda: globals().update(_keeper=_Keeper()))


@contextlib.contextmanager
def _lease_kept(ctx: Context, d: Delivery, fence: int) -> Iterator[None]:
    """Renew the lease every third of its length while a send runs (a slow media upload must
    not look like a dead worker to reconcile)."""
    keeper = _keeper
    key = keeper.add(ctx, d, fence)
    try:
        yield
    finally:
        keeper.remove(key)


def _publish(adapter: Adapter, draft: Draft, d: Delivery) -> Receipt:
    # Bluesky names the record after the key AND the delivery's creation time, so every
    # attempt, in any process, creates (or finds) the same record.
    return adapter.publish(draft, key=d.idem_key, when=d.created_at)


def _retry_noted(ctx: Context, d: Delivery, fence: int) -> OnRetry:
    """Record a try that will be retried (the attempt row) and log why, before the wait."""

    def noted(exc: PublishError, began: datetime, wait: float) -> None:
        out = ctx.store.record_attempt(d.id, fence, _attempt(ctx, Outcome.RETRY, exc, began))
        reason = f"{exc.kind}: {scrub(exc.detail)}"
        log.warning(
            "retrying in %.1fs after %s",
            wait,
            reason,
            extra={"ctx": ctx_of(out, wait_seconds=round(wait, 3), reason=reason)},
        )

    return noted


def _failure(
    ctx: Context, d: Delivery, fence: int, exc: PublishError, started: datetime
) -> Delivery | None:
    """Record a final PublishError of this claim as the state its class says."""
    now = ctx.clock.now()
    if isinstance(exc, RateLimited):
        until = exc.reset_at or now + timedelta(seconds=exc.retry_after)
        ctx.store.block_account(d.account_key, until, f"{exc.kind}: {exc.detail}")
        out = _finish(
            ctx,
            d,
            fence,
            _attempt(ctx, Outcome.RETRY, exc, started),
            not_before=until,
        )
        reason = f"{exc.kind}: {scrub(exc.detail)}"
        wait = {"not_before": until.isoformat(), "reason": reason}
        log.warning(
            "rate limited until %s", until.isoformat(), extra={"ctx": ctx_of(out or d, **wait)}
        )
        return out
    if isinstance(exc, NotSent):
        if d.attempts + ctx.policy.attempts >= ctx.policy.give_up_after:
            detail = f"gave up after {ctx.policy.give_up_after} tries: {exc.detail}"
            return _finish(ctx, d, fence, _attempt(ctx, Outcome.FAILED, exc, started, detail))
        until = now + timedelta(seconds=ctx.policy.reschedule_after(d.attempts))
        return _finish(
            ctx,
            d,
            fence,
            _attempt(ctx, Outcome.RETRY, exc, started),
            not_before=until,
        )
    if isinstance(exc, (MaybeSent, DuplicateContent)):  # the post may exist: reconcile decides
        return _finish(ctx, d, fence, _attempt(ctx, Outcome.UNKNOWN, exc, started))
    if isinstance(exc, AuthFailed):
        ctx.store.mark_reauth(d.account_key, f"{exc.kind}: {exc.detail}")
        log.error("account needs re-authentication", extra={"ctx": ctx_of(d)})
    return _finish(ctx, d, fence, _attempt(ctx, Outcome.FAILED, exc, started))


def _obey_rate_headers(ctx: Context, d: Delivery, receipt: Receipt) -> None:
    """`rate_remaining == 0` in the receipt: no more sends on this account before the reset."""
    remaining, reset = receipt.extra.get("rate_remaining"), receipt.extra.get("rate_reset")
    if remaining is None or not reset or str(remaining).strip() not in ("0", "0.0"):
        return
    try:
        until = datetime.fromisoformat(str(reset).replace("Z", "+00:00"))
    except ValueError:
        log.warning("ignoring a bad rate_reset %r", reset, extra={"ctx": ctx_of(d)})
        return
    ctx.store.block_account(d.account_key, until, "rate limit headers: 0 remaining")
    log.info("account rate exhausted until %s", until.isoformat(), extra={"ctx": ctx_of(d)})


def _attempt(
    ctx: Context,
    outcome: Outcome,
    exc: DistributorError | None,
    started: datetime | None = None,
    detail: str | None = None,
    kind: str | None = None,
    remote_id: str | None = None,
) -> Attempt:
    now = ctx.clock.now()
    started = started or now
    if detail is None and exc is not None:
        detail = exc.detail if isinstance(exc, PublishError) else str(exc)
    if kind is None and exc is not None:
        kind = exc.kind if isinstance(exc, PublishError) else type(exc).__name__
    return Attempt(
        outcome=outcome,
        started_at=started,
        finished_at=now,
        worker=ctx.worker,
        error_kind=kind,
        detail=scrub(detail or "")[:500],
        remote_id=remote_id,
        latency_ms=int((now - started).total_seconds() * 1000),
    )


def _finish(
    ctx: Context,
    d: Delivery,
    fence: int,
    attempt: Attempt,
    *,
    error: str | None = None,
    remote_id: str | None = None,
    remote_url: str | None = None,
    not_before: datetime | None = None,
) -> Delivery | None:
    outcome = attempt.outcome
    try:
        out = ctx.store.finish(
            d.id,
            fence,
            outcome,
            attempt,
            remote_id=remote_id,
            remote_url=remote_url,
            not_before=not_before,
            error=scrub(error) if error else None,
        )
    except StaleLease as exc:  # reconcile took the row over while we were sending
        log.error("outcome %s not recorded: %s", outcome, exc, extra={"ctx": ctx_of(d)})
        return None
    level = logging.INFO if out.state in (State.SENT, State.RETRY_WAIT) else logging.WARNING
    reason = f": {out.last_error}" if out.last_error and out.state is not State.SENT else ""
    _state(out, "%s%s", out.state.value, reason, level=level)
    crash_point("after_commit")
    return out
