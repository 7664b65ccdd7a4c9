"""The schedule rules at send time: a claimed delivery goes only if embargo, quiet hours and
its channel's spacing (`min_gap`) allow it now; else it goes back to the queue until then.

Planning already set `not_before` past the embargo and quiet hours, and the claim skips
deliveries under embargo and channels whose spacing slot is ahead; this is the last check with
the clock in hand (a retry or a rate deferral may have landed in quiet hours, a config may have
changed), so the rules hold whatever path a delivery took. Rate limits come after (send._pace).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from distributor.schedule.rules import zone

if TYPE_CHECKING:
    from distributor.config import Channel
    from distributor.dispatch.send import Context
    from distributor.store.models import Delivery

log = logging.getLogger("distributor.dispatch")


def rule_wait(d: Delivery, channel: Channel, now: datetime, tz: str) -> tuple[datetime, str]:
    """(when the embargo and quiet hours let `d` go, why) — `now` when they do not hold it."""
    if d.embargo_until is not None and d.embargo_until > now:
        return d.embargo_until, f"embargo until {d.embargo_until.isoformat()}"
    if channel.quiet is not None and d.priority <= 0:
        end = channel.quiet.end_after(now, zone(tz))
        if end > now:
            return end, f"quiet hours {channel.quiet} ({tz})"
    return now, ""


def on_time(ctx: Context, d: Delivery, fence: int, channel: Channel) -> bool:
    """True when embargo and quiet hours let `d` go now; else it went back to the queue."""
    now = ctx.clock.now()
    when, why = rule_wait(d, channel, now, ctx.tz)
    return True if when <= now else _later(ctx, d, fence, when, why)


def spaced(ctx: Context, d: Delivery, fence: int, channel: Channel) -> bool:
    """Take the channel's next spacing slot, the last step before `sending` (after the rate
    pacing, so a wait there cannot shorten the gap): wait for it if near, else put `d` back
    until then. A wait is followed by a fresh look at the embargo and quiet hours."""
    if channel.min_gap <= 0:
        return True
    now = ctx.clock.now()
    wait = ctx.store.reserve_gap(
        d.channel, channel.min_gap, now=now, max_wait=ctx.policy.pace_limit
    )
    slot = now + timedelta(seconds=wait)
    if wait > ctx.policy.pace_limit:
        return _later(ctx, d, fence, slot, f"min_gap {channel.min_gap:g}s")
    if wait <= 0:
        return True
    # until the slot itself: the reservation's own commit time is not added to every gap
    ctx.clock.sleep(max(0.0, (slot - ctx.clock.now()).total_seconds()))
    return on_time(ctx, d, fence, channel)


def _later(ctx: Context, d: Delivery, fence: int, when: datetime, why: str) -> bool:
    from distributor.dispatch.send import ctx_of

    out = ctx.store.requeue(d.id, fence, when, actor=ctx.worker, reason=why)
    log.info(
        "not yet: %s; queued until %s",
        why,
        when.isoformat(),
        extra={"ctx": ctx_of(out, not_before=when.isoformat())},
    )
    return False
