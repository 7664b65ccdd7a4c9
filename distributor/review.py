"""The post log as data: the stable JSON/CSV row of a delivery, its full detail, and what needs
a person (`attention`). Shared by `distributor log/show/audit` and the web admin UI."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from distributor.store.models import LEASED, Delivery, State, from_ts


def iso(when: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, to the second (None stays None)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


# The stable JSON/CSV fields of one delivery, in this order (documented in docs/review.md).
FIELDS = (
    "delivery_id",
    "article_id",
    "channel",
    "platform",
    "state",
    "attempts",
    "created_at",
    "updated_at",
    "remote_id",
    "remote_url",
    "error",
    "text",
    "goes_at",
    "held",
)


def row(d: Delivery) -> dict[str, Any]:
    """One delivery as the stable JSON/CSV object."""
    return {
        "delivery_id": d.id,
        "article_id": d.article_id,
        "channel": d.channel,
        "platform": d.platform,
        "state": d.state.value,
        "attempts": d.attempts,
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
        "remote_id": d.remote_id,
        "remote_url": d.remote_url,
        "error": d.last_error,
        "text": d.draft.get("text"),
        "goes_at": iso(goes_at(d)),
        "held": d.held,
    }


def goes_at(d: Delivery) -> datetime | None:
    """The earliest moment a waiting `d` may go by its own schedule (publish_at, delay,
    quiet hours, embargo); None when it may go at once or is not waiting."""
    if d.state not in (State.PLANNED, State.AWAITING_REVIEW, State.QUEUED, State.RETRY_WAIT):
        return None
    times = [t for t in (d.not_before, d.embargo_until) if t is not None]
    return max(times) if times else None


def detail(d: Delivery, events: list[dict[str, Any]], art: dict[str, Any] | None) -> dict[str, Any]:
    """The `show --json` object: the log row plus everything else the store knows."""
    return {
        **row(d),
        "title": (art or {}).get("title"),
        "url": (art or {}).get("canonical_url"),
        "account_key": d.account_key,
        "generation": d.generation,
        "error_kind": d.error_kind,
        "not_before": iso(d.not_before),
        "embargo_until": iso(d.embargo_until),
        "priority": "breaking" if d.priority > 0 else "normal",
        "lease_owner": d.lease_owner,
        "lease_until": iso(d.lease_until),
        "sent_at": iso(d.sent_at),
        "draft": d.draft,
        "history": [
            {
                "n": a.n,
                "outcome": a.outcome,
                "started_at": iso(a.started_at),
                "finished_at": iso(a.finished_at),
                "worker": a.worker,
                "error_kind": a.error_kind,
                "detail": a.detail,
                "remote_id": a.remote_id,
                "latency_ms": a.latency_ms,
            }
            for a in d.history
        ],
        "events": [
            {
                "at": iso(from_ts(e["at"])),
                "actor": e["actor"],
                "action": e["action"],
                "detail": e["detail"],
            }
            for e in events
        ],
    }


def attention(
    d: Delivery, now: datetime, stuck_after: timedelta, turns: Mapping[str, Any] | None = None
) -> str | None:
    """Why `d` needs a person now, or None while it is simply on its way (or waiting review,
    or held). `turns` (`Store.gaps()`): a channel with spacing whose next slot keeps moving is
    working through its queue, so what waits behind it is not overdue."""
    if d.state is State.UNKNOWN:
        return "outcome unknown: check the platform, then retry --force or cancel"
    if d.state in LEASED and d.lease_until is not None and d.lease_until < now:
        return f"worker {d.lease_owner} lost its lease: run `distributor reconcile`"
    if d.state in (State.QUEUED, State.RETRY_WAIT, State.PLANNED) and not d.held:
        due = d.not_before or d.updated_at
        if turns and d.channel in turns:
            due = max(due, turns[d.channel][1])
        if now - due > stuck_after:
            return f"overdue since {iso(due)}: is a worker running, is the queue paused?"
    return None
