"""The desk's scheduling: the "Scheduled" page (upcoming posts by channel and time) and the
Reschedule / Hold / Release actions on a delivery, the same as `distributor reschedule/hold/
release` (`distributor.schedule.desk`). Actions are signed-in + CSRF-checked like the others;
a refusal (embargo, in flight, a bad time) is shown on the delivery page (409).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse

from distributor.actions import ActionError
from distributor.errors import N_
from distributor.web.admin.app import admin_of, require, require_post, url
from distributor.web.admin.pages import delivery_page

if TYPE_CHECKING:
    from starlette.responses import Response

    from distributor.config import Settings
    from distributor.store.store import Store

router = APIRouter()
Act = Callable[["Store", "Settings", str, dict[str, str]], object]


@router.get("/scheduled", name="scheduled")
def scheduled(request: Request, channel: str = "") -> Response:
    from distributor.schedule.desk import upcoming

    session = require(request)
    admin = admin_of(request)
    view = upcoming(admin.store, admin.settings, admin.clock.now(), channel or None)
    return admin.page(
        request,
        "scheduled.html",
        session=session,
        view=view,
        channel=channel,
        channels=[c.name for c in admin.settings.channels],
        timezone=admin.auth.options.timezone,
    )


async def _act(request: Request, id: int, done: str, act: Act) -> Response:
    session, form = await require_post(request)
    admin = admin_of(request)
    try:
        act(admin.store, admin.settings, session.user, form)
    except ActionError as exc:
        return delivery_page(request, session, id, status=409, error=exc)
    return RedirectResponse(f"{url(request, 'delivery', id=id)}?done={done}", 303)


def _reschedule(id: int, tz: str) -> Act:
    """Reschedule to the form's time: the wall clock of `tz`, the zone the pages show."""

    def act(store: Store, settings: Settings, user: str, form: dict[str, str]) -> object:
        from distributor.schedule.desk import reschedule
        from distributor.schedule.rules import parse_at

        try:
            when = parse_at(form.get("at", ""), tz, "time")
        except ValueError:  # not a date, or a wall time the DST change skips
            problem = N_("not a date and time in %(zone)s: %(text)r (use e.g. “2026-12-03 07:30”)")
            raise ActionError(problem, zone=tz, text=form.get("at", "")) from None
        return reschedule(store, settings, str(id), when, user)

    return act


@router.post("/deliveries/{id}/reschedule", name="reschedule")
async def reschedule(request: Request, id: int) -> Response:
    tz = admin_of(request).auth.options.timezone
    return await _act(request, id, "rescheduled", _reschedule(id, tz))


@router.post("/deliveries/{id}/hold", name="hold")
async def hold(request: Request, id: int) -> Response:
    from distributor.schedule.desk import hold as hold_it

    return await _act(
        request, id, "held", lambda store, _s, user, _f: hold_it(store, str(id), user)
    )


@router.post("/deliveries/{id}/release", name="release")
async def release(request: Request, id: int) -> Response:
    from distributor.schedule.desk import release as release_it

    return await _act(
        request, id, "released", lambda store, _s, user, _f: release_it(store, str(id), user)
    )
