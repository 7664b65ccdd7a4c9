"""Value types of the post log: delivery states, the allowed transitions, rows as dataclasses."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class State(enum.StrEnum):
    PLANNED = "planned"
    AWAITING_REVIEW = "awaiting_review"
    QUEUED = "queued"
    CLAIMED = "claimed"
    SENDING = "sending"
    SENT = "sent"
    RETRY_WAIT = "retry_wait"
    UNKNOWN = "unknown"
    FAILED = "failed"
    CANCELLED = "cancelled"
    RETRACTED = "retracted"


class Outcome(enum.StrEnum):
    """How one send attempt ended (`Attempt.outcome`); `Store.finish` moves the delivery on."""

    SENT = "sent"  # -> sent
    RETRY = "retry"  # proven not sent, try again later -> retry_wait
    UNKNOWN = "unknown"  # may have been posted -> unknown (reconcile decides)
    FAILED = "failed"  # permanent refusal -> failed


S = State
# The one table of allowed moves; every state change in the store is checked against it.
TRANSITIONS: dict[State, frozenset[State]] = {
    S.PLANNED: frozenset({S.AWAITING_REVIEW, S.QUEUED, S.CANCELLED}),
    S.AWAITING_REVIEW: frozenset({S.QUEUED, S.CANCELLED}),
    S.QUEUED: frozenset({S.CLAIMED, S.CANCELLED}),
    S.CLAIMED: frozenset({S.SENDING, S.QUEUED, S.RETRY_WAIT, S.FAILED, S.CANCELLED}),
    S.SENDING: frozenset({S.SENT, S.RETRY_WAIT, S.UNKNOWN, S.FAILED}),
    S.RETRY_WAIT: frozenset({S.CLAIMED, S.QUEUED, S.CANCELLED, S.FAILED}),
    S.UNKNOWN: frozenset({S.SENT, S.QUEUED, S.FAILED, S.CANCELLED}),
    S.FAILED: frozenset({S.QUEUED, S.CANCELLED}),
    S.SENT: frozenset({S.RETRACTED}),
    S.CANCELLED: frozenset(),
    S.RETRACTED: frozenset(),
}
FINAL: frozenset[State] = frozenset({S.SENT, S.FAILED, S.CANCELLED, S.RETRACTED})
LEASED: frozenset[State] = frozenset({S.CLAIMED, S.SENDING})


def allowed(src: State, dst: State) -> bool:
    return dst in TRANSITIONS[src]


def to_ts(when: datetime) -> float:
    """Stored times are UTC epoch seconds (one representation on both backends)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return when.timestamp()


def from_ts(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One delivery to plan: the caller (publish) has routed and rendered it already."""

    channel: str
    platform: str
    account_key: str
    draft: dict[str, Any]
    idem_key: str
    generation: int = 0
    review: bool = False
    not_before: datetime | None = None
    priority: int = 0  # higher goes first in its account's queue (1: breaking news)
    embargo_until: datetime | None = None  # never sent before this, whatever else says


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try at sending, appended to the log and never rewritten."""

    outcome: Outcome
    started_at: datetime
    finished_at: datetime
    worker: str = ""
    error_kind: str | None = None
    detail: str = ""
    remote_id: str | None = None
    latency_ms: int | None = None
    n: int = 0  # filled in by the store


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    article_id: str
    channel: str
    platform: str
    account_key: str
    generation: int
    state: State
    draft: dict[str, Any]
    idem_key: str
    not_before: datetime | None
    lease_owner: str | None
    lease_until: datetime | None
    fence: int
    remote_id: str | None
    remote_url: str | None
    last_error: str | None
    error_kind: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    history: tuple[Attempt, ...] = field(default=())
    priority: int = 0
    embargo_until: datetime | None = None
    held: bool = False  # `distributor hold`: not claimed until released

    @property
    def final(self) -> bool:
        return self.state in FINAL


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery leased to one worker; `fence` must accompany every later write."""

    delivery: Delivery
    fence: int
    lease_until: datetime


@dataclass(frozen=True, slots=True)
class PlanResult:
    article_id: str
    created: tuple[Delivery, ...]
    existing: tuple[Delivery, ...]


@dataclass(frozen=True, slots=True)
class Filters:
    """`query` filters; None means any."""

    states: tuple[State, ...] = ()
    channel: str | None = None
    article_id: str | None = None
    since: datetime | None = None
    channels: tuple[str, ...] = ()  # any of these (combined with `channel` when both are set)
    platform: str | None = None
    until: datetime | None = None  # created before this time
    search: str | None = None  # substring of the article title or the post text (any case)


@dataclass(frozen=True, slots=True)
class AccountState:
    account_key: str
    blocked_until: datetime | None
    needs_reauth: bool
    reauth_reason: str | None
