"""Reconciliation: resolve deliveries whose outcome nobody knows, per the platform's policy.

Two kinds of rows need it. `claimed` rows whose lease expired belong to a worker that died before
committing `sending`: nothing was sent, so they simply go back to `queued`. `sending` rows whose
lease expired, and `unknown` rows (MaybeSent), may or may not have produced a post. For those the
platform spec's `ambiguity` decides:

* RESEND_WITH_KEY (Mastodon): requeue; the worker resends with the delivery's idempotency key and
  the platform answers with the original post. Only while the platform still remembers the key
  (Mastodon: 1 hour, counted from the delivery's creation, minus headroom for the worker to get
  to it); after that the adapter's `lookup()` decides instead.
* LOOKUP (Bluesky, X, Facebook, LinkedIn, Threads): `lookup()` finds our post -> `sent` with its
  id and URL; proves it absent -> `queued`; fails -> stays `unknown` for the next run. A lookup
  waits until the outcome has been unknown for `SETTLE` seconds, so the post can show.
* HOLD (Telegram): stays `unknown` for a human (`distributor audit` lists it).

Reconcile never posts itself, and every move is a store transition with actor and reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from distributor.clock import SYSTEM, Clock
from distributor.errors import DistributorError, PublishError, StoreError
from distributor.platform import Ambiguity
from distributor.post import Draft
from distributor.redact import scrub
from distributor.store.models import Delivery, State

if TYPE_CHECKING:
    from distributor.config import Channel, Settings
    from distributor.platforms.base import Adapter
    from distributor.store.store import Store

log = logging.getLogger(__name__)

# A requeued resend must reach the platform while the key is still kept: leave the worker this
# long to claim and send it (the Mastodon adapter's "resend within ~50 minutes").
RESEND_HEADROOM = timedelta(minutes=10)
# `lookup(since=...)` starts this long before the delivery was planned: platform clocks drift,
# and a post missed by a too-narrow search would be "proven absent" and sent again.
LOOKUP_MARGIN = timedelta(minutes=10)
# A post may take a moment to show up in a platform's timeline or search: look a delivery up
# only this many seconds after its outcome became unknown (keyed resends need no wait).
SETTLE = 60.0

RELEASED = "released"  # claimed, lease expired: nothing was sent -> queued
REQUEUED = "requeued"  # the idempotency key makes a resend safe -> queued
FOUND = "found"  # lookup found the post -> sent
ABSENT = "absent"  # lookup proved there is none -> queued
HELD = "held"  # no way to know: a human decides (stays unknown)
LOOKUP_FAILED = "lookup_failed"  # the lookup itself failed: next run (stays unknown)
NO_CHANNEL = "no_channel"  # the channel left the config or changed: a human decides
SKIPPED = "skipped"  # someone else moved the delivery meanwhile
SETTLING = "settling"  # too fresh to look up yet: the next run will (stays unknown)


@dataclass(frozen=True, slots=True)
class Decision:
    """What reconcile did with one delivery (`after` is its state afterwards)."""

    delivery_id: int
    channel: str
    platform: str
    article_id: str
    before: str
    after: str
    action: str
    reason: str
    remote_id: str | None = None
    remote_url: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class ReconcileReport:
    decisions: list[Decision] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for d in self.decisions:
            out[d.action] = out.get(d.action, 0) + 1
        return out

    @property
    def needs_human(self) -> list[Decision]:
        """Deliveries left `unknown` that no later run will resolve by itself."""
        return [d for d in self.decisions if d.action in (HELD, NO_CHANNEL)]

    def to_dict(self) -> dict[str, object]:
        return {
            "counts": self.counts,
            "needs_human": [d.delivery_id for d in self.needs_human],
            "decisions": [d.to_dict() for d in self.decisions],
        }


def reconcile(
    settings: Settings,
    store: Store,
    *,
    adapter_for: Callable[[Channel], Adapter] | None = None,
    clock: Clock = SYSTEM,
    actor: str = "reconcile",
    grace: float = 0.0,
    settle: float = SETTLE,
) -> ReconcileReport:
    """Resolve stale `claimed`/`sending` rows and `unknown` rows; see the module docstring.

    `grace` (seconds) leaves a lease that expired only just now alone a little longer, for
    workers whose lease is shorter than their slowest send. `settle` (seconds) delays lookups
    of outcomes that became unknown only just now.
    """
    run = _Run(settings, store, adapter_for, clock, actor, settle)
    seen: set[int] = set()
    for d in store.stale(now=clock.now() - timedelta(seconds=grace)):
        seen.add(d.id)
        run.stale(d)
    for d in store.unknown():
        if d.id not in seen:
            run.resolve(d, before=State.UNKNOWN)
    for x in run.report.decisions:
        log.info(
            "reconcile: delivery %s (%s): %s: %s", x.delivery_id, x.channel, x.action, x.reason
        )
    return run.report


class _Run:
    """One reconcile pass: the adapters it built and the decisions it took."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        adapter_for: Callable[[Channel], Adapter] | None,
        clock: Clock,
        actor: str,
        settle: float,
    ) -> None:
        self.settings = settings
        self.store = store
        self.build = adapter_for or _default_builder(settings)
        self.adapters: dict[str, Adapter | str] = {}  # channel -> adapter, or why there is none
        self.clock = clock
        self.actor = actor
        self.settle = timedelta(seconds=settle)
        self.unknown_since: dict[int, datetime] = {}  # when a dead worker's send became unknown
        self.report = ReconcileReport()

    # -- entry points -------------------------------------------------------------------
    def stale(self, d: Delivery) -> None:
        until = _iso(d.lease_until)
        if d.state is State.CLAIMED:
            reason = f"lease of worker {d.lease_owner} expired at {until} before sending"
            self._move(d, State.QUEUED, RELEASED, reason + ": nothing was sent", before=d.state)
            return
        reason = f"worker {d.lease_owner} stopped while sending (lease expired {until})"
        if d.lease_until is not None:
            self.unknown_since[d.id] = d.lease_until
        moved = self._transition(d, State.UNKNOWN, reason + ": the post may exist")
        if moved is None:
            self._decide(d, d.state, SKIPPED, "changed by someone else meanwhile", before=d.state)
        else:
            self.resolve(moved, before=State.SENDING)

    def resolve(self, d: Delivery, *, before: State) -> None:
        """Decide an `unknown` delivery by its platform's policy."""
        channel = self._channel(d)
        if isinstance(channel, str):
            self._keep(d, NO_CHANNEL, channel + "; a human decides", before)
            return
        adapter = self._adapter(channel)
        if isinstance(adapter, str):
            self._keep(d, LOOKUP_FAILED, adapter, before)
            return
        policy = adapter.spec.ambiguity
        if policy is Ambiguity.RESEND_WITH_KEY:
            self._resend_or_lookup(d, adapter, before)
        elif policy is Ambiguity.LOOKUP:
            self._lookup(d, adapter, before, "")
        else:
            self._hold(d, before, f"{d.platform} has no way to find its own posts")

    # -- policies -----------------------------------------------------------------------
    def _resend_or_lookup(self, d: Delivery, adapter: Adapter, before: State) -> None:
        # A RESEND_WITH_KEY spec without a key window is looked up instead: guessing a window
        # wrongly would post twice.
        window = adapter.spec.key_window
        if window is None:
            self._lookup(d, adapter, before, f"no known key window for {d.platform}; ")
            return
        expires = d.created_at + window
        deadline = expires - RESEND_HEADROOM
        account = self.store.account(d.account_key)
        blocked = account.blocked_until
        if self.clock.now() >= deadline:
            why = f"idempotency key may be forgotten (kept until {_iso(expires)} at most); "
        elif account.needs_reauth or (blocked is not None and blocked >= deadline):
            why = f"account {d.account_key} cannot send before the key window ends; "
        else:
            reason = (
                f"resend with the same idempotency key: {d.platform} returns the existing "
                f"post for it until {_iso(expires)}"
            )
            self._move(d, State.QUEUED, REQUEUED, reason, before=before)
            return
        self._lookup(d, adapter, before, why)

    def _lookup(self, d: Delivery, adapter: Adapter, before: State, why: str) -> None:
        ready = self.unknown_since.get(d.id, d.updated_at) + self.settle
        if self.clock.now() < ready:
            reason = f"{why}looked up from {_iso(ready)} on, when the post would show"
            self._decide(d, d.state, SETTLING, reason, before=before)
            return
        since = d.created_at - LOOKUP_MARGIN
        draft = Draft.from_dict(d.draft)
        try:
            found = adapter.lookup(draft, key=d.idem_key, since=since, when=d.created_at)
        except NotImplementedError:
            self._hold(d, before, why + f"{d.platform} cannot look its posts up")
            return
        except PublishError as exc:
            self._keep(d, LOOKUP_FAILED, f"{why}lookup failed ({exc.kind}): {exc.detail}", before)
            return
        except Exception as exc:  # one broken lookup must not stop the rest of the pass
            detail = scrub(str(exc))[:200]
            self._keep(
                d, LOOKUP_FAILED, f"{why}lookup crashed: {type(exc).__name__}: {detail}", before
            )
            return
        if found is None:
            reason = f"{why}lookup: no post of ours since {_iso(since)}; safe to send"
            self._move(d, State.QUEUED, ABSENT, reason, before=before)
        else:
            reason = f"{why}lookup found the post {found.remote_id}"
            self._move(
                d, State.SENT, FOUND, reason, before=before, remote=(found.remote_id, found.url)
            )

    def _hold(self, d: Delivery, before: State, why: str) -> None:
        advice = (
            f"{why}: check the channel, then `distributor retry {d.id} --force` if the post is "
            f"missing or `distributor cancel {d.id}` if it is there"
        )
        self._keep(d, HELD, advice, before)

    # -- channels and adapters ----------------------------------------------------------
    def _channel(self, d: Delivery) -> Channel | str:
        channel = next((c for c in self.settings.channels if c.name == d.channel), None)
        if channel is None:
            return f"channel {d.channel!r} is no longer in {self.settings.where}"
        if channel.platform != d.platform:
            return f"channel {d.channel!r} is now on {channel.platform}, not {d.platform}"
        from distributor.planning import account_key  # the key the planner stored

        current = account_key(channel)
        if current != d.account_key:
            return f"channel {d.channel!r} now posts as {current}, not {d.account_key}"
        return channel

    def _adapter(self, channel: Channel) -> Adapter | str:
        if channel.name not in self.adapters:
            try:
                self.adapters[channel.name] = self.build(channel)
            except (DistributorError, ImportError) as exc:
                self.adapters[channel.name] = f"cannot build the {channel.platform} client: {exc}"
        return self.adapters[channel.name]

    # -- recording ----------------------------------------------------------------------
    def _transition(
        self, d: Delivery, to: State, reason: str, remote: tuple[str, str | None] | None = None
    ) -> Delivery | None:
        """Move `d` if nobody else touched it since it was read; None if someone did."""
        try:
            current = self.store.get(d.id)
            if current.state is not d.state or current.fence != d.fence:
                return None
            return self.store.transition(
                d.id,
                to,
                actor=self.actor,
                reason=reason,
                from_states=[d.state],
                remote_id=remote[0] if remote else None,
                remote_url=remote[1] if remote else None,
                now=self.clock.now(),
            )
        except StoreError:  # a concurrent reconcile or worker moved it between get and update
            return None

    def _move(
        self,
        d: Delivery,
        to: State,
        action: str,
        reason: str,
        *,
        before: State,
        remote: tuple[str, str | None] | None = None,
    ) -> None:
        if self._transition(d, to, reason, remote) is None:
            self._decide(d, d.state, SKIPPED, "changed by someone else meanwhile", before=before)
        else:
            self._decide(d, to, action, reason, before=before, remote=remote)

    def _keep(self, d: Delivery, action: str, reason: str, before: State) -> None:
        """Leave `d` unknown; note it in the event log unless the last note says the same."""
        last = self.store.events(delivery_id=d.id, limit=1)
        repeat = bool(last) and last[0]["actor"] == self.actor and last[0]["detail"] == reason
        if action == LOOKUP_FAILED or not repeat:
            self.store.record_event(
                self.actor,
                f"kept {d.state}: {action}",
                delivery_id=d.id,
                article_id=d.article_id,
                detail=reason,
                now=self.clock.now(),
            )
            if action != LOOKUP_FAILED:
                log.warning("delivery %s (%s) needs a human: %s", d.id, d.channel, reason)
        self._decide(d, d.state, action, reason, before=before)

    def _decide(
        self,
        d: Delivery,
        after: State,
        action: str,
        reason: str,
        *,
        before: State,
        remote: tuple[str, str | None] | None = None,
    ) -> None:
        self.report.decisions.append(
            Decision(
                delivery_id=d.id,
                channel=d.channel,
                platform=d.platform,
                article_id=d.article_id,
                before=before.value,
                after=after.value,
                action=action,
                reason=reason,
                remote_id=remote[0] if remote else None,
                remote_url=remote[1] if remote else None,
            )
        )


def _default_builder(settings: Settings) -> Callable[[Channel], Adapter]:
    def build(channel: Channel) -> Adapter:
        from distributor.platforms.registry import build_adapter

        return build_adapter(channel, settings)

    return build


def _iso(when: datetime | None) -> str:
    return when.isoformat(timespec="seconds") if when else "?"
