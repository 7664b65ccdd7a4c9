"""What is wrong right now: the open incidents, each with a stable key and a summary.

    unknown:<channel>      deliveries whose outcome is unknown (reconcile or a person decides)
    reauth:<account>       an account's credentials were refused; nothing is sent there
    stuck                  due deliveries not sent after `stuck_after` (or leases run out)
    failures:<channel>     more failed tries than `failure_rate` allows in its window
    rate_limited:<channel> more 429s than `failure_rate` allows in its window
    worker:<id>            a worker stopped heart-beating for `heartbeat_timeout`

An incident stays open while its condition holds; the key is what de-duplicates alerts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from distributor.review import attention, iso

if TYPE_CHECKING:
    from distributor.config import AlertSettings, Settings
    from distributor.store.store import Store

KINDS = ("unknown", "reauth", "stuck", "failures", "rate_limited", "worker")


@dataclass(frozen=True, slots=True)
class Incident:
    key: str
    kind: str
    summary: str  # one line, no secrets: channel names, ids, counts, stored error texts
    detail: str = ""


def incidents(
    conf: AlertSettings, settings: Settings, store: Store, now: datetime
) -> list[Incident]:
    """Every incident open now, in a stable order."""
    return [
        *_unknown(store),
        *_reauth(settings, store),
        *_stuck(conf, store, now),
        *_failure_rates(conf, store, now),
        *_workers(conf, store, now),
    ]


SHOWN = 10  # ids named in an incident's detail


def _ids(ids: list[int], most: int = SHOWN) -> str:
    shown = ", ".join(f"#{i}" for i in ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


def _unknown(store: Store) -> list[Incident]:
    by_channel: dict[str, list[int]] = defaultdict(list)
    for d in store.unknown():
        by_channel[d.channel].append(d.id)
    return [
        Incident(
            f"unknown:{channel}",
            "unknown",
            f"{len(ids)} delivery(ies) on {channel} have an unknown outcome",
            f"Deliveries {_ids(ids)}: the platform may or may not have the post. "
            "Run `distributor reconcile`; if it cannot decide, check the platform and use "
            "`distributor retry ID --force` or `distributor cancel ID`.",
        )
        for channel, ids in sorted(by_channel.items())
    ]


def _reauth(settings: Settings, store: Store) -> list[Incident]:
    out = []
    for account, reason in sorted(store.reauth_accounts().items()):
        channels = [c.name for c in settings.channels if c.account_key == account]
        names = ", ".join(channels) or "no configured channel"
        out.append(
            Incident(
                f"reauth:{account}",
                "reauth",
                f"account {account} needs re-authentication (channels: {names})",
                f"The platform refused the credentials ({reason}). Nothing is sent there until "
                "new credentials are in the environment and `distributor check` passes.",
            )
        )
    return out


def _stuck(conf: AlertSettings, store: Store, now: datetime) -> list[Incident]:
    # Counted and picked in SQL (store.stuck): reading every open delivery (store.audit) cost
    # a worker seconds of CPU per check at 100k queued, in its claim loop.
    limit = timedelta(seconds=conf.stuck_after)
    count, oldest_few = store.stuck(now, limit, limit=SHOWN)
    if not count:
        return []
    oldest = oldest_few[0]
    why = attention(oldest, now, limit, store.gaps()) or "waiting too long"
    ids = [d.id for d in oldest_few]
    more = f" and {count - len(ids)} more" if count > len(ids) else ""
    return [
        Incident(
            "stuck",
            "stuck",
            f"{count} delivery(ies) stuck for more than {timedelta(seconds=conf.stuck_after)}",
            f"Oldest: #{oldest.id} on {oldest.channel} ({oldest.state.value}, created "
            f"{iso(oldest.created_at)}): {why}. Stuck: {_ids(ids)}{more}.",
        )
    ]


def _failure_rates(conf: AlertSettings, store: Store, now: datetime) -> list[Incident]:
    rate = conf.failure_rate
    window = timedelta(seconds=rate.per)
    failures: dict[str, int] = defaultdict(int)
    limited: dict[str, int] = defaultdict(int)
    for (channel, kind), n in store.failure_counts(now - window).items():
        (limited if kind == "RateLimited" else failures)[channel] += n
    out = []
    for kind, counts, what in (
        ("failures", failures, "failed tries"),
        ("rate_limited", limited, "rate-limit answers (429)"),
    ):
        for channel, n in sorted(counts.items()):
            if n >= rate.count:
                out.append(
                    Incident(
                        f"{kind}:{channel}",
                        kind,
                        f"{n} {what} on {channel} in the last {window}",
                        f"Threshold: {rate.count} per {window}. See `distributor log "
                        f"--channel {channel} --since {int(rate.per)}s`.",
                    )
                )
    return out


def _workers(conf: AlertSettings, store: Store, now: datetime) -> list[Incident]:
    out = []
    for w in store.workers():
        silent = (now - w["heartbeat_at"]).total_seconds()
        if silent > conf.forget_workers_after:
            store.forget_worker(w["id"])  # long dead: its incident resolves
        elif silent > conf.heartbeat_timeout and w["stopped_at"] is None:
            out.append(
                Incident(
                    f"worker:{w['id']}",
                    "worker",
                    f"worker {w['id']} stopped heart-beating {int(silent)}s ago",
                    f"Host {w.get('host')}, pid {w.get('pid')}, last heartbeat "
                    f"{iso(w['heartbeat_at'])}. Its deliveries' leases run out and reconcile "
                    "resolves them; check the service (systemctl status distributor-worker).",
                )
            )
    return out
