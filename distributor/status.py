"""`distributor status` as data: one screen for on-call (also what the admin UI can show).

Workers alive (heartbeat age), queue depth by state, the oldest delivery not final yet, the
channels whose account needs re-authentication, open alert incidents and the pause switch.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from distributor.review import iso

if TYPE_CHECKING:
    from distributor.config import Settings
    from distributor.store.store import Store


def snapshot(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    """Everything `status` shows, JSON-ready."""
    timeout = settings.alerts.heartbeat_timeout
    workers = [
        {
            "id": w["id"],
            "host": w.get("host"),
            "pid": w.get("pid"),
            "heartbeat_age_seconds": round((now - w["heartbeat_at"]).total_seconds(), 1),
            "alive": worker_alive(w, now, timeout),
            "stopped_at": iso(w["stopped_at"]),
        }
        for w in store.workers()
    ]
    open_deliveries = store.audit()
    oldest = open_deliveries[0] if open_deliveries else None
    reauth = store.reauth_accounts()
    return {
        "paused": store.paused(),
        "workers": workers,
        "workers_alive": sum(1 for w in workers if w["alive"]),
        "counts": store.counts_by_state(),
        "open": len(open_deliveries),
        "oldest_open": None
        if oldest is None
        else {
            "delivery_id": oldest.id,
            "channel": oldest.channel,
            "state": oldest.state.value,
            "created_at": iso(oldest.created_at),
            "age_seconds": int((now - oldest.created_at).total_seconds()),
        },
        "needs_reauth": [
            {
                "account": account,
                "reason": reason,
                "channels": [c.name for c in settings.channels if c.account_key == account],
            }
            for account, reason in sorted(reauth.items())
        ],
        "alerts": [
            {"key": a.key, "kind": a.kind, "summary": a.summary, "since": iso(a.opened_at)}
            for a in store.alerts(open_only=True, limit=100)
        ],
    }


def worker_alive(worker: dict[str, Any], now: datetime, timeout: float) -> bool:
    """Not cleanly stopped and heard from within `timeout` seconds."""
    age = (now - worker["heartbeat_at"]).total_seconds()
    return worker["stopped_at"] is None and age <= timeout


def healthy(snap: dict[str, Any]) -> bool:
    """Nothing for on-call to do: a worker alive, no open alert, nobody to re-authenticate."""
    return not problems(snap)


def problems(snap: dict[str, Any]) -> list[str]:
    """Why `status --check` fails, one short phrase each (empty: healthy)."""
    found = []
    if not snap["workers_alive"]:
        found.append(f"no worker alive ({len(snap['workers'])} known)")
    if snap["alerts"]:
        keys = ", ".join(a["key"] for a in snap["alerts"])
        found.append(f"{len(snap['alerts'])} open alert(s): {keys}")
    if snap["needs_reauth"]:
        accounts = ", ".join(r["account"] for r in snap["needs_reauth"])
        found.append(f"re-authentication needed: {accounts}")
    return found
