"""What a person does to the schedule: reschedule, hold and release, and the "scheduled" view.

The CLI (`distributor reschedule/hold/release/scheduled`) and the web desk call these. A target
is a delivery id or an article (id, URL or guid: every waiting delivery of it). The embargo
beats everything: nothing is rescheduled before it. A time in a channel's quiet hours moves to
their end (unless the article is breaking news), as at planning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from distributor.actions import ActionError, all_deliveries, find_article, get
from distributor.errors import N_, ConfigError, StoreError
from distributor.review import goes_at
from distributor.schedule.rules import Quiet, earliest
from distributor.store.models import Delivery, Filters, State
from distributor.store.schedule import WAITING

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.store.store import Store


def targets(store: Store, ref: str) -> list[Delivery]:
    """The waiting deliveries `ref` names: a delivery id, or an article's (ActionError if none)."""
    if ref.strip().isdigit():
        d = get(store, int(ref))
        if d.state not in WAITING:
            raise ActionError(
                N_("delivery %(id)s is %(state)s: only waiting deliveries can change"),
                id=d.id,
                state=d.state,
            )
        return [d]
    aid = find_article(store, ref)
    found = [d for d in all_deliveries(store, Filters(article_id=aid)) if d.state in WAITING]
    if not found:
        raise ActionError(
            N_("article %(id)s has no waiting deliveries (all sent, final or in flight)"), id=aid
        )
    return found


def _apply(store: Store, ids: list[int], actor: str, **change: object) -> list[Delivery]:
    try:
        return store.set_schedule(ids, actor=actor, **change)  # type: ignore[arg-type]
    except StoreError as exc:
        if "embargo" in str(exc) or "only waiting" in str(exc) or "no delivery" in str(exc):
            raise ActionError(str(exc)) from None
        raise


def reschedule(
    store: Store, settings: Settings, ref: str, at: datetime, actor: str
) -> list[Delivery]:
    """Move the waiting deliveries of `ref` to `at` (out of each channel's quiet hours)."""
    out = []
    for d in targets(store, ref):
        quiet = _channel_quiet(settings, d.channel)
        when = earliest(at, quiet=quiet, tz_name=settings.timezone, breaking=d.priority > 0)
        out += _apply(store, [d.id], actor, not_before=when)
    return out


def hold(store: Store, ref: str, actor: str) -> list[Delivery]:
    """Keep the waiting deliveries of `ref` from being sent until `release`."""
    return _apply(store, [d.id for d in targets(store, ref)], actor, held=True)


def release(store: Store, ref: str, actor: str) -> list[Delivery]:
    """Let held deliveries of `ref` go again (at their schedule, or at once if it passed)."""
    held = [d.id for d in targets(store, ref) if d.held]
    if not held:
        raise ActionError(N_("%(ref)s: nothing is held"), ref=ref)
    return _apply(store, held, actor, held=False)


def _channel_quiet(settings: Settings, name: str) -> Quiet | None:
    try:
        return settings.channel(name).quiet
    except ConfigError:  # the channel left the configuration: no quiet hours known
        return None


@dataclass(frozen=True, slots=True)
class Upcoming:
    """One waiting delivery in the scheduled view, with when it is expected to go."""

    delivery: Delivery
    goes_at: datetime | None  # None: held or awaiting review (no time until a person acts)
    note: str


def upcoming(
    store: Store, settings: Settings, now: datetime, channel: str | None = None
) -> dict[str, list[Upcoming]]:
    """Waiting deliveries by channel, in the order they are expected to go, with estimated
    times: their schedule, then each channel's spacing and quiet hours (rate limits and
    accounts shared between channels can make it later)."""
    found = [
        d
        for d in all_deliveries(store, Filters(states=WAITING, channel=channel))
        if d.state in WAITING
    ]
    gaps = store.gaps()
    by_channel: dict[str, list[Delivery]] = {}
    for d in found:
        by_channel.setdefault(d.channel, []).append(d)
    return {
        name: _estimate(ds, settings, now, gaps.get(name, (now, now))[1])
        for name, ds in sorted(by_channel.items())
    }


def _estimate(
    ds: list[Delivery], settings: Settings, now: datetime, next_slot: datetime
) -> list[Upcoming]:
    """Replay the claim order in memory: the highest priority, then oldest, of what is due."""
    try:
        ch = settings.channel(ds[0].channel)
        gap, quiet = timedelta(seconds=ch.min_gap), ch.quiet
    except ConfigError:
        gap, quiet = timedelta(0), None
    waiting = [d for d in ds if d.held or d.state is State.AWAITING_REVIEW]
    pending = sorted(
        (d for d in ds if d not in waiting), key=lambda d: (-d.priority, d.created_at, d.id)
    )
    out, t = [], max(now, next_slot)
    while pending:
        due = [d for d in pending if (goes_at(d) or now) <= t]
        if not due:
            t = min(goes_at(d) or now for d in pending)
            continue
        d = due[0]
        at = earliest(t, quiet=quiet, tz_name=settings.timezone, breaking=d.priority > 0)
        out.append(Upcoming(d, at, "breaking" if d.priority > 0 else ""))
        pending.remove(d)
        t = at + gap
    notes = [Upcoming(d, None, "held" if d.held else "awaiting review") for d in waiting]
    return out + notes
