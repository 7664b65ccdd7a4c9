"""Real store rows for the social desk's pages (tests/web and tests/browser): an article posted
everywhere, one with an unclear and a failed post (and one waiting for review), one stuck, a
paused queue, a rate-limited and a logged-out account, a silent worker and an open alert."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from admin_helpers import seed

from distributor import actions
from distributor.article import Article
from distributor.config import Settings
from distributor.store.models import Attempt, PlanItem
from distributor.store.store import Store

HANDLE = "@newsroom@social.example"
UNKNOWN_DETAIL = "HTTP 503 from social.example"
FAILED_DETAIL = "Bad Request: chat not found"
ALERT = "No worker heartbeat for 10 minutes"


def settle(
    store: Store,
    outcomes: dict[str, tuple[str, str | None, str]],
    now: datetime,
    url: str = "https://{platform}.example/p/{id}",
) -> None:
    """Claim what is due and finish each by channel: (outcome, error kind, detail); channels
    not named are sent, their live post at `url`."""
    for c in store.claim("w1", lease_seconds=60, now=now):
        d = c.delivery
        outcome, kind, detail = outcomes.get(d.channel, ("sent", None, ""))
        store.mark_sending(d.id, c.fence, now=now)
        kw: dict[str, Any] = {}
        if outcome == "sent":
            kw = {"remote_id": f"{d.id}00", "remote_url": url.format(platform=d.platform, id=d.id)}
        attempt = Attempt(outcome, now, now, "w1", error_kind=kind, detail=detail)
        store.finish(d.id, c.fence, outcome, attempt, now=now, **kw)


def seed_problems(settings: Settings, store: Store, now: datetime) -> dict[str, Any]:
    """Every kind of problem the attention page lists; returns the ids by name."""
    channels = {c.name: c for c in settings.channels}
    posted = seed(settings, store, "Wahl: das Ergebnis & die Folgen", "https://news.example/wahl")
    actions.approve(store, posted["sky"], "alice")
    sent = ("sent", None, "")
    settle(store, {"masto": sent, "sky": sent, "tg": sent}, now)
    store.record_identity(channels["masto"].account_key, HANDLE, "https://social.example/@newsroom")
    trouble = seed(settings, store, "Rat beschließt Haushalt", "https://news.example/haushalt")
    settle(
        store,
        {
            "masto": ("unknown", "MaybeSent", UNKNOWN_DETAIL),
            "tg": ("failed", "Rejected", FAILED_DETAIL),
        },
        now,
    )
    past = now - timedelta(hours=1)
    art = Article(url="https://news.example/sturm", title="Sturm erwartet", section="Wetter")
    items = [
        PlanItem(
            "masto", "mastodon", channels["masto"].account_key, {"text": "Sturm\nerwartet"}, "s1"
        )
    ]
    stuck = store.plan(art, items, source="test", now=past).created[0].id
    store.pause("bob", now=now)
    store.block_account(channels["tg"].account_key, now + timedelta(minutes=30), "429")
    store.mark_reauth(channels["sky"].account_key, "token expired")
    store.heartbeat("worker-1", now=now - timedelta(minutes=10))
    store.raise_alert("heartbeat", "heartbeat", ALERT, now=now)
    return {
        "posted": posted,
        "review": trouble["sky"],
        "unknown": trouble["masto"],
        "failed": trouble["tg"],
        "stuck": stuck,
    }
