"""The social desk's own pages: the home page (one row per article, a chip per channel, the
"Needs attention" panel) and the "Needs attention" page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request

from distributor.errors import DistributorError
from distributor.web.admin import views
from distributor.web.admin.app import admin_of, require

if TYPE_CHECKING:
    from starlette.responses import Response

router = APIRouter()
ARTICLES_PER_PAGE = 30


@router.get("/", name="home")
def home(request: Request) -> Response:
    from distributor.web.admin.attention import gather

    session = require(request)
    admin = admin_of(request)
    store = admin.store
    found = gather(store, admin.settings, admin.clock.now())
    ctx: dict[str, Any] = {
        **views.filter_choices(admin.settings),
        "attention": found,
        "paused": found.paused,
        "articles": [],
        "q": None,
        "next_link": None,
        "first_link": None,
        "done": views.DONE.get(request.query_params.get("done", ""), ""),
    }
    try:
        q = views.log_query(request.query_params, store, admin.auth.options.timezone)
        page, cursor = store.article_log(q.filters, limit=ARTICLES_PER_PAGE, after=q.after)
    except (views.BadFilter, DistributorError) as exc:  # e.g. a tampered page cursor
        error = exc.text if isinstance(exc, views.BadFilter) else str(exc)
        return admin.page(request, "home.html", 400, session=session, error=error, **ctx)
    ctx.update(
        q=q,
        articles=page,
        next_link=q.link(after=cursor) if cursor else None,
        first_link=q.link(after=None) if q.after else None,
    )
    return admin.page(request, "home.html", session=session, **ctx)


@router.get("/attention", name="attention")
def attention(request: Request) -> Response:
    from distributor.web.admin.attention import SHOWN, gather

    session = require(request)
    admin = admin_of(request)
    found = gather(admin.store, admin.settings, admin.clock.now())
    return admin.page(
        request,
        "attention.html",
        session=session,
        attention=found,
        paused=found.paused,
        shown=SHOWN,
    )
