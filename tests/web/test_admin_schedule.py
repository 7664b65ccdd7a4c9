"""The desk's scheduling against real uvicorn: the Scheduled page, Reschedule / Hold / Release on
a delivery (CSRF-checked, recorded with the signed-in user), refusals shown on the page."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from admin_helpers import USER, seed
from test_admin_pages import get, post, site

__all__ = ["site"]  # the fixture, shared with the admin page tests


def test_reschedule_hold_release_and_the_scheduled_view(site: dict[str, Any]) -> None:
    store = site["store"]
    ids = seed(site["settings"], store, "Haushalt beschlossen", "https://news.example/p/1")
    d = ids["masto"]
    page = f"/deliveries/{d}"
    r = post(site, f"{page}/reschedule", page, at="2030-01-05T08:30+00:00")
    assert r.status_code == 200 and "Rescheduled." in r.text and "2030-01-05 08:30 UTC" in r.text
    assert store.get(d).not_before == datetime(2030, 1, 5, 8, 30, tzinfo=UTC)
    r = post(site, f"{page}/hold", page)
    assert "Held: it will not be sent until released." in r.text and store.get(d).held
    later = datetime(2030, 1, 6, tzinfo=UTC)  # past its time, but held: not claimed
    assert all(c.delivery.id != d for c in store.claim("w", lease_seconds=60, now=later))
    view = get(site, "/scheduled").text
    assert "Scheduled" in view and f'href="/admin/deliveries/{d}"' in view and "On hold" in view
    r = post(site, f"{page}/release", page)
    assert "Released." in r.text and not store.get(d).held
    assert "2030-01-05 08:30 UTC" in get(site, "/scheduled", channel="masto").text
    events = [(e["actor"], e["action"]) for e in store.events(delivery_id=d)]
    assert (USER, "release") in events and (USER, "hold") in events
    assert (USER, "reschedule") in events


def test_refusals_are_shown_on_the_delivery_page(site: dict[str, Any]) -> None:
    store = site["store"]
    ids = seed(site["settings"], store, "Zweite Meldung", "https://news.example/p/2")
    d = ids["tg"]
    page = f"/deliveries/{d}"
    r = post(site, f"{page}/reschedule", page, at="next week")
    assert r.status_code == 409 and "not a date and time in UTC: &#39;next week&#39;" in r.text
    r = post(site, f"{page}/release", page)
    assert r.status_code == 409 and "nothing is held" in html.unescape(r.text)
    assert d in [c.delivery.id for c in store.claim("w", lease_seconds=60)]
    r = post(site, f"{page}/hold", page)
    assert r.status_code == 409 and "only waiting deliveries can change" in r.text
    no_csrf = site["http"].post(site["base"] + f"/admin{page}/hold", data={})
    assert no_csrf.status_code == 403 and not store.get(d).held
