"""The admin POST routes: login/logout, preview, and the actions of `distributor.actions`.

Every action route is signed-in + CSRF-checked (`require_post`) and passes the signed-in user
to the action as its actor, so the store's event log says who did what. A refused action is
shown inline on its page (409); success redirects back (303) with a fixed message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse

from distributor import actions
from distributor.errors import DistributorError
from distributor.web.admin.app import Handles, admin_of, require_post, url
from distributor.web.admin.auth import TOKEN_ACTOR
from distributor.web.admin.i18n import N_, Text
from distributor.web.admin.pages import article_page, delivery_page, login_page, safe_next
from distributor.web.admin.views import DONE
from distributor.web.admin.words import force_needed, refused

if TYPE_CHECKING:
    from starlette.responses import Response

    from distributor.store.models import Delivery
    from distributor.store.store import Store

router = APIRouter()


def _back(request: Request, route: str, done: str, **params: object) -> Response:
    return RedirectResponse(f"{url(request, route, **params)}?done={done}", 303)


@router.post("/login", name="login")
async def login(request: Request) -> Response:
    admin = admin_of(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    nxt = fields.get("next", "")
    if not admin.auth.login_csrf_ok(request, fields.get("csrf")):
        return login_page(request, nxt, N_("The form expired: please sign in again."), 403)
    token = fields.get("token", "")
    user = TOKEN_ACTOR if token else fields.get("user", "").strip()[:64]
    addr = request.client.host if request.client else "?"
    wait = admin.limiter.retry_after(user, addr)
    if wait:
        return _refused(
            request, nxt, Text("Too many failed logins: wait %(wait)s s.", wait=wait), wait
        )
    if token:
        ok = admin.auth.check_token(token)
    elif admin.limiter.start_hashing():
        try:  # argon2 takes ~0.1 s of CPU: never on the event loop
            ok = await run_in_threadpool(
                admin.auth.check_password, user, fields.get("password", "")
            )
        finally:
            admin.limiter.done_hashing()
    else:
        return _refused(request, nxt, N_("Too many sign-ins at once: try again."), 1)
    if not ok:
        admin.limiter.failed(user, addr)
        return login_page(request, nxt, N_("Wrong user name, password or token."), 401)
    admin.limiter.succeeded(user, addr)
    response = RedirectResponse(safe_next(request, nxt), 303)
    await run_in_threadpool(admin.auth.start, request, response, user)
    await run_in_threadpool(admin.store.record_event, user, "admin login", detail=f"from {addr}")
    return response


def _refused(request: Request, nxt: str, message: str | Text, wait: int) -> Response:
    response = login_page(request, nxt, message, 429)
    response.headers["Retry-After"] = str(wait)
    return response


@router.post("/logout", name="logout")
async def logout(request: Request) -> Response:
    session, _ = await require_post(request)
    response = RedirectResponse(url(request, "login_form"), 303)
    await run_in_threadpool(admin_of(request).auth.end, request, response, session)
    return response


@router.post("/deliveries/{id}/approve", name="approve")
async def approve(request: Request, id: int) -> Response:
    session, form = await require_post(request)
    admin = admin_of(request)
    text = form.get("text")
    if text is not None:  # browsers send a textarea's line breaks as CRLF
        text = text.replace("\r\n", "\n")
    try:
        current = actions.get(admin.store, id).draft.get("text")
        edited = None if text is None or text.strip() == str(current).strip() else text
        actions.approve(admin.store, id, session.user, edited)
    except actions.ActionError as exc:
        error = refused("approve", _now(admin.store, id)) or exc
        return delivery_page(request, session, id, status=409, error=error, text=text)
    return _back(request, "delivery", "approved", id=id)


@router.post("/deliveries/{id}/retry", name="retry")
async def retry(request: Request, id: int) -> Response:
    session, form = await require_post(request)
    store = admin_of(request).store
    try:
        actions.retry(store, id, session.user, force=form.get("force") == "yes")
    except actions.NeedsForce:  # say which box to tick, not the CLI's --force
        error = force_needed(actions.get(store, id), Handles(store))
        return delivery_page(request, session, id, status=409, error=error)
    except actions.ActionError as exc:
        return delivery_page(request, session, id, status=409, error=exc)
    return _back(request, "delivery", "retried", id=id)


@router.post("/deliveries/{id}/cancel", name="cancel")
async def cancel(request: Request, id: int) -> Response:
    session, _ = await require_post(request)
    store = admin_of(request).store
    try:
        actions.cancel(store, id, session.user)
    except actions.ActionError as exc:  # e.g. posted meanwhile: not the CLI's `retract` hint
        error = refused("cancel", _now(store, id)) or exc
        return delivery_page(request, session, id, status=409, error=error)
    return _back(request, "delivery", "cancelled", id=id)


def _now(store: Store, id: int) -> Delivery | None:
    """The delivery as it is now (None when there is none)."""
    try:
        return actions.get(store, id)
    except actions.ActionError:
        return None


@router.post("/articles/{id}/retract", name="retract")
async def retract(request: Request, id: str) -> Response:
    session, form = await require_post(request)
    admin = admin_of(request)
    if form.get("confirm") != "yes":
        error = N_("Tick the box to confirm: retract deletes the posts on every platform.")
        return article_page(request, session, id, status=409, error=error)
    try:
        results = actions.retract(admin.store, admin.settings, id, session.user)
    except actions.ActionError as exc:
        return article_page(request, session, id, status=409, error=exc)
    return article_page(request, session, id, results=results, done=DONE["retracted"])


@router.post("/pause", name="pause")
async def pause(request: Request) -> Response:
    session, _ = await require_post(request)
    actions.pause(admin_of(request).store, session.user)
    return _back(request, "home", "paused")


@router.post("/resume", name="resume")
async def resume(request: Request) -> Response:
    session, _ = await require_post(request)
    actions.resume(admin_of(request).store, session.user)
    return _back(request, "home", "resumed")


@router.post("/preview", name="preview_run")
async def preview(request: Request) -> Response:
    from distributor.web.admin.views import preview_items

    session, form = await require_post(request)
    admin = admin_of(request)
    source = form.get("source", "")
    try:
        items, error, status = preview_items(source, admin.settings), "", 200
    except DistributorError as exc:
        items, error, status = [], str(exc), 422
    return admin.page(
        request, "preview.html", status, session=session, source=source, items=items, error=error
    )
