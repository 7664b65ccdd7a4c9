"""The admin pages people read: login form, post log, delivery, article, preview form."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from distributor.errors import DistributorError
from distributor.store.models import State
from distributor.web.admin import views
from distributor.web.admin.app import Admin, admin_of, require
from distributor.web.admin.i18n import Text

if TYPE_CHECKING:
    from starlette.responses import Response

    from distributor.web.admin.auth import Session

router = APIRouter()


def login_page(request: Request, next: str, error: str | Text = "", status: int = 200) -> Response:
    """The login form with a fresh double-submit CSRF token (also used to show a failure)."""
    admin = admin_of(request)
    token = secrets.token_urlsafe(32)
    response = admin.page(
        request,
        "login.html",
        status,
        next=safe_next(request, next),
        error=error,
        login_csrf=token,
        token_login=admin.auth.options.token is not None,
        password_login=bool(admin.auth.options.users),
    )
    admin.auth.login_cookie(request, response, token)
    return response


@router.get("/login", name="login_form")
def login_form(request: Request, next: str = "") -> Response:
    return login_page(request, next)


def safe_next(request: Request, target: str) -> str:
    """Only a path inside the admin app (never another host: no open redirect)."""
    root = str(request.scope.get("root_path", ""))
    ok = target.startswith(root + "/") and not target.startswith("//") and "\\" not in target
    return target if ok else root + "/"


@router.get("/deliveries", name="log")
def post_log(request: Request) -> Response:
    """One row per delivery (the home page has one per article)."""
    session = require(request)
    admin = admin_of(request)
    store = admin.store
    ctx: dict[str, Any] = {
        **views.filter_choices(admin.settings),
        "paused": store.paused(),
        "rows": [],
        "q": None,
        "next_link": None,
        "first_link": None,
        "error": "",
        "done": views.DONE.get(request.query_params.get("done", ""), ""),
    }
    try:
        q = views.log_query(request.query_params, store, admin.auth.options.timezone)
        page, cursor = store.query(q.filters, limit=views.PAGE_SIZE, after=q.after)
    except (views.BadFilter, DistributorError) as exc:  # e.g. a tampered page cursor
        ctx["error"] = exc.text if isinstance(exc, views.BadFilter) else str(exc)
        return admin.page(request, "log.html", 400, session=session, **ctx)
    ctx.update(
        q=q,
        rows=views.rows(store, page),
        next_link=q.link(after=cursor) if cursor else None,
        first_link=q.link(after=None) if q.after else None,
    )
    return admin.page(request, "log.html", session=session, **ctx)


@router.get("/deliveries/{id}", name="delivery")
def delivery(request: Request, id: int, done: str = "") -> Response:
    session = require(request)
    return delivery_page(request, session, id, done=views.DONE.get(done, ""))


def delivery_page(
    request: Request,
    session: Session,
    id: int,
    *,
    status: int = 200,
    error: object = "",  # a message, a Text or an ActionError: translated on the page
    done: str = "",
    text: str | None = None,
) -> Response:
    """The delivery with attempts and events; `error`/`text` re-show a refused approve."""
    from distributor.actions import ActionError, get

    admin = admin_of(request)
    try:
        d = get(admin.store, id)
    except ActionError as exc:
        return admin.page(request, "error.html", 404, session=session, error=exc)
    return admin.page(
        request,
        "delivery.html",
        status,
        session=session,
        d=d,
        article=admin.store.article(d.article_id) or {},
        events=admin.store.events(delivery_id=d.id),
        error=error,
        done=done,
        text=d.draft.get("text", "") if text is None else text,
        can_approve=d.state is State.AWAITING_REVIEW,
        can_retry=d.state in views.RETRYABLE,
        needs_force=d.state in views.NEEDS_FORCE,
        can_cancel=d.state in views.CANCELLABLE,
        **_schedule(d, admin.auth.options.timezone),
    )


def _schedule(d: Any, timezone: str) -> dict[str, Any]:
    """What the delivery page shows about timing (goes at, reschedule/hold/release)."""
    from distributor.review import goes_at
    from distributor.store.schedule import WAITING

    return {"goes_at": goes_at(d), "can_schedule": d.state in WAITING, "timezone": timezone}


@router.get("/articles/{id}", name="article")
def article(request: Request, id: str, done: str = "") -> Response:
    session = require(request)
    return article_page(request, session, id, done=views.DONE.get(done, ""))


def article_page(
    request: Request,
    session: Session,
    id: str,
    *,
    status: int = 200,
    results: list[Any] | None = None,
    done: str = "",
    error: object = "",  # a message, a Text or an ActionError: translated on the page
) -> Response:
    from distributor.actions import all_deliveries
    from distributor.store.models import Filters

    admin: Admin = admin_of(request)
    art = admin.store.article(id)
    if art is None:
        missing = Text("no article %(id)r in the post log", id=id)
        return admin.page(request, "error.html", 404, session=session, error=missing)
    found = list(all_deliveries(admin.store, Filters(article_id=id), limit=1000))
    return admin.page(
        request,
        "article.html",
        status,
        session=session,
        article=art,
        rows=[{"d": d, "title": art["title"]} for d in found],
        results=results or [],
        done=done,
        error=error,
        can_retract=any(d.state in views.RETRACTABLE for d in found),
    )


@router.get("/preview", name="preview")
def preview_form(request: Request) -> Response:
    session = require(request)
    return admin_of(request).page(
        request, "preview.html", session=session, source="", items=[], error=""
    )
