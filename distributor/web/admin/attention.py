"""What needs a person now, for the home page's panel and the "Needs attention" page.

Deliveries awaiting review, with an unknown outcome, failed, or stuck (`distributor audit`'s
rules: a lost lease, or due and not sent for `STUCK_AFTER`); the queue paused; accounts the
platform blocked or that need a new login; workers not heard from (`[alerts]
heartbeat_timeout`, as `distributor status`); open alert incidents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from distributor.store.models import LEASED, Delivery, Filters, State

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.store.alerts import Alert
    from distributor.store.store import Store

STUCK_AFTER = timedelta(minutes=15)  # `distributor audit --stuck-after`'s default
SHOWN = 20  # per list; the counts and the "all" link cover the rest


@dataclass(frozen=True, slots=True)
class Stuck:
    delivery: Delivery
    lost_worker: bool  # its worker stopped answering (else: due, not sent)
    since: datetime


@dataclass(frozen=True, slots=True)
class Blocked:
    account_key: str
    platform: str
    channels: tuple[str, ...]
    until: datetime | None  # the platform asked us to wait (None: needs a new login)
    reason: str


@dataclass(frozen=True, slots=True)
class Attention:
    counts: dict[str, int]
    review: list[Delivery]
    unknown: list[Delivery]
    failed: list[Delivery]
    stuck: list[Stuck]
    paused: bool
    blocked: list[Blocked]
    workers: list[dict[str, Any]]
    alerts: list[Alert]
    switched_off: list[str] = field(default_factory=list)  # channels with enabled = false
    problems: list[str] = field(default_factory=list)  # the kinds that need someone

    @property
    def workers_alive(self) -> int:
        return sum(1 for w in self.workers if w["alive"])


def gather(store: Store, settings: Settings, now: datetime) -> Attention:
    """Everything the panel and page show: a fixed number of queries, each reading only the
    rows in the states it counts or lists, never the whole log (the home page runs this)."""
    counts = store.counts_by_state(_LISTED)
    lists = {s: _newest(store, s) if counts[s.value] else [] for s in _LISTED}
    stuck_count, stuck = store.stuck(now, STUCK_AFTER, limit=SHOWN)
    found = Attention(
        counts={**counts, "stuck": stuck_count},
        review=lists[State.AWAITING_REVIEW],
        unknown=lists[State.UNKNOWN],
        failed=lists[State.FAILED],
        stuck=[Stuck(d, d.state in LEASED, _since(d)) for d in stuck],
        paused=store.paused(),
        blocked=_blocked(store, settings, now),
        workers=_workers(store, settings, now),
        alerts=store.alerts(open_only=True, limit=50),
        switched_off=[c.name for c in settings.channels if not c.enabled],
    )
    found.problems.extend(_problems(found))
    return found


_LISTED = (State.AWAITING_REVIEW, State.UNKNOWN, State.FAILED)


def _newest(store: Store, state: State) -> list[Delivery]:
    return store.query(Filters(states=(state,)), limit=SHOWN)[0]


def _since(d: Delivery) -> datetime:
    if d.state in LEASED and d.lease_until is not None:
        return d.lease_until
    return d.not_before or d.updated_at


def _blocked(store: Store, settings: Settings, now: datetime) -> list[Blocked]:
    found = []
    for key, acc in sorted(store.accounts().items()):
        state = acc.state
        mine = [c for c in settings.channels if c.account_key == key]
        channels = tuple(c.name for c in mine)
        platform = mine[0].platform if mine else ""
        if state.needs_reauth:
            found.append(Blocked(key, platform, channels, None, state.reauth_reason or ""))
        elif state.blocked_until is not None and state.blocked_until > now:
            found.append(Blocked(key, platform, channels, state.blocked_until, ""))
    return found


def _workers(store: Store, settings: Settings, now: datetime) -> list[dict[str, Any]]:
    from distributor.status import worker_alive

    timeout = settings.alerts.heartbeat_timeout
    return [
        {**w, "alive": worker_alive(w, now, timeout), "age": now - w["heartbeat_at"]}
        for w in store.workers()
    ]


def _problems(a: Attention) -> list[str]:
    kinds = {
        "review": bool(a.review),
        "unknown": bool(a.unknown),
        "failed": bool(a.failed),
        "stuck": bool(a.stuck),
        "paused": a.paused,
        "blocked": bool(a.blocked),
        "workers": not a.workers_alive,
        "alerts": bool(a.alerts),
    }
    return [k for k, on in kinds.items() if on]
